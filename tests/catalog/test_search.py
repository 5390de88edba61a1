"""Search ranking and filters: the same order on SQLite and PostgreSQL (DATABASE_URL picks)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import TestCase
from django.utils import timezone

from catalog.contract import FRESHNESS_HOURS
from catalog.models import DataProduct
from catalog.search import highlight, terms_of
from catalog.selectors import SearchInvalid, product_search, product_search_page
from catalog.services import product_publish
from tests.factories import contract_document


def publish(product_id: str, **overrides: Any) -> DataProduct:
    doc = contract_document(product_id, qualityChecks=[], **overrides)
    # A publish refreshes the search index on commit (a task); the test's transaction never
    # commits, so its on-commit work runs here, as the worker would run it.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return product_publish(actor=None, document=doc).product


def deprecate(product: DataProduct, replaced_by: str = "") -> None:
    # Straight to the row: the lifecycle gates are tested with the services, not here.
    DataProduct.objects.filter(pk=product.pk).update(
        status="deprecated",
        deprecation_replaced_by=replaced_by,
        deprecation_sunset_at=timezone.now() + timedelta(days=90),
        deprecation_reason="replaced",
    )


def col(name: str, description: str = "A column") -> dict[str, Any]:
    return {"column": name, "type": "string", "description": description}


def ids(qs: Any) -> list[str]:
    return [p.product_id for p in qs]


@pytest.fixture
def ranked_products(db: Any) -> None:
    # Each product mentions "orbit" in exactly one field.
    publish(
        "marketing.in_description",
        name="Plain",
        tags=["x"],
        description="Orbit data",
        schema=[col("a")],
    )
    publish(
        "marketing.in_columns",
        name="Plain",
        tags=["x"],
        description="Nothing",
        schema=[col("orbit_id")],
    )
    publish(
        "marketing.in_tags", name="Plain", tags=["orbit"], description="Nothing", schema=[col("a")]
    )
    publish(
        "marketing.in_name",
        name="Orbit Facts",
        tags=["x"],
        description="Nothing",
        schema=[col("a")],
    )
    publish(
        "marketing.unrelated", name="Plain", tags=["x"], description="Nothing", schema=[col("a")]
    )


def test_terms_are_lowercase_words_without_punctuation_and_capped() -> None:
    assert terms_of("  Campaign-Attribution; DROP TABLE x  ") == [
        "campaign",
        "attribution",
        "drop",
        "table",
        "x",
    ]
    assert terms_of("a b c d e f g h i j") == ["a", "b", "c", "d", "e", "f", "g", "h"]
    assert terms_of("campaign_id") == ["campaign", "id"]
    assert terms_of("") == []


def test_name_beats_tags_beats_columns_beats_description(
    ranked_products: None, analyst: Any
) -> None:
    found = ids(product_search(user=analyst, params={"q": "orbit"}))
    assert found == [
        "marketing.in_name",
        "marketing.in_tags",
        "marketing.in_columns",
        "marketing.in_description",
    ]


def test_a_name_match_outranks_a_product_matching_every_other_field(db: Any, analyst: Any) -> None:
    publish(
        "marketing.everywhere_else",
        name="Plain",
        tags=["comet"],
        description="comet facts",
        schema=[col("comet_id")],
    )
    publish(
        "marketing.name_only", name="Comet", tags=["x"], description="Nothing", schema=[col("a")]
    )
    assert ids(product_search(user=analyst, params={"q": "comet"}))[0] == "marketing.name_only"


def test_every_word_of_the_query_must_match(ranked_products: None, analyst: Any) -> None:
    assert ids(product_search(user=analyst, params={"q": "orbit facts"})) == ["marketing.in_name"]
    assert ids(product_search(user=analyst, params={"q": "orbit zzzunknown"})) == []


def test_prefix_of_a_word_matches(ranked_products: None, analyst: Any) -> None:
    assert "marketing.in_name" in ids(product_search(user=analyst, params={"q": "orbi"}))


def test_deprecated_products_are_demoted_below_current_ones(db: Any, analyst: Any) -> None:
    old = publish("finance.old_ledger", name="Ledger", schema=[col("a")])
    publish("finance.ledger_description", name="Books", description="the ledger", schema=[col("a")])
    deprecate(old, "finance.ledger_description")
    found = ids(
        product_search(user=analyst, params={"q": "ledger", "status": "published,deprecated"})
    )
    assert found == ["finance.ledger_description", "finance.old_ledger"]


def test_search_lists_published_products_only_by_default(db: Any, analyst: Any) -> None:
    publish("marketing.live", name="Live")
    deprecate(publish("marketing.gone", name="Gone"))
    assert ids(product_search(user=analyst, params={})) == ["marketing.live"]
    assert set(ids(product_search(user=analyst, params={"status": "any"}))) == {
        "marketing.live",
        "marketing.gone",
    }


def test_drafts_are_visible_to_their_team_only(marketing: Any, member: Any, outsider: Any) -> None:
    publish("marketing.wip", name="Work in progress", status="draft")
    assert ids(product_search(user=member, params={"status": "draft"})) == ["marketing.wip"]
    assert ids(product_search(user=outsider, params={"status": "draft"})) == []


def test_anonymous_users_find_nothing(ranked_products: None) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert ids(product_search(user=AnonymousUser(), params={})) == []


def test_tag_filter_matches_whole_tags_only(db: Any, analyst: Any) -> None:
    publish("marketing.one", tags=["revenue"])
    publish("marketing.two", tags=["revenue_ops", "Revenue2"])
    assert ids(product_search(user=analyst, params={"tag": "revenue"})) == ["marketing.one"]
    assert ids(product_search(user=analyst, params={"tag": "revenue_ops"})) == ["marketing.two"]
    assert ids(product_search(user=analyst, params={"tag": "reven"})) == []


def test_filters_by_domain_owner_pii_and_score(db: Any, analyst: Any) -> None:
    a = publish("marketing.with_pii", schema=[{**col("user_ref"), "pii": True}])
    publish(
        "finance.no_pii",
        owner={"team": "Finance Data", "contact": "f@x.io", "slackChannel": "#f"},
        schema=[col("a")],
    )
    DataProduct.objects.filter(pk=a.pk).update(quality_score=95.0)
    assert ids(product_search(user=analyst, params={"domain": "finance"})) == ["finance.no_pii"]
    assert ids(product_search(user=analyst, params={"owner": "finance data"})) == ["finance.no_pii"]
    assert ids(product_search(user=analyst, params={"hasPii": "true"})) == ["marketing.with_pii"]
    assert ids(product_search(user=analyst, params={"hasPii": "false"})) == ["finance.no_pii"]
    assert ids(product_search(user=analyst, params={"minQualityScore": "90"})) == [
        "marketing.with_pii"
    ]


def test_freshness_filter_compares_newest_data_with_the_sla(db: Any, analyst: Any) -> None:
    now = timezone.now()
    fresh = publish("marketing.fresh")  # the seed's SLA: 1h
    stale = publish("marketing.stale")
    publish("marketing.never_checked")
    DataProduct.objects.filter(pk=fresh.pk).update(newest_data_at=now - timedelta(minutes=20))
    DataProduct.objects.filter(pk=stale.pk).update(newest_data_at=now - timedelta(hours=3))
    assert ids(product_search(user=analyst, params={"freshness": "fresh"})) == ["marketing.fresh"]
    assert ids(product_search(user=analyst, params={"freshness": "stale"})) == ["marketing.stale"]
    assert ids(product_search(user=analyst, params={"freshness": "unknown"})) == [
        "marketing.never_checked"
    ]


def test_freshness_filter_agrees_with_the_freshness_shown_at_every_boundary(
    db: Any, analyst: Any
) -> None:
    # The filter is written as column predicates (so it can use indexes), the label as a CASE:
    # they must never disagree. Every SLA, ages either side of its limit, and never checked.
    now = timezone.now()
    ages = [None, 0.0, 0.2, 0.3, 0.9, 1.1, 3.9, 4.1, 23.9, 24.1, 500.0]
    for sla in FRESHNESS_HOURS:
        for i, age in enumerate(ages):
            slug = sla.replace("realtime", "rt")
            product = publish(
                f"marketing.p_{slug}_{i}",
                sla={"freshness": sla, "availability": 99.0, "queryLatencyP95Ms": 1000},
            )
            seen = None if age is None else now - timedelta(hours=age)
            DataProduct.objects.filter(pk=product.pk).update(newest_data_at=seen)
    shown = {
        # freshness_state: product_search's annotation.
        p.product_id: p.freshness_state  # type: ignore[attr-defined]
        for p in product_search(user=analyst, params={}, now=now)
    }
    assert len(shown) == len(FRESHNESS_HOURS) * len(ages)
    for state in ("fresh", "stale", "unknown"):
        found = product_search(user=analyst, params={"freshness": state}, now=now)
        expected = sorted(pid for pid, label in shown.items() if label == state)
        assert sorted(ids(found)) == expected, state
        assert expected, state  # every state occurs, so no comparison is vacuous


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "published,bogus"}, "status"),
        ({"freshness": "rotten"}, "freshness"),
        ({"minQualityScore": "lots"}, "minQualityScore"),
        ({"minQualityScore": "101"}, "minQualityScore"),
        ({"hasPii": "maybe"}, "hasPii"),
    ],
)
def test_bad_filter_values_are_refused_naming_the_parameter(
    db: Any, analyst: Any, params: dict[str, str], field: str
) -> None:
    with pytest.raises(SearchInvalid) as caught:
        list(product_search(user=analyst, params=params))
    assert field in caught.value.errors


def test_highlight_escapes_before_marking_matches() -> None:
    out = highlight("<b>Campaign</b> & campaigns", "campaign amp")
    assert out == "&lt;b&gt;<mark>Campaign</mark>&lt;/b&gt; &amp; <mark>campaign</mark>s"


def test_highlight_without_query_only_escapes() -> None:
    assert highlight("<script>", "") == "&lt;script&gt;"


def lexemes(product: DataProduct) -> dict[str, str]:
    """``search_vector`` as {lexeme: weight letters}; PostgreSQL prints weight D as no letter."""
    text = str(DataProduct.objects.values_list("search_vector", flat=True).get(pk=product.pk))
    out: dict[str, str] = {}
    for item in text.split():
        word, _, positions = item.rpartition(":")
        out[word.strip("'")] = "".join(
            p[-1] if p[-1].isalpha() else "D" for p in positions.split(",")
        )
    return out


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="search_vector is maintained on PostgreSQL only (set DATABASE_URL=postgresql://...)",
)
def test_publish_maintains_the_stored_search_vector_on_postgres(db: Any, analyst: Any) -> None:
    fields = {"name": "Nebula Facts", "tags": ["quasar"], "description": "pulsar data"}
    product = publish("marketing.vector", **fields, schema=[col("comet_id")])
    vector = lexemes(product)
    assert vector["nebula"] == "A" and vector["quasar"] == "B"
    assert vector["comet"] == "C" and vector["pulsar"] == "D"
    # Republishing rewrites it with the new columns.
    publish("marketing.vector", **fields, schema=[col("comet_id"), col("meteor_id")], version=4)
    assert lexemes(product)["meteor"] == "C"
    assert ids(product_search(user=analyst, params={"q": "meteo nebul"})) == ["marketing.vector"]


def test_pages_concatenate_to_the_ranked_list_with_their_annotations(
    ranked_products: None, analyst: Any
) -> None:
    # product_search_page sorts primary keys only and reads each page by key: the pages must
    # still come out in ranking order, with totals right on full, short and empty pages.
    for extra in range(3):
        publish(f"finance.orbit_{extra}", name=f"Orbit {extra}", schema=[col("a")])
    qs = product_search(user=analyst, params={"q": "orbit"})
    ranked = list(qs)
    pages = [product_search_page(qs, offset=o, limit=3) for o in (0, 3, 6, 9)]
    assert [total for total, _ in pages] == [len(ranked)] * 4 == [7] * 4
    flat = [p for _, page in pages for p in page]
    assert ids(flat) == ids(ranked)
    # relevance, freshness_state: product_search's annotations.
    assert [p.relevance for p in flat] == [p.relevance for p in ranked]  # type: ignore[attr-defined]
    assert all(p.freshness_state == "unknown" for p in flat)  # type: ignore[attr-defined]
    assert pages[-1][1] == []


def test_a_page_keeps_permissions_on_drafts(marketing: Any, member: Any, outsider: Any) -> None:
    publish("marketing.visible")
    publish("marketing.secret_draft", status="draft", publishedAt=None)
    params = {"status": "any"}
    total, page = product_search_page(
        product_search(user=member, params=params), offset=0, limit=10
    )
    assert (total, sorted(ids(page))) == (2, ["marketing.secret_draft", "marketing.visible"])
    total, page = product_search_page(
        product_search(user=outsider, params=params), offset=0, limit=10
    )
    assert (total, ids(page)) == (1, ["marketing.visible"])


def test_publishing_keeps_has_pii_in_step_with_the_columns(db: Any) -> None:
    product = publish("marketing.flip", schema=[{**col("user_ref"), "pii": True}])
    assert DataProduct.objects.get(pk=product.pk).has_pii is True
    publish("marketing.flip", version=4, schema=[col("user_ref")])
    assert DataProduct.objects.get(pk=product.pk).has_pii is False


def test_the_migration_fills_has_pii_from_the_columns(db: Any) -> None:
    from importlib import import_module

    from django.apps import apps

    with_pii = publish("marketing.with", schema=[{**col("email"), "pii": True}])
    without = publish("marketing.without", schema=[col("a")])
    DataProduct.objects.update(has_pii=False)
    DataProduct.objects.filter(pk=without.pk).update(has_pii=True)
    import_module("catalog.migrations.0004_dataproduct_has_pii").fill_has_pii(apps, None)
    assert DataProduct.objects.get(pk=with_pii.pk).has_pii is True
    assert DataProduct.objects.get(pk=without.pk).has_pii is False


GIN_INDEXES = (
    "catalog_product_search_gin",
    "catalog_product_search_pub",
    "catalog_product_tags_gin",
)


def plan_of(qs: Any) -> str:
    """The plan PostgreSQL picks when scanning or sorting the table costs extra: whether an
    index *can* serve the query, independent of how few rows a test database holds."""
    with connection.cursor() as cursor:
        # What autovacuum does in a live database: flush the GIN indexes' pending lists (which
        # the planner prices as a scan of every pending entry) and gather real selectivities.
        for index in GIN_INDEXES:
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
        cursor.execute("ANALYZE catalog_dataproduct")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_incremental_sort = off")
        return str(qs.explain())


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the listing indexes are PostgreSQL plans"
)
@pytest.mark.parametrize(
    "params", [{}, {"status": "any"}, {"domain": "marketing"}, {"tag": "orbit"}]
)
def test_listings_walk_the_listing_index_instead_of_sorting_every_product(
    ranked_products: None, analyst: Any, params: dict[str, str]
) -> None:
    # The index is built on catalog.models.demoted() and rank()'s order: if either changes
    # without the other, PostgreSQL silently goes back to sorting the whole catalog per page.
    keys = product_search(user=analyst, params=params).values_list("pk")[:50]
    plan = plan_of(keys)
    assert "catalog_product_listing" in plan and "Sort" not in plan, plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL GIN index")
def test_the_tag_filter_can_use_the_tags_index(ranked_products: None, analyst: Any) -> None:
    # The filter's own SQL (jsonb containment) must be one the jsonb_path_ops index serves.
    tagged = product_search(user=analyst, params={"tag": "orbit"})
    assert ids(tagged) == ["marketing.in_tags"]
    plan = plan_of(DataProduct.objects.filter(tags__contains=["orbit"]).order_by().values("pk"))
    assert "catalog_product_tags_gin" in plan, plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL GIN indexes")
def test_the_default_text_search_reads_the_published_index(marketing: Any, analyst: Any) -> None:
    # The partial index answers "published" itself: COUNT(*) then reads no row it will not count.
    # A catalog big enough for PostgreSQL to prefer a text index over its status index.
    from catalog.search import search_index_refresh

    DataProduct.objects.bulk_create(
        DataProduct(
            product_id=f"marketing.filler_{i}",
            domain=marketing,
            name="Orbit facts" if i % 100 in (0, 5) else f"Filler {i}",
            description="Nothing to see",
            owner_team="Marketing",
            owner_contact="m@x.io",
            owner_slack_channel="#m",
            sla_freshness="24h",
            sla_availability=99.0,
            sla_query_latency_p95_ms=1000,
            status="deprecated" if i % 10 == 5 else "published",
            table=f"filler_{i}",
        )
        for i in range(3000)
    )
    search_index_refresh()
    assert product_search(user=analyst, params={"q": "orbit", "status": "any"}).count() == 60
    qs = product_search(user=analyst, params={"q": "orbit"})
    assert qs.count() == 30
    plan = plan_of(qs.order_by().values("pk"))
    assert "catalog_product_search_pub" in plan, plan
