"""`convgif explore`: every combination of some scene keys, rendered once, behind one offline page of controls.

`explore(scene_path, varies, out_dir)` takes a scene file and `--vary KEY=V1,V2,...` sweeps (dotted scene keys:
`op.stride`, `op.padding`, `input.shape`, `ops[1].kernel_size`, ...). Each combination is a scene document of its
own, validated as `convgif check` validates a file: a combination the engine (and torch) refuses keeps its one-line
reasons, and the page says why it is unavailable. The others are rendered as step players (the `html` format) in
parallel, each under the name of its content's hash (the variant's document and the convgif package): a second run
renders only what changed, and variants shared by two sweeps are drawn once.

`DIR/index.html` works offline from the file system: one control per varied key, the matching variant's player in
a frame that loads only when shown, the output-size formula with its numbers, the shapes, parameters and
multiply-adds.
"""

from __future__ import annotations

import copy
import hashlib
import html
import itertools
import json
import os
import re
import shutil
import time
import tomllib
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from convgif.build_cache import package_digest
from convgif.encode.atomic import atomic_write
from convgif.engine.notation import typeset
from convgif.errors import SceneError, UsageError

VARIANTS = "variants"  # the folder of rendered variants in the explorer's folder
MAX_VARIANTS = 100_000
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[\d+\])?(\.[A-Za-z_][A-Za-z0-9_]*(\[\d+\])?)*$")


@dataclass(frozen=True, slots=True)
class Vary:
    """One `--vary KEY=V1,V2,...`: a dotted scene key and the values it takes, in the order given."""

    key: str
    values: tuple[Any, ...]

    @classmethod
    def parse(cls, text: str) -> Vary:
        """`op.stride=1,2`, `input.shape=[1,5,5],[1,7,7]`, `op.padding=0,1,"same"`: each value is read as a TOML
        value (a bare word as a string); commas inside brackets belong to the value."""
        key, sep, rest = text.partition("=")
        key = key.strip()
        if not sep or not _KEY.match(key):
            raise UsageError(f"--vary {text!r}: expected KEY=V1,V2,... with a dotted scene key (op.stride=1,2)")
        values = tuple(_value(item) for item in _split_values(rest))
        if not values:
            raise UsageError(f"--vary {text!r}: give at least one value after '='")
        if len(set(map(_canonical, values))) != len(values):
            raise UsageError(f"--vary {text!r}: a value is given twice")
        return cls(key, values)


def _split_values(text: str) -> list[str]:
    items, depth, current = [], 0, ""
    for char in text:
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        if char == "," and depth == 0:
            items.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        items.append(current.strip())
    return items


def _value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text  # a bare word: a string ("same", "max_pool2d")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def value_label(value: Any) -> str:
    """How a control shows a value: `2`, `[1, 2]`, `same`."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + ", ".join(map(value_label, value)) + "]"
    return json.dumps(value)


def set_key(document: dict, key: str, value: Any) -> None:
    """Set dotted `key` (`op.stride`, `ops[1].padding`) in `document`, creating missing tables."""
    parts = key.split(".")
    table: Any = document
    for depth, part in enumerate(parts):
        name, _, index = part.partition("[")
        last = depth == len(parts) - 1
        if index:
            array = table.get(name)
            position = int(index.rstrip("]"))
            if not isinstance(array, list) or position >= len(array):
                raise UsageError(f"--vary {key}: the scene has no {name}[{position}]")
            if last:
                array[position] = value
                return
            table = array[position]
        elif last:
            table[name] = value
        else:
            table = table.setdefault(name, {})
            if not isinstance(table, dict):
                raise UsageError(f"--vary {key}: {name} is not a table in the scene")


@dataclass
class Variant:
    """One combination: its values, its document, and either its rendered file's name or why it is refused."""

    values: tuple[Any, ...]
    document: dict
    digest: str = ""
    refused: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def file(self) -> str:
        return f"{VARIANTS}/{self.digest}.html"


@dataclass(frozen=True, slots=True)
class ExploreResult:
    page: Path
    variants: int
    rendered: int
    cached: int
    refused: int
    seconds: float


