"""One exact palette per scene: RGB frames to palette indices, exact for palette colours, fast.

How `Palette.index` works, and why there are no bin collisions:
the lookup table has one entry per 24-bit RGB colour (2^24 entries, 16 MiB of uint8), so the "bin"
of a colour is the colour itself and two different colours can never share a bin. A quantised table
(2^15 or 2^18 bins) would need a second pass comparing every pixel with the colour its bin maps to
(to catch palette colours sharing a bin); measured on a 720x450 frame that pass costs more than the
bigger table does (about 1.4 ms per frame in total here, against about 2.8 ms with a 2^15 table).

Entries start as UNKNOWN. Palette colours are filled in at construction (so they are exact by
construction: no shift, no dithering). A colour that is not in the palette is an error (`OffPaletteColour`):
the frames of an animated scene paint only the colours their layout declares, so one missing from the
palette is a colour someone forgot to declare, which would otherwise show, silently, as another colour.
Frames whose colours the palette only approximates (a still figure quantised by median cut, anti-aliased
text) ask for that with `Palette(colours, nearest=True)`: an off-palette colour is then resolved the first
time it is seen, to the nearest palette colour by squared Euclidean RGB distance (ties: lowest index),
and remembered in the table, so each off-palette colour is searched once per scene.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MAX_COLORS = 255  # one of the 256 GIF indices stays free for transparency
_UNKNOWN = 255  # table entry not resolved yet; never a colour index because colours use 0..254
_NEAREST_CHUNK = 4096  # off-palette colours resolved per distance matrix (4096 x 255 int32 = 4 MiB)


def rgb_keys(frame_rgb: np.ndarray) -> np.ndarray:
    """The 24-bit key r<<16 | g<<8 | b of every pixel of an (..., 3) uint8 array, as uint32."""
    keys = frame_rgb[..., 0].astype(np.uint32)
    keys <<= 8
    keys |= frame_rgb[..., 1]
    keys <<= 8
    keys |= frame_rgb[..., 2]
    return keys


class OffPaletteColour(ValueError):
    """A frame holds a colour its exact palette does not."""


class Palette:
    """Up to 255 RGB colours, plus one reserved transparent index right after them.

    Build it once per scene. `index(frame_rgb)` maps an (H, W, 3) uint8 frame to (H, W) uint8 indices.
    If a colour is listed twice, its first position is the one used. A frame colour not in the palette raises
    `OffPaletteColour`, unless the palette is built with `nearest=True` (then it is drawn as its nearest colour).
    """

    def __init__(self, colors: Sequence[tuple[int, int, int]] | np.ndarray, *, nearest: bool = False):
        table = np.asarray(colors)
        if table.ndim != 2 or table.shape[1:] != (3,) or len(table) == 0:
            raise ValueError(f"a palette needs a list of (r, g, b) colours, got an array of shape {table.shape}")
        if len(table) > MAX_COLORS:
            raise ValueError(
                f"a palette holds at most {MAX_COLORS} colours (one GIF index is kept for transparency), "
                f"got {len(table)}"
            )
        if not np.issubdtype(table.dtype, np.integer) or table.min() < 0 or table.max() > 255:
            raise ValueError("palette colours must be integers in 0..255")
        self.nearest_off_palette = nearest
        self.colors = table.astype(np.uint8)
        self.colors.setflags(write=False)
        self.transparent_index = len(table)
        self._color_keys = rgb_keys(self.colors).astype(np.int64)
        self._lookup = np.full(1 << 24, _UNKNOWN, dtype=np.uint8)
        # Reversed so that, for a repeated colour, the first occurrence is written last and wins.
        positions = np.arange(len(table), dtype=np.uint8)
        self._lookup[self._color_keys[::-1]] = positions[::-1]

    def __len__(self) -> int:
        return len(self.colors)

    @property
    def table_size(self) -> int:
        """Entries in the GIF colour table: the colours plus the transparent one, rounded up to 2^n (n >= 1)."""
        return max(2, 1 << (len(self.colors)).bit_length())

    def gif_color_table(self) -> bytes:
        """The colour table bytes for a GIF header: colours, then black for transparent and padding."""
        table = np.zeros((self.table_size, 3), dtype=np.uint8)
        table[: len(self.colors)] = self.colors
        return table.tobytes()

    def index(self, frame_rgb: np.ndarray) -> np.ndarray:
        """Palette indices (H, W) uint8 of an (H, W, 3) uint8 frame; an off-palette colour raises OffPaletteColour
        (with `nearest=True`: takes its nearest colour's index)."""
        if frame_rgb.dtype != np.uint8 or frame_rgb.ndim != 3 or frame_rgb.shape[2] != 3:
            raise ValueError(
                f"a frame must be an (H, W, 3) uint8 RGB array, got {frame_rgb.dtype} {frame_rgb.shape}"
            )
        keys = rgb_keys(frame_rgb)
        indices = self._lookup[keys]
        unknown = indices == _UNKNOWN
        if unknown.any():
            off_palette = np.unique(keys[unknown])
            if not self.nearest_off_palette:
                shown = ", ".join(f"#{int(key):06x}" for key in off_palette[:5])
                raise OffPaletteColour(f"{len(off_palette)} frame colour(s) not in the palette of {len(self)}: "
                                       f"{shown}{', ...' if len(off_palette) > 5 else ''}")
            self._resolve(off_palette)
            indices[unknown] = self._lookup[keys[unknown]]
        return indices

    def nearest(self, colors_rgb: np.ndarray) -> np.ndarray:
        """Index of the nearest palette colour (squared RGB distance, ties to the lowest index) for (N, 3) colours."""
        colors_rgb = np.asarray(colors_rgb, dtype=np.int32).reshape(-1, 3)
        palette = self.colors.astype(np.int32)
        result = np.empty(len(colors_rgb), dtype=np.uint8)
        for start in range(0, len(colors_rgb), _NEAREST_CHUNK):
            chunk = colors_rgb[start : start + _NEAREST_CHUNK]
            distances = ((chunk[:, None, :] - palette[None, :, :]) ** 2).sum(axis=2)
            result[start : start + _NEAREST_CHUNK] = distances.argmin(axis=1)
        return result

    def _resolve(self, keys: np.ndarray) -> None:
        """Fill the table entries of off-palette colours (given as 24-bit keys) with their nearest colour."""
        keys = keys.astype(np.int64)
        colors_rgb = np.stack([(keys >> 16) & 255, (keys >> 8) & 255, keys & 255], axis=1)
        self._lookup[keys] = self.nearest(colors_rgb)
