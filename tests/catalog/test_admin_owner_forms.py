"""The product change form as a domain owner meets it (issue 12).

A sunset in the past is refused on its field; every help text renders as written; each check
type says which column and params it takes, with an example that validates; opening another
domain's product says whose it is; a save on the demo-sized catalog, with every publish gate
run against the warehouse, takes well under a second.
"""

from __future__ import annotations

import json
import statistics
import time
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from accounts.models import User
from catalog.admin import CHECK_TYPE_GUIDE, check_type_rows
from catalog.contract import CHECK_PARAMS, CHECK_TYPES, validate_contract
from catalog.models import DataProduct
from tests.catalog.test_ownership_matrix import _change_form_data
from tests.factories import contract_document
from tests.querying.fixtures_django import *  # noqa: F403

pytestmark = pytest.mark.django_db

OURS = "marketing.campaign_attribution"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def change_url(product: DataProduct) -> str:
    return f"/admin/catalog/dataproduct/{product.pk}/change/"


# --- Sunset dates -----------------------------------------------------------------------------


def deprecation_post(client: Client, product: DataProduct, sunset: Any) -> Any:
    data = _change_form_data(client, product)
    local = timezone.localtime(sunset)
    data.update(
        {
            "status": "deprecated",
            "deprecation_sunset_at_0": local.strftime("%Y-%m-%d"),
            "deprecation_sunset_at_1": local.strftime("%H:%M:%S"),
            "deprecation_reason": "moving to the multi-touch model",
            "version": product.version + 1,
        }
    )
    return client.post(change_url(product), data)


@pytest.mark.parametrize("days", [-1, -400, 0])
def test_a_sunset_date_in_the_past_is_refused_on_its_field(
    warehouse: Any, owner: Any, days: int
) -> None:
    product = DataProduct.objects.get(product_id=OURS)
    before = product.version
    # 0 days: "now", already past by the time the form is checked.
    response = deprecation_post(client_for(owner), product, timezone.now() + timedelta(days=days))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "deprecation_sunset_at" in errors
    assert "in the past" in errors["deprecation_sunset_at"][0]
    product.refresh_from_db()
    assert (product.status, product.version) == ("published", before)


def test_a_future_sunset_date_deprecates_the_product(warehouse: Any, owner: Any) -> None:
    product = DataProduct.objects.get(product_id=OURS)
    sunset = (timezone.now() + timedelta(days=90)).replace(microsecond=0)
    response = deprecation_post(client_for(owner), product, sunset)
    assert response.status_code == 302, response.content.decode()[:3000]
    product.refresh_from_db()
    assert product.status == "deprecated" and product.deprecation_sunset_at == sunset


def test_a_sunset_that_passed_since_does_not_block_other_edits(warehouse: Any, owner: Any) -> None:
    # The fixture moved this deprecated product's sunset into the past after publishing it.
    product = DataProduct.objects.get(product_id="marketing.old_attribution")
    assert product.deprecation_sunset_at < timezone.now()
    client = client_for(owner)
    data = _change_form_data(client, product)
    data["deprecation_reason"] = "superseded; see the replacement"
    data["version"] = product.version + 1
    response = client.post(change_url(product), data)
    form = response.context["adminform"].form if response.status_code == 200 else None
    assert form is None or "deprecation_sunset_at" not in form.errors


# --- Help texts and check-type hints -----------------------------------------------------------


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def test_every_help_text_on_the_product_form_renders_as_written(warehouse: Any, owner: Any) -> None:
    product = DataProduct.objects.get(product_id=OURS)
    response = client_for(owner).get(change_url(product))
    text = visible_text(response.content.decode())
    forms = [response.context["adminform"].form]
    forms += [fs.formset.empty_form for fs in response.context["inline_admin_formsets"]]
    helps = {
        f"{type(form).__name__}.{name}": str(field.help_text)
        for form in forms
        for name, field in form.fields.items()
        if field.help_text
    }
    assert len(helps) >= 15, helps  # the owner is not left guessing what a field means
    inline_helps = {k: v for k, v in helps.items() if not k.startswith("ContractProductForm")}
    main_helps = {k: v for k, v in helps.items() if k not in inline_helps}
    for key, help_text in main_helps.items():
        assert " ".join(help_text.split()) in text, key
    # Tabular inlines show help as a tooltip on the column header, escaped.
    html = response.content.decode()
    for key, help_text in inline_helps.items():
        assert f'title="{escape(help_text)}"' in html, key
    assert "marketing_campaign_attribution" in text  # the table default, spelled out


