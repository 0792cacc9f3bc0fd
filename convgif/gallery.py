"""The HTML gallery: render the scenes that are missing or stale, then write one offline `index.html`.

The page holds every scene's step player (an animation) or picture (a still), its title, description, parameters,
output-size formula with the numbers filled in, parameter count and its source, grouped by catalogue row. Each
animation's player is its own small page, `<stem>.player.html` (light and dark frames, the reader's scheme picks),
shown in a lazily loaded <iframe>, so the index stays light however many scenes there are; a still shows its dark
PNG under `prefers-color-scheme: dark`. Everything is linked by relative path and nothing is fetched from the
network, so the folder can be copied anywhere and opened from disk.
"""

from __future__ import annotations

import dataclasses
import html
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from convgif.build_cache import BuildCache, output_fingerprint, scene_fingerprint, source_fingerprint
from convgif.build_cache import tree_digest  # noqa: F401  (where it lived before convgif.build_cache)
from convgif.errors import ConvgifError, SceneError, UsageError

GALLERY_PRODUCT = "gallery"  # the manifest records each scene's page files under "<stem>|gallery"
INDEX_KEY = "index.html|gallery"  # and the page itself, with what it shows of each scene
INDEX_NAME = "index.html"
_STEM_PREFIX = re.compile(r"^([a-z])(\d+)_")

Progress = Callable[[str, str], None]  # (scene path, "rendered" | "fresh" | "failed")


@dataclass(frozen=True, slots=True)
class GalleryEntry:
    """One scene as the page shows it; `error` is set (and `image` None) when it failed to load or render."""

    source: str  # the scene file's path as given
    stem: str
    row: str  # catalogue row id ("A1"), or "other"
    title: str
    description: str | None
    source_text: str
    image: str | None  # file name relative to the page
    image_size: tuple[int, int] | None  # (width, height)
    frames: int | None
    parameters: tuple[tuple[str, str], ...]  # (name, value) as the page lists them
    formula: tuple[str, ...]  # one line per spatial axis, numbers filled in
    params: int | None
    macs: int | None
    error: str | None = None
    comparisons: int | None = None  # a max pool's cost, which has no multiply-adds
    alt: str = ""  # the scene's alt text (what it shows and its shapes, <= 125 characters)
    player: str | None = None  # an animation's step player page, relative to the gallery page
    dark_image: str | None = None  # a still's picture in the dark theme, shown under prefers-color-scheme: dark


@dataclass(frozen=True, slots=True)
class GalleryResult:
    index: Path
    entries: tuple[GalleryEntry, ...]
    rendered: int  # scenes rendered this run
    fresh: int  # scenes whose image was already up to date
    failed: int


def catalogue_row(catalogue: tuple[str, ...], stem: str) -> str:
    """The catalogue row a scene belongs to: the first of its `catalogue` rows, else its file name's prefix (a01_
    is A1), else "other"."""
    if catalogue:
        return catalogue[0]
    prefix = _STEM_PREFIX.match(stem)
    if prefix:
        return f"{prefix.group(1).upper()}{int(prefix.group(2))}"
    return "other"


def _row_order(row: str) -> tuple:
    match = re.fullmatch(r"([A-Z])(\d+)", row)
    return (0, match.group(1), int(match.group(2))) if match else (1, row, 0)


def scene_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Directories expanded to their *.toml files (sorted); a missing path is a usage error."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(path.glob("*.toml")))
        elif path.is_file():
            found.append(path)
        else:
            raise UsageError(f"{raw}: no such file or directory")
    if not found:
        raise UsageError("no scene files (*.toml) to put in the gallery")
    return found


def _show(value: Any) -> str:
    """A parameter value as a scene file would spell it, shortened when long (the source shows it all)."""
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    if isinstance(value, (list, tuple)):
        text = text.replace(", ", ",").replace(",", ", ")
    return text if len(text) <= 60 else text[:57] + "…"


def _describe(scene: Any, document: dict) -> dict[str, Any]:
    """The page's facts about one validated scene: parameters (its `[op]` or `[still]` table), shapes, formula,
    counts (what its `info()` has of them)."""
    info = scene.info()
    table = scene.scene_type  # an op scene's parameters are its [op] table, a still's its [still] table
    parameters = [(f"{table}.{key}", _show(value)) for key, value in document.get(table, {}).items()]
    parameters += [(f"{axis} shape", _show(list(info[f"{axis}_shape"])))
                   for axis in ("input", "output") if info.get(f"{axis}_shape")]
    if info.get("weight_shape"):
        parameters.append(("weight shape", _show(list(info["weight_shape"]))))
    formula = tuple(line.strip() for line in str(info.get("formula") or "").split(";") if line.strip())
    return {"parameters": tuple(parameters), "formula": formula, "params": info.get("params"),
            "macs": info.get("macs"), "comparisons": info.get("comparisons") or None}


