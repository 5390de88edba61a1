"""Access with consent (issue 17): requests, decisions, and grants enforced where data is read.

The full matrix runs through the API on a real warehouse, DuckDB and PostgreSQL (``engine``):
requester, owner, another domain's owner, member and admin × request, approve, deny, revoke,
cancel; queries before, after and after expiry (to the second); revocation seen by the very next
query; self-approval refused; every raw column a query read audited with its justification.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from accounts import permissions
from accounts.access_models import AccessEvent, AccessRequest, AccessStatus, NeverDeleted
from catalog.models import DataProduct, Domain
from catalog.services import product_publish
from catalog.services.domains import domain_update
from querying import services as query_services
from querying.access import services
from querying.governor import ColumnPolicy, Policy, ProductPolicy
from querying.models import PiiAccess, QueryDecision, QueryLog, QueryProductUse
from querying.services import query_submit
from tests.factories import contract_document
from tests.querying.fixtures_django import ATTRIBUTION_ROWS, ENGINES, read_only_warehouses

pytestmark = pytest.mark.django_db

PID = "marketing.campaign_attribution"
OTHER = "finance.revenue_attribution"
PURPOSE = "Reconcile the spring campaign's conversions with the CRM export"
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
# user_id (last4), channel (redact) and campaign_id (hash) are PII here.
PII = {"user_id": "last4", "channel": "redact", "campaign_id": "hash"}
RAW = {"user_id": "user-00012345", "channel": "paid", "campaign_id": "c-1"}
SQL = f"SELECT user_id, channel, campaign_id FROM {PID} WHERE attribution_id = 'a-1'"

PG_SETUP = "".join(
    f"""
CREATE TABLE {table} (
  attribution_id text NOT NULL, user_id text NOT NULL, campaign_id text NOT NULL,
  channel text NOT NULL, touchpoint_at timestamp NOT NULL, conversion_at timestamp,
  revenue_cents bigint, attribution_model text NOT NULL
);
INSERT INTO {table} VALUES
  ('a-1', 'user-00012345', 'c-1', 'paid', '2025-03-01 10:00', '2025-03-01 11:00', 1250, 'linear'),
  ('a-2', 'user-00067890', 'c-1', 'email', '2025-03-01 12:00', NULL, NULL, 'linear'),
  ('a-3', 'user-00011111', 'c-2', 'organic', '2025-03-02 09:30', NULL, 300, 'time_decay');
