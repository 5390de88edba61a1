"""Does the warehouse hold what a contract promises? Table, columns, types; and value samples.

Pure Python: no Django import. The caller passes a warehouse adapter (``querying.warehouses``);
the publish gate in ``catalog.governance`` decides what is an error and what a warning.

Type families (contract ``string`` ↔ DuckDB ``VARCHAR`` / PostgreSQL ``text`` ...) come from the
quality engine (``quality.checks.schema``) so publishing and the scheduled schema check agree.
Nullability is not compared: a nullable warehouse column under a ``nullable: false`` contract is
what the ``not_null`` check (required by policy) watches; the catalog cannot prove it here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from catalog.contract import Contract, ContractIssue
from quality.checks.schema import find_column, type_matches
from querying.warehouses.base import Warehouse, WarehouseColumn, WarehouseError

SAMPLE_ROWS = 200
SAMPLE_TIMEOUT_S = 10.0
SAMPLED_TYPES = ("string",)


@dataclass
class Conformance:
    """What the warehouse said about one contract's table."""

    reachable: bool
    table_exists: bool
    issues: list[ContractIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def check_conformance(warehouse: Warehouse, contract: Contract) -> Conformance:
    """Compare the contract's table and schema with the warehouse; never raises."""
    try:
        columns = warehouse.columns(contract.table)
    except WarehouseError as exc:
        return Conformance(
            reachable=False,
            table_exists=False,
            issues=[ContractIssue("table", f"the warehouse cannot be reached: {_one_line(exc)}")],
        )
    if columns is None:
        return Conformance(
            reachable=True,
            table_exists=False,
            issues=[
                ContractIssue("table", f"table {contract.table} does not exist in the warehouse")
            ],
        )
    return Conformance(
        reachable=True,
        table_exists=True,
        issues=schema_issues(contract, columns),
        notes=undeclared_columns(contract, columns),
    )


def schema_issues(contract: Contract, columns: Sequence[WarehouseColumn]) -> list[ContractIssue]:
    """One issue per declared column that is missing or whose type is of another family."""
    issues = []
    for i, declared in enumerate(contract.schema):
        found = find_column(columns, declared.column)
        if found is None:
            issues.append(
                ContractIssue(
                    f"schema[{i}].column",
                    f"column {declared.column} does not exist in table {contract.table}",
                )
            )
        elif not type_matches(declared.type, found.type):
            issues.append(
                ContractIssue(
                    f"schema[{i}].type",
                    f"column {declared.column} is {found.type} in the warehouse, "
                    f"which is not a {declared.type} type",
                )
            )
    return issues


def undeclared_columns(contract: Contract, columns: Sequence[WarehouseColumn]) -> list[str]:
    """Warehouse columns the contract does not declare (hidden from governed queries)."""
    declared = {c.column.lower() for c in contract.schema}
    return [
        f"table {contract.table} has column {c.name} that the contract does not declare; "
        "governed queries will not expose it"
        for c in columns
        if c.name.lower() not in declared
    ]


def sample_sql(contract: Contract, dialect: str, rows: int = SAMPLE_ROWS) -> str | None:
    """``SELECT <string columns> FROM <table> LIMIT n`` from a sqlglot AST; None: no strings.

    One statement for all string columns: one scan instead of one per column.
    """
    names = [c.column for c in contract.schema if c.type in SAMPLED_TYPES]
    if not names:
        return None
    query = (
        exp.select(*(exp.column(name, quoted=True) for name in names))
        .from_(exp.table_(contract.table, quoted=True))
        .limit(rows)
    )
    sql = query.sql(dialect=dialect)
    sqlglot.parse_one(sql, read=dialect)  # guard: what we send is what we built
    return sql


def sample_values(
    warehouse: Warehouse, contract: Contract, *, rows: int = SAMPLE_ROWS
) -> dict[str, list[str]] | None:
    """Up to ``rows`` non-null values of each string column, or None when they cannot be read."""
    sql = sample_sql(contract, warehouse.dialect, rows)
    if sql is None:
        return {}
    try:
        result = warehouse.execute(sql, (), timeout_s=SAMPLE_TIMEOUT_S, max_rows=rows)
    except WarehouseError:
        return None
    samples: dict[str, list[str]] = {name: [] for name in result.columns}
    for row in result.rows:
        for name, value in zip(result.columns, row, strict=False):
            if value is not None:
                samples[name].append(str(value))
    return samples


def values_from_rows(
    contract: Contract, columns: Mapping[str, Sequence[object]], *, rows: int = SAMPLE_ROWS
) -> dict[str, list[str]]:
    """What ``sample_values`` reads, out of rows already read: ``columns`` maps each column to
    its values in the first rows of the table, row by row (NULLs included), as a draft's
    first-rows sample holds them; each string column keeps the non-null ones of its first
    ``rows`` rows, as text. A string column ``columns`` lacks gets no values."""
    samples: dict[str, list[str]] = {}
    for declared in contract.schema:
        if declared.type in SAMPLED_TYPES and declared.column in columns:
            first = columns[declared.column][:rows]
            samples[declared.column] = [str(v) for v in first if v is not None]
    return samples


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]
