"""What a run's result values read as: numbers, counts, durations, kinds. Pure Python.

Check results are public (pages, e-mails, Slack): messages say what a value *is* and how many,
never what a row holds.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time
from decimal import Decimal

SINGLE_COUNT = (
    "custom checks return a single count: one row with one integer column, "
    "e.g. SELECT count(*) FROM <product> WHERE <rows that break the rule>"
)


class Values:
    """A run's values by result key; a value wins over an error for the same key."""

    def __init__(self, values: dict[str, object], errors: dict[str, str]) -> None:
        self.values = values
        self.errors = errors

    def get(self, key: str) -> tuple[float | None, str | None]:
        """(number, None), or (None, why not)."""
        raw, error = self.raw(key)
        if error is not None:
            return None, error
        value = number(raw)
        if value is None:
            return None, f"expected a number, got {kind(raw)}"
        return value, None

    def raw(self, key: str) -> tuple[object, str | None]:
        """(value, None), or (None, why not)."""
        if key in self.values:
            return self.values[key], None
        return None, self.errors.get(key, "not computed: its statement was not sent")


def number(value: object) -> float | None:
    """A finite number as a float; None for anything else (booleans, NULL, text, NaN)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | Decimal):
        result = float(value)
        return result if math.isfinite(result) else None
    return None


def integer(value: object) -> float | None:
    """A count: an integer (or an integral decimal), never text, a fraction or NULL."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return float(value)
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return float(value)
    return None


def count_text(value: float) -> str:
    """``3`` for 3.0, ``2.5`` for 2.5."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def human_hours(hours: float) -> str:
    """A duration as people write it (issue 12): ``45 min``, ``5.3 h``, ``24 h``, ``90.2 days``."""
    if hours < 1:
        return f"{round(hours * 60)} min"
    value, unit = (hours, "h") if hours < 48 else (hours / 24, "days")
    text = f"{value:,.1f}"
    return f"{text[:-2] if text.endswith('.0') else text} {unit}"


def kind(value: object) -> str:
    """What a value is, never what it holds (check results are public)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float):
        return "a floating-point number"
    if isinstance(value, int | Decimal):
        return "a fraction" if number(value) is not None else "a number that is not finite"
    if isinstance(value, str):
        return "text"
    if isinstance(value, datetime | date):
        return "a date or time"
    return f"a value of type {type(value).__name__}"


def as_utc(value: object) -> datetime | None:
    """A warehouse timestamp as aware UTC; naive timestamps are UTC, dates are midnight UTC."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time.min, tzinfo=UTC)
    return None
