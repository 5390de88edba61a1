"""Schema conformance: declared columns against what the warehouse reports. Pure Python."""

from __future__ import annotations

from collections.abc import Sequence

from catalog.contract.vocabulary import ColumnType
from querying.warehouses.base import WarehouseColumn

from .specs import SCHEMA_TYPE, CheckOutcome, CheckSpec, CheckStatus, ProductSpec, outcome

# Contract type -> base names (upper-case, parameters stripped) of DuckDB and PostgreSQL types.
# PostgreSQL's information_schema reports arrays as "ARRAY"; DuckDB spells them "VARCHAR[]",
# "INTEGER[3]" (handled by the trailing "]"), STRUCT(...) and MAP(...) count as json. Spark
# reports its own names (``simpleString``): STRING, INT, TIMESTAMP_NTZ, DECIMAL(p,s),
# ARRAY<...>, STRUCT<...>, MAP<...> (parameters in angle brackets are stripped as well).
TYPE_FAMILIES: dict[str, frozenset[str]] = {
    ColumnType.STRING: frozenset(
        {
            "VARCHAR", "CHAR", "BPCHAR", "TEXT", "STRING", "CHARACTER", "CHARACTER VARYING",
            "NVARCHAR", "UUID", "ENUM", "CITEXT", "NAME",
        }
    ),
    ColumnType.INTEGER: frozenset(
        {
            "TINYINT", "SMALLINT", "INTEGER", "INT", "BIGINT", "HUGEINT", "UTINYINT",
            "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", "INT1", "INT2", "INT4", "INT8",
            "SERIAL", "BIGSERIAL", "SMALLSERIAL",
        }
    ),
    ColumnType.FLOAT: frozenset(
        {"DOUBLE", "DOUBLE PRECISION", "REAL", "FLOAT", "FLOAT4", "FLOAT8", "DECIMAL", "NUMERIC"}
    ),
    ColumnType.BOOLEAN: frozenset({"BOOLEAN", "BOOL"}),
    ColumnType.TIMESTAMP: frozenset(
        {
            "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP WITHOUT TIME ZONE", "TIMESTAMPTZ",
            "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "DATETIME", "DATE", "TIMESTAMP_NTZ",
            "TIMESTAMP_LTZ",
        }
    ),
    ColumnType.JSON: frozenset({"JSON", "JSONB", "STRUCT", "MAP"}),
    ColumnType.ARRAY: frozenset({"ARRAY", "LIST"}),
}  # fmt: skip

TEMPORAL_TYPES = TYPE_FAMILIES[ColumnType.TIMESTAMP]


def base_type(warehouse_type: str) -> str:
    """`DECIMAL(18,3)` -> `DECIMAL`, `VARCHAR[]` -> `ARRAY`, `STRUCT(a INT)` -> `STRUCT`,
    Spark's `ARRAY<STRING>` -> `ARRAY`, `STRUCT<a:INT>` -> `STRUCT`."""
    name = warehouse_type.strip().upper()
    if name.endswith("]"):
        return "ARRAY"
    return name.split("(", 1)[0].split("<", 1)[0].strip()


def type_matches(contract_type: str, warehouse_type: str) -> bool:
    """Whether a warehouse type belongs to the contract type's family."""
    family = TYPE_FAMILIES.get(contract_type)
    return family is not None and base_type(warehouse_type) in family


def find_column(columns: Sequence[WarehouseColumn], name: str) -> WarehouseColumn | None:
    """The warehouse column called `name` (exact, else the only case-insensitive match)."""
    for column in columns:
        if column.name == name:
            return column
    folded = [c for c in columns if c.name.lower() == name.lower()]
    return folded[0] if len(folded) == 1 else None


def schema_outcomes(spec: ProductSpec, columns: Sequence[WarehouseColumn]) -> list[CheckOutcome]:
    """One failed outcome per missing column or type mismatch (`schema:<column>`)."""
    outcomes: list[CheckOutcome] = []
    for declared in spec.columns:
        check = CheckSpec(name=f"schema:{declared.name}", type=SCHEMA_TYPE, column=declared.name)
        found = find_column(columns, declared.name)
        if found is None:
            outcomes.append(
                outcome(
                    check,
                    CheckStatus.FAILED,
                    f"column {declared.name} does not exist in {spec.table}",
                )
            )
        elif declared.type not in TYPE_FAMILIES:
            outcomes.append(
                outcome(check, CheckStatus.ERROR, f"unknown contract type {declared.type!r}")
            )
        elif not type_matches(declared.type, found.type):
            outcomes.append(
                outcome(
                    check,
                    CheckStatus.FAILED,
                    f"column {declared.name} is {found.type} in the warehouse; "
                    f"the contract says {declared.type}",
                )
            )
    return outcomes