def test_every_check_type_says_what_it_needs_and_its_example_validates() -> None:
    assert set(CHECK_TYPE_GUIDE) == set(CHECK_TYPES)
    column_for = {
        "range": "revenue_cents",
        "freshness": "touchpoint_at",
        "accepted_values": "channel",
    }
    for row in check_type_rows():
        example = json.loads(row["example"])
        assert set(example) <= set(CHECK_PARAMS[row["type"]]), row
        check: dict[str, Any] = {"name": f"example_{row['type']}", "type": row["type"],
                                 "severity": "error"}  # fmt: skip
        if row["column"] == "required":
            check["column"] = column_for.get(row["type"], "campaign_id")
        if example:
            check["params"] = example
        doc = contract_document(OURS, qualityChecks=[check])
        assert validate_contract(doc) == [], (row["type"], validate_contract(doc))


def test_the_checks_inline_shows_the_check_type_table(warehouse: Any, owner: Any) -> None:
    product = DataProduct.objects.get(product_id=OURS)
    text = visible_text(client_for(owner).get(change_url(product)).content.decode())
    assert "Check types: column and params" in text
    for check_type in CHECK_TYPES:
        assert f"{check_type} {CHECK_TYPE_GUIDE[check_type][1]}" in text or check_type in text
    assert '{"maxStaleHours": 2}' in text and "minRows, maxRows" in text


# --- Another domain's product --------------------------------------------------------------------


def test_opening_another_domains_product_says_whose_it_is(warehouse: Any, outsider: Any) -> None:
    product = DataProduct.objects.get(product_id=OURS)
    response = client_for(outsider).get(change_url(product), follow=True)
    assert response.redirect_chain == [("/admin/catalog/dataproduct/", 302)]
    text = visible_text(response.content.decode())
    assert f"Data product {OURS} belongs to the Marketing domain (marketing)" in text
    assert "owner team Marketing Analytics, contact marketing-data@company.com" in text
    assert f'href="/products/{OURS}/"' in response.content.decode()


def test_another_domains_draft_still_reads_as_not_found(warehouse: Any, outsider: Any) -> None:
    draft = DataProduct.objects.get(product_id="marketing.draft_attribution")
    response = client_for(outsider).get(change_url(draft), follow=True)
    text = visible_text(response.content.decode())
    assert "doesn’t exist" in text
    assert "Marketing" not in text and "draft_attribution" not in text


def test_a_bad_object_id_still_reads_as_not_found(warehouse: Any, outsider: Any) -> None:
    for bad in ("999999", "abc", "9" * 30, "-1", "1.5", "%E2%84%AA"):
        response = client_for(outsider).get(f"/admin/catalog/dataproduct/{bad}/change/")
        assert response.status_code == 302, bad
        assert response["Location"] == "/admin/", bad  # Django's "doesn't exist", as before


# --- Speed -------------------------------------------------------------------------------------


def test_saving_a_product_on_the_demo_catalog_takes_well_under_a_second(
    tmp_path: Path, settings: Any
) -> None:
    """Every publish gate runs against the real demo warehouse, as in production."""
    settings.WAREHOUSE_URL = f"duckdb://{tmp_path / 'warehouse.duckdb'}"
    call_command("seed_demo", "--no-checks", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.PUBLISH_REQUIRE_WAREHOUSE = True
    assert DataProduct.objects.count() == 23
    owner = User.objects.get(username="maya.marketing")
    client = client_for(owner)
    product = DataProduct.objects.get(product_id="marketing.email_engagement")
    timings = []
    for attempt in range(3):
        product.refresh_from_db()
        data = _change_form_data(client, product)
        data["description"] = f"{product.description.rstrip('.')} (edit {attempt})."
        data["version"] = product.version + 1
        started = time.perf_counter()
        response = client.post(change_url(product), data)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 302, response.content.decode()[:3000]
    product.refresh_from_db()
    assert product.description.endswith("(edit 2).")
    print(f"admin product save: {', '.join(f'{t * 1000:.0f} ms' for t in timings)}")
    assert statistics.median(timings) < 1.0, timings