def gallery_themes(scene) -> tuple[str, ...]:
    """The themes the page shows a scene in: a light scene also in dark (the reader's scheme picks one); a scene
    that asks for another theme, or for several, is shown as it asks (that theme is its point)."""
    themes = tuple(scene.render.themes())
    return ("light", "dark") if themes == ("light",) else themes


def _render(path: str, out_dir: str, force: bool = False) -> dict[str, Any]:
    """{"image", "frames", "player", "dark", "size", "records", "error"} for one scene ({"error"} alone when it
    failed): a top-level function so a process pool can run it. The image is the web picture `convgif render`
    writes (same bytes, and reused when that render left it up to date); an animation also gets its step player
    page in every theme of `gallery_themes`, a one-picture still its picture in the other theme. `records`: what
    was written, for the output folder's manifest."""
    from convgif.api import web_document
    from convgif.pipeline import render_scene
    from convgif.scene import parse_scene, read_document

    outcome: dict[str, Any] = {"image": None, "frames": None, "player": None, "dark": None, "error": None}
    cache = BuildCache(out_dir, force=force)
    try:
        # the page shows the web picture (GIF, or a one-figure still's PNG), whatever formats the file lists
        document = web_document(read_document(path))
        scene = parse_scene(document, path)
        result = render_scene(scene, out_dir, cache=cache)
        outcome.update(image=result.path.name, frames=result.frames)
        themes = gallery_themes(scene)
        if result.frames > 1:
            key = f"{scene.stem}|gallery-player"
            fingerprint = output_fingerprint(scene_fingerprint(scene) or "", f"player {','.join(themes)}")
            name = scene.stem + PLAYER_SUFFIX
            if cache.fresh(key, fingerprint) is None:
                name = _write_player(scene, themes, Path(out_dir), result.path.name)
                cache.record(key, fingerprint, [Path(out_dir) / name])
            outcome["player"] = name
        elif len(themes) > 1 and result.path.suffix == ".png":
            document.setdefault("render", {})["theme"] = list(themes)
            # the first theme's PNG: the same bytes, reused
            both = render_scene(parse_scene(document, path), out_dir, cache=cache)
            outcome["dark"] = next((p.name for p in both.paths if p.name == f"{scene.stem}.dark.png"), None)
        from PIL import Image

        with Image.open(result.path) as opened:
            outcome["size"] = list(opened.size)
        outcome["records"] = cache.added
    except SceneError as error:
        return {"error": "\n".join(error.lines())}
    except ConvgifError as error:
        return {"error": f"{path}: {error}"}
    except Exception as error:  # a bug in one scene must not lose the page for the others
        return {"error": f"{path}: internal error: {type(error).__name__}: {error}"}
    return outcome


PLAYER_SUFFIX = ".player.html"


def _write_player(scene, themes: tuple[str, ...], out: Path, image: str) -> str:
    """Write `<stem>.player.html`: the scene's step player with every theme's frames, alone on a page made to sit
    in the gallery's <iframe> (no title or caption: the card has them). Returns its file name."""
    import dataclasses

    from convgif.encode import atomic_write
    from convgif.encode.player import PlayerBuilder
    from convgif.sources import frame_source

    sources = [frame_source(scene.in_theme(name)) for name in themes]
    deck = dataclasses.replace(sources[0].deck(), description="", animation=None)
    builder = PlayerBuilder(deck, scene.stem)
    for source in sources:  # every frame of one theme, then the next: what the player takes
        for frame in source.frames("steps"):
            builder.add(frame)
    name = scene.stem + PLAYER_SUFFIX
    with atomic_write(out / name, "w") as handle:
        handle.write(player_page(builder.player(), image=image))
    return name


