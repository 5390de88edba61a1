"""Consumers of a product: registrations, and the notices they get after a publish."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from accounts import permissions
from accounts.models import User
from catalog.contract.vocabulary import ProductStatus
from catalog.lineage import downstream_graph
from catalog.lineage_graph import impact_of
from catalog.mail import email_subject
from catalog.models import (
    Consumer,
    ConsumerChange,
    ConsumerChangeAction,
    ConsumerKind,
    ContractVersion,
    DataProduct,
)

from .locks import rows_lock

log = logging.getLogger(__name__)


class ConsumerTaken(Exception):
    """Another user's consumer registration, which this actor may not change (HTTP 409)."""


# Kinds a person may register (issue 16); ``product`` consumers come from contracts' inputs.
REGISTERED_KINDS = tuple(k for k in ConsumerKind.values if k != ConsumerKind.PRODUCT)


def consumer_register(
    *,
    actor: User | None,
    product: DataProduct,
    team: str,
    use_case: str,
    contact: str,
    kind: str = ConsumerKind.TEAM,
    name: str = "",
    url: str = "",
    now: datetime | None = None,
) -> tuple[Consumer, bool]:
    """Register a consumer of ``product`` (a dashboard, application, notebook or team, named
    ``name``; a team by default, named after ``team``), or update that registration.

    A registration is changed only by whoever made it, the product's owners or admins
    (``actor=None`` is a trusted system caller such as seed_demo); anyone else gets
    ConsumerTaken instead of overwriting another team's contact (issue 11). Registrations of
    one product are written one at a time (issue 13); each is kept as a ConsumerChange.
    """
    if kind not in REGISTERED_KINDS:
        raise ValueError(f"kind must be one of {', '.join(REGISTERED_KINDS)}")
    team = team.strip()
    name = (name or "").strip() or team
    fields = {"use_case": use_case.strip(), "contact": contact, "team": team, "url": url.strip()}
    now = now or timezone.now()
    with transaction.atomic():
        rows_lock(DataProduct, pk=product.pk)
        consumer = Consumer.objects.filter(product=product, kind=kind, name=name).first()
        if consumer is None:
            consumer = Consumer.objects.create(
                product=product, kind=kind, name=name, registered_by=actor, **fields
            )
            _record(consumer, ConsumerChangeAction.REGISTERED, actor, now)
            return consumer, True
        if actor is not None and not permissions.can_change_consumer(actor, consumer):
            raise ConsumerTaken(
                f"{kind} {name} is already registered as a consumer of {product.product_id} "
                "by another user; only they, the product's owners or an admin may change it"
            )
        changed = [key for key, value in fields.items() if getattr(consumer, key) != value]
        for key, value in fields.items():
            setattr(consumer, key, value)
        consumer.save(update_fields=[*fields, "updated_at"])
        if changed:
            _record(consumer, ConsumerChangeAction.UPDATED, actor, now)
        return consumer, False


def consumer_withdraw(
    *, actor: User | None, consumer: Consumer, note: str = "", now: datetime | None = None
) -> None:
    """Withdraw a consumer registration: its registrant, the product's owners or admins only
    (``actor=None``: a trusted system caller such as seed_demo).

    Raises PermissionDenied for anyone else. Registrations of one product are written one at
    a time, as in ``consumer_register``; the withdrawal is kept (ConsumerChange, with
    ``note``: why, or where the consumer moved), so the product shows whom it lost.
    """
    if actor is not None and not permissions.can_change_consumer(actor, consumer):
        raise PermissionDenied(
            f"only whoever registered {consumer.name or consumer.team}, the product's owners or "
            "an admin may withdraw this registration"
        )
    if consumer.kind == ConsumerKind.PRODUCT:
        raise PermissionDenied(
            f"{consumer.name} is built from this product (its contract's inputs); it stops "
            "consuming it when its owners publish a contract without it"
        )
    with transaction.atomic():
        rows_lock(DataProduct, pk=consumer.product_id)
        Consumer.objects.filter(pk=consumer.pk).delete()
        _record(consumer, ConsumerChangeAction.WITHDRAWN, actor, now or timezone.now(), note)


def _record(
    consumer: Consumer, action: str, actor: User | None, now: datetime, note: str = ""
) -> None:
    ConsumerChange.objects.create(
        product_id=consumer.product_id,
        kind=consumer.kind,
        name=consumer.name,
        team=consumer.team,
        action=action,
        note=note,
        actor=actor if actor is not None and actor.pk else None,
        at=now,
    )


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
    commits), never inside the request. One message per address, so consumers never see each
    other's addresses, naming what each of them uses that changed (issue 16): their
    registrations on the product, and for a breaking change also everything downstream of it,
    transitively (a dashboard on a product built from this one hears which chain reaches it).
    """
    version = (
        ContractVersion.objects.select_related("product__domain").filter(pk=version_id).first()
    )
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
    uses = _uses_by_contact(version)
    if not uses:
        return 0
    messages = [
        EmailMessage(
            subject,
            "\n".join(["What you use that this changes:", *sorted(lines), "", body]),
            settings.DEFAULT_FROM_EMAIL,
            [contact],
        )
        for contact, lines in sorted(uses.items())
    ]
    try:
        return get_connection(fail_silently=False).send_messages(messages) or 0
    except Exception:  # a mail outage must not fail the task over and over: logged, dropped
        log.exception("could not e-mail consumers of %s", version.product.product_id)
        return 0


def _uses_by_contact(version: ContractVersion) -> dict[str, set[str]]:
    """Contact → one line per thing of theirs the new version reaches: the product's own
    consumers always; for a breaking change, everything downstream too (catalog.lineage)."""
    product = version.product
    pid = product.product_id
    out: dict[str, set[str]] = {}
    for consumer in Consumer.objects.filter(product=product).select_related("downstream"):
        if consumer.kind == ConsumerKind.PRODUCT:
            line = f"  - your product {consumer.name} is built from {pid}"
        else:
            line = f"  - your {consumer.kind} {consumer.name} uses {pid}"
        out.setdefault(consumer.contact, set()).add(line)
    if not version.is_breaking:
        return out
    graph, _ = downstream_graph(product)
    impact = impact_of(graph)
    far = [a for a in (*impact.products, *impact.consumers) if a.depth > 1]
    named = {(a.node.kind, a.node.name) for a in far if not a.node.is_product}
    contacts: dict[tuple[str, str], set[str]] = {}
    rows = Consumer.objects.filter(
        kind__in={kind for kind, _ in named}, name__in={name for _, name in named}
    ).values_list("kind", "name", "contact")
    for kind, name, contact in rows:
        contacts.setdefault((kind, name), set()).add(contact)
    owners = dict(
        DataProduct.objects.filter(
            product_id__in=[a.node.product_id for a in far if a.node.is_product]
        ).values_list("product_id", "owner_contact")
    )
    for affected in far:
        node = affected.node
        if node.is_product:
            reached = {owners[node.product_id]} if node.product_id in owners else set()
            what = f"your product {node.product_id}"
        else:
            reached = contacts.get((node.kind, node.name), set())
            what = f"your {node.kind} {node.name}"
        chain = " ← ".join(reversed(affected.via))
        for contact in reached:
            out.setdefault(contact, set()).add(f"  - {what} uses {chain}")
    return out
