"""The command line: the only place that prints to the terminal or exits."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import get_args

from convgif.errors import ConvgifError, SceneError, UsageError


def _scene_paths(paths: list[str]) -> list[Path]:
    """Expand directories to their *.toml files (sorted); a missing path is a usage error."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(path.glob("*.toml")))
        elif path.exists():
            found.append(path)
        else:
            raise UsageError(f"{raw}: no such file or directory")
    if not found:
        raise UsageError(f"no scene files (*.toml) in {' '.join(paths)}")
    return found


def _writable_folder(raw: str) -> Path:
    """The output folder, created if missing; one clear UsageError (exit 2) when it cannot be written to, before
    any scene is rendered (instead of the same OS error once per scene)."""
    path = Path(raw)
    if path.exists() and not path.is_dir():
        raise UsageError(f"-o {raw}: is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"-o {raw}: cannot create the output folder ({error.strerror or error})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(f"-o {raw}: the output folder is not writable")
    return path


def _output_overrides(args: argparse.Namespace) -> dict[str, dict]:
    """Scene keys the output flags replace, by table: --format -> output.formats, --width -> render.width,
    --aspect -> render.aspect (and render.width, unless --width gives it), --dpi -> output.dpi. Format names are checked here, so a typo fails once, before any scene is read."""
    overrides: dict[str, dict] = {}
    if args.format:
        from convgif.formats import output_format

        names = [name.strip() for value in args.format for name in value.split(",") if name.strip()]
        for name in names:
            output_format(name)  # UnknownFormatError (exit 2) with a suggestion
        overrides.setdefault("output", {})["formats"] = list(dict.fromkeys(names))
    if args.width is not None:
        overrides.setdefault("render", {})["width"] = args.width
    if getattr(args, "aspect", None) is not None:
        from convgif.scene.spec import ASPECT_WIDTHS

        overrides.setdefault("render", {})["aspect"] = args.aspect
        if args.width is None:  # slides: the aspect's own width (1280 for 16:9), not the file's blog column
            overrides["render"]["width"] = ASPECT_WIDTHS.get(args.aspect, 720)
    if args.theme is not None:
        overrides.setdefault("render", {})["theme"] = args.theme
    if args.dpi is not None:
        overrides.setdefault("output", {})["dpi"] = args.dpi
    if getattr(args, "quiz", False):
        overrides.setdefault("render", {})["quiz"] = True
    if getattr(args, "variants", None) is not None:
        _check_variants(args.variants, overrides.get("output", {}).get("formats"))
        overrides.setdefault("output", {})["variants"] = args.variants
    return overrides


def _check_variants(count: int, formats: list[str] | None) -> None:
    """--variants: a count the worksheet can print, and only with a format that makes variants (one line, exit 2,
    before any scene is read)."""
    from convgif.formats import format_names, output_format
    from convgif.scene.spec import MAX_VARIANTS

    if not 1 <= count <= MAX_VARIANTS:
        raise UsageError(f"--variants {count}: must be from 1 to {MAX_VARIANTS}")
    takers = [name for name in format_names() if output_format(name).frames == "variants"]
    if not any(name in takers for name in formats or ()):
        raise UsageError(f"--variants is for --format {' or '.join(takers)}"
                         + (f", not {','.join(formats)}" if formats else " (no --format given)"))


def _load_for_render(path: str, max_frames: int | None, overrides: dict[str, dict] | None = None):
    """The scene at `path`, with `--max-frames` (when given) replacing its render.max_frames and the output
    flags (`overrides`) their keys; the replaced values are validated like the file's own."""
    from convgif.scene import load_scene, parse_scene, read_document

    if max_frames is None and not overrides:
        return load_scene(path)
    document = read_document(path)
    tables = {table: dict(values) for table, values in (overrides or {}).items()}
    if max_frames is not None:
        tables.setdefault("render", {})["max_frames"] = max_frames
    for table, values in tables.items():
        section = document.setdefault(table, {})
        if isinstance(section, dict):  # anything else is reported by validation, with its key
            section.update(values)
    return parse_scene(document, path)


def _render_one(path: str, out_dir: str, show_progress: bool, max_frames: int | None = None,
                overrides: dict[str, dict] | None = None, reuse: bool | None = None):
    """Load and render one scene; returns (path, result or None, exit code, error lines).

    `reuse`: True reuses outputs the folder's manifest holds up to date, False (--force) renders them again (both
    record what is written), None (--check-output) keeps no manifest."""
    try:
        source_print = None
        if reuse is not None and max_frames is None and not overrides:  # the scene is the file as it is
            from convgif.build_cache import RENDER_PRODUCT, BuildCache, source_fingerprint

            try:
                source_print = source_fingerprint(path, RENDER_PRODUCT)
            except OSError:  # unreadable: loading it says so, with its one-line error
                pass
            if reuse and source_print:
                done = BuildCache(out_dir).reused_render(source_print)
                if done is not None:  # up to date, judged without loading the scene (no pydantic, no NumPy)
                    return path, _UpToDate(path, out_dir, done), 0, []
        from convgif.pipeline import render_scene

        scene = _load_for_render(path, max_frames, overrides)
        bar = None
        if show_progress:
            from tqdm import tqdm

            bar = tqdm(total=1, desc=Path(path).stem, unit="frame", leave=False, file=sys.stderr)

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.n = done
                bar.refresh()
        else:
            progress = None
        try:
            cache = None
            if reuse is not None:
                from convgif.build_cache import BuildCache

                cache = BuildCache(out_dir, force=not reuse)
            result = render_scene(scene, out_dir, progress=progress, cache=cache, source_print=source_print)
        finally:
            if bar is not None:
                bar.close()
        return path, result, 0, []
    except SceneError as error:
        return path, None, error.exit_code, error.lines()
    except ConvgifError as error:
        return path, None, error.exit_code, [f"{path}: {error}"]
    except KeyboardInterrupt:
        raise
    except Exception as error:  # a bug: report it on one line, keep going with the other scenes
        return path, None, 1, [f"{path}: internal error: {type(error).__name__}: {error}"]


class _UpToDate:
    """A render whose outputs the manifest holds up to date for the scene file as it is (see
    `BuildCache.reused_render`): read as a `pipeline.RenderResult` with `reused` set, without importing the pipeline."""

    reused, records, seconds = True, None, 0.0

    def __init__(self, path: str, out_dir: str, done: dict):
        self.scene, self.paths = path, tuple(done["paths"])
        self.path = self.paths[0] if self.paths else Path(out_dir)
        self.frames, self.bytes = done["frames"], done["bytes"]


def _estimated_frames(path: str) -> int:
    """A scene's frame count, to start the longest renders first (0 when it does not load: it fails fast)."""
    from convgif.scene import load_scene

    try:
        return load_scene(path).info().get("frames") or 1
    except Exception:
        return 0


def _worker_init() -> None:
    # Idle workers ignore Ctrl-C (no traceback from their queue loop); _render_in_worker re-arms it per scene.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _render_in_worker(path: str, out_dir: str, max_frames: int | None, overrides: dict[str, dict] | None = None,
                      reuse: bool | None = None):
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return _render_one(path, out_dir, False, max_frames, overrides, reuse)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _render_parallel(paths: list[str], out_dir: str, jobs: int, max_frames: int | None = None,
                     overrides: dict[str, dict] | None = None, reuse: bool | None = None):
    """Render in `jobs` processes, longest scenes first; outcomes come back in `paths` order.

    On Ctrl-C the running workers are interrupted too (their partial files are removed) and queued scenes
    are dropped; a worker that dies (e.g. killed for memory) fails its scene, not the batch.
    """
    from concurrent.futures import ProcessPoolExecutor

    order = sorted(paths, key=_estimated_frames, reverse=True)
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init)
    try:
        futures = {path: pool.submit(_render_in_worker, path, out_dir, max_frames, overrides, reuse)
                   for path in order}
        for path in paths:
            try:
                yield futures[path].result()
            except Exception as error:  # BrokenProcessPool and the like: this scene failed, report it
                yield path, None, 1, [f"{path}: internal error: {type(error).__name__}: {error}"]
    except BaseException:
        # A Ctrl-C from a terminal reaches the workers itself; a SIGINT sent to this process alone does not.
        for process in list((pool._processes or {}).values()):  # no public API lists the worker processes
            if process.is_alive():
                os.kill(process.pid, signal.SIGINT)
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _outcomes(paths: list[str], out_dir: str, args: argparse.Namespace, reuse: bool | None = None):
    """(path, result, code, lines) for each scene, in `paths` order, rendered with -j workers."""
    jobs = max(1, min(args.jobs, len(paths)))
    overrides = _output_overrides(args)
    if jobs == 1:
        show_progress = not args.quiet and sys.stderr.isatty()
        return (_render_one(p, out_dir, show_progress, args.max_frames, overrides, reuse) for p in paths)
    return _render_parallel(paths, out_dir, jobs, args.max_frames, overrides, reuse)


