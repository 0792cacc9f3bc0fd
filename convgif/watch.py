"""`convgif watch`: draw scenes again whenever their files (or the images they use) are saved, in one warm process,
and show them on a page served on 127.0.0.1 that updates itself.

The page hears of each change over Server-Sent Events. A render first publishes its first frame (as soon as it is
drawn, so a save shows on the page within a fraction of a second), then the whole step player; a scene with errors
shows its `FILE: key: message` lines over the last good picture, which stays.
"""

from __future__ import annotations

import dataclasses
import html
import http.server
import io
import json
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from convgif.errors import ConvgifError, MissingExtraError, SceneError, UsageError

Report = Callable[[str, bool], None]  # (line, is_error): the CLI prints it
SAVE_SETTLE_MS = 10  # watchfiles' `step`: a burst of file events (an editor's write, rename) is one save


class _Superseded(Exception):
    """A newer save (or shutdown) came while a render was drawing: it stops, nothing half-written."""


@dataclasses.dataclass(eq=False)
class SceneState:
    """One watched scene as the page sees it. Versions count renders; `first` and `player` name the render whose
    first frame and whole player are shown (the last good ones), `errors` the current render's error lines."""

    path: Path
    number: int
    wanted: int = 0  # the render the latest save asked for
    status: str = "waiting"  # waiting | rendering | ok | error
    errors: list[str] = dataclasses.field(default_factory=list)
    first: int | None = None
    first_picture: bytes | None = None  # the first frame as BMP: no compression to wait for (a PNG took ~30 ms)
    first_served: threading.Event = dataclasses.field(default_factory=threading.Event)
    player: int | None = None
    player_page: str | None = None
    frames: int | None = None
    seconds: float | None = None
    first_ms: float | None = None
    uses: tuple[Path, ...] = ()  # files the scene reads (its images), from its last readable document

    def public(self) -> dict[str, Any]:
        return {"id": self.number, "name": self.path.name, "path": str(self.path), "status": self.status,
                "errors": self.errors, "render": self.wanted, "first": self.first, "player": self.player,
                "frames": self.frames, "seconds": self.seconds, "first_ms": self.first_ms}


def require_watchfiles():
    """The watchfiles module, or MissingExtraError (exit 2) naming the extra that installs it."""
    try:
        import watchfiles
    except ImportError:
        raise MissingExtraError("convgif watch needs the watch extra: pip install 'convgif[watch]'") from None
    return watchfiles


def error_lines(path: Path, error: BaseException) -> list[str]:
    """The one-line errors `convgif render` prints for a scene that fails."""
    if isinstance(error, SceneError):
        return error.lines()
    if isinstance(error, ConvgifError):
        return [f"{path}: {error}"]
    return [f"{path}: internal error: {type(error).__name__}: {error}"]


