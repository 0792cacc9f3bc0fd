"""The command line: the only place that prints to the terminal or exits."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

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


def _render_one(path: str, out_dir: str, show_progress: bool):
    """Load and render one scene; returns (path, result or None, exit code, error lines)."""
    from convgif.pipeline import render_scene
    from convgif.scene import load_scene

    try:
        scene = load_scene(path)
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
            result = render_scene(scene, out_dir, progress=progress)
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


def cmd_render(args: argparse.Namespace) -> int:
    paths = [str(p) for p in _scene_paths(args.paths)]
    jobs = max(1, args.jobs)
    show_progress = jobs == 1 and not args.quiet and sys.stderr.isatty()
    if jobs == 1:
        outcomes = (_render_one(p, args.output, show_progress) for p in paths)
    else:
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(max_workers=jobs)
        outcomes = pool.map(_render_one, paths, [args.output] * len(paths), [False] * len(paths))
    worst, rendered, failed, frames, size = 0, 0, 0, 0, 0
    for path, result, code, lines in outcomes:
        if result is not None:
            rendered += 1
            frames += result.frames
            size += result.bytes
            if not args.quiet:
                print(f"{result.path}  {result.frames} frames  {result.bytes / 1024:.1f} KiB  {result.seconds:.2f} s")
        else:
            failed += 1
            for line in lines:
                print(line, file=sys.stderr)
            worst = max(worst, code)
    if not args.quiet:
        summary = f"rendered {rendered} of {len(paths)} scene(s): {frames} frames, {size / 1024:.1f} KiB"
        print(summary + (f"; {failed} failed" if failed else ""))
    return worst


def cmd_check(args: argparse.Namespace) -> int:
    from convgif.scene import load_scene

    worst = 0
    for path in _scene_paths(args.paths):
        try:
            load_scene(str(path))
        except SceneError as error:
            for line in error.lines():
                print(line, file=sys.stderr)
            worst = max(worst, error.exit_code)
    return worst


def cmd_info(args: argparse.Namespace) -> int:
    from convgif.scene import load_scene

    scene = load_scene(args.path)
    info = scene.info()
    if args.json:
        print(json.dumps(info, indent=2, default=list))
    else:
        for key, value in info.items():
            print(f"{key}: {value}")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from convgif.scene import scene_json_schema

    print(json.dumps(scene_json_schema(), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="convgif", description="Scene files to convolution-teaching GIFs.")
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser("render", help="render scene files (a directory means its *.toml)")
    render.add_argument("paths", nargs="+", metavar="PATH")
    render.add_argument("-o", "--output", default="output", metavar="DIR", help="output folder (default: output/)")
    render.add_argument("-j", "--jobs", type=int, default=1, help="scenes rendered in parallel (default: 1)")
    render.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    render.set_defaults(run=cmd_render)
    check = commands.add_parser("check", help="validate scene files only")
    check.add_argument("paths", nargs="+", metavar="PATH")
    check.set_defaults(run=cmd_check)
    info = commands.add_parser("info", help="shapes, formula, parameters, multiply-adds, frames")
    info.add_argument("path", metavar="PATH")
    info.add_argument("--json", action="store_true")
    info.set_defaults(run=cmd_info)
    schema = commands.add_parser("schema", help="print the JSON Schema of the scene format")
    schema.set_defaults(run=cmd_schema)
    return parser


def main(argv: list[str] | None = None) -> int:
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


if __name__ == "__main__":
    sys.exit(main())
