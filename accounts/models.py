"""Users, their portal role, and their membership of domain teams."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    ANALYST = "analyst", "Analyst"
    MANAGER = "manager", "Manager"
    ADMIN = "admin", "Platform admin"


class User(AbstractUser):
    """A portal user; ``role`` is the seed's analyst | manager | admin."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ANALYST)

    @property
    def is_platform_admin(self) -> bool:
        """Admins (and Django superusers) see and change everything, PII unmasked."""
        return self.is_superuser or self.role == Role.ADMIN


class TeamMembership(models.Model):
    """A user's membership of a domain team; owners publish that domain's products."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    domain = models.ForeignKey(
        "catalog.Domain", on_delete=models.CASCADE, related_name="memberships"
    )
    is_owner = models.BooleanField(default=False)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "domain"], name="unique_membership")]
        ordering = ["domain__slug", "user__username"]

    def __str__(self) -> str:
        kind = "owner" if self.is_owner else "member"
        return f"{self.user} ({kind} of {self.domain})"


# Access requests and grants live in their own module (issue 17); imported here so Django
# registers them with the app's other models.
from .access_models import AccessEvent, AccessRequest, AccessStatus  # noqa: E402, F401


class ExternalIdentity(models.Model):
    """A user's account at the company's OpenID Connect provider (issue 19): the provider's
    ``sub`` claim, which never changes, not the e-mail address, finds the portal user again."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="external_identities")
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="unique_external_identity")
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.issuer}"
