"""accounts.permissions.domain_ids_with gives guardian's answer (restrict relies on it)."""

from __future__ import annotations

from typing import Any

import pytest
from guardian.shortcuts import assign_perm, get_objects_for_user

from accounts import permissions
from accounts.permissions import MEMBER_PERM, OWNER_PERM, domain_ids_with
from catalog.models import Domain
from tests.factories import DomainFactory, UserFactory

pytestmark = pytest.mark.django_db


def guardian_ids(user: Any, perms: list[str]) -> list[int]:
    return sorted(
        get_objects_for_user(
            user, perms, klass=Domain, any_perm=True, accept_global_perms=False
        ).values_list("pk", flat=True)
    )


@pytest.mark.parametrize("perms", [[OWNER_PERM], [MEMBER_PERM], [MEMBER_PERM, OWNER_PERM]])
def test_matches_guardian_for_every_way_of_holding_a_permission(
    marketing: Domain, finance: Domain, perms: list[str]
) -> None:
    ops = DomainFactory.create(slug="ops", name="Ops")
    permissions.grant_domain(ops)
    owner_of_two = UserFactory.create(username="two")
    permissions.membership_set(user=owner_of_two, domain=marketing, is_owner=True)
    permissions.membership_set(user=owner_of_two, domain=ops, is_owner=False)
    direct = UserFactory.create(username="direct")  # a permission given to the user, not a group
    assign_perm(MEMBER_PERM, direct, finance)
    nobody = UserFactory.create(username="nobody")
    removed = UserFactory.create(username="removed")
    permissions.membership_set(user=removed, domain=finance, is_owner=True)
    permissions.membership_remove(user=removed, domain=finance)

    answers = {u.username: domain_ids_with(u, perms) for u in (owner_of_two, direct, nobody)}
    for user in (owner_of_two, direct, nobody, removed):
        assert domain_ids_with(user, perms) == guardian_ids(user, perms), user.username
    # The cases are not all empty: the comparison above is not vacuous.
    assert answers["two"] and answers["nobody"] == []
    assert answers["direct"] == ([finance.pk] if MEMBER_PERM in perms else [])


def test_inactive_and_anonymous_users_hold_nothing(member: Any) -> None:
    assert domain_ids_with(member, [MEMBER_PERM])
    member.is_active = False
    assert domain_ids_with(member, [MEMBER_PERM]) == []
    assert domain_ids_with(permissions.AnonymousUser(), [MEMBER_PERM]) == []