"""
    for table in ("marketing_campaign_attribution", "finance_revenue_attribution")
)
assert len(ATTRIBUTION_ROWS) == 3  # the DuckDB fixture holds the same three rows


def document(product_id: str, **overrides: Any) -> dict[str, Any]:
    doc = contract_document(product_id, **overrides)
    for column in doc["schema"]:
        if column["column"] in PII:
            column.update(pii=True, mask=PII[column["column"]])
    return doc


@pytest.fixture(scope="module")
def warehouse_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
    with read_only_warehouses(tmp_path_factory.mktemp("access"), PG_SETUP) as url:
        yield url


@pytest.fixture(params=ENGINES)
def engine(
    request: pytest.FixtureRequest,
    warehouse_url: Any,
    settings: Any,
    marketing: Domain,
    finance: Any,
) -> str:
    """The two products published on a real warehouse: a DuckDB file, then a PostgreSQL one."""
    settings.PII_HASH_KEY = "test-hash-key"
    settings.WAREHOUSE_URL = warehouse_url(request.param)
    publish_both()
    return str(request.param)


def publish_both() -> None:
    for product_id in (PID, OTHER):
        product_publish(actor=None, document=document(product_id))


def client(user: Any) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def ask(user: Any, **body: Any) -> Any:
    payload = {"product": PID, "purpose": PURPOSE, **body}
    return client(user).post("/v1/access-requests", payload, format="json")


def decide(user: Any, request_id: int, decision: str, **body: Any) -> Any:
    url = f"/v1/access-requests/{request_id}/{decision}"
    return client(user).post(url, body, format="json")


def row(user: Any, *, now: datetime, sql: str = SQL) -> dict[str, Any]:
    """The first row of ``sql`` for ``user`` at ``now``, by column, with the audit row."""
    outcome = query_submit(user=user, sql=sql, now=now)
    assert outcome.is_allowed, (outcome.code, outcome.message)
    return {"values": dict(zip(outcome.columns, outcome.rows[0], strict=True)), "outcome": outcome}


def raw_of(user: Any, *, now: datetime) -> set[str]:
    """The PII columns ``user`` read raw in SQL at ``now``."""
    values = row(user, now=now)["values"]
    return {name for name, value in values.items() if value == RAW[name]}


# --- requests --------------------------------------------------------------------------------


def test_a_request_defaults_to_every_pii_column_and_thirty_days(engine: str, analyst: Any) -> None:
    response = ask(analyst)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "pending" and body["active"] is False
    assert sorted(body["columns"]) == sorted(PII) and body["days"] == 30
    assert body["requester"] == "ana" and body["product"] == PID
    stored = AccessRequest.objects.get(pk=body["id"])
    assert [(e.from_status, e.to_status, e.actor_username) for e in stored.events.all()] == [
        ("", "pending", "ana")
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"purpose": "too short"}, "purpose"),
        ({"purpose": " " * 40}, "purpose"),
        ({"purpose": 12345678901234567890}, "purpose"),
        ({"purpose": "bell\x07" * 8}, "purpose"),
        ({"days": 91}, "days"),
        ({"days": 0}, "days"),
        ({"days": "30"}, "days"),
        ({"days": True}, "days"),
        ({"columns": ["attribution_id"]}, "columns"),  # not PII
        ({"columns": ["nope"]}, "columns"),
        ({"columns": ["USER_ID"]}, "columns"),  # names compare exactly
        ({"columns": []}, "columns"),
        ({"columns": "user_id"}, "columns"),
        ({"columns": [1]}, "columns"),
        ({"product": "finance.nope"}, "product"),
        ({"product": None}, "product"),
        ({"colums": ["user_id"]}, "colums"),
        # Nobody asks on someone else's behalf: the requester is always the caller.
        ({"requester": "maya"}, "requester"),
        ({"requester_id": 1}, "requester_id"),
    ],
)
def test_a_bad_request_is_a_400_naming_the_field(
    engine: str, analyst: Any, body: dict[str, Any], field: str
) -> None:
    response = ask(analyst, **body)
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"].get("fields", {}), response.json()
    assert not AccessRequest.objects.exists()


def test_days_are_bounded_by_the_domains_maximum(engine: str, analyst: Any, owner: Any) -> None:
    domain = Domain.objects.get(slug="marketing")
    domain_update(actor=owner, domain=domain, access_max_days=7)
    assert ask(analyst, days=8).status_code == 400
    response = ask(analyst)
    assert response.status_code == 201 and response.json()["days"] == 7


def test_a_second_pending_request_and_one_for_raw_already_read_are_409(
    engine: str, analyst: Any, member: Any, owner: Any, admin_user: Any
) -> None:
    assert ask(analyst).status_code == 201
    again = ask(analyst, columns=["user_id"])
    assert again.status_code == 409 and again.json()["error"]["code"] == "REQUEST_PENDING"
    for privileged in (member, owner, admin_user):
        refused = ask(privileged)
        assert refused.status_code == 409, privileged
        assert refused.json()["error"]["code"] == "ALREADY_RAW"


def test_another_domains_draft_cannot_be_requested(engine: str, outsider: Any) -> None:
    product_publish(actor=None, document=document("marketing.draft_thing", status="draft"))
    response = ask(outsider, product="marketing.draft_thing")
    assert response.status_code == 400
    assert "product" in response.json()["error"]["fields"]


# --- the matrix --------------------------------------------------------------------------------

# Who may do what to the analyst's request on a marketing product: 404 hidden, 403 forbidden.
ROLES = ("analyst", "owner", "outsider", "member", "admin_user")
MAY = {
    "approve": {"owner": 200, "admin_user": 200},
    "deny": {"owner": 200, "admin_user": 200},
    "cancel": {"analyst": 200},
}
HIDDEN = {"outsider", "member"}  # they may not read the analyst's request at all


@pytest.mark.parametrize("decision", ["approve", "deny", "cancel"])
@pytest.mark.parametrize("role", ROLES)
def test_who_may_decide_a_pending_request(
    engine: str, request: pytest.FixtureRequest, analyst: Any, decision: str, role: str
) -> None:
    for name in ("owner", "outsider", "member", "admin_user"):
        request.getfixturevalue(name)
    pending = ask(analyst).json()["id"]
    actor = request.getfixturevalue(role)
    body = {"note": "not for this purpose"} if decision == "deny" else {}
    response = decide(actor, pending, decision, **body)
    expected = MAY[decision].get(role, 404 if role in HIDDEN else 403)
    assert response.status_code == expected, (role, decision, response.json())
    status = AccessRequest.objects.get(pk=pending).status
    done = {"approve": "approved", "deny": "denied", "cancel": "cancelled"}[decision]
    assert status == (done if expected == 200 else "pending")


@pytest.mark.parametrize("role", ROLES)
def test_who_may_revoke_a_grant(
    engine: str, request: pytest.FixtureRequest, analyst: Any, owner: Any, role: str
) -> None:
    for name in ("outsider", "member", "admin_user"):
        request.getfixturevalue(name)
    granted = ask(analyst).json()["id"]
    assert decide(owner, granted, "approve").status_code == 200
    actor = request.getfixturevalue(role)
    response = decide(actor, granted, "revoke", note="the campaign review is over")
    expected = {"owner": 200, "admin_user": 200}.get(role, 404 if role in HIDDEN else 403)
    assert response.status_code == expected, (role, response.json())
    if role == "analyst":  # the holder gives a grant up with cancel, not revoke
        assert decide(actor, granted, "cancel").status_code == 200


def test_the_list_shows_requesters_their_own_and_owners_their_domains(
    engine: str, analyst: Any, manager: Any, owner: Any, outsider: Any, admin_user: Any
) -> None:
    mine = ask(analyst).json()["id"]
    theirs = ask(manager, product=OTHER).json()["id"]

    def ids(user: Any, query: str = "") -> set[int]:
        response = client(user).get(f"/v1/access-requests{query}")
        assert response.status_code == 200, response.json()
        return {r["id"] for r in response.json()["requests"]}

    assert ids(analyst) == {mine}
    assert ids(manager) == {theirs}
    assert ids(owner) == {mine}
    assert ids(outsider) == {theirs}
    assert ids(admin_user) == {mine, theirs}
    assert ids(admin_user, f"?product={OTHER}") == {theirs}
    assert ids(admin_user, "?status=approved") == set()
    assert client(owner).get("/v1/access-requests?status=bogus").status_code == 400
    assert client(outsider).get(f"/v1/access-requests/{mine}").status_code == 404
    detail = client(owner).get(f"/v1/access-requests/{mine}").json()
    assert detail["events"][0]["to"] == "pending" and detail["purpose"] == PURPOSE


def test_nobody_approves_their_own_request_not_even_an_owner_or_an_admin(
    engine: str, analyst: Any, marketing: Domain
) -> None:
    pending = ask(analyst).json()["id"]
    permissions.membership_set(user=analyst, domain=marketing, is_owner=True)
    refused = decide(analyst, pending, "approve")
    assert refused.status_code == 403
    assert "own access request" in refused.json()["error"]["message"]
    analyst.role = "admin"
    analyst.save()
    assert decide(analyst, pending, "approve").status_code == 403
    assert decide(analyst, pending, "deny", note="no").status_code == 403
    assert AccessRequest.objects.get(pk=pending).status == "pending"


def test_a_decision_on_a_request_already_decided_is_a_409(
    engine: str, analyst: Any, owner: Any, admin_user: Any
) -> None:
    pending = ask(analyst).json()["id"]
    assert decide(owner, pending, "approve").status_code == 200
    for decision, body in (("approve", {}), ("deny", {"note": "late"}), ("cancel", {})):
        actor = analyst if decision == "cancel" else admin_user
        response = decide(actor, pending, decision, **body)
        if decision == "cancel":  # a holder may give a grant up
            assert response.status_code == 200
        else:
            assert response.status_code == 409, response.json()
            assert response.json()["error"]["code"] == "WRONG_STATE"


def test_a_denial_needs_a_note_and_an_approval_may_only_shorten(
    engine: str, analyst: Any, owner: Any
) -> None:
    pending = ask(analyst, days=10).json()["id"]
    assert decide(owner, pending, "deny").status_code == 400
    assert decide(owner, pending, "deny", note="   ").status_code == 400
    assert decide(owner, pending, "approve", days=11).status_code == 400
    assert decide(owner, pending, "approve", days=3, extra=1).status_code == 400
    approved = decide(owner, pending, "approve", days=3, note="three days are enough")
    assert approved.status_code == 200, approved.json()
    body = approved.json()
    assert body["days"] == 3 and body["status"] == "approved" and body["decidedBy"] == "maya"
    assert [e["to"] for e in body["events"]] == ["pending", "approved"]
    assert body["events"][1]["note"] == "three days are enough"


# --- enforced where the data is read -----------------------------------------------------------


def test_a_grant_unmasks_exactly_its_columns_from_approval_to_the_second_it_ends(
    engine: str, analyst: Any, owner: Any
) -> None:
    pending = ask(analyst, columns=["user_id", "campaign_id"], days=2).json()["id"]
    assert raw_of(analyst, now=T0) == set()
    request = AccessRequest.objects.get(pk=pending)
    services.access_request_approve(actor=owner, request=request, now=T0)
    ends = T0 + timedelta(days=2)
    assert raw_of(analyst, now=T0) == {"user_id", "campaign_id"}
    assert raw_of(analyst, now=ends - timedelta(seconds=1)) == {"user_id", "campaign_id"}
    assert raw_of(analyst, now=ends) == set()  # expired at that second, before any beat
    assert AccessRequest.objects.get(pk=pending).status == "approved"  # no beat has run


def test_revocation_counts_from_the_very_next_query(engine: str, analyst: Any, owner: Any) -> None:
    granted = ask(analyst).json()["id"]
    assert decide(owner, granted, "approve").status_code == 200
    now = datetime.now(UTC)
    assert raw_of(analyst, now=now) == set(PII)  # and the policy snapshot is now warm
    assert decide(owner, granted, "revoke", note="done").status_code == 200
    assert raw_of(analyst, now=now) == set()


@pytest.mark.parametrize("role", [*ROLES, "manager"])
def test_each_role_reads_raw_before_during_and_after_a_grant_exactly_as_the_rule_says(
    engine: str, request: pytest.FixtureRequest, analyst: Any, owner: Any, role: str
) -> None:
    """The analyst's grant (user_id, campaign_id; two days from T0) as each role sees it: only
    the holder's reads change, and only inside [T0, T0 + 2 days)."""
    user = request.getfixturevalue(role)
    pending = ask(analyst, columns=["user_id", "campaign_id"], days=2).json()["id"]
    always = {"owner": set(PII), "member": set(PII), "admin_user": set(PII)}.get(role, set())
    during = {"user_id", "campaign_id"} if role == "analyst" else always
    before = raw_of(user, now=T0 - timedelta(seconds=1))
    services.access_request_approve(
        actor=owner, request=AccessRequest.objects.get(pk=pending), now=T0
    )
    moments = [T0 - timedelta(seconds=1), T0, T0 + timedelta(days=2) - timedelta(seconds=1)]
    seen = [raw_of(user, now=moment) for moment in moments]
    after = raw_of(user, now=T0 + timedelta(days=2))
    assert (before, seen, after) == (always, [always, during, during], always), role


