"""Shared test helpers: an oracle or reader that is missing skips locally but fails under CI=true, so a skipped
check is never counted as a pass where `.ci/run` installs everything."""

from __future__ import annotations

import importlib
import os

import pytest


def missing(reason: str):
    """Skip (locally) or fail (CI=true) because `reason`: a tool the test needs is not installed."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def require(module: str, install: str):
    """The imported `module`, or `missing(...)` naming how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        missing(f"{module} is not installed ({install})")


@pytest.fixture
def drawn_strings(monkeypatch) -> list[str]:
    """Every string matplotlib is asked to draw while the test runs (titles, labels, ticks, ax.text)."""
    import matplotlib.text

    seen: list[str] = []
    original = matplotlib.text.Text.set_text

    def recording(self, s):
        if s is not None and str(s):
            seen.append(str(s))
        return original(self, s)

    monkeypatch.setattr(matplotlib.text.Text, "set_text", recording)
    return seen


@pytest.fixture(autouse=True)
def own_cache_folder(tmp_path_factory, monkeypatch):
    """Each test its own user cache folder (the glyph store, kept package digests), empty: a test never reads
    measurements another test or the user's own renders left, and leaves none behind (a test that patches Pillow
    must not teach the user's store)."""
    from convgif.render import glyph_store

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    glyph_store._store.cache_clear()
    yield
    glyph_store._store.cache_clear()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A headless Chromium (tests/browser.py) for one test module's pages, closed after them."""
    from browser import Browser, need_chromium

    browser = Browser(need_chromium(), tmp_path_factory.mktemp("profile"))
    yield browser
    browser.close()
