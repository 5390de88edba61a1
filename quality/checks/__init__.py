"""Quality checks, pure Python: compile a product's checks into SQL, run them, evaluate rows.

No Django import and no import of our Django apps (tests/test_layering.py); the outside
dependencies are the warehouse protocol in `querying.warehouses.base`, the governor (gate.py)
and the contract's vocabulary and limits. What each check type takes, computes and means is
declared once, in `types.py`.

Invariant: a check that cannot run (table or column missing, warehouse down, timeout, bad or
refused SQL, unknown type) is `error`, which counts as failing. Nothing is ever `passed`
without a value that proves it, except what the warehouse catalog proves (NOT NULL).
"""

# The contract package imports types.py (its check rules) and types.py imports the contract's
# vocabulary: load the contract first, so importing this package first works too.
import catalog.contract  # noqa: F401  isort: skip

from .evaluate import as_utc, evaluate, newest_value_at
from .gate import CustomSqlRefused, gate_custom_sql, make_default_gate
from .runner import RunReport, run_product
from .schema import TYPE_FAMILIES, schema_outcomes, type_matches
from .specs import (
    SLA_MAX_STALE_HOURS,
    CheckOutcome,
    CheckSpec,
    CheckStatus,
    ColumnSpec,
    ProductSpec,
)
from .sql import Plan, Statement, compile_plan, param_problem
from .types import CHECK_TYPES, DECLARATIONS, CheckType, Declaration, declaration

__all__ = [
    "CHECK_TYPES",
    "DECLARATIONS",
    "SLA_MAX_STALE_HOURS",
    "TYPE_FAMILIES",
    "CheckOutcome",
    "CheckSpec",
    "CheckStatus",
    "CheckType",
    "ColumnSpec",
    "CustomSqlRefused",
    "Declaration",
    "Plan",
    "ProductSpec",
    "RunReport",
    "Statement",
    "as_utc",
    "compile_plan",
    "declaration",
    "evaluate",
    "gate_custom_sql",
    "make_default_gate",
    "newest_value_at",
    "param_problem",
    "run_product",
    "schema_outcomes",
    "type_matches",
]
