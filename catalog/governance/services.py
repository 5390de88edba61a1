"""Governance writes: a global rule; deprecate, retire and retire at sunset (issue 6).

Deprecate and retire publish a new ContractVersion through ``product_publish``, so every gate
applies, consumers are told after commit and the history records who did it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied

from accounts import permissions
from accounts.models import User
from catalog.contract import format_datetime
from catalog.contract.vocabulary import ProductStatus
from catalog.documents import product_document
from catalog.models import DataProduct, GovernancePolicy
from catalog.services import PublishOutcome, PublishRefused, product_publish

from .policies import PolicyRule, parse_rules
from .selectors import global_rules

log = logging.getLogger(__name__)


def policy_update(*, actor: User, key: str, severity: str, params: dict[str, Any]) -> PolicyRule:
    """Change one global rule (admins); ValueError names what is wrong."""
    rule = parse_rules([{"key": key, "severity": severity, "params": params}])[0]
    global_rules()  # the row exists before it is updated
    GovernancePolicy.objects.filter(key=key).update(
        severity=rule.severity, params=dict(rule.params), updated_by=actor
    )
    return rule


def _check_allowed(actor: User | None, product: DataProduct) -> None:
    if actor is not None and not permissions.can(actor, "deprecate", product):
        raise PermissionDenied(
            f"you may not deprecate or retire {product.product_id} (domain {product.domain.slug})"
        )


def _as_next_version(product: DataProduct, document: dict[str, Any]) -> dict[str, Any]:
    """``document`` as the product's next version when it changes anything (issue 13: every
    accepted change is a new version); unchanged, it keeps the version and changes nothing."""
    if document == product_document(product):
        return document
    return {**document, "version": product.version + 1}


def product_deprecate(
    *,
    actor: User | None,
    product: DataProduct,
    sunset_at: datetime,
    replaced_by: str | None,
    reason: str,
) -> PublishOutcome:
    """Deprecate a product: a new contract version with status deprecated and the notice."""
    _check_allowed(actor, product)
    document = product_document(product)
    document["status"] = ProductStatus.DEPRECATED.value
    notice: dict[str, Any] = {"sunsetAt": format_datetime(sunset_at), "reason": reason}
    if replaced_by:
        notice["replacedBy"] = replaced_by
    document["deprecation"] = notice
    return product_publish(
        actor=actor,
        document=_as_next_version(product, document),
        source="deprecate",
        expected_id=product.product_id,
    )


def product_retire(*, actor: User | None, product: DataProduct) -> PublishOutcome:
    """Retire a deprecated product (or an unused draft): it can no longer be queried."""
    _check_allowed(actor, product)
    document = product_document(product)
    document["status"] = ProductStatus.RETIRED.value
    return product_publish(
        actor=actor,
        document=_as_next_version(product, document),
        source="retire",
        expected_id=product.product_id,
    )


def retire_sunset_products(*, now: datetime) -> list[str]:
    """Retire every deprecated product whose sunset passed; return the ids retired."""
    retired = []
    due = DataProduct.objects.filter(
        status=ProductStatus.DEPRECATED, deprecation_sunset_at__lte=now
    ).select_related("domain")
    for product in due:
        try:
            product_retire(actor=None, product=product)
        except PublishRefused as exc:  # keep going: one product must not block the others
            log.warning("could not retire %s: %s", product.product_id, exc)
            continue
        retired.append(product.product_id)
    return retired
