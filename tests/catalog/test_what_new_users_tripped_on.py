"""The smaller points new users tripped on (issue 12, item 8): published dates that agree with
the version history, one search default for the page and the API, the query page's 1,000-row
limit, consumer registration, human formats, one e-mail subject prefix, the favicon, the
owners' names, and a search page that puts results before filters."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.core import mail
from django.http import StreamingHttpResponse
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.governance.services import product_deprecate
from catalog.models import Consumer, ContractVersion, DataProduct
from catalog.services import consumer_register, product_document, product_publish
from catalog.templatetags.catalog_extras import hours, score_chart
from quality.checks.evaluate import human_hours
from tests.factories import UserFactory, contract_document
from tests.querying.fixtures_django import build_warehouse
from tests.querying.fixtures_django import warehouse as warehouse  # noqa: PLC0414 - a fixture

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = "marketing.campaign_attribution"


def browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def page(user: Any, path: str, **params: Any) -> str:
    response = browser(user).get(path, params)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# ---------------------------------------------------------------------------------------------
# Published dates and the version history
# ---------------------------------------------------------------------------------------------


def header_date(html: str) -> str:
    match = re.search(r'<span class="muted">published ([^<]+)</span>', html)
    assert match, "the product header shows its published date"
    return match.group(1)


def history(html: str) -> list[tuple[str, str]]:
    """``[(version, published date and time)]`` as the page's version history lists them."""
    return re.findall(
        r"<strong>v(\d+)</strong> <span class=\"muted\">published <time[^>]*>([^<]+)<", html
    )


def check_dates_agree(user: Any, product_id: str) -> list[tuple[str, str]]:
    html = page(user, f"/products/{product_id}/")
    listed = history(html)
    assert listed, "the page lists the versions"
    versions = [v for v, _ in listed]
    assert len(versions) == len(set(versions)), f"a version is listed twice: {versions}"
    assert listed[0][1].startswith(header_date(html)), (header_date(html), listed[0])
    body = api(user).get(f"/v1/catalog/products/{product_id}").json()
    assert body["changelog"][0]["publishedAt"] == body["publishedAt"]
    assert [e["version"] for e in body["changelog"]] == [int(v) for v in versions]
    return listed


def test_a_stated_first_date_is_kept_and_every_later_version_is_dated_when_published(
    marketing: Any, owner: Any, analyst: Any
) -> None:
    first = contract_document(PRODUCT, version=1, publishedAt="2025-03-01T00:00:00Z")
    product = product_publish(actor=owner, document=first).product
    assert product.published_at == datetime(2025, 3, 1, tzinfo=UTC)
    assert check_dates_agree(analyst, PRODUCT) == [("1", "1 Mar 2025, 00:00")]

    # Every way a new version arrives, each carrying the old date along or giving none.
    carried = {**product_document(product), "version": 2, "description": "Second edition."}
    product_publish(actor=owner, document=carried, source="api")
    omitted = {**product_document(DataProduct.objects.get(product_id=PRODUCT)), "version": 3}
    omitted.pop("publishedAt")
    omitted["tags"] = [*omitted["tags"], "v3"]
    product_publish(actor=owner, document=omitted, source="cli")
    product_deprecate(
        actor=owner,
        product=DataProduct.objects.get(product_id=PRODUCT),
        sunset_at=timezone.now() + timedelta(days=30),
        replaced_by=None,
        reason="replaced by the warehouse-native model",
    )

    today = timezone.now()
    product = DataProduct.objects.get(product_id=PRODUCT)
    assert product.version == 4
    assert today - product.published_at < timedelta(minutes=1)
    listed = check_dates_agree(analyst, PRODUCT)
    assert [v for v, _ in listed] == ["4", "3", "2", "1"]
    assert all(d.startswith(f"{today.day} {today:%b %Y}") for _, d in listed[:3])


def test_the_same_contract_published_again_keeps_its_date_and_makes_no_version(
    marketing: Any, owner: Any
) -> None:
    document = contract_document(PRODUCT, version=3, publishedAt="2025-03-01T00:00:00Z")
    product_publish(actor=None, document=document)
    deprecated = {
        **document,
        "version": 4,
        "status": "deprecated",
        "deprecation": {"sunsetAt": "2099-01-01T00:00:00Z", "reason": "old"},
    }
    product_publish(actor=None, document=deprecated)  # dated now: it repeats v3's date
    stored = DataProduct.objects.get(product_id=PRODUCT).published_at
    versions = ContractVersion.objects.count()
    # A seed (or a git checkout) publishing the same file again: same version, same content.
    outcome = product_publish(actor=None, document=deprecated)
    assert not outcome.changed
    assert ContractVersion.objects.count() == versions
    assert (
        DataProduct.objects.get(product_id=PRODUCT).published_at
        == stored
        != datetime(2025, 3, 1, tzinfo=UTC)
    )


