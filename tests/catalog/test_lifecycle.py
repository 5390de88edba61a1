"""The product lifecycle: draft → published → deprecated → retired, its warnings and notices."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied

from catalog.governance.lifecycle import is_queryable, product_warnings
from catalog.governance.services import product_deprecate, product_retire, retire_sunset_products
from catalog.models import ContractVersion, DataProduct
from catalog.services import PublishRefused, consumer_register, product_publish
from tests.catalog.test_publish_gates import SEED_TABLE, build_warehouse
from tests.factories import contract_document

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SUNSET = datetime(2026, 9, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    """The tests' world is at NOW, before SUNSET: a sunset is set ahead of time (issue 12)."""
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture(autouse=True)
def warehouse(tmp_path: Path, settings: Any) -> None:
    settings.WAREHOUSE_URL = build_warehouse(
        tmp_path / "wh.duckdb",
        {
            "marketing_campaign_attribution": SEED_TABLE,
            "marketing_attribution_v2": SEED_TABLE,
        },
    )
    settings.PUBLISH_REQUIRE_WAREHOUSE = True


def publish(doc: dict[str, Any]) -> DataProduct:
    return product_publish(actor=None, document=doc, source="test").product


@pytest.fixture
def product() -> DataProduct:
    return publish(contract_document())


@pytest.fixture
def successor() -> DataProduct:
    return publish(contract_document("marketing.attribution_v2", version=1))


def deprecation(**overrides: Any) -> dict[str, Any]:
    notice = {"sunsetAt": "2026-09-01T00:00:00Z", "reason": "Replaced by v2"}
    notice.update(overrides)
    return {k: v for k, v in notice.items() if v is not None}


# --- transitions ----------------------------------------------------------------------------


def test_a_new_product_cannot_start_deprecated() -> None:
    doc = contract_document(status="deprecated", deprecation=deprecation())
    with pytest.raises(PublishRefused) as refused:
        publish(doc)
    assert refused.value.code == "LIFECYCLE"
    assert "cannot move from new to deprecated" in str(refused.value.issues[0])


def test_deprecation_requires_a_sunset_date(product: DataProduct) -> None:
    doc = contract_document(status="deprecated", deprecation=deprecation(sunsetAt=None), version=4)
    with pytest.raises(PublishRefused) as refused:
        publish(doc)
    assert [str(i) for i in refused.value.issues] == [
        "deprecation.sunsetAt: required when deprecating a product"
    ]
    product.refresh_from_db()
    assert product.status == "published"


def test_replaced_by_must_name_an_existing_live_product(product: DataProduct) -> None:
    doc = contract_document(
        status="deprecated", deprecation=deprecation(replacedBy="marketing.nowhere"), version=4
    )
    with pytest.raises(PublishRefused) as refused:
        publish(doc)
    assert refused.value.issues[0].path == "deprecation.replacedBy"
    assert "no data product 'marketing.nowhere'" in refused.value.issues[0].message


def test_a_published_product_is_deprecated_before_it_is_retired(product: DataProduct) -> None:
    with pytest.raises(PublishRefused) as refused:
        product_retire(actor=None, product=product)
    assert "deprecate it first" in str(refused.value.issues[0])


def test_a_retired_product_cannot_be_published_again(
    product: DataProduct, successor: DataProduct
) -> None:
    product_deprecate(
        actor=None, product=product, sunset_at=SUNSET, replaced_by=successor.product_id, reason="v2"
    )
    product_retire(actor=None, product=DataProduct.objects.get(pk=product.pk))
    with pytest.raises(PublishRefused) as refused:
        publish(contract_document(version=9))
    assert refused.value.code == "LIFECYCLE"
    assert "a retired product cannot come back" in str(refused.value.issues[0])
    assert DataProduct.objects.get(pk=product.pk).status == "retired"


def test_a_published_product_cannot_go_back_to_draft(product: DataProduct) -> None:
    with pytest.raises(PublishRefused) as refused:
        publish(contract_document(status="draft", version=4))
    assert "cannot move from published to draft" in str(refused.value.issues[0])


def test_a_deprecation_can_be_withdrawn(product: DataProduct) -> None:
    product_deprecate(actor=None, product=product, sunset_at=SUNSET, replaced_by=None, reason="x")
    assert publish(contract_document(version=5)).status == "published"
    product.refresh_from_db()
    assert product.deprecation_sunset_at is None


def test_an_unused_draft_may_be_retired_directly() -> None:
    draft = publish(contract_document(status="draft"))
    assert product_retire(actor=None, product=draft).product.status == "retired"


# --- the services ---------------------------------------------------------------------------


