"""Every path into ``published`` runs every gate in full (issue 11, item 4).

The attacks that published before: a draft created before its table existed, then moved to
published with a status-only change, got PII sampling and live conformance downgraded to
warnings (an unflagged e-mail column was then read raw by analysts; a product over a missing
table was published). Each is tried through the API, an ODCS document, the admin form and
``manage.py publish``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from catalog.governance import conformance
from catalog.governance.services import product_deprecate
from catalog.models import ContractVersion, DataProduct
from catalog.services import PublishRefused, product_publish
from tests.catalog.publish_paths import PATHS, publish_via
from tests.catalog.test_publish_gates import SEED_TABLE, build_warehouse
from tests.factories import contract_document

pytestmark = pytest.mark.django_db

PRODUCT = "marketing.campaign_attribution"
TABLE = "marketing_campaign_attribution"
CONTACT = {"column": "contact_info", "type": "string", "description": "How to reach them"}
SUNSET = datetime(2099, 1, 1, tzinfo=UTC)  # a sunset must lie ahead when it is set (issue 12)


def rows(contact: str = "person{i}@example.org", n: int = 20) -> list[tuple[Any, ...]]:
    return [
        (f"a{i}", f"u{i}", "c1", "paid", "2025-03-01", None, i, "linear", contact.format(i=i))
        for i in range(n)
    ]


def point_warehouse(settings: Any, path: Path, tables: dict[str, list[tuple[Any, ...]]]) -> None:
    """Point the portal at a fresh warehouse file holding ``tables`` (name → rows)."""
    settings.WAREHOUSE_URL = build_warehouse(
        path, {t: {**SEED_TABLE, "contact_info": "VARCHAR"} for t in tables}, tables
    )
    settings.PUBLISH_REQUIRE_WAREHOUSE = True


def with_contact(**overrides: Any) -> dict[str, Any]:
    doc = contract_document(PRODUCT, **overrides)
    doc["schema"].append(dict(CONTACT))
    return doc


@pytest.fixture
def draft_before_its_table(tmp_path: Path, settings: Any, owner: Any) -> DataProduct:
    """Step one of the attack: a draft over a table that does not exist yet."""
    point_warehouse(settings, tmp_path / "empty.duckdb", {"unrelated": []})
    outcome = product_publish(actor=owner, document=with_contact(status="draft", version=1))
    assert outcome.product.status == "draft"
    assert any(f"{TABLE} does not exist" in w for w in outcome.warnings)
    return outcome.product


def test_a_status_only_publish_at_the_same_version_is_a_conflict(
    draft_before_its_table: DataProduct, owner: Any, api_as: Any, tmp_path: Path, settings: Any
) -> None:
    point_warehouse(settings, tmp_path / "later.duckdb", {TABLE: rows()})
    doc = with_contact(status="published", version=1)
    response = api_as(owner).put(f"/v1/catalog/products/{PRODUCT}", doc, format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "VERSION_CONFLICT" and "version" in error["fields"]
    assert DataProduct.objects.get(product_id=PRODUCT).status == "draft"


@pytest.mark.parametrize("path", PATHS)
def test_status_only_publish_samples_values_and_refuses_an_unflagged_email_column(
    path: str, draft_before_its_table: DataProduct, owner: Any, tmp_path: Path, settings: Any
) -> None:
    point_warehouse(settings, tmp_path / "later.duckdb", {TABLE: rows()})
    result = publish_via(path, owner, with_contact(status="published", version=2))
    assert not result.ok, result.text[:3000]
    assert "column contact_info: 20 of 20 sampled values look like personal data" in result.text
    assert "pii.sampled_values" in result.text
    if path in ("api", "odcs"):
        assert (result.status, result.code) == (400, "POLICY")
    product = DataProduct.objects.get(product_id=PRODUCT)
    assert (product.status, product.version) == ("draft", 1)
    assert ContractVersion.objects.filter(product=product).count() == 1


@pytest.mark.parametrize("path", PATHS)
def test_status_only_publish_of_a_draft_whose_table_never_came_is_refused(
    path: str, draft_before_its_table: DataProduct, owner: Any
) -> None:
    result = publish_via(path, owner, with_contact(status="published", version=2))
    assert not result.ok, result.text[:3000]
    assert f"table {TABLE} does not exist in the warehouse" in result.text
    if path in ("api", "odcs"):
        assert (result.status, result.code) == (400, "CONFORMANCE")
    assert DataProduct.objects.get(product_id=PRODUCT).status == "draft"


def test_the_flagged_column_then_publishes_through_the_same_path(
    draft_before_its_table: DataProduct, owner: Any, tmp_path: Path, settings: Any
) -> None:
    point_warehouse(settings, tmp_path / "later.duckdb", {TABLE: rows()})
    doc = with_contact(status="published", version=2)
    doc["schema"][-1]["pii"] = True
    result = publish_via("api", owner, doc)
    assert result.ok, result.text
    assert DataProduct.objects.get(product_id=PRODUCT).status == "published"


def test_every_publish_of_a_published_product_samples_its_values(
    tmp_path: Path, settings: Any, owner: Any
) -> None:
    point_warehouse(settings, tmp_path / "w1.duckdb", {TABLE: rows(contact="desk {i}")})
    product_publish(actor=owner, document=with_contact(version=1))
    # The data changes after publication: the column now holds e-mail addresses.
    point_warehouse(settings, tmp_path / "w2.duckdb", {TABLE: rows()})
    with pytest.raises(PublishRefused) as refused:
        product_publish(actor=owner, document=with_contact(version=2, description="Edited."))
    assert refused.value.code == "POLICY"
    assert refused.value.issues[0].path == "schema[8].pii"


def test_deprecating_stays_possible_but_withdrawing_the_deprecation_runs_every_gate(
    tmp_path: Path, settings: Any, owner: Any
) -> None:
    point_warehouse(settings, tmp_path / "w1.duckdb", {TABLE: rows(contact="desk {i}")})
    product = product_publish(actor=owner, document=with_contact(version=1)).product
    point_warehouse(settings, tmp_path / "w2.duckdb", {TABLE: rows()})
    # Moving away from published is the remedy, so it is not blocked (warnings only).
    outcome = product_deprecate(
        actor=owner, product=product, sunset_at=SUNSET, replaced_by=None, reason="x"
    )
    assert outcome.product.status == "deprecated"
    assert any("contact_info" in w and "personal data" in w for w in outcome.warnings)
    # Back to published (deprecated → published, nothing else changed) is held to every gate.
    doc = with_contact(version=3)
    with pytest.raises(PublishRefused) as refused:
        product_publish(actor=owner, document=doc)
    assert refused.value.code == "POLICY"
    assert DataProduct.objects.get(pk=product.pk).status == "deprecated"


def test_deprecating_a_product_whose_table_vanished_is_allowed_publishing_it_is_not(
    tmp_path: Path, settings: Any, owner: Any
) -> None:
    point_warehouse(settings, tmp_path / "w1.duckdb", {TABLE: rows(contact="desk {i}")})
    product = product_publish(actor=owner, document=with_contact(version=1)).product
    point_warehouse(settings, tmp_path / "w2.duckdb", {"unrelated": []})
    outcome = product_deprecate(
        actor=owner, product=product, sunset_at=SUNSET, replaced_by=None, reason="x"
    )
    assert outcome.product.status == "deprecated"
    with pytest.raises(PublishRefused) as refused:
        product_publish(actor=owner, document=with_contact(version=3))
    assert refused.value.code == "CONFORMANCE"


def test_values_that_cannot_be_sampled_refuse_a_published_product(
    tmp_path: Path, settings: Any, owner: Any, monkeypatch: Any
) -> None:
    point_warehouse(settings, tmp_path / "w.duckdb", {TABLE: rows()})
    # The table conforms, but reading its values fails (a timeout, a lock...).
    monkeypatch.setattr(conformance, "sample_values", lambda *a, **k: None)
    with pytest.raises(PublishRefused) as refused:
        product_publish(actor=owner, document=with_contact(version=1))
    assert refused.value.code == "POLICY"
    [issue] = refused.value.issues
    assert issue.path == "table"
    assert "could not be sampled" in issue.message
    # A draft is not refused for it (the team alone reads it), only warned.
    outcome = product_publish(actor=owner, document=with_contact(version=1, status="draft"))
    assert any("could not be sampled" in w for w in outcome.warnings)


# --- custom SQL is gated at publish ------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT count(*) FROM finance_ledger",
        "SELECT count(*) FROM hr_salaries WHERE salary > 0",
        "DROP TABLE marketing_campaign_attribution",
        "SELECT count(*) FROM read_csv('/etc/passwd')",
        "SELECT 1; SELECT 2",
        "SELECT count(*) FROM information_schema.tables",
        "SELECT count(*) FROM mar\u212aeting_campaign_attribution",
    ],
)
@pytest.mark.parametrize("status", ["published", "draft"])
def test_custom_sql_the_gate_would_refuse_is_refused_at_publish(
    sql: str, status: str, tmp_path: Path, settings: Any, owner: Any, api_as: Any
) -> None:
    point_warehouse(settings, tmp_path / "w.duckdb", {TABLE: rows(contact="desk {i}")})
    doc = with_contact(status=status, version=1)
    doc["qualityChecks"].append(
        {"name": "sneaky", "type": "custom_sql", "params": {"sql": sql}, "severity": "error"}
    )
    index = len(doc["qualityChecks"]) - 1
    response = api_as(owner).put(f"/v1/catalog/products/{PRODUCT}", doc, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "CUSTOM_SQL"
    [message] = error["fields"][f"qualityChecks[{index}].params.sql"]
    # The reason is the gate's own (quality.checks.gate_custom_sql words it).
    assert message.startswith("check sneaky: ") and len(message) > len("check sneaky: ")
    assert not DataProduct.objects.filter(product_id=PRODUCT).exists()


def test_custom_sql_over_its_own_product_publishes(
    tmp_path: Path, settings: Any, owner: Any
) -> None:
    point_warehouse(settings, tmp_path / "w.duckdb", {TABLE: rows(contact="desk {i}")})
    doc = with_contact(version=1)
    doc["qualityChecks"].append(
        {
            "name": "paid_only",
            "type": "custom_sql",
            "params": {"sql": "SELECT count(*) FROM campaign_attribution WHERE channel <> 'paid'"},
            "severity": "error",
        }
    )
    assert product_publish(actor=owner, document=doc).created
