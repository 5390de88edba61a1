"""quality/checks/schema.py: contract types against warehouse type names (pure)."""

from __future__ import annotations

import pytest

from quality.checks import ColumnSpec, ProductSpec, schema_outcomes, type_matches
from querying.warehouses.base import WarehouseColumn


@pytest.mark.parametrize(
    ("contract", "warehouse"),
    [
        ("string", "VARCHAR"), ("string", "TEXT"), ("string", "CHARACTER VARYING"),
        ("integer", "BIGINT"), ("integer", "HUGEINT"), ("integer", "SMALLINT"),
        ("integer", "UTINYINT"), ("float", "DOUBLE"), ("float", "DOUBLE PRECISION"),
        ("float", "DECIMAL(18,3)"), ("float", "NUMERIC"), ("float", "REAL"),
        ("boolean", "BOOLEAN"), ("timestamp", "TIMESTAMP WITH TIME ZONE"),
        ("timestamp", "TIMESTAMP WITHOUT TIME ZONE"), ("timestamp", "TIMESTAMP_NS"),
        ("timestamp", "DATE"), ("json", "JSON"), ("json", "JSONB"),
        ("json", "STRUCT(a INTEGER)"), ("json", "MAP(VARCHAR, INTEGER)"), ("array", "ARRAY"),
        ("array", "VARCHAR[]"), ("array", "INTEGER[3]"),
    ],
)  # fmt: skip
def test_type_families_accept(contract: str, warehouse: str) -> None:
    assert type_matches(contract, warehouse)


@pytest.mark.parametrize(
    ("contract", "warehouse"),
    [
        ("integer", "DOUBLE"), ("integer", "VARCHAR"), ("float", "BIGINT"),
        ("string", "INTEGER"), ("timestamp", "VARCHAR"), ("boolean", "INTEGER"),
        ("json", "TEXT"), ("array", "VARCHAR"), ("nonsense", "VARCHAR"),
    ],
)  # fmt: skip
def test_type_families_refuse(contract: str, warehouse: str) -> None:
    assert not type_matches(contract, warehouse)


def test_one_outcome_per_missing_column_or_type_mismatch() -> None:
    spec = ProductSpec(
        "shop.orders",
        "shop_orders",
        columns=(
            ColumnSpec("id", "integer"),
            ColumnSpec("amount", "integer"),
            ColumnSpec("gone", "string"),
        ),
    )
    columns = [WarehouseColumn("id", "BIGINT", False), WarehouseColumn("amount", "DOUBLE", True)]
    outcomes = schema_outcomes(spec, columns)
    assert [(o.check_name, o.status, o.passed, o.severity) for o in outcomes] == [
        ("schema:amount", "failed", False, "error"),
        ("schema:gone", "failed", False, "error"),
    ]
    assert outcomes[0].message == (
        "column amount is DOUBLE in the warehouse; the contract says integer"
    )