def variant_digest(document: dict, base_dir: Path) -> str:
    """The content address of a variant: its document, the bytes of the images it reads, and the package."""
    digest = hashlib.sha256(package_digest().encode() + b"\0" + _canonical(document).encode())
    for image in _images(document):
        path = Path(image) if os.path.isabs(image) else base_dir / image
        try:
            digest.update(b"\0" + hashlib.sha256(path.read_bytes()).digest())
        except OSError:
            digest.update(b"\0missing")
    return digest.hexdigest()[:32]


def _images(value: Any) -> Iterable[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "image" and isinstance(item, str):
                yield item
            else:
                yield from _images(item)
    elif isinstance(value, list):
        for item in value:
            yield from _images(item)


def plan(scene_path: str | os.PathLike, varies: list[Vary], out_dir: Path) -> tuple[dict, list[Variant]]:
    """The base document and every combination of `varies`, validated as `convgif check` validates a file
    (refused ones with its lines); a variant already drawn in `out_dir` is not measured for drawing again."""
    from convgif.pipeline import check_drawable
    from convgif.scene import parse_scene
    from convgif.scene.load import read_document

    path = Path(scene_path)
    base = read_document(path)
    if "op" not in base and "ops" not in base:
        raise UsageError(f"{path}: explore sweeps an operation's keys; a still scene has none")
    keys = [vary.key for vary in varies]
    if len(set(keys)) != len(keys):
        raise UsageError("--vary: a key is given twice")
    count = 1
    for vary in varies:
        count *= len(vary.values)
    if count > MAX_VARIANTS:
        raise UsageError(f"--vary: {count} combinations, more than {MAX_VARIANTS}")
    variants = []
    for values in itertools.product(*(vary.values for vary in varies)):
        document = copy.deepcopy(base)
        for vary, value in zip(varies, values):
            set_key(document, vary.key, value)
        document.pop("explore", None)  # a variant is one scene, not a sweep
        document.setdefault("output", {})["formats"] = ["html"]
        # the variant's own title; the base scene's description would name the base scene's values
        document["title"] = f"{base.get('title') or path.stem}: " + ", ".join(
            f"{vary.key.rsplit('.', 1)[-1]} {value_label(value)}" for vary, value in zip(varies, values))
        document.pop("description", None)
        variant = Variant(values, document)
        try:
            scene = parse_scene(document, str(path))
            variant.digest = variant_digest(document, path.resolve().parent)
            if not (out_dir / variant.file).is_file():  # one drawn before was drawable
                check_drawable(scene)
        except SceneError as error:
            variant.refused, variant.digest = error.lines(), ""
        else:
            variant.facts = _facts(scene)
        variants.append(variant)
    return base, variants


def _facts(scene) -> dict[str, Any]:
    info = scene.info()
    plain = {key: json.loads(json.dumps(value, default=list)) for key, value in info.items()
             if value is not None and key in ("input_shape", "output_shape", "weight_shape", "params", "macs",
                                               "stages")}
    formula = info.get("formula")
    if formula:
        plain["formula"] = [typeset(part) for part in formula.split("; ")]
    return plain


def _render_one(job: tuple[dict, str, str]) -> str:
    """Render one variant's player into the variants folder (a worker process); returns its digest."""
    from convgif.pipeline import render_scene
    from convgif.scene import parse_scene

    document, source, target = job
    target_path = Path(target)
    part = target_path.parent / f".{target_path.stem}.part"  # its own folder: every variant has the scene's stem
    shutil.rmtree(part, ignore_errors=True)
    render_scene(parse_scene(document, source), part)
    produced = part / f"{Path(source).stem}.html"
    height = re.search(r'height="(\d+)" role="img"', produced.read_text(encoding="utf-8"))
    with atomic_write(target_path.with_suffix(".json")) as file:  # the page sizes the variant's frame by it
        file.write(json.dumps({"frame_height": int(height.group(1)) if height else None}).encode())
    os.replace(produced, target_path)  # complete, or not there at all
    shutil.rmtree(part, ignore_errors=True)
    return target_path.stem


def scene_sweep(scene_path: str | os.PathLike) -> list[Vary]:
    """The scene's own `[explore]` table as sweeps (checked like the rest of the file), or a usage error."""
    from convgif.scene import parse_scene
    from convgif.scene.load import read_document

    document = read_document(scene_path)
    parse_scene(document, str(scene_path))  # its problems, [explore]'s among them, as `convgif check` says them
    table = document.get("explore")
    if not table:
        raise UsageError("explore: give at least one --vary KEY=V1,V2,..., or an [explore] table in the scene")
    return [Vary(key, tuple(values)) for key, values in table.items()]


def explore(scene_path: str | os.PathLike, varies: list[Vary], out_dir: str | os.PathLike, *, jobs: int | None = None,
            progress: Callable[[str], None] | None = None) -> ExploreResult:
    """Render every combination of `varies` of the scene at `scene_path` not yet in `out_dir`, then write the page."""
    started = time.perf_counter()
    if not varies:
        varies = scene_sweep(scene_path)
    out = Path(out_dir)
    base, variants = plan(scene_path, varies, out)
    if all(variant.refused for variant in variants):  # a misspelt key, or values none of which run: say so
        raise SceneError(str(scene_path), [("", f"every one of the {len(variants)} combination(s) is refused; the "
                                                 f"first: {variants[0].refused[0].split(': ', 1)[-1]}")])
    (out / VARIANTS).mkdir(parents=True, exist_ok=True)
    wanted = {v.digest: v for v in variants if not v.refused}
    todo = [(v.document, str(scene_path), str(out / v.file)) for digest, v in wanted.items()
            if not (out / v.file).is_file()]
    if todo:
        workers = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
        if workers == 1:
            for job in todo:
                _render_one(job)
                if progress:
                    progress(Path(job[2]).stem)
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                for digest in pool.map(_render_one, todo, chunksize=max(1, len(todo) // (8 * workers))):
                    if progress:
                        progress(digest)
    for variant in wanted.values():
        try:
            sizes = json.loads((out / variant.file).with_suffix(".json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            sizes = {}
        variant.facts["frame_height"] = sizes.get("frame_height")
    page = out / "index.html"
    with atomic_write(page) as file:
        file.write(explorer_page(scene_path, base, varies, variants).encode("utf-8"))
    return ExploreResult(page, len(variants), len(todo), len(wanted) - len(todo),
                         sum(1 for v in variants if v.refused), time.perf_counter() - started)


def explorer_page(scene_path, base: dict, varies: list[Vary], variants: list[Variant]) -> str:
    """The offline page: controls, the matching variant's player (loaded when shown), its facts or refusal."""
    data = {
        "keys": [vary.key for vary in varies],
        "values": [[value_label(v) for v in vary.values] for vary in varies],
        "variants": {",".join(str(vary.values.index(v)) for vary, v in zip(varies, variant.values)):
                     ({"refused": variant.refused} if variant.refused else {"file": variant.file, **variant.facts})
                     for variant in variants},
    }
    title = base.get("title") or Path(scene_path).stem
    controls = []
    for k, vary in enumerate(varies):
        options = "".join(
            f'<label class="option"><input type="radio" name="k{k}" value="{i}"{" checked" if i == 0 else ""}>'
            f'<span>{html.escape(value_label(value))}</span></label>' for i, value in enumerate(vary.values))
        controls.append(f'<fieldset data-key="{k}"><legend>{html.escape(vary.key)}</legend>{options}</fieldset>')
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    return PAGE.format(title=html.escape(title), description=html.escape(base.get("description") or ""),
                       count=len(variants), refused=sum(1 for v in variants if v.refused),
                       controls="\n".join(controls), data=payload)


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}: explorer</title>
<style>
  body {{ font: 15px/1.45 system-ui, sans-serif; margin: 1.5rem auto; max-width: 780px; padding: 0 1rem;
         color: #1a1a1a; background: #fff; }}
  fieldset {{ border: 1px solid #ccc; border-radius: 6px; margin: 0 0 .6rem; padding: .3rem .7rem .5rem; }}
  legend {{ font-family: ui-monospace, monospace; font-weight: 600; }}
  .option {{ display: inline-block; margin: .15rem .8rem .15rem 0; cursor: pointer; }}
  .option.refused span {{ text-decoration: line-through; color: #8a2b06; }}
  #facts {{ font-family: ui-monospace, monospace; font-size: 14px; margin: .8rem 0; }}
  #refused {{ color: #8a2b06; background: #fff4ec; border: 1px solid #e6b89c; border-radius: 6px; padding: .6rem .8rem;
             font-family: ui-monospace, monospace; font-size: 14px; white-space: pre-wrap; }}
  iframe {{ width: 100%; border: 0; min-height: 300px; }}
  @media (prefers-color-scheme: dark) {{
    body {{ color: #ececec; background: #1e1f22; }}
    fieldset {{ border-color: #555; }}
    #refused {{ color: #ffb38a; background: #3a2418; border-color: #7a4a30; }}
  }}
</style>
</head>
<body>
<h1>{title}</h1>
<p>{description}</p>
<p>{count} combinations, {refused} of them refused by the engine (as torch refuses them). Pick a value of each
key; a struck-through value gives a combination that cannot run with the others chosen (hover it for why).</p>
<form id="controls">
{controls}
</form>
<div id="facts" aria-live="polite"></div>
<div id="refused" hidden></div>
<iframe id="player" title="the chosen combination, step by step" loading="lazy"></iframe>
<script id="explore-data" type="application/json">{data}</script>
<script>
(function () {{
  const data = JSON.parse(document.getElementById("explore-data").textContent);
  const form = document.getElementById("controls");
  const player = document.getElementById("player");
  const facts = document.getElementById("facts");
  const refused = document.getElementById("refused");
  const PLAYER_CHROME = 190;  // px the step player's page adds around its frame (title, controls)
  function chosen() {{
    return data.keys.map((_, k) => form.querySelector(`input[name=k${{k}}]:checked`).value);
  }}
  function text(list) {{ return "(" + list.join(", ") + ")"; }}
  function show() {{
    const picks = chosen();
    const key = picks.join(",");
    const variant = data.variants[key];
    document.body.dataset.variant = key;
    form.querySelectorAll("fieldset").forEach((set, k) => {{
      set.querySelectorAll("label.option").forEach((label, i) => {{
        const other = picks.slice(); other[k] = String(i);
        const v = data.variants[other.join(",")];
        label.classList.toggle("refused", Boolean(v.refused));
        label.title = v.refused ? v.refused.join("\\n") : "";
      }});
    }});
    if (variant.refused) {{
      refused.hidden = false;
      refused.textContent = "Unavailable: " + variant.refused.join("\\n");
      facts.textContent = "";
      player.hidden = true;
      player.removeAttribute("src");
      return;
    }}
    refused.hidden = true;
    player.hidden = false;
    const lines = [`input ${{text(variant.input_shape)}} \\u2192 output ${{text(variant.output_shape)}}`];
    if (variant.weight_shape) lines.push(`weight ${{text(variant.weight_shape)}}`);
    lines.push(`${{variant.params}} parameters, ${{variant.macs}} multiply-adds`);
    (variant.stages || []).forEach((stage, k) => lines.push(
      `stage ${{k + 1}}: ${{stage.kind}} \u2192 ${{text(stage.output_shape)}}, ${{stage.params}} parameters, ` +
      `${{stage.macs}} multiply-adds`));
    (variant.formula || []).forEach(f => lines.push(f));
    facts.innerText = lines.join("\\n");
    player.style.height = (variant.frame_height ? variant.frame_height + PLAYER_CHROME : 700) + "px";
    if (player.getAttribute("src") !== variant.file) player.setAttribute("src", variant.file);
  }}
  player.addEventListener("load", () => {{ player.dataset.loaded = player.getAttribute("src") || ""; }});
  form.addEventListener("change", show);
  show();
}})();
</script>
</body>
</html>
"""