def cmd_render(args: argparse.Namespace) -> int:
    paths = [str(p) for p in _scene_paths(args.paths)]
    if args.check_output:
        return _check_output(paths, args)
    from convgif.encode.atomic import clean_dead_parts

    _writable_folder(args.output)
    for removed in clean_dead_parts(args.output):  # left by a killed run (a live run's files stay)
        if not args.quiet:
            print(f"removed {removed} (left by an interrupted run)")
    from convgif.build_cache import BuildCache

    cache = BuildCache(args.output)  # the folder's manifest: each render's records are merged here and saved once
    worst, rendered, reused, frames, size, failures = 0, 0, 0, 0, 0, []
    outcomes = _outcomes(paths, args.output, args, reuse=not args.force)
    try:
        for path, result, code, lines in outcomes:
            if result is not None:
                cache.merge(result.records or {})
                reused += result.reused
                rendered += not result.reused
                frames += 0 if result.reused else result.frames
                size += 0 if result.reused else result.bytes
                if not args.quiet:
                    shown = "  ".join(str(p) for p in result.paths)
                    if result.reused:
                        print(f"{shown}  up to date")
                    else:
                        print(f"{shown}  {result.frames} frames  {result.bytes / 1024:.1f} KiB  "
                              f"{result.seconds:.2f} s")
            else:
                failures.append(path)
                for line in lines:
                    print(line, file=sys.stderr)
                worst = max(worst, code)
    finally:
        if hasattr(outcomes, "close"):
            outcomes.close()  # on Ctrl-C: stop the workers now, not when the generator is collected
        cache.save()  # what was written before a Ctrl-C or a failure is reused next time
    if not args.quiet:
        summary = f"rendered {rendered} of {len(paths)} scene(s): {frames} frames, {size / 1024:.1f} KiB"
        summary += f"; {reused} up to date (not drawn again; --force draws them)" if reused else ""
        print(summary + (f"; {len(failures)} failed: {', '.join(failures)}" if failures else ""))
    return worst


