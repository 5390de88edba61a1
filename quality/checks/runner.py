"""Run one product's checks through a warehouse adapter. No Django; the Celery task calls this."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from querying.warehouses.base import QueryTimeout, Result, Warehouse, WarehouseColumn

from .evaluate import collect_values, evaluate, newest_value_at
from .gate import (
    CustomSqlRefused,
    FilteredCount,
    GateFunction,
    filtered_count,
    make_default_gate,
)
from .nodes import ROWS
from .profile import Sample, build_profile, profile_aggregates, read_sample, sample_statement
from .readings import Values
from .schema import TEMPORAL_TYPES, base_type, find_column, schema_outcomes
from .specs import (
    SCHEMA_TYPE,
    CheckOutcome,
    CheckSpec,
    CheckStatus,
    ColumnSpec,
    ProductSpec,
    outcome,
)
from .sql import Plan, Statement, compile_plan, param_problem
from .types import COLUMN_CHECK_TYPES, CheckType


@dataclass
class RunReport:
    """What one product run found; `error` outcomes count as failing."""

    outcomes: list[CheckOutcome]
    table_reachable: bool
    statements_sent: int  # execute() calls, not counting the columns() lookup
    elapsed_ms: float
    newest_value_at: datetime | None = None
    # With ``profile``: the columns' profile (profile.py ``build_profile``); None without.
    profile: dict[str, Any] | None = None
    # Every value the statements returned, by result key (a draft reads its statistics here).
    values: Values | None = None

    @property
    def passed(self) -> bool:
        """Whether every outcome passed."""
        return all(o.passed for o in self.outcomes)


def run_product(
    warehouse: Warehouse,
    spec: ProductSpec,
    *,
    now: datetime,
    timeout_s: float = 60,
    custom_sql_gate: GateFunction | None = None,
    unique_style: str | None = None,
    hash_key: str = "",
    profile: bool = False,
    profile_sample: bool = True,
    profile_built: bool = True,
    columns: Sequence[WarehouseColumn] | None = None,
) -> RunReport:
    """Run `spec`'s checks and schema conformance against `warehouse`.

    Steps:
    1. `columns(table)` (unless the caller passes the `columns` it has just read): table
       missing or warehouse down -> every check `error`;
    2. schema conformance (missing columns, type families); checks on a missing column, or
       freshness on a non-temporal column, become `error` and are not compiled;
    3. pass each `custom_sql` check through `custom_sql_gate` (default `gate.py`, which reads
       PII through its masks, the `hash` mask keyed with `hash_key`); one whose governed
       statement is a filtered count of its product becomes an aggregate of the scan
       (`gate.filtered_count`), the others are sent on their own;
    4. compile the plan, knowing which columns the warehouse declares NOT NULL, with the
       profile's aggregates when `profile`;
    5. send each statement within one `timeout_s` budget for the whole run; if the fused scan
       fails for a reason other than a timeout, re-run its aggregates one by one (without
       the profile's) so one bad check cannot take the others down with it;
    6. with `profile` (and `profile_sample`), read one bounded sample (profile.py) once the
       scan has counted the rows;
    7. evaluate the rows against `now`; build the profile (unless `profile_built` is off: the
       profile's aggregates still go into `values`, for a caller that builds its own, as a
       draft does with its own sample).
    """
    started = time.perf_counter()
    deadline = time.monotonic() + timeout_s

    def report(outcomes: list[CheckOutcome], reachable: bool, sent: int) -> RunReport:
        return RunReport(
            outcomes=outcomes,
            table_reachable=reachable,
            statements_sent=sent,
            elapsed_ms=(time.perf_counter() - started) * 1000,
        )

    if columns is None:
        try:
            columns = warehouse.columns(spec.table)
        except Exception as exc:  # any failure here means "could not run"
            return report(_all_error(spec, f"warehouse unavailable: {exc}"), False, 0)
    if columns is None:
        return report(_all_error(spec, f"table {spec.table} does not exist"), False, 0)

    outcomes = schema_outcomes(spec, columns)
    pre_errors: dict[int, CheckOutcome] = {}
    runnable_checks: list[CheckSpec] = []
    runnable_index: list[int] = []
    for index, check in enumerate(spec.checks):
        if check.type in COLUMN_CHECK_TYPES and check.column:
            found = find_column(columns, check.column)
            if found is None:
                pre_errors[index] = outcome(
                    check,
                    CheckStatus.ERROR,
                    f"column {check.column} does not exist in {spec.table}",
                )
                continue
            if check.type == CheckType.FRESHNESS and base_type(found.type) not in TEMPORAL_TYPES:
                pre_errors[index] = outcome(
                    check,
                    CheckStatus.ERROR,
                    f"freshness needs a timestamp column; {found.name} is {found.type}",
                )
                continue
            check = dataclasses.replace(check, column=found.name)
        runnable_checks.append(check)
        runnable_index.append(index)

    present_columns: list[ColumnSpec] = []
    for declared in spec.columns:
        found = find_column(columns, declared.name)
        if found is not None:
            present_columns.append(dataclasses.replace(declared, name=found.name))
    runnable = dataclasses.replace(
        spec, checks=tuple(runnable_checks), columns=tuple(present_columns)
    )
    known_not_null = frozenset(c.name for c in columns if not c.nullable)
    dialect = warehouse.dialect
    schema = warehouse.schema
    gate = custom_sql_gate or make_default_gate(spec, dialect, hash_key, schema)
    # A lifted check reads the projection of every declared column: all of them must exist.
    every_column = len(present_columns) == len(spec.columns)
    lifted = _lift(runnable, spec, gate, dialect, hash_key, schema) if every_column else {}
    counted = frozenset(
        {c.column for c in runnable.checks if c.type == CheckType.NOT_NULL and c.column}
        | {c.name for c in present_columns if not c.nullable}
    )
    aggregates = (
        profile_aggregates(present_columns, counted=counted, known_not_null=known_not_null)
        if profile
        else None
    )
    plan = compile_plan(
        runnable,
        dialect,
        known_not_null=known_not_null,
        unique_style=unique_style,
        lifted=lifted,
        profile=aggregates,
    )

    results: dict[Statement, Result | BaseException] = {}
    sent = 0
    for statement in plan.statements:
        sent += _send(warehouse, statement, results, gate=gate, deadline=deadline)
        failure = results[statement]
        if (
            statement.purpose == "scan"
            and isinstance(failure, Exception)
            and not isinstance(failure, QueryTimeout)
            and len(statement.outputs) > 1
        ):
            split = compile_plan(
                runnable,
                dialect,
                known_not_null=known_not_null,
                unique_style=unique_style,
                split_scan=True,
                lifted=lifted,
            )
            for part in _scan_parts(split):
                sent += _send(warehouse, part, results, gate=gate, deadline=deadline)

    sample: Sample | None = None
    if profile and profile_sample:
        sample, sample_sent = _sample(warehouse, runnable, results, hash_key, deadline)
        sent += sample_sent

    evaluated = evaluate(runnable, results, now=now, known_not_null=known_not_null)
    by_index = dict(zip(runnable_index, evaluated, strict=False))
    for index in range(len(spec.checks)):
        outcomes.append(pre_errors[index] if index in pre_errors else by_index[index])
    outcomes.extend(evaluated[len(runnable_checks) :])  # nullable: false problems

    final = report(outcomes, True, sent)
    final.newest_value_at = newest_value_at(runnable, results)
    final.values = Values(*collect_values(results))
    if profile and profile_built:
        final.profile = build_profile(
            present_columns,
            final.values,
            sample=sample,
            computed_at=now,
            known_not_null=known_not_null,
        )
    return final


def _lift(
    runnable: ProductSpec,
    spec: ProductSpec,
    gate: GateFunction,
    dialect: str,
    hash_key: str,
    schema: str | None = None,
) -> dict[int, FilteredCount]:
    """The custom checks (by index) whose governed SQL is a filtered count of the product."""
    lifted: dict[int, FilteredCount] = {}
    for index, check in enumerate(runnable.checks):
        if check.type != CheckType.CUSTOM_SQL or param_problem(check, runnable) is not None:
            continue
        try:
            gated = gate(str(check.params["sql"]))
        except Exception:  # refused (or a gate bug): sent on its own, where it is recorded
            continue
        folded = filtered_count(gated, spec=spec, dialect=dialect, hash_key=hash_key, schema=schema)
        if folded is not None:
            lifted[index] = folded
    return lifted


def _sample(
    warehouse: Warehouse,
    spec: ProductSpec,
    results: dict[Statement, Result | BaseException],
    hash_key: str,
    deadline: float,
) -> tuple[Sample | None, int]:
    """The profile's sample, sized by the scan's row count; None when it could not be read."""
    values, _ = collect_values(results)
    rows = values.get(ROWS)
    count = rows if isinstance(rows, int) and not isinstance(rows, bool) else None
    try:
        statement = sample_statement(spec, warehouse.dialect, rows=count, hash_key=hash_key)
    except ValueError:  # a PII column and no hash key: no sample rather than a raw one
        return None, 0
    if statement is None:
        return None, 0
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return None, 0
    try:
        result = warehouse.execute(
            statement.sql, (), timeout_s=remaining, max_rows=None, session=statement.session
        )
    except Exception:  # the profile is best effort: the checks' outcomes stand without it
        return None, 1
    return read_sample(statement, result.rows), 1


def _send(
    warehouse: Warehouse,
    statement: Statement,
    results: dict[Statement, Result | BaseException],
    *,
    gate: GateFunction,
    deadline: float,
) -> int:
    """Run one statement into `results`; return how many statements reached the warehouse."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        results[statement] = QueryTimeout("the run used up its time budget before this statement")
        return 0
    sql, session = statement.sql, dict(statement.session)
    is_custom = statement.owner_sql
    if is_custom:
        try:
            gated = gate(sql)
            sql, session = gated.sql, dict(gated.session)
        except Exception as exc:  # an injected gate may raise anything
            results[statement] = CustomSqlRefused(str(exc).strip() or type(exc).__name__)
            return 0
    try:
        # A custom check must return one row: fetch two to tell.
        results[statement] = warehouse.execute(
            sql,
            statement.params,
            timeout_s=remaining,
            max_rows=1 if is_custom else None,
            session=session,
        )
    except Exception as exc:  # WarehouseError, QueryTimeout, driver bugs alike
        results[statement] = exc
    return 1


def _scan_parts(plan: Plan) -> list[Statement]:
    return [s for s in plan.statements if s.purpose.startswith("scan:")]


def _all_error(spec: ProductSpec, message: str) -> list[CheckOutcome]:
    schema = CheckSpec(name=SCHEMA_TYPE, type=SCHEMA_TYPE)
    return [outcome(schema, CheckStatus.ERROR, message)] + [
        outcome(check, CheckStatus.ERROR, message) for check in spec.checks
    ]