def test_deprecating_publishes_a_new_version_and_emails_consumers(
    product: DataProduct,
    successor: DataProduct,
    owner: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    consumer_register(
        actor=None, product=product, team="Growth", use_case="dashboards", contact="g@x.io"
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        outcome = product_deprecate(
            actor=owner,
            product=product,
            sunset_at=SUNSET,
            replaced_by=successor.product_id,
            reason="Attribution v2 models returns",
        )
    product.refresh_from_db()
    assert product.status == "deprecated"
    assert product.deprecation_sunset_at == SUNSET
    assert product.deprecation_replaced_by == "marketing.attribution_v2"
    version = ContractVersion.objects.filter(product=product).first()
    assert version is not None and version.source == "deprecate" and version.published_by == owner
    assert version.version == product.version == 4  # every accepted change is a new version
    assert {c["kind"] for c in version.changes} == {"status_changed", "deprecation_changed"}
    assert not version.is_breaking
    assert outcome.changed
    [notice] = [m for m in mail.outbox if m.to == ["g@x.io"]]
    assert notice.subject == "[data portal] marketing.campaign_attribution is deprecated"
    assert "Reason: Attribution v2 models returns" in notice.body
    assert "Move to: marketing.attribution_v2" in notice.body
    assert "2026-09-01" in notice.body


def test_outsiders_may_not_deprecate(product: DataProduct, outsider: Any) -> None:
    with pytest.raises(PermissionDenied):
        product_deprecate(
            actor=outsider, product=product, sunset_at=SUNSET, replaced_by=None, reason="x"
        )
    product.refresh_from_db()
    assert product.status == "published"


def test_deprecation_is_not_blocked_by_a_rule_tightened_after_publication(
    product: DataProduct,
) -> None:
    from catalog.governance.selectors import global_rules
    from catalog.models import GovernancePolicy

    global_rules()
    GovernancePolicy.objects.filter(key="checks.not_null").update(
        severity="error", params={"statuses": ["published", "deprecated"]}
    )
    outcome = product_deprecate(
        actor=None, product=product, sunset_at=SUNSET, replaced_by=None, reason="old"
    )
    assert outcome.product.status == "deprecated"
    assert any("has no not_null check (policy checks.not_null)" in w for w in outcome.warnings)
    with pytest.raises(PublishRefused):  # any other change is still held to the rule
        publish(
            contract_document(
                status="deprecated",
                deprecation=deprecation(),
                description="Edited while deprecated.",
            )
        )


def test_deprecation_is_not_blocked_by_a_vanished_table(
    product: DataProduct, tmp_path: Path, settings: Any
) -> None:
    settings.WAREHOUSE_URL = build_warehouse(tmp_path / "empty.duckdb", {"other": {"x": "INT"}})
    outcome = product_deprecate(
        actor=None, product=product, sunset_at=SUNSET, replaced_by=None, reason="table dropped"
    )
    assert outcome.product.status == "deprecated"
    assert any("does not exist in the warehouse" in w for w in outcome.warnings)


def test_retire_sunset_products_retires_only_those_past_their_sunset(
    product: DataProduct, successor: DataProduct
) -> None:
    product_deprecate(actor=None, product=product, sunset_at=SUNSET, replaced_by=None, reason="old")
    assert retire_sunset_products(now=SUNSET - timedelta(seconds=1)) == []
    assert retire_sunset_products(now=SUNSET) == ["marketing.campaign_attribution"]
    assert DataProduct.objects.get(pk=product.pk).status == "retired"
    assert DataProduct.objects.get(pk=successor.pk).status == "published"


# --- what readers see -----------------------------------------------------------------------


def test_a_published_product_is_queryable_without_warnings(product: DataProduct) -> None:
    assert is_queryable(product, now=NOW)
    assert product_warnings(product, now=NOW) == []


def test_a_deprecated_product_stays_queryable_until_its_sunset_with_a_warning(
    product: DataProduct, successor: DataProduct
) -> None:
    product_deprecate(
        actor=None,
        product=product,
        sunset_at=SUNSET,
        replaced_by=successor.product_id,
        reason="v2 is better",
    )
    product.refresh_from_db()
    assert is_queryable(product, now=NOW)
    [warning] = product_warnings(product, now=NOW)
    assert warning == (
        "marketing.campaign_attribution is deprecated; it stays queryable until 2026-09-01 "
        "00:00 UTC. Use marketing.attribution_v2 instead. Reason: v2 is better."
    )
    after = SUNSET + timedelta(minutes=1)
    assert not is_queryable(product, now=after)
    assert "sunset (2026-09-01) has passed" in product_warnings(product, now=after)[0]


def test_a_retired_product_is_never_queryable(product: DataProduct) -> None:
    product_deprecate(actor=None, product=product, sunset_at=SUNSET, replaced_by=None, reason="old")
    product_retire(actor=None, product=DataProduct.objects.get(pk=product.pk))
    product.refresh_from_db()
    assert not is_queryable(product, now=NOW)
    assert product_warnings(product, now=NOW) == [
        "marketing.campaign_attribution is retired and can no longer be queried."
    ]
