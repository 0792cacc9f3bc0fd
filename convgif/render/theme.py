"""Looks: one frozen `Theme` per named look (light, dark, print, colorblind), a colour for every role a frame
draws, plus the label language and the font scale; `get_theme` applies a scene's language, font scale and colour
overrides."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from convgif.errors import RenderError
from convgif.suggest import did_you_mean

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


def groups_apart_from(*taken: RGB, colours: tuple[RGB, ...] = OKABE_ITO, nearer_than: float = 60) -> tuple[RGB, ...]:
    """`colours` without those within `nearer_than` (RGB distance) of a colour a theme gives another mark: a group's
    bar and labels must not look like the window or the current output (the dark theme's window is Okabe-Ito's sky
    blue, which was its group 1: a group-1 step's window vanished into its lane)."""
    return tuple(c for c in colours if all(sum((a - b) ** 2 for a, b in zip(c, t)) ** 0.5 >= nearer_than for t in taken))


HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


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
    dark: bool = False  # light text on dark fills: group labels are lightened, not darkened
    language: str = "en"  # which column of `convgif.render.labels` the frame's words come from
    font_scale: float = 1.0  # every text size times this (`[render] font_scale`); layouts make room for it
    crisp_text: bool = True  # raster frames draw glyphs one-bit, without anti-aliasing (`[render] text = "crisp"`)
    # tapped cells filled even in a window without gaps, where its outline already marks exactly them
    # (`[render] taps = "fill"`); by default only a window with dilation gaps fills its taps
    fill_dense_taps: bool = False

    def group_colour(self, group: int) -> RGB:
        return self.groups[group % len(self.groups)]

    def lane_colour(self, group: int) -> RGB:
        return mix(self.group_colour(group), self.background, self.lane_tint)

    def dimmed(self, colour: RGB) -> RGB:
        """`colour` under the veil that dims what a step does not read (a Veil of the background, `dim_alpha`), as
        the painters blend it."""
        return mix(colour, self.background, 1 - self.dim_alpha)

    def group_label_colour(self, group: int) -> RGB:
        """A group colour readable as 12 px text on its own lane."""
        towards = (255, 255, 255) if self.dark else (0, 0, 0)
        return mix(self.group_colour(group), towards, 0.5 if self.dark else 0.62)


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
        padding_text=hex_rgb("#767676"),  # 3.8:1 on the padding fill: faint, yet read from a back row
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
        groups=groups_apart_from(hex_rgb("#0072b2"), hex_rgb("#d55e00")),
        lane_tint=0.16,
        dim_alpha=0.6,
    ),
    "dark": Theme(  # for slides with a dark background: the light theme's roles at night
        name="dark",
        background=hex_rgb("#1d1f24"),
        text=hex_rgb("#ececec"),
        muted_text=hex_rgb("#a7acb4"),
        grid=hex_rgb("#5d626c"),
        input=hex_rgb("#2b2e35"),
        input_text=hex_rgb("#ececec"),
        padding=hex_rgb("#24262b"),
        padding_edge=hex_rgb("#8a8f99"),
        padding_text=hex_rgb("#878c95"),  # 4.5:1 on the padding fill
        window=hex_rgb("#56b4e9"),
        tap=hex_rgb("#e6a817"),
        tap_text=hex_rgb("#1a1a1a"),
        gap=hex_rgb("#3e7fae"),
        kernel=hex_rgb("#4b3d5a"),
        kernel_text=hex_rgb("#f2eaf8"),
        output_empty=hex_rgb("#2b2e35"),
        output_done=hex_rgb("#1f4a66"),
        output_done_text=hex_rgb("#ececec"),
        output_current=hex_rgb("#e0661a"),
        output_current_text=hex_rgb("#ffffff"),
        bias=hex_rgb("#3fd1a2"),
        accent=hex_rgb("#f4a765"),
        groups=groups_apart_from(hex_rgb("#56b4e9"), hex_rgb("#e0661a")),
        lane_tint=0.2,
        dim_alpha=0.6,
        dark=True,
    ),
    # grayscale printing: roles differ by lightness (and the dashed padding edge, the thick window),
    # never by hue alone; every fill is far enough from its neighbours in L* to survive a photocopier
    "print": Theme(
        name="print",
        background=(255, 255, 255),
        text=(0, 0, 0),
        muted_text=hex_rgb("#3c3c3c"),
        grid=hex_rgb("#6e6e6e"),
        input=(255, 255, 255),
        input_text=(0, 0, 0),
        padding=hex_rgb("#d0d0d0"),
        padding_edge=hex_rgb("#3c3c3c"),
        padding_text=hex_rgb("#666666"),  # 3.7:1 on the padding fill
        window=(0, 0, 0),
        tap=hex_rgb("#a0a0a0"),
        tap_text=(0, 0, 0),
        gap=hex_rgb("#5a5a5a"),
        kernel=hex_rgb("#e8e8e8"),
        kernel_text=(0, 0, 0),
        output_empty=(255, 255, 255),
        output_done=hex_rgb("#d4d4d4"),
        output_done_text=(0, 0, 0),
        output_current=hex_rgb("#2e2e2e"),
        output_current_text=(255, 255, 255),
        bias=(0, 0, 0),
        accent=(0, 0, 0),
        groups=(hex_rgb("#595959"), hex_rgb("#8c8c8c"), hex_rgb("#b4b4b4"), hex_rgb("#737373")),  # not the window's black
        lane_tint=0.14,
        dim_alpha=0.6,
    ),
    # every hue from Okabe & Ito's palette, so roles stay apart under protan, deutan and tritan vision
    "colorblind": Theme(
        name="colorblind",
        background=(255, 255, 255),
        text=hex_rgb("#1a1a1a"),
        muted_text=hex_rgb("#555555"),
        grid=hex_rgb("#8c8c8c"),
        input=(255, 255, 255),
        input_text=hex_rgb("#1a1a1a"),
        padding=hex_rgb("#ececec"),
        padding_edge=hex_rgb("#7a7a7a"),
        padding_text=hex_rgb("#767676"),  # 3.8:1 on the padding fill: faint, yet read from a back row
        window=OKABE_ITO[4],  # blue
        tap=OKABE_ITO[0],  # orange
        tap_text=hex_rgb("#1a1a1a"),
        gap=OKABE_ITO[1],  # sky blue
        kernel=mix(OKABE_ITO[3], (255, 255, 255), 0.35),  # pale reddish purple
        kernel_text=hex_rgb("#1a1a1a"),
        output_empty=(255, 255, 255),
        output_done=mix(OKABE_ITO[1], (255, 255, 255), 0.5),  # pale sky blue
        output_done_text=hex_rgb("#1a1a1a"),
        output_current=OKABE_ITO[5],  # vermillion
        output_current_text=(255, 255, 255),
        bias=hex_rgb("#007a57"),  # bluish green, darkened to read as text
        accent=hex_rgb("#9c4400"),  # vermillion, darkened to read as text
        groups=groups_apart_from(OKABE_ITO[4], OKABE_ITO[5]),
        lane_tint=0.16,
        dim_alpha=0.6,
    ),
}

