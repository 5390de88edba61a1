"""Column profiles: what a run (or a draft) learns about each column besides its checks. Pure.

A profile is computed in two parts (issue 15):

- **in the fused scan** (sql.py ``compile_plan(profile=...)``), exact: the NULLs of every
  column (``count(col)``, or the count a ``not_null`` check or ``nullable: false`` makes
  anyway; none for a column the warehouse declares NOT NULL) and, for numeric and
  timestamp columns that are not PII, ``min`` and ``max`` (a timestamp's ``max`` is the key a
  freshness check shares);
- **from one bounded sample** (``sample_statement``), read after the scan: the number of
  distinct values (an estimate: the Haas-Stokes ``Duj1`` estimator PostgreSQL's ANALYZE uses,
  or exact when the sample is the whole table or a ``unique`` check counted it) and, for text
  and boolean columns with few distinct values, the most common values and their shares.

PII columns are read through their masks in the sample (the governor's mask expressions, the
hash keyed by the statement's session), and no ``min``/``max`` is computed for them: a profile
never holds a raw value of a PII column, so it can be stored and shown to every reader of the
product (counts are not values: a ``not_null`` or ``unique`` check shows the same numbers).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlglot import exp

from catalog.contract.vocabulary import DEFAULT_MASK, ColumnType
from querying.governor.masks import HASH_KEY_SETTING, mask_expression
from querying.governor.policy import NULL_MASK_TYPES

from .nodes import ROWS, col, dupes_key, newest_key, nulls_key
from .nodes import table as table_node
from .readings import Values, integer, number
from .specs import ColumnSpec, ProductSpec

SAMPLE_ROWS = 2_000
# A text or boolean column with at most this many distinct sampled values shows its top values.
LOW_CARDINALITY = 20
TOP_VALUES = 5
VALUE_MAX_CHARS = 80
MINMAX_TYPES = frozenset({ColumnType.INTEGER, ColumnType.FLOAT, ColumnType.TIMESTAMP})
SAMPLED_TYPES = frozenset(
    {
        ColumnType.STRING,
        ColumnType.INTEGER,
        ColumnType.FLOAT,
        ColumnType.BOOLEAN,
        ColumnType.TIMESTAMP,
    }
)
TOP_TYPES = frozenset({ColumnType.STRING, ColumnType.BOOLEAN})
# Engines whose TABLESAMPLE SYSTEM (percent) the sample uses; others read the first rows.
SAMPLING_DIALECTS = frozenset({"duckdb", "postgres"})


def count_key(column: str) -> str:
    """Key of ``count(column)``: its non-NULL rows (cheaper than counting the NULLs)."""
    return f"count:{column}"


def min_key(column: str) -> str:
    """Key of ``min(column)``."""
    return f"min:{column}"


def max_key(column: str, column_type: str) -> str:
    """Key of ``max(column)`` (a timestamp's is the freshness check's ``newest`` key)."""
    return newest_key(column) if column_type == ColumnType.TIMESTAMP else f"max:{column}"


def profile_aggregates(
    columns: Sequence[ColumnSpec],
    *,
    counted: frozenset[str] = frozenset(),
    known_not_null: frozenset[str] = frozenset(),
) -> dict[str, exp.Expr]:
    """The scan's profile aggregates for ``columns`` (those the warehouse has), by result key.

    ``count(col)`` gives a column's NULLs (rows minus it) unless the scan counts them already
    (``counted``: a ``not_null`` check or ``nullable: false``) or the warehouse declares the
    column NOT NULL (``known_not_null``).
    """
    out: dict[str, exp.Expr] = {}
    for column in columns:
        if column.name not in counted and column.name not in known_not_null:
            out[count_key(column.name)] = exp.Count(this=col(column.name))
        if column.type in MINMAX_TYPES and not column.pii:
            out[min_key(column.name)] = exp.Min(this=col(column.name))
            out[max_key(column.name, column.type)] = exp.Max(this=col(column.name))
    return out


# PII masks whose readings are worth counting as top values (a domain, the last characters);
# hash, null and redact readings say nothing a count does not.
TOP_VALUE_MASKS = frozenset({"email", "last4"})
DIGEST = "digest"
VALUE = "value"


@dataclass(frozen=True)
class SampleStatement:
    """The sample's SQL, how it was drawn and the session its masks read.

    Output column i is ``outputs[i]``: (column name, ``value`` or ``digest``). A PII column is
    sampled as its keyed hash (the ``hash`` mask: distinct digests are distinct values) and,
    for the ``email`` and ``last4`` masks, as its masked value too; never raw.
    """

    sql: str
    method: str  # "system" (TABLESAMPLE SYSTEM, then capped) | "first" (the first rows)
    outputs: tuple[tuple[str, str], ...]
    session: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)


def sampled_columns(columns: Sequence[ColumnSpec]) -> tuple[ColumnSpec, ...]:
    """The columns a profile samples (scalar types)."""
    return tuple(c for c in columns if c.type in SAMPLED_TYPES)


def sample_statement(
    spec: ProductSpec,
    dialect: str,
    *,
    rows: int | None,
    sample_rows: int = SAMPLE_ROWS,
    hash_key: str = "",
    system: bool = True,
    masked: bool = True,
) -> SampleStatement | None:
    """``SELECT <columns, PII masked> FROM <table> [TABLESAMPLE SYSTEM (p)] LIMIT n``.

    ``rows`` (the scan's exact count, None when unknown) sizes ``p`` so about three times
    ``sample_rows`` rows are drawn at random pages (blocks, vectors) and the first
    ``sample_rows`` of them are kept; a small table, an unknown count or ``system=False`` read
    the first rows. ``masked=False`` reads PII columns raw (a draft, before any mask exists).
    None when no column is sampled; ValueError when a PII column needs ``hash_key``.
    """
    columns = sampled_columns(spec.columns)
    if not columns:
        return None
    projections: list[exp.Expr] = []
    outputs: list[tuple[str, str]] = []
    uses_key = False
    for column in columns:
        if not (column.pii and masked):
            projections.append(col(column.name))
            outputs.append((column.name, VALUE))
            continue
        uses_key = True
        null_type = NULL_MASK_TYPES.get(column.type)
        digest = mask_expression(column.name, "hash", null_type=null_type, dialect=dialect)
        projections.append(exp.alias_(digest, f"d{len(projections)}"))
        outputs.append((column.name, DIGEST))
        mask = column.mask or DEFAULT_MASK
        if mask in TOP_VALUE_MASKS:
            reading = mask_expression(column.name, mask, null_type=null_type, dialect=dialect)
            projections.append(exp.alias_(reading, f"m{len(projections)}"))
            outputs.append((column.name, VALUE))
    if uses_key and not hash_key:
        raise ValueError("PII columns are sampled as keyed hashes: the hash key is needed")
    table = table_node(spec.table)
    method = "first"
    if system and dialect in SAMPLING_DIALECTS and rows is not None and rows > 4 * sample_rows:
        percent = min(100.0, round(300.0 * sample_rows / rows, 6))
        table.set(
            "sample",
            exp.TableSample(method=exp.var("SYSTEM"), percent=exp.Literal.number(percent)),
        )
        method = "system"
    query = exp.select(*projections).from_(table).limit(sample_rows)
    return SampleStatement(
        sql=query.sql(dialect=dialect),
        method=method,
        outputs=tuple(outputs),
        session={HASH_KEY_SETTING[dialect]: hash_key} if uses_key else {},
    )


@dataclass
class Sample:
    """What a sample read, per column: values to count, and to show (PII: masked readings)."""

    counted: dict[str, list[object]] = field(default_factory=dict)  # raw, or digests for PII
    shown: dict[str, list[object]] = field(default_factory=dict)  # raw, or masked readings
    rows: int = 0
    method: str = ""


def read_sample(statement: SampleStatement, rows: Sequence[Sequence[object]]) -> Sample:
    """The sampled values of each column (NULLs included), from the statement's rows."""
    sample = Sample(rows=len(rows), method=statement.method)
    for index, (name, role) in enumerate(statement.outputs):
        values = [row[index] if index < len(row) else None for row in rows]
        if role == DIGEST:
            sample.counted[name] = values
        else:
            sample.shown[name] = values
            sample.counted.setdefault(name, values)
    return sample


def estimate_distinct(values: Sequence[object], non_null_rows: int) -> tuple[int, bool]:
    """(distinct values, exact?) of a column from a sample of its non-null ``values``.

    The sample is the whole column when it holds every non-null row: exact. Otherwise the
    Haas-Stokes Duj1 estimator (what PostgreSQL's ANALYZE uses): ``n*d / (n - f1 + f1*n/N)``
    with ``d`` distinct values in the sample, ``f1`` of them seen once, ``N`` non-null rows;
    a sample without repeats is taken as all distinct.
    """
    n = len(values)
    counts = Counter(_hashable(v) for v in values)
    d = len(counts)
    if n == 0:
        return 0, non_null_rows == 0
    if n >= non_null_rows:
        return d, True
    f1 = sum(1 for c in counts.values() if c == 1)
    if f1 == n:
        return non_null_rows, False
    estimate = n * d / (n - f1 + f1 * n / non_null_rows)
    return max(d, min(non_null_rows, round(estimate))), False


def top_values(values: Sequence[object], *, limit: int = TOP_VALUES) -> list[dict[str, Any]]:
    """The most common non-null sampled values with their counts and shares of the sample."""
    present = [v for v in values if v is not None]
    if not present:
        return []
    counts = Counter(_hashable(v) for v in present)
    total = len(present)
    return [
        {"value": shown(value), "count": count, "share": round(count / total, 4)}
        for value, count in counts.most_common(limit)
    ]


def shown(value: object) -> object:
    """A value as a profile stores it: JSON-safe, text bounded."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    return text if len(text) <= VALUE_MAX_CHARS else text[: VALUE_MAX_CHARS - 1] + "…"


def _hashable(value: object) -> object:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def build_profile(
    columns: Sequence[ColumnSpec],
    values: Values,
    *,
    sample: Sample | None,
    computed_at: datetime | None = None,
    known_not_null: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The stored profile of ``columns``: the scan's counts and extremes, the sample's figures.

    Shape: ``{"rows", "sampleRows", "sampleMethod", "computedAt", "columns": [{"name",
    "type", "pii", "mask", "nulls", "nullShare", "distinct", "distinctExact", "min", "max",
    "top"}]}``; a figure the run could not compute is None. ``top`` of a PII column holds its
    masked readings.
    """
    rows = _count(values, ROWS)
    out_columns = []
    for column in columns:
        nulls = column_nulls(values, column.name, known_not_null=known_not_null)
        non_null = rows - nulls if rows is not None and nulls is not None else None
        entry: dict[str, Any] = {
            "name": column.name,
            "type": column.type,
            "pii": column.pii,
            "mask": (column.mask or DEFAULT_MASK) if column.pii else None,
            "nulls": nulls,
            "nullShare": round(nulls / rows, 4) if rows and nulls is not None else None,
            "distinct": None,
            "distinctExact": False,
            "min": None,
            "max": None,
            "top": [],
        }
        if column.type in MINMAX_TYPES and not column.pii:
            entry["min"] = shown(values.raw(min_key(column.name))[0])
            entry["max"] = shown(values.raw(max_key(column.name, column.type))[0])
        dupes = _count(values, dupes_key(column.name))
        counted = sample.counted.get(column.name) if sample is not None else None
        if dupes is not None and non_null is not None:
            entry["distinct"], entry["distinctExact"] = non_null - dupes, True
        elif counted is not None and non_null is not None:
            present = [v for v in counted if v is not None]
            entry["distinct"], entry["distinctExact"] = estimate_distinct(present, non_null)
        readings = sample.shown.get(column.name) if sample is not None else None
        if readings is not None and column.type in TOP_TYPES:
            present = [v for v in readings if v is not None]
            if len({_hashable(v) for v in present}) <= LOW_CARDINALITY:
                entry["top"] = top_values(present)
        out_columns.append(entry)
    return {
        "rows": rows,
        "sampleRows": sample.rows if sample is not None else 0,
        "sampleMethod": sample.method if sample is not None else "",
        "computedAt": computed_at.isoformat() if computed_at is not None else None,
        "columns": out_columns,
    }


def column_nulls(
    values: Values, column: str, *, known_not_null: frozenset[str] = frozenset()
) -> int | None:
    """The NULLs of ``column`` a scan found: counted, rows minus non-NULLs, or 0 when the
    warehouse declares it NOT NULL; None when the scan could not tell."""
    if column in known_not_null:
        return 0
    nulls = _count(values, nulls_key(column))
    if nulls is not None:
        return nulls
    rows, present = _count(values, ROWS), _count(values, count_key(column))
    return rows - present if rows is not None and present is not None else None


def _count(values: Values, key: str) -> int | None:
    raw, error = values.raw(key)
    if error is not None:
        return None
    found = integer(raw)
    if found is None:
        found = number(raw)
    return int(found) if found is not None else None
