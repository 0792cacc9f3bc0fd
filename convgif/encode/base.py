"""The writer protocol every format follows: setup, write, finish (or abort), and a context manager
that always ends with finish on success or abort on an exception (as matplotlib's writers do)."""

from __future__ import annotations


class Writer:
    """Base of the writers: subclasses implement setup(), write(...), finish() and abort(...)."""

    def setup(self) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        raise NotImplementedError

    def abort(self, exc_type=None, exc=None, traceback=None) -> None:
        raise NotImplementedError

    def __enter__(self):
        self.setup()
        return self

    def __exit__(self, exc_type, exc, traceback) -> bool:
        if exc_type is None:
            self.finish()
        else:
            self.abort(exc_type, exc, traceback)
        return False
