"""Consumers of a product: registrations, and the notices they get after a publish."""

from __future__ import annotations

import logging
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMessage, get_connection
from django.db import transaction

from accounts import permissions
from accounts.models import User
from catalog.contract.vocabulary import ProductStatus
from catalog.mail import email_subject
from catalog.models import Consumer, ContractVersion, DataProduct

from .locks import rows_lock

log = logging.getLogger(__name__)


class ConsumerTaken(Exception):
    """Another user's consumer registration, which this actor may not change (HTTP 409)."""


def consumer_register(
    *, actor: User | None, product: DataProduct, team: str, use_case: str, contact: str
) -> tuple[Consumer, bool]:
    """Register a team as a consumer of ``product``, or update the team's registration.

    A registration is changed only by whoever made it, the product's owners or admins
    (``actor=None`` is a trusted system caller such as seed_demo); anyone else gets
    ConsumerTaken instead of overwriting another team's contact (issue 11). Registrations of
    one product are written one at a time (issue 13).
    """
    team = team.strip()
    fields = {"use_case": use_case.strip(), "contact": contact}
    with transaction.atomic():
        rows_lock(DataProduct, pk=product.pk)
        consumer = Consumer.objects.filter(product=product, team=team).first()
        if consumer is None:
            consumer = Consumer.objects.create(
                product=product, team=team, registered_by=actor, **fields
            )
            return consumer, True
        if actor is not None and not permissions.can_change_consumer(actor, consumer):
            raise ConsumerTaken(
                f"team {team} is already registered as a consumer of {product.product_id} by "
                "another user; only they, the product's owners or an admin may change it"
            )
        for name, value in fields.items():
            setattr(consumer, name, value)
        consumer.save(update_fields=[*fields, "updated_at"])
        return consumer, False


def consumer_withdraw(*, actor: User, consumer: Consumer) -> None:
    """Withdraw a consumer registration: its registrant, the product's owners or admins only.

    Raises PermissionDenied for anyone else. Registrations of one product are written one at
    a time, as in ``consumer_register``.
    """
    if not permissions.can_change_consumer(actor, consumer):
        raise PermissionDenied(
            f"only whoever registered {consumer.team}, the product's owners or an admin may "
            "withdraw this registration"
        )
    with transaction.atomic():
        rows_lock(DataProduct, pk=consumer.product_id)
        Consumer.objects.filter(pk=consumer.pk).delete()


# ---------------------------------------------------------------------------------------------
# What consumers are told after a publish (catalog.tasks.consumers_notify_task, on commit)
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
    if status == ProductStatus.DEPRECATED and (
        before != ProductStatus.DEPRECATED or new.get("deprecation") != old.get("deprecation")
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
    elif status == ProductStatus.RETIRED and before != ProductStatus.RETIRED:
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
    parts.append(f"Details and changelog: {url}")
    parts.append(f"Questions: {product.owner_contact} {product.owner_slack_channel}".rstrip())
    return email_subject(subject), "\n".join(parts) + "\n"


def consumers_notify(*, version_id: int) -> int:
    """E-mail each consumer about deprecation, retirement or breaking changes; return the count.

    Runs in the worker (``catalog.tasks.consumers_notify_task``, queued when the publish
    commits), never inside the request. One message per consumer, so consumers never see each
    other's addresses.
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
    except Exception:  # a mail outage must not fail the task over and over: logged, dropped
        log.exception("could not e-mail consumers of %s", version.product.product_id)
        return 0
