"""Writes to one product are serialised (issue 13, item 2), with real threads and connections.

Run on PostgreSQL by setting DATABASE_URL (CI's second run does); they run on SQLite too.
A gate that waits on a barrier makes the race certain: every thread has been judged against
the same latest version before any of them writes.

What held before: two different bodies with the same version both got 200 and two
"version 3" rows were stored; v+1 and v+2 sent together left the product on the lower version.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from catalog.governance.gates import Candidate, GateResult
from catalog.models import Consumer, ContractVersion, DataProduct
from catalog.services import (
    ConsumerTaken,
    PublishConflict,
    PublishRefused,
    consumer_register,
    product_publish,
    publish,
)
from tests.catalog.test_publish_gates import SEED_TABLE, build_warehouse
from tests.factories import UserFactory, contract_document

pytestmark = pytest.mark.django_db(transaction=True)

PRODUCT = "marketing.campaign_attribution"
TIMEOUT_S = 30


@pytest.fixture
def warehouse(tmp_path: Path, settings: Any) -> str:
    tables = {"marketing_campaign_attribution": SEED_TABLE, "marketing_shared": SEED_TABLE}
    settings.WAREHOUSE_URL = build_warehouse(tmp_path / "wh.duckdb", tables)
    settings.PUBLISH_REQUIRE_WAREHOUSE = True
    return settings.WAREHOUSE_URL


@pytest.fixture
def rendezvous(monkeypatch: Any) -> Iterator[Callable[[int], None]]:
    """``rendezvous(n)``: the next n publishes all pass the gates before any of them writes."""
    state: dict[str, Any] = {"barrier": None}
    seen = threading.local()

    last_gate = publish.conformance_gate

    def gate(candidate: Candidate) -> GateResult:
        result = last_gate(candidate)
        barrier = state["barrier"]
        if barrier is not None and not getattr(seen, "waited", False):
            seen.waited = True  # only the first round: a re-judged publish goes straight on
            barrier.wait(timeout=TIMEOUT_S)
        return result

    # The pipeline's last gate, then the wait: every publish is judged before any writes.
    monkeypatch.setattr(publish, "conformance_gate", gate)

    def arm(n: int) -> None:
        state["barrier"] = threading.Barrier(n)

    yield arm


def in_threads(*calls: Callable[[], Any]) -> list[Any]:
    """Run each call in its own thread (own database connection); results or exceptions."""
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT_S)
        assert not thread.is_alive(), "a publish hung"
    return results


def history() -> list[tuple[int, str]]:
    return list(
        ContractVersion.objects.filter(product__product_id=PRODUCT)
        .order_by("id")
        .values_list("version", "document__description")
    )


@pytest.fixture
def v3(warehouse: str, marketing: Any) -> DataProduct:
    return product_publish(actor=None, document=contract_document(), source="test").product


def put_as(user: Any, doc: dict[str, Any]) -> Callable[[], Any]:
    def call() -> Any:
        client = APIClient()
        client.force_authenticate(user)
        return client.put(f"/v1/catalog/products/{PRODUCT}", doc, format="json")

    return call


def test_the_same_version_twice_is_accepted_once_and_the_other_gets_409(
    v3: DataProduct, owner: Any, rendezvous: Callable[[int], None]
) -> None:
    rendezvous(2)
    first = contract_document(version=4, description="First body.")
    second = contract_document(version=4, description="Second body.")
    responses = in_threads(put_as(owner, first), put_as(owner, second))
    assert sorted(r.status_code for r in responses) == [200, 409], [r.content for r in responses]
    [loser] = [r for r in responses if r.status_code == 409]
    error = loser.json()["error"]
    assert error["code"] == "VERSION_CONFLICT"
    assert "version 4 of marketing.campaign_attribution is already published" in error["message"]
    [winner] = [r for r in responses if r.status_code == 200]
    stored = history()
    assert [v for v, _ in stored] == [3, 4]  # one row per version
    product = DataProduct.objects.get(product_id=PRODUCT)
    assert product.version == 4
    assert product.description == winner.json()["product"]["description"] == stored[-1][1]


@pytest.mark.parametrize("trial", range(6))
def test_v_plus_1_and_v_plus_2_together_never_leave_the_lower_version(
    trial: int, v3: DataProduct, rendezvous: Callable[[int], None]
) -> None:
    rendezvous(2)
    four = contract_document(version=4, description="Four.")
    five = contract_document(version=5, description="Four.", tags=["marketing", "five"])
    results = in_threads(
        lambda: product_publish(actor=None, document=four, source="test"),
        lambda: product_publish(actor=None, document=five, source="test"),
    )
    assert not isinstance(results[1], Exception), results[1]  # v5 always goes in
    assert DataProduct.objects.get(product_id=PRODUCT).version == 5
    versions = [v for v, _ in history()]
    assert versions == sorted(set(versions)), versions  # ascending, one row each
    if isinstance(results[0], Exception):  # v5 was written first: v4 would go down
        assert isinstance(results[0], PublishConflict)
        assert results[0].code == "VERSION_CONFLICT"
        assert versions == [3, 5]
    else:
        # v4 first: v5 was judged again against v4, the version it follows, so its recorded
        # changes are the tags only (its description equals v4's).
        assert versions == [3, 4, 5]
        last = ContractVersion.objects.filter(product__product_id=PRODUCT).order_by("-id")[0]
        assert [c["path"] for c in last.changes] == ["tags"]


def test_many_concurrent_publishes_leave_the_highest_accepted_version(
    v3: DataProduct, rendezvous: Callable[[int], None]
) -> None:
    docs = [contract_document(version=v, description=f"v{v}") for v in (4, 4, 5, 6, 6, 7)]
    rendezvous(len(docs))
    results = in_threads(
        *[lambda d=d: product_publish(actor=None, document=d, source="test") for d in docs]
    )
    for result in results:
        assert not isinstance(result, Exception) or isinstance(result, PublishConflict), result
    versions = [v for v, _ in history()]
    assert versions == sorted(set(versions))
    assert DataProduct.objects.get(product_id=PRODUCT).version == versions[-1] == 7


def test_two_new_products_cannot_both_take_one_free_table(
    warehouse: str, marketing: Any, owner: Any, rendezvous: Callable[[int], None]
) -> None:
    rendezvous(2)
    docs = [contract_document(f"marketing.{name}", table="marketing_shared") for name in ("a", "b")]
    results = in_threads(
        *[lambda d=d: product_publish(actor=owner, document=d, source="test") for d in docs]
    )
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1, results
    assert isinstance(refused[0], PublishRefused) and refused[0].code == "TABLE_BINDING"
    assert "already bound by" in str(refused[0])
    assert DataProduct.objects.filter(table="marketing_shared").count() == 1


def test_two_creations_of_one_product_write_it_once(
    warehouse: str, marketing: Any, rendezvous: Callable[[int], None]
) -> None:
    rendezvous(2)
    same = contract_document()
    results = in_threads(
        lambda: product_publish(actor=None, document=same, source="test"),
        lambda: product_publish(actor=None, document=same, source="test"),
    )
    assert not any(isinstance(r, Exception) for r in results), results
    assert sorted(r.created for r in results) == [False, True]
    assert [v for v, _ in history()] == [3]


def test_concurrent_registrations_of_one_team_keep_the_first_registrant(
    warehouse: str, marketing: Any, v3: DataProduct
) -> None:
    users = [UserFactory.create(username=f"user{i}") for i in range(4)]
    results = in_threads(
        *[
            lambda u=u: consumer_register(
                actor=u, product=v3, team="Growth", use_case="x", contact=f"{u.username}@co.io"
            )
            for u in users
        ]
    )
    created = [r for r in results if not isinstance(r, Exception)]
    assert len(created) == 1 and created[0][1] is True, results
    assert all(isinstance(r, ConsumerTaken) for r in results if isinstance(r, Exception))
    consumer = Consumer.objects.get(product=v3, team="Growth")
    assert consumer.contact == f"{consumer.registered_by.username}@co.io"


@pytest.mark.django_db
def test_an_admin_save_that_loses_a_race_says_so_and_saves_nothing(
    v3: DataProduct, owner: Any, monkeypatch: Any
) -> None:
    from django.test import Client

    from catalog import admin as catalog_admin
    from tests.catalog.test_publish_gates import admin_post_data

    real = catalog_admin.product_publish

    def racing(**kw: Any) -> Any:
        if not kw.get("dry_run"):  # between the form's check and the save, someone publishes v4
            real(actor=None, document=contract_document(version=4, description="Theirs."))
        return real(**kw)

    monkeypatch.setattr(catalog_admin, "product_publish", racing)
    client = Client()
    client.force_login(owner)
    data = admin_post_data(v3)
    data.update(description="Mine.", version=4)
    response = client.post(f"/admin/catalog/dataproduct/{v3.pk}/change/", data, follow=True)
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert response.redirect_chain == [(f"/admin/catalog/dataproduct/{v3.pk}/change/", 302)]
    assert "Not saved: version: version 4 of marketing.campaign_attribution is already" in page
    assert DataProduct.objects.get(pk=v3.pk).description == "Theirs."
    assert [v for v, _ in history()] == [3, 4]