def test_rows_kept_from_before_unique_versions_are_listed_once(
    marketing: Any, analyst: Any
) -> None:
    product = product_publish(actor=None, document=contract_document(PRODUCT)).product
    latest = product.versions.get()
    ContractVersion.objects.create(
        product=product,
        version=latest.version,
        document=latest.document,
        source="api",
        is_legacy_duplicate=True,
    )
    assert [v for v, _ in check_dates_agree(analyst, PRODUCT)] == [str(latest.version)]


# ---------------------------------------------------------------------------------------------
# One search default
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def catalog(marketing: Any, finance: Any, django_capture_on_commit_callbacks: Any) -> None:
    """Products in every status, with words in common (their search index refreshed on commit,
    as the worker does)."""
    with django_capture_on_commit_callbacks(execute=True):
        for product_id in ("marketing.revenue_report", "finance.revenue", "marketing.web_report"):
            product_publish(actor=None, document=contract_document(product_id))
        product_publish(
            actor=None, document=contract_document("marketing.revenue_draft", status="draft")
        )
        old = product_publish(actor=None, document=contract_document("finance.revenue_old"))
        product_deprecate(
            actor=None,
            product=old.product,
            sunset_at=timezone.now() + timedelta(days=30),
            replaced_by="finance.revenue",
            reason="moved",
        )
        published = product_publish(actor=None, document=contract_document("finance.gone_revenue"))
    gone = published.product
    DataProduct.objects.filter(pk=gone.pk).update(status="retired")


def page_ids(user: Any, **params: Any) -> list[str]:
    html = page(user, "/search/", **params)
    return re.findall(r'class="product-card__title" href="/products/([^/]+)/"', html)


def api_ids(user: Any, **params: Any) -> list[str]:
    response = api(user).get("/v1/catalog/search", {**params, "pageSize": 20})
    assert response.status_code == 200, response.content
    return [p["id"] for p in response.json()["products"]]


@pytest.mark.parametrize("status", [None, "all", "any", "published,deprecated", "deprecated"])
@pytest.mark.parametrize("q", ["", "revenue", "report"])
def test_the_search_page_and_the_api_give_the_same_results(
    catalog: None, owner: Any, analyst: Any, q: str, status: str | None
) -> None:
    params = {"q": q} if status is None else {"q": q, "status": status}
    for user in (analyst, owner):
        assert page_ids(user, **params) == api_ids(user, **params), (user.username, params)
    if status is None:  # the default: published products only, on both
        assert "finance.revenue_old" not in page_ids(analyst, **params)
    if status in ("all", "any"):
        everything = set(page_ids(owner, **params))
        assert {"finance.revenue_old", "finance.gone_revenue"} <= everything or q == "report"
        assert "marketing.revenue_draft" in everything or q == "report"  # the owner's draft


def test_the_default_search_page_says_what_else_matches(catalog: None, analyst: Any) -> None:
    html = page(analyst, "/search/", q="revenue")
    assert "Also matching, not shown by default:" in html
    assert '<a href="?q=revenue&amp;status=deprecated">1 deprecated</a>' in html
    assert '<a href="?q=revenue&amp;status=all">show all statuses</a>' in html
    # The status facet counts every status the user may see, the default one marked.
    published = len(api_ids(analyst, q="revenue"))
    assert f'aria-current="true" class="on">published <span class="count">{published}<' in html
    assert '<a href="?q=revenue&amp;status=retired">retired <span class="count">1<' in html
    assert "marketing.revenue_draft" not in html  # an analyst never sees another team's draft


def test_status_all_is_accepted_and_a_bad_status_names_the_field(
    catalog: None, analyst: Any
) -> None:
    assert api(analyst).get("/v1/catalog/search", {"status": "all"}).status_code == 200
    response = api(analyst).get("/v1/catalog/search", {"status": "everything"})
    assert response.status_code == 400
    assert "status" in response.json()["error"]["fields"]
    assert "or all" in response.json()["error"]["message"]
    assert browser(analyst).get("/search/", {"status": "everything"}).status_code == 400


def test_results_come_before_the_filters_in_the_search_page(catalog: None, analyst: Any) -> None:
    html = page(analyst, "/search/", q="revenue")
    assert html.index('class="results"') < html.index('class="facets"')
    assert 'href="#filters"' in html and 'id="filters"' in html


