"""Access requests and grants of raw PII (issue 17): who asked for which columns, why, until when.

An ``AccessRequest`` is a request while ``pending`` and a grant once ``approved``: the same row,
so its whole story stays in one place. Every state change appends an ``AccessEvent`` (who, when,
from which state to which, and why). Neither is ever deleted: the model, its queryset and the
foreign keys pointing at them refuse it, and no admin or API offers it. Whether a grant unmasks
anything is decided at query time from ``status`` and ``expires_at`` (``accounts.permissions``),
never from a beat task alone; beat only records the expiry and warns holders ahead of it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models


class AccessStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    DENIED = "denied", "Denied"
    REVOKED = "revoked", "Revoked"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"


# The moves a request may make; everything else is refused (services.py says why to the caller).
TRANSITIONS: dict[str, frozenset[str]] = {
    AccessStatus.PENDING: frozenset(
        {AccessStatus.APPROVED, AccessStatus.DENIED, AccessStatus.CANCELLED}
    ),
    # Cancelled: the holder gives a grant up early.
    AccessStatus.APPROVED: frozenset(
        {AccessStatus.REVOKED, AccessStatus.EXPIRED, AccessStatus.CANCELLED}
    ),
    AccessStatus.DENIED: frozenset(),
    AccessStatus.REVOKED: frozenset(),
    AccessStatus.CANCELLED: frozenset(),
    AccessStatus.EXPIRED: frozenset(),
}


class NeverDeleted(Exception):
    """Access requests and their events are evidence: they are never deleted."""


class _KeptQuerySet(models.QuerySet[Any]):
    def delete(self) -> tuple[int, dict[str, int]]:
        raise NeverDeleted(f"{self.model.__name__} rows are never deleted")


class AccessRequestQuerySet(_KeptQuerySet):
    def active_at(self, now: datetime) -> AccessRequestQuerySet:
        """Grants that unmask at ``now``: approved, from the approval (``decided_at``) until
        ``expires_at`` exclusive, to the second."""
        return self.filter(status=AccessStatus.APPROVED, decided_at__lte=now, expires_at__gt=now)


class AccessRequest(models.Model):
    """A request for raw values of some PII columns of one product; a grant once approved."""

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_requests"
    )
    product = models.ForeignKey(
        "catalog.DataProduct", on_delete=models.PROTECT, related_name="access_requests"
    )
    # Column names (a publish re-creates Column rows, so names, not keys); the PII columns asked
    # for, and once approved the ones granted (the same list).
    columns = models.JSONField(default=list)
    purpose = models.TextField()
    # Asked for at first; an approval may shorten it (never lengthen past the domain's maximum).
    days = models.PositiveIntegerField()
    status = models.CharField(
        max_length=16, choices=AccessStatus.choices, default=AccessStatus.PENDING, db_index=True
    )
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="access_decisions",
    )
    decision_note = models.TextField(blank=True)
    # Set on approval: the first instant the grant no longer unmasks (exclusive end).
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # The one warning before expiry (beat sets it with a conditional UPDATE: sent once).
    expiry_warned_at = models.DateTimeField(null=True, blank=True)

    objects = AccessRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["requester", "status", "expires_at"], name="access_holder_active"),
            models.Index(fields=["product", "status"], name="access_product_status"),
        ]
        constraints = [
            # One open request per person and product: a second one is a 409, even when two
            # arrive at once.
            models.UniqueConstraint(
                fields=["requester", "product"],
                condition=models.Q(status="pending"),
                name="access_one_pending_request",
            )
        ]

    def __str__(self) -> str:
        return f"access request {self.pk} ({self.status})"

    @property
    def domain(self) -> Any:
        """The domain whose owners decide (the product's)."""
        return self.product.domain

    @property
    def basis(self) -> str:
        """How the audit log names a raw read under this grant."""
        return f"grant:{self.pk}"

    def is_active(self, now: datetime) -> bool:
        """Whether this grant unmasks at ``now`` (approved, ``decided_at`` <= ``now`` <
        ``expires_at``)."""
        return (
            self.status == AccessStatus.APPROVED
            and self.decided_at is not None
            and self.expires_at is not None
            and self.decided_at <= now < self.expires_at
        )

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise NeverDeleted("access requests are never deleted; revoke or cancel them")


class AccessEventQuerySet(_KeptQuerySet):
    def update(self, **kwargs: Any) -> int:
        raise NeverDeleted("access events are appended, never changed")


class AccessEvent(models.Model):
    """One state change of an access request: who, when, from what to what, and why."""

    request = models.ForeignKey(AccessRequest, on_delete=models.PROTECT, related_name="events")
    # None: the portal itself (an expiry); the name is copied so the history reads as it was.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="access_events",
    )
    actor_username = models.CharField(max_length=150, blank=True)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, choices=AccessStatus.choices)
    note = models.TextField(blank=True)
    at = models.DateTimeField()

    objects = AccessEventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        who = self.actor_username or "portal"
        return f"{self.from_status or 'new'} → {self.to_status} by {who}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise NeverDeleted("access events are appended, never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise NeverDeleted("access events are never deleted")
