"""The Python API for notebooks and scripts: load or build a scene, render it, show it inline, save it.

    import convgif
    scene = convgif.load("scenes/a01_plain_conv.toml")
    scene.render()                    # in Jupyter: the animation inline
    scene.render(theme="dark").save("plain_dark.gif")
    scene.save("plain.pdf")           # any output format, from the suffix

Scenes built in code go through the same validation as scene files (`parse_scene`), so the messages
are identical; they name the scene `<dict>` (or the `source` you pass) instead of a file.
"""

from __future__ import annotations

import base64
import copy
import html
import io
import itertools
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from convgif.errors import UsageError

# render keys that `Scene.render(...)` may override, as they are spelt in a scene file's [render] table
RENDER_OVERRIDES = ("theme", "width", "aspect", "duration_ms", "hold_ms", "steps", "view", "quiz")

# one number per inline display in this kernel: two outputs of the same player on one page need their own ids, or
# the second output's script would find (and start) the first one's figure
_DISPLAYS = itertools.count(1)


@dataclass(frozen=True, slots=True)
class PlayerView:
    """A scene's step player (the `html` format's player) to show inline in Jupyter: `scene.player()`.

    Each output holds one whole copy (frames, style, script): it works in a reopened notebook, nbviewer or an
    exported page without the kernel or any other output. A still of the finished picture stands in for it
    where a front end runs no scripts (an untrusted notebook, GitHub), and is removed once the player starts.
    """

    title: str | None
    fragment: str  # the player's <figure>, its ids and selectors under `element_id`
    element_id: str
    still_png: bytes  # the finished picture (the last frame)
    alt: str
    size: tuple[int, int]  # (width, height) in pixels
    frames: int

    def _repr_html_(self) -> str:
        pid = f"{self.element_id}-{next(_DISPLAYS)}"
        figure = self.fragment.replace(self.element_id, pid)  # the id is a content hash: nothing else matches it
        still = base64.b64encode(self.still_png).decode("ascii")
        alt = html.escape(self.alt, quote=True)
        width, height = self.size
        return (f'<div class="cgn" id="{pid}-nb">'
                f'<img class="cgn-still" src="data:image/png;base64,{still}" alt="{alt}" width="{width}" '
                f'height="{height}" style="max-width:100%;height:auto">'
                # `hidden` and an inline display: JupyterLab's sanitizer (an untrusted notebook) drops the attribute
                # but keeps the style, so the dead controls stay hidden there too
                f'<div class="cgn-live" hidden style="display:none">\n{figure}</div>'
                # only a player that started replaces the still (no scripts: the still stays, with its alt text)
                f'<script>(function(){{var w=document.getElementById("{pid}-nb"),f=w&&w.querySelector(".cgp");'
                f'if(!f||!f.convgif)return;w.removeChild(w.querySelector(".cgn-still"));'
                f'var l=w.querySelector(".cgn-live");l.hidden=false;l.style.display="";}})();</script></div>')

    def __repr__(self) -> str:
        return f"PlayerView({self.title!r}, {self.frames} frame(s), {self.size[0]}x{self.size[1]})"


