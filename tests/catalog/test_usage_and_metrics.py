"""Usage from the audit log and the platform metrics (issue 16): the daily rollups (UTC days,
idempotent, backfilled), usage on the product API and search, and metrics only over what the
caller may read."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from importlib import import_module
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from catalog.charts import bar_chart, line_chart
from catalog.models import Column, DataProduct, Domain
from catalog.search import search_index_refresh
from catalog.services import first_versions_refresh, product_publish
from catalog.usage import product_usage
from catalog.usage_rollup import usage_rollup
from quality.models import CheckResult, CheckRun, QualityDay, QualityDomainDay
from quality.rollups import quality_rollup
from querying.models import (
    QueryLog,
    QueryProductUse,
    UsageDay,
    UsageDomainDay,
    UsageRollupDay,
    UsageUserDay,
)
from tests.factories import contract_document

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def product(domain: Domain, name: str, status: str = "published", **fields: Any) -> DataProduct:
    """A product written as rows (no publish), with one column."""
    made = DataProduct.objects.create(
        product_id=f"{domain.slug}.{name}",
        domain=domain,
        name=name.title(),
        owner_team="Team",
        owner_contact="team@example.com",
        sla_freshness="24h",
        sla_availability=99.0,
        sla_query_latency_p95_ms=500,
        status=status,
        table=f"{domain.slug}_{name}",
        **fields,
    )
    Column.objects.create(product=made, name="id", type="string", nullable=False)
    return made


def query(
    user: Any,
    products: list[DataProduct],
    at: datetime,
    *,
    decision: str = "allowed",
    access: str = "",
    duration_ms: float | None = 100.0,
) -> QueryLog:
    """An audited query as querying.services writes it: the log and one use per product."""
    log = QueryLog.objects.create(
        user=user,
        username=user.username,
        role=user.role,
        submitted_sql="SELECT 1",
        decision=decision,
        products=[p.product_id for p in products],
        duration_ms=duration_ms,
        created_at=at,
    )
    for p in products:
        QueryProductUse.objects.create(
            log=log,
            product_id=p.product_id,
            decision=decision,
            duration_ms=duration_ms,
            created_at=at,
            pii_access=access,
        )
    return log


def rows() -> list[tuple[Any, ...]]:
    return sorted(
        UsageDay.objects.values_list(
            "day", "product__product_id", "role", "queries", "attributed", "users", "masked"
        )
    )


# --- the usage rollup ---------------------------------------------------------------------


def test_the_rollup_sums_answered_queries_per_utc_day_and_again_changes_nothing(
    marketing: Any, analyst: Any, manager: Any
) -> None:
    orders, users = product(marketing, "orders"), product(marketing, "users")
    query(analyst, [orders], NOW - timedelta(days=2))
    query(analyst, [orders, users], NOW - timedelta(days=2, hours=1), access="masked")
    query(manager, [orders], NOW - timedelta(days=1))
    query(manager, [orders], NOW - timedelta(days=1), decision="refused", duration_ms=None)
    first = usage_rollup(now=NOW)
    before = rows()
    assert before == [
        (NOW.date() - timedelta(days=2), "marketing.orders", "analyst", 2, 1.5, 1, 1),
        (NOW.date() - timedelta(days=2), "marketing.users", "analyst", 1, 0.5, 1, 1),
        (NOW.date() - timedelta(days=1), "marketing.orders", "manager", 1, 1.0, 1, 0),
    ]
    assert set(first.days) == {NOW.date() - timedelta(days=2), NOW.date() - timedelta(days=1)}
    again = usage_rollup(now=NOW)
    assert rows() == before
    assert again.days == (NOW.date() - timedelta(days=1),)  # yesterday is always summed again
    assert UsageUserDay.objects.count() == 3


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata", "Pacific/Kiritimati"])
def test_days_are_utc_days_whatever_the_time_zone(
    marketing: Any, analyst: Any, settings: Any, zone: str
) -> None:
    settings.TIME_ZONE = zone
    orders = product(marketing, "orders")
    late = datetime(2026, 6, 13, 23, 30, tzinfo=UTC)
    query(analyst, [orders], late)
    query(analyst, [orders], late + timedelta(hours=1))  # 00:30 UTC, the next UTC day
    query(analyst, [orders], late + timedelta(hours=24, minutes=29, seconds=59))
    usage_rollup(now=NOW)
    per_day = dict(UsageDay.objects.values_list("day", "queries"))
    assert per_day == {datetime(2026, 6, 13).date(): 1, datetime(2026, 6, 14).date(): 2}


def test_missing_days_are_backfilled_and_late_rows_of_yesterday_counted(
    marketing: Any, analyst: Any
) -> None:
    orders = product(marketing, "orders")
    for back in range(1, 6):
        query(analyst, [orders], NOW - timedelta(days=back))
    usage_rollup(now=NOW)
    lost = NOW.date() - timedelta(days=3)
    UsageDay.objects.filter(day=lost).delete()
    UsageRollupDay.objects.filter(day=lost).delete()
    query(analyst, [orders], NOW.replace(hour=0) - timedelta(seconds=1))  # yesterday, late
    done = usage_rollup(now=NOW)
    assert set(done.days) == {lost, NOW.date() - timedelta(days=1)}
    per_day = dict(UsageDay.objects.values_list("day", "queries"))
    assert per_day[lost] == 1 and per_day[NOW.date() - timedelta(days=1)] == 2
    assert len(per_day) == 5


def test_a_day_without_queries_is_done_too_and_today_never_stored(
    marketing: Any, analyst: Any
) -> None:
    orders = product(marketing, "orders")
    query(analyst, [orders], NOW - timedelta(days=4))
    query(analyst, [orders], NOW)
    usage_rollup(now=NOW)
    days = set(UsageRollupDay.objects.values_list("day", flat=True))
    assert days == {NOW.date() - timedelta(days=n) for n in (1, 2, 3, 4)}
    assert not UsageDay.objects.filter(day=NOW.date()).exists()


def test_product_usage_counts_today_live_with_zeros_for_quiet_days(
    marketing: Any, analyst: Any, member: Any
) -> None:
    orders = product(marketing, "orders")
    query(analyst, [orders], NOW - timedelta(days=3))
    usage_rollup(now=NOW)
    query(member, [orders], NOW - timedelta(minutes=5))  # after the rollup
    usage = product_usage(product=orders, now=NOW)
    assert usage.queries == 2 and usage.users == 2 and len(usage.per_day) == 30
    assert usage.per_day[-1] == (NOW.date(), 1) and usage.per_day[-4] == (
        NOW.date() - timedelta(3),
        1,
    )
    assert sum(1 for _, n in usage.per_day if n == 0) == 28
    teams = {team for team, _, _ in usage.teams}
    assert teams == {"marketing", "no team (analyst)"}


def test_the_product_api_shows_a_query_at_once(marketing: Any, analyst: Any, api_as: Any) -> None:
    orders = product(marketing, "orders")
    url = f"/v1/catalog/products/{orders.product_id}"
    assert api_as(analyst).get(url).json()["usage"]["queries30d"] == 0
    query(analyst, [orders], timezone.now())
    usage = api_as(analyst).get(url).json()["usage"]
    assert usage["queries30d"] == 1 and usage["users30d"] == 1
    assert usage["queriesPerDay"][-1] == {"date": timezone.now().date().isoformat(), "count": 1}


# --- search --------------------------------------------------------------------------------


def test_search_hits_carry_queries30d_and_sort_orders_them(
    marketing: Any, analyst: Any, api_as: Any
) -> None:
    quiet = product(marketing, "quiet_one", quality_score=99.0, published_at=NOW)
    busy = product(marketing, "busy_one", quality_score=50.0, published_at=NOW - timedelta(9))
    for _ in range(3):
        query(analyst, [busy], timezone.now() - timedelta(days=1))
    query(analyst, [quiet], timezone.now() - timedelta(days=1))
    usage_rollup()
    search_index_refresh()  # as the publish's on-commit task does (PostgreSQL's search vector)
    client = api_as(analyst)

    def ids(sort: str) -> list[tuple[str, int]]:
        body = client.get(f"/v1/catalog/search?q=one&sort={sort}").json()
        return [(p["id"], p["queries30d"]) for p in body["products"]]

    assert ids("popular") == [("marketing.busy_one", 3), ("marketing.quiet_one", 1)]
    assert ids("quality")[0][0] == "marketing.quiet_one"
    assert ids("recent")[0][0] == "marketing.quiet_one"
    # Equal text relevance: usage breaks the tie (the documented boost).
    assert ids("relevance")[0][0] == "marketing.busy_one"
    bad = client.get("/v1/catalog/search?sort=random")
    assert bad.status_code == 400 and "sort" in bad.json()["error"]["fields"]


def test_the_search_page_has_a_sort_control_that_keeps_the_query(
    marketing: Any, analyst: Any, client: Any
) -> None:
    quiet = product(marketing, "quiet_one", quality_score=99.0, published_at=NOW)
    busy = product(marketing, "busy_one", quality_score=50.0, published_at=NOW - timedelta(9))
    for _ in range(3):
        query(analyst, [busy], timezone.now() - timedelta(days=1))
    usage_rollup()
    search_index_refresh()
    client.force_login(analyst)

    def page(params: str) -> str:
        response = client.get(f"/search/?{params}")
        assert response.status_code == 200, params
        return response.content.decode()

    def order(html: str) -> list[str]:
        return list(re.findall(r'<code class="product-id">([^<]+)</code>', html))

    html = page("q=one&domain=marketing")
    # The control: every order, the current one marked, each link keeping q and the filters.
    links = dict(
        re.findall(r'<a href="\?([^"]*)"[^>]*>(Best match|Most used|Newest|Best quality)<', html)
    )
    assert set(links.values()) == {"Best match", "Most used", "Newest", "Best quality"}
    for href in links:
        assert "q=one" in href and "domain=marketing" in href, href
    assert re.search(r'aria-current="true" class="on">Best match<', html)
    assert order(page("q=one&sort=popular")) == [busy.product_id, quiet.product_id]
    assert order(page("q=one&sort=quality")) == [quiet.product_id, busy.product_id]
    popular = page("q=one&sort=popular")
    assert re.search(r'aria-current="true" class="on">Most used<', popular)
    assert 'name="sort" value="popular"' in popular  # a new search keeps the order
    assert 'data-queries30d="3"' in popular
    bad = client.get("/search/?q=one&sort=random")
    assert bad.status_code == 400 and "sort" in bad.content.decode()


# --- metrics -------------------------------------------------------------------------------


@pytest.fixture
def world(marketing: Any, finance: Any, analyst: Any, outsider: Any) -> dict[str, Any]:
    """A published marketing product and a finance draft, queried on two days; rolled up."""
    open_ = product(marketing, "orders")
    draft = product(finance, "secret_plan", status="draft")
    day = timezone.now() - timedelta(days=2)
    for _ in range(4):
        query(analyst, [open_], day, access="masked")
    for _ in range(7):
        query(outsider, [draft], day, access="domain_owner")
    usage_rollup()
    return {"open": open_, "draft": draft}


def test_metrics_count_only_what_the_caller_may_read(
    world: dict[str, Any], analyst: Any, outsider: Any, admin_user: Any, api_as: Any
) -> None:
    def total(user: Any) -> int:
        body = api_as(user).get("/v1/metrics").json()
        return sum(body["queriesPerDay"]["total"])

    assert total(analyst) == 4  # finance's draft is not the analyst's to count
    assert total(outsider) == 11  # their own domain's draft counts for them
    assert total(admin_user) == 11
    analyst_view = api_as(analyst).get("/v1/metrics").json()
    assert analyst_view["pii"]["rawReads"] == 0
    assert analyst_view["pii"]["maskedShare"] == 100.0
    assert {r["domain"] for r in analyst_view["slaByDomain"]} == {"marketing"}
    owner_view = api_as(outsider).get("/v1/metrics?domain=finance").json()
    assert owner_view["pii"]["rawReadsBy"] == {"role": 0, "domain": 7, "grant": 0}
    assert sum(owner_view["queriesPerDay"]["total"]) == 7


def test_metrics_refuse_bad_parameters_with_the_field_named(
    world: dict[str, Any], analyst: Any, api_as: Any
) -> None:
    client = api_as(analyst)
    for params, field in (
        ("since=2026-02-30", "since"),
        ("since=2026-05-02&until=2026-05-01", "since"),
        ("since=2020-01-01&until=2026-01-01", "since"),
        ("domain=no-such-domain", "domain"),
        ("domain=finance", None),  # finance exists and is visible as a domain
    ):
        answer = client.get(f"/v1/metrics?{params}")
        if field is None:
            assert answer.status_code == 200
        else:
            assert answer.status_code == 400 and field in answer.json()["error"]["fields"]
    assert api_as(None).get("/v1/metrics").status_code == 401


def test_the_metrics_page_shows_charts_with_their_numbers(
    world: dict[str, Any], analyst: Any, client: Any
) -> None:
    client.force_login(analyst)
    page = client.get("/metrics/").content.decode()
    assert page.count("<svg") >= 6
    assert 'data-figure="masked-share">100.0%' in page
    assert client.get("/metrics/?since=nope").status_code == 400
    assert client.get("/metrics/?domain=marketing").status_code == 200


def test_time_to_publish_runs_from_the_first_draft_to_the_first_publication(
    marketing: Any, analyst: Any, api_as: Any
) -> None:
    now = timezone.now()

    def publish(product_id: str, version: int, status: str, days_ago: float) -> DataProduct:
        stated = (now - timedelta(days=days_ago)).isoformat()
        document = contract_document(product_id, version=version, status=status, publishedAt=stated)
        return product_publish(actor=None, document=document, source="test").product

    publish("marketing.orders", 1, "draft", 10)
    publish("marketing.orders", 2, "draft", 8)
    publish("marketing.orders", 3, "published", 6)  # 4 days after its first draft
    publish("marketing.orders", 4, "published", 2)  # not its first publication
    publish("marketing.refunds", 1, "draft", 5)
    publish("marketing.refunds", 2, "published", 3)  # 2 days
    publish("marketing.revenue", 1, "published", 4)  # never a draft: not counted
    publish("marketing.old_kpis", 1, "draft", 60)
    publish("marketing.old_kpis", 2, "published", 50)  # 10 days, before the range below
    publish("marketing.backlog", 1, "draft", 1)  # not published yet
    since = (now - timedelta(days=20)).date().isoformat()
    figure = api_as(analyst).get(f"/v1/metrics?since={since}").json()["timeToPublish"]
    assert figure == {"products": 2, "medianDays": 3.0}
    wider = (now - timedelta(days=90)).date().isoformat()
    assert api_as(analyst).get(f"/v1/metrics?since={wider}").json()["timeToPublish"] == {
        "products": 3,
        "medianDays": 4.0,
    }
    # What each publish noted is what the versions say, read again whole or by the migration.
    stored = dict(DataProduct.objects.values_list("product_id", "first_draft_at"))
    orders = DataProduct.objects.get(product_id="marketing.orders")
    assert orders.first_draft_at == now - timedelta(days=10)
    assert orders.first_published_at == now - timedelta(days=6)
    ids = list(DataProduct.objects.values_list("pk", flat=True))
    assert first_versions_refresh(product_ids=ids) == 0
    DataProduct.objects.update(first_draft_at=None, first_published_at=None)
    assert first_versions_refresh(product_ids=ids) == 5  # each has a first draft or publication
    assert dict(DataProduct.objects.values_list("product_id", "first_draft_at")) == stored
    DataProduct.objects.update(first_draft_at=None, first_published_at=None)
    migration = import_module("catalog.migrations.0013_dataproduct_first_versions")
    migration.first_versions_from_history(django_apps, None)
    assert dict(DataProduct.objects.values_list("product_id", "first_draft_at")) == stored
    assert api_as(analyst).get(f"/v1/metrics?since={since}").json()["timeToPublish"] == figure


def test_charts_escape_every_label() -> None:
    hostile = '<script>alert(1)</script>"'
    svg = bar_chart([(hostile, 3)], title=hostile) + line_chart(
        ["2026-01-01"], [(hostile, [1.0])], title=hostile
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg


# --- the quality rollup --------------------------------------------------------------------


def test_the_quality_rollup_sums_runs_per_utc_day_and_is_idempotent(marketing: Any) -> None:
    orders = product(marketing, "orders")
    finished = NOW - timedelta(days=1, hours=3)
    for passed in (True, False):
        run = CheckRun.objects.create(
            product=orders,
            trigger="schedule",
            run_key=f"r{passed}",
            status="passed" if passed else "failed",
            finished_at=finished,
            newest_data_at=finished - timedelta(hours=30 if not passed else 1),
        )
        CheckResult.objects.create(
            run=run,
            check_name="c",
            check_type="not_null",
            status="passed" if passed else "failed",
            passed=passed,
            severity="error",
            created_at=finished,
        )
    quality_rollup(now=NOW)
    quality_rollup(now=NOW)
    [day] = QualityDay.objects.all()
    assert (day.runs, day.failed_runs, day.w_passed, day.w_total) == (2, 1, 1.0, 2.0)
    assert (day.freshness_runs, day.fresh_runs) == (2, 1)
    [domain] = QualityDomainDay.objects.all()
    assert (domain.scored, domain.score_sum, domain.status) == (1, 50.0, "live")


def test_the_domain_rollup_follows_a_draft_that_was_published(marketing: Any, member: Any) -> None:
    draft = product(marketing, "soon", status="draft")
    query(member, [draft], NOW - timedelta(days=1))
    usage_rollup(now=NOW)
    assert set(UsageDomainDay.objects.values_list("status", flat=True)) == {"draft"}
    DataProduct.objects.filter(pk=draft.pk).update(status="published")
    usage_rollup(now=NOW)
    assert set(UsageDomainDay.objects.values_list("status", flat=True)) == {"live"}


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/Los_Angeles"])
def test_incidents_count_in_their_utc_month_whatever_the_time_zone(
    marketing: Any, admin_user: Any, settings: Any, zone: str
) -> None:
    from catalog.metrics import metrics_filter, platform_metrics
    from quality.models import Incident

    settings.TIME_ZONE = zone
    orders = product(marketing, "orders")
    for at, kind in (
        (datetime(2026, 5, 31, 23, 30, tzinfo=UTC), "stale_data"),  # June 1st in Kolkata
        (datetime(2026, 6, 1, 0, 30, tzinfo=UTC), "stale_data"),  # May 31st in Los Angeles
        (datetime(2026, 6, 1, 5, 0, tzinfo=UTC), "check_failed"),
        (datetime(2026, 4, 30, 23, 59, tzinfo=UTC), "stale_data"),  # before the range
    ):
        Incident.objects.create(
            product=orders, kind=kind, opened_at=at, status="resolved", resolved_at=at
        )
    flt = metrics_filter(user=admin_user, params={"since": "2026-05-01", "until": "2026-06-01"})
    months = platform_metrics(user=admin_user, flt=flt)["incidentsPerMonth"]
    assert months == [
        {"month": "2026-05", "stale": 1, "failing": 0},
        {"month": "2026-06", "stale": 1, "failing": 1},
    ]


def test_the_product_page_shows_a_usage_sparkline_and_the_top_teams(
    marketing: Any, analyst: Any, owner: Any, client: Any
) -> None:
    orders = product(marketing, "orders")
    for back in (3, 2, 2):
        query(owner, [orders], timezone.now() - timedelta(days=back))
    usage_rollup()
    query(analyst, [orders], timezone.now())  # today: counted live
    client.force_login(analyst)
    page = client.get(f"/products/{orders.product_id}/").content.decode()
    card = page.split('id="usage"', 1)[1].split("</section>", 1)[0]
    assert 'data-figure="queries30d">4<' in card and 'data-figure="users30d">2<' in card
    points = card.split('points="', 1)[1].split('"', 1)[0].split()
    assert len(points) == 30  # one point a day, zeros included
    assert "today so far: 1" in card
    teams = card.split("Top teams", 1)[1]
    assert teams.index("marketing") < teams.index("no team (analyst)")
    assert "3 queries, 1 person" in teams