COLOUR_ROLES = tuple(f.name for f in fields(Theme) if f.type == "RGB")


FONT_SCALES = (0.75, 2.0)  # the smallest and largest `font_scale`: below, digits blur; above, little fits


def get_theme(name: str = "light", *, language: str = "en", colours: Mapping[str, str] | None = None,
              font_scale: float = 1.0, crisp_text: bool = True, fill_dense_taps: bool = False) -> Theme:
    """The theme called `name` in `language` at `font_scale`, with `colours` ({role: "#rrggbb"}) replacing its own.

    An unknown name, role or language, a malformed colour or a font scale outside FONT_SCALES is a RenderError
    saying what is allowed.
    """
    from convgif.render.labels import LANGUAGES

    try:
        theme = _THEMES[name]
    except KeyError:
        raise RenderError(f"unknown theme {name!r}; known themes: {', '.join(sorted(_THEMES))}") from None
    if language not in LANGUAGES:
        raise RenderError(f"unknown language {language!r}; known languages: {', '.join(LANGUAGES)}")
    low, high = FONT_SCALES
    if not low <= font_scale <= high:
        raise RenderError(f"font_scale must be between {low} and {high}, got {font_scale!r}")
    changes: dict[str, object] = {"language": language, "font_scale": float(font_scale),
                                  "crisp_text": bool(crisp_text), "fill_dense_taps": bool(fill_dense_taps)}
    for role, code in (colours or {}).items():
        if role not in COLOUR_ROLES:
            raise RenderError(f"unknown colour role {role!r}{did_you_mean(role, COLOUR_ROLES)}; roles: {', '.join(COLOUR_ROLES)}")
        if not isinstance(code, str) or not HEX_COLOUR.fullmatch(code):
            raise RenderError(f"colour for {role!r} must be written #rrggbb, got {code!r}")
        changes[role] = hex_rgb(code)
    return replace(theme, **changes)


def theme_names() -> list[str]:
    return sorted(_THEMES)
