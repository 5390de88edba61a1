"""Catalog pages: login required, permissions, search facets and highlighting, consumer form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client, TestCase
from django.utils import timezone

from catalog.models import Consumer, DataProduct
from catalog.services import product_publish
from catalog.templatetags.catalog_extras import hours, score_chart
from tests.factories import contract_document


def publish(product_id: str, **overrides: Any) -> DataProduct:
    # A publish refreshes the search index on commit (a task); the test's transaction never
    # commits, so its on-commit work runs here, as the worker would run it.
    doc = contract_document(product_id, **overrides)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return product_publish(actor=None, document=doc).product


def browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def product(marketing: Any) -> DataProduct:
    return publish("marketing.campaign_attribution", name="Campaign Attribution")


@pytest.mark.parametrize(
    "path",
    ["/", "/search/?q=x", "/domains/marketing/", "/products/marketing.campaign_attribution/"],
)
def test_pages_redirect_anonymous_users_to_login(product: DataProduct, path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_home_shows_search_domains_and_recent_products(product: DataProduct, analyst: Any) -> None:
    html = browser(analyst).get("/").content.decode()
    assert 'role="search"' in html
    assert 'href="/domains/marketing/"' in html
    assert 'aria-label="1 published products"' in html
    assert "/products/marketing.campaign_attribution/" in html
    assert "Nothing is stale or failing." in html


def test_search_page_highlights_matches_after_escaping(marketing: Any, analyst: Any) -> None:
    publish("marketing.tricky", name="Attribution <script>alert(1)</script>")
    html = browser(analyst).get("/search/", {"q": "attribution"}).content.decode()
    assert "<mark>Attribution</mark> &lt;script&gt;" in html
    assert "<script>alert(1)" not in html


def test_search_page_has_facets_that_filter(marketing: Any, finance: Any, analyst: Any) -> None:
    publish("marketing.alpha", tags=["shared", "m"])
    publish("finance.beta", tags=["shared", "f"])
    client = browser(analyst)
    html = client.get("/search/").content.decode()
    assert "?domain=finance" in html and "?tag=shared" in html
    filtered = client.get("/search/", {"domain": "finance"}).content.decode()
    assert "/products/finance.beta/" in filtered
    assert "/products/marketing.alpha/" not in filtered


def test_search_page_shows_deprecated_products_labelled_with_their_replacement(
    marketing: Any, analyst: Any
) -> None:
    publish("marketing.new_report")
    old = publish("marketing.old_report")
    DataProduct.objects.filter(pk=old.pk).update(
        status="deprecated",
        deprecation_replaced_by="marketing.new_report",
        deprecation_sunset_at=timezone.now() + timedelta(days=10),
    )
    # By default the page searches what the API searches (published products) and says what
    # else matches; with every status the deprecated one comes after its replacement.
    default = browser(analyst).get("/search/", {"q": "report"}).content.decode()
    assert "/products/marketing.new_report/" in default
    assert "/products/marketing.old_report/" not in default
    assert "Also matching, not shown by default:" in default
    assert 'href="?q=report&amp;status=deprecated">1 deprecated</a>' in default
    html = browser(analyst).get("/search/", {"q": "report", "status": "all"}).content.decode()
    assert html.index("/products/marketing.new_report/") < html.index(
        "/products/marketing.old_report/"
    )
    assert "Deprecated — use" in html


def test_search_page_explains_bad_filters_with_a_400(db: Any, analyst: Any) -> None:
    response = browser(analyst).get("/search/", {"freshness": "rotten"})
    assert response.status_code == 400
    assert "freshness" in response.content.decode()


def test_domain_page_lists_products_owners_and_scorecard_link(
    product: DataProduct, owner: Any, analyst: Any
) -> None:
    html = browser(analyst).get("/domains/marketing/").content.decode()
    assert "/products/marketing.campaign_attribution/" in html
    assert owner.email in html
    assert 'href="/governance/domains/marketing/"' in html


def test_unknown_domain_and_product_are_404(db: Any, analyst: Any) -> None:
    client = browser(analyst)
    assert client.get("/domains/nope/").status_code == 404
    assert client.get("/products/marketing.nope/").status_code == 404


def test_product_page_shows_owner_sla_schema_and_actions(
    product: DataProduct, analyst: Any
) -> None:
    html = browser(analyst).get("/products/marketing.campaign_attribution/").content.decode()
    assert 'href="mailto:marketing-data@company.com"' in html
    assert "#marketing-data" in html
    assert 'href="/query/?product=marketing.campaign_attribution"' in html
    assert "masked: last4" in html  # user_id is PII and the analyst is not on the team
    assert "PII" in html
    assert "no data yet" in html
    assert "v3" in html
    assert "Register as consumer" in html


def test_product_page_shows_raw_pii_note_to_the_domain_team(
    product: DataProduct, member: Any
) -> None:
    html = browser(member).get("/products/marketing.campaign_attribution/").content.decode()
    assert "raw for your team" in html


def test_draft_product_page_is_404_for_outsiders(
    marketing: Any, outsider: Any, member: Any
) -> None:
    publish("marketing.wip", status="draft")
    assert browser(outsider).get("/products/marketing.wip/").status_code == 404
    assert browser(member).get("/products/marketing.wip/").status_code == 200


def test_deprecated_product_page_has_a_banner_with_replacement_and_sunset(
    marketing: Any, analyst: Any
) -> None:
    publish("marketing.new_report")
    old = publish("marketing.old_report")
    DataProduct.objects.filter(pk=old.pk).update(
        status="deprecated",
        deprecation_replaced_by="marketing.new_report",
        deprecation_sunset_at=datetime(2031, 3, 31, tzinfo=UTC),
        deprecation_reason="moved",
    )
    html = browser(analyst).get("/products/marketing.old_report/").content.decode()
    assert "This product is deprecated." in html
    assert 'href="/products/marketing.new_report/"' in html
    assert "31 Mar 2031" in html


def test_consumer_form_registers_and_redirects_with_a_message(
    product: DataProduct, analyst: Any
) -> None:
    client = browser(analyst)
    response = client.post(
        "/products/marketing.campaign_attribution/consumers/",
        {"team": "Growth", "use_case": "LTV model", "contact": "growth@company.com"},
        follow=True,
    )
    assert response.redirect_chain[-1][0].endswith(
        "/products/marketing.campaign_attribution/#consumers"
    )
    html = response.content.decode()
    assert "Growth registered as a consumer of marketing.campaign_attribution." in html
    assert Consumer.objects.filter(product=product, team="Growth").exists()


def test_consumer_form_shows_field_errors_and_saves_nothing(
    product: DataProduct, analyst: Any
) -> None:
    response = browser(analyst).post(
        "/products/marketing.campaign_attribution/consumers/",
        {"team": "", "use_case": "x", "contact": "nope"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Please fix the fields marked below." in html
    assert "Enter a valid email address." in html
    assert "This field is required." in html
    assert Consumer.objects.count() == 0


def test_consumer_form_rejects_get(product: DataProduct, analyst: Any) -> None:
    assert (
        browser(analyst).get("/products/marketing.campaign_attribution/consumers/").status_code
        == 405
    )


def test_score_chart_is_an_svg_with_a_text_alternative() -> None:
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    html = str(
        score_chart([(t0, 80.0), (t0 + timedelta(days=1), 100.0), (t0 + timedelta(days=2), 60.0)])
    )
    assert html.startswith('<figure class="chart"><svg')
    assert 'role="img"' in html and "<desc" in html
    assert "latest 60, lowest 60, highest 100" in html
    assert html.count("<circle") == 3


def test_score_chart_without_runs_says_no_data_yet() -> None:
    assert "no data yet" in str(score_chart([]))


def test_hours_are_human() -> None:
    assert (hours(0.4), hours(5.25), hours(50), hours(None)) == ("24 min", "5.2 h", "2.1 days", "—")


def test_search_page_pages_through_every_product_once(marketing: Any, analyst: Any) -> None:
    from catalog.views import PAGE_SIZE

    for i in range(PAGE_SIZE + 3):
        publish(f"marketing.paged_{i:02d}", name=f"Paged {i:02d}")
    client = browser(analyst)
    first = client.get("/search/", {"q": "paged"})
    second = client.get("/search/", {"q": "paged", "page": "2"})
    beyond = client.get("/search/", {"q": "paged", "page": "99"})  # Django: the last page
    html = [r.content.decode() for r in (first, second, beyond)]
    assert all(r.status_code == 200 for r in (first, second, beyond))
    assert f"{PAGE_SIZE + 3} products" in html[0] and "Page 1 of 2" in html[0]
    listed = [
        {
            f"marketing.paged_{i:02d}"
            for i in range(PAGE_SIZE + 3)
            if f"/products/marketing.paged_{i:02d}/" in h
        }
        for h in html
    ]
    assert len(listed[0]) == PAGE_SIZE and len(listed[1]) == 3
    assert not listed[0] & listed[1] and listed[1] == listed[2]
