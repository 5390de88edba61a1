"""Where a syntax error is: the governor's parse errors end with ``(line L, column C)`` and
name the token they stopped at (``near 'FROM'``); the page points at it (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_WHERE = re.compile(r"near '(?P<near>(?:[^'\\]|\\.)*)' \(line (?P<line>\d+), column (?P<col>\d+)\)")
_AT = re.compile(r"\(line (?P<line>\d+), column (?P<col>\d+)\)")


@dataclass(frozen=True)
class ErrorPointer:
    """The line of SQL at fault (1-based ``line``) and the columns [start, end] of its token."""

    line: int
    start: int
    end: int
    text: str

    @property
    def caret(self) -> str:
        """Spaces then carets under the token, for a monospace line under ``text``."""
        return " " * (self.start - 1) + "^" * max(1, self.end - self.start + 1)


def error_pointer(sql: str, message: str) -> ErrorPointer | None:
    """The pointer for ``message`` in ``sql``, or None when it names no position in it.

    sqlglot's column is the LAST character of the token it names, so the token starts
    ``len(token) - 1`` before it (a token cut to 40 characters is pointed at by its end).
    """
    found = _WHERE.search(message) or _AT.search(message)
    if found is None:
        return None
    line, end = int(found.group("line")), int(found.group("col"))
    lines = sql.split("\n")
    if not 1 <= line <= len(lines):
        return None
    text = lines[line - 1]
    end = min(max(end, 1), max(len(text), 1))
    near = found.groupdict().get("near") or ""
    width = len(near) if near and not near.endswith("...") else 1
    start = max(1, end - width + 1)
    return ErrorPointer(line=line, start=start, end=end, text=text)
