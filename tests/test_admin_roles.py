"""Every role walks the admin: each link it is offered opens, and nothing it may use is hidden.

Who enters the admin is decided by ``accounts.permissions.may_use_admin`` (platform admins and
domain owners), not by Django's ``is_staff`` or model permissions (issue 12). The walk logs in
as each role, opens ``/admin/``, follows every admin link on the index, then every admin link on
each page found there (filters, sorting, add forms, and the change form of one object per
model), then the links on those change forms: none may answer 403 or 500, or bounce to the
log-in page or to an "invalid filter" (``?e=1``) list.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import TeamMembership, User
from catalog.governance.selectors import global_rules
from catalog.models import Consumer, DataProduct, Domain, TableAssignment
from quality.models import CheckResult, CheckRun, Incident
from querying.services import query_submit
from tests.factories import UserFactory
from tests.querying.fixtures_django import *  # noqa: F403

pytestmark = pytest.mark.django_db

OWNER_MODELS = {
    "catalog/dataproduct",
    "catalog/consumer",
    "catalog/contractversion",
    "quality/checkrun",
    "quality/checkresult",
    "quality/incident",
    "querying/querylog",
}
ADMIN_MODELS = OWNER_MODELS | {
    "accounts/user",
    "authtoken/tokenproxy",
    "catalog/domain",
    "catalog/tableassignment",
    "catalog/governancepolicy",
}
# Shown nowhere: raw guardian groups (memberships decide them) and django-celery-beat's rows
# (beat reads config/celery.py; rows added in the admin would never run).
NEVER_SHOWN = {
    "auth/group",
    "django_celery_beat/periodictask",
    "django_celery_beat/crontabschedule",
}
CHANGE_FORM = re.compile(r"^/admin/[a-z_]+/[a-z_]+/[^/]+/change/$")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def admin_links(html: str, base: str) -> list[str]:
    """The admin URLs a page links to, resolved against ``base``, in page order, once each."""
    parser = _Links()
    parser.feed(html)
    out: list[str] = []
    for href in parser.hrefs:
        if href.startswith("#") or href.startswith("javascript:"):
            continue
        if href.startswith("?"):
            href = urlsplit(base).path + href
        path = urlsplit(href).path
        if not path.startswith("/admin/") or path.startswith("/admin/logout"):
            continue
        if href not in out:
            out.append(href.replace("&amp;", "&"))
    return out


def model_of(url: str) -> str | None:
    parts = urlsplit(url).path.strip("/").split("/")
    return f"{parts[1]}/{parts[2]}" if len(parts) >= 3 else None


@pytest.fixture
def world(
    warehouse: Any, marketing: Domain, finance: Domain, owner: User, member: User,
    outsider: User, analyst: User, admin_user: User,
) -> dict[str, Any]:  # fmt: skip
    """Rows for every admin page, in two domains: runs with results, incidents, queries..."""
    now = timezone.now()
    products = {p.product_id: p for p in DataProduct.objects.all()}
    runs = {}
    for product_id in ("marketing.campaign_attribution", "finance.revenue_attribution"):
        product = products[product_id]
        run = CheckRun.objects.create(
            product=product, trigger="manual", run_key=f"walk:{product_id}", status="failed",
            started_at=now, finished_at=now, duration_ms=12.5, table_reachable=True,
        )  # fmt: skip
        for position, (name, passed) in enumerate((("rows_exist", True), ("no_nulls", False))):
            CheckResult.objects.create(
                run=run, position=position, check_name=name, check_type="not_null",
                status="passed" if passed else "failed", passed=passed, severity="error",
                message="ok" if passed else "3 NULL values", value=0 if passed else 3,
                created_at=now,
            )  # fmt: skip
        Incident.objects.create(
            product=product, opened_at=now - timedelta(hours=1), message=f"{product_id} stale"
        )
        runs[product_id] = run
    Consumer.objects.create(
        product=products["finance.revenue_attribution"], team="Sales", use_case="forecast",
        contact="sales@example.com",
    )  # fmt: skip
    Consumer.objects.create(
        product=products["marketing.campaign_attribution"], team="Growth", use_case="ROI",
        contact="growth@example.com",
    )  # fmt: skip
    for user, sql in (
        (analyst, "SELECT count(*) FROM marketing.campaign_attribution"),
        (outsider, "SELECT count(*) FROM finance.revenue_attribution"),
        (owner, "SELECT * FROM nowhere"),
    ):
        query_submit(user=user, sql=sql)
    TableAssignment.objects.create(table="shared_calendar", domain=marketing, note="walk")
    global_rules()
    Token.objects.create(user=analyst)
    return {"products": products, "runs": runs}


def walk(user: User) -> tuple[dict[str, int], dict[str, str], list[str]]:
    """Follow the admin links offered to ``user``: statuses, pages' HTML, problems found."""
    client = Client()
    client.force_login(user)
    statuses: dict[str, int] = {}
    pages: dict[str, str] = {}
    problems: list[str] = []

    def visit(url: str) -> str:
        if url in statuses:
            return pages.get(url, "")
        response = client.get(url)
        statuses[url] = response.status_code
        if response.status_code in (403, 500) or response.status_code >= 500:
            problems.append(f"{url}: {response.status_code}")
        elif response.status_code == 302:
            target = response["Location"]
            if "/admin/login/" in target or "e=1" in target:
                problems.append(f"{url}: redirected to {target}")
        elif response.status_code != 200:
            problems.append(f"{url}: {response.status_code}")
        html = response.content.decode() if response.status_code == 200 else ""
        pages[url] = html
        return html

    index = visit("/admin/")
    level1 = admin_links(index, "/admin/")
    level2: list[str] = []
    for url in level1:
        for link in admin_links(visit(url), url):
            if link not in level1 and link not in level2:
                level2.append(link)
    # Every filter, sort and add link; the change form of one object per model.
    seen_models: set[str | None] = set()
    change_forms: list[str] = []
    for url in level2:
        if CHANGE_FORM.match(urlsplit(url).path):
            if model_of(url) in seen_models:
                continue
            seen_models.add(model_of(url))
            change_forms.append(url)
        visit(url)
    for url in change_forms:
        for link in admin_links(pages.get(url, ""), url):
            if not CHANGE_FORM.match(urlsplit(link).path) or model_of(link) not in seen_models:
                visit(link)
    return statuses, pages, problems


