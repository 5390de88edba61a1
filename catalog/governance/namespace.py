"""Which domain a physical table belongs to (issue 11). Pure Python: no Django import.

A product may bind only a table of its own domain: one whose name starts with the domain's
table prefix (default ``<slug>_``, '-' written '_'), or one an admin assigned to the domain.

Rules, each tested in tests/catalog/test_namespace.py:

- Names compare the way the warehouses compare them: ASCII-only case folding (DuckDB folds
  every name, PostgreSQL unquoted ones, and neither maps a non-ASCII letter onto an ASCII one).
  Python's ``str.lower()`` is never used: it folds U+212A KELVIN SIGN to ``k``.
- A name that is not a plain ASCII identifier (letters, digits, '_') belongs to nobody,
  unless an assignment names it exactly.
- An assignment wins over every prefix. Among prefixes, the longest one that matches wins
  (``marketing_eu_`` over ``marketing_``); two domains with that same prefix own nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
# What a contract's ``table`` may be (catalog.contract.TABLE_RE) and a prefix of one.
_TABLE = re.compile(r"[a-z_][a-z0-9_]*")
_PREFIX = re.compile(r"[a-z][a-z0-9_]*_")
# A name the warehouses read the same quoted or not, up to ASCII case.
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
TABLE_MAX_LENGTH = 63


def ascii_lower(text: str) -> str:
    """Lower-case A-Z only, as the warehouses fold identifiers (never other letters)."""
    return text.translate(_ASCII_LOWER)


def is_ascii(text: str) -> bool:
    """True when every character is 7-bit ASCII."""
    return text.isascii()


def same_table(a: str, b: str) -> bool:
    """Whether the warehouse takes ``a`` and ``b`` for the same table name."""
    return ascii_lower(a) == ascii_lower(b)


def default_prefix(slug: str) -> str:
    """The default namespace of a domain: ``<slug>_`` with '-' as '_' (``growth-eu_`` → ...)."""
    return slug.replace("-", "_") + "_"


def prefix_problem(prefix: str) -> str | None:
    """Why ``prefix`` cannot be a table prefix, or None."""
    if len(prefix) >= TABLE_MAX_LENGTH:
        return f"must be shorter than {TABLE_MAX_LENGTH} characters"
    if not _PREFIX.fullmatch(prefix):
        return "must be lowercase ASCII letters, digits and '_', start with a letter, end with '_'"
    return None


def table_name_problem(table: str) -> str | None:
    """Why ``table`` is not a table name a contract can bind, or None."""
    if len(table) > TABLE_MAX_LENGTH:
        return f"must be at most {TABLE_MAX_LENGTH} characters"
    if not _TABLE.fullmatch(table):
        return "must be a lowercase ASCII SQL identifier (letters, digits, '_')"
    return None


@dataclass(frozen=True)
class TableOwner:
    """The domain a table belongs to (None: nobody) and how it was decided."""

    domain: str | None
    via: str  # "assignment" | "prefix" | "none" | "ambiguous" | "not_plain"
    prefix: str = ""


def table_owner(
    table: str, *, prefixes: Mapping[str, str], assignments: Mapping[str, str]
) -> TableOwner:
    """The domain ``table`` belongs to.

    ``prefixes`` maps each domain slug to its effective prefix; ``assignments`` maps assigned
    table names to domain slugs.
    """
    if table in assignments:  # exact, so even a non-ASCII assigned name matches only itself
        return TableOwner(assignments[table], "assignment")
    if not _PLAIN.fullmatch(table):  # non-ASCII, spaces, quotes, a trailing newline...
        return TableOwner(None, "not_plain")
    key = ascii_lower(table)
    for name, domain in assignments.items():
        if is_ascii(name) and ascii_lower(name) == key:
            return TableOwner(domain, "assignment")
    best: list[tuple[str, str]] = []
    for domain, prefix in prefixes.items():
        if not is_ascii(prefix):
            continue
        folded = ascii_lower(prefix)
        if len(key) > len(folded) and key.startswith(folded):
            if not best or len(folded) > len(best[0][1]):
                best = [(domain, folded)]
            elif len(folded) == len(best[0][1]):
                best.append((domain, folded))
    if not best:
        return TableOwner(None, "none")
    if len(best) > 1:
        return TableOwner(None, "ambiguous", best[0][1])
    return TableOwner(best[0][0], "prefix", best[0][1])
