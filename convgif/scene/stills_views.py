"""Scene models of the 'views' stills: receptive field, conv as a matrix, upsampling, 3D window, feature maps.

Each model is the `[still]` table of a scene file. Cross-key rules go through the engine's geometry
functions; their `GeometryError`s come back as `ValueError`s whose text starts with the dotted key.
Image files (feature_maps) are resolved against `context={"base_dir": ...}` when the loader gives one.
Every number a figure shows comes from a model's methods here (the engine's ops and two pieces of arithmetic
beyond them: which input cells a stacked output cell depends on, and the matrix C of Y = C X); the
renderers only draw them.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from convgif.engine.activation import relu
from convgif.engine.conv import conv2d
from convgif.engine.conv_transpose import conv_transpose2d
from convgif.engine.geometry import Geometry, conv_geometry, conv_transpose_geometry, interpolate_geometry
from convgif.engine.presets import KERNEL_PRESETS
from convgif.engine.resample import interpolate
from convgif.engine.trace import ConvStep, ConvTrace, conv_trace
from convgif.errors import GeometryError
from convgif.scene.image_input import image_values

MAX_IMAGE_SIDE = 4096  # refuse larger images before decoding them (decompression-bomb guard)

KernelName = Literal["identity", "box", "gaussian", "sharpen", "sobel_x", "sobel_y", "laplacian"]

PosInt = Annotated[int, Field(strict=True, ge=1)]
NonNegInt = Annotated[int, Field(strict=True, ge=0)]
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]


class _Still(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _geometry(key: str, build, *args, **kwargs) -> Geometry:
    """Call an engine geometry function; its GeometryError becomes a ValueError naming `key.argument`."""
    try:
        return build(*args, **kwargs)
    except GeometryError as error:
        raise ValueError(f"{key}.{error.argument}: {error.message}") from None


def _rectangular(rows: tuple[tuple[float, ...], ...], key: str) -> tuple[int, int]:
    if not rows or not rows[0] or any(len(r) != len(rows[0]) for r in rows):
        raise ValueError(f"{key}: must be a non-empty rectangular list of rows, got row lengths "
                         f"{[len(r) for r in rows]}")
    return len(rows), len(rows[0])


# ---- receptive_field (B4) -------------------------------------------------------------------------

class RFLayer(_Still):
    """One conv layer of the stack: its kernel, stride, padding and dilation (square)."""

    kernel_size: PosInt = 3
    stride: PosInt = 1
    padding: NonNegInt = 0
    dilation: PosInt = 1


class ReceptiveFieldStill(_Still):
    """What one output cell of a conv stack sees in each earlier grid."""

    kind: Literal["receptive_field"]
    input_shape: tuple[Literal[1], Annotated[int, Field(strict=True, ge=1, le=32)],
                       Annotated[int, Field(strict=True, ge=1, le=32)]]
    layers: Annotated[tuple[RFLayer, ...], Field(min_length=1, max_length=4)]
    output_cell: tuple[NonNegInt, NonNegInt] | None = None  # default: the centre of the last grid
    cycle: bool = True  # also show a few other output cells, one frame each

    @model_validator(mode="after")
    def _layers_fit(self) -> "ReceptiveFieldStill":
        geometries = layer_geometries(self)
        last = geometries[-1].output_shape[1:]
        if self.output_cell is not None and any(c >= n for c, n in zip(self.output_cell, last)):
            raise ValueError(f"still.output_cell: {list(self.output_cell)} is outside the last grid "
                             f"{last[0]}×{last[1]} (rows 0..{last[0] - 1}, columns 0..{last[1] - 1})")
        return self

    @property
    def chosen_cell(self) -> tuple[int, int]:
        if self.output_cell is not None:
            return self.output_cell
        last = layer_geometries(self)[-1].output_shape[1:]
        return (last[0] // 2, last[1] // 2)

    def geometries(self) -> list[Geometry]:
        """Each layer's geometry in turn (see `layer_geometries`)."""
        return layer_geometries(self)

    def growth(self) -> list[Growth]:
        """How each layer grows the receptive field (see `receptive_field_growth`)."""
        return receptive_field_growth(self.geometries())

    def shown_cells(self) -> list[tuple[int, int]]:
        """The last-layer cells shown, one frame each: the chosen one, then (cycling) the corners not yet shown."""
        last = self.geometries()[-1].output_shape[1:]
        cells = [self.chosen_cell]
        if self.cycle:
            for extra in [(0, 0), (last[0] - 1, last[1] - 1), (0, last[1] - 1)]:
                if extra not in cells:
                    cells.append(extra)
        return cells

    def regions(self, output_cell: tuple[int, int]) -> list[SeenRegion]:
        """Per grid (input first, last output last), the region `output_cell` of the last grid depends on."""
        geometries = self.geometries()
        regions = []
        for index, mask in enumerate(receptive_field_masks(geometries, output_cell)):
            rows, cols = np.nonzero(mask)
            # the side one cell away from every border sees in this grid (1 in the last grid itself)
            span = receptive_field_growth(geometries[index:])[-1].size if index < len(geometries) else 1
            box_rows, box_cols = (int(rows.min()), int(rows.max())), (int(cols.min()), int(cols.max()))
            tall, wide = box_rows[1] - box_rows[0] + 1, box_cols[1] - box_cols[0] + 1
            regions.append(SeenRegion(mask, box_rows, box_cols, cut=min(tall, wide) < span))
        return regions


