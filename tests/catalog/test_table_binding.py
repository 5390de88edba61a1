"""A product's table belongs to its domain (issue 11, item 3), on every publish path.

Attacks that published before: an owner binding another domain's table, a table no product
publishes (salaries), a table another product binds, a Unicode look-alike of a table name.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from catalog.contract import parse_contract
from catalog.governance.gates import table_binding_problems
from catalog.governance.services import product_deprecate, product_retire
from catalog.models import DataProduct, Domain, TableAssignment
from catalog.services import PublishRefused, product_publish
from tests.catalog.publish_paths import PATHS, publish_via
from tests.catalog.test_publish_gates import SEED_TABLE, build_warehouse
from tests.factories import contract_document

pytestmark = pytest.mark.django_db

TABLES = ("marketing_campaign_attribution", "finance_ledger", "salaries", "marketing_copy")


@pytest.fixture
def warehouse(tmp_path: Path, settings: Any) -> str:
    """Every table exists, with the seed's columns and an e-mail in one row."""
    row = ("a1", "jane.doe@example.org", "c1", "paid", "2025-03-01", None, 100, "linear")
    url = build_warehouse(
        tmp_path / "wh.duckdb", dict.fromkeys(TABLES, SEED_TABLE), {t: [row] for t in TABLES}
    )
    settings.WAREHOUSE_URL = url
    settings.PUBLISH_REQUIRE_WAREHOUSE = True
    return url


def attempt(path: str, user: Any, table: str, product_id: str = "marketing.copy", **kw: Any):
    result = publish_via(path, user, contract_document(product_id, table=table, **kw))
    return result, DataProduct.objects.filter(product_id=product_id).exists()


def assert_refused(path: str, result: Any, message: str) -> None:
    assert not result.ok, result.text[:2000]
    assert message in result.text
    if path in ("api", "odcs"):
        assert (result.status, result.code) == (400, "TABLE_BINDING")
        assert '"table"' in result.text  # error.fields names the table


@pytest.mark.parametrize("path", PATHS)
def test_owner_cannot_bind_another_domains_table(
    path: str, warehouse: str, owner: Any, finance: Domain
) -> None:
    result, written = attempt(path, owner, "finance_ledger")
    assert_refused(
        path,
        result,
        "table finance_ledger is in domain finance's namespace (finance_*), "
        "not in domain marketing's (marketing_*)",
    )
    assert not written


@pytest.mark.parametrize("path", PATHS)
def test_owner_cannot_bind_a_table_no_domain_owns(path: str, warehouse: str, owner: Any) -> None:
    result, written = attempt(path, owner, "salaries")
    # The refusal is the binding's, before anything read the table's (personal) values.
    assert_refused(
        path,
        result,
        "table salaries is outside domain marketing's namespace (marketing_*); "
        "ask an admin to assign it to domain marketing",
    )
    assert "sampled values" not in result.text
    assert not written


@pytest.mark.parametrize("path", PATHS)
def test_owner_cannot_bind_a_table_another_product_binds(
    path: str, warehouse: str, owner: Any
) -> None:
    product_publish(actor=None, document=contract_document(), source="test")
    result, written = attempt(path, owner, "marketing_campaign_attribution")
    assert_refused(
        path,
        result,
        "table marketing_campaign_attribution is already bound by "
        "marketing.campaign_attribution (published); a table backs one live product",
    )
    assert not written


@pytest.mark.parametrize("status", ["draft", "published"])
def test_a_draft_may_not_bind_a_foreign_table_either(
    status: str, warehouse: str, owner: Any, finance: Domain
) -> None:
    # Drafts are read raw by the domain's team: binding another domain's table would expose it.
    result, written = attempt("api", owner, "finance_ledger", status=status)
    assert (result.status, result.code) == (400, "TABLE_BINDING")
    assert not written


def test_a_retired_product_releases_its_table(warehouse: str, owner: Any) -> None:
    old = product_publish(actor=None, document=contract_document(), source="test").product
    result, _ = attempt("api", owner, "marketing_campaign_attribution")
    assert result.code == "TABLE_BINDING"
    sunset = timezone.now() + timedelta(days=30)  # ahead: a sunset set in the past is refused
    product_deprecate(actor=None, product=old, sunset_at=sunset, replaced_by=None, reason="x")
    assert attempt("api", owner, "marketing_campaign_attribution")[0].code == "TABLE_BINDING"
    product_retire(actor=None, product=DataProduct.objects.get(pk=old.pk))
    result, written = attempt("api", owner, "marketing_campaign_attribution")
    assert result.ok, result.text
    assert written


@pytest.mark.parametrize("path", PATHS)
def test_an_admins_assignment_lets_the_domain_bind_the_table_and_nobody_else(
    path: str, warehouse: str, owner: Any, outsider: Any, admin_user: Any, marketing: Domain
) -> None:
    TableAssignment.objects.create(table="salaries", domain=marketing, assigned_by=admin_user)
    refused, written = attempt(path, outsider, "salaries", product_id="finance.salaries")
    assert_refused(
        path, refused, "table salaries is assigned to domain marketing, not to domain finance"
    )
    assert not written
    result, written = attempt(path, owner, "salaries")
    assert result.ok, result.text[:2000]
    assert written


