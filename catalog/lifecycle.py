"""The product lifecycle: draft → published → deprecated → retired (issue 6).

- ``product_warnings`` / ``is_queryable``: what readers are told and whether governed queries
  may read a product. A deprecated product stays queryable until its sunset, with a warning;
  after the sunset, or once retired, it is not.
- ``product_deprecate`` / ``product_retire``: publish a new ContractVersion through
  ``product_publish`` (so every gate applies and history records who did it).
- ``retire_sunset_products``: retire deprecated products whose sunset passed (beat task
  ``catalog.retire_sunset_products``).
- ``consumers_notify_after_publish``: an ``AFTER_PUBLISH`` hook that e-mails registered consumers
  when a product they use is deprecated, retired, or changed in a breaking way.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMessage, get_connection

from accounts import permissions
from accounts.models import User

from . import lifecycle_hooks
from .contract import format_datetime
from .models import ContractVersion, DataProduct, ProductStatus
from .services import PublishOutcome, PublishRefused, product_document, product_publish

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def is_sunset(product: DataProduct, *, now: datetime) -> bool:
    """Whether a deprecated product's sunset date has passed."""
    sunset = product.deprecation_sunset_at
    return sunset is not None and now >= sunset


def is_queryable(product: DataProduct, *, now: datetime) -> bool:
    """Whether the lifecycle lets governed queries read ``product``.

    Published and draft products are (who may read a draft is ``accounts.permissions``'
    business: only the domain's team); deprecated ones until their sunset; retired ones never.
    """
    if product.status in (ProductStatus.PUBLISHED, ProductStatus.DRAFT):
        return True
    if product.status == ProductStatus.DEPRECATED:
        return not is_sunset(product, now=now)
    return False


def product_warnings(product: DataProduct, *, now: datetime) -> list[str]:
    """Warnings to show wherever the product is read (API ``warnings``, page banner, queries)."""
    if product.status == ProductStatus.DRAFT:
        return [f"{product.product_id} is a draft: its contract may still change"]
    if product.status not in (ProductStatus.DEPRECATED, ProductStatus.RETIRED):
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


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


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
    document["status"] = "deprecated"
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
    document["status"] = "retired"
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


# ---------------------------------------------------------------------------------------------
# Telling consumers
# ---------------------------------------------------------------------------------------------

_SCHEMA_PATH = re.compile(r"^schema\[(\d+)\]")


def changed_columns(
    changes: list[dict[str, Any]], old: dict[str, Any], new: dict[str, Any]
) -> list[str]:
    """Names of the columns a list of changes touches (removed ones from the old document)."""
    names: list[str] = []
    for change in changes:
        match = _SCHEMA_PATH.match(str(change.get("path", "")))
        if not match:
            continue
        doc = old if change.get("kind") == "column_removed" else new
        schema = doc.get("schema") or []
        index = int(match.group(1))
        if index < len(schema):
            name = schema[index].get("column")
            if name and name not in names:
                names.append(name)
    return names


def consumer_notice(version: ContractVersion, previous: ContractVersion) -> tuple[str, str] | None:
    """Subject and body telling consumers what happened, or None when nothing concerns them."""
    product = version.product
    new, old = version.document, previous.document
    status, before = new.get("status"), old.get("status")
    url = f"{getattr(settings, 'PORTAL_BASE_URL', '').rstrip('/')}/products/{product.product_id}"
    parts: list[str] = []
    subject = ""
    if status == "deprecated" and (
        before != "deprecated" or new.get("deprecation") != old.get("deprecation")
    ):
        dep = new.get("deprecation") or {}
        subject = f"{product.product_id} is deprecated"
        parts.append(
            f"{product.product_id} ({product.name}), which your team registered as a consumer "
            "of, is deprecated."
        )
        if dep.get("reason"):
            parts.append(f"Reason: {dep['reason']}")
        if dep.get("sunsetAt"):
            parts.append(f"It stays queryable until {dep['sunsetAt']}; after that it is retired.")
        if dep.get("replacedBy"):
            parts.append(f"Move to: {dep['replacedBy']}")
    elif status == "retired" and before != "retired":
        subject = f"{product.product_id} is retired"
        parts.append(
            f"{product.product_id} ({product.name}) is retired and can no longer be queried."
        )
    if version.is_breaking:
        breaking = [c for c in version.changes if c.get("breaking")]
        columns = changed_columns(breaking, old, new)
        if not subject:
            subject = (
                f"breaking change in {product.product_id} "
                f"(v{previous.version} → v{version.version})"
            )
        parts.append(
            f"Version {version.version} of {product.product_id} changes what you rely on "
            f"(was version {previous.version}):"
        )
        parts.extend(f"  - {c.get('path')}: {c.get('message')}" for c in breaking)
        if columns:
            parts.append("Columns affected: " + ", ".join(columns))
        others = [c for c in version.changes if not c.get("breaking")]
        if others:
            parts.append("Other changes:")
            parts.extend(f"  - {c.get('path')}: {c.get('message')}" for c in others)
    if not subject:
        return None
    from quality.notifications import email_subject  # one prefix for every e-mail (issue 12)

    subject = email_subject(subject)
    parts.append(f"Details and changelog: {url}")
    parts.append(f"Questions: {product.owner_contact} {product.owner_slack_channel}".rstrip())
    return subject, "\n".join(parts) + "\n"


def consumers_notify_after_publish(version_id: int) -> None:
    """AFTER_PUBLISH hook: tell consumers what a newly committed version changes for them."""
    consumers_notify(version_id=version_id)


def consumers_notify(*, version_id: int) -> int:
    """E-mail each consumer about deprecation, retirement or breaking changes; return the count.

    One message per consumer, so consumers never see each other's addresses.
    """
    version = ContractVersion.objects.select_related("product").filter(pk=version_id).first()
    if version is None:
        return 0
    previous = (
        ContractVersion.objects.filter(product_id=version.product_id, pk__lt=version.pk)
        .order_by("-pk")
        .first()
    )
    if previous is None:
        return 0
    notice = consumer_notice(version, previous)
    if notice is None:
        return 0
    subject, body = notice
    contacts = sorted(set(version.product.consumers.values_list("contact", flat=True)))
    if not contacts:
        return 0
    messages = [
        EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [contact]) for contact in contacts
    ]
    try:
        return get_connection(fail_silently=False).send_messages(messages) or 0
    except Exception:  # a mail outage must not fail the publish that already committed
        log.exception("could not e-mail consumers of %s", version.product.product_id)
        return 0


def register_hooks() -> None:
    """Add the consumer notices to ``AFTER_PUBLISH`` once (idempotent)."""
    if consumers_notify_after_publish not in lifecycle_hooks.AFTER_PUBLISH:
        lifecycle_hooks.AFTER_PUBLISH.append(consumers_notify_after_publish)
