"""SQL names compared exactly as the engine compares them: the one identifier rule.

DuckDB and PostgreSQL fold case in ASCII only: PostgreSQL lower-cases unquoted names (A-Z only; a
quoted name is taken exactly as written), DuckDB compares every name, quoted or not,
case-insensitively in ASCII. Neither normalises Unicode (``"é"`` and ``"e\u0301"`` are two
names), and neither maps a non-ASCII letter onto an ASCII one. Python's ``str.lower()`` does
(U+212A KELVIN SIGN lowers to ``k``, U+0130 to ``i̇``), so it must never decide whether two SQL
names are the same: a CTE the governor took for a product's name would be, for the engine, a
different name, and the reference would read the physical table raw.

Spark is the exception: it compares names with Java's ``equalsIgnoreCase``, which does map some
non-ASCII letters onto ASCII ones (``java_fold``), and ``fold()`` follows it there.

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


def _simple_upper(char: str) -> str:
    """Java's ``Character.toUpperCase``: the one-character (simple) mapping, else the char."""
    upper = char.upper()
    if len(upper) == 1:
        return upper
    title = char.title()  # ᾀ: full upper "ἈΙ", simple upper (= title) "ᾈ"
    return title if len(title) == 1 else char


def _simple_lower(char: str) -> str:
    """Java's ``Character.toLowerCase``: the one-character (simple) mapping, else the char."""
    lower = char.lower()
    if len(lower) == 1:
        return lower
    return "i" if char == "\u0130" else char  # İ: full lower "i̇", simple lower "i"


def java_fold(name: str) -> str:
    """The key under which Java's ``String.equalsIgnoreCase`` makes two names equal.

    Per code point, ``toLowerCase(toUpperCase(c))`` with Java's one-character mappings: K
    (U+212A KELVIN SIGN) and k are one name, ß and SS are not (no mapping changes a length).
    """
    return "".join(_simple_lower(_simple_upper(char)) for char in name)


def fold(name: str, *, quoted: bool, dialect: str) -> str:
    """The key under which ``dialect`` compares the identifier ``name``.

    Spark (``spark.sql.caseSensitive=false``, its default, which the portal requires) resolves
    columns, CTEs and tables with Java's ``equalsIgnoreCase``, quoted (backticked) or not; an
    unquoted name that is not ASCII is a syntax error there.
    """
    if dialect == "spark":
        return java_fold(name)
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