# ---------------------------------------------------------------------------------------------
# The query page shows at most 1,000 rows and says the rest is in the CSV
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def big_warehouse(warehouse: Path, tmp_path: Path, settings: Any) -> None:  # noqa: F811
    path = build_warehouse(tmp_path / "big.duckdb", big_rows=2_500)
    settings.WAREHOUSE_URL = f"duckdb:///{path}"


def test_the_query_page_renders_at_most_1000_rows_and_points_at_the_csv(
    big_warehouse: None, analyst: Any
) -> None:
    response = browser(analyst).post("/query/", {"sql": f"SELECT * FROM {PRODUCT}"})
    assert response.status_code == 200
    html = response.content.decode()
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    assert body.count("<tr>") == 1_000
    assert "2,503 rows in" in html
    assert "This page shows the first 1,000 of 2,503 rows; the rest are in the CSV:" in html
    assert 'data-page-rows="1000"' in html  # what the page's script caps its table at
    small = browser(analyst).post("/query/", {"sql": f"SELECT * FROM {PRODUCT} LIMIT 20"})
    assert "the rest are in the CSV" not in small.content.decode()
    csv = browser(analyst).post("/query/download.csv", {"sql": f"SELECT * FROM {PRODUCT}"})
    assert csv.status_code == 200
    downloaded = (
        b"".join(csv.streaming_content) if isinstance(csv, StreamingHttpResponse) else csv.content
    )
    assert downloaded.count(b"\n") == 2_504


# ---------------------------------------------------------------------------------------------
# Consumer registration
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def product(marketing: Any) -> DataProduct:
    return product_publish(actor=None, document=contract_document(PRODUCT)).product


def register_url(product_id: str = PRODUCT) -> str:
    return f"/products/{product_id}/consumers/"


def test_the_form_is_prefilled_with_the_users_team_and_address(
    product: DataProduct, member: Any, analyst: Any
) -> None:
    html = page(member, f"/products/{PRODUCT}/")
    assert re.search(r'name="team" value="Marketing"', html)
    assert f'name="contact" value="{member.email}"' in html
    assert f'action="{register_url()}#register"' in html  # the answer scrolls to the form
    html = page(analyst, f"/products/{PRODUCT}/")
    assert f'name="contact" value="{analyst.email}"' in html


def test_a_refused_registration_keeps_the_form_in_view_with_its_errors(
    product: DataProduct, analyst: Any
) -> None:
    response = browser(analyst).post(
        register_url(), {"team": "", "use_case": "dashboards", "contact": "not-an-address"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    form = html[html.index('id="register"') :]
    assert "Please fix the fields marked below." in form
    assert re.search(r'<input[^>]*name="team"[^>]*aria-invalid="true"[^>]*autofocus', form) or (
        re.search(r'<input[^>]*autofocus[^>]*name="team"', form)
    )
    assert 'aria-describedby="id_contact-error"' in form
    assert 'value="not-an-address"' in form and "dashboards" in form  # what was typed stays
    assert not Consumer.objects.exists()


def test_a_registration_shows_registered_and_its_registrant_can_withdraw_it(
    product: DataProduct, analyst: Any, manager: Any
) -> None:
    client = browser(analyst)
    response = client.post(
        register_url(), {"team": "Pricing", "use_case": "Elasticity", "contact": "p@co.io"}
    )
    assert response.status_code == 302 and response["Location"].endswith("#consumers")
    html = client.get(f"/products/{PRODUCT}/").content.decode()
    assert "Pricing registered as a consumer of" in html
    assert '<span class="badge badge--fresh">registered</span>' in html
    assert "✓ Registered as Pricing" in html
    assert 'name="team" value="Pricing"' in html and "Update registration" in html
    consumer = Consumer.objects.get(team="Pricing")
    withdraw = f"/products/{PRODUCT}/consumers/{consumer.pk}/withdraw/"
    assert f'action="{withdraw}"' in html

    # Someone else may not withdraw it, and is not offered the button.
    assert f'action="{withdraw}"' not in page(manager, f"/products/{PRODUCT}/")
    assert browser(manager).post(withdraw).status_code == 403
    assert Consumer.objects.filter(pk=consumer.pk).exists()

    response = client.post(withdraw)
    assert response.status_code == 302
    assert not Consumer.objects.filter(pk=consumer.pk).exists()
    html = client.get(f"/products/{PRODUCT}/").content.decode()
    assert "Pricing is no longer registered as a consumer" in html
    assert "Register as consumer" in html


def test_owners_withdraw_any_registration_of_their_products(
    product: DataProduct, owner: Any, outsider: Any
) -> None:
    consumer, _ = consumer_register(
        actor=None, product=product, team="CEO office", use_case="board", contact="ceo@co.io"
    )
    withdraw = f"/products/{PRODUCT}/consumers/{consumer.pk}/withdraw/"
    assert browser(outsider).post(withdraw).status_code == 403
    assert Client().post(withdraw).status_code == 302  # to the login page
    assert Consumer.objects.filter(pk=consumer.pk).exists()
    assert browser(owner).get(withdraw).status_code == 405
    assert browser(owner).post(withdraw).status_code == 302
    assert not Consumer.objects.exists()
    other = f"/products/{PRODUCT}/consumers/999999/withdraw/"
    assert browser(owner).post(other).status_code == 404


# ---------------------------------------------------------------------------------------------
# Owners by name, human formats, favicon, one e-mail subject prefix
# ---------------------------------------------------------------------------------------------


def test_the_product_page_names_its_owners(product: DataProduct, owner: Any, analyst: Any) -> None:
    owner.first_name, owner.last_name = "Maya", "Lindqvist"
    owner.save()
    html = page(analyst, f"/products/{PRODUCT}/")
    assert re.search(r'Owned by <span class="owner-person">Maya Lindqvist</span>', html)
    assert "(maya)" in html
    nameless = UserFactory.create(username="zed", first_name="", last_name="")
    from accounts import permissions

    permissions.membership_set(user=nameless, domain=product.domain, is_owner=True)
    assert '<span class="owner-person">zed</span>' in page(analyst, f"/products/{PRODUCT}/")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "—"),
        (0.4, "24 min"),
        (5.26, "5.3 h"),
        (24.0, "24 h"),
        (47.96, "48 h"),
        (50, "2.1 days"),
        (2165.46, "90.2 days"),
        (24 * 1234.5, "1,234.5 days"),
    ],
)
def test_durations_read_the_way_people_write_them(value: float | None, text: str) -> None:
    assert hours(value) == text
    if value is not None:  # the check results and incidents on the same page read alike
        assert human_hours(value) == text