def _check_output(paths: list[str], args: argparse.Namespace) -> int:
    """Render into a temporary folder and compare bytes with the output folder; nothing in it changes.

    Comparing the bytes a render writes (not hashes of the scene files) also catches renderer changes,
    hand-edited or truncated files; renders are byte-deterministic, so any difference means stale.
    """
    import tempfile

    output = Path(args.output)
    stale, missing, failed = [], [], 0
    worst = 0
    with tempfile.TemporaryDirectory(prefix="convgif-check-") as folder:
        for path, result, code, lines in _outcomes(paths, folder, args):
            if result is None:
                failed += 1
                worst = max(worst, code)
                for line in lines:
                    print(line, file=sys.stderr)
                continue
            produced = []
            for fresh in result.paths:  # one per format, then the files a format writes beside its own
                produced += sorted(f for f in fresh.rglob("*") if f.is_file()) if fresh.is_dir() else [fresh]
            for file in produced:
                committed = output / file.relative_to(folder)
                if not committed.is_file():
                    missing.append(committed)
                    print(f"missing: {committed} (from {path})")
                elif committed.read_bytes() != file.read_bytes():
                    stale.append(committed)
                    print(f"stale: {committed} (from {path})")
    if not args.quiet:
        print(f"checked {len(paths)} scene(s) against {output}/: {len(stale)} stale, {len(missing)} missing"
              + (f", {failed} failed" if failed else ""))
    return worst or (1 if stale or missing else 0)


def cmd_check(args: argparse.Namespace) -> int:
    from convgif.pipeline import check_drawable
    from convgif.scene import load_scene

    worst, failed, paths = 0, 0, _scene_paths(args.paths)
    for path in paths:
        try:
            notes = check_drawable(load_scene(str(path)))  # a scene too big to draw fails here, as in `render`
        except SceneError as error:
            for line in error.lines():
                print(line, file=sys.stderr)
            worst, failed = max(worst, error.exit_code), failed + 1
        else:
            if not args.quiet:
                print(f"{path}: ok" + "".join(f"; note: {note}" for note in notes))
    if not args.quiet:
        print(f"checked {len(paths)} scene(s): " + (f"{failed} with problems" if failed else "all valid"))
    return worst


