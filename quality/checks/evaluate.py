"""Turn the rows a run got back into outcomes. Pure: no I/O, time is an argument."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal

from querying.governor import identifiers_in, scrub_error
from querying.warehouses.base import QueryTimeout, Result

from .gate import CustomSqlRefused
from .specs import SLA_MAX_STALE_HOURS, CheckOutcome, CheckSpec, ProductSpec, outcome
from .sql import (
    ROWS,
    Statement,
    custom_key,
    dupes_key,
    newest_key,
    nulls_key,
    outside_key,
    param_problem,
)

Results = Mapping[Statement, Result | BaseException]
# Check messages are written by the portal; engine text in them is scrubbed and bounded.
MAX_ERROR_CHARS = 300
SINGLE_COUNT = (
    "custom checks return a single count: one row with one integer column, "
    "e.g. SELECT count(*) FROM <product> WHERE <rows that break the rule>"
)


def evaluate(
    spec: ProductSpec,
    results_by_statement: Results,
    *,
    now: datetime,
    known_not_null: frozenset[str] = frozenset(),
) -> list[CheckOutcome]:
    """Outcomes of `spec`'s checks, then its `nullable: false` problems, from statement results.

    A value another statement could not produce (error, timeout, not sent) makes its check
    `error`, never `passed`. `known_not_null` must be the set the plan was compiled with.
    """
    values, errors = collect_values(results_by_statement)
    board = _Board(values, errors)
    outcomes = [
        _evaluate_check(index, check, spec, board, now=now, known_not_null=known_not_null)
        for index, check in enumerate(spec.checks)
    ]
    for column in spec.columns:
        if column.nullable or column.name in known_not_null:
            continue
        name = f"schema:{column.name}:nullable"
        schema_check = CheckSpec(name=name, type="schema", severity="error", column=column.name)
        nulls, error = board.get(nulls_key(column.name))
        if error is not None:
            outcomes.append(outcome(schema_check, "error", f"could not count NULLs: {error}"))
        elif nulls:
            outcomes.append(
                outcome(
                    schema_check,
                    "failed",
                    f"column {column.name} is declared nullable: false "
                    f"but holds {_count(nulls)} NULL values",
                    nulls,
                )
            )
    return outcomes


def collect_values(results_by_statement: Results) -> tuple[dict[str, object], dict[str, str]]:
    """Result keys → values, and result keys → why they are missing."""
    values: dict[str, object] = {}
    errors: dict[str, str] = {}
    for statement, result in results_by_statement.items():
        if isinstance(result, BaseException):
            for key in statement.outputs:
                errors[key] = describe_error(statement, result)
            continue
        if statement.purpose.startswith("custom_sql") and (
            len(result.rows) != 1 or len(result.rows[0]) != 1 or result.truncated
        ):
            for key in statement.outputs:
                errors[key] = SINGLE_COUNT
            continue
        if not result.rows:
            for key in statement.outputs:
                errors[key] = "query returned no rows"
            continue
        row = result.rows[0]
        if len(row) < len(statement.outputs):
            for key in statement.outputs:
                errors[key] = "query returned too few columns"
            continue
        values.update(zip(statement.outputs, row, strict=False))
    return values, errors


def describe_error(statement: Statement, error: BaseException) -> str:
    """A message a check owner can act on, that holds no value from the data.

    Engine errors quote the values they choke on (a failed cast of a PII column names the
    value), and check results are shown to every reader, mailed and posted: scrubbed like a
    governed query's error, and bounded.
    """
    purpose = _bounded(statement.purpose, 120)
    if isinstance(error, QueryTimeout):
        return f"timed out ({purpose}): {_bounded(str(error).strip(), MAX_ERROR_CHARS)}"
    if isinstance(error, CustomSqlRefused):
        return f"custom SQL refused: {_bounded(str(error).strip(), MAX_ERROR_CHARS)}"
    text = scrub_error(
        str(error).strip() or type(error).__name__, keep=identifiers_in(statement.sql)
    )
    return f"query failed ({purpose}): {_bounded(text, MAX_ERROR_CHARS)}"


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def newest_value_at(spec: ProductSpec, results_by_statement: Results) -> datetime | None:
    """The newest value of the first freshness check's column, as an aware UTC datetime."""
    values, _ = collect_values(results_by_statement)
    for check in spec.checks:
        if check.type == "freshness" and check.column:
            return as_utc(values.get(newest_key(check.column)))
    return None


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


class _Board:
    """Looks values up, preferring a value over an error for the same key."""

    def __init__(self, values: dict[str, object], errors: dict[str, str]) -> None:
        self.values = values
        self.errors = errors

    def get(self, key: str) -> tuple[float | None, str | None]:
        """(number, None), or (None, why not)."""
        raw, error = self.raw(key)
        if error is not None:
            return None, error
        number = _number(raw)
        if number is None:
            return None, f"expected a number, got {_kind(raw)}"
        return number, None

    def raw(self, key: str) -> tuple[object, str | None]:
        """(value, None), or (None, why not)."""
        if key in self.values:
            return self.values[key], None
        return None, self.errors.get(key, "not computed: its statement was not sent")


