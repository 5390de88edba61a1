"""The admin side of governance: editing global policies, retiring products, the beat task."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from catalog.governance.selectors import global_rules
from catalog.governance.services import product_deprecate
from catalog.models import DataProduct, GovernancePolicy
from catalog.services import product_publish
from catalog.tasks import retire_sunset_products_task
from tests.catalog.test_publish_gates import SEED_TABLE, build_warehouse
from tests.factories import contract_document

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def warehouse(tmp_path: Path, settings: Any) -> None:
    settings.WAREHOUSE_URL = build_warehouse(
        tmp_path / "wh.duckdb", {"marketing_campaign_attribution": SEED_TABLE}
    )
    settings.PUBLISH_REQUIRE_WAREHOUSE = True


def test_default_policies_are_seeded_once_on_first_read() -> None:
    first = global_rules()
    assert GovernancePolicy.objects.count() == len(first)
    global_rules()
    assert GovernancePolicy.objects.count() == len(first)


def test_admin_edits_a_policy_and_is_recorded_as_its_editor(client: Any, admin_user: Any) -> None:
    global_rules()
    row = GovernancePolicy.objects.get(key="metadata.product_description")
    client.force_login(admin_user)
    response = client.post(
        f"/admin/catalog/governancepolicy/{row.pk}/change/",
        {"severity": "error", "params": '{"min_length": 20}'},
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.severity == "error" and row.params == {"min_length": 20}
    assert row.updated_by == admin_user


def test_admin_refuses_a_severity_the_engine_does_not_know(client: Any, admin_user: Any) -> None:
    global_rules()
    row = GovernancePolicy.objects.get(key="metadata.tags")
    client.force_login(admin_user)
    response = client.post(
        f"/admin/catalog/governancepolicy/{row.pk}/change/", {"severity": "fatal", "params": "{}"}
    )
    assert response.status_code == 200
    row.refresh_from_db()
    assert row.severity == "warning"


def test_domain_owners_cannot_open_the_policy_admin(client: Any, owner: Any) -> None:
    client.force_login(owner)
    assert client.get("/admin/catalog/governancepolicy/").status_code == 403


def test_retire_action_retires_deprecated_products_and_reports_refusals(
    client: Any, admin_user: Any
) -> None:
    product = product_publish(actor=None, document=contract_document(), source="test").product
    client.force_login(admin_user)
    data = {"action": "retire_products", "_selected_action": [product.pk]}
    response = client.post("/admin/catalog/dataproduct/", data, follow=True)
    # The admin capitalises messages.
    assert "Not retired: marketing.campaign_attribution: status: cannot move from published" in (
        response.content.decode()
    )
    product_deprecate(
        actor=None,
        product=product,
        sunset_at=timezone.now() + timedelta(days=30),
        replaced_by=None,
        reason="old",
    )
    response = client.post("/admin/catalog/dataproduct/", data, follow=True)
    assert "Retired: marketing.campaign_attribution" in response.content.decode()
    assert DataProduct.objects.get(pk=product.pk).status == "retired"


def test_beat_task_retires_products_past_their_sunset(settings: Any) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    product = product_publish(actor=None, document=contract_document(), source="test").product
    sunset = timezone.now() + timedelta(days=30)  # a sunset is set ahead (issue 12)...
    product_deprecate(
        actor=None, product=product, sunset_at=sunset, replaced_by=None, reason="long gone"
    )
    assert retire_sunset_products_task.delay().get() == []
    with time_machine.travel(sunset + timedelta(seconds=1), tick=False):  # ...then it passes
        assert retire_sunset_products_task.delay().get() == ["marketing.campaign_attribution"]
    assert DataProduct.objects.get(pk=product.pk).status == "retired"
