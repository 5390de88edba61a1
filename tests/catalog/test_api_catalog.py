"""The write-up's catalog API: exact paths, shapes, auth, errors; plus pagination."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import TestCase
from django.utils import timezone

from catalog.api.serializers import ProductDetailSerializer
from catalog.models import Consumer, DataProduct
from catalog.services import product_publish
from tests.factories import contract_document, seed_document

SEARCH_KEYS = {
    "id",
    "domain",
    "name",
    "description",
    "owner",
    "sla",
    "tags",
    "version",
    "status",
    "lastValidated",
    "qualityScore",
}


def publish(product_id: str, **overrides: Any) -> DataProduct:
    return published(contract_document(product_id, **overrides))


def published(doc: dict[str, Any]) -> DataProduct:
    # A publish refreshes the search index on commit (a task); the test's transaction never
    # commits, so its on-commit work runs here, as the worker would run it.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return product_publish(actor=None, document=doc).product


@pytest.fixture
def seed_product(marketing: Any) -> DataProduct:
    doc = seed_document()
    doc["qualityChecks"] = [c for c in doc["qualityChecks"] if c["type"] != "custom_sql"]
    return published(doc)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/catalog/search",
        "/v1/catalog/domains",
        "/v1/catalog/products/marketing.campaign_attribution",
    ],
)
def test_anonymous_requests_get_401(db: Any, api_as: Any, path: str) -> None:
    response = api_as(None).get(path)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"


def test_anonymous_cannot_register_a_consumer(seed_product: DataProduct, api_as: Any) -> None:
    response = api_as(None).post(
        "/v1/catalog/products/marketing.campaign_attribution/consumers",
        {"team": "x", "useCase": "y", "contact": "a@b.io"},
        format="json",
    )
    assert response.status_code == 401
    assert Consumer.objects.count() == 0


def test_token_authentication_works(seed_product: DataProduct, analyst: Any) -> None:
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    token = Token.objects.create(user=analyst)
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/v1/catalog/search").status_code == 200


def test_search_returns_the_write_up_shape(
    seed_product: DataProduct, api_as: Any, analyst: Any
) -> None:
    body = api_as(analyst).get("/v1/catalog/search", {"q": "attribution"}).json()
    assert body["count"] == 1
    hit = body["products"][0]
    assert set(hit) >= SEARCH_KEYS
    assert hit["id"] == "marketing.campaign_attribution"
    assert hit["domain"] == "marketing"
    assert hit["owner"] == {
        "team": "Marketing Analytics",
        "contact": "marketing-data@company.com",
        "slackChannel": "#marketing-data",
    }
    assert hit["sla"] == {"freshness": "1h", "availability": 99.5, "queryLatencyP95Ms": 2000.0}
    assert hit["tags"] == ["marketing", "attribution", "campaigns", "revenue"]
    assert (hit["version"], hit["status"]) == (3, "published")
    assert hit["lastValidated"] is None and hit["qualityScore"] is None
    assert hit["deprecation"] is None


def test_search_filters_by_domain_and_tag_like_the_write_up(
    seed_product: DataProduct, finance: Any, api_as: Any, analyst: Any
) -> None:
    publish("finance.invoices", tags=["finance", "billing"])
    client = api_as(analyst)
    assert [
        p["id"] for p in client.get("/v1/catalog/search?domain=finance").json()["products"]
    ] == ["finance.invoices"]
    assert [p["id"] for p in client.get("/v1/catalog/search?tag=campaigns").json()["products"]] == [
        "marketing.campaign_attribution"
    ]
    assert client.get("/v1/catalog/search?tag=campaign").json()["count"] == 0


def test_search_paginates_and_keeps_the_total_count(db: Any, api_as: Any, analyst: Any) -> None:
    for i in range(5):
        publish(f"marketing.p{i}")
    client = api_as(analyst)
    first = client.get("/v1/catalog/search", {"pageSize": 2}).json()
    assert first["count"] == 5 and len(first["products"]) == 2
    assert first["previous"] is None and "page=2" in first["next"]
    last = client.get("/v1/catalog/search", {"pageSize": 2, "page": 3}).json()
    assert len(last["products"]) == 1 and last["next"] is None
    seen = {
        p["id"]
        for page in (1, 2, 3)
        for p in client.get("/v1/catalog/search", {"pageSize": 2, "page": page}).json()["products"]
    }
    assert len(seen) == 5
    beyond = client.get("/v1/catalog/search", {"pageSize": 2, "page": 9}).json()
    assert beyond["count"] == 5 and beyond["products"] == []


def test_default_page_size_is_50(db: Any, api_as: Any, analyst: Any) -> None:
    body = api_as(analyst).get("/v1/catalog/search").json()
    assert body["pageSize"] == 50 and body["page"] == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"pageSize": "201"}, "pageSize"),
        ({"pageSize": "0"}, "pageSize"),
        ({"page": "x"}, "page"),
        ({"status": "nope"}, "status"),
        ({"freshness": "old"}, "freshness"),
        ({"minQualityScore": "-1"}, "minQualityScore"),
    ],
)
def test_bad_search_parameters_get_400_naming_the_field(
    db: Any, api_as: Any, analyst: Any, query: dict[str, str], field: str
) -> None:
    response = api_as(analyst).get("/v1/catalog/search", query)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_search_labels_deprecated_products(db: Any, api_as: Any, analyst: Any) -> None:
    new = publish("marketing.new_one")
    old = publish("marketing.old_one")
    sunset = timezone.now() + timedelta(days=30)
    DataProduct.objects.filter(pk=old.pk).update(
        status="deprecated",
        deprecation_replaced_by=new.product_id,
        deprecation_sunset_at=sunset,
        deprecation_reason="superseded",
    )
    body = api_as(analyst).get("/v1/catalog/search", {"status": "any", "q": "one"}).json()
    assert [p["id"] for p in body["products"]] == ["marketing.new_one", "marketing.old_one"]
    assert body["products"][1]["deprecation"]["replacedBy"] == "marketing.new_one"
    assert body["products"][1]["deprecation"]["reason"] == "superseded"


def test_product_detail_has_contract_quality_consumers_and_changelog(
    seed_product: DataProduct, api_as: Any, analyst: Any
) -> None:
    Consumer.objects.create(product=seed_product, team="Growth", use_case="LTV", contact="g@x.io")
    body = api_as(analyst).get("/v1/catalog/products/marketing.campaign_attribution").json()
    assert body["id"] == "marketing.campaign_attribution"
    assert [c["column"] for c in body["schema"]][:2] == ["attribution_id", "user_id"]
    assert body["schema"][1]["pii"] is True
    assert [c["name"] for c in body["qualityChecks"]] == [
        "no_null_campaign_ids",
        "hourly_freshness",
        "daily_row_count",
    ]
    assert body["consumers"] == [
        {"team": "Growth", "useCase": "LTV", "kind": "team", "name": "Growth", "url": ""}
    ]
    assert isinstance(body["qualityHistory"], list)
    assert body["changelog"][0]["version"] == 3
    assert set(body["changelog"][0]) == {
        "version",
        "publishedAt",
        "recordedAt",
        "changes",
        "isBreaking",
        "source",
    }
    # The changelog's date is the one the product shows (issue 12).
    assert body["changelog"][0]["publishedAt"] == body["publishedAt"]
    assert body["warnings"] == []
    assert "lastValidated" in body and "qualityScore" in body and "slaStatus" in body
    assert "incidents" in body


def test_product_detail_keys_are_all_documented_in_the_schema(
    seed_product: DataProduct, api_as: Any, analyst: Any
) -> None:
    body = api_as(analyst).get("/v1/catalog/products/marketing.campaign_attribution").json()
    assert set(body) <= set(ProductDetailSerializer().fields)


def test_deprecated_product_detail_carries_deprecation_and_a_warning(
    db: Any, api_as: Any, analyst: Any
) -> None:
    publish("marketing.new_one")
    old = publish("marketing.old_one")
    DataProduct.objects.filter(pk=old.pk).update(
        status="deprecated",
        deprecation_replaced_by="marketing.new_one",
        deprecation_sunset_at=timezone.now() + timedelta(days=30),
        deprecation_reason="superseded",
    )
    body = api_as(analyst).get("/v1/catalog/products/marketing.old_one").json()
    assert body["deprecation"]["replacedBy"] == "marketing.new_one"
    assert "use marketing.new_one instead" in body["warnings"][0]


def test_unknown_product_is_the_write_ups_404(db: Any, api_as: Any, analyst: Any) -> None:
    response = api_as(analyst).get("/v1/catalog/products/marketing.nope")
    assert response.status_code == 404
    assert response.json() == {"error": "Not found"}


def test_drafts_are_404_for_outsiders_and_visible_to_the_team(
    marketing: Any, api_as: Any, member: Any, outsider: Any
) -> None:
    publish("marketing.wip", status="draft")
    assert api_as(outsider).get("/v1/catalog/products/marketing.wip").status_code == 404
    assert api_as(member).get("/v1/catalog/products/marketing.wip").status_code == 200


def test_domains_count_published_products_only(db: Any, api_as: Any, analyst: Any) -> None:
    publish("marketing.a")
    publish("marketing.b")
    publish("finance.c")
    publish("finance.d", status="draft")
    body = api_as(analyst).get("/v1/catalog/domains").json()
    assert body == [
        {"domain": "finance", "productCount": 1},
        {"domain": "marketing", "productCount": 2},
    ]


def test_registering_a_consumer_returns_registered_true(
    seed_product: DataProduct, api_as: Any, analyst: Any
) -> None:
    response = api_as(analyst).post(
        "/v1/catalog/products/marketing.campaign_attribution/consumers",
        {"team": "Growth", "useCase": "LTV model", "contact": "growth@company.com"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["registered"] is True
    consumer = Consumer.objects.get(product=seed_product)
    assert (consumer.team, consumer.use_case, consumer.contact) == (
        "Growth",
        "LTV model",
        "growth@company.com",
    )


def test_registering_the_same_team_twice_updates_it(
    seed_product: DataProduct, api_as: Any, analyst: Any
) -> None:
    client = api_as(analyst)
    url = "/v1/catalog/products/marketing.campaign_attribution/consumers"
    client.post(url, {"team": "Growth", "useCase": "v1", "contact": "a@company.com"}, format="json")
    second = client.post(
        url, {"team": "Growth", "useCase": "v2", "contact": "b@company.com"}, format="json"
    )
    assert second.json() == {"registered": True, "created": False}
    assert list(Consumer.objects.values_list("use_case", "contact")) == [("v2", "b@company.com")]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"team": "", "useCase": "x", "contact": "a@b.io"}, "team"),
        ({"team": "   ", "useCase": "x", "contact": "a@b.io"}, "team"),
        ({"team": "T", "useCase": "", "contact": "a@b.io"}, "useCase"),
        ({"team": "T", "useCase": "x", "contact": "not-an-email"}, "contact"),
        ({"useCase": "x", "contact": "a@b.io"}, "team"),
    ],
)
def test_invalid_consumer_bodies_get_400_naming_the_field(
    seed_product: DataProduct, api_as: Any, analyst: Any, body: dict[str, str], field: str
) -> None:
    response = api_as(analyst).post(
        "/v1/catalog/products/marketing.campaign_attribution/consumers", body, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert Consumer.objects.count() == 0


def test_non_object_consumer_body_is_a_400_not_a_500(
    seed_product: DataProduct, api_as: Any, analyst: Any
) -> None:
    response = api_as(analyst).post(
        "/v1/catalog/products/marketing.campaign_attribution/consumers", [1, 2], format="json"
    )
    assert response.status_code == 400


def test_registering_on_an_unknown_product_is_404(db: Any, api_as: Any, analyst: Any) -> None:
    response = api_as(analyst).post(
        "/v1/catalog/products/marketing.nope/consumers",
        {"team": "T", "useCase": "x", "contact": "a@b.io"},
        format="json",
    )
    assert response.status_code == 404
    # The one error shape: the write-up's {"error": "Not found"} is only for GET (issue 12).
    assert response.json()["error"]["code"] == "NOT_FOUND"
    assert "marketing.nope" in response.json()["error"]["message"]


def test_openapi_schema_documents_every_catalog_endpoint(
    db: Any, api_as: Any, analyst: Any
) -> None:
    response = api_as(analyst).get("/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/v1/catalog/search" in paths
    assert "/v1/catalog/domains" in paths
    assert {"get", "put"} <= set(paths["/v1/catalog/products/{product_id}"])
    assert "post" in paths["/v1/catalog/products/{product_id}/consumers"]
    search_params = {p["name"] for p in paths["/v1/catalog/search"]["get"]["parameters"]}
    assert {"q", "domain", "tag", "page", "pageSize", "freshness", "hasPii"} <= search_params


def test_the_openapi_schema_is_generated_once_and_garbage_parameters_cannot_fill_memory(
    db: Any, api_as: Any, analyst: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drf_spectacular.generators import SchemaGenerator

    from config.urls import SchemaApi

    monkeypatch.setattr(SchemaApi, "_generated", {})
    calls = []
    real = SchemaGenerator.get_schema

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(SchemaGenerator, "get_schema", counted)
    accept = {"HTTP_ACCEPT": "application/vnd.oai.openapi+json"}
    first = api_as(analyst).get("/v1/schema/", **accept)
    again = api_as(analyst).get("/v1/schema/", **accept)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and "/v1/catalog/search" in again.json()["paths"]
    assert len(calls) == 1
    for n in range(20):
        response = api_as(analyst).get(f"/v1/schema/?version=v{n}&lang=x{n}", **accept)
        assert response.status_code == 200
    assert len(SchemaApi._generated) <= SchemaApi._KEEP
