"""The output formats, one record each: the one list to extend with a new format.

The CLI's choices, scene validation, the API's suffixes, the pipeline and its progress total all read these
records. A record names its writer as "module:Class" (imported on first use, so a GIF render never loads
matplotlib or ffmpeg); every writer is opened as `Writer.open(path, WriterOptions)` and handed
`convgif.encode.Frame`s, each with its step.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Literal

from convgif.errors import MissingExtraError, UsageError
from convgif.suggest import did_you_mean

# which frames a format is handed:
#   "steps": every chosen step frame, in order, then the finished picture (a still: each of its pictures)
#   "key_steps": `output.key_steps` (a still: each of its pictures)
#   "one": the single frame `output.svg_step` names (a still: its last picture)
#   "slides": `output.key_steps`, by default every shown step then the finished picture (one step per click)
#   "final": the finished picture alone (a still: its last picture)
#   "variants": no picture: one Frame per `output.variants` redraw of the scene's values, its `sheet` holding what
#               a printed exercise shows and its answers (`convgif.worksheet`: built from traces, not drawn)
Selection = Literal["steps", "key_steps", "one", "slides", "final", "variants"]


@dataclass(frozen=True, slots=True)
class OutputFormat:
    name: str
    file: str  # the output's name from the scene's stem, e.g. "{stem}.gif" (png frames: a folder)
    writer: str  # "module:Class" of its convgif.encode writer
    frames: Selection
    description: str
    animated: bool = False  # plays its frames with their durations
    several_pictures: bool = False  # makes no sense for a single picture (an animation, a strip)
    holds_frames: bool = False  # keeps every frame in memory until it finishes, instead of streaming them
    indexed: bool = False  # stores palette indices: its writer is opened with the scene's palette
    scene_types: tuple[str, ...] = ("op", "still", "chain")
    needs: str | None = None  # a module only an extra installs (checked before anything is drawn)
    extra: str | None = None  # the pip extra that installs it
    single_picture_file: str | None = None  # the name when a scene has a single picture, if not `file`
    companions: tuple[str, ...] = ()  # files its writer puts beside `file` (beamer's pdf, reveal.js's deck)
    every_theme: bool = False  # one file holding every theme the scene is drawn in (frames of each in turn)
    refuses: str | None = None  # "module:function": (scene) -> [(dotted key, message)] of scenes it cannot write

    @property
    def suffix(self) -> str:
        return Path(self.file).suffix

    def path(self, out_dir: str | Path, stem: str, frame_count: int = 0) -> Path:
        """Where this format writes a scene of `frame_count` pictures."""
        single = frame_count == 1 and self.single_picture_file is not None
        return Path(out_dir) / (self.single_picture_file if single else self.file).format(stem=stem)

    def companion_paths(self, out_dir: str | Path, stem: str) -> list[Path]:
        return [Path(out_dir) / name.format(stem=stem) for name in self.companions]

    def writer_type(self) -> type:
        module, _, name = self.writer.partition(":")
        return getattr(import_module(module), name)

    def problems(self, scene) -> list[tuple[str, str]]:
        """Why this format cannot write `scene` (its `refuses` check), before anything is drawn; [] when it can."""
        if self.refuses is None:
            return []
        module, _, name = self.refuses.partition(":")
        return getattr(import_module(module), name)(scene)

    def check_available(self) -> None:
        """Raise MissingExtraError (exit 2) with the install command when the writer's extra is missing."""
        if self.needs is None:
            return
        try:
            import_module(self.needs)
        except ImportError:
            raise MissingExtraError(f"{self.name} output needs the {self.extra} extra: "
                                    f"pip install 'convgif[{self.extra}]'") from None