def models_on_index(html: str) -> set[str]:
    return {
        m
        for m in (model_of(u) for u in admin_links(html, "/admin/"))
        if m is not None and "/" in m and not m.endswith("/")
    }


@pytest.mark.parametrize("who", ["owner", "outsider", "admin_user", "superuser"])
def test_every_admin_link_offered_to_a_role_opens(
    request: Any, world: dict[str, Any], who: str
) -> None:
    if who == "superuser":
        user = UserFactory.create(username="su", role="analyst", is_superuser=True)
    else:
        user = request.getfixturevalue(who)
    statuses, pages, problems = walk(user)
    assert not problems, "\n".join(problems)
    expected = OWNER_MODELS if who in ("owner", "outsider") else ADMIN_MODELS
    shown = models_on_index(pages["/admin/"])
    assert expected <= shown, f"hidden from {who}: {sorted(expected - shown)}"
    assert not (shown & NEVER_SHOWN)
    if who in ("owner", "outsider"):
        assert not (shown & (ADMIN_MODELS - OWNER_MODELS))
    # The walk went deep enough to mean something: lists, filters and change forms.
    assert len(statuses) > 40, len(statuses)
    assert sum(1 for u in statuses if CHANGE_FORM.match(urlsplit(u).path)) >= len(expected) - 1


