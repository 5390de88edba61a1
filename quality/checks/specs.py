"""What a product's quality run is about: frozen specs in, outcomes out. Pure Python."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from catalog.contract.vocabulary import FRESHNESS_HOURS, Freshness, Severity


class CheckStatus(StrEnum):
    """How one check came out; `error` (it could not run) counts as failing."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"


# Default `maxStaleHours` per SLA freshness tier when a freshness check does not set one:
# the data may be as old as the SLA promises, no older. `realtime` allows 15 minutes.
SLA_MAX_STALE_HOURS: Mapping[str, float] = FRESHNESS_HOURS
# The type of the outcomes schema conformance adds (`schema:<column>`): not a check type.
SCHEMA_TYPE = "schema"
_SEVERITIES = frozenset(Severity)


@dataclass(frozen=True)
class CheckSpec:
    """One declared quality check (contract `qualityChecks[i]`; its type's rules: types.py)."""

    name: str
    type: str
    severity: str = Severity.ERROR
    column: str | None = None
    # A plain JSON-like dict, excluded from the hash (dicts are unhashable) but compared.
    params: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=True)


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
    freshness_sla: str = Freshness.DAY

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
        passed=status == CheckStatus.PASSED,
        severity=check.severity if check.severity in _SEVERITIES else Severity.ERROR,
        message=message,
        value=value,
    )
