"""The contract as frozen dataclasses, its canonical document, and its errors. Pure Python."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# One check spec for the contract and the engine: a contract's checks are what the engine runs.
from quality.checks.params import Problem
from quality.checks.specs import CheckSpec as CheckSpec

from .vocabulary import DEFAULT_MASK, FRESHNESS_HOURS, Access


@dataclass(frozen=True)
class Owner:
    """The team that owns a data product and how to reach it."""

    team: str
    contact: str
    slack_channel: str


@dataclass(frozen=True)
class ColumnSpec:
    """One declared column of a data product."""

    column: str
    type: str
    description: str
    pii: bool = False
    nullable: bool = True
    mask: str | None = None

    @property
    def effective_mask(self) -> str | None:
        """The mask non-privileged readers get: None when not PII, else the mask or last4."""
        if not self.pii:
            return None
        return self.mask or DEFAULT_MASK


@dataclass(frozen=True)
class Sla:
    """Service level: freshness class, availability percent, p95 query latency."""

    freshness: str
    availability: float
    query_latency_p95_ms: float

    @property
    def freshness_hours(self) -> float:
        """Maximum staleness in hours."""
        return FRESHNESS_HOURS[self.freshness]


@dataclass(frozen=True)
class Deprecation:
    """Why and until when a deprecated product is still served, and what replaces it."""

    sunset_at: datetime | None
    replaced_by: str | None
    reason: str


@dataclass(frozen=True)
class Contract:
    """A validated data contract. Build it with ``parse_contract``."""

    id: str
    domain: str
    name: str
    description: str
    owner: Owner
    schema: tuple[ColumnSpec, ...]
    sla: Sla
    quality_checks: tuple[CheckSpec, ...]
    tags: tuple[str, ...]
    version: int
    published_at: datetime | None
    status: str
    table: str
    deprecation: Deprecation | None = None
    # "open" (default) or "restricted": any query needs raw access or a grant (issue 17).
    access: str = Access.OPEN
    # The product ids this product is built from (issue 16): publishing records it as a
    # consumer of each, so lineage and impact analysis follow the edge.
    inputs: tuple[str, ...] = ()
    # The warehouse connection the table lives in (issue 18); None: the domain's connection.
    warehouse: str | None = None

    @property
    def product_name(self) -> str:
        """The part of the id after the dot."""
        return self.id.split(".", 1)[1]

    @property
    def pii_columns(self) -> tuple[ColumnSpec, ...]:
        """Columns flagged as personal data."""
        return tuple(c for c in self.schema if c.pii)

    def column_named(self, name: str) -> ColumnSpec | None:
        """The declared column called ``name``, or None."""
        for col in self.schema:
            if col.column == name:
                return col
        return None

    def to_dict(self) -> dict[str, Any]:
        """The canonical camelCase document, JSON-serializable, keys in the seed's order.

        ``publishedAt`` is omitted while unset; ``table`` is always present; ``deprecation``,
        a column's ``mask``, a check's ``column`` and non-empty ``params`` only when set;
        ``access`` only when not ``open``, ``inputs`` only when not empty and ``warehouse``
        only when set (so documents
        stored before them read the same).
        """
        doc: dict[str, Any] = {
            "id": self.id,
            "domain": self.domain,
            "name": self.name,
            "description": self.description,
            "owner": {
                "team": self.owner.team,
                "contact": self.owner.contact,
                "slackChannel": self.owner.slack_channel,
            },
            "schema": [_column_dict(c) for c in self.schema],
            "sla": {
                "freshness": self.sla.freshness,
                "availability": self.sla.availability,
                "queryLatencyP95Ms": self.sla.query_latency_p95_ms,
            },
            "qualityChecks": [_check_dict(c) for c in self.quality_checks],
            "tags": list(self.tags),
            "version": self.version,
        }
        if self.published_at is not None:
            doc["publishedAt"] = format_datetime(self.published_at)
        doc["status"] = self.status
        doc["table"] = self.table
        if self.deprecation is not None:
            doc["deprecation"] = deprecation_dict(self.deprecation)
        if self.access != Access.OPEN:
            doc["access"] = self.access
        if self.inputs:
            doc["inputs"] = list(self.inputs)
        if self.warehouse:
            doc["warehouse"] = self.warehouse
        return doc


def deprecation_dict(deprecation: Deprecation) -> dict[str, Any]:
    """The ``deprecation`` part of the document: only the keys that are set, reason last."""
    out: dict[str, Any] = {}
    if deprecation.sunset_at is not None:
        out["sunsetAt"] = format_datetime(deprecation.sunset_at)
    if deprecation.replaced_by is not None:
        out["replacedBy"] = deprecation.replaced_by
    out["reason"] = deprecation.reason
    return out


def _column_dict(col: ColumnSpec) -> dict[str, Any]:
    out: dict[str, Any] = {
        "column": col.column,
        "type": col.type,
        "description": col.description,
        "pii": col.pii,
        "nullable": col.nullable,
    }
    if col.mask is not None:
        out["mask"] = col.mask
    return out


def _check_dict(check: CheckSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"name": check.name, "type": check.type}
    if check.column is not None:
        out["column"] = check.column
    if check.params:
        out["params"] = copy_json(check.params)
    out["severity"] = check.severity
    return out


def copy_json(value: Any) -> Any:
    """A deep copy of JSON-like data as plain dicts and lists (tuples become lists)."""
    if isinstance(value, Mapping):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [copy_json(v) for v in value]
    return value


def format_datetime(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix (``2025-03-01T00:00:00Z``)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def default_table(contract_id: str) -> str:
    """The physical table of a product: ``marketing.campaign_attribution`` → ``marketing_...``.

    Dashes in the domain become underscores so the result is a plain SQL identifier.
    """
    return contract_id.replace(".", "_", 1).replace("-", "_")


class ContractIssue(Problem):
    """One problem in a contract document, named by its path (``schema[3].type``)."""

    def to_dict(self) -> dict[str, str]:
        """``{"path": ..., "message": ...}`` for API error bodies."""
        return {"path": self.path, "message": self.message}


class ContractError(ValueError):
    """A contract document is invalid; ``issues`` lists every problem found."""

    def __init__(self, issues: list[ContractIssue]) -> None:
        self.issues = list(issues)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(i) for i in self.issues)
