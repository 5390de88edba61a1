"""Who may publish and edit what, through the API and Django admin (issue 2, point 6)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from catalog.models import ContractVersion, DataProduct
from catalog.services import product_publish
from tests.factories import contract_document

pytestmark = pytest.mark.django_db

MARKETING_ID = "marketing.campaign_attribution"
FINANCE_ID = "finance.ledger_entries"


@pytest.fixture
def marketing_product(marketing: Any) -> DataProduct:
    return product_publish(actor=None, document=contract_document(MARKETING_ID)).product


@pytest.fixture
def finance_product(finance: Any) -> DataProduct:
    return product_publish(actor=None, document=contract_document(FINANCE_ID)).product


def put(api_as: Any, user: Any, product_id: str, doc: dict[str, Any]) -> Any:
    return api_as(user).put(f"/v1/catalog/products/{product_id}", doc, format="json")


# --- API ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("owner", 200),
        ("admin_user", 200),
        ("outsider", 403),
        ("member", 403),
        ("analyst", 403),
        ("manager", 403),
        (None, 401),
    ],
)
def test_update_existing_marketing_product_by_role(
    request: Any, api_as: Any, marketing_product: DataProduct, who: str | None, expected: int
) -> None:
    user = request.getfixturevalue(who) if who else None
    doc = contract_document(MARKETING_ID, description="Changed by the API", version=4)
    response = put(api_as, user, MARKETING_ID, doc)
    assert response.status_code == expected, response.content
    marketing_product.refresh_from_db()
    changed = marketing_product.description == "Changed by the API"
    assert changed is (expected == 200)
    if expected in (401, 403):
        assert "error" in response.json()


@pytest.mark.parametrize(
    ("who", "expected"), [("owner", 201), ("admin_user", 201), ("outsider", 403), ("analyst", 403)]
)
def test_create_new_marketing_product_by_role(
    request: Any, api_as: Any, marketing: Any, who: str, expected: int
) -> None:
    user = request.getfixturevalue(who)
    response = put(api_as, user, "marketing.new_thing", contract_document("marketing.new_thing"))
    assert response.status_code == expected, response.content
    assert DataProduct.objects.filter(product_id="marketing.new_thing").exists() is (
        expected == 201
    )


def test_owner_cannot_create_product_in_another_domain(
    api_as: Any, owner: Any, finance: Any
) -> None:
    response = put(api_as, owner, "finance.sneaky", contract_document("finance.sneaky"))
    assert response.status_code == 403
    assert not DataProduct.objects.filter(product_id="finance.sneaky").exists()


def test_owner_cannot_create_a_new_domain_but_admin_can(
    api_as: Any, owner: Any, admin_user: Any
) -> None:
    doc = contract_document("sales.pipeline")
    assert put(api_as, owner, "sales.pipeline", doc).status_code == 403
    assert put(api_as, admin_user, "sales.pipeline", doc).status_code == 201


def test_invalid_body_is_400_naming_each_field(api_as: Any, owner: Any) -> None:
    doc = contract_document(MARKETING_ID)
    doc["schema"][2]["type"] = "varchar"
    doc["owner"]["contact"] = "not-an-email"
    doc["sla"]["availability"] = 120
    response = put(api_as, owner, MARKETING_ID, doc)
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert {"schema[2].type", "owner.contact", "sla.availability"} <= set(fields)
    assert not DataProduct.objects.filter(product_id=MARKETING_ID).exists()


@pytest.mark.parametrize("body", [[], "text", {"id": 5}, {}])
def test_garbage_bodies_are_400_not_500(api_as: Any, owner: Any, body: Any) -> None:
    response = put(api_as, owner, MARKETING_ID, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_CONTRACT"


def test_id_in_body_must_match_url(api_as: Any, owner: Any) -> None:
    response = put(api_as, owner, "marketing.other", contract_document(MARKETING_ID))
    assert response.status_code == 400
    assert "id" in response.json()["error"]["fields"]


def test_put_twice_keeps_one_version_and_reports_unchanged(api_as: Any, owner: Any) -> None:
    doc = contract_document(MARKETING_ID)
    first = put(api_as, owner, MARKETING_ID, doc)
    second = put(api_as, owner, MARKETING_ID, doc)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["changed"] is False
    assert ContractVersion.objects.filter(product__product_id=MARKETING_ID).count() == 1


def test_every_publish_appends_a_version_and_keeps_history(api_as: Any, owner: Any) -> None:
    put(api_as, owner, MARKETING_ID, contract_document(MARKETING_ID))
    second = contract_document(MARKETING_ID, description="second", version=4)
    put(api_as, owner, MARKETING_ID, second)
    versions = list(ContractVersion.objects.filter(product__product_id=MARKETING_ID).order_by("id"))
    assert len(versions) == 2
    assert versions[0].document["description"] != "second"
    assert versions[1].document["description"] == "second"


@pytest.mark.parametrize("who", [None])
def test_reads_need_login_or_token(api_as: Any, marketing_product: DataProduct, who: Any) -> None:
    assert api_as(None).get(f"/v1/catalog/products/{MARKETING_ID}").status_code == 401


def test_token_authentication_works(marketing_product: DataProduct, analyst: Any) -> None:
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    token = Token.objects.create(user=analyst)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(f"/v1/catalog/products/{MARKETING_ID}").status_code == 200
    client.credentials(HTTP_AUTHORIZATION="Token wrong")
    assert client.get(f"/v1/catalog/products/{MARKETING_ID}").status_code == 401


def test_contract_json_schema_is_served(api_as: Any) -> None:
    response = api_as(None).get("/v1/contracts/schema.json")
    assert response.status_code == 200
    schema = response.json()
    assert "schema" in schema["properties"] and "qualityChecks" in schema["properties"]


# --- Django admin ------------------------------------------------------------------------


def admin_client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_owner_sees_only_their_domains_products_in_admin(
    owner: Any, marketing_product: DataProduct, finance_product: DataProduct
) -> None:
    page = admin_client(owner).get("/admin/catalog/dataproduct/")
    assert page.status_code == 200
    body = page.content.decode()
    assert MARKETING_ID in body and FINANCE_ID not in body


def test_admin_sees_every_domains_products(
    admin_user: Any, marketing_product: DataProduct, finance_product: DataProduct
) -> None:
    body = admin_client(admin_user).get("/admin/catalog/dataproduct/").content.decode()
    assert MARKETING_ID in body and FINANCE_ID in body


@pytest.mark.parametrize(
    ("who", "expected"), [("owner", 200), ("outsider", 302), ("admin_user", 200)]
)
def test_change_page_access_by_role(
    request: Any, marketing_product: DataProduct, who: str, expected: int
) -> None:
    user = request.getfixturevalue(who)
    response = admin_client(user).get(f"/admin/catalog/dataproduct/{marketing_product.pk}/change/")
    assert response.status_code == expected


@pytest.mark.parametrize("who", ["analyst", "manager", "member"])
def test_non_staff_users_cannot_open_admin(
    request: Any, who: str, marketing_product: DataProduct
) -> None:
    response = admin_client(request.getfixturevalue(who)).get("/admin/catalog/dataproduct/")
    assert response.status_code == 302  # to the admin login


def _change_form_data(client: Client, product: DataProduct) -> dict[str, Any]:
    """The admin change form's current values, as the browser would post them."""
    response = client.get(f"/admin/catalog/dataproduct/{product.pk}/change/")
    form = response.context["adminform"].form
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None:
            continue
        data[name] = (
            field.widget.format_value(value)
            if hasattr(field.widget, "format_value") and name in ("tags",)
            else value
        )
    data["tags"] = form["tags"].value()
    data.pop("product_id", None)
    data.pop("domain", None)
    for formset in response.context["inline_admin_formsets"]:
        fs = formset.formset
        data.update({f"{fs.prefix}-{k}": v for k, v in fs.management_form.initial.items()})
        for index, row in enumerate(fs.forms):
            for name in row.fields:
                value = row[name].value()
                if value is None or value is False:
                    continue
                data[f"{fs.prefix}-{index}-{name}"] = value
    return {k: v for k, v in data.items() if v is not None}


