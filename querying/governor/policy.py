"""The governor's inputs and outputs: frozen policy dataclasses, the result, the refusal."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
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
    # Why the caller reads this column raw when it is PII ("role:admin", "domain:owner",
    # "domain:member", "grant:<id>"; issue 17): reported per raw PII column in
    # GovernedQuery.raw_columns, and a raw PII column without one is never answered (querying's
    # services). Not part of equality: the SQL does not depend on it.
    basis: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ProductPolicy:
    """A product the caller knows about: readable (with masks) or refused."""

    product_id: str  # "marketing.campaign_attribution"
    table: str  # physical table "marketing_campaign_attribution" (or "schema.table")
    columns: tuple[ColumnPolicy, ...]  # every column, in table order
    names: tuple[str, ...] = ()  # extra names resolving to this product
    refusal: str | None = None  # set => referencing it is refused with this message
    refusal_code: str = "PRODUCT_NOT_QUERYABLE"
    refusal_status: int = 400  # 403 for a restricted product the caller holds no grant on
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
    # Every PII column the statement reads raw -> its ColumnPolicy.basis ("" when none was given).
    raw_columns: dict[str, str] = field(default_factory=dict)

    def display_sql(self) -> str:
        """The SQL as it may be shown and audited (it holds no secret)."""
        return self.sql


def unmasked(columns: tuple[ColumnPolicy, ...], raw: Mapping[str, str]) -> tuple[ColumnPolicy, ...]:
    """``columns`` with exactly those named in ``raw`` unmasked, each carrying its basis.

    Names compare exactly: they come from the same catalog rows as ``columns`` (a grant's
    column names are checked against the product's when it is requested).
    """
    if not raw:
        return columns
    return tuple(
        replace(column, mask=None, basis=raw[column.name]) if column.name in raw else column
        for column in columns
    )


class QueryRefused(Exception):
    """The query was refused; ``code`` is stable, ``message`` is safe to show the caller."""

    def __init__(self, code: str, message: str, http_status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.http_status = http_status