def test_a_grant_never_unmasks_a_column_made_pii_after_it_was_approved(
    engine: str, analyst: Any, owner: Any
) -> None:
    """A grant names the columns it was approved for; a publish that flags another column PII
    (or renames nothing) leaves that column masked for the holder."""
    granted = ask(analyst).json()["id"]  # every PII column at the time: user_id, channel, ...
    assert decide(owner, granted, "approve").status_code == 200
    doc = document(PID, version=4)
    for column in doc["schema"]:
        if column["column"] == "attribution_model":
            column.update(pii=True, mask="redact")
    product_publish(actor=None, document=doc)
    sql = f"SELECT user_id, attribution_model FROM {PID} WHERE attribution_id = 'a-1'"
    values = row(analyst, now=datetime.now(UTC), sql=sql)["values"]
    assert values == {"user_id": RAW["user_id"], "attribution_model": "[REDACTED]"}


def test_the_grants_lookup_is_the_models_rule_at_every_boundary(
    engine: str, analyst: Any, manager: Any, owner: Any
) -> None:
    """``permissions.active_grants`` (one hand-written statement per query, for its cost) and
    ``AccessRequest.objects.active_at`` (the ORM's) name the same grants, columns and ends."""
    mine = AccessRequest.objects.get(
        pk=ask(analyst, columns=["channel", "user_id"], days=2).json()["id"]
    )
    other = AccessRequest.objects.get(pk=ask(analyst, product=OTHER, days=1).json()["id"])
    theirs = AccessRequest.objects.get(pk=ask(manager, days=5).json()["id"])
    services.access_request_approve(actor=owner, request=mine, now=T0)
    services.access_request_approve(actor=owner, request=theirs, now=T0)
    admin_of_finance = owner
    permissions.membership_set(
        user=admin_of_finance, domain=Domain.objects.get(slug="finance"), is_owner=True
    )
    services.access_request_approve(
        actor=admin_of_finance, request=other, now=T0 + timedelta(hours=1)
    )
    moments = [T0 + delta for delta in (
        -timedelta(seconds=1), timedelta(0), timedelta(hours=1) - timedelta(microseconds=1),
        timedelta(hours=1), timedelta(days=1, hours=1) - timedelta(microseconds=1),
        timedelta(days=1, hours=1), timedelta(days=2) - timedelta(microseconds=1),
        timedelta(days=2),
    )]  # fmt: skip
    seen = []
    for moment in moments:
        fast = [
            (g.id, g.product_pk, g.columns, g.expires_at)
            for g in permissions.active_grants(analyst, now=moment)
        ]
        orm = [
            (r.pk, r.product_id, frozenset(r.columns), r.expires_at)
            for r in AccessRequest.objects.active_at(moment)
            .filter(requester=analyst)
            .order_by("pk")
        ]
        assert fast == orm, moment
        seen.append({grant[0] for grant in fast})
    assert seen == [set(), {mine.pk}, {mine.pk}, {mine.pk, other.pk}, {mine.pk, other.pk},
                    {mine.pk}, {mine.pk}, set()]  # fmt: skip
    assert fast == [] and permissions.active_grants(manager, now=T0)[0].id == theirs.pk
    services.access_request_revoke(actor=owner, request=mine, now=T0)
    assert [g.id for g in permissions.active_grants(analyst, now=T0)] == []


