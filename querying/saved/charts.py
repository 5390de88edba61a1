"""The chart a saved query carries: ``{"type": "bar" | "line" | "scatter", "x": column,
"y": [column, ...]}`` (pure: no Django). The page draws it with the vendored Chart.js."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CHART_TYPES = ("bar", "line", "scatter")
MAX_SERIES = 6
MAX_COLUMN_CHARS = 200


class ChartInvalid(ValueError):
    """A chart spec that cannot be stored; ``field`` names the part at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _column(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ChartInvalid(field, "must be a column name (a non-empty string)")
    if len(value) > MAX_COLUMN_CHARS:
        raise ChartInvalid(field, f"must be at most {MAX_COLUMN_CHARS} characters")
    if "\x00" in value:
        raise ChartInvalid(field, "must not contain a NUL character")
    return value


def chart_clean(spec: Any) -> dict[str, Any] | None:
    """``spec`` as stored: None (a table), or a dict with exactly type, x and y (a list).

    ``y`` may be given as one column name; it is stored as a list of 1 to MAX_SERIES distinct
    names. Anything else raises ``ChartInvalid`` naming the field (``chart.type``...).
    """
    if spec is None:
        return None
    if not isinstance(spec, Mapping):
        raise ChartInvalid("chart", 'must be an object {"type", "x", "y"} or null')
    unknown = sorted(set(spec) - {"type", "x", "y"})
    if unknown:
        raise ChartInvalid(f"chart.{unknown[0]}", "unknown key; a chart has type, x and y")
    kind = spec.get("type")
    if kind not in CHART_TYPES:
        raise ChartInvalid("chart.type", f"must be one of {', '.join(CHART_TYPES)}")
    x = _column(spec.get("x"), "chart.x")
    raw_y = spec.get("y")
    ys = [raw_y] if isinstance(raw_y, str) else raw_y
    if not isinstance(ys, list) or not ys:
        raise ChartInvalid("chart.y", "must name at least one column")
    if len(ys) > MAX_SERIES:
        raise ChartInvalid("chart.y", f"at most {MAX_SERIES} columns")
    cleaned = [_column(y, f"chart.y[{i}]") for i, y in enumerate(ys)]
    if len(set(cleaned)) != len(cleaned):
        raise ChartInvalid("chart.y", "names a column twice")
    return {"type": kind, "x": x, "y": cleaned}


# Column types (as the warehouses name them) a chart reads as numbers or as times.
_NUMBER_WORDS = ("INT", "DECIMAL", "NUMERIC", "DOUBLE", "FLOAT", "REAL", "HUGEINT", "SERIAL")
_TIME_WORDS = ("DATE", "TIME")


def column_kind(type_name: str) -> str:
    """``number``, ``time`` or ``text`` for a warehouse column type (``BIGINT``, ``DATE``...)."""
    upper = type_name.upper()
    if any(word in upper for word in ("[]", "RANGE", "STRUCT", "MAP(", "UNION(")):
        return "text"  # arrays, ranges and nested values are not plotted
    if "INTERVAL" in upper:
        return "number"
    if any(word in upper for word in _TIME_WORDS):
        return "time"
    if any(word in upper for word in _NUMBER_WORDS):
        return "number"
    return "text"


def chart_default(columns: list[str], types: list[str]) -> dict[str, Any] | None:
    """The chart a result suggests, or None when it has nothing to plot.

    A time column and a number: a line over time; a text column and a number: bars; two
    numbers and nothing else: a scatter. The x axis is the first fitting column, the y axis
    every number column after it (up to MAX_SERIES). ``static/js/query-chart.js`` applies the
    same rule in the browser (tested together in tests/querying/test_charts.py).
    """
    kinds = [column_kind(t) for t in types]
    numbers = [c for c, k in zip(columns, kinds, strict=False) if k == "number"]
    for wanted, chart_type in (("time", "line"), ("text", "bar")):
        x = next((c for c, k in zip(columns, kinds, strict=False) if k == wanted), None)
        if x is not None and numbers:
            return {"type": chart_type, "x": x, "y": numbers[:MAX_SERIES]}
    if len(numbers) >= 2:
        return {"type": "scatter", "x": numbers[0], "y": numbers[1 : 1 + MAX_SERIES]}
    return None
