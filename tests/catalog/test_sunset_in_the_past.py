"""A sunset that is new or moved must lie ahead, on every path; one that merely passed stays.

Issue 12 refused a past sunset in the admin form only; the lifecycle gate now refuses it for
every publish (API, ODCS, admin, ``manage.py publish``, the deprecate endpoint), whatever the
offset it is written with. A deprecated product whose sunset has since passed can still be
edited and retired: consumers were told in time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import time_machine
from django.utils import timezone as django_timezone
from rest_framework.test import APIClient

from catalog.contract import format_datetime
from catalog.governance.lifecycle import sunset_in_past
from catalog.governance.services import product_deprecate, product_retire
from catalog.models import ContractVersion, DataProduct
from catalog.services import PublishRefused, product_publish
from tests.catalog.publish_paths import PATHS, publish_via
from tests.catalog.test_publish_gates import warehouse  # noqa: F401 - the fixture
from tests.factories import contract_document

# The seed's table in a real DuckDB file, checked at publish (test_publish_gates.warehouse).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("warehouse")]

PRODUCT = "marketing.campaign_attribution"
# How far in the past, and how the date is written: digits in a far-east offset can read as
# "later today" while the instant has passed.
AGES = [timedelta(seconds=5), timedelta(hours=3), timedelta(days=400), timedelta(days=30 * 365)]
OFFSETS = [UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))]


@pytest.fixture
def product(owner: Any) -> DataProduct:
    return product_publish(actor=owner, document=contract_document(), source="test").product


def written(at: datetime, offset: timezone) -> str:
    """``at`` as a contract states it, in ``offset`` (``Z`` for UTC)."""
    text = at.astimezone(offset).replace(microsecond=0).isoformat()
    return text.replace("+00:00", "Z")


def deprecated(sunset: str, **overrides: Any) -> dict[str, Any]:
    return contract_document(
        status="deprecated", deprecation={"sunsetAt": sunset, "reason": "moving on"}, **overrides
    )


def versions() -> int:
    return ContractVersion.objects.filter(product__product_id=PRODUCT).count()


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("age", AGES, ids=str)
def test_a_new_sunset_in_the_past_is_refused_on_every_path(
    path: str, age: timedelta, product: DataProduct, owner: Any
) -> None:
    before = versions()
    sunset = written(django_timezone.now() - age, OFFSETS[len(path) % len(OFFSETS)])
    result = publish_via(path, owner, deprecated(sunset, version=4))
    assert not result.ok
    assert "in the past" in result.text
    if path in ("api", "odcs"):
        assert (result.status, result.code) == (400, "LIFECYCLE")
        assert "deprecation.sunsetAt" in result.text
    assert versions() == before
    assert DataProduct.objects.get(product_id=PRODUCT).status == "published"


@pytest.mark.parametrize("offset", OFFSETS, ids=str)
def test_the_deprecate_endpoint_refuses_a_past_sunset_naming_the_field(
    offset: timezone, product: DataProduct, owner: Any
) -> None:
    client = APIClient()
    client.force_authenticate(owner)
    past = written(django_timezone.now() - timedelta(minutes=1), offset)
    response = client.post(
        f"/v1/governance/products/{PRODUCT}/deprecate",
        {"sunsetAt": past, "reason": "old"},
        format="json",
    )
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "LIFECYCLE"
    assert list(error["fields"]) == ["deprecation.sunsetAt"]
    assert versions() == 1


@pytest.mark.parametrize("offset", OFFSETS, ids=str)
def test_a_future_sunset_in_any_offset_is_accepted(
    offset: timezone, product: DataProduct, owner: Any
) -> None:
    sunset = written(django_timezone.now() + timedelta(hours=1), offset)
    outcome = product_publish(actor=owner, document=deprecated(sunset, version=4))
    assert outcome.product.status == "deprecated"


def test_moving_a_sunset_into_the_past_is_refused_and_later_is_accepted(
    product: DataProduct, owner: Any
) -> None:
    sunset = django_timezone.now() + timedelta(days=30)
    product_deprecate(actor=owner, product=product, sunset_at=sunset, replaced_by=None, reason="x")
    earlier = django_timezone.now() - timedelta(days=1)
    with pytest.raises(PublishRefused) as refused:
        product_deprecate(
            actor=owner, product=DataProduct.objects.get(pk=product.pk),
            sunset_at=earlier, replaced_by=None, reason="x",
        )  # fmt: skip
    assert refused.value.code == "LIFECYCLE"
    assert [i.path for i in refused.value.issues] == ["deprecation.sunsetAt"]
    later = sunset + timedelta(days=30)
    outcome = product_deprecate(
        actor=owner, product=DataProduct.objects.get(pk=product.pk),
        sunset_at=later, replaced_by=None, reason="x",
    )  # fmt: skip
    assert outcome.product.deprecation_sunset_at == later


def test_a_sunset_that_merely_passed_blocks_neither_edits_nor_retiring(
    product: DataProduct, owner: Any
) -> None:
    sunset = (django_timezone.now() + timedelta(days=30)).replace(microsecond=0)
    product_deprecate(actor=owner, product=product, sunset_at=sunset, replaced_by=None, reason="x")
    with time_machine.travel(sunset + timedelta(days=2), tick=False):
        edited = deprecated(format_datetime(sunset), version=6, description="Still here.")
        outcome = product_publish(actor=owner, document=edited)
        assert outcome.changed and outcome.product.description == "Still here."
        # The same passed date in another offset is the same sunset: not "moved".
        same = written(sunset, OFFSETS[1])
        again = deprecated(same, version=7, description="Still here, again.")
        assert product_publish(actor=owner, document=again).changed
        retired = product_retire(actor=owner, product=DataProduct.objects.get(pk=product.pk))
        assert retired.product.status == "retired"


@pytest.mark.parametrize("age", [*AGES, timedelta(0)], ids=str)
def test_the_rule_is_about_instants_set_or_moved(age: timedelta) -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    past = now - age
    for offset in OFFSETS:
        same_instant = past.astimezone(offset)
        assert sunset_in_past(same_instant, None, now=now)  # new
        assert sunset_in_past(same_instant, now + timedelta(days=1), now=now)  # moved back
        assert not sunset_in_past(same_instant, past, now=now)  # unchanged, whatever offset
    assert not sunset_in_past(now + timedelta(seconds=1), None, now=now)
    assert not sunset_in_past(None, past, now=now)  # no sunset: the "required" rule's business