@pytest.mark.parametrize("ending", ["deny", "cancel"])
def test_a_denied_or_cancelled_request_unmasks_nothing(
    engine: str, analyst: Any, owner: Any, ending: str
) -> None:
    pending = ask(analyst).json()["id"]
    actor, body = (owner, {"note": "no"}) if ending == "deny" else (analyst, {})
    assert decide(actor, pending, ending, **body).status_code == 200
    assert raw_of(analyst, now=datetime.now(UTC)) == set()


def test_a_grant_on_one_product_does_not_unmask_another(
    engine: str, analyst: Any, owner: Any
) -> None:
    granted = ask(analyst, columns=["user_id"]).json()["id"]
    decide(owner, granted, "approve")
    sql = (
        f"SELECT m.user_id AS mine, f.user_id AS theirs FROM {PID} m "
        f"JOIN {OTHER} f ON m.attribution_id = f.attribution_id WHERE m.attribution_id = 'a-1'"
    )
    values = row(analyst, now=datetime.now(UTC), sql=sql)["values"]
    assert values == {"mine": "user-00012345", "theirs": "***2345"}


def test_who_reads_raw_and_why_is_audited_for_every_raw_column(
    engine: str,
    analyst: Any,
    manager: Any,
    owner: Any,
    member: Any,
    admin_user: Any,
) -> None:
    granted = ask(analyst, columns=["channel"]).json()["id"]
    decide(owner, granted, "approve")
    now = datetime.now(UTC)
    expected = {
        analyst: ({"channel": f"grant:{granted}"}, PiiAccess.GRANT),
        manager: ({}, PiiAccess.MASKED),
        owner: (dict.fromkeys(PII, "domain:owner"), PiiAccess.OWNER),
        member: (dict.fromkeys(PII, "domain:member"), PiiAccess.MEMBER),
        admin_user: (dict.fromkeys(PII, "role:admin"), PiiAccess.ADMIN),
    }
    for user, (bases, access) in expected.items():
        outcome = row(user, now=now)["outcome"]
        log = QueryLog.objects.get(pk=outcome.log_id)
        assert log.raw_columns == {f"{PID}.{c}": b for c, b in bases.items()}, user
        assert log.pii_access == access, user
        assert QueryProductUse.objects.get(log=log).pii_access == access
        shown = {name for name, value in row(user, now=now)["values"].items() if value == RAW[name]}
        assert shown == set(bases), user


