"""Writes for access requests (issue 17): create, approve, deny, revoke, cancel, expire, warn.

Every state change is one conditional UPDATE from the state it read (two owners deciding at
once: one wins, the other gets a 409), one appended ``AccessEvent`` (who, when, from, to, why),
and its notice queued as a named task once the transaction commits (never sent in the request).
Whether a grant unmasks is decided at query time from ``status`` and ``expires_at``
(``accounts.permissions.active_grants``); ``access_grants_expire`` only records what already
holds, and ``access_expiry_warn`` tells holders once, three days ahead.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import permissions
from accounts.access_models import TRANSITIONS, AccessEvent, AccessRequest, AccessStatus
from catalog.contract.vocabulary import Access, ProductStatus
from catalog.models import DataProduct

from . import notifications
from .tasks import access_request_notify_task

log = logging.getLogger(__name__)

DEFAULT_DAYS = 30
PURPOSE_MIN_LENGTH = 20
PURPOSE_MAX_LENGTH = 2000
NOTE_MAX_LENGTH = 2000
COLUMNS_MAX = 500
WARN_BEFORE = timedelta(days=3)
QUERYABLE = (ProductStatus.PUBLISHED, ProductStatus.DEPRECATED)


class AccessRequestInvalid(Exception):
    """A field of the request or decision cannot be used; ``field`` names it (HTTP 400)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


class AccessRequestConflict(Exception):
    """The request is not in a state that allows this, or one like it is open (HTTP 409)."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


class AccessRequestForbidden(PermissionDenied):
    """The actor may not do this to this request (HTTP 403, with this message)."""


# --- input -----------------------------------------------------------------------------------


def _text(value: object, field: str, *, required: bool, min_length: int, max_length: int) -> str:
    """A purpose or note: a string, without control characters, of a bounded length."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise AccessRequestInvalid(field, f"{field} must be text")
    text = value.strip()
    for char in text:
        if char not in "\n\t" and unicodedata.category(char) in ("Cc", "Cs"):
            raise AccessRequestInvalid(
                field, f"{field} must not contain control characters (U+{ord(char):04X})"
            )
    if required and len(text) < max(min_length, 1):
        if min_length > 1:
            raise AccessRequestInvalid(
                field, f"{field} must be at least {min_length} characters (say why)"
            )
        raise AccessRequestInvalid(field, f"{field} is required")
    if len(text) > max_length:
        raise AccessRequestInvalid(field, f"{field} must be at most {max_length} characters")
    return text


