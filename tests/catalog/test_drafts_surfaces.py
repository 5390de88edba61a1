"""The draft's three doors (issue 15): ``POST /v1/catalog/drafts``, the page, the command.

One service behind them (catalog/services/drafts.py, tested in test_drafts.py); here: who may
call them, how refusals read, and the page's whole flow with the test client: pick a table,
see the draft beside its profile, check it live (the publish's dry run, errors by field),
add a column the table does not have yet (a draft may; publishing may not), publish.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from catalog.models import ContractVersion, DataProduct, Domain
from quality.services import check_run
from tests.catalog.test_drafts import TABLE, duckdb_url, table_sql
from tests.support.clients import api_client

pytestmark = pytest.mark.django_db

URL = "/v1/catalog/drafts"


@pytest.fixture
def warehouse(tmp_path: Path, settings: Any) -> str:
    settings.PUBLISH_REQUIRE_WAREHOUSE = True
    extra = "CREATE TABLE finance_ledger (id BIGINT);"
    settings.WAREHOUSE_URL = duckdb_url(tmp_path / "w.duckdb", table_sql("duckdb") + extra)
    return str(settings.WAREHOUSE_URL)


def body(**extra: Any) -> dict[str, Any]:
    return {"table": TABLE, "domain": "marketing", **extra}


# --- the API ----------------------------------------------------------------------------------


def test_owners_and_admins_get_contract_profile_and_notes(
    warehouse: str, owner: User, admin_user: User
) -> None:
    for user in (owner, admin_user):
        response = api_client(user).post(URL, body(name="Contacts"), format="json")
        assert response.status_code == 200, response.json()
        data = response.json()
        assert set(data) == {"contract", "profile", "notes"}
        assert data["contract"]["name"] == "Contacts"
        assert data["profile"]["rows"] == 600 and data["notes"]


def test_members_outsiders_and_analysts_get_403(
    warehouse: str, member: User, outsider: User, analyst: User
) -> None:
    for user in (member, outsider, analyst):
        response = api_client(user).post(URL, body(), format="json")
        assert response.status_code == 403, (user, response.json())
        assert "owners of domain marketing" in response.json()["error"]["message"]


def test_anonymous_callers_get_401(warehouse: str) -> None:
    assert api_client(None).post(URL, body(), format="json").status_code == 401


def test_an_unknown_table_is_404_naming_what_the_caller_could_mean(
    warehouse: str, owner: User
) -> None:
    response = api_client(owner).post(URL, body(table="marketing_contcts"), format="json")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "TABLE_NOT_FOUND"
    assert "did you mean marketing_contacts?" in error["message"]
    assert error["fields"]["table"]
    # Another domain's table is not named to a marketing owner, nor draftable by them.
    response = api_client(owner).post(URL, body(table="finance_ledger"), format="json")
    assert (
        response.status_code == 404 and "finance_ledger?" not in response.json()["error"]["message"]
    )


def test_unknown_domain_bad_body_bound_table_and_taken_id(
    warehouse: str, owner: User, admin_user: User
) -> None:
    api = api_client(owner)
    missing = api_client(admin_user).post(URL, body(domain="nowhere"), format="json")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "DOMAIN_NOT_FOUND"
    bad = api.post(URL, {"domain": "marketing"}, format="json")
    assert bad.status_code == 400 and "table" in bad.json()["error"]["fields"]
    bad_id = api.post(URL, body(id="finance.contacts"), format="json")
    assert bad_id.status_code == 400 and "id" in bad_id.json()["error"]["fields"]
    contract = api.post(URL, body(), format="json").json()["contract"]
    put = api.put(f"/v1/catalog/products/{contract['id']}", contract, format="json")
    assert put.status_code == 201, put.json()
    bound = api.post(URL, body(), format="json")
    assert bound.status_code == 409 and bound.json()["error"]["code"] == "TABLE_BOUND"


# --- the page ---------------------------------------------------------------------------------


def _form(html: str) -> dict[str, Any]:
    """The form's fields as a browser would post them (inputs, ticked boxes, selections)."""
    data: dict[str, Any] = {}
    form = html[html.index('id="draft-form"') :]
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name:
            continue
        kind = re.search(r'type="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if kind and kind.group(1) == "checkbox":
            if " checked" in tag:
                data[name.group(1)] = "on"
            continue
        data[name.group(1)] = _unescape(value.group(1) if value else "")
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r"<option(?: value=\"([^\"]*)\")? selected>([^<]*)<", options)
        if chosen:
            data[name] = _unescape(
                chosen.group(1) if chosen.group(1) is not None else chosen.group(2)
            )
        else:
            first = re.search(r"<option(?: value=\"([^\"]*)\")?>([^<]*)<", options)
            data[name] = _unescape(
                (first.group(1) if first.group(1) is not None else first.group(2)) if first else ""
            )
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        data[name] = _unescape(text)
    return data


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def test_the_page_offers_tables_drafts_checks_and_publishes(warehouse: str, owner: User) -> None:
    client = Client()
    client.force_login(owner)
    pick = client.get("/products/new/")
    assert pick.status_code == 200
    assert f'value="marketing/{TABLE}"' in pick.content.decode()
    assert "finance_ledger" not in pick.content.decode()
    page = client.get("/products/new/", {"source": f"marketing/{TABLE}"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "Column profile of" in html and "reach_me: 600 of 600 sampled values" in html
    form = _form(html)
    assert form["id"] == "marketing.contacts" and form["col-1-mask"] == "email"

    # Live check: the publish's dry run, problems named by field.
    broken = {**form, "owner.contact": "not an address", "chk-0-params": "{oops"}
    checked = client.post("/products/new/check/", broken).json()
    assert not checked["ok"]
    assert "chk-0-params" in checked["errors"]
    fixed = {**form, "chk-0-params": ""}
    wrong_contact = client.post("/products/new/check/", {**fixed, "owner.contact": "nope"}).json()
    assert "owner.contact" in wrong_contact["errors"], wrong_contact
    assert client.post("/products/new/check/", form).json()["ok"] is True

    # A column the table does not have yet: publishing refuses it beside the field, a draft
    # keeps it (and says it is checked once the table has it).
    new_row = int(form["col-count"]) - 1
    with_new = {**form, f"col-{new_row}-column": "loyalty_tier", f"col-{new_row}-keep": "on"}
    result = client.post("/products/new/check/", with_new).json()
    assert not result["publishable"]
    assert any(
        "checked once the table has it" in m for m in result["errors"][f"col-{new_row}-column"]
    )
    refused = client.post("/products/new/", {**with_new, "action": "publish"})
    assert refused.status_code == 400
    assert "loyalty_tier does not exist in table" in refused.content.decode()
    saved = client.post("/products/new/", {**with_new, "action": "draft"})
    assert saved.status_code == 302 and saved["Location"] == "/products/marketing.contacts/"
    product = DataProduct.objects.get(product_id="marketing.contacts")
    assert product.status == "draft"
    assert product.columns.filter(name="loyalty_tier").exists()
    warnings = [str(m) for m in client.get(saved["Location"]).context["messages"]]
    assert any("loyalty_tier" in w and "checked once the table has it" in w for w in warnings)


def test_the_page_publishes_a_product_whose_checks_pass(warehouse: str, owner: User) -> None:
    client = Client()
    client.force_login(owner)
    html = client.get("/products/new/", {"source": f"marketing/{TABLE}"}).content.decode()
    published = client.post("/products/new/", {**_form(html), "action": "publish"})
    assert published.status_code == 302, published.content.decode()[:2000]
    product = DataProduct.objects.get(product_id="marketing.contacts")
    assert product.status == "published"
    assert ContractVersion.objects.get(product=product).source == "page"
    run = check_run(product=product)
    assert run.status == "passed", [(r.check_name, r.message) for r in run.results.all()]


def test_the_page_works_without_javascript(warehouse: str, owner: User) -> None:
    client = Client()
    client.force_login(owner)
    html = client.get("/products/new/", {"source": f"marketing/{TABLE}"}).content.decode()
    assert "<script>" not in html  # the CSP forbids inline scripts; draft.js is a file
    form = _form(html)
    more = client.post("/products/new/", {**form, "action": "add_column"})
    count = int(form["col-count"])
    assert f'name="col-{count}-column"' in more.content.decode()
    checked = client.post("/products/new/", {**form, "owner.contact": "", "action": "check"})
    assert checked.status_code == 400
    page = checked.content.decode()
    assert 'data-error-for="owner.contact">must be an e-mail address' in page


def test_people_who_own_no_domain_get_403_on_the_page(
    warehouse: str, member: User, analyst: User
) -> None:
    for user in (member, analyst):
        client = Client()
        client.force_login(user)
        assert client.get("/products/new/").status_code == 403
        assert client.post("/products/new/check/", {}).status_code == 403


def test_an_unknown_table_on_the_page_says_what_you_could_mean(warehouse: str, owner: User) -> None:
    client = Client()
    client.force_login(owner)
    page = client.get("/products/new/", {"source": "marketing/marketing_contcts"})
    assert page.status_code == 404
    assert "did you mean marketing_contacts?" in page.content.decode()


def test_the_domain_page_links_owners_to_the_new_product_page(
    warehouse: str, owner: User, member: User, marketing: Domain
) -> None:
    for user, shown in ((owner, True), (member, False)):
        client = Client()
        client.force_login(user)
        html = client.get("/domains/marketing/").content.decode()
        assert ('href="/products/new/"' in html) is shown