def test_members_read_raw_only_while_the_domain_lets_them_seen_by_the_next_query(
    engine: str, member: Any, owner: Any
) -> None:
    now = datetime.now(UTC)
    assert raw_of(member, now=now) == set(PII)
    domain = Domain.objects.get(slug="marketing")
    domain_update(actor=owner, domain=domain, members_see_raw=False)
    assert raw_of(member, now=now) == set()
    assert raw_of(owner, now=now) == set(PII)  # owners always do
    assert not permissions.can(member, "view_pii", DataProduct.objects.get(product_id=PID))
    # ... and a member may then ask, like everyone else.
    granted = ask(member, columns=["user_id"]).json()["id"]
    decide(owner, granted, "approve")
    now = datetime.now(UTC)  # the grant counts from its approval
    assert raw_of(member, now=now) == {"user_id"}
    domain_update(actor=owner, domain=domain, members_see_raw=True)
    assert raw_of(member, now=now) == set(PII)


def test_leaving_the_domain_or_losing_the_admin_role_masks_the_next_query(
    engine: str, member: Any, owner: Any, admin_user: Any, marketing: Domain
) -> None:
    now = datetime.now(UTC)
    for user in (member, owner, admin_user):
        assert raw_of(user, now=now) == set(PII)  # and the policy snapshot is warm
    permissions.membership_remove(user=member, domain=marketing)
    permissions.membership_set(user=owner, domain=marketing, is_owner=False)
    admin_user.role = "analyst"
    admin_user.save()
    assert raw_of(member, now=now) == set()
    assert raw_of(owner, now=now) == set(PII)  # now a member, and members still read raw
    assert row(owner, now=now)["outcome"].raw_columns == {
        f"{PID}.{c}": "domain:member" for c in PII
    }
    assert raw_of(admin_user, now=now) == set()