def _days(value: object, *, maximum: int, default: int) -> int:
    """A grant's length in whole days, 1 to ``maximum``."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise AccessRequestInvalid("days", "days must be a whole number")
    if value < 1:
        raise AccessRequestInvalid("days", "days must be at least 1")
    if value > maximum:
        raise AccessRequestInvalid("days", f"days must be at most {maximum}")
    return value


def _columns(value: object, *, pii: Sequence[str], product: DataProduct) -> list[str]:
    """The PII columns asked for: all of them by default; names compare exactly."""
    restricted = product.access == Access.RESTRICTED
    if value is None:
        if not pii and not restricted:
            raise AccessRequestInvalid(
                "columns", f"{product.product_id} has no PII columns: its values are not masked"
            )
        return list(pii)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise AccessRequestInvalid("columns", "columns must be a list of column names")
    if len(value) > COLUMNS_MAX:
        raise AccessRequestInvalid("columns", f"columns must name at most {COLUMNS_MAX} columns")
    chosen = list(dict.fromkeys(value))
    if not chosen and not restricted:
        raise AccessRequestInvalid("columns", "name at least one PII column")
    unknown = [name for name in chosen if name not in pii]
    if unknown:
        shown = ", ".join(repr(name[:60]) for name in unknown[:5])
        offered = ", ".join(pii) or "none"
        raise AccessRequestInvalid(
            "columns",
            f"not PII columns of {product.product_id}: {shown} (its PII columns: {offered})",
        )
    return chosen


# --- writes ----------------------------------------------------------------------------------


def _event(
    request: AccessRequest,
    *,
    actor: Any,
    from_status: str,
    to_status: str,
    note: str,
    now: datetime,
) -> AccessEvent:
    return AccessEvent.objects.create(
        request=request,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_username=str(getattr(actor, "username", "") or ""),
        from_status=from_status,
        to_status=to_status,
        note=note,
        at=now,
    )


def _notify_on_commit(request_id: int, event: str) -> None:
    def send() -> None:
        try:
            access_request_notify_task.delay(request_id, event)
        except Exception:  # the broker refused: the change stands, the notice is lost (logged)
            log.exception("could not queue the %s notice of access request %s", event, request_id)

    transaction.on_commit(send)


def access_request_create(
    *,
    actor: Any,
    product: DataProduct,
    purpose: object,
    columns: object = None,
    days: object = None,
    now: datetime | None = None,
) -> AccessRequest:
    """Ask for raw values of ``columns`` (default: every PII column) of ``product``.

    Steps: the actor must see the product, which must be queryable and not already read raw by
    them; check columns, purpose (20+ characters) and days (default 30, at most the domain's
    maximum); store the request and its first event; tell the domain's owners after commit.
    """
    now = now or timezone.now()
    if not permissions.can(actor, "view", product):
        raise AccessRequestForbidden(f"you may not see {product.product_id}")
    if product.status not in QUERYABLE:
        raise AccessRequestConflict(
            "PRODUCT_NOT_QUERYABLE",
            f"{product.product_id} is {product.status}: it cannot be queried, so there is "
            "nothing to grant",
        )
    basis = permissions.pii_basis(actor, product)
    if basis is not None:
        raise AccessRequestConflict(
            "ALREADY_RAW", f"you already read {product.product_id}'s PII unmasked ({basis})"
        )
    pii = [c.name for c in product.columns.order_by("position") if c.pii]
    chosen = _columns(columns, pii=pii, product=product)
    text = _text(
        purpose,
        "purpose",
        required=True,
        min_length=PURPOSE_MIN_LENGTH,
        max_length=PURPOSE_MAX_LENGTH,
    )
    maximum = product.domain.access_max_days
    length = _days(days, maximum=maximum, default=min(DEFAULT_DAYS, maximum))
    pending = AccessRequest.objects.filter(
        requester=actor, product=product, status=AccessStatus.PENDING
    )
    if pending.exists():
        raise AccessRequestConflict(
            "REQUEST_PENDING",
            f"you already have a pending request for {product.product_id}; cancel it first",
        )
    with transaction.atomic():
        try:
            with transaction.atomic():
                request = AccessRequest.objects.create(
                    requester=actor,
                    product=product,
                    columns=chosen,
                    purpose=text,
                    days=length,
                    status=AccessStatus.PENDING,
                    created_at=now,
                )
        except IntegrityError:  # the same request, sent twice at once: one pending only
            raise AccessRequestConflict(
                "REQUEST_PENDING",
                f"you already have a pending request for {product.product_id}; cancel it first",
            ) from None
        _event(request, actor=actor, from_status="", to_status=request.status, note=text, now=now)
        _notify_on_commit(request.pk, "requested")
    return request


def _move(
    request: AccessRequest,
    *,
    actor: Any,
    to_status: str,
    note: str,
    now: datetime,
    **fields: Any,
) -> AccessRequest:
    """Move ``request`` to ``to_status`` if its stored state allows it (one conditional
    UPDATE), append the event, and return the fresh row."""
    with transaction.atomic():
        current = AccessRequest.objects.filter(pk=request.pk).values_list("status", flat=True)
        from_status = current.first()
        if from_status is None or to_status not in TRANSITIONS.get(from_status, frozenset()):
            raise AccessRequestConflict(
                "WRONG_STATE",
                f"access request {request.pk} is {from_status}: it cannot become {to_status}",
            )
        won = AccessRequest.objects.filter(pk=request.pk, status=from_status).update(
            status=to_status, **fields
        )
        if not won:  # someone else moved it between the read and the update
            raise AccessRequestConflict(
                "WRONG_STATE", f"access request {request.pk} was just changed by someone else"
            )
        _event(
            request, actor=actor, from_status=from_status, to_status=to_status, note=note, now=now
        )
    return AccessRequest.objects.select_related("product__domain", "requester").get(pk=request.pk)


def access_require(actor: Any, action: permissions.Action, request: AccessRequest) -> None:
    """Refuse (AccessRequestForbidden, saying who may) unless ``actor`` may ``action`` it."""
    if permissions.can(actor, action, request):
        return
    if action == "decide" and request.requester_id == getattr(actor, "pk", None):
        raise AccessRequestForbidden(
            "nobody decides their own access request: an owner of the domain or an admin must"
        )
    if action == "cancel":
        raise AccessRequestForbidden("only the person who asked may cancel an access request")
    raise AccessRequestForbidden(
        f"only owners of domain {request.product.domain.slug} and admins decide access requests "
        "on its products"
    )


def access_request_approve(
    *,
    actor: Any,
    request: AccessRequest,
    note: object = "",
    days: object = None,
    now: datetime | None = None,
) -> AccessRequest:
    """Grant a pending request, for its days or fewer (``days`` may shorten it); the grant
    unmasks from now until ``expires_at``. The requester is told."""
    now = now or timezone.now()
    access_require(actor, "decide", request)
    text = _text(note, "note", required=False, min_length=0, max_length=NOTE_MAX_LENGTH)
    maximum = min(request.days, request.product.domain.access_max_days)
    length = _days(days, maximum=maximum, default=maximum)
    fresh = _move(
        request,
        actor=actor,
        to_status=AccessStatus.APPROVED,
        note=text or f"approved for {length} day{'s' if length != 1 else ''}",
        now=now,
        decided_at=now,
        decided_by=actor,
        decision_note=text,
        days=length,
        expires_at=now + timedelta(days=length),
    )
    _notify_on_commit(fresh.pk, AccessStatus.APPROVED)
    return fresh


def access_request_deny(
    *, actor: Any, request: AccessRequest, note: object, now: datetime | None = None
) -> AccessRequest:
    """Refuse a pending request; the note (why) is required and sent to the requester."""
    now = now or timezone.now()
    access_require(actor, "decide", request)
    text = _text(note, "note", required=True, min_length=1, max_length=NOTE_MAX_LENGTH)
    fresh = _move(
        request,
        actor=actor,
        to_status=AccessStatus.DENIED,
        note=text,
        now=now,
        decided_at=now,
        decided_by=actor,
        decision_note=text,
    )
    _notify_on_commit(fresh.pk, AccessStatus.DENIED)
    return fresh


def access_request_revoke(
    *, actor: Any, request: AccessRequest, note: object = "", now: datetime | None = None
) -> AccessRequest:
    """End an approved grant now (owners of the domain, admins); the holder is told. The very
    next query of the holder reads masked values."""
    now = now or timezone.now()
    access_require(actor, "decide", request)
    text = _text(note, "note", required=False, min_length=0, max_length=NOTE_MAX_LENGTH)
    fresh = _move(
        request,
        actor=actor,
        to_status=AccessStatus.REVOKED,
        note=text or "revoked",
        now=now,
        ended_at=now,
    )
    _notify_on_commit(fresh.pk, AccessStatus.REVOKED)
    return fresh


def access_request_cancel(
    *, actor: Any, request: AccessRequest, note: object = "", now: datetime | None = None
) -> AccessRequest:
    """The requester withdraws a pending request or gives up a grant early."""
    now = now or timezone.now()
    access_require(actor, "cancel", request)
    text = _text(note, "note", required=False, min_length=0, max_length=NOTE_MAX_LENGTH)
    return _move(
        request,
        actor=actor,
        to_status=AccessStatus.CANCELLED,
        note=text or "cancelled by the requester",
        now=now,
        ended_at=now,
    )


# --- beat ------------------------------------------------------------------------------------


def access_grants_expire(*, now: datetime | None = None) -> int:
    """Record every grant past its ``expires_at`` as expired (queries stopped unmasking at that
    second already); returns how many this call recorded."""
    now = now or timezone.now()
    done = 0
    due = AccessRequest.objects.filter(status=AccessStatus.APPROVED, expires_at__lte=now)
    for request in due.only("pk", "expires_at"):
        with transaction.atomic():
            won = AccessRequest.objects.filter(pk=request.pk, status=AccessStatus.APPROVED).update(
                status=AccessStatus.EXPIRED, ended_at=request.expires_at
            )
            if won:  # zero: revoked, cancelled or expired by another worker meanwhile
                _event(
                    request,
                    actor=None,
                    from_status=AccessStatus.APPROVED,
                    to_status=AccessStatus.EXPIRED,
                    note="the grant reached its end",
                    now=now,
                )
                done += 1
    return done


def access_expiry_warn(*, now: datetime | None = None) -> int:
    """Tell each holder once that their grant ends within three days (grants that were that
    short from the start are not warned: their approval said when they end)."""
    now = now or timezone.now()
    due = AccessRequest.objects.filter(
        status=AccessStatus.APPROVED,
        expires_at__gt=now,
        expires_at__lte=now + WARN_BEFORE,
        expiry_warned_at__isnull=True,
    ).select_related("product__domain", "requester")
    sent = 0
    for request in due:
        assert request.expires_at is not None and request.decided_at is not None
        if request.expires_at - request.decided_at <= WARN_BEFORE:
            continue
        # One conditional UPDATE claims the warning: two beats never send it twice.
        won = AccessRequest.objects.filter(pk=request.pk, expiry_warned_at__isnull=True).update(
            expiry_warned_at=now
        )
        if won:
            notifications.expiry_warning(request=request, now=now)
            sent += 1
    return sent
