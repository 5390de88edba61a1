"""Incidents people handle: acknowledge one, resolve one with a note (issue 12).

Runs open incidents and resolve them automatically (``quality.services``); these are the two
steps a person takes in between. Owners of the product's domain and platform admins only.
Incidents are evidence, so nothing here deletes one. Each step is one conditional UPDATE on an
open incident, so two owners clicking at once (or a run resolving it meanwhile) cannot both win.
Kept apart from ``quality/services.py``, which is past its 400 lines.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts import permissions

from .models import Incident, IncidentStatus

NOTE_MAX_LENGTH = 2_000


class IncidentRefused(Exception):
    """The step cannot be taken; ``field`` names the input or state at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _allowed(actor: Any, incident: Incident) -> None:
    if not permissions.can(actor, "change", incident):
        raise PermissionDenied(
            f"only owners of domain {incident.product.domain.slug} and platform admins handle "
            "its incidents"
        )


def _note(text: str | None, field: str) -> str:
    note = (text or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise IncidentRefused(field, f"at most {NOTE_MAX_LENGTH:,} characters")
    if "\x00" in note:
        raise IncidentRefused(field, "must not contain the NUL character")
    return note


def _why_not_open(incident: Incident) -> IncidentRefused:
    incident.refresh_from_db()
    when = timezone.localtime(incident.resolved_at) if incident.resolved_at else None
    at = f" at {when:%Y-%m-%d %H:%M}" if when else ""
    return IncidentRefused("status", f"the incident is already resolved{at}")


def incident_acknowledge(
    *, actor: Any, incident: Incident, note: str = "", now: datetime | None = None
) -> Incident:
    """Mark an open incident as being handled by ``actor``, with an optional note."""
    _allowed(actor, incident)
    text = _note(note, "acknowledgement")
    now = now or timezone.now()
    won = Incident.objects.filter(
        pk=incident.pk, status=IncidentStatus.OPEN, acknowledged_at__isnull=True
    ).update(acknowledged_at=now, acknowledged_by=actor, acknowledgement=text)
    if not won:
        incident.refresh_from_db()
        if incident.status != IncidentStatus.OPEN:
            raise _why_not_open(incident)
        by = incident.acknowledged_by.get_username() if incident.acknowledged_by else "someone"
        raise IncidentRefused("acknowledged_at", f"already acknowledged by {by}")
    incident.refresh_from_db()
    _health_refresh(incident)
    return incident


def incident_resolve(
    *, actor: Any, incident: Incident, note: str, now: datetime | None = None
) -> Incident:
    """Resolve an open incident with a note saying what was done; owners and consumers are told.

    Steps: check the actor; require the note; resolve with one conditional UPDATE (an incident
    a run resolved meanwhile is refused, not resolved twice); after commit, send the resolved
    notice once (``incident_notify`` stamps it). If the data is still stale or failing, the
    next run opens a new incident: resolving by hand never hides a live problem.
    """
    from .services import incident_notify  # services imports models; keep this module light

    _allowed(actor, incident)
    text = _note(note, "resolution")
    if not text:
        raise IncidentRefused(
            "resolution", "say what was done: the note is sent to the product's consumers"
        )
    now = now or timezone.now()
    with transaction.atomic():
        won = Incident.objects.filter(pk=incident.pk, status=IncidentStatus.OPEN).update(
            status=IncidentStatus.RESOLVED, resolved_at=now, resolved_by=actor, resolution=text
        )
        if not won:
            raise _why_not_open(incident)
        incident.refresh_from_db()
        _health_refresh(incident)  # in the same unit of work as the resolution
        transaction.on_commit(partial(incident_notify, incident=incident, event="resolved"))
    return incident


def _health_refresh(incident: Incident) -> None:
    """Store the product's health again: what every surface shows follows the incident."""
    from .services import product_health_refresh

    product_health_refresh(product_ids=[incident.product_id])