def test_a_restricted_product_is_listed_but_needs_raw_access_or_a_grant_to_query(
    engine: str, analyst: Any, member: Any, owner: Any
) -> None:
    product_publish(actor=None, document=document(PID, version=4, access="restricted"))
    now = datetime.now(UTC)
    refused = query_submit(user=analyst, sql=SQL, now=now)
    assert (refused.http_status, refused.code) == (403, "ACCESS_REQUIRED")
    assert "request raw access" in refused.message
    assert client(analyst).get(f"/v1/catalog/products/{PID}").status_code == 200  # listed
    assert raw_of(member, now=now) == set(PII)
    granted = ask(analyst, columns=[]).json()  # query access only: every PII column masked
    assert granted["columns"] == []
    decide(owner, granted["id"], "approve")
    now = datetime.now(UTC)  # the grant counts from its approval
    assert raw_of(analyst, now=now) == set()
    count = query_submit(user=analyst, sql=f"SELECT count(*) AS n FROM {PID}", now=now)
    assert count.is_allowed and count.rows == [[3]]


def test_a_restricted_product_is_previewable_masked_but_the_preview_opens_nothing_else(
    engine: str, analyst: Any, manager: Any
) -> None:
    product_publish(actor=None, document=document(PID, version=4, access="restricted"))
    product_publish(actor=None, document=document(OTHER, version=4, access="restricted"))
    page = Client()
    page.force_login(manager)
    sample = page.get(f"/query/products/{PID}/sample/", headers={"X-Requested-With": "fetch"})
    assert sample.status_code == 200
    html = sample.content.decode()
    assert "***2345" in html and "[REDACTED]" in html  # masked rows shown
    assert RAW["user_id"] not in html and ">paid<" not in html
    log = QueryLog.objects.filter(username="max").latest("id")
    assert log.decision == QueryDecision.ALLOWED and log.raw_columns == {}
    assert log.pii_access == PiiAccess.MASKED
    # The preview lifts the restriction of that product only, for the portal's own statement:
    # the same reader's queries, and a preview naming another product, are still refused.
    now = datetime.now(UTC)
    assert query_submit(user=manager, sql=SQL, now=now).code == "ACCESS_REQUIRED"
    sneaky = f"SELECT * FROM {OTHER}"
    assert query_submit(user=manager, sql=sneaky, now=now, preview=PID).code == "ACCESS_REQUIRED"