def layer_geometries(spec: ReceptiveFieldStill) -> list[Geometry]:
    """The geometry of each layer in turn, each fed the previous output (one channel throughout)."""
    shape = tuple(spec.input_shape)
    out = []
    for index, layer in enumerate(spec.layers):
        g = _geometry(f"still.layers.{index}", conv_geometry, shape, 1, layer.kernel_size, layer.stride,
                      layer.padding, layer.dilation, bias=False)
        out.append(g)
        shape = g.output_shape
    return out


@dataclass(frozen=True, slots=True)
class Growth:
    """How one layer l grows the receptive field (rows axis): r_l = r_{l-1} + (k_l - 1)·d_l·j_{l-1}."""

    before: int  # r_{l-1}: the side of the input region one cell of layer l-1 sees (before border clipping)
    kernel: int  # k_l
    dilation: int  # d_l
    jump: int  # j_{l-1} = s_1···s_{l-1}: how many input cells apart two neighbouring cells of layer l-1 are
    size: int  # r_l


def receptive_field_growth(geometries: list[Geometry]) -> list[Growth]:
    """Per layer, how it grows the receptive field, starting from r_0 = 1 and j_0 = 1."""
    r, jump = 1, 1
    out = []
    for g in geometries:
        k, d = g.kernel_size[0], g.dilation[0]
        grown = r + (k - 1) * d * jump
        out.append(Growth(before=r, kernel=k, dilation=d, jump=jump, size=grown))
        r, jump = grown, jump * g.stride[0]
    return out


def receptive_field_masks(geometries: list[Geometry], output_cell: tuple[int, int]) -> list[np.ndarray]:
    """Per grid (input first, last output last), the cells the chosen last-layer cell depends on.

    Walks back one layer at a time: an input cell is needed when some tap of some needed output cell
    lands on it (padding taps land nowhere). Exact even with dilation gaps, since nothing cancels.
    """
    last = np.zeros(geometries[-1].output_shape[1:], dtype=bool)
    last[tuple(output_cell)] = True
    masks = [last]
    for g in reversed(geometries):
        needed = masks[0]
        seen = np.zeros(g.input_shape[1:], dtype=bool)
        rows, cols = np.nonzero(needed)
        for axis_taps in np.ndindex(*g.kernel_size):
            r = rows * g.stride[0] - g.padding[0][0] + g.dilation[0] * axis_taps[0]
            c = cols * g.stride[1] - g.padding[1][0] + g.dilation[1] * axis_taps[1]
            inside = (r >= 0) & (r < seen.shape[0]) & (c >= 0) & (c < seen.shape[1])
            seen[r[inside], c[inside]] = True
        masks.insert(0, seen)
    return masks