def test_an_assignment_wins_over_the_prefix(
    warehouse: str, owner: Any, outsider: Any, finance: Domain
) -> None:
    TableAssignment.objects.create(table="marketing_copy", domain=finance)
    result, _ = attempt("api", owner, "marketing_copy")
    assert result.code == "TABLE_BINDING"
    assert "is assigned to domain finance, not to domain marketing" in result.text
    result, written = attempt("api", outsider, "marketing_copy", product_id="finance.copy")
    assert result.ok and written


@pytest.mark.parametrize(
    "table",
    [
        "mar\u212aeting_campaign_attribution",  # KELVIN SIGN: Python lowers it to "k"
        "marketing_campaign_attributio\u0274",  # LATIN LETTER SMALL CAPITAL N
        "\uff4darketing_copy",  # FULLWIDTH m
        "marketing_copy\u200b",  # a zero-width space after an ASCII name
        "marketing_copy\n",
    ],
)
def test_a_unicode_lookalike_table_name_is_refused(
    table: str, warehouse: str, owner: Any, api_as: Any
) -> None:
    doc = contract_document("marketing.copy", table=table)
    response = api_as(owner).put("/v1/catalog/products/marketing.copy", doc, format="json")
    assert response.status_code == 400
    assert "table" in response.json()["error"]["fields"]
    assert not DataProduct.objects.filter(product_id="marketing.copy").exists()
    # The gate itself refuses it too (the contract's name rule is not the only line).
    contract = dataclasses.replace(parse_contract(contract_document("marketing.copy")), table=table)
    problems = table_binding_problems(contract)
    assert problems and f"table {table} " in problems[0]


def test_a_lookalike_of_an_assigned_name_is_not_covered_by_the_assignment(
    warehouse: str, marketing: Domain
) -> None:
    TableAssignment.objects.create(table="kpis", domain=marketing)
    contract = parse_contract(contract_document("marketing.kpis", table="kpis"))
    assert table_binding_problems(contract) == []
    lookalike = dataclasses.replace(contract, table="\u212apis")
    [problem] = table_binding_problems(lookalike)
    assert "is not a plain ASCII SQL name and is not assigned to domain marketing" in problem


def test_a_bound_table_is_found_whatever_its_ascii_case(warehouse: str, marketing: Domain) -> None:
    product_publish(actor=None, document=contract_document(), source="test")
    DataProduct.objects.update(table="MARKETING_Campaign_Attribution")  # as an old row may be
    doc = contract_document("marketing.copy", table="marketing_campaign_attribution")
    contract = parse_contract(doc)
    [problem] = table_binding_problems(contract)
    assert "already bound by marketing.campaign_attribution" in problem


def test_seed_demo_style_system_publishes_are_held_to_the_namespace_too(
    warehouse: str, marketing: Domain, finance: Domain
) -> None:
    with pytest.raises(PublishRefused) as refused:
        product_publish(
            actor=None, document=contract_document("marketing.copy", table="finance_ledger")
        )
    assert refused.value.code == "TABLE_BINDING"


# --- who sets a domain's namespace ----------------------------------------------------------


def test_owners_cannot_change_their_domains_prefix(
    owner: Any, marketing: Domain, api_as: Any
) -> None:
    response = api_as(owner).patch(
        "/v1/catalog/domains/marketing", {"tablePrefix": "fin_"}, format="json"
    )
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "FORBIDDEN" and "tablePrefix" in error["fields"]
    marketing.refresh_from_db()
    assert marketing.effective_table_prefix == "marketing_"
    client = Client()
    client.force_login(owner)
    assert client.get(f"/admin/catalog/domain/{marketing.pk}/change/").status_code == 403
    assert client.get("/admin/catalog/tableassignment/add/").status_code == 403


def test_an_admin_moves_a_domains_namespace_and_binding_follows(
    warehouse: str, admin_user: Any, owner: Any, marketing: Domain, api_as: Any
) -> None:
    response = api_as(admin_user).patch(
        "/v1/catalog/domains/marketing", {"tablePrefix": "mkt_"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["tablePrefix"] == "mkt_"
    result, _ = attempt("api", owner, "marketing_copy")
    assert "outside domain marketing's namespace (mkt_*)" in result.text


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("MKT_", "must be lowercase ASCII"),
        ("mkt", "end with '_'"),
        ("finance_", "domain finance already uses the prefix finance_"),
    ],
)
def test_a_bad_or_taken_prefix_is_refused(
    prefix: str, message: str, admin_user: Any, marketing: Domain, finance: Domain, api_as: Any
) -> None:
    response = api_as(admin_user).patch(
        "/v1/catalog/domains/marketing", {"tablePrefix": prefix}, format="json"
    )
    assert response.status_code == 400
    assert message in response.json()["error"]["fields"]["tablePrefix"][0]
    marketing.refresh_from_db()
    assert marketing.table_prefix == ""


def test_admins_assign_tables_in_the_admin_and_are_recorded(
    admin_user: Any, marketing: Domain
) -> None:
    client = Client()
    client.force_login(admin_user)
    response = client.post(
        "/admin/catalog/tableassignment/add/",
        {"table": "salaries", "domain": marketing.pk, "note": "HR export for marketing"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assignment = TableAssignment.objects.get(table="salaries")
    assert (assignment.domain, assignment.assigned_by) == (marketing, admin_user)
    response = client.post(
        "/admin/catalog/tableassignment/add/",
        {"table": "Sal\u212aries", "domain": marketing.pk, "note": ""},
    )
    assert response.status_code == 200
    assert "lowercase ASCII SQL identifier" in response.content.decode()
