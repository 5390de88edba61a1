"""What a product's quality run is about: frozen specs in, outcomes out. Pure Python."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

CheckStatus = Literal["passed", "failed", "error"]

CHECK_TYPES = frozenset(
    {"not_null", "unique", "accepted_values", "range", "freshness", "row_count", "custom_sql"}
)
# Checks that read one column of the product's table.
COLUMN_CHECK_TYPES = frozenset({"not_null", "unique", "accepted_values", "range", "freshness"})
SEVERITIES = frozenset({"error", "warning"})

# Default `maxStaleHours` per SLA freshness tier when a freshness check does not set one:
# the data may be as old as the SLA promises, no older. `realtime` allows 15 minutes.
SLA_MAX_STALE_HOURS: Mapping[str, float] = {"realtime": 0.25, "1h": 1.0, "4h": 4.0, "24h": 24.0}


@dataclass(frozen=True)
class CheckSpec:
    """One declared quality check (contract `qualityChecks[i]`)."""

    name: str
    type: str
    severity: str = "error"
    column: str | None = None
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class ColumnSpec:
    """One declared column (contract `schema[i]`)."""

    name: str
    type: str  # contract type: string|integer|float|boolean|timestamp|json|array
    nullable: bool = True
    pii: bool = False  # custom SQL reads it through its mask (gate.py)
    mask: str | None = None  # the PII mask (None: the contract's default, last4)


@dataclass(frozen=True)
class ProductSpec:
    """Everything a quality run needs to know about one data product."""

    product_id: str  # "domain.product_name"
    table: str  # physical table, e.g. "marketing_campaign_attribution"
    columns: tuple[ColumnSpec, ...] = ()
    checks: tuple[CheckSpec, ...] = ()
    freshness_sla: str = "24h"  # realtime|1h|4h|24h

    @property
    def short_name(self) -> str:
        """The product name without its domain ("campaign_attribution")."""
        return self.product_id.split(".", 1)[-1]


@dataclass(frozen=True)
class CheckOutcome:
    """The result of one check (or one schema problem); `error` counts as failing."""

    check_name: str
    type: str
    status: CheckStatus
    passed: bool
    severity: str
    message: str
    value: float | None = None


def outcome(
    check: CheckSpec, status: CheckStatus, message: str, value: float | None = None
) -> CheckOutcome:
    """Build the outcome of `check`; only `passed` passes."""
    return CheckOutcome(
        check_name=check.name,
        type=check.type,
        status=status,
        passed=status == "passed",
        severity=check.severity if check.severity in SEVERITIES else "error",
        message=message,
        value=value,
    )
