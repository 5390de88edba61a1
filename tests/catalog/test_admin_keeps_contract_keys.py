"""An admin save keeps what the product form does not show (access, inputs, warehouse).

Seen in review: the form rebuilt the contract from its own fields only, so an owner who fixed
a typo in the admin published a restricted product as open to every reader (issue 17) and
moved a product off its warehouse connection (issue 18).
"""

from __future__ import annotations

from typing import Any

from django.test import Client

from catalog.models import DataProduct, WarehouseConnection
from catalog.services import product_document, product_publish
from tests.catalog.test_ownership_matrix import _change_form_data
from tests.factories import contract_document


def _edit_in_the_admin(owner: Any, product: DataProduct) -> DataProduct:
    client = Client()
    client.force_login(owner)
    data = _change_form_data(client, product)
    data.update({"description": "A typo fixed in the admin.", "version": product.version + 1})
    answer = client.post(f"/admin/catalog/dataproduct/{product.pk}/change/", data)
    assert answer.status_code == 302, answer.content.decode()[:3000]
    return DataProduct.objects.get(pk=product.pk)


def test_an_admin_edit_keeps_a_restricted_product_restricted(marketing: Any, owner: Any) -> None:
    doc = contract_document("marketing.campaign_attribution", access="restricted")
    product = product_publish(actor=None, document=doc).product
    assert product.access == "restricted"

    edited = _edit_in_the_admin(owner, product)

    assert edited.description == "A typo fixed in the admin."
    assert edited.access == "restricted"
    assert edited.versions.order_by("-id").first().document["access"] == "restricted"


def test_an_admin_edit_keeps_the_products_warehouse_connection(
    marketing: Any, owner: Any, tmp_path: Any
) -> None:
    WarehouseConnection.objects.create(name="lake", url=f"duckdb://{tmp_path / 'lake.duckdb'}")
    doc = contract_document("marketing.campaign_attribution", warehouse="lake")
    product = product_publish(actor=None, document=doc).product
    assert product.warehouse is not None and product.warehouse.name == "lake"
    # The product's document (API body, changelog, GET-then-PUT) names it too.
    assert product_document(product)["warehouse"] == "lake"

    edited = _edit_in_the_admin(owner, product)

    assert edited.warehouse is not None and edited.warehouse.name == "lake"
    assert edited.versions.order_by("-id").first().document["warehouse"] == "lake"
