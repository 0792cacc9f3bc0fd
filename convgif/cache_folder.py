"""Where convgif keeps what only ever saves time between processes (standard library only, for every layer)."""

from __future__ import annotations

import os
from pathlib import Path


def user_cache_folder() -> Path | None:
    """convgif's folder in the user's cache folder ($XDG_CACHE_HOME, else ~/.cache): kept package digests
    (`build_cache`) and glyph measurements (`render.glyph_store`). None when there is no home to put it in."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home folder known
            return None
    return Path(base) / "convgif"
