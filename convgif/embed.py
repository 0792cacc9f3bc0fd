"""`convgif embed`: the snippet that puts a rendered scene on a blog page or a GitHub README.

One `<picture>` serves every reader the smallest file their browser takes, in their colours, without motion when
they ask for none:
- `prefers-reduced-motion: reduce`: the finished picture (the `poster` format), light or dark;
- `prefers-color-scheme: dark`: the dark WebP, else the dark GIF;
- otherwise the light WebP, else the light GIF (the `<img>`, with width, height and the alt text).
`--video` gives a `<video autoplay loop muted playsinline>` with WebM then MP4 sources, the poster, and the GIF as
the fallback. The full description goes in a `<figcaption>` (Markdown: a line under the picture).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from convgif.formats import output_format
from convgif.scene.spec import AUTO_THEMES as THEMES  # what an embed serves: the reader's colour scheme picks one

PICTURE_FORMATS = ("gif", "webp", "poster")
VIDEO_FORMATS = ("webm", "mp4")


@dataclass(frozen=True, slots=True)
class Embedded:
    """The files of one scene an embed names, by theme and format, as the page will address them."""

    stem: str
    base: str  # what goes before each file name in the snippet ("output/", "https://example.org/img/")
    width: int
    height: int
    alt: str
    caption: str

    def url(self, fmt: str, theme: str = THEMES[0]) -> str:
        """Where the page finds `fmt` in `theme`: the name its format record gives, after the pipeline's theme
        naming (the first theme's files are named after the scene, the others `<stem>.<theme>`)."""
        stem = self.stem if theme == THEMES[0] else f"{self.stem}.{theme}"
        return self.base + output_format(fmt).file.format(stem=stem)


def needed_formats(video: bool) -> tuple[str, ...]:
    return PICTURE_FORMATS + (VIDEO_FORMATS if video else ())


def snippet(files: Embedded, *, video: bool = False, markdown: bool = False) -> str:
    """The HTML that shows `files` (Markdown: the same picture, which GitHub renders, and the caption as text)."""
    e = lambda text: html.escape(text, quote=True)  # noqa: E731
    size = f'width="{files.width}" height="{files.height}"'
    reduce, dark = "(prefers-reduced-motion: reduce)", "(prefers-color-scheme: dark)"
    picture = [
        "<picture>",
        f'  <source media="{reduce} and {dark}" srcset="{e(files.url("poster", "dark"))}">',
        f'  <source media="{reduce}" srcset="{e(files.url("poster"))}">',
        f'  <source media="{dark}" type="image/webp" srcset="{e(files.url("webp", "dark"))}">',
        f'  <source media="{dark}" srcset="{e(files.url("gif", "dark"))}">',
        f'  <source type="image/webp" srcset="{e(files.url("webp"))}">',
        f'  <img src="{e(files.url("gif"))}" {size} alt="{e(files.alt)}">',
        "</picture>",
    ]
    if video:  # the video element has no media queries for its sources: the light files, the GIF inside it
        picture = [
            f'<video autoplay loop muted playsinline {size} poster="{e(files.url("poster"))}" '
            f'aria-label="{e(files.alt)}">',
            f'  <source src="{e(files.url("webm"))}" type="video/webm">',
            f'  <source src="{e(files.url("mp4"))}" type="video/mp4">',
            *("  " + line for line in picture),
            "</video>",
        ]
    if markdown:
        return "\n".join(picture) + ("\n\n" + _markdown_text(files.caption) if files.caption else "") + "\n"
    caption = [f"  <figcaption>{e(files.caption)}</figcaption>"] if files.caption else []
    return "\n".join(["<figure>", *("  " + line for line in picture), *caption, "</figure>"]) + "\n"


def _markdown_text(text: str) -> str:
    """The caption as one Markdown paragraph in italics, its Markdown signs escaped."""
    escaped = "".join("\\" + ch if ch in "\\`*_[]<>" else ch for ch in " ".join(text.split()))
    return f"*{escaped}*"


def embedded(scene, out_dir: str | Path, base: str | None = None) -> Embedded:
    """What an embed of `scene` rendered into `out_dir` names: its size read off the light GIF written there."""
    from PIL import Image

    from convgif.alt import alt_text

    out_dir = Path(out_dir)
    if base is None:
        base = "" if str(out_dir) in ("", ".") else out_dir.as_posix().rstrip("/") + "/"
    with Image.open(out_dir / f"{scene.stem}.gif") as image:
        width, height = image.size
    return Embedded(stem=scene.stem, base=base, width=width, height=height, alt=alt_text(scene),
                    caption=scene.description or scene.title or "")
