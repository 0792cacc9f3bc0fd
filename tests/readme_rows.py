"""The README's scene table, row by row (shared by the test that holds it to the scene files)."""

from __future__ import annotations

import re

ROW = re.compile(r"^\| ([^|]+) \| \[(.+?)\]\((output/[^)]+)\) \| ([^|]+) \| (.+) \|$", flags=re.M)


def first_sentence(text: str) -> str:
    """A description's first sentence (English or Chinese), as the README's table shows it."""
    match = re.match(r"(.+?[.。])(\s|$)", text.strip(), flags=re.S)
    return (match.group(1) if match else text).strip()
