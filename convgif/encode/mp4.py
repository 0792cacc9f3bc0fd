"""The MP4 writer's old home: it now lives beside the WebM writer in `convgif.encode.video`."""

from __future__ import annotations

from convgif.encode.video import INSTALL_HINT, Mp4Writer, even_frame, load_ffmpeg

__all__ = ["INSTALL_HINT", "Mp4Writer", "even_frame", "load_ffmpeg"]
