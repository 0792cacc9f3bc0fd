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
