"""Rows built once for a whole test module, inside a transaction that is never committed.

A module fixture opens the transaction (``module_catalog``) and builds its rows; each test
(``db``) then runs in a savepoint of it, so it sees those rows fresh and its own writes are
rolled back, exactly as if the rows had been built for it alone. After the module the whole
transaction is rolled back: nothing is committed, so no on-commit task ever runs and the next
module starts from an empty database. Only for modules without ``transactional_db`` tests.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings

from accounts import permissions
from accounts.models import User
from catalog.models import Domain
from tests.factories import DomainFactory, UserFactory


@contextmanager
def module_catalog(django_db_blocker: Any, **settings: Any) -> Iterator[None]:
    """Open the module's never-committed transaction (with ``settings`` overridden)."""
    with override_settings(**settings), django_db_blocker.unblock(), transaction.atomic():
        try:
            yield
        finally:
            transaction.set_rollback(True)


def domain(slug: str) -> Domain:
    """The domain ``slug`` with its groups and permissions (tests/conftest.py's fixtures)."""
    made = DomainFactory.create(slug=slug, name=slug.title())
    permissions.grant_domain(made)
    return made


# tests/conftest.py's cast, by fixture name: username, role, staff flag, and the domain the user
# is on (its slug, and whether as an owner), if any.
CAST: dict[str, tuple[str, str, bool, tuple[str, bool] | None]] = {
    "owner": ("maya", "manager", True, ("marketing", True)),
    "member": ("mo", "analyst", False, ("marketing", False)),
    "outsider": ("fiona", "manager", True, ("finance", True)),
    "analyst": ("ana", "analyst", False, None),
    "manager": ("max", "manager", False, None),
    "admin_user": ("root", "admin", True, None),
}


def cast_user(name: str, domains: Mapping[str, Domain] | None = None) -> User:
    """The cast's user ``name``, on its domain (taken from ``domains`` by slug)."""
    username, role, is_staff, team = CAST[name]
    user = UserFactory.create(username=username, role=role, is_staff=is_staff)
    if team is not None:
        slug, is_owner = team
        permissions.membership_set(user=user, domain=(domains or {})[slug], is_owner=is_owner)
    return user


def users_and_domains() -> dict[str, User]:
    """tests/conftest.py's marketing and finance domains and five of its users, by name."""
    domains = {"marketing": domain("marketing"), "finance": domain("finance")}
    names = ("owner", "member", "outsider", "analyst", "admin_user")
    return {name: cast_user(name, domains) for name in names}


def shared_user(name: str) -> Any:
    """A fixture named ``name`` returning that user of the module's ``_catalog`` fixture
    (``users_and_domains``), read fresh from the database in each test's savepoint."""

    @pytest.fixture(name=name)
    def user(_catalog: Any, db: Any) -> User:
        return User.objects.get(pk=_catalog["users"][name])

    return user