class Watch:
    """The scenes, their renders and the page's view of them; `serve` and `run` drive it."""

    def __init__(self, paths: Iterable[str], out_dir: str | None, report: Report):
        self.report = report
        self.out_dir = Path(out_dir) if out_dir else None
        self.folders: list[Path] = []
        self.scenes: dict[Path, SceneState] = {}
        for raw in paths:
            path = Path(raw).resolve()
            if path.is_dir():
                self.folders.append(path)
                for scene in sorted(path.glob("*.toml")):
                    self._add(scene)
            elif path.is_file():
                self._add(path)
            else:
                raise UsageError(f"{raw}: no such file or directory")
        if not self.scenes and not self.folders:
            raise UsageError("no scene files (*.toml) to watch")
        self.version = 0  # bumped on every change the page should see
        self.changed = threading.Condition()
        self.todo: list[SceneState] = []
        self.stopping = threading.Event()
        self.clients = 0  # pages listening for events

    def _add(self, path: Path) -> SceneState:
        state = self.scenes.get(path)
        if state is None:
            state = self.scenes[path] = SceneState(path, len(self.scenes))
            state.uses = tuple(self._uses(path))
        return state

    @staticmethod
    def _uses(path: Path) -> list[Path]:
        from convgif.build_cache import used_files
        from convgif.scene import read_document

        try:
            return used_files(read_document(str(path)), path.parent)
        except Exception:  # unreadable TOML: its render reports it
            return []

    # ---- what the page sees ----

    def publish(self) -> None:
        with self.changed:
            self.version += 1
            self.changed.notify_all()

    def snapshot(self) -> dict[str, Any]:
        with self.changed:
            return {"version": self.version,
                    "scenes": [s.public() for s in sorted(self.scenes.values(), key=lambda s: s.number)]}

    def by_number(self, number: int) -> SceneState | None:
        return next((s for s in self.scenes.values() if s.number == number), None)

    # ---- rendering ----

    def ask(self, state: SceneState) -> None:
        """Render `state` again (a newer save supersedes a render still drawing)."""
        with self.changed:
            state.wanted += 1
            if state not in self.todo:
                self.todo.append(state)
            self.changed.notify_all()

    def render_loop(self) -> None:
        """The render thread: one scene at a time, the latest save of each."""
        while not self.stopping.is_set():
            with self.changed:
                while not self.todo and not self.stopping.is_set():
                    self.changed.wait(0.5)
                if self.stopping.is_set():
                    return
                state = self.todo.pop(0)
                wanted = state.wanted
            try:
                self.render(state, wanted)
            except _Superseded:
                continue

    def render(self, state: SceneState, wanted: int) -> None:
        from convgif.encode.player import PlayerBuilder
        from convgif.scene import load_scene
        from convgif.sources import frame_source

        started = time.perf_counter()
        state.status = "rendering"
        state.uses = tuple(self._uses(state.path)) or state.uses
        self.publish()
        builder: PlayerBuilder | None = None
        first_seen: list[float] = []

        def preview(frame) -> None:
            nonlocal builder
            if self.stopping.is_set() or state.wanted != wanted:
                raise _Superseded
            if builder is None:
                builder = PlayerBuilder(deck, scene.stem)
            # without the layout manifest's items: the preview's player has no hover windows, because building them
            # (convgif.render.manifest, per frame) took most of the time to the whole player (a03: ~2/3)
            builder.add(dataclasses.replace(frame, items=None))
            if not first_seen:
                first_seen.append(time.perf_counter())
                picture = bmp_of(frame.pixels)
                with self.changed:
                    state.first_picture, state.first = picture, wanted
                    state.first_ms = round(1000 * (first_seen[0] - started), 1)
                    state.first_served.clear()
                self.publish()
                if self.clients:  # let the server send it before drawing on (this thread would hold the GIL)
                    state.first_served.wait(0.25)

        try:
            if not state.path.is_file():
                raise UsageError("the file was removed (save it again to render it)")
            scene = load_scene(str(state.path))
            if self.out_dir is not None:
                from convgif.build_cache import BuildCache
                from convgif.pipeline import render_scene

                deck = _preview_deck(scene)
                cache = BuildCache(self.out_dir, force=True)  # a save asks for a render: draw, and record it
                result = render_scene(scene, self.out_dir, cache=cache, preview=preview)
                cache.save()
                frames = result.frames
            else:
                deck = _preview_deck(scene)
                source = frame_source(scene)
                for frame in source.frames("steps"):
                    preview(frame)
                frames = source.frame_count
            if state.wanted != wanted:
                raise _Superseded
            player = builder.player()
            from convgif.gallery import player_page

            page = player_page(player, image=f"first.bmp?v={wanted}")
            with self.changed:
                state.player_page, state.player, state.frames = page, wanted, frames
                state.seconds = round(time.perf_counter() - started, 3)
                state.status, state.errors = "ok", []
            first = f", first frame after {state.first_ms:.0f} ms" if state.first_ms is not None else ""
            self.report(f"{state.path}: {frames} frames in {state.seconds:.2f} s{first}", False)
        except _Superseded:
            raise
        except KeyboardInterrupt:
            raise
        except Exception as error:  # SceneError and the rest: the lines `convgif render` would print
            if state.wanted != wanted or self.stopping.is_set():
                raise _Superseded from None
            with self.changed:
                state.status, state.errors = "error", error_lines(state.path, error)
            for line in state.errors:
                self.report(line, True)
        finally:
            self.publish()

    # ---- file events ----

    def folders_to_watch(self) -> set[Path]:
        found = set(self.folders)
        for state in self.scenes.values():
            found.add(state.path.parent)
            found.update(p.parent for p in state.uses if p.parent.is_dir())
        return {p for p in found if p.is_dir()}

    def saved(self, paths: set[Path]) -> list[SceneState]:
        """The scenes a set of changed files asks to render again (new scene files in watched folders included)."""
        hit: list[SceneState] = []
        for path in paths:
            if path.suffix == ".toml" and path.parent in self.folders and path not in self.scenes and path.is_file():
                with self.changed:
                    hit.append(self._add(path))
        for state in self.scenes.values():
            if state.path in paths or any(p in paths for p in state.uses):
                hit.append(state)
        return list(dict.fromkeys(hit))

    def run(self, watchfiles) -> None:
        """Watch until Ctrl-C (KeyboardInterrupt) or `stopping` is set."""
        for state in sorted(self.scenes.values(), key=lambda s: s.number):
            self.ask(state)
        while not self.stopping.is_set():
            folders = self.folders_to_watch()
            restart = threading.Event()
            for changes in watchfiles.watch(*sorted(folders), watch_filter=None, step=SAVE_SETTLE_MS,
                                            debounce=400, recursive=False, stop_event=_Either(self.stopping,
                                                                                              restart),
                                            rust_timeout=500, raise_interrupt=True):
                paths = {Path(raw).resolve() if Path(raw).exists() else Path(raw) for _, raw in changes}
                for state in self.saved(paths):
                    state.uses = tuple(self._uses(state.path)) or state.uses
                    self.ask(state)
                if self.folders_to_watch() != folders:  # a scene now uses an image in another folder
                    restart.set()

    def stop(self) -> None:
        self.stopping.set()
        with self.changed:
            self.changed.notify_all()


