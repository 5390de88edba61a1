"""The governor's inputs and outputs: frozen policy dataclasses, the result, the refusal."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Mask(StrEnum):
    """How readers outside the domain see a PII column's values (masks.py: what each does).

    Declared here, where the masks are implemented, because the governor imports nothing of
    ours; the contract's vocabulary (catalog.contract.vocabulary) re-exports it.
    """

    LAST4 = "last4"
    EMAIL = "email"
    HASH = "hash"
    NULL = "null"
    REDACT = "redact"


MASKS = frozenset(Mask)
# Contract type -> engine type for the "null" mask (CAST(NULL AS type)); json/array stay text.
NULL_MASK_TYPES = {
    "string": "text",
    "integer": "bigint",
    "float": "double",
    "boolean": "boolean",
    "timestamp": "timestamp",
}


@dataclass(frozen=True)
class ColumnPolicy:
    """One column of a product and how the caller sees it."""

    name: str
    mask: str | None  # None = raw value; else "last4" | "email" | "hash" | "null" | "redact"
    # Optional engine type for the "null" mask (CAST(NULL AS type)); TEXT when unknown.
    type: str | None = None


@dataclass(frozen=True)
class ProductPolicy:
    """A product the caller knows about: readable (with masks) or refused."""

    product_id: str  # "marketing.campaign_attribution"
    table: str  # physical table "marketing_campaign_attribution" (or "schema.table")
    columns: tuple[ColumnPolicy, ...]  # every column, in table order
    names: tuple[str, ...] = ()  # extra names resolving to this product
    refusal: str | None = None  # set => referencing it is refused with this message
    refusal_code: str = "PRODUCT_NOT_QUERYABLE"
    warning: str | None = None  # e.g. deprecated: readable but warn


@dataclass(frozen=True)
class Policy:
    """Everything the governor needs, resolved before it is called."""

    products: tuple[ProductPolicy, ...]
    hash_key: str  # server secret for the keyed "hash" mask
    max_rows: int | None = 10000  # cap for the top-level LIMIT; None = no cap


@dataclass(frozen=True)
class GovernedQuery:
    """The SQL to execute and what the audit log should say about it.

    ``sql`` holds no secret: the hash mask reads its key from the statement's session, and the
    caller passes ``session`` to the adapter (``execute(..., session=governed.session)``).
    """

    sql: str  # regenerated SQL to execute (no comments), LIMIT capped at max_rows+1
    products: list[str]  # product ids referenced
    masked_columns: list[str]  # "product_id.column" that were masked
    pii_columns: list[str]  # "product_id.column": masked, or PII seen raw
    warnings: list[str]
    max_rows: int | None
    # Session variables the statement reads (the hash key); never shown, never logged.
    session: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def display_sql(self) -> str:
        """The SQL as it may be shown and audited (it holds no secret)."""
        return self.sql


class QueryRefused(Exception):
    """The query was refused; ``code`` is stable, ``message`` is safe to show the caller."""

    def __init__(self, code: str, message: str, http_status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.http_status = http_status
