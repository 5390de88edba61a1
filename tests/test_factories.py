"""The factories build rows the app accepts, and ``from_document`` writes what a publish writes."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Model

from catalog.models import DataProduct
from catalog.services import product_publish
from tests.factories import (
    CheckResultFactory,
    CheckRunFactory,
    ColumnFactory,
    ConsumerFactory,
    ContractVersionFactory,
    DataProductFactory,
    IncidentFactory,
    QualityCheckFactory,
    QueryLogFactory,
    contract_document,
)

pytestmark = pytest.mark.django_db

FACTORIES = [
    DataProductFactory,
    ColumnFactory,
    QualityCheckFactory,
    ContractVersionFactory,
    ConsumerFactory,
    CheckRunFactory,
    CheckResultFactory,
    IncidentFactory,
    QueryLogFactory,
]


@pytest.mark.parametrize("factory_class", FACTORIES, ids=lambda f: f.__name__)
def test_every_factory_builds_a_row_that_passes_the_models_validation(factory_class: Any) -> None:
    row: Model = factory_class.create()
    row.full_clean()
    assert type(row)._default_manager.filter(pk=row.pk).exists()


def _rows(product: DataProduct) -> dict[str, Any]:
    fields = [
        "name", "description", "owner_team", "owner_contact", "owner_slack_channel",
        "sla_freshness", "sla_availability", "sla_query_latency_p95_ms", "tags", "version",
        "published_at", "status", "table", "has_pii",
    ]  # fmt: skip
    return {
        "product": {f: getattr(product, f) for f in fields},
        "columns": list(
            product.columns.order_by("position").values(
                "position", "name", "type", "description", "pii", "nullable", "mask"
            )
        ),
        "checks": list(
            product.checks.order_by("position").values(
                "position", "name", "type", "column", "params", "severity"
            )
        ),
        "versions": list(product.versions.values_list("version", "document")),
    }


@pytest.mark.parametrize(
    "overrides",
    [{}, {"status": "draft", "version": 1}, {"tags": [], "publishedAt": None}],
    ids=["seed", "draft", "undated"],
)
def test_from_document_writes_the_rows_a_publish_of_the_same_document_writes(
    marketing: Any, overrides: dict[str, Any]
) -> None:
    document = contract_document("marketing.published_one", **overrides)
    published = product_publish(actor=None, document=document).product
    rows = _rows(published)
    DataProduct.objects.filter(pk=published.pk).delete()
    # An undated document is dated when it is written: the same moment for both.
    built = DataProductFactory.from_document(document, now=published.published_at)
    assert _rows(built) == rows
    assert built.domain == marketing


def test_a_factory_product_with_columns_and_checks_reads_back_through_the_api(
    api_as: Any, analyst: Any
) -> None:
    product = DataProductFactory.create(columns=3, checks=2)
    ContractVersionFactory.create(product=product)
    body = api_as(analyst).get(f"/v1/catalog/products/{product.product_id}").json()
    assert body["id"] == product.product_id
    assert [c["column"] for c in body["schema"]] == ["column_0", "column_1", "column_2"]
    assert [q["column"] for q in body["qualityChecks"]] == ["column_0", "column_0"]
