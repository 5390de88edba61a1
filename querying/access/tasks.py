"""Access requests' background work (issue 17): notices queued on commit, and two beat tasks
(config/celery.py). Thin: each task loads ids or the time and calls one function.

The services import this module to queue the notice task, so the beat tasks import the
services when they run.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from . import notifications


@shared_task(name="querying.access_request_notify", acks_late=True)
def access_request_notify_task(request_id: int, event: str) -> None:
    """After a request, decision or revocation commits: tell the people concerned."""
    notifications.notify(request_id=request_id, event=event)


@shared_task(name="querying.access_grants_expire")
def access_grants_expire_task() -> int:
    """Beat: record grants past their end as expired (they stopped unmasking already)."""
    from .services import access_grants_expire

    return access_grants_expire(now=timezone.now())


@shared_task(name="querying.access_expiry_warn")
def access_expiry_warn_task() -> int:
    """Beat: warn each holder once, three days before their grant ends."""
    from .services import access_expiry_warn

    return access_expiry_warn(now=timezone.now())
