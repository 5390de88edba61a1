"""Small questions about sqlglot nodes, asked by both core.py and pseudonyms.py."""

from __future__ import annotations

from sqlglot import exp


def nonempty_args(node: exp.Expression) -> set[str]:
    """The argument keys ``node`` actually carries (None, False and [] mean "not set")."""
    return {k for k, v in node.args.items() if v is not None and v is not False and v != []}


def literal_int(node: exp.Expression | None) -> int | None:
    """The value of a non-negative integer literal (``LIMIT 5``, ``GROUP BY 2``), else None."""
    if isinstance(node, exp.Literal) and not node.is_string and str(node.this).isdigit():
        return int(node.this)
    return None