@dataclass(frozen=True, slots=True, eq=False)
class SeenRegion:
    """The cells of one grid a chosen last-layer cell depends on."""

    mask: np.ndarray  # (H, W) bool
    rows: tuple[int, int]  # first and last row holding such a cell
    cols: tuple[int, int]
    cut: bool  # the border clipped it: smaller than what a cell away from every border sees

    @property
    def tall(self) -> int:
        return self.rows[1] - self.rows[0] + 1

    @property
    def wide(self) -> int:
        return self.cols[1] - self.cols[0] + 1


# ---- conv_matrix (C1) -----------------------------------------------------------------------------

class ConvMatrixStill(_Still):
    """Convolution as Y = C X with the sparse (Toeplitz / im2col) matrix C."""

    kind: Literal["conv_matrix"]
    input_shape: tuple[Literal[1], Annotated[int, Field(strict=True, ge=1, le=6)],
                       Annotated[int, Field(strict=True, ge=1, le=6)]] = (1, 4, 4)
    kernel: tuple[tuple[Number, ...], ...] = ((1, 0, -1), (2, 1, 0), (0, 1, 2))
    stride: PosInt = 1
    padding: NonNegInt = 0

    @model_validator(mode="after")
    def _fits(self) -> "ConvMatrixStill":
        _rectangular(self.kernel, "still.kernel")
        rows = math.prod(self.geometry.output_shape[1:])
        if rows > 36:
            raise ValueError(f"still.padding: the matrix would have {rows} rows (at most 36 fit on a frame); "
                             "use a smaller input, less padding or a larger stride")
        return self

    @property
    def geometry(self) -> Geometry:
        kh, kw = len(self.kernel), len(self.kernel[0])
        return _geometry("still", conv_geometry, tuple(self.input_shape), 1, (kh, kw), self.stride,
                         self.padding, bias=False)

    def product(self) -> MatrixProduct:
        """Y = C X for the kernel on an input holding 1..H·W (so each value of X names its cell)."""
        g = self.geometry
        kernel = np.array(self.kernel, dtype=np.float64)
        _, h, w = g.input_shape
        x = np.arange(1, h * w + 1, dtype=np.float64).reshape(1, h, w)
        return MatrixProduct(
            kernel=kernel, x=x, y=conv2d(x, kernel[None, None], stride=g.stride, padding=g.padding)[0],
            layout=conv_matrix_layout(g), matrix=conv_matrix(kernel, g), padded=np.pad(x[0], g.padding),
            is_pad=np.pad(np.zeros((h, w), dtype=bool), g.padding, constant_values=True))


@dataclass(frozen=True, slots=True, eq=False)
class MatrixProduct:
    """The numbers of Y = C X: the kernel, X (1, H, W), Y (Ho, Wo), and C with where each weight sits in it."""

    kernel: np.ndarray
    x: np.ndarray
    y: np.ndarray
    layout: np.ndarray  # (Ho·Wo, H·W): the flat kernel tap at each entry of C, -1 where C is structurally zero
    matrix: np.ndarray  # C
    padded: np.ndarray  # X with the padding's zeros around it
    is_pad: np.ndarray  # which cells of `padded` are padding

    @property
    def structural_zeros(self) -> int:
        """Entries of C that are zero whatever the kernel holds."""
        return int((self.layout < 0).sum())

    def taps(self, row: int) -> np.ndarray:
        """The columns of C's `row` (the input cells) that a kernel weight multiplies."""
        return np.nonzero(self.layout[row] >= 0)[0]


