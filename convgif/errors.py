"""Every user-facing error: an exception that carries its exit code; only the CLI prints it."""

from __future__ import annotations


class ConvgifError(Exception):
    """Base of every error convgif raises on purpose."""

    exit_code = 1


class GeometryError(ConvgifError, ValueError):
    """An operation's arguments break a rule (torch would reject them too).

    `argument` names the offending argument (`groups`, `padding`, ...), `message` the rule.
    """

    exit_code = 2

    def __init__(self, argument: str, message: str):
        self.argument = argument
        self.message = message
        super().__init__(f"{argument}: {message}")


class SceneError(ConvgifError):
    """One or more problems in a scene file; `problems` is a list of (dotted_key, message)."""

    exit_code = 2

    def __init__(self, file: str, problems: list[tuple[str, str]]):
        self.file = file
        self.problems = list(problems)
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [f"{self.file}: {key}: {msg}" if key else f"{self.file}: {msg}" for key, msg in self.problems]


class UsageError(ConvgifError):
    exit_code = 2


class RenderError(ConvgifError):
    exit_code = 1


class MissingExtraError(UsageError):
    """An output format whose optional dependency is not installed (exit 2: the fix is an install)."""


class LayoutError(RenderError):
    """A valid scene that cannot be drawn at its frame width. `key` is the scene key to change."""

    key = "render.width"

    def __init__(self, message: str, *, width: int):
        self.width = width
        super().__init__(message)


class TooNarrowError(LayoutError):
    """The frame is narrower than any layout can use (`minimum` px)."""

    def __init__(self, width: int, minimum: int):
        self.minimum = minimum
        super().__init__(f"frame width must be at least {minimum} px, got {width}", width=width)


class DoesNotFitError(LayoutError):
    """The grids of `what` (e.g. "a 9×9 input") do not fit in `width` px. `needed_width` is the narrowest frame
    width they fit in, once known (the pipeline searches for it), or None when no width up to the maximum does."""

    def __init__(self, what: str, *, width: int, needed_width: int | None = None):
        self.what = what
        self.needed_width = needed_width
        super().__init__(f"{what} does not fit in {width} px", width=width)
