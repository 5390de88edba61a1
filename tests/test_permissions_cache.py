"""The domain ids kept per user (accounts.permissions, DOMAIN_IDS_TTL_S): kept briefly to save a
query per request, and never kept past a change of what they answer."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm, remove_perm

from accounts import permissions
from accounts.models import User
from accounts.permissions import MEMBER_PERM, OWNER_PERM, can, domain_ids_with
from catalog.models import DataProduct, Domain
from catalog.services import product_publish
from tests.factories import UserFactory, contract_document

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(marketing: Domain) -> DataProduct:
    doc = contract_document("marketing.campaign_attribution", status="draft")
    return product_publish(actor=None, document=doc).product


def reads(func: Any) -> tuple[Any, int]:
    """``func()``'s answer and how many SQL statements it sent."""
    with CaptureQueriesContext(connection) as captured:
        answer = func()
    return answer, len(captured.captured_queries)


def test_a_second_lookup_without_a_change_reads_no_database(member: User) -> None:
    first, first_reads = reads(lambda: domain_ids_with(member, [MEMBER_PERM]))
    again, again_reads = reads(lambda: domain_ids_with(member, [MEMBER_PERM, OWNER_PERM]))
    assert first == again and first
    assert first_reads == 1 and again_reads == 0


def test_joining_and_leaving_a_team_is_seen_by_the_next_check(
    analyst: User, marketing: Domain, draft: DataProduct
) -> None:
    assert not can(analyst, "view", draft)  # kept now
    permissions.membership_set(user=analyst, domain=marketing, is_owner=False)
    assert can(analyst, "view", draft) and can(analyst, "view_pii", draft)
    assert not can(analyst, "change", draft)
    permissions.membership_set(user=analyst, domain=marketing, is_owner=True)
    assert can(analyst, "change", draft)
    fresh = User.objects.get(pk=analyst.pk)  # another request's user object
    assert can(fresh, "change", draft)
    permissions.membership_remove(user=analyst, domain=marketing)
    assert not can(analyst, "view", draft) and not can(fresh, "view_pii", draft)


def test_a_permission_given_or_taken_directly_is_seen_by_the_next_check(
    analyst: User, marketing: Domain
) -> None:
    assert domain_ids_with(analyst, [MEMBER_PERM]) == []
    assign_perm(MEMBER_PERM, analyst, marketing)
    assert domain_ids_with(analyst, [MEMBER_PERM]) == [marketing.pk]
    remove_perm(MEMBER_PERM, analyst, marketing)
    assert domain_ids_with(analyst, [MEMBER_PERM]) == []


def test_a_deleted_team_group_is_seen_by_the_next_check(member: User, marketing: Domain) -> None:
    assert domain_ids_with(member, [MEMBER_PERM]) == [marketing.pk]
    member.groups.filter(name__startswith="domain:marketing:").delete()
    assert domain_ids_with(member, [MEMBER_PERM]) == []


def test_a_change_another_process_records_in_the_shared_cache_is_seen(
    analyst: User, marketing: Domain
) -> None:
    assert domain_ids_with(analyst, [MEMBER_PERM]) == []
    # Written the way another process's change looks from here: the rows change without this
    # process's signals, and the shared cache holds a new version.
    unsignalled_member_permission(analyst, marketing)
    assert domain_ids_with(analyst, [MEMBER_PERM]) == []  # kept: nothing said it changed
    cache.set(permissions.PERMISSIONS_VERSION_KEY, "another-process", None)
    assert domain_ids_with(analyst, [MEMBER_PERM]) == [marketing.pk]


def unsignalled_member_permission(user: User, domain: Domain) -> None:
    """Give ``user`` the member permission on ``domain`` without any signal (bulk_create)."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType
    from guardian.models import UserObjectPermission

    UserObjectPermission.objects.bulk_create(
        [
            UserObjectPermission(
                user=user,
                permission=Permission.objects.get(codename="view_domain_pii"),
                content_type=ContentType.objects.get_for_model(Domain),
                object_pk=str(domain.pk),
            )
        ]
    )


def test_a_kept_answer_expires_after_the_ttl(
    analyst: User, marketing: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert domain_ids_with(analyst, [MEMBER_PERM]) == []
    unsignalled_member_permission(analyst, marketing)  # no new version: only time tells
    assert domain_ids_with(analyst, [MEMBER_PERM]) == []
    later = time.monotonic() + permissions.DOMAIN_IDS_TTL_S + 1
    monkeypatch.setattr(permissions.time, "monotonic", lambda: later)
    assert domain_ids_with(analyst, [MEMBER_PERM]) == [marketing.pk]


def test_without_the_cache_every_lookup_reads_the_database(
    member: User, marketing: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*_args: Any, **_kwargs: Any) -> Any:
        raise ConnectionError("redis is down")

    monkeypatch.setattr(permissions.cache, "get", down)
    monkeypatch.setattr(permissions.cache, "set", down)
    ids, first = reads(lambda: domain_ids_with(member, [MEMBER_PERM]))
    again, second = reads(lambda: domain_ids_with(member, [MEMBER_PERM]))
    assert ids == again == [marketing.pk] and first == second == 1
    permissions.membership_remove(user=member, domain=marketing)  # must not raise either
    assert domain_ids_with(member, [MEMBER_PERM]) == []


def test_a_user_created_again_with_the_same_id_is_not_given_the_old_answer(
    marketing: Domain,
) -> None:
    old = UserFactory.create(username="old")
    permissions.membership_set(user=old, domain=marketing, is_owner=True)
    assert domain_ids_with(old, [OWNER_PERM]) == [marketing.pk]
    pk = old.pk
    User.objects.filter(pk=pk).delete()  # its groups' rows go without a permission signal
    new = UserFactory.create(username="new", pk=pk)
    assert domain_ids_with(new, [OWNER_PERM]) == []


def test_scope_keys_differ_exactly_where_restrict_answers_differ(
    member: User, owner: User, analyst: User, manager: User, admin_user: User, draft: Any
) -> None:
    keys = {u.username: permissions.scope_key(u) for u in (member, owner, analyst, manager)}
    assert keys["ana"] == keys["max"]  # no team: the same answers
    assert len({keys["mo"], keys["maya"], keys["ana"]}) == 3
    assert permissions.scope_key(admin_user) == ("admin",)
    inactive = UserFactory.create(username="gone", is_active=False)
    assert permissions.scope_key(inactive) == ("nobody",)
    for user in (member, owner, analyst):
        for action in ("view", "view_pii", "change"):
            same = [u for u in (member, owner, analyst) if keys[u.username] == keys[user.username]]
            answers = {
                tuple(
                    permissions.restrict(DataProduct.objects.all(), u, action).values_list(
                        "pk", flat=True
                    )
                )
                for u in same
            }
            assert len(answers) == 1