# the player page tells the gallery how tall it is, so its <iframe> fits it (a file:// page cannot be read
# across frames, a message can); the gallery page sizes the frame that sent it
PLAYER_PAGE_JS = """\
(function(){if(window.parent===window)return;var last=-1;
function post(){var h=Math.ceil(document.body.getBoundingClientRect().height);
  if(h!==last){last=h;window.parent.postMessage({convgifPlayerHeight:h},"*");}}
if(window.ResizeObserver)new ResizeObserver(post).observe(document.body);post();})();
"""
GALLERY_JS = """\
window.addEventListener("message",function(ev){var d=ev.data;
  if(!d||typeof d.convgifPlayerHeight!=="number"||!(d.convgifPlayerHeight>0))return;
  var frames=document.querySelectorAll("iframe.player");
  for(var i=0;i<frames.length;i++){if(frames[i].contentWindow===ev.source){
    frames[i].style.height=Math.min(d.convgifPlayerHeight,20000)+"px";return;}}});
"""


def player_page(player, *, image: str) -> str:
    """The page an <iframe> of the gallery shows: the player fragment on a transparent page (the card is around
    it), the GIF for readers without scripts, and the height message."""
    deck = player.deck
    height, width = player.size
    return f"""<!doctype html>
<html lang="{_e(deck.language)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="convgif gallery">
<title>{_e(player.word("{title}: step player").format(title=deck.title))}</title>
<link rel="icon" href="data:,">
<style>html, body {{ margin: 0; background: transparent; }} body {{ padding: 3px; }}
.cgp {{ margin: 0 !important; }} noscript img {{ display: block; max-width: 100%; height: auto; }}</style>
</head><body>
{player.fragment()}<noscript><img src="{_e(image)}" width="{width}" height="{height}" alt="{_e(deck.alt)}"></noscript>
<script>{PLAYER_PAGE_JS}</script>
</body></html>
"""


def build_gallery(paths: Iterable[str | os.PathLike[str]], out_dir: str | os.PathLike[str], *,
                  render_all: bool = False, jobs: int = 1, title: str = "convgif gallery",
                  progress: Progress | None = None) -> GalleryResult:
    """Render what is missing or stale (everything with `render_all`) into `out_dir`, then write the page.

    A scene is fresh when the output folder's manifest (`convgif.build_cache`) holds its page files under the
    scene's fingerprint and they are as written; a picture `convgif render` left up to date is reused.
    """
    files = scene_files(paths)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cache = BuildCache(out, force=render_all)
    prints = {path: source_fingerprint(path, GALLERY_PRODUCT) for path in files}
    page_print = output_fingerprint(json.dumps([title, [[str(path), prints[path]] for path in files]]), INDEX_KEY)
    page = cache.fresh(INDEX_KEY, page_print)
    if page is not None and all(cache.fresh(f"{path.stem}|{GALLERY_PRODUCT}", prints[path]) for path in files):
        # nothing changed since the page was written: no scene is loaded, nothing is written
        for path in files:
            if progress:
                progress(str(path), "fresh")
        entries = tuple(_entry_from_json(entry) for entry in page["entries"])
        return GalleryResult(index=out / INDEX_NAME, entries=entries, rendered=0, fresh=len(files), failed=0)

    from convgif.alt import alt_text
    from convgif.encode.atomic import atomic_write
    from convgif.scene import load_scene, read_document

    loaded: list[tuple[Path, str, Any, dict, str | None]] = []  # (path, text, scene, document, error)
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            loaded.append((path, text, load_scene(path), read_document(path), None))
        except SceneError as error:
            loaded.append((path, text, None, {}, "\n".join(error.lines())))

    todo: list[Path] = []
    for path, text, scene, _, error in loaded:
        if scene is None:
            continue
        if cache.fresh(f"{scene.stem}|{GALLERY_PRODUCT}", prints[path]) is None:
            todo.append(path)

    outcomes: dict[str, dict[str, Any]] = {}
    try:
        if jobs > 1 and len(todo) > 1:
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(max_workers=min(jobs, len(todo))) as pool:
                for path, outcome in zip(todo, pool.map(_render, map(str, todo), [str(out)] * len(todo),
                                                        [render_all] * len(todo))):
                    outcomes[str(path)] = outcome
                    cache.merge(outcome.get("records") or {})
                    if progress:
                        progress(str(path), "failed" if outcome["error"] else "rendered")
        else:
            for path in todo:
                outcomes[str(path)] = outcome = _render(str(path), str(out), render_all)
                cache.merge(outcome.get("records") or {})
                if progress:
                    progress(str(path), "failed" if outcome["error"] else "rendered")
    finally:
        cache.save()  # what was drawn before an interruption is reused next time

    entries: list[GalleryEntry] = []
    rendered = fresh = failed = 0
    for path, text, scene, document, error in loaded:
        stem = scene.stem if scene is not None else path.stem
        description = scene.description if scene is not None else None
        common = dict(source=str(path), stem=stem, row=catalogue_row(scene.catalogue if scene else (), path.stem),
                      title=(scene.title if scene is not None else None) or path.stem,
                      description=description, source_text=text)
        if scene is None:
            failed += 1
            if progress:
                progress(str(path), "failed")
            entries.append(GalleryEntry(**common, image=None, image_size=None, frames=None, parameters=(),
                                        formula=(), params=None, macs=None, error=error))
            continue
        if str(path) in outcomes:
            outcome = outcomes[str(path)]
            if outcome["error"]:
                failed += 1
                cache.outputs.pop(f"{stem}|{GALLERY_PRODUCT}", None)
                entries.append(GalleryEntry(**common, image=None, image_size=None, frames=None, parameters=(),
                                            formula=(), params=None, macs=None, error=outcome["error"]))
                continue
            rendered += 1
            facts = {key: outcome[key] for key in ("image", "player", "dark", "frames", "size") if outcome.get(key)}
            cache.record(f"{stem}|{GALLERY_PRODUCT}", prints[path],
                         [out / facts[key] for key in ("image", "player", "dark") if facts.get(key)], **facts)
        else:
            fresh += 1
            if progress:
                progress(str(path), "fresh")
        record = cache.outputs[f"{stem}|{GALLERY_PRODUCT}"]
        size = tuple(record["size"]) if record.get("size") else None
        entries.append(GalleryEntry(**common, image=record["image"], image_size=size, frames=record.get("frames"),
                                    alt=alt_text(scene), player=record.get("player"), dark_image=record.get("dark"),
                                    **_describe(scene, document)))

    fonts = _copy_cjk_fonts(out) if any(_has_cjk(_entry_text(entry)) for entry in entries) else ()
    index = out / INDEX_NAME
    with atomic_write(index, "w") as handle:
        handle.write(gallery_html(entries, title=title, fonts=fonts))
    if not failed:  # a page with a failed scene is made again next time, so its errors are reported again
        cache.record(INDEX_KEY, page_print, [index, *(out / url for _, url in fonts)],
                     entries=[dataclasses.asdict(entry) for entry in entries])
    else:
        cache.outputs.pop(INDEX_KEY, None)
    cache.save()
    return GalleryResult(index=index, entries=tuple(entries), rendered=rendered, fresh=fresh, failed=failed)


