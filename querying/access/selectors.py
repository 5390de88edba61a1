"""Reads for access requests (issue 17): always narrowed by ``accounts.permissions``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers

from accounts import permissions
from accounts.access_models import AccessRequest, AccessStatus

_DATETIME = serializers.DateTimeField()


def _at(value: datetime | None) -> str | None:
    return _DATETIME.to_representation(value) if value is not None else None


def access_request_list(
    *, user: Any, status: str | None = None, product_id: str | None = None
) -> QuerySet[AccessRequest]:
    """The requests ``user`` may read (theirs; their domains' for owners; all for admins),
    newest first, filtered by status and product id."""
    rows = permissions.restrict(AccessRequest.objects.all(), user, "view")
    if status:
        rows = rows.filter(status=status)
    if product_id:
        rows = rows.filter(product__product_id=product_id)
    return rows.select_related("product__domain", "requester", "decided_by").order_by(
        "-created_at", "-id"
    )


def access_inbox(*, user: Any) -> QuerySet[AccessRequest]:
    """Pending requests ``user`` may decide (owners: their domains'; admins: all), oldest first;
    never their own."""
    rows = permissions.restrict(AccessRequest.objects.all(), user, "decide")
    return (
        rows.filter(status=AccessStatus.PENDING)
        .select_related("product__domain", "requester")
        .order_by("created_at", "id")
    )


def access_decided(*, user: Any, limit: int = 50) -> list[AccessRequest]:
    """The latest decided requests ``user`` may decide on (their domains'), newest first."""
    rows = permissions.restrict(AccessRequest.objects.all(), user, "decide")
    return list(
        rows.exclude(status=AccessStatus.PENDING)
        .select_related("product__domain", "requester", "decided_by")
        .order_by("-decided_at", "-created_at", "-id")[:limit]
    )


def access_mine(*, user: Any, limit: int = 50) -> list[AccessRequest]:
    """``user``'s own requests and grants, newest first."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        AccessRequest.objects.filter(requester=user)
        .select_related("product__domain", "decided_by")
        .order_by("-created_at", "-id")[:limit]
    )


def request_body(request: AccessRequest, *, now: datetime, events: bool = False) -> dict[str, Any]:
    """One request as the API shows it (``events``: with its history, oldest first)."""
    body: dict[str, Any] = {
        "id": request.pk,
        "status": request.status,
        "active": request.is_active(now),
        "product": request.product.product_id,
        "requester": request.requester.get_username(),
        "columns": list(request.columns),
        "purpose": request.purpose,
        "days": request.days,
        "createdAt": _at(request.created_at),
        "decidedAt": _at(request.decided_at),
        "decidedBy": request.decided_by.get_username() if request.decided_by else None,
        "note": request.decision_note,
        "expiresAt": _at(request.expires_at),
        "endedAt": _at(request.ended_at),
        "basis": request.basis,
    }
    if events:
        body["events"] = [
            {
                "at": _at(e.at),
                "actor": e.actor_username or None,
                "from": e.from_status or None,
                "to": e.to_status,
                "note": e.note,
            }
            for e in request.events.all()
        ]
    return body