def conv_matrix_layout(geometry: Geometry) -> np.ndarray:
    """(Ho·Wo, H·W) ints: the flat kernel tap placed at each entry of C, or -1 where C is structurally zero."""
    (_, h, w), (_, ho, wo) = geometry.input_shape, geometry.output_shape
    kh, kw = geometry.kernel_size
    layout = np.full((ho * wo, h * w), -1, dtype=np.int64)
    for i, j, a, b in np.ndindex(ho, wo, kh, kw):
        r = i * geometry.stride[0] - geometry.padding[0][0] + geometry.dilation[0] * a
        c = j * geometry.stride[1] - geometry.padding[1][0] + geometry.dilation[1] * b
        if 0 <= r < h and 0 <= c < w:  # taps on padding multiply zeros: no column for them
            layout[i * wo + j, r * w + c] = a * kw + b
    return layout


def conv_matrix(kernel: np.ndarray, geometry: Geometry) -> np.ndarray:
    """The matrix C with conv2d(x, kernel).flatten() == C @ x.flatten() (single channel, no bias)."""
    layout = conv_matrix_layout(geometry)
    flat = np.asarray(kernel, dtype=np.float64).reshape(-1)
    return np.where(layout >= 0, flat[np.maximum(layout, 0)], 0.0)


# ---- upsample_compare (C10) -----------------------------------------------------------------------

class TransposedSpec(_Still):
    """The learned upsampler: a ConvTranspose2d(1, 1) with these weights (no bias)."""

    kernel_size: PosInt = 3
    stride: PosInt = 2
    padding: NonNegInt = 1
    output_padding: NonNegInt = 1
    weights: tuple[tuple[Number, ...], ...]


class UpsampleCompareStill(_Still):
    """Nearest and bilinear upsampling (no parameters) beside a transposed conv (learned weights)."""

    kind: Literal["upsample_compare"]
    input: tuple[tuple[Number, ...], ...]
    scale_factor: Annotated[int, Field(strict=True, ge=2, le=4)] = 2
    transposed: TransposedSpec

    @model_validator(mode="after")
    def _fits(self) -> "UpsampleCompareStill":
        h, w = _rectangular(self.input, "still.input")
        if h > 5 or w > 5:
            raise ValueError(f"still.input: {h}×{w} is too big to print (at most 5×5)")
        kh, kw = _rectangular(self.transposed.weights, "still.transposed.weights")
        k = self.transposed.kernel_size
        if (kh, kw) != (k, k):
            raise ValueError(f"still.transposed.weights: must be {k}×{k} (kernel_size = {k}), got {kh}×{kw}")
        _geometry("still", interpolate_geometry, (1, h, w), None, self.scale_factor, "nearest")
        g = self.transposed_geometry
        if max(g.output_shape[1:]) > 20:
            raise ValueError(f"still.transposed: the output {g.output_shape[1]}×{g.output_shape[2]} is too big "
                             "to print (at most 20×20)")
        return self

    @property
    def transposed_geometry(self) -> Geometry:
        t = self.transposed
        h, w = len(self.input), len(self.input[0])
        return _geometry("still.transposed", conv_transpose_geometry, (1, h, w), 1, t.kernel_size, t.stride,
                         t.padding, t.output_padding, bias=False)

    def outputs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(nearest, bilinear, transposed-conv) 2D outputs, from the engine's ops."""
        x = np.array(self.input, dtype=np.float64)
        t = self.transposed
        nearest = interpolate(x[None, None], scale_factor=self.scale_factor, mode="nearest")[0, 0]
        bilinear = interpolate(x[None, None], scale_factor=self.scale_factor, mode="bilinear",
                               align_corners=False)[0, 0]
        learned = conv_transpose2d(x[None], np.array(t.weights, dtype=np.float64)[None, None], stride=t.stride,
                                   padding=t.padding, output_padding=t.output_padding)[0]
        return nearest, bilinear, learned


