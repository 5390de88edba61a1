"""Rows built once for a whole test module, inside a transaction that is never committed.

A module fixture opens the transaction (``module_catalog``) and builds its rows; each test
(``db``) then runs in a savepoint of it, so it sees those rows fresh and its own writes are
rolled back, exactly as if the rows had been built for it alone. After the module the whole
transaction is rolled back: nothing is committed, so no on-commit task ever runs and the next
module starts from an empty database. Only for modules without ``transactional_db`` tests.
"""

from __future__ import annotations

from collections.abc import Iterator
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


def users_and_domains() -> dict[str, User]:
    """tests/conftest.py's marketing and finance domains and its five users, by fixture name."""
    marketing, finance = domain("marketing"), domain("finance")
    owner = UserFactory.create(username="maya", role="manager", is_staff=True)
    permissions.membership_set(user=owner, domain=marketing, is_owner=True)
    member = UserFactory.create(username="mo", role="analyst")
    permissions.membership_set(user=member, domain=marketing, is_owner=False)
    outsider = UserFactory.create(username="fiona", role="manager", is_staff=True)
    permissions.membership_set(user=outsider, domain=finance, is_owner=True)
    return {
        "owner": owner,
        "member": member,
        "outsider": outsider,
        "analyst": UserFactory.create(username="ana", role="analyst"),
        "admin_user": UserFactory.create(username="root", role="admin", is_staff=True),
    }


def shared_user(name: str) -> Any:
    """A fixture named ``name`` returning that user of the module's ``_catalog`` fixture
    (``users_and_domains``), read fresh from the database in each test's savepoint."""

    @pytest.fixture(name=name)
    def user(_catalog: Any, db: Any) -> User:
        return User.objects.get(pk=_catalog["users"][name])

    return user
