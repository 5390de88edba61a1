"""Quality checks, pure Python: compile a product's checks into SQL, run them, evaluate rows.

No Django import and no import of our Django apps (tests/test_layering.py); the only outside
dependency is the warehouse protocol in `querying.warehouses.base`.

Invariant: a check that cannot run (table or column missing, warehouse down, timeout, bad or
refused SQL, unknown type) is `error`, which counts as failing. Nothing is ever `passed`
without a value that proves it, except what the warehouse catalog proves (NOT NULL).
"""

from .evaluate import as_utc, evaluate, newest_value_at
from .gate import CustomSqlRefused, gate_custom_sql, make_default_gate
from .runner import RunReport, run_product
from .schema import TYPE_FAMILIES, schema_outcomes, type_matches
from .specs import (
    CHECK_TYPES,
    SLA_MAX_STALE_HOURS,
    CheckOutcome,
    CheckSpec,
    ColumnSpec,
    ProductSpec,
)
from .sql import Plan, Statement, compile_plan, param_problem

__all__ = [
    "CHECK_TYPES",
    "SLA_MAX_STALE_HOURS",
    "TYPE_FAMILIES",
    "CheckOutcome",
    "CheckSpec",
    "ColumnSpec",
    "CustomSqlRefused",
    "Plan",
    "ProductSpec",
    "RunReport",
    "Statement",
    "as_utc",
    "compile_plan",
    "evaluate",
    "gate_custom_sql",
    "make_default_gate",
    "newest_value_at",
    "param_problem",
    "run_product",
    "schema_outcomes",
    "type_matches",
]