def test_a_query_that_would_read_raw_without_a_justification_is_never_run(
    engine: str, analyst: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Impossible by construction; simulated by a policy that unmasks without saying why."""
    from querying.selectors import query_policy

    def unjustified(user: Any, *, now: datetime, **kwargs: Any) -> tuple[Policy, Any, Any]:
        policy, pii, forbidden = query_policy(user, now=now, **kwargs)
        products = tuple(
            ProductPolicy(
                product_id=p.product_id,
                table=p.table,
                columns=tuple(ColumnPolicy(c.name, None, c.type) for c in p.columns),
                names=p.names,
            )
            for p in policy.products
        )
        return Policy(products, policy.hash_key, policy.max_rows), pii, forbidden

    monkeypatch.setattr(query_services, "query_policy", unjustified)
    outcome = query_submit(user=analyst, sql=SQL, now=datetime.now(UTC))
    assert (outcome.http_status, outcome.code) == (403, "RAW_READ_UNJUSTIFIED")
    assert outcome.rows == [] and f"{PID}.user_id" in outcome.message
    assert outcome.log_id is not None
    log = QueryLog.objects.get(pk=outcome.log_id)
    assert log.decision == QueryDecision.REFUSED and log.executed_sql == ""
    assert log.raw_columns == {}


# --- history, never deleted, beat ----------------------------------------------------------------


def test_every_change_is_an_event_and_nothing_is_ever_deleted(
    engine: str, analyst: Any, owner: Any
) -> None:
    granted = ask(analyst).json()["id"]
    decide(owner, granted, "approve", note="fine")
    decide(owner, granted, "revoke", note="over")
    request = AccessRequest.objects.get(pk=granted)
    history = [(e.from_status, e.to_status, e.actor_username, e.note) for e in request.events.all()]
    assert history == [
        ("", "pending", "ana", PURPOSE),
        ("pending", "approved", "maya", "fine"),
        ("approved", "revoked", "maya", "over"),
    ]
    for attempt in (
        request.delete,
        AccessRequest.objects.all().delete,
        request.events.all().delete,
        AccessEvent.objects.all().delete,
        lambda: AccessEvent.objects.update(note="rewritten"),
    ):
        with pytest.raises(NeverDeleted):
            attempt()
    event = request.events.first()
    assert event is not None
    event.note = "rewritten"
    with pytest.raises(NeverDeleted):
        event.save()
    assert AccessRequest.objects.count() == 1 and AccessEvent.objects.count() == 3


def test_beat_records_expiry_once_and_warns_holders_once_three_days_ahead(
    engine: str, analyst: Any, owner: Any, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    granted = AccessRequest.objects.get(pk=ask(analyst, days=10).json()["id"])
    services.access_request_approve(actor=owner, request=granted, now=T0)
    ends = T0 + timedelta(days=10)
    assert services.access_expiry_warn(now=ends - timedelta(days=3, seconds=1)) == 0
    assert services.access_expiry_warn(now=ends - timedelta(days=3)) == 1
    assert services.access_expiry_warn(now=ends - timedelta(days=2)) == 0  # once
    warning = [m for m in mail.outbox if "ends soon" in m.subject]
    assert len(warning) == 1 and warning[0].to == [analyst.email]
    assert services.access_grants_expire(now=ends - timedelta(seconds=1)) == 0
    assert services.access_grants_expire(now=ends) == 1
    assert services.access_grants_expire(now=ends + timedelta(hours=1)) == 0
    expired = AccessRequest.objects.get(pk=granted.pk)
    assert expired.status == AccessStatus.EXPIRED and expired.ended_at == ends
    last = expired.events.order_by("id").last()
    assert last is not None and last.actor is None and last.to_status == "expired"