def _evaluate_check(
    index: int,
    check: CheckSpec,
    spec: ProductSpec,
    board: _Board,
    *,
    now: datetime,
    known_not_null: frozenset[str],
) -> CheckOutcome:
    problem = param_problem(check, spec)
    if problem is not None:
        return outcome(check, "error", problem)
    column = check.column or ""
    p = check.params

    if check.type == "not_null":
        if column in known_not_null:
            return outcome(check, "passed", f"{column} is NOT NULL in the warehouse", 0.0)
        nulls, error = board.get(nulls_key(column))
        if nulls is None:
            return outcome(check, "error", error or "no value")
        if nulls == 0:
            return outcome(check, "passed", f"no NULL values in {column}", nulls)
        return outcome(check, "failed", f"{_count(nulls)} NULL values in {column}", nulls)

    if check.type == "unique":
        dupes, error = board.get(dupes_key(column))
        if dupes is None:
            return outcome(check, "error", error or "no value")
        if dupes == 0:
            return outcome(check, "passed", f"no duplicate values in {column}", dupes)
        return outcome(
            check, "failed", f"{_count(dupes)} duplicate rows in {column} (rows - distinct)", dupes
        )

    if check.type in ("accepted_values", "range"):
        outside, error = board.get(outside_key(index))
        if outside is None:
            return outcome(check, "error", error or "no value")
        where = _bounds_text(check)
        if outside == 0:
            return outcome(check, "passed", f"every non-null {column} is {where}", outside)
        return outcome(
            check, "failed", f"{_count(outside)} rows with {column} not {where}", outside
        )

    if check.type == "freshness":
        return _freshness(check, spec, board, now=now)

    if check.type == "row_count":
        rows, error = board.get(ROWS)
        if rows is None:
            return outcome(check, "error", error or "no value")
        low = _opt_number(p.get("minRows"))
        high = _opt_number(p.get("maxRows"))
        if low is None and high is None:
            low = 1.0  # no bounds declared: an empty product is what the check is there for
        if low is not None and rows < low:
            return outcome(
                check, "failed", f"{_count(rows)} rows, expected at least {_count(low)}", rows
            )
        if high is not None and rows > high:
            return outcome(
                check, "failed", f"{_count(rows)} rows, expected at most {_count(high)}", rows
            )
        return outcome(check, "passed", f"{_count(rows)} rows", rows)

    if check.type == "custom_sql":
        raw, error = board.raw(custom_key(index))
        if error is not None:
            return outcome(check, "error", error)
        number = _integer(raw)
        if number is None:
            return outcome(check, "error", f"{SINGLE_COUNT}; this one returned {_kind(raw)}")
        masked = " (PII columns are read through their masks)" if _has_pii(spec) else ""
        if number == 0:
            return outcome(check, "passed", f"custom SQL counted 0 rows{masked}", number)
        return outcome(
            check,
            "failed",
            f"custom SQL counted {_count(number)} rows, expected 0{masked}",
            number,
        )

    return outcome(check, "error", f"unknown check type {check.type!r}")  # pragma: no cover


def _freshness(
    check: CheckSpec, spec: ProductSpec, board: _Board, *, now: datetime
) -> CheckOutcome:
    column = check.column or ""
    hours_param = _opt_number(check.params.get("maxStaleHours"))
    limit = hours_param if hours_param is not None else SLA_MAX_STALE_HOURS[spec.freshness_sla]
    rows, error = board.get(ROWS)
    if rows is None:
        return outcome(check, "error", error or "no value")
    if rows == 0:
        return outcome(check, "failed", "no rows")
    raw, error = board.raw(newest_key(column))
    if error is not None:
        return outcome(check, "error", error)
    if raw is None:
        return outcome(check, "failed", f"no non-null values in {column}")
    newest = as_utc(raw)
    if newest is None:
        return outcome(check, "error", f"max({column}) is {_kind(raw)}, not a timestamp")
    current = now.replace(tzinfo=UTC) if now.tzinfo is None else now
    hours = (current - newest).total_seconds() / 3600
    limit_text = f"limit {_hours(limit)}"
    if hours <= limit:
        return outcome(
            check, "passed", f"newest {column} is {_hours(hours)} old ({limit_text})", hours
        )
    return outcome(check, "failed", f"newest {column} is {_hours(hours)} old ({limit_text})", hours)


def _bounds_text(check: CheckSpec) -> str:
    if check.type == "accepted_values":
        values = check.params.get("values")
        shown = ", ".join(repr(v) for v in values) if isinstance(values, list | tuple) else ""
        if len(shown) > 80:
            shown = shown[:77] + "..."
        return f"in [{shown}]"
    low, high = check.params.get("min"), check.params.get("max")
    if low is not None and high is not None:
        return f"between {low} and {high}"
    return f">= {low}" if low is not None else f"<= {high}"


def _number(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | Decimal):
        number = float(value)
        return number if math.isfinite(number) else None
    return None


def _opt_number(value: object) -> float | None:
    return _number(value)


def _count(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


def _hours(hours: float) -> str:
    return human_hours(hours)


def human_hours(hours: float) -> str:
    """A duration as people write it (issue 12): ``45 min``, ``5.3 h``, ``24 h``, ``90.2 days``."""
    if hours < 1:
        return f"{round(hours * 60)} min"
    value, unit = (hours, "h") if hours < 48 else (hours / 24, "days")
    text = f"{value:,.1f}"
    return f"{text[:-2] if text.endswith('.0') else text} {unit}"


def _integer(value: object) -> float | None:
    """A count: an integer (or an integral decimal), never text, a fraction or NULL."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return float(value)
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return float(value)
    return None


def _kind(value: object) -> str:
    """What a value is, never what it holds (check results are public)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float):
        return "a floating-point number"
    if isinstance(value, int | Decimal):
        return "a fraction" if _number(value) is not None else "a number that is not finite"
    if isinstance(value, str):
        return "text"
    if isinstance(value, datetime | date):
        return "a date or time"
    return f"a value of type {type(value).__name__}"


def _has_pii(spec: ProductSpec) -> bool:
    return any(column.pii for column in spec.columns)