def _plain(value):
    """JSON for info: tuples and arrays as (nested) lists."""
    return value.tolist() if hasattr(value, "tolist") else list(value)


def cmd_info(args: argparse.Namespace) -> int:
    from convgif.scene import load_scene

    paths = [str(p) for p in _scene_paths(args.paths)]
    infos = {}
    for path in paths:
        scene = load_scene(path)
        infos[path] = {key: value for key, value in scene.info().items() if value is not None}
        if args.values:
            values = scene.arrays()
            stages = values.pop("stages", None)  # a chain: each stage's arrays join its info
            infos[path].update(values)
            if stages is not None:
                infos[path]["stages"] = [{**info, **arrays} for info, arrays in zip(infos[path]["stages"], stages)]
    if args.json:
        print(json.dumps(infos[paths[0]] if len(paths) == 1 else infos, indent=2, default=_plain))
        return 0
    for path, info in infos.items():
        if len(paths) > 1:
            print(f"{path}:")
        for key, value in info.items():
            shown = value.tolist() if hasattr(value, "tolist") else value
            print(f"{'  ' if len(paths) > 1 else ''}{key}: {shown}")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from convgif.scene import scene_json_schema

    print(json.dumps(scene_json_schema(), indent=2))
    return 0


def cmd_gallery(args: argparse.Namespace) -> int:
    from convgif.gallery import build_gallery

    _writable_folder(args.output)

    def progress(path: str, outcome: str) -> None:
        if not args.quiet and outcome != "fresh":
            print(f"{outcome:8s} {path}")

    result = build_gallery(args.paths, args.output, render_all=args.all, jobs=max(1, args.jobs),
                           progress=progress)
    for entry in result.entries:
        if entry.error:
            print(entry.error, file=sys.stderr)
    if not args.quiet:
        print(f"{result.index}: {len(result.entries)} scene(s); rendered {result.rendered}, "
              f"up to date {result.fresh}" + (f", {result.failed} failed" if result.failed else ""))
    return 1 if result.failed else 0


def default_jobs() -> int:
    """-j's default: the cores this process may use."""
    count = getattr(os, "process_cpu_count", None)  # Python 3.13+: honours the affinity mask
    if count is None and hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, (count or os.cpu_count)() or 1)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is below 1")
    return value


