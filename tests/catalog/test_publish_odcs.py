"""ODCS v3 through the commands: export a product as ODCS, publish the ODCS back, nothing lost."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command

from catalog.contract import parse_contract
from catalog.models import DataProduct, Domain, TableAssignment
from catalog.odcs import is_odcs
from tests.catalog.test_publish_gates import build_warehouse
from tests.factories import FIXTURES

pytestmark = pytest.mark.django_db

LEDGER_TABLE = {
    "entry_id": "BIGINT",
    "card_number": "VARCHAR",
    "customer_email": "VARCHAR",
    "account_number": "VARCHAR",
    "birth_date": "TIMESTAMP",
    "full_name": "VARCHAR",
    "phone": "VARCHAR",
    "amount": "DOUBLE",
    "is_refund": "BOOLEAN",
    "currency": "VARCHAR",
    "booked_at": "TIMESTAMP WITH TIME ZONE",
    "attributes": "JSON",
    "labels": "VARCHAR[]",
}


def full_contract() -> dict[str, Any]:
    """Every field of ours, as a live (published) product.

    Its table (finance_ledger) is outside domain finance-ops' namespace (finance_ops_*): an
    admin assigned it to the domain.
    """
    doc = yaml.safe_load((FIXTURES / "full_contract.yaml").read_text())
    doc["status"] = "published"
    doc.pop("deprecation", None)
    domain = Domain.objects.create(slug=doc["domain"], name="Finance Ops")
    TableAssignment.objects.create(table=doc["table"], domain=domain, note="legacy ledger")
    return doc


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_odcs_round_trip_through_export_and_publish_keeps_every_field(
    tmp_path: Path, settings: Any
) -> None:
    doc = full_contract()
    table = doc["table"]
    settings.WAREHOUSE_URL = build_warehouse(tmp_path / "w.duckdb", {table: LEDGER_TABLE})
    settings.PUBLISH_REQUIRE_WAREHOUSE = True
    ours = tmp_path / "ours.yaml"
    ours.write_text(yaml.safe_dump(doc))
    assert run("publish", str(ours)).splitlines()[-1].endswith(": created")
    before = json.loads(run("export_contract", doc["id"], "--format", "json"))

    exported = run("export_contract", doc["id"], "--format", "odcs")
    odcs_doc = yaml.safe_load(exported)
    assert is_odcs(odcs_doc) and odcs_doc["apiVersion"].startswith("v3")
    odcs_file = tmp_path / "odcs.yaml"
    odcs_file.write_text(exported)

    assert run("publish", str(odcs_file)).splitlines()[-1] == (
        f"{doc['id']} v{doc['version']} (published): unchanged"
    )
    after = json.loads(run("export_contract", doc["id"], "--format", "json"))
    assert after == before
    assert parse_contract(before) == parse_contract({**doc, "publishedAt": before["publishedAt"]})
    assert DataProduct.objects.get(product_id=doc["id"]).versions.count() == 1


def test_an_odcs_document_creates_a_product_through_publish(tmp_path: Path, settings: Any) -> None:
    from catalog.odcs import to_odcs

    doc = full_contract()
    settings.WAREHOUSE_URL = build_warehouse(tmp_path / "w.duckdb", {doc["table"]: LEDGER_TABLE})
    settings.PUBLISH_REQUIRE_WAREHOUSE = True
    odcs_file = tmp_path / "odcs.json"
    odcs_file.write_text(json.dumps(to_odcs(parse_contract(doc)), default=str))
    assert run("publish", str(odcs_file)).splitlines()[-1].endswith(": created")
    product = DataProduct.objects.get(product_id=doc["id"])
    assert product.columns.get(name="customer_email").mask == "email"
    assert {c.type for c in product.checks.all()} >= {"custom_sql", "accepted_values", "unique"}
