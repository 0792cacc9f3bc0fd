"""The "did you mean" hint every error message about a misspelt name ends with (scene keys, op kinds, colour
roles, output formats): one wording, one matcher."""

from __future__ import annotations

from collections.abc import Iterable


def did_you_mean(word: object, choices: Iterable[str], *, braces: bool = False) -> str:
    """' (did you mean 'x'?)' for the choice closest to `word`, or '' when none is close (or `word` is not a
    string); `braces`: ' (did you mean {x}?)', for caption placeholders."""
    if not isinstance(word, str):
        return ""
    import difflib  # only a misspelt name needs it: not imported by every render's start

    close = difflib.get_close_matches(word, list(choices), n=1)
    if not close:
        return ""
    return f" (did you mean {{{close[0]}}}?)" if braces else f" (did you mean {close[0]!r}?)"
