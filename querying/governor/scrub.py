"""Make an engine error message safe to show: no literal, quoted value or query excerpt."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlglot.tokens import Tokenizer, TokenType

# PostgreSQL and DuckDB echo the statement ("LINE 1: SELECT ...") and point at it with a caret
# line; the statement holds literals (the hash key among them), so those lines go entirely.
_CONTEXT_LINE = re.compile(r"^\s*(LINE \d+:|\^|QUERY:|CONTEXT:|STATEMENT:)")
_CARET_LINE = re.compile(r"^[\s^~]*\^[\s^~]*$")
_SINGLE = re.compile(r"[EeUuXxBbNn]?&?'(?:[^']|'')*'?")
_DOUBLE = re.compile(r'"(?:[^"]|"")*"?')
_DOLLAR = re.compile(r"\$([A-Za-z_]*)\$.*?(?:\$\1\$|$)", re.DOTALL)
# "Key (user_id)=(u-1234)" and "Failing row contains (...)" carry row values.
_KEY_VALUE = re.compile(r"\)=\([^)]*\)?")
_ROW = re.compile(r"(row contains|values?)\s*\(.*", re.IGNORECASE)
_EMAIL = re.compile(r"[^\s'\"()<>,;]+@[^\s'\"()<>,;]+")
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d.,:\-]{2,}\d(?![\w])")
_MAX_CHARS = 500


def scrub_error(message: str, *, keep: Iterable[str] = ()) -> str:
    """Remove quoted literals, values and query excerpts from an engine error message.

    Double-quoted words listed in ``keep`` (column or product names, compared case-insensitively)
    survive, so ``column "x" does not exist`` stays useful; everything quoted otherwise goes.
    """
    kept = {k.lower() for k in keep}
    lines = []
    for line in str(message).splitlines():
        if _CONTEXT_LINE.match(line) or _CARET_LINE.match(line):
            continue
        lines.append(line)
    text = "\n".join(lines).strip()
    text = _DOLLAR.sub("$…$", text)
    text = _SINGLE.sub("'…'", text)

    def _double(match: re.Match[str]) -> str:
        inner = match.group(0).strip('"')
        parts = inner.lower().split(".")
        return match.group(0) if all(p in kept for p in parts) else '"…"'

    text = _DOUBLE.sub(_double, text)
    text = _KEY_VALUE.sub(")=(…)", text)
    text = _ROW.sub(lambda m: m.group(1) + " (…)", text)
    text = _EMAIL.sub("…", text)
    text = _NUMBER.sub("…", text)
    if len(text) > _MAX_CHARS:
        text = text[:_MAX_CHARS] + "…"
    return text or "the warehouse reported an error"


def identifiers_in(sql: str) -> set[str]:
    """The names a statement uses (an error may quote them: they are the writer's, not data)."""
    try:
        tokens = Tokenizer().tokenize(sql)
    except Exception:  # an untokenisable statement: keep nothing
        return set()
    return {t.text for t in tokens if t.token_type in (TokenType.VAR, TokenType.IDENTIFIER)}
