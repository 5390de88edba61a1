"""The product lifecycle: draft → published → deprecated → retired (issue 6). Pure Python.

The rules, each tested in tests/catalog/test_lifecycle.py:

- ``TRANSITIONS``: the status moves a publish may make (``transition_problem`` says why not).
- A sunset date that is new or moved must lie in the future: consumers need time to move
  (``sunset_in_past``; issue 12). One that was set earlier and has since passed stays valid,
  so a deprecated product past its sunset can still be edited and retired.
- ``is_queryable`` / ``product_warnings``: whether governed queries may read a product and what
  readers are told. A deprecated product stays queryable until its sunset, with a warning;
  after the sunset, or once retired, it is not.

The publish gate that applies the first two is ``gates.lifecycle_gate``; the writes (deprecate,
retire, retire at sunset) are in ``services.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from catalog.contract.vocabulary import ProductStatus

# Change kinds (catalog.contract_diff) that only move the lifecycle.
LIFECYCLE_KINDS = frozenset({"status_changed", "deprecation_changed"})

# Allowed status moves; staying in the same status is always allowed (except out of retired
# nothing but retired). A published product is deprecated before it is retired, so consumers
# get a sunset date first; a draft nobody consumed may be retired straight away.
TRANSITIONS: dict[str | None, frozenset[str]] = {
    None: frozenset({ProductStatus.DRAFT, ProductStatus.PUBLISHED}),
    ProductStatus.DRAFT: frozenset(
        {ProductStatus.DRAFT, ProductStatus.PUBLISHED, ProductStatus.RETIRED}
    ),
    ProductStatus.PUBLISHED: frozenset({ProductStatus.PUBLISHED, ProductStatus.DEPRECATED}),
    ProductStatus.DEPRECATED: frozenset(
        {ProductStatus.DEPRECATED, ProductStatus.PUBLISHED, ProductStatus.RETIRED}
    ),
    ProductStatus.RETIRED: frozenset({ProductStatus.RETIRED}),
}
# Statuses a product leaves ``published`` for; only moves into them may be lenient (gates.py).
AWAY_FROM_PUBLISHED = (ProductStatus.DEPRECATED, ProductStatus.RETIRED)


class LifecycleFacts(Protocol):
    """What the lifecycle reads of a product (a ``DataProduct`` row has these fields)."""

    product_id: str
    status: str
    deprecation_sunset_at: datetime | None
    deprecation_replaced_by: str
    deprecation_reason: str


def transition_problem(before: str | None, after: str) -> str | None:
    """Why a product may not move from ``before`` (None: new) to ``after``, or None."""
    allowed = TRANSITIONS.get(before, frozenset())
    if after in allowed:
        return None
    if before is None:
        why = "a new product starts as draft or published"
    elif before == ProductStatus.RETIRED:
        why = "a retired product cannot come back; publish a new product id instead"
    elif before == ProductStatus.PUBLISHED and after == ProductStatus.RETIRED:
        why = "deprecate it first (with a sunset date) so consumers can move"
    elif before == ProductStatus.PUBLISHED and after == ProductStatus.DRAFT:
        why = "a published product cannot go back to draft; deprecate it instead"
    else:
        why = f"allowed from {before}: {', '.join(sorted(allowed))}"
    return f"cannot move from {before or 'new'} to {after}: {why}"


def sunset_in_past(new: datetime | None, old: datetime | None, *, now: datetime) -> bool:
    """Whether ``new`` is a sunset set or moved (it differs from ``old``) to ``now`` or before."""
    return new is not None and new != old and new <= now


SUNSET_IN_PAST = (
    "is in the past; choose a future date (consumers need time to move before the product "
    "stops answering queries)"
)


def is_sunset(product: LifecycleFacts, *, now: datetime) -> bool:
    """Whether a deprecated product's sunset date has passed."""
    sunset = product.deprecation_sunset_at
    return sunset is not None and now >= sunset


def is_queryable(product: LifecycleFacts, *, now: datetime) -> bool:
    """Whether the lifecycle lets governed queries read ``product``.

    Published and draft products are (who may read a draft is ``accounts.permissions``'
    business: only the domain's team); deprecated ones until their sunset; retired ones never.
    """
    if product.status in (ProductStatus.PUBLISHED, ProductStatus.DRAFT):
        return True
    if product.status == ProductStatus.DEPRECATED:
        return not is_sunset(product, now=now)
    return False


def product_warnings(product: LifecycleFacts, *, now: datetime) -> list[str]:
    """Warnings to show wherever the product is read (API ``warnings``, page banner, queries)."""
    if product.status == ProductStatus.DRAFT:
        return [f"{product.product_id} is a draft: its contract may still change"]
    if product.status not in AWAY_FROM_PUBLISHED:
        return []
    replacement = (
        f" Use {product.deprecation_replaced_by} instead."
        if product.deprecation_replaced_by
        else ""
    )
    reason = f" Reason: {product.deprecation_reason}." if product.deprecation_reason else ""
    sunset = product.deprecation_sunset_at
    if product.status == ProductStatus.RETIRED:
        return [f"{product.product_id} is retired and can no longer be queried.{replacement}"]
    if sunset is not None and now >= sunset:
        return [
            f"{product.product_id} is deprecated and its sunset ({sunset:%Y-%m-%d}) has passed: "
            f"it can no longer be queried.{replacement}{reason}"
        ]
    until = f" until {sunset:%Y-%m-%d %H:%M} UTC" if sunset is not None else ""
    return [f"{product.product_id} is deprecated; it stays queryable{until}.{replacement}{reason}"]