def _theme_list(text: str) -> str | list[str]:
    """--theme: one name, or several separated by commas (checked with the scene, naming render.theme)."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("no theme given")
    return names[0] if len(names) == 1 else names


class _Deferred:
    """A value the parser needs only to check an argument or print help (theme names, aspect choices), computed on
    first use: building the parser then imports no scene model (pydantic) and no format records, so `convgif gallery`
    or `convgif render` on an up-to-date folder never loads them."""

    def __init__(self, compute):
        self.compute, self.value = compute, None

    def get(self):
        if self.value is None:
            self.value = self.compute()
        return self.value

    def __str__(self) -> str:
        return ", ".join(self.get())

    def __iter__(self):
        return iter(self.get())

    def __contains__(self, item) -> bool:
        return item in self.get()


def _format_names() -> tuple[str, ...]:
    from convgif.formats import format_names

    return format_names()


def _themes() -> tuple[str, ...]:
    from convgif.scene.spec import THEMES

    return tuple(THEMES)


def _aspects() -> tuple[str, ...]:
    from convgif.scene.spec import RenderSpec

    return get_args(RenderSpec.model_fields["aspect"].annotation)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="convgif", description="Scene files to convolution-teaching GIFs.")
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser("render", help="render scene files (a directory means its *.toml)")
    render.add_argument("paths", nargs="+", metavar="PATH")
    render.add_argument("-o", "--output", default="output", metavar="DIR", help="output folder (default: output/)")
    render.add_argument("-j", "--jobs", type=_positive_int, default=default_jobs(), metavar="N",
                        help=f"scenes rendered in parallel (default: the number of cores, {default_jobs()})")
    render.add_argument("--force", action="store_true",
                        help="draw every scene again, even those whose files in the output folder are up to date")
    render.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    render.add_argument("--max-frames", type=_positive_int, default=None, metavar="N",
                        help="allow up to N step frames per GIF (replaces render.max_frames; default 2000)")
    formats = render.add_argument("-f", "--format", action="append", metavar="FMT",
                                  help="output format(s), replacing output.formats: %(formats)s "
                                       "(repeat the flag or separate with commas: --format gif,pdf)")
    formats.formats = _Deferred(_format_names)  # the help's %(formats)s
    theme = render.add_argument("--theme", type=_theme_list, default=None, metavar="THEME[,THEME]",
                                help="colours, replacing render.theme: %(themes)s, several separated by commas "
                                     "(light,dark: <scene>.gif and <scene>.dark.gif), or auto (light and dark)")
    theme.themes = _Deferred(_themes)  # the help's %(themes)s
    render.add_argument("--width", type=int, default=None, metavar="PX",
                        help="frame width in px, replacing render.width (default 720: a blog column; "
                             "1280 with --aspect 16:9, 1024 with 4:3)")
    render.add_argument("--aspect", choices=_Deferred(_aspects), default=None, metavar="ASPECT",
                        help="frame shape, replacing render.aspect: auto (as tall as needed), or 16:9 / 4:3 "
                             "(lecture slides: every frame exactly that shape)")
    render.add_argument("--dpi", type=int, default=None, metavar="DPI",
                        help="print resolution of strip, pdf and svg, replacing output.dpi (default 150)")
    render.add_argument("--quiz", action="store_true",
                        help="exercises (render.quiz = true): each step first with its answers as ?, then with "
                             "them; the html player reveals each answer with a button")
    render.add_argument("--variants", type=int, default=None, metavar="N",
                        help="worksheet exercises, each redrawing the values from its own seed, replacing "
                             "output.variants (default 1; only with --format worksheet)")
    render.add_argument("--check-output", action="store_true",
                        help="write nothing: render to a temporary folder and list files in the output "
                             "folder that are stale or missing (exit 1 if any)")
    render.set_defaults(run=cmd_render)
    embed = commands.add_parser("embed", help="render a scene for a web page and print the HTML that shows it")
    embed.add_argument("path", metavar="SCENE")
    embed.add_argument("-o", "--output", default="output", metavar="DIR",
                       help="where the files go (default: output/); the snippet names them from there")
    embed.add_argument("--base", default=None, metavar="URL",
                       help="what goes before each file name in the snippet (default: the output folder)")
    embed.add_argument("--markdown", action="store_true", help="for a GitHub README: the picture and a caption line")
    embed.add_argument("--video", action="store_true",
                       help="a muted looping <video> (WebM, then MP4), the GIF as its fallback (needs the mp4 extra)")
    embed.set_defaults(run=cmd_embed)
    check = commands.add_parser("check", help="validate scene files only")
    check.add_argument("paths", nargs="+", metavar="PATH")
    check.add_argument("-q", "--quiet", action="store_true", help="print only problems")
    check.set_defaults(run=cmd_check)
    info = commands.add_parser("info", help="shapes, formula, parameters, multiply-adds, frames")
    info.add_argument("paths", nargs="+", metavar="PATH")
    info.add_argument("--json", action="store_true", help="one JSON object (several scenes: keyed by path)")
    info.add_argument("--values", action="store_true",
                      help="also the input, weight, bias and output values (nested lists), to check against torch")
    info.set_defaults(run=cmd_info)
    schema = commands.add_parser("schema", help="print the JSON Schema of the scene format")
    schema.set_defaults(run=cmd_schema)
    gallery = commands.add_parser("gallery", help="render missing or stale scenes and write an HTML gallery page")
    gallery.add_argument("paths", nargs="+", metavar="PATH")
    gallery.add_argument("-o", "--output", default="output", metavar="DIR", help="output folder (default: output/)")
    gallery.add_argument("--force", "--all", dest="all", action="store_true",
                         help="render every scene, even those up to date")
    gallery.add_argument("-j", "--jobs", type=_positive_int, default=default_jobs(), metavar="N",
                         help=f"scenes rendered in parallel (default: the number of cores, {default_jobs()})")
    gallery.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    gallery.set_defaults(run=cmd_gallery)
    explore = commands.add_parser("explore", help="render every combination of some scene keys behind one offline "
                                                  "page of controls")
    explore.add_argument("path", metavar="SCENE")
    explore.add_argument("--vary", action="append", default=[], metavar="KEY=V1,V2,...",
                         help="a dotted scene key and its values, e.g. op.stride=1,2 or input.shape=[1,5,5],[1,7,7] "
                              "(repeat for more keys; default: the scene's [explore] table)")
    explore.add_argument("-o", "--output", required=True, metavar="DIR", help="where index.html and the variants go")
    explore.add_argument("-j", "--jobs", type=_positive_int, default=default_jobs(), metavar="N",
                         help=f"variants rendered in parallel (default: the number of cores, {default_jobs()})")
    explore.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    explore.set_defaults(run=cmd_explore)
    watch = commands.add_parser("watch", help="render scenes whenever they are saved and show them on a local page "
                                              "that updates itself (needs the watch extra)")
    watch.add_argument("paths", nargs="+", metavar="PATH", help="scene files, or folders of them")
    watch.add_argument("-o", "--output", default=None, metavar="DIR",
                       help="also write each render's files here, as `convgif render` would (default: none)")
    watch.add_argument("--open", action="store_true", help="open the page in a web browser")
    watch.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    watch.set_defaults(run=cmd_watch)
    return parser


def cmd_watch(args: argparse.Namespace) -> int:
    """Serve the preview page and render on every save until Ctrl-C, which exits 0 (stopping is the normal end)."""
    from convgif.watch import require_watchfiles, run_watch

    require_watchfiles()  # the install hint (exit 2) before anything starts
    if args.output is not None:
        _writable_folder(args.output)

    def report(line: str, error: bool) -> None:
        print(line, file=sys.stderr if error else sys.stdout, flush=True)

    def started(url: str, count: int) -> None:
        print(f"watching {count} scene(s): {url}  (Ctrl-C stops)", flush=True)

    try:
        run_watch(args.paths, args.output, report=report, port=args.port, open_browser=args.open, started=started)
    except KeyboardInterrupt:
        pass
    return 0


def cmd_explore(args: argparse.Namespace) -> int:
    from convgif.explore import Vary, explore

    result = explore(args.path, [Vary.parse(text) for text in args.vary], _writable_folder(args.output),
                     jobs=args.jobs)
    if not args.quiet:
        print(f"{result.page}: {result.variants} combination(s): {result.rendered} rendered, {result.cached} "
              f"up to date, {result.refused} refused; {result.seconds:.1f} s")
    return 0


def cmd_embed(args: argparse.Namespace) -> int:
    """Render what the snippet names (light and dark; GIF, WebP and the finished picture; --video: WebM and MP4)
    into the output folder, then print the snippet."""
    from convgif.embed import THEMES, embedded, needed_formats, snippet
    from convgif.pipeline import render_scene

    out_dir = _writable_folder(args.output)
    overrides = {"output": {"formats": list(needed_formats(args.video))}, "render": {"theme": list(THEMES)}}
    scene = _load_for_render(args.path, None, overrides)
    render_scene(scene, out_dir)  # a single-picture still: a SceneError (an animation needs several pictures)
    sys.stdout.write(snippet(embedded(scene, out_dir, args.base), video=args.video, markdown=args.markdown))
    return 0


# Set before NumPy and pydantic load (a value the user set is kept):
# - one BLAS thread per process: a scene's matrices are tiny, while OpenBLAS's thread pool costs ~0.1 s of CPU at
#   every start and, with `-j N` workers each starting their own, competes with the drawing for the cores;
# - no pydantic plugins: looking for them reads every installed package's entry points at the first validation
#   (6-15 ms of a render's start), and the scene models use none.
PROCESS_SETTINGS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                    "PYDANTIC_DISABLE_PLUGINS": "__all__"}


def _process_settings() -> None:
    for name, value in PROCESS_SETTINGS.items():
        os.environ.setdefault(name, value)


def main(argv: list[str] | None = None) -> int:
    _process_settings()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except SceneError as error:
        for line in error.lines():
            print(line, file=sys.stderr)
        return error.exit_code
    except ConvgifError as error:
        print(f"convgif: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("convgif: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a bug, not bad input: still one line, no traceback
        print(f"convgif: internal error: {type(error).__name__}: {error} (please report this)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