def test_dates_read_the_way_people_write_them(product: DataProduct, analyst: Any) -> None:
    at = datetime(2026, 3, 4, 5, 6, tzinfo=UTC)
    chart = score_chart([(at, 90.0), (at + timedelta(days=2), 95.0)])
    assert "from 4 Mar 2026 to 6 Mar 2026" in chart
    assert "4 Mar 2026, 05:06: 90" in chart
    assert "2026-03-04" not in chart
    html = page(analyst, f"/products/{PRODUCT}/")
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b(?![^<]*\")", html.replace('datetime="', 'x="'))


def test_every_page_names_the_favicon_which_the_portal_serves(
    product: DataProduct, analyst: Any
) -> None:
    html = page(analyst, "/")
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    found = finders.find("favicon.svg")
    assert isinstance(found, str)
    assert Path(found).read_text().startswith("<svg")
    response = Client().get("/favicon.ico")
    assert (response.status_code, response["Location"]) == (301, "/static/favicon.svg")


def test_every_e_mail_subject_has_the_one_prefix(
    product: DataProduct, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from quality import notifications
    from quality.models import Incident

    consumer_register(
        actor=None, product=product, team="Growth", use_case="budget", contact="growth@co.io"
    )
    incident = Incident.objects.create(
        product=product, kind="stale_data", opened_at=timezone.now(), message="[data mesh] old"
    )
    notifications.incident_event(incident=incident, event="opened")
    with django_capture_on_commit_callbacks(execute=True):  # consumers are told after commit
        breaking = product_document(DataProduct.objects.get(pk=product.pk))
        breaking["schema"] = breaking["schema"][:-1]
        breaking["version"] += 1
        product_publish(actor=owner, document=breaking)
    with django_capture_on_commit_callbacks(execute=True):
        product_deprecate(
            actor=owner,
            product=DataProduct.objects.get(pk=product.pk),
            sunset_at=timezone.now() + timedelta(days=30),
            replaced_by=None,
            reason="replaced",
        )
    subjects = [m.subject for m in mail.outbox]
    assert len(subjects) >= 3, subjects
    for subject in subjects:
        assert subject.startswith("[data portal] "), subject
        assert subject.count("[data portal]") == 1 and "[data mesh]" not in subject, subject
    # And no other prefix is written anywhere in the code.
    sources = [
        p
        for app in ("catalog", "quality", "querying", "accounts", "config")
        for p in (ROOT / app).rglob("*.py")
    ]
    prefixes = {m for p in sources for m in re.findall(r"\[data [a-z]+\]", p.read_text())}
    assert prefixes == {"[data portal]"}, prefixes