def _entry_from_json(data: dict) -> GalleryEntry:
    """A GalleryEntry as the manifest keeps it (JSON: its tuples as lists)."""
    data = dict(data)
    data["parameters"] = tuple(tuple(pair) for pair in data["parameters"])
    data["formula"] = tuple(data["formula"])
    data["image_size"] = tuple(data["image_size"]) if data.get("image_size") else None
    return GalleryEntry(**data)


# ---- Chinese text on machines without a CJK font ---------------------------------------------------

_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")
# what the shipped font is used for in the page (everything else stays in the reader's own fonts)
CJK_UNICODE_RANGE = "U+2E80-9FFF, U+F900-FAFF, U+FF00-FFEF"


def _has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def _entry_text(entry: GalleryEntry) -> str:
    return " ".join(filter(None, (entry.title, entry.description, entry.source_text, entry.error)))


def _copy_cjk_fonts(out: Path) -> tuple[tuple[str, str], ...]:
    """Copy the Noto Sans CJK SC subset the frames use (and its OFL licence) to `out/fonts/`, so Chinese
    text in the page has glyphs offline; returns (weight, relative url) pairs, () if the font is absent."""
    import shutil

    from convgif.render.fonts import CJK_FILES, FONT_DIR

    faces = []
    (out / "fonts").mkdir(exist_ok=True)
    for bold, name in sorted(CJK_FILES.items()):
        source = FONT_DIR / name
        if not source.is_file():
            return ()
        target = out / "fonts" / name
        if not target.is_file() or target.stat().st_size != source.stat().st_size:
            shutil.copyfile(source, target)
        faces.append(("bold" if bold else "normal", f"fonts/{name}"))
    licence = FONT_DIR / "OFL.txt"
    if licence.is_file():
        shutil.copyfile(licence, out / "fonts" / "OFL.txt")
    return tuple(faces)


# ---- the page ------------------------------------------------------------------------------------

