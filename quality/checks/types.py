"""Every check type, declared once: what it takes, what it computes, how its value is judged.

One ``Declaration`` per ``CheckType`` in ``DECLARATIONS``; every consumer iterates them and none
names a check type of its own:

- the contract (catalog/contract/validate.py): which column a check needs, its params and
  their validation (``column_problem``, ``param_problems``, ``normalized``);
- the JSON Schema (catalog/contract/schema.py): ``json_schema``, built from the same params;
- the compiler (sql.py): ``sql``, the aggregates it adds to the fused scan or its own statement;
- the evaluator (evaluate.py): ``judge``, the value against the check;
- the ODCS mapping (catalog/odcs.py): ``odcs``, the rule it exports as and reads back from;
- the diff (catalog/contract_diff.py): each param's ``loosening``.

Adding a check type is one new entry here plus its tests (tests/quality/test_checks_types.py
walks every declaration through every consumer).

Invariant: the engine validates a check with the contract's own rules (``problems``), so a
check the contract would refuse never runs: its outcome is ``error``. Where the two used to
disagree, the stricter rule won (issue 14): ``row_count`` without bounds (or with null bounds)
is refused, not defaulted to ``minRows: 1``. The one difference left is deliberate: a param
key the type does not know is refused by the contract (a typo never becomes a default) and
ignored by the engine.

Pure Python. It imports only the contract's leaf modules (vocabulary, limits), never the rest
of catalog.contract, which imports this module (quality/checks/__init__.py loads the contract
first, so either package can be imported first).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlglot import exp

from catalog.contract.limits import (
    CUSTOM_SQL_MAX_LENGTH,
    STALE_HOURS_MAX,
    is_int,
)
from catalog.contract.vocabulary import (
    COLUMN_TYPES,
    FRESHNESS_HOURS,
    NUMERIC_TYPES,
    SCALAR_TYPES,
    ColumnType,
)

from .gate import FilteredCount
from .nodes import (
    ROWS,
    col,
    count_star,
    count_where,
    custom_key,
    dupes_key,
    literal,
    newest_key,
    non_null_and,
    null_count,
    nulls_key,
    outside_key,
    rows_minus_distinct,
)
from .params import Loosening, NumberParam, Param, Problem, TextParam, ValuesParam
from .readings import SINGLE_COUNT, Values, as_utc, count_text, human_hours, integer, kind, number
from .specs import CheckOutcome, CheckSpec, CheckStatus, ProductSpec, outcome

Params = Mapping[str, Any]


class CheckType(StrEnum):
    """The checks the engine runs (stored values; the order is the contract's)."""

    NOT_NULL = "not_null"
    UNIQUE = "unique"
    RANGE = "range"
    FRESHNESS = "freshness"
    ROW_COUNT = "row_count"
    CUSTOM_SQL = "custom_sql"
    ACCEPTED_VALUES = "accepted_values"


class ColumnUse(StrEnum):
    """Whether a check names a column."""

    REQUIRED = "required"
    OPTIONAL = "optional"
    NONE = "none"


# ---------------------------------------------------------------------------------------------
# What the compiler, the evaluator and the ODCS mapping hand a declaration
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Compiling:
    """What the compiler knows while it compiles one check."""

    table: exp.Table
    dialect: str
    known_not_null: frozenset[str]  # columns the warehouse declares NOT NULL
    unique_style: str  # "fused" | "distinct" | "group" (sql.py, UNIQUE_STYLE)
    # custom_sql checks (by index) whose governed statement is a filtered count (gate.py)
    lifted: Mapping[int, FilteredCount] = field(default_factory=dict)


@dataclass(frozen=True)
class Aggregate:
    """A value computed in the fused scan; checks asking for the same key share it."""

    key: str
    expr: exp.Expr
    # Session variables the expression reads (a lifted custom check's hash key).
    session: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class Query:
    """A statement of its own; the same key is sent once. The owner's SQL is sent last."""

    key: str
    purpose: str
    sql: str
    owner_sql: bool = False  # sent through the custom-SQL gate (runner.py)


@dataclass(frozen=True)
class Judging:
    """What the evaluator knows while it judges one check."""

    index: int
    values: Values
    spec: ProductSpec
    now: datetime
    known_not_null: frozenset[str]


@dataclass(frozen=True)
class ForeignRule:
    """An ODCS quality rule written elsewhere (without our customProperties), as read."""

    kind: object  # ODCS "type": library | sql | text | custom
    metric: object  # ODCS "rule" (or the older "metric")
    column: str | None  # the property it is attached to; None on the object
    rule: Mapping[str, Any]

    @property
    def arguments(self) -> Mapping[str, Any]:
        """The rule's arguments, or an empty mapping."""
        raw = self.rule.get("arguments")
        return raw if isinstance(raw, Mapping) else {}

    @property
    def counts_zero_rows(self) -> bool:
        """``mustBe: 0`` rows: the rule passes when no row breaks it."""
        return self.rule.get("mustBe") == 0 and self.rule.get("unit", "rows") == "rows"


@dataclass(frozen=True)
class Odcs:
    """How a check type maps to ODCS v3 quality rules."""

    dimension: str
    export: Callable[[CheckSpec], dict[str, Any]]  # the rule's own keys
    reads_from: str = ""  # the ODCS rule a foreign document writes it as ("" for none)
    read: Callable[[ForeignRule], dict[str, Any] | None] | None = None  # -> our params


# ---------------------------------------------------------------------------------------------
# The declaration
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Declaration:
    """Everything about one check type; consumers call these, never branch on the type."""

    type: CheckType
    column: ColumnUse
    sql: Callable[[CheckSpec, int, Compiling], list[Aggregate | Query]]
    judge: Callable[[CheckSpec, Judging], CheckOutcome]
    odcs: Odcs
    params: tuple[Param, ...] = ()
    bounds: tuple[str, str] | None = None  # (low, high): at least one set, low <= high
    column_types: tuple[ColumnType, ...] = ()  # the declared column types it reads (): any
    column_words: str = ""  # what column_types say in words
    runnable: Callable[[CheckSpec, ProductSpec], str | None] | None = None  # engine-only

    @property
    def param_names(self) -> tuple[str, ...]:
        """The params this type takes, in declaration order."""
        return tuple(p.name for p in self.params)

    def column_problem(self, *, has_column: bool) -> Problem | None:
        """A column named where none is used, or missing where one is needed."""
        if self.column == ColumnUse.REQUIRED and not has_column:
            return Problem("column", f"required for {self.type}")
        if self.column == ColumnUse.NONE and has_column:
            return Problem("column", f"not used by {self.type}; remove it")
        return None

    def param_problems(self, params: Params, *, column_type: object = None) -> list[Problem]:
        """Problems of the known params, then of their combination, then of the column's type.

        Keys the type does not know are the caller's business. ``column_type`` is the declared
        type of the check's column; None (the engine) skips the rules that need it.
        """
        out: list[Problem] = []
        valid: dict[str, Any] = {}
        for param in self.params:
            path = f"params.{param.name}"
            value = params.get(param.name)
            if value is None:
                if param.required:
                    words = param.kind.required_words
                    out.append(Problem(path, f"required for {self.type}{words}"))
                continue
            found = param.kind.problems(value, path, column_type)
            out += found
            if not found:
                valid[param.name] = value
        if self.bounds is not None:
            low, high = self.bounds
            if params.get(low) is None and params.get(high) is None:
                out.append(
                    Problem("params", f"{self.type} needs params.{low} and/or params.{high}")
                )
            elif low in valid and high in valid and valid[low] > valid[high]:
                out.append(
                    Problem(
                        f"params.{low}",
                        f"must not exceed params.{high} ({valid[low]} > {valid[high]})",
                    )
                )
        # A column whose own type is wrong is reported there once, not again on each check.
        if (
            self.column_types
            and column_type in COLUMN_TYPES
            and column_type not in self.column_types
        ):
            out.append(
                Problem("column", f"{self.type} needs {self.column_words}, not {column_type}")
            )
        return out

    def problems(self, check: CheckSpec) -> list[Problem]:
        """Why the engine cannot run ``check`` as declared (column and params), or []."""
        column = self.column_problem(has_column=bool(check.column))
        return ([column] if column else []) + self.param_problems(check.params)

    def normalized(self, params: Params) -> dict[str, Any]:
        """``params`` as stored: integral floats of integer params become ints (1000.0 → 1000)."""
        integers = {
            p.name for p in self.params if isinstance(p.kind, NumberParam) and p.kind.integer
        }
        return {k: int(v) if k in integers and is_int(v) else v for k, v in params.items()}

    def json_schema(self) -> dict[str, Any]:
        """This type's JSON-Schema fragment: an ``if`` on the check's type, ``then`` its rules."""
        required = [p.name for p in self.params if p.required]
        params: dict[str, Any] = {
            "type": "object",
            "properties": {p.name: p.kind.json_schema() for p in self.params},
            "additionalProperties": False,
        }
        if required:
            params["required"] = required
        if self.bounds is not None:
            params["minProperties"] = 1
        then: dict[str, Any] = {"properties": {"params": params}}
        needs = ["column"] if self.column == ColumnUse.REQUIRED else []
        if required or self.bounds is not None:
            needs.append("params")
        if needs:
            then["required"] = needs
        if self.column == ColumnUse.NONE:
            then["not"] = {"required": ["column"]}
        condition = {"properties": {"type": {"const": self.type.value}}, "required": ["type"]}
        return {"if": condition, "then": then}


# ---------------------------------------------------------------------------------------------
# Shared pieces of the declarations
# ---------------------------------------------------------------------------------------------


def _column(check: CheckSpec) -> str:
    return check.column or ""


def _counted(
    check: CheckSpec, reading: tuple[float | None, str | None], passed: str, failed: str
) -> CheckOutcome:
    """Passes at a count of 0; fails with ``<count> <failed>``; no count is an error."""
    value, error = reading
    if value is None:
        return outcome(check, CheckStatus.ERROR, error or "no value")
    if value == 0:
        return outcome(check, CheckStatus.PASSED, passed, value)
    return outcome(check, CheckStatus.FAILED, f"{count_text(value)} {failed}", value)


def _outside(where: Callable[[CheckSpec], str]) -> Callable[[CheckSpec, Judging], CheckOutcome]:
    """Judge the non-null rows of the check's column that lie outside ``where``."""

    def judge(check: CheckSpec, j: Judging) -> CheckOutcome:
        column, shown = _column(check), where(check)
        reading = j.values.get(outside_key(j.index))
        return _counted(
            check, reading, f"every non-null {column} is {shown}", f"rows with {column} not {shown}"
        )

    return judge


def _zero_rows(rule: str, dimension: str) -> Odcs:
    """An ODCS library rule that counts the rows breaking it and passes at 0."""

    def export(check: CheckSpec) -> dict[str, Any]:
        return {"type": "library", "rule": rule, "mustBe": 0, "unit": "rows"}

    def read(foreign: ForeignRule) -> dict[str, Any] | None:
        matches = foreign.kind == "library" and foreign.metric == rule
        return {} if matches and foreign.counts_zero_rows and foreign.column else None

    return Odcs(dimension, export, rule, read)


# --- not_null -------------------------------------------------------------------------------


def _not_null_sql(check: CheckSpec, index: int, at: Compiling) -> list[Aggregate | Query]:
    column = _column(check)
    # What the catalog already proves is not computed.
    return [] if column in at.known_not_null else [Aggregate(nulls_key(column), null_count(column))]


def _not_null_judge(check: CheckSpec, j: Judging) -> CheckOutcome:
    column = _column(check)
    if column in j.known_not_null:
        return outcome(check, CheckStatus.PASSED, f"{column} is NOT NULL in the warehouse", 0.0)
    reading = j.values.get(nulls_key(column))
    return _counted(check, reading, f"no NULL values in {column}", f"NULL values in {column}")


# --- unique ---------------------------------------------------------------------------------


def _unique_sql(check: CheckSpec, index: int, at: Compiling) -> list[Aggregate | Query]:
    column = _column(check)
    if at.unique_style == "fused":
        return [Aggregate(dupes_key(column), rows_minus_distinct(column))]
    sql = unique_statement(at.table, column, at.unique_style).sql(dialect=at.dialect)
    return [Query(dupes_key(column), f"unique:{column}", sql)]


def unique_statement(table: exp.Table, column: str, style: str) -> exp.Select:
    """Rows minus distinct values of ``column``, as its own statement in ``style``."""
    if style != "group":
        return exp.select(exp.alias_(rows_minus_distinct(column), "dupes")).from_(table.copy())
    # rows minus distinct values = sum over duplicated values of (count - 1)
    groups = (
        exp.select(exp.alias_(count_star(), "c"))
        .from_(table.copy())
        .where(exp.not_(col(column).is_(exp.null())))
        .group_by(col(column))
        .having(exp.GT(this=count_star(), expression=exp.Literal.number(1)))
    )
    total = exp.Coalesce(
        this=exp.Sum(this=exp.Sub(this=exp.column("c"), expression=exp.Literal.number(1))),
        expressions=[exp.Literal.number(0)],
    )
    return exp.select(exp.alias_(total, "dupes")).from_(groups.subquery("d"))


def _unique_judge(check: CheckSpec, j: Judging) -> CheckOutcome:
    column = _column(check)
    reading = j.values.get(dupes_key(column))
    return _counted(
        check,
        reading,
        f"no duplicate values in {column}",
        f"duplicate rows in {column} (rows - distinct)",
    )


# --- range ----------------------------------------------------------------------------------


def _range_sql(check: CheckSpec, index: int, at: Compiling) -> list[Aggregate | Query]:
    column = _column(check)
    conditions: list[exp.Expr] = []
    low, high = check.params.get("min"), check.params.get("max")
    if low is not None:
        conditions.append(exp.LT(this=col(column), expression=exp.Literal.number(low)))
    if high is not None:
        conditions.append(exp.GT(this=col(column), expression=exp.Literal.number(high)))
    outside = exp.or_(*conditions) if len(conditions) > 1 else conditions[0]
    return [Aggregate(outside_key(index), count_where(non_null_and(column, outside)))]


def _range_text(check: CheckSpec) -> str:
    low, high = check.params.get("min"), check.params.get("max")
    if low is not None and high is not None:
        return f"between {low} and {high}"
    return f">= {low}" if low is not None else f"<= {high}"


def _range_odcs(check: CheckSpec) -> dict[str, Any]:
    # No portable ODCS library rule: the SQL that counts the rows outside.
    conditions = []
    if check.params.get("min") is not None:
        conditions.append(f"{{property}} < {check.params['min']}")
    if check.params.get("max") is not None:
        conditions.append(f"{{property}} > {check.params['max']}")
    query = f"SELECT COUNT(*) FROM {{object}} WHERE {' OR '.join(conditions)}"
    return {"type": "sql", "query": query, "mustBe": 0}


# --- accepted_values ------------------------------------------------------------------------


def _accepted_values_sql(check: CheckSpec, index: int, at: Compiling) -> list[Aggregate | Query]:
    column = _column(check)
    values = check.params.get("values")
    nodes = [node for v in values if (node := literal(v)) is not None] if values else []
    outside = exp.not_(exp.In(this=col(column), expressions=nodes))
    return [Aggregate(outside_key(index), count_where(non_null_and(column, outside)))]


def _accepted_values_text(check: CheckSpec) -> str:
    values = check.params.get("values")
    shown = ", ".join(repr(v) for v in values) if isinstance(values, list | tuple) else ""
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return f"in [{shown}]"


def _accepted_values_odcs(check: CheckSpec) -> dict[str, Any]:
    return {
        "type": "library",
        "rule": "invalidValues",
        "arguments": {"validValues": list(check.params["values"])},
        "mustBe": 0,
        "unit": "rows",
    }


def _accepted_values_read(foreign: ForeignRule) -> dict[str, Any] | None:
    rule_matches = foreign.kind == "library" and foreign.metric in ("invalidValues", "validValues")
    if not (rule_matches and foreign.counts_zero_rows and foreign.column):
        return None
    values = foreign.arguments.get("validValues")
    if isinstance(values, list) and values and not foreign.arguments.get("pattern"):
        return {"values": values}
    return None


# --- freshness ------------------------------------------------------------------------------


def _stale_limit(check: CheckSpec, sla: str) -> float | None:
    """``maxStaleHours``, else the SLA's freshness window; None for an unknown SLA."""
    hours = number(check.params.get("maxStaleHours"))
    return hours if hours is not None else FRESHNESS_HOURS.get(sla)


def _freshness_runnable(check: CheckSpec, spec: ProductSpec) -> str | None:
    if _stale_limit(check, spec.freshness_sla) is None:
        return f"no params.maxStaleHours and unknown SLA freshness {spec.freshness_sla!r}"
    return None


def _freshness_sql(check: CheckSpec, index: int, at: Compiling) -> list[Aggregate | Query]:
    column = _column(check)
    # The row count tells "no rows" from "all NULL".
    return [Aggregate(ROWS, count_star()), Aggregate(newest_key(column), exp.Max(this=col(column)))]


def _freshness_judge(check: CheckSpec, j: Judging) -> CheckOutcome:
    column = _column(check)
    limit = _stale_limit(check, j.spec.freshness_sla)
    assert limit is not None  # _freshness_runnable
    rows, error = j.values.get(ROWS)
    if rows is None:
        return outcome(check, CheckStatus.ERROR, error or "no value")
    if rows == 0:
        return outcome(check, CheckStatus.FAILED, "no rows")
    raw, error = j.values.raw(newest_key(column))
    if error is not None:
        return outcome(check, CheckStatus.ERROR, error)
    if raw is None:
        return outcome(check, CheckStatus.FAILED, f"no non-null values in {column}")
    newest = as_utc(raw)
    if newest is None:
        return outcome(check, CheckStatus.ERROR, f"max({column}) is {kind(raw)}, not a timestamp")
    now = j.now.replace(tzinfo=UTC) if j.now.tzinfo is None else j.now
    hours = (now - newest).total_seconds() / 3600
    status = CheckStatus.PASSED if hours <= limit else CheckStatus.FAILED
    message = f"newest {column} is {human_hours(hours)} old (limit {human_hours(limit)})"
    return outcome(check, status, message, hours)


def _freshness_odcs(check: CheckSpec) -> dict[str, Any]:
    # No portable ODCS rule: described (and carried exactly in customProperties).
    hours = check.params.get("maxStaleHours")
    window = f"{hours} hours" if hours is not None else "the SLA's freshness window"
    return {"type": "text", "description": f"The newest {check.column} is at most {window} old."}


# --- row_count ------------------------------------------------------------------------------


def _row_count_sql(check: CheckSpec, index: int, at: Compiling) -> list[Aggregate | Query]:
    return [Aggregate(ROWS, count_star())]


def _row_count_judge(check: CheckSpec, j: Judging) -> CheckOutcome:
    rows, error = j.values.get(ROWS)
    if rows is None:
        return outcome(check, CheckStatus.ERROR, error or "no value")
    low, high = number(check.params.get("minRows")), number(check.params.get("maxRows"))
    if low is not None and rows < low:
        message = f"{count_text(rows)} rows, expected at least {count_text(low)}"
        return outcome(check, CheckStatus.FAILED, message, rows)
    if high is not None and rows > high:
        message = f"{count_text(rows)} rows, expected at most {count_text(high)}"
        return outcome(check, CheckStatus.FAILED, message, rows)
    return outcome(check, CheckStatus.PASSED, f"{count_text(rows)} rows", rows)


def _row_count_odcs(check: CheckSpec) -> dict[str, Any]:
    rule: dict[str, Any] = {"type": "library", "rule": "rowCount"}
    low, high = check.params.get("minRows"), check.params.get("maxRows")
    if low is not None and high is not None:
        rule["mustBeBetween"] = [low, high]
    elif low is not None:
        rule["mustBeGreaterOrEqualTo"] = low
    else:
        rule["mustBeLessOrEqualTo"] = high
    return rule


def _row_count_read(foreign: ForeignRule) -> dict[str, Any] | None:
    if foreign.kind != "library" or foreign.metric != "rowCount" or foreign.column:
        return None
    rule = foreign.rule
    between = rule.get("mustBeBetween")
    if isinstance(between, list) and len(between) == 2:
        return {"minRows": between[0], "maxRows": between[1]}
    params = {}
    if rule.get("mustBeGreaterOrEqualTo") is not None:
        params["minRows"] = rule["mustBeGreaterOrEqualTo"]
    if rule.get("mustBeLessOrEqualTo") is not None:
        params["maxRows"] = rule["mustBeLessOrEqualTo"]
    return params or None


# --- custom_sql -----------------------------------------------------------------------------


def _custom_sql_sql(check: CheckSpec, index: int, at: Compiling) -> list[Aggregate | Query]:
    lifted = at.lifted.get(index)
    if lifted is not None:
        # Its governed statement is a filtered count: one more aggregate of the scan (gate.py).
        condition = lifted.condition
        counted = count_star() if condition is None else count_where(condition.copy())
        return [Aggregate(custom_key(index), counted, lifted.session)]
    # The owner's SQL, as written: the runner passes it through the custom-SQL gate.
    sql = str(check.params["sql"])
    return [Query(custom_key(index), f"custom_sql:{check.name}", sql, owner_sql=True)]


def _custom_sql_judge(check: CheckSpec, j: Judging) -> CheckOutcome:
    raw, error = j.values.raw(custom_key(j.index))
    if error is not None:
        return outcome(check, CheckStatus.ERROR, error)
    count = integer(raw)
    if count is None:
        return outcome(check, CheckStatus.ERROR, f"{SINGLE_COUNT}; this one returned {kind(raw)}")
    masked = ""
    if any(column.pii for column in j.spec.columns):
        masked = " (PII columns are read through their masks)"
    if count == 0:
        return outcome(check, CheckStatus.PASSED, f"custom SQL counted 0 rows{masked}", count)
    message = f"custom SQL counted {count_text(count)} rows, expected 0{masked}"
    return outcome(check, CheckStatus.FAILED, message, count)


def _custom_sql_odcs(check: CheckSpec) -> dict[str, Any]:
    return {"type": "sql", "query": check.params["sql"], "mustBe": 0}


def _custom_sql_read(foreign: ForeignRule) -> dict[str, Any] | None:
    query = foreign.rule.get("query")
    if foreign.kind == "sql" and isinstance(query, str) and foreign.rule.get("mustBe") == 0:
        return {"sql": query}
    return None


# ---------------------------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------------------------

_BOUND = NumberParam()
_ROWS = NumberParam(integer=True, minimum=0, too_small="must be a non-negative integer")
_HOURS = NumberParam(
    exclusive_minimum=0,
    maximum=STALE_HOURS_MAX,
    too_small="must be a positive number",
    too_large=f"must be at most {STALE_HOURS_MAX:,} (ten years)",
)

DECLARATIONS: dict[str, Declaration] = {
    d.type: d
    for d in (
        Declaration(
            CheckType.NOT_NULL,
            ColumnUse.REQUIRED,
            sql=_not_null_sql,
            judge=_not_null_judge,
            odcs=_zero_rows("nullValues", "completeness"),
        ),
        Declaration(
            CheckType.UNIQUE,
            ColumnUse.REQUIRED,
            sql=_unique_sql,
            judge=_unique_judge,
            odcs=_zero_rows("duplicateValues", "uniqueness"),
        ),
        Declaration(
            CheckType.RANGE,
            ColumnUse.REQUIRED,
            params=(
                Param("min", _BOUND, Loosening.LOWER_BOUND),
                Param("max", _BOUND, Loosening.UPPER_BOUND),
            ),
            bounds=("min", "max"),
            column_types=NUMERIC_TYPES,
            column_words="a numeric column (integer or float)",
            sql=_range_sql,
            judge=_outside(_range_text),
            odcs=Odcs("accuracy", _range_odcs),
        ),
        Declaration(
            CheckType.FRESHNESS,
            ColumnUse.REQUIRED,
            params=(Param("maxStaleHours", _HOURS, Loosening.UPPER_BOUND, sla_default=True),),
            column_types=(ColumnType.TIMESTAMP,),
            column_words="a timestamp column",
            runnable=_freshness_runnable,
            sql=_freshness_sql,
            judge=_freshness_judge,
            odcs=Odcs("timeliness", _freshness_odcs),
        ),
        Declaration(
            CheckType.ROW_COUNT,
            ColumnUse.NONE,
            params=(
                Param("minRows", _ROWS, Loosening.LOWER_BOUND),
                Param("maxRows", _ROWS, Loosening.UPPER_BOUND),
            ),
            bounds=("minRows", "maxRows"),
            sql=_row_count_sql,
            judge=_row_count_judge,
            odcs=Odcs("completeness", _row_count_odcs, "rowCount", _row_count_read),
        ),
        Declaration(
            CheckType.CUSTOM_SQL,
            ColumnUse.OPTIONAL,
            params=(
                Param(
                    "sql",
                    TextParam(CUSTOM_SQL_MAX_LENGTH),
                    Loosening.ANY_CHANGE,
                    required=True,
                    shown_as="SQL",
                ),
            ),
            sql=_custom_sql_sql,
            judge=_custom_sql_judge,
            odcs=Odcs(
                "consistency", _custom_sql_odcs, "a sql rule with mustBe: 0", _custom_sql_read
            ),
        ),
        Declaration(
            CheckType.ACCEPTED_VALUES,
            ColumnUse.REQUIRED,
            params=(Param("values", ValuesParam(), Loosening.MORE_VALUES, required=True),),
            column_types=SCALAR_TYPES,
            column_words="a scalar column",
            sql=_accepted_values_sql,
            judge=_outside(_accepted_values_text),
            odcs=Odcs("conformity", _accepted_values_odcs, "invalidValues", _accepted_values_read),
        ),
    )
}
CHECK_TYPES = frozenset(DECLARATIONS)
COLUMN_CHECK_TYPES = frozenset(
    d.type for d in DECLARATIONS.values() if d.column == ColumnUse.REQUIRED
)


def declaration(check_type: object) -> Declaration | None:
    """The declaration of ``check_type``, or None when the engine has no such check."""
    return DECLARATIONS.get(check_type) if isinstance(check_type, str) else None
