"""Writes for users and teams."""

from __future__ import annotations

from django.db import transaction

from catalog.models import Domain

from . import permissions
from .models import Role, User


@transaction.atomic
def user_upsert(
    *,
    username: str,
    role: str,
    domain: Domain | None = None,
    is_owner: bool = False,
    password: str | None = None,
    email: str = "",
) -> tuple[User, bool]:
    """Create or update a user with ``role``; join ``domain``'s team (as owner if asked).

    Admins and domain owners get ``is_staff`` so they can use Django admin; what they see
    there is still narrowed by ``accounts.permissions``.
    """
    if role not in Role.values:
        raise ValueError(f"role must be one of {', '.join(Role.values)}")
    user, created = User.objects.get_or_create(username=username)
    user.role = role
    if email:
        user.email = email
    if password:
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    if domain is not None:
        permissions.membership_set(user=user, domain=domain, is_owner=is_owner)
    owns_any = user.memberships.filter(is_owner=True).exists()
    user.is_staff = role == Role.ADMIN or owns_any
    user.save()
    return user, created