_CSS = """
:root { color-scheme: light dark; --bg: #fafafa; --card: #fff; --ink: #1d1d1f; --muted: #5f6368;
  --line: #e3e3e6; --accent: #0b63c5; --code: #f3f4f6; --bad: #b3261e; }
@media (prefers-color-scheme: dark) { :root { --bg: #16181c; --card: #1f2227; --ink: #e8e8ea;
  --muted: #a0a4ab; --line: #33373e; --accent: #7ab4ff; --code: #262a30; --bad: #ff8a80; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 16px/1.5 "convgif CJK", system-ui, -apple-system, "Segoe UI", "Noto Sans", sans-serif; }
header, main, footer { max-width: 1560px; margin: 0 auto; padding: 0 20px; }
header h1 { margin: 28px 0 4px; font-size: 1.8rem; }
header p { margin: 0 0 12px; color: var(--muted); }
nav { display: flex; flex-wrap: wrap; gap: 6px; margin: 0 0 20px; }
nav a { padding: 2px 9px; border: 1px solid var(--line); border-radius: 999px; color: var(--accent);
  text-decoration: none; font-size: .9rem; background: var(--card); }
section.row { margin: 0 0 28px; }
section.row > h2 { font-size: 1.1rem; margin: 0 0 10px; color: var(--muted); font-weight: 600; }
.cards { display: grid; gap: 18px; grid-template-columns: repeat(auto-fill, minmax(min(100%, 520px), 1fr)); }
article { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px;
  min-width: 0; }
article h3 { margin: 0 0 6px; font-size: 1.1rem; }
.badge { display: inline-block; padding: 0 7px; margin-right: 4px; border-radius: 5px; font-size: .8rem;
  vertical-align: 2px; background: var(--accent); color: var(--card); scroll-margin-top: 12px; }
article h3 code { font-size: .8rem; color: var(--muted); font-weight: normal; }
figure { margin: 0 0 10px; }
figure img { display: block; width: 100%; height: auto; border-radius: 6px; border: 1px solid var(--line); }
figure.player { container-type: inline-size; }
iframe.player { display: block; width: 100%; border: 0; color-scheme: light dark;
  height: calc(100cqw * var(--h) / var(--w) + CHROMEpx); }
figcaption.files { font-size: .85rem; color: var(--muted); margin-top: 2px; }
figcaption.files a { color: var(--accent); }
.description { margin: 0 0 10px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0 0 10px;
  font-size: .9rem; }
dt { color: var(--muted); } dd { margin: 0; overflow-wrap: anywhere; }
code, pre { font-family: "convgif CJK", ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.formula { background: var(--code); border-radius: 6px; padding: 6px 10px; margin: 0 0 10px;
  font-size: .85rem; overflow-x: auto; }
.formula code { display: block; white-space: pre; }
details summary { cursor: pointer; color: var(--accent); font-size: .9rem; }
pre.source { background: var(--code); border-radius: 6px; padding: 10px; overflow-x: auto;
  font-size: .8rem; line-height: 1.4; }
.error { color: var(--bad); white-space: pre-wrap; font-size: .85rem; }
footer { color: var(--muted); font-size: .85rem; padding-bottom: 30px; }
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


PLAYER_CHROME_PX = 130  # the player's controls and step text under its picture, before the frame reports its height
PLAYER_GUESS_PX = 720


def _card(entry: GalleryEntry, *, anchor: str | None = None) -> str:
    badge_id = f' id="{_e(anchor)}"' if anchor else ""
    parts = [f'<article id="{_e(entry.stem)}">',
             f'<h3><span class="badge"{badge_id}>{_e(entry.row)}</span> {_e(entry.title)} '
             f'<code>{_e(Path(entry.source).name)}</code></h3>']
    alt = entry.alt or entry.title
    if entry.image and entry.player:
        width, height = entry.image_size or (PLAYER_GUESS_PX, PLAYER_GUESS_PX)
        # sized before it loads (the picture's aspect plus the controls' height), then to the height it reports
        parts.append(f'<figure class="player" style="--w:{width};--h:{height}">'
                     f'<iframe class="player" src="{_e(entry.player)}" title="{_e(alt)}" loading="lazy" '
                     f'width="{width}" height="{height + PLAYER_CHROME_PX}"></iframe>'
                     f'<figcaption class="files"><a href="{_e(entry.player)}">player on its own page</a> · '
                     f'<a href="{_e(entry.image)}">GIF</a></figcaption></figure>')
    elif entry.image:
        width, height = entry.image_size or ("", "")
        img = f'<img src="{_e(entry.image)}" width="{width}" height="{height}" alt="{_e(alt)}" loading="lazy">'
        if entry.dark_image:
            img = (f'<picture><source media="(prefers-color-scheme: dark)" srcset="{_e(entry.dark_image)}">'
                   f"{img}</picture>")
        parts.append(f"<figure>{img}</figure>")
    if entry.description:
        parts.append(f'<p class="description">{_e(entry.description)}</p>')
    if entry.error:
        parts.append(f'<p class="error">{_e(entry.error)}</p>')
    facts = list(entry.parameters)
    if entry.params is not None:
        facts.append(("parameters", f"{entry.params:,}"))
    if entry.comparisons:  # a max pool: it compares, it does not multiply
        facts.append(("comparisons", f"{entry.comparisons:,}"))
    elif entry.macs is not None:
        facts.append(("multiply-adds", f"{entry.macs:,}"))
    if entry.frames is not None:
        facts.append(("frames", str(entry.frames)))
    if facts:
        parts.append("<dl>" + "".join(f"<dt>{_e(k)}</dt><dd><code>{_e(v)}</code></dd>" for k, v in facts)
                     + "</dl>")
    if entry.formula:
        parts.append('<div class="formula" title="output size">'
                     + "".join(f"<code>{_e(line)}</code>" for line in entry.formula) + "</div>")
    parts.append(f'<details><summary>Scene source</summary><pre class="source"><code>{_e(entry.source_text)}'
                 "</code></pre></details>")
    parts.append("</article>")
    return "\n".join(parts)


def gallery_html(entries: Iterable[GalleryEntry], *, title: str = "convgif gallery",
                 fonts: tuple[tuple[str, str], ...] = ()) -> str:
    """The whole page as one string: inline CSS, one small script (it fits each player's frame to the height the
    player reports), relative image, player and font links.

    `fonts`: (weight, url) of a CJK font face; used only for CJK characters (its unicode-range)."""
    from convgif import __version__

    font_faces = "".join(
        f'@font-face {{ font-family: "convgif CJK"; font-weight: {weight}; src: url("{_e(url)}") '
        f"format(\"truetype\"); unicode-range: {CJK_UNICODE_RANGE}; }}\n" for weight, url in fonts)

    entries = list(entries)
    rows: dict[str, list[GalleryEntry]] = {}
    for entry in entries:
        rows.setdefault(entry.row, []).append(entry)
    order = sorted(rows, key=_row_order)
    count = sum(len(v) for v in rows.values())
    nav = "".join(f'<a href="#row-{_e(row)}">{_e(row)}</a>' for row in order)
    # one grid per catalogue letter (rows hold one to four scenes: a grid per row would leave gaps);
    # each card names its row, and the first card of a row is the row's anchor
    letters: dict[str, list[str]] = {}
    for row in order:
        letter = row[0] if _row_order(row)[0] == 0 else "other"
        cards = [_card(entry, anchor=f"row-{row}" if i == 0 else None) for i, entry in enumerate(rows[row])]
        letters.setdefault(letter, []).extend(cards)
    sections = "\n".join(
        f'<section class="row" id="part-{_e(letter)}"><h2>Catalogue {_e(letter)}</h2><div class="cards">\n'
        + "\n".join(cards) + "\n</div></section>"
        for letter, cards in letters.items()
    )
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n"
        # an empty inline icon: otherwise browsers ask the server for /favicon.ico and log a 404
        '<link rel="icon" href="data:,">\n'
        f"<style>{font_faces}{_CSS.replace('CHROMEpx', f'{PLAYER_CHROME_PX}px')}</style>\n"
        # in the head: listening before the first player frame exists, whose message may come before the body ends
        + (f"<script>{GALLERY_JS}</script>\n" if any(entry.player for entry in entries) else "")
        + "</head><body>\n"
        f"<header><h1>{_e(title)}</h1><p>{count} scene(s), grouped by catalogue row. Every image was "
        "drawn by convgif from the scene source shown under it.</p>\n"
        f"<nav>{nav}</nav></header>\n<main>\n{sections}\n</main>\n"
        f"<footer>Made with convgif {_e(__version__)}: <code>convgif gallery SCENES -o OUTPUT</code>.</footer>\n"
        + "</body></html>\n"
    )
