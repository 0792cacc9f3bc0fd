"""Colour themes: one frozen `Theme` per look, with a named colour for every role a frame draws."""

from __future__ import annotations

from dataclasses import dataclass

from convgif.errors import RenderError

RGB = tuple[int, int, int]

# Okabe & Ito (2008): distinguishable under the common colour-vision deficiencies.
OKABE_ITO: tuple[RGB, ...] = (
    (230, 159, 0),    # orange
    (86, 180, 233),   # sky blue
    (0, 158, 115),    # bluish green
    (204, 121, 167),  # reddish purple
    (0, 114, 178),    # blue
    (213, 94, 0),     # vermillion
    (240, 228, 66),   # yellow
)


def hex_rgb(code: str) -> RGB:
    code = code.lstrip("#")
    return (int(code[0:2], 16), int(code[2:4], 16), int(code[4:6], 16))


def mix(colour: RGB, over: RGB, amount: float) -> RGB:
    """`amount` of `colour` laid over `over` (amount 1 gives `colour`), rounded as alpha blending does."""
    return tuple(int(round(c * amount + o * (1.0 - amount))) for c, o in zip(colour, over))  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class Theme:
    """Every colour a frame uses, by role. Text colours are paired with the fill they sit on."""

    name: str
    background: RGB
    text: RGB
    muted_text: RGB  # labels, legend, caption
    grid: RGB  # lines between data cells
    input: RGB  # data cell fill
    input_text: RGB
    padding: RGB  # padding cell fill (outline dashed)
    padding_edge: RGB
    padding_text: RGB  # the faint "0"
    window: RGB  # thick outline around the (dilated) window span
    tap: RGB  # fill of a tapped cell
    tap_text: RGB
    gap: RGB  # inner outline of a dilation gap (inside the window, not tapped)
    kernel: RGB
    kernel_text: RGB
    output_empty: RGB
    output_done: RGB
    output_done_text: RGB
    output_current: RGB
    output_current_text: RGB
    bias: RGB  # the bias term in sums
    accent: RGB  # partial sums and totals
    groups: tuple[RGB, ...]  # one colour per group lane (cycled)
    lane_tint: float  # how much of the group colour tints a lane's background
    dim_alpha: float  # veil strength over channels the current step does not read

    def group_colour(self, group: int) -> RGB:
        return self.groups[group % len(self.groups)]

    def lane_colour(self, group: int) -> RGB:
        return mix(self.group_colour(group), self.background, self.lane_tint)


_THEMES = {
    "light": Theme(
        name="light",
        background=(255, 255, 255),
        text=hex_rgb("#1a1a1a"),
        muted_text=hex_rgb("#555555"),
        grid=hex_rgb("#8c8c8c"),
        input=hex_rgb("#ffffff"),
        input_text=hex_rgb("#1a1a1a"),
        padding=hex_rgb("#ececec"),
        padding_edge=hex_rgb("#7a7a7a"),
        padding_text=hex_rgb("#a6a6a6"),
        window=hex_rgb("#0072b2"),
        tap=hex_rgb("#f7c548"),
        tap_text=hex_rgb("#1a1a1a"),
        gap=hex_rgb("#7fa8c9"),
        kernel=hex_rgb("#e4d4ee"),
        kernel_text=hex_rgb("#1a1a1a"),
        output_empty=hex_rgb("#ffffff"),
        output_done=hex_rgb("#cfe6f5"),
        output_done_text=hex_rgb("#1a1a1a"),
        output_current=hex_rgb("#d55e00"),
        output_current_text=hex_rgb("#ffffff"),
        bias=hex_rgb("#007a57"),
        accent=hex_rgb("#b34700"),
        groups=OKABE_ITO,
        lane_tint=0.16,
        dim_alpha=0.6,
    ),
}


def get_theme(name: str = "light") -> Theme:
    """The theme called `name`; an unknown name is a RenderError listing the known ones."""
    try:
        return _THEMES[name]
    except KeyError:
        raise RenderError(f"unknown theme {name!r}; known themes: {', '.join(sorted(_THEMES))}") from None


def theme_names() -> list[str]:
    return sorted(_THEMES)
