"""Turn the rows a run got back into outcomes. Pure: no I/O, time is an argument."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from querying.governor import identifiers_in, scrub_error
from querying.warehouses.base import QueryTimeout, Result

from .gate import CustomSqlRefused
from .readings import SINGLE_COUNT, Values, as_utc, count_text, human_hours
from .specs import SCHEMA_TYPE, CheckOutcome, CheckSpec, CheckStatus, ProductSpec, outcome
from .sql import Statement, newest_key, nulls_key, param_problem
from .types import CheckType, Judging, declaration

__all__ = [
    "MAX_ERROR_CHARS",
    "SINGLE_COUNT",
    "Results",
    "as_utc",
    "collect_values",
    "describe_error",
    "evaluate",
    "human_hours",
    "newest_value_at",
]

Results = Mapping[Statement, Result | BaseException]
# Check messages are written by the portal; engine text in them is scrubbed and bounded.
MAX_ERROR_CHARS = 300


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
    values = Values(*collect_values(results_by_statement))
    outcomes: list[CheckOutcome] = []
    for index, check in enumerate(spec.checks):
        problem = param_problem(check, spec)
        declared = declaration(check.type)
        if problem is not None or declared is None:
            outcomes.append(outcome(check, CheckStatus.ERROR, problem or "unknown check type"))
            continue
        judging = Judging(index, values, spec, now, known_not_null)
        outcomes.append(declared.judge(check, judging))
    for column in spec.columns:
        if column.nullable or column.name in known_not_null:
            continue
        name = f"schema:{column.name}:nullable"
        schema_check = CheckSpec(name=name, type=SCHEMA_TYPE, column=column.name)
        nulls, error = values.get(nulls_key(column.name))
        if error is not None:
            outcomes.append(
                outcome(schema_check, CheckStatus.ERROR, f"could not count NULLs: {error}")
            )
        elif nulls:
            outcomes.append(
                outcome(
                    schema_check,
                    CheckStatus.FAILED,
                    f"column {column.name} is declared nullable: false "
                    f"but holds {count_text(nulls)} NULL values",
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
        if statement.owner_sql and (
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
        if check.type == CheckType.FRESHNESS and check.column:
            return as_utc(values.get(newest_key(check.column)))
    return None