class _Either:
    """stop_event for watchfiles: set when either event is."""

    def __init__(self, *events: threading.Event):
        self.events = events

    def is_set(self) -> bool:
        return any(e.is_set() for e in self.events)


def _preview_deck(scene):
    """The player's words: the scene's title and alt text (the card-less page has no caption)."""
    from convgif.alt import alt_text
    from convgif.encode.frame import Deck
    from convgif.render.labels import player_words

    return Deck(title=scene.title or scene.stem, alt=alt_text(scene), language=scene.language,
                words=player_words(scene.language))


def bmp_of(pixels) -> bytes:
    """A frame as a BMP: made in ~3 ms where a PNG takes ~30 (it only crosses the loopback, and is shown until the
    player, whose pictures are PNG, replaces it)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="BMP")
    return buffer.getvalue()


# ---- the page and its server --------------------------------------------------------------------------------------

PAGE_CSS = """
:root { color-scheme: light dark; --bad: #b3261e; --muted: #5f6368; --line: #d0d0d4; }
@media (prefers-color-scheme: dark) { :root { --bad: #ff8a80; --muted: #a0a4ab; --line: #3a3d44; } }
body { margin: 0; padding: 16px; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
h1 { font-size: 1.2rem; margin: 0 0 12px; } h2 { font-size: 1.05rem; margin: 0 0 4px; }
section { margin: 0 0 28px; max-width: 1400px; }
.status { color: var(--muted); font-size: .9rem; margin: 0 0 6px; }
pre.errors { color: var(--bad); border: 1px solid var(--bad); border-radius: 6px; padding: 8px 10px;
  white-space: pre-wrap; overflow-wrap: anywhere; margin: 0 0 8px; font-size: .9rem; }
.stage img.first { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); }
iframe.player { display: block; width: 100%; border: 0; height: 400px; }
[hidden] { display: none !important; }
"""

# one EventSource; each message is the whole state. A new first frame shows at once (an <img>), the new player
# replaces it when its page has loaded; errors show above whatever was last drawn. window.convgifWatch records when
# each was shown (Date.now()), for the tests and the benchmark.
PAGE_JS = """
(function(){"use strict";
var W=window.convgifWatch={shown:{},state:null};
function el(tag,cls,parent){var e=document.createElement(tag);if(cls)e.className=cls;parent.appendChild(e);return e;}
function section(s){var id="scene-"+s.id,sec=document.getElementById(id);if(sec)return sec;
  sec=el("section","",document.getElementById("scenes"));sec.id=id;
  el("h2","",sec).textContent=s.name;el("p","status",sec);var pre=el("pre","errors",sec);pre.hidden=true;
  pre.setAttribute("role","alert");var stage=el("div","stage",sec);
  var img=el("img","first",stage);img.hidden=true;img.alt=s.name+": first frame";
  var frame=el("iframe","player",stage);frame.hidden=true;frame.title=s.name+": step player";
  W.shown[s.id]={first:null,player:null,firstAt:null,playerAt:null};
  img.addEventListener("load",function(){var v=+img.dataset.v,seen=W.shown[s.id];
    if(seen.player!==v){img.hidden=false;frame.hidden=true;}seen.first=v;seen.firstAt=Date.now();});
  frame.addEventListener("load",function(){if(!frame.dataset.v)return;var v=+frame.dataset.v,seen=W.shown[s.id];
    frame.hidden=false;if(seen.first===null||seen.first<=v)img.hidden=true;seen.player=v;seen.playerAt=Date.now();});
  return sec;}
function update(state){W.state=state;
  state.scenes.forEach(function(s){var sec=section(s),seen=W.shown[s.id];
    var img=sec.querySelector("img.first"),frame=sec.querySelector("iframe.player"),pre=sec.querySelector("pre.errors");
    pre.textContent=s.errors.join("\\n");pre.hidden=!s.errors.length;
    var st=s.status==="ok"?(s.frames+" frames in "+s.seconds.toFixed(2)+" s (first frame after "
        +Math.round(s.first_ms)+" ms)")
      :s.status==="error"?("error"+(s.player!==null?": the picture below is the last good render":""))
      :s.status==="rendering"?"drawing…":"waiting…";
    sec.querySelector(".status").textContent=st;
    if(s.first!==null&&String(s.first)!==img.dataset.v&&s.first!==s.player){img.dataset.v=String(s.first);
      img.src="scene/"+s.id+"/first.bmp?v="+s.first;}
    if(s.player!==null&&String(s.player)!==frame.dataset.v){frame.dataset.v=String(s.player);
      frame.src="scene/"+s.id+"/player.html?v="+s.player;}});}
window.addEventListener("message",function(ev){var d=ev.data;
  if(!d||typeof d.convgifPlayerHeight!=="number"||!(d.convgifPlayerHeight>0))return;
  var frames=document.querySelectorAll("iframe.player");
  for(var i=0;i<frames.length;i++){if(frames[i].contentWindow===ev.source){
    frames[i].style.height=Math.min(d.convgifPlayerHeight,20000)+"px";return;}}});
var source=new EventSource("events");
source.onmessage=function(ev){update(JSON.parse(ev.data));};
})();
"""


def page_html(title: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="icon" href="data:,">
<style>{PAGE_CSS}</style>
</head><body>
<h1>{html.escape(title)}</h1>
<main id="scenes"></main>
<script>{PAGE_JS}</script>
</body></html>
"""


class _Handler(http.server.BaseHTTPRequestHandler):
    watch: Watch  # set on the subclass `serve` makes
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # the terminal shows renders and errors, not requests
        pass

    def _send(self, body: bytes, kind: str, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        route = self.path.split("?", 1)[0]
        watch = self.watch
        if route == "/":
            self._send(page_html("convgif watch").encode(), "text/html; charset=utf-8")
        elif route == "/state":
            self._send(json.dumps(watch.snapshot()).encode(), "application/json")
        elif route == "/events":
            self._events()
        elif route.startswith("/scene/"):
            parts = route.split("/")
            state = watch.by_number(int(parts[2])) if len(parts) == 4 and parts[2].isdigit() else None
            if state is not None and parts[3] == "first.bmp" and state.first_picture is not None:
                self._send(state.first_picture, "image/bmp")
                state.first_served.set()
            elif state is not None and parts[3] == "player.html" and state.player_page is not None:
                self._send(state.player_page.encode(), "text/html; charset=utf-8")
            else:
                self._send(b"not found", "text/plain", 404)
        else:
            self._send(b"not found", "text/plain", 404)

    def _events(self) -> None:
        """Server-Sent Events: the whole state now, then after every change (a comment every 10 s keeps it open)."""
        watch = self.watch
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        seen = -1
        with watch.changed:
            watch.clients += 1
        try:
            while not watch.stopping.is_set():
                with watch.changed:
                    if watch.version == seen:
                        watch.changed.wait(10)
                if watch.stopping.is_set():
                    return
                snapshot = watch.snapshot()
                if snapshot["version"] == seen:
                    self.wfile.write(b": still here\n\n")
                else:
                    seen = snapshot["version"]
                    self.wfile.write(b"data: " + json.dumps(snapshot).encode() + b"\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return
        finally:
            with watch.changed:
                watch.clients -= 1


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True  # an open event stream must not keep the process alive after Ctrl-C


def serve(watch: Watch, port: int = 0) -> tuple[_Server, str]:
    """Start the page's server on 127.0.0.1 (`port` 0: a free one) in a daemon thread; returns it and its URL."""
    handler = type("Handler", (_Handler,), {"watch": watch})
    server = _Server(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="convgif-watch-server").start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def run_watch(paths: Iterable[str], out_dir: str | None, *, report: Report, port: int = 0,
              open_browser: bool = False, started: Callable[[str, int], None] | None = None) -> None:
    """The whole command: serve, render everything once, then again on every save, until Ctrl-C (which returns)."""
    watchfiles = require_watchfiles()
    watch = Watch(paths, out_dir, report)
    server, url = serve(watch, port)
    renderer = threading.Thread(target=watch.render_loop, daemon=True, name="convgif-watch-render")
    renderer.start()
    try:
        if started:
            started(url, len(watch.scenes))
        if open_browser:
            import webbrowser

            webbrowser.open(url)
        watch.run(watchfiles)
    except KeyboardInterrupt:
        pass
    finally:
        watch.stop()
        server.shutdown()
        server.server_close()
        renderer.join(timeout=5)  # a render in progress stops at its next frame