def test_role_admin_without_staff_flag_or_model_permissions_uses_the_admin(
    world: dict[str, Any],
) -> None:
    admin = UserFactory.create(username="plain-admin", role="admin", is_staff=False)
    assert not admin.is_superuser and not admin.user_permissions.exists()
    client = Client()
    response = client.post(
        "/admin/login/",
        {"username": "plain-admin", "password": "pw-for-tests", "next": "/admin/"},
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    page = client.get("/admin/querying/querylog/")
    assert page.status_code == 200
    assert len(page.context["cl"].result_list) == 3  # every query, whoever ran it
    entry = page.context["cl"].result_list[0]
    assert client.get(f"/admin/querying/querylog/{entry.pk}/change/").status_code == 200


def test_an_owner_sees_their_domains_products_runs_incidents_and_queries(
    world: dict[str, Any], owner: User
) -> None:
    client = Client()
    client.force_login(owner)

    def listed(url: str) -> list[Any]:
        response = client.get(url)
        assert response.status_code == 200, url
        return list(response.context["cl"].result_list)

    products = {p.product_id for p in listed("/admin/catalog/dataproduct/")}
    assert products == set(
        DataProduct.objects.filter(domain__slug="marketing").values_list("product_id", flat=True)
    )
    assert "marketing.draft_attribution" in products  # their drafts too
    assert [str(r) for r in listed("/admin/quality/checkrun/")] == [
        f"marketing.campaign_attribution · run {world['runs']['marketing.campaign_attribution'].pk}"
        " · failed"
    ]
    assert {i.product.product_id for i in listed("/admin/quality/incident/")} == {
        "marketing.campaign_attribution"
    }
    assert {r.run.product.product_id for r in listed("/admin/quality/checkresult/")} == {
        "marketing.campaign_attribution"
    }
    queries = listed("/admin/querying/querylog/")
    assert {q.username for q in queries} == {"ana", "maya"}  # on marketing, and their own
    assert {c.team for c in listed("/admin/catalog/consumer/")} == {"Growth"}


@pytest.mark.parametrize("who", ["analyst", "manager", "member"])
def test_people_without_admin_work_are_told_why_instead_of_a_403(
    request: Any, world: dict[str, Any], who: str
) -> None:
    user = request.getfixturevalue(who)
    client = Client()
    client.force_login(user)
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/admin/login/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "The admin is for domain owners and platform admins" in text
    assert user.username in text
    for path in ("/admin/catalog/dataproduct/", "/admin/querying/querylog/"):
        assert client.get(path).status_code == 302  # to the log-in page, never a 403


def test_the_admin_log_in_form_says_why_a_correct_password_is_not_enough(member: User) -> None:
    response = Client().post("/admin/login/", {"username": "mo", "password": "pw-for-tests"})
    assert response.status_code == 200
    assert "the account mo is neither" in response.content.decode()
    wrong = Client().post("/admin/login/", {"username": "mo", "password": "nope"})
    assert "the account mo is neither" not in wrong.content.decode()  # nothing to learn


def test_staff_flag_alone_opens_nothing(db: Any) -> None:
    staff = UserFactory.create(username="old-staff", role="analyst", is_staff=True)
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/").status_code == 302


# --- Users: role, teams and admin access instead of raw groups ------------------------------


def test_the_users_list_shows_role_teams_and_admin_access_not_group_names(
    world: dict[str, Any], admin_user: User, owner: User, member: User, finance: Domain
) -> None:
    from accounts import permissions

    permissions.membership_set(user=member, domain=finance, is_owner=True)
    client = Client()
    client.force_login(admin_user)
    page = client.get("/admin/accounts/user/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "domain:marketing" not in html  # guardian's group names stay internal
    rows = {u.username: u for u in page.context["cl"].result_list}
    model_admin = page.context["cl"].model_admin
    assert model_admin.teams(rows["mo"]) == "finance (owner), marketing (member)"
    assert model_admin.teams(rows["maya"]) == "marketing (owner)"
    assert model_admin.teams(rows["ana"]) == "—"
    assert model_admin.admin_access(rows["maya"]) and model_admin.admin_access(rows["root"])
    assert not model_admin.admin_access(rows["ana"])
    assert ">Platform admin<" in html and "marketing (owner)" in html
    filtered = client.get("/admin/accounts/user/", {"memberships__is_owner__exact": "1"})
    assert {u.username for u in filtered.context["cl"].result_list} == {"maya", "fiona", "mo"}


def _inline_post(client: Client, url: str, prefix: str, rows: list[dict[str, Any]]) -> Any:
    """Post the change form at ``url`` with its current fields and the inline ``rows``."""
    page = client.get(url)
    form = page.context["adminform"].form
    data: dict[str, Any] = {}
    for name in form.fields:
        value = form[name].value()
        if value not in (None, False):
            data[name] = value
    formset = next(f.formset for f in page.context["inline_admin_formsets"])
    assert formset.prefix == prefix
    initial = formset.initial_form_count()
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": str(len(rows)),
            f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
    )
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{i}-{key}"] = value
    return client.post(url, data)


def test_a_team_set_on_the_user_form_grants_what_the_team_may_do(
    world: dict[str, Any], admin_user: User, analyst: User, finance: Domain
) -> None:
    from accounts import permissions

    client = Client()
    client.force_login(admin_user)
    url = f"/admin/accounts/user/{analyst.pk}/change/"
    response = _inline_post(
        client, url, "memberships", [{"domain": finance.pk, "is_owner": "on", "user": analyst.pk}]
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    analyst.refresh_from_db()
    product = world["products"]["finance.revenue_attribution"]
    assert permissions.can(analyst, "change", product)
    assert permissions.may_use_admin(analyst)
    membership = TeamMembership.objects.get(user=analyst)
    response = _inline_post(
        client,
        url,
        "memberships",
        [{"id": membership.pk, "user": analyst.pk, "domain": finance.pk, "DELETE": "on"}],
    )
    assert response.status_code == 302
    analyst = User.objects.get(pk=analyst.pk)  # guardian caches permissions per instance
    assert not permissions.can(analyst, "change", product)
    assert not permissions.may_use_admin(analyst)


def test_a_team_set_on_the_domain_form_grants_what_the_team_may_do(
    world: dict[str, Any], admin_user: User, analyst: User, finance: Domain
) -> None:
    from accounts import permissions

    client = Client()
    client.force_login(admin_user)
    url = f"/admin/catalog/domain/{finance.pk}/change/"
    existing = list(TeamMembership.objects.filter(domain=finance))
    rows = [{"id": m.pk, "domain": finance.pk, "user": m.user_id, "is_owner": "on"}
            for m in existing]  # fmt: skip
    rows.append({"domain": finance.pk, "user": analyst.pk, "is_owner": "on"})
    response = _inline_post(client, url, "memberships", rows)
    assert response.status_code == 302, response.content.decode()[:3000]
    analyst = User.objects.get(pk=analyst.pk)
    assert permissions.can(analyst, "change", world["products"]["finance.revenue_attribution"])


def test_an_admin_adds_a_user_with_a_role_and_a_team_in_one_form(
    admin_user: User, marketing: Domain
) -> None:
    from accounts import permissions

    client = Client()
    client.force_login(admin_user)
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "new.owner",
            "password1": "a-long-enough-pass-9341",
            "password2": "a-long-enough-pass-9341",
            "usable_password": "true",
            "email": "new.owner@example.com",
            "role": "manager",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-0-domain": str(marketing.pk),
            "memberships-0-is_owner": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    user = User.objects.get(username="new.owner")
    assert user.role == "manager" and user.check_password("a-long-enough-pass-9341")
    assert TeamMembership.objects.get(user=user).is_owner
    assert permissions.may_use_admin(user)
    assert permissions.can(user, "change", marketing)