def test_owner_edits_columns_inline_and_gets_contract_errors_on_the_form(
    owner: Any, marketing_product: DataProduct
) -> None:
    client = admin_client(owner)
    url = f"/admin/catalog/dataproduct/{marketing_product.pk}/change/"
    data = _change_form_data(client, marketing_product)
    # A not_null check on a column that does not exist: the contract refuses it.
    checks_prefix = next(
        k.split("-")[0] for k in data if k.endswith("-TOTAL_FORMS") and "checks" in k
    )
    data[f"{checks_prefix}-0-column"] = "no_such_column"
    response = client.post(url, data)
    assert response.status_code == 200  # re-rendered with errors, nothing saved
    assert "no_such_column" in response.content.decode()
    marketing_product.refresh_from_db()
    assert marketing_product.checks.get(position=0).column == "campaign_id"

    data = _change_form_data(client, marketing_product)
    columns_prefix = next(
        k.split("-")[0] for k in data if k.endswith("-TOTAL_FORMS") and "columns" in k
    )
    data[f"{columns_prefix}-0-description"] = "Edited inline in admin"
    data["version"] = marketing_product.version + 1  # every accepted change is a new version
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert marketing_product.columns.get(position=0).description == "Edited inline in admin"
    assert marketing_product.versions.count() == 2


def test_domain_admin_reads_a_webhook_without_scheme_as_https(admin_user: Any) -> None:
    import warnings

    from django.contrib.admin.sites import site
    from django.test import RequestFactory

    from catalog.models import Domain

    request = RequestFactory().get("/")
    request.user = admin_user  # the form's related-object widgets ask what this user may add
    form_class = site._registry[Domain].get_form(request, None)
    data = {"slug": "ops", "name": "Ops", "policy_overrides": "[]", "access_max_days": "30"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Django 5.x warns when the scheme is left to default
        # A public address, numeric so the check (which resolves the host) needs no DNS here.
        form = form_class(data={**data, "slack_webhook_url": "93.184.216.34/services/T/B/x"})
        assert form.is_valid(), form.errors
    assert form.cleaned_data["slack_webhook_url"] == "https://93.184.216.34/services/T/B/x"