# ---- multichannel_3d (C2, D2, E2) -----------------------------------------------------------------

class Multichannel3DStill(_Still):
    """A k×k×m window on an m-channel input, and the same as m 2D slices whose sums add up."""

    kind: Literal["multichannel_3d"]
    input_shape: tuple[Annotated[int, Field(strict=True, ge=1, le=4)],
                       Annotated[int, Field(strict=True, ge=1, le=8)],
                       Annotated[int, Field(strict=True, ge=1, le=8)]] = (3, 5, 5)
    kernel_size: Annotated[int, Field(strict=True, ge=1, le=5)] = 3
    padding: NonNegInt = 0
    bias: bool = True
    seed: NonNegInt = 0
    position: tuple[NonNegInt, NonNegInt] = (0, 0)
    channel_names: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _fits(self) -> "Multichannel3DStill":
        g = self.geometry
        if self.channel_names is not None and len(self.channel_names) != self.input_shape[0]:
            raise ValueError(f"still.channel_names: {len(self.channel_names)} name(s) for "
                             f"{self.input_shape[0]} input channel(s)")
        if self.channel_names is not None and any(not 1 <= len(n) <= 12 for n in self.channel_names):
            raise ValueError("still.channel_names: each name must have 1 to 12 characters")
        out = g.output_shape[1:]
        if any(p >= n for p, n in zip(self.position, out)):
            raise ValueError(f"still.position: {list(self.position)} is outside the output {out[0]}×{out[1]} "
                             f"(rows 0..{out[0] - 1}, columns 0..{out[1] - 1})")
        return self

    @property
    def geometry(self) -> Geometry:
        return _geometry("still", conv_geometry, tuple(self.input_shape), 1, self.kernel_size, 1, self.padding,
                         bias=self.bias)

    def values(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(input (C,H,W), weight (1,C,k,k), bias (1,) or None): small integers from the scene's seed."""
        rng = np.random.default_rng(self.seed)
        c, h, w = self.input_shape
        k = self.kernel_size
        x = rng.integers(0, 10, size=(c, h, w)).astype(np.float64)
        weight = rng.integers(-1, 3, size=(1, c, k, k)).astype(np.float64)
        bias = rng.integers(-2, 3, size=(1,)).astype(np.float64) if self.bias else None
        return x, weight, bias

    def worked_step(self) -> tuple[ConvTrace, ConvStep]:
        """The conv's trace and its step at `position`: the window, per-channel products and sums, the value."""
        x, weight, bias = self.values()
        trace = conv_trace(x, weight, bias, padding=self.padding)
        return trace, trace.step(self.position[0] * trace.geometry.output_shape[2] + self.position[1])


# ---- feature_maps (E4) ----------------------------------------------------------------------------

class FeatureMapsStill(_Still):
    """One image through several preset 3x3 kernels: the feature maps (and their ReLU)."""

    kind: Literal["feature_maps"]
    image: str  # path, relative to the scene file (context base_dir) or absolute
    size: tuple[Annotated[int, Field(strict=True, ge=8, le=256)],
                Annotated[int, Field(strict=True, ge=8, le=256)]] = (96, 128)
    kernels: Annotated[tuple[KernelName, ...], Field(min_length=1, max_length=5)] = ("sobel_x", "sobel_y")
    relu: bool = True

    @field_validator("image")
    @classmethod
    def _image_exists(cls, value: str, info: ValidationInfo) -> str:
        base = (info.context or {}).get("base_dir") if isinstance(info.context, dict) else None
        path = value if os.path.isabs(value) or base is None else os.path.join(str(base), value)
        path = os.path.abspath(path)
        check_image(path)
        return path

    @property
    def map_shape(self) -> tuple[int, ...]:
        """Each feature map's shape (C, H, W): a 3×3 kernel with padding 1 keeps the image's size."""
        return conv_geometry((1, *self.size), 1, 3, 1, 1, bias=False).output_shape

    def pixels(self) -> np.ndarray:
        """(H, W) image in [0, 1]: the file in grayscale, resized to `size` with Lanczos filtering."""
        from PIL import Image

        return image_values(self.image, (1, *self.size), resample=Image.Resampling.LANCZOS)[0] / 255.0

    def feature_maps(self, pixels: np.ndarray) -> list[FeatureMap]:
        """Per kernel, the map it makes of `pixels` (conv2d, padding 1), and that map after ReLU when asked."""
        maps = []
        for name in self.kernels:
            kernel, numerators, divisor = kernel_array(name)
            values = conv2d(pixels[None], kernel[None, None], padding=1)[0]
            rectified = relu(values) if self.relu else None
            maps.append(FeatureMap(
                kernel=name, numerators=numerators, divisor=divisor, values=values, rectified=rectified,
                limit=float(np.abs(values).max()) or 1.0, signed=bool(values.min() < -1e-9),
                rectified_high=(float(rectified.max()) or 1.0) if rectified is not None else None))
        return maps


@dataclass(frozen=True, slots=True, eq=False)
class FeatureMap:
    """One preset kernel's feature map and the ends of its colour scales."""

    kernel: str  # the preset's name
    numerators: np.ndarray  # the kernel as whole numbers over `divisor`
    divisor: int
    values: np.ndarray  # (H, W)
    rectified: np.ndarray | None  # after ReLU, when the scene asks for it
    limit: float  # the largest |value| (1 when all are 0): where the colour scale ends
    signed: bool  # has negatives: its scale runs from -limit to limit, else from 0
    rectified_high: float | None  # the largest value after ReLU (1 when all are 0)


def kernel_array(name: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(float kernel, integer numerators, divisor) of a preset."""
    numerators, divisor = KERNEL_PRESETS[name]
    ints = np.array(numerators, dtype=np.int64)
    return ints / divisor, ints, divisor


def check_image(path: str) -> tuple[int, int]:
    """(width, height) of the image at `path`, read from its header; ValueError naming still.image if unusable."""
    from PIL import Image  # the scene layer reads files; the engine never does

    if not os.path.isfile(path):
        raise ValueError(f"still.image: no such file: {path}")
    try:
        # Pillow's own guard would only warn below 2x its default limit: make every bomb warning an error.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                size = image.size
                kind = image.format
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ValueError(f"still.image: {path} is too large to decode safely ({error})") from None
    except (OSError, SyntaxError) as error:
        raise ValueError(f"still.image: {path} is not a readable image ({error})") from None
    if kind not in ("PNG", "JPEG"):
        raise ValueError(f"still.image: {path} is a {kind} image; use PNG or JPEG")
    if size[0] > MAX_IMAGE_SIDE or size[1] > MAX_IMAGE_SIDE:
        raise ValueError(f"still.image: {path} is {size[0]}×{size[1]} px, larger than the "
                         f"{MAX_IMAGE_SIDE}×{MAX_IMAGE_SIDE} allowed")
    return size


STILL_MODELS: dict[str, type[BaseModel]] = {
    "receptive_field": ReceptiveFieldStill,
    "conv_matrix": ConvMatrixStill,
    "upsample_compare": UpsampleCompareStill,
    "multichannel_3d": Multichannel3DStill,
    "feature_maps": FeatureMapsStill,
}

__all__ = [
    "STILL_MODELS", "KERNEL_PRESETS", "ReceptiveFieldStill", "RFLayer", "ConvMatrixStill", "UpsampleCompareStill",
    "TransposedSpec", "Multichannel3DStill", "FeatureMapsStill", "layer_geometries", "check_image",
    "Growth", "receptive_field_growth", "receptive_field_masks", "SeenRegion", "MatrixProduct", "conv_matrix_layout",
    "conv_matrix", "FeatureMap", "kernel_array",
]