@dataclass(frozen=True, slots=True)
class Rendering:
    """One rendered scene held in memory: a GIF (animations, multi-figure stills) or a PNG (one figure).

    In Jupyter an animation shows itself as the step player (`_repr_html_`, the same as `scene.player()`, drawn
    on first display), a still as an <img> with a data: URL: nothing is written to disk.
    """

    title: str | None
    data: bytes  # the encoded file exactly as the pipeline wrote it
    mime: str  # "image/gif" or "image/png"
    frames: int
    size: tuple[int, int]  # (width, height) in pixels
    scene: Scene | None = field(default=None, repr=False, compare=False)  # to save in other formats
    _player: list = field(default_factory=list, init=False, repr=False, compare=False)  # PlayerView, once drawn

    @property
    def gif_bytes(self) -> bytes:
        """The animation as GIF bytes (a one-figure still is converted to a one-frame GIF)."""
        if self.mime == "image/gif":
            return self.data
        buffer = io.BytesIO()
        self._images()[0][0].save(buffer, format="GIF")
        return buffer.getvalue()

    @property
    def png_bytes(self) -> bytes:
        """The last frame (an animation's hold frame: the finished result) as PNG bytes."""
        if self.mime == "image/png":
            return self.data
        buffer = io.BytesIO()
        self._images()[-1][0].save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()

    def _images(self) -> list[tuple[Any, int]]:
        """Every frame as an RGB PIL image with its duration in ms (decoded from `data`)."""
        from PIL import Image, ImageSequence

        with Image.open(io.BytesIO(self.data)) as image:
            return [(frame.convert("RGB"), int(frame.info.get("duration", 0)))
                    for frame in ImageSequence.Iterator(image)]

    def player(self) -> PlayerView:
        """The step player of this rendering's scene (drawn on first use, then kept)."""
        if self.scene is None:
            raise UsageError("this rendering has no scene to draw a player from")
        if not self._player:
            self._player.append(self.scene.player())
        return self._player[0]

    def _repr_html_(self) -> str:
        if self.mime == "image/gif" and self.scene is not None:
            return self.player()._repr_html_()
        return self._img_html()

    def _img_html(self) -> str:
        encoded = base64.b64encode(self.data).decode("ascii")
        alt = html.escape(self.title or "convgif rendering", quote=True)
        return (f'<img src="data:{self.mime};base64,{encoded}" alt="{alt}" width="{self.size[0]}" '
                f'height="{self.size[1]}" style="max-width:100%;height:auto">')

    def _repr_png_(self) -> bytes | None:
        # only for a still: front ends prefer HTML, and a PNG of an animation would hide that it moves
        return self.data if self.mime == "image/png" else None

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the rendering to `path`, atomically, in the format its suffix names.

        `.gif` (the animation) and `.png` (a still, or an animation's last frame) come from these bytes;
        other suffixes (`.webp`, `.apng`, `.mp4`, `.pdf`, `.svg`) render the scene again in that format.
        """
        from convgif.encode import atomic_write

        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".gif", ".png"):
            if self.scene is None:
                raise UsageError(f"{path}: this rendering can only be saved as .gif or .png")
            return self.scene.save(path)
        data = self.gif_bytes if suffix == ".gif" else self.png_bytes
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as handle:
            handle.write(data)
        return path

    def __repr__(self) -> str:
        return f"Rendering({self.title!r}, {self.mime}, {self.frames} frame(s), {self.size[0]}x{self.size[1]})"


class Scene:
    """A validated scene (animation or still) and the document it came from; render it with `.render()`."""

    __slots__ = ("document", "source", "spec")

    def __init__(self, document: dict, source: str = "<dict>"):
        from convgif.scene import parse_scene

        # a deep copy: later changes to the caller's dict must not change this scene
        self.document = copy.deepcopy(document)
        self.source = source
        self.spec = parse_scene(self.document, source)  # SceneError listing every problem

    @classmethod
    def from_dict(cls, document: dict, *, source: str = "<dict>") -> Scene:
        """A scene from a dict shaped like a scene file (`{"op": {...}, "input": {...}, ...}`)."""
        return cls(document, source)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Scene:
        """A scene from a TOML scene file."""
        from convgif.scene import read_document

        return cls(read_document(path), str(path))

    @classmethod
    def from_toml(cls, text: str, *, source: str = "<toml>") -> Scene:
        """A scene from TOML text (e.g. a string in a notebook cell)."""
        import tomllib

        from convgif.errors import SceneError

        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise SceneError(source, [("", f"TOML syntax error: {error}")]) from None
        return cls(document, source)

    @property
    def title(self) -> str | None:
        return self.spec.title

    @property
    def description(self) -> str | None:
        return self.spec.description

    @property
    def is_still(self) -> bool:
        return self.spec.scene_type == "still"

    def info(self) -> dict[str, Any]:
        """Shapes, formula, parameters, multiply-adds and frames (as `convgif info` prints them)."""
        return self.spec.info()

    def arrays(self) -> dict[str, Any]:
        """The numbers as NumPy arrays: `input`, `weight`, `bias` (None where the op has none) and `output`,
        to check against torch (`convgif info --json --values` prints the same). A chain (`[[ops]]`) gives its
        `input`, final `output` and `stages`: one such mapping per stage, each reading the one before."""
        return self.spec.arrays()

    def replace(self, **render_options: Any) -> Scene:
        """A copy with `[render]` keys replaced (theme, width, aspect, duration_ms, hold_ms, steps, view, quiz)."""
        unknown = sorted(set(render_options) - set(RENDER_OVERRIDES))
        if unknown:
            from convgif.suggest import did_you_mean

            hints = "".join(did_you_mean(name, RENDER_OVERRIDES) for name in unknown)
            raise UsageError(f"unknown render option(s) {', '.join(unknown)}{hints}; "
                             f"available: {', '.join(RENDER_OVERRIDES)}")
        document = copy.deepcopy(self.document)
        section = document.setdefault("render", {})
        if not isinstance(section, dict):  # parse_scene already refused this document; keep its message
            return Scene(document, self.source)
        if render_options.get("aspect") is not None and render_options.get("width") is None:
            section.pop("width", None)  # slides at the aspect's own width, as `convgif render --aspect` does
        section.update({key: value for key, value in render_options.items() if value is not None})
        return Scene(document, self.source)

    def render(self, **render_options: Any) -> Rendering:
        """Render in memory (optionally with `[render]` keys replaced, e.g. `theme="dark"`, `width=480`).

        Whatever `[output] formats` the scene lists, this renders its web picture: a GIF, or a PNG for a
        one-figure still (`save` writes the other formats).
        """
        from PIL import Image

        scene = self.replace(**render_options) if render_options else self
        web = Scene(web_document(scene.document), scene.source)
        with tempfile.TemporaryDirectory(prefix="convgif-") as out_dir:
            result = _render_spec(web.spec, out_dir)
            data = result.path.read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            size = image.size
        mime = "image/png" if result.path.suffix == ".png" else "image/gif"
        return Rendering(title=scene.title, data=data, mime=mime, frames=result.frames, size=size, scene=scene)

    def player(self, **render_options: Any) -> PlayerView:
        """The step player, shown inline in Jupyter: play, pause, step, scrub, speed, the step's arithmetic as
        text, hover an output cell for its window (optionally with `[render]` keys replaced, as in `render`).
        With `theme="auto"` (or a list) it holds every theme's frames and follows the reader's colour scheme."""
        from itertools import chain

        from convgif.encode.player import build_player, png_bytes
        from convgif.sources import frame_source

        scene = self.replace(**render_options) if render_options else self
        spec = scene.spec
        themes = spec.render.themes()
        sources = [frame_source(spec if len(themes) == 1 else spec.in_theme(name)) for name in themes]
        deck = sources[0].deck()
        player = build_player(chain.from_iterable(source.frames("steps") for source in sources), deck,
                              stem=spec.stem)
        fragment = player.fragment()  # the atlas is packed once, here; each display only renames the ids
        element_id = re.match(r'<figure class="cgp" id="([^"]+)"', fragment).group(1)  # its content-hash id
        return PlayerView(title=scene.title, fragment=fragment, element_id=element_id,
                          still_png=png_bytes(player.themes[0].last),
                          alt=deck.alt or deck.title, size=(player.size[1], player.size[0]),
                          frames=len(player.themes[0].texts))

    def save(self, path: str | os.PathLike[str], *, format: str | None = None, **render_options: Any) -> Path:
        """Render and write to `path`, in `format` or the one its suffix names.

        Suffixes: .gif .webp .apng .mp4 .pdf .svg, and .png (a still, or an animation's final frame).
        `format` may also be any `[output] formats` name, e.g. "strip" (a PNG of the key steps) or "png"
        (numbered frames in the folder `path`).
        """
        from convgif.encode import atomic_write

        path = Path(path)
        scene = self.replace(**render_options) if render_options else self
        suffix = path.suffix.lower()
        if format is None and suffix == ".png":
            return scene.render().save(path)
        from convgif.formats import suffixes  # a suffix -> the format that writes it (`.png`: see above)

        fmt = format or suffixes().get(suffix)
        if fmt is None:
            raise UsageError(f"{path}: cannot tell the format from the suffix {path.suffix!r}; use one of "
                             f"{', '.join([*suffixes(), '.png'])} or pass format=")
        chosen = Scene(web_document(scene.document, [fmt]), scene.source)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="convgif-") as out_dir:
            written = _render_spec(chosen.spec, out_dir).path
            if written.is_dir():  # png frames: the folder becomes `path`
                if path.exists():
                    shutil.rmtree(path)
                shutil.copytree(written, path)
            else:
                with atomic_write(path) as handle:
                    handle.write(written.read_bytes())
        return path

    def _repr_html_(self) -> str:
        # a summary, not a render: displaying a scene must stay instant; `.render()` draws it
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                       f"<td>{html.escape(str(v))}</td></tr>" for k, v in self.info().items())
        title = html.escape(self.title or self.source)
        return f"<div><strong>{title}</strong><table>{rows}</table><em>.render() to draw it</em></div>"

    def __repr__(self) -> str:
        return f"convgif.Scene({self.title or self.source!r})"


def web_document(document: dict, formats: list[str] | None = None) -> dict:
    """A copy of a scene document whose `[output] formats` are `formats` (None: the default, which is the
    web picture: a GIF, or a PNG for a one-figure still), whatever the file asks for."""
    document = copy.deepcopy(document)
    output = document.get("output")
    if isinstance(output, dict):
        output.pop("formats", None)
    if formats is not None:
        document.setdefault("output", {})
        if isinstance(document["output"], dict):
            document["output"]["formats"] = list(formats)
    return document


def _render_spec(spec: Any, out_dir: str):
    from convgif.pipeline import render_scene

    return render_scene(spec, out_dir)


def load(path: str | os.PathLike[str]) -> Scene:
    """Read and validate the scene file at `path` (a SceneError lists every problem in it)."""
    return Scene.from_file(path)


def scene_from(document: dict | None = None, /, **sections: Any) -> Scene:
    """A scene built in code: a dict shaped like a scene file, and/or its top-level keys as arguments.

        convgif.scene_from(op={"kind": "conv2d", "kernel_size": 3}, input={"shape": [1, 5, 5]})
    """
    merged = {**(document or {}), **sections}
    return Scene(merged, "<dict>")