FORMATS: tuple[OutputFormat, ...] = (
    OutputFormat("gif", "{stem}.gif", "convgif.encode.gif:GifWriter", "steps", "the looping animation",
                 animated=True, several_pictures=True, indexed=True),
    OutputFormat("png", "{stem}", "convgif.encode.png:PngFramesWriter", "steps",
                 "numbered PNG frames and frames.json (a single picture: one PNG)", animated=True, indexed=True,
                 single_picture_file="{stem}.png"),
    OutputFormat("strip", "{stem}_strip.png", "convgif.encode.strip:StripWriter", "key_steps",
                 "the key steps side by side in one PNG", several_pictures=True, holds_frames=True),
    OutputFormat("pdf", "{stem}.pdf", "convgif.encode.pdf:PdfWriter", "key_steps",
                 "a vector page per key step"),
    OutputFormat("poster", "{stem}.poster.png", "convgif.encode.png:PngFileWriter", "final",
                 "the finished picture as one PNG: what a page shows when motion is reduced or nothing plays"),
    OutputFormat("svg", "{stem}.svg", "convgif.encode.svg:SvgWriter", "one", "one vector picture"),
    OutputFormat("webp", "{stem}.webp", "convgif.encode.animated:WebpWriter", "steps",
                 "lossless animated WebP", animated=True, several_pictures=True, holds_frames=True),
    OutputFormat("apng", "{stem}.apng", "convgif.encode.animated:ApngWriter", "steps", "animated PNG",
                 animated=True, several_pictures=True, holds_frames=True, indexed=True),
    OutputFormat("mp4", "{stem}.mp4", "convgif.encode.video:Mp4Writer", "steps", "H.264 video",
                 animated=True, several_pictures=True, needs="imageio_ffmpeg", extra="mp4"),
    OutputFormat("webm", "{stem}.webm", "convgif.encode.video:WebmWriter", "steps", "VP9 video",
                 animated=True, several_pictures=True, needs="imageio_ffmpeg", extra="mp4"),
    OutputFormat("html", "{stem}.html", "convgif.encode.player:PlayerWriter", "steps",
                 "a step player in one self-contained page: play, pause, step, scrub, speed, the step's arithmetic "
                 "as text, hover an output cell for its window; light and dark when the scene is drawn in both",
                 several_pictures=True, every_theme=True),
    OutputFormat("pptx", "{stem}.pptx", "convgif.encode.pptx:PptxWriter", "slides",
                 "PowerPoint slides: a title slide, a slide per step (one click each, its arithmetic in the speaker "
                 "notes), the finished picture and the looping GIF", needs="pptx", extra="pptx"),
    OutputFormat("beamer", "{stem}.tex", "convgif.encode.beamer:BeamerWriter", "slides",
                 "a Beamer frame (\\input it or paste it) stepping a click per step through {stem}.steps.pdf, "
                 "a vector page per step", companions=("{stem}.steps.pdf",)),
    OutputFormat("revealjs", "{stem}.reveal.html", "convgif.encode.revealjs:RevealWriter", "slides",
                 "a reveal.js <section> to paste into a deck, a fragment per step, and {stem}.deck.html, a "
                 "standalone deck that works offline", companions=("{stem}.deck.html",)),
    OutputFormat("layout", "{stem}.layout.json", "convgif.encode.manifest:LayoutWriter", "steps",
                 "what each frame shows and where (cells, windows, texts, legend) as JSON", scene_types=("op",)),
    OutputFormat("worksheet", "{stem}.worksheet.pdf", "convgif.encode.worksheet:WorksheetWriter", "variants",
                 "a printable A4 exercise: per variant (--variants N, each from its own seed) the call, the input, "
                 "the kernels and questions, then an answer key with the arithmetic; and {stem}.answers.json",
                 scene_types=("op", "chain"), companions=("{stem}.answers.json",), every_theme=True,
                 refuses="convgif.worksheet:worksheet_problems"),
)
_BY_NAME = {fmt.name: fmt for fmt in FORMATS}


def register(fmt: OutputFormat) -> None:
    """Add a format whose record lives outside this list (a plugin, a notebook): it is offered everywhere these
    records are read from then on. A name that exists already is refused."""
    if fmt.name in _BY_NAME:
        raise ValueError(f"an output format named {fmt.name!r} exists already")
    _BY_NAME[fmt.name] = fmt


def format_names() -> tuple[str, ...]:
    return tuple(_BY_NAME)


def suffixes() -> dict[str, str]:
    """A file suffix -> the format that writes files with it (png frames, a folder, has none; the strip's is png's)."""
    return {fmt.suffix: fmt.name for fmt in _BY_NAME.values() if fmt.suffix and fmt.file == "{stem}" + fmt.suffix}


class UnknownFormatError(UsageError):
    """An output format name that no record has."""

    def __init__(self, name: str):
        self.name = name
        super().__init__(f"unknown output format {name!r}{did_you_mean(name, format_names())}; available: {', '.join(sorted(format_names()))}")


def output_format(name: str) -> OutputFormat:
    """The record of the format `name`; UnknownFormatError (exit 2, with a suggestion) otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownFormatError(name) from None
