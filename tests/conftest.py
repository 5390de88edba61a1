"""The fixed cast of users and domains every test can use.

``owner``: owner of marketing; ``member``: member (not owner) of marketing; ``outsider``:
owner of finance; ``analyst``, ``manager``: no team; ``admin``: platform admin.
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts import permissions
from accounts.models import User
from catalog.models import Domain
from tests.factories import DomainFactory, UserFactory


@pytest.fixture
def marketing(db: Any) -> Domain:
    domain = DomainFactory.create(slug="marketing", name="Marketing")
    permissions.grant_domain(domain)
    return domain


@pytest.fixture
def finance(db: Any) -> Domain:
    domain = DomainFactory.create(slug="finance", name="Finance")
    permissions.grant_domain(domain)
    return domain


@pytest.fixture
def owner(marketing: Domain) -> User:
    user = UserFactory.create(username="maya", role="manager", is_staff=True)
    permissions.membership_set(user=user, domain=marketing, is_owner=True)
    return user


@pytest.fixture
def member(marketing: Domain) -> User:
    user = UserFactory.create(username="mo", role="analyst")
    permissions.membership_set(user=user, domain=marketing, is_owner=False)
    return user


@pytest.fixture
def outsider(finance: Domain) -> User:
    user = UserFactory.create(username="fiona", role="manager", is_staff=True)
    permissions.membership_set(user=user, domain=finance, is_owner=True)
    return user


@pytest.fixture
def analyst(db: Any) -> User:
    return UserFactory.create(username="ana", role="analyst")


@pytest.fixture
def manager(db: Any) -> User:
    return UserFactory.create(username="max", role="manager")


@pytest.fixture
def admin_user(db: Any) -> User:
    return UserFactory.create(username="root", role="admin", is_staff=True)


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def api_as(api: APIClient):
    """``api_as(user)`` returns an API client authenticated as ``user`` (None: anonymous)."""

    def login(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return login
