"""SQL names compared exactly as the engine compares them: the one identifier rule.

Both engines fold case in ASCII only: PostgreSQL lower-cases unquoted names (A-Z only; a
quoted name is taken exactly as written), DuckDB compares every name, quoted or not,
case-insensitively in ASCII. Neither normalises Unicode (``"é"`` and ``"e\u0301"`` are two
names), and neither maps a non-ASCII letter onto an ASCII one. Python's ``str.lower()`` does
(U+212A KELVIN SIGN lowers to ``k``, U+0130 to ``i̇``), so it must never decide whether two SQL
names are the same: a CTE the governor took for a product's name would be, for the engine, a
different name, and the reference would read the physical table raw.

``fold()`` is the engine's rule; the governor and its re-check (core.py, pseudonyms.py) use
nothing else. ``confusable()`` adds a second, stricter line: within one query, two names that a
human (or Unicode case folding and normalisation) would take for the same, but the engine does
not, are refused when either is not plain ASCII, whatever they name.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from sqlglot import exp

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text: str) -> str:
    """Lower-case A-Z only, as both engines fold identifiers (never other letters)."""
    return text.translate(_ASCII_LOWER)


def fold(name: str, *, quoted: bool, dialect: str) -> str:
    """The key under which ``dialect`` compares the identifier ``name``."""
    if quoted and dialect == "postgres":
        return name
    return ascii_lower(name)


def fold_identifier(ident: exp.Expression, dialect: str) -> str:
    """``fold()`` of a sqlglot identifier node."""
    return fold(str(ident.this), quoted=bool(ident.args.get("quoted")), dialect=dialect)


def loose(name: str) -> str:
    """How a person (or Unicode) would compare two names: NFKC, case-folded, NFKC again."""
    once = unicodedata.normalize("NFKC", name).casefold()
    return unicodedata.normalize("NFKC", once)


def confusable(names: Iterable[tuple[str, bool]], *, dialect: str) -> tuple[str, str] | None:
    """Two of ``(name, quoted)`` that look alike but the engine tells apart, one not ASCII.

    Returns the pair (as written), or None. Plain-ASCII names are left to ``fold()``, which
    models the engine exactly there (PostgreSQL ``"Revenue"`` and ``revenue`` are two names,
    and queries use that on purpose).
    """
    seen: dict[str, dict[str, str]] = {}  # loose key -> engine key -> name as written
    for name, quoted in names:
        engine_key = fold(name, quoted=quoted, dialect=dialect)
        group = seen.setdefault(loose(name), {})
        for other_key, other in group.items():
            if other_key != engine_key and not (other.isascii() and name.isascii()):
                return other, name
        group.setdefault(engine_key, name)
    return None
