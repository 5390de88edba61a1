"""Lineage the portal enforces (issue 16): contracts' inputs, named consumers, the lineage API
and page, impact analysis of breaking changes (API, admin message, e-mails, the CLI)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.lineage import product_impact, product_lineage
from catalog.lineage_graph import Graph, Node, find_cycle, impact_of, product_key
from catalog.models import Consumer, ConsumerChange, DataProduct
from catalog.services import (
    PublishRefused,
    consumer_register,
    consumer_withdraw,
    consumers_notify,
    product_publish,
)
from tests.factories import contract_document

pytestmark = pytest.mark.django_db


def publish(product_id: str, **overrides: Any) -> DataProduct:
    return product_publish(
        actor=None, document=contract_document(product_id, **overrides), source="test"
    ).product


def chain(marketing: Any) -> dict[str, DataProduct]:
    """a ← b ← c (c is built from b, b from a), and a dashboard on c."""
    a = publish("marketing.orders")
    b = publish("marketing.revenue", inputs=["marketing.orders"])
    c = publish("marketing.board_kpis", inputs=["marketing.revenue"])
    consumer_register(
        actor=None,
        product=c,
        team="Executive office",
        use_case="weekly",
        contact="ceo@example.com",
        kind="dashboard",
        name="Executive / CEO dashboard",
        url="https://bi.example.com/ceo",
    )
    return {"a": a, "b": b, "c": c}


def breaking(product: DataProduct, version: int) -> dict[str, Any]:
    """The product's contract with its first column removed (a breaking change)."""
    doc = contract_document(product.product_id, version=version)
    removed = doc["schema"][0]["column"]
    doc["schema"] = doc["schema"][1:]
    doc["qualityChecks"] = [c for c in doc["qualityChecks"] if c.get("column") != removed]
    return doc


# --- inputs at publish --------------------------------------------------------------------


def test_publishing_inputs_records_the_product_as_a_consumer_of_each(marketing: Any) -> None:
    products = chain(marketing)
    link = Consumer.objects.get(product=products["a"], kind="product")
    assert link.downstream == products["b"] and link.name == "marketing.revenue"
    assert ConsumerChange.objects.filter(
        product=products["a"], name="marketing.revenue", action="registered"
    ).exists()


def test_dropping_an_input_withdraws_the_link_and_keeps_it_in_the_history(marketing: Any) -> None:
    products = chain(marketing)
    publish("marketing.revenue", version=4, inputs=[])
    assert not Consumer.objects.filter(product=products["a"], kind="product").exists()
    former = product_lineage(user=None, product=products["a"]).former
    assert [(c.name, c.action) for c in former] == [("marketing.revenue", "withdrawn")]


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (["marketing.nothing_here"], "no data product 'marketing.nothing_here'"),
        (["marketing.board_kpis"], "cycle"),
    ],
)
def test_unknown_inputs_and_cycles_are_refused_at_publish(
    marketing: Any, inputs: list[str], message: str
) -> None:
    chain(marketing)
    with pytest.raises(PublishRefused) as refused:
        publish("marketing.orders", version=4, inputs=inputs)
    assert refused.value.code == "LINEAGE"
    assert message in str(refused.value)
    assert not Consumer.objects.filter(downstream__product_id="marketing.orders").exists()


def test_a_cycle_message_names_the_loop(marketing: Any) -> None:
    chain(marketing)
    with pytest.raises(PublishRefused) as refused:
        publish("marketing.orders", version=4, inputs=["marketing.board_kpis"])
    assert "marketing.orders → marketing.revenue → marketing.board_kpis → marketing.orders" in str(
        refused.value
    )


def test_a_retired_product_cannot_be_an_input(marketing: Any) -> None:
    publish("marketing.orders")
    DataProduct.objects.filter(product_id="marketing.orders").update(status="retired")
    with pytest.raises(PublishRefused) as refused:
        publish("marketing.revenue", inputs=["marketing.orders"])
    assert "retired" in str(refused.value)


def test_a_product_cannot_name_itself_as_input() -> None:
    from catalog.contract import ContractError, parse_contract

    with pytest.raises(ContractError) as bad:
        parse_contract(contract_document("marketing.orders", inputs=["marketing.orders"]))
    assert "own input" in str(bad.value)


@pytest.mark.parametrize("size", [2, 3, 5, 8])
def test_find_cycle_sees_every_loop_length_and_no_false_one(size: int) -> None:
    ids = [f"d.p{i}" for i in range(size)]
    downstream = {ids[i]: [ids[i + 1]] for i in range(size - 1)}  # p0 → p1 → … → pN-1
    assert find_cycle(ids[0], [ids[-1]], downstream) == [*ids, ids[0]]
    assert find_cycle(ids[-1], [ids[0]], downstream) == []  # the same direction: no loop
    assert find_cycle(ids[0], ["d.elsewhere"], downstream) == []


# --- impact analysis ----------------------------------------------------------------------


def test_impact_is_transitive_products_and_consumers_with_their_path(marketing: Any) -> None:
    products = chain(marketing)
    impact = product_impact(products["a"])
    assert [(p.node.product_id, p.depth, p.via) for p in impact.products] == [
        ("marketing.revenue", 1, ("marketing.orders",)),
        ("marketing.board_kpis", 2, ("marketing.orders", "marketing.revenue")),
    ]
    [dashboard] = impact.consumers
    assert dashboard.node.name == "Executive / CEO dashboard" and dashboard.depth == 3
    assert dashboard.uses == "marketing.board_kpis"
    assert impact.summary() == "1 consumer and 2 downstream products"


def test_a_refused_breaking_change_lists_everything_downstream_in_the_error_body(
    marketing: Any, owner: Any, api_as: Any
) -> None:
    products = chain(marketing)
    answer = api_as(owner).put(
        "/v1/catalog/products/marketing.orders", breaking(products["a"], 3), format="json"
    )
    # A breaking change without a higher version: 400, naming what it would have broken.
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "BREAKING_CHANGE"
    impact = error["impact"]
    assert [p["id"] for p in impact["products"]] == ["marketing.revenue", "marketing.board_kpis"]
    assert impact["consumers"][0]["name"] == "Executive / CEO dashboard"
    assert impact["consumers"][0]["via"] == [
        "marketing.orders",
        "marketing.revenue",
        "marketing.board_kpis",
    ]
    assert "Executive / CEO dashboard (dashboard)" in error["message"]


def test_the_breaking_change_gate_refusal_carries_the_impact(marketing: Any) -> None:
    from django.utils import timezone

    from catalog.contract import parse_contract
    from catalog.contract_diff import diff_contracts
    from catalog.governance.gates import Candidate, breaking_change_gate

    products = chain(marketing)
    old = parse_contract(contract_document("marketing.orders"))
    new = parse_contract(breaking(products["a"], 3))
    changes = tuple(diff_contracts(old, new))
    result = breaking_change_gate(Candidate(new, old, None, changes, timezone.now()))
    assert result.errors and result.impact is not None
    assert result.impact["summary"] == "1 consumer and 2 downstream products"
    assert all("it affects 1 consumer and 2 downstream products" in str(e) for e in result.errors)


def test_a_published_breaking_change_says_its_impact_and_tells_everyone_what_they_use(
    marketing: Any, owner: Any, api_as: Any
) -> None:
    products = chain(marketing)
    answer = api_as(owner).put(
        "/v1/catalog/products/marketing.orders", breaking(products["a"], 4), format="json"
    )
    assert answer.status_code == 200, answer.json()
    assert answer.json()["impact"]["summary"] == "1 consumer and 2 downstream products"
    mail.outbox.clear()
    version = products["a"].versions.order_by("-id").first()
    assert consumers_notify(version_id=version.pk) >= 2
    bodies = {message.to[0]: message.body for message in mail.outbox}
    # The CEO dashboard is two products away, and hears which chain reaches it.
    assert (
        "your dashboard Executive / CEO dashboard uses marketing.board_kpis ← marketing.revenue "
        "← marketing.orders" in bodies["ceo@example.com"]
    )
    owner_contact = products["b"].owner_contact
    assert "your product marketing.revenue is built from marketing.orders" in bodies[owner_contact]


def test_deprecating_a_used_product_warns_who_still_depends_on_it(marketing: Any) -> None:
    products = chain(marketing)
    doc = contract_document(
        "marketing.board_kpis",
        version=4,
        status="deprecated",
        inputs=["marketing.revenue"],
        deprecation={"sunsetAt": "2099-01-01T00:00:00Z", "reason": "replaced"},
    )
    outcome = product_publish(actor=None, document=doc, source="test")
    assert outcome.product == products["c"]
    assert any(
        "still used by 1 consumer" in w and "Executive / CEO dashboard" in w
        for w in outcome.warnings
    )


# --- consumers and the lineage API --------------------------------------------------------


def test_the_consumer_api_keeps_the_write_ups_fields_and_takes_kind_name_url(
    marketing: Any, owner: Any, analyst: Any, api_as: Any
) -> None:
    publish("marketing.orders")
    url = "/v1/catalog/products/marketing.orders/consumers"
    plain = {"team": "Growth", "useCase": "budgets", "contact": "g@example.com"}
    assert api_as(analyst).post(url, plain, format="json").json() == {
        "registered": True,
        "created": True,
    }
    named = {**plain, "kind": "notebook", "name": "Churn model", "url": "https://nb.example.com/1"}
    assert api_as(analyst).post(url, named, format="json").status_code == 200
    assert api_as(analyst).post(url, {**plain, "kind": "product"}, format="json").status_code == 400
    rows = Consumer.objects.filter(product__product_id="marketing.orders").order_by("kind")
    assert [(c.kind, c.name, c.team) for c in rows] == [
        ("notebook", "Churn model", "Growth"),
        ("team", "Growth", "Growth"),
    ]
    body = api_as(analyst).get("/v1/catalog/products/marketing.orders").json()
    assert {(c["kind"], c["name"]) for c in body["consumers"]} == {
        ("notebook", "Churn model"),
        ("team", "Growth"),
    }


def test_the_lineage_api_gives_nodes_and_edges_both_ways(
    marketing: Any, analyst: Any, api_as: Any
) -> None:
    chain(marketing)
    body = api_as(analyst).get("/v1/catalog/products/marketing.revenue/lineage?depth=1").json()
    assert body["upstream"] == ["product:marketing.orders"]
    assert body["downstream"] == ["product:marketing.board_kpis"]
    assert {"from": "product:marketing.orders", "to": "product:marketing.revenue"} in body["edges"]
    assert body["truncated"] is True  # the dashboard is one level further
    deeper = api_as(analyst).get("/v1/catalog/products/marketing.revenue/lineage?depth=3").json()
    kinds = {n["kind"] for n in deeper["nodes"]}
    assert kinds == {"product", "dashboard"} and deeper["truncated"] is False
    bad = api_as(analyst).get("/v1/catalog/products/marketing.revenue/lineage?depth=99")
    assert bad.status_code == 400 and "depth" in bad.json()["error"]["fields"]


def test_other_domains_drafts_stay_out_of_lineage_and_impact(
    marketing: Any, finance: Any, outsider: Any, analyst: Any, api_as: Any
) -> None:
    publish("marketing.orders")
    product_publish(
        actor=None,
        document=contract_document(
            "finance.secret_plan", status="draft", inputs=["marketing.orders"]
        ),
        source="test",
    )
    seen_by_analyst = api_as(analyst).get("/v1/catalog/products/marketing.orders/lineage").json()
    assert seen_by_analyst["downstream"] == [] and seen_by_analyst["hidden"] == 1
    seen_by_finance = api_as(outsider).get("/v1/catalog/products/marketing.orders/lineage").json()
    assert seen_by_finance["downstream"] == ["product:finance.secret_plan"]
    assert product_impact(DataProduct.objects.get(product_id="marketing.orders")).is_empty


def test_what_lies_only_behind_a_hidden_draft_stays_hidden_both_ways(
    marketing: Any, finance: Any, outsider: Any, analyst: Any, api_as: Any
) -> None:
    # The graph is walked in the database in one go; what it finds behind a product the caller
    # may not see must stay out, as a walk a level at a time would leave it.
    publish("marketing.orders")
    product_publish(
        actor=None,
        document=contract_document(
            "finance.secret_plan", status="draft", inputs=["marketing.orders"]
        ),
        source="test",
    )
    publish("marketing.board_kpis", inputs=["finance.secret_plan"])
    url = "/v1/catalog/products/{}/lineage?depth=3"
    down = api_as(analyst).get(url.format("marketing.orders")).json()
    assert down["downstream"] == [] and down["hidden"] == 1 and len(down["nodes"]) == 1
    up = api_as(analyst).get(url.format("marketing.board_kpis")).json()
    assert up["upstream"] == [] and up["hidden"] == 1 and len(up["nodes"]) == 1
    team = api_as(outsider).get(url.format("marketing.orders")).json()
    assert team["downstream"] == ["product:finance.secret_plan", "product:marketing.board_kpis"]
    assert [n["level"] for n in team["nodes"]] == [0, 1, 2] and team["hidden"] == 0


def test_each_node_is_drawn_once_at_its_shortest_distance(
    marketing: Any, analyst: Any, api_as: Any
) -> None:
    publish("marketing.orders")
    publish("marketing.revenue", inputs=["marketing.orders"])
    publish("marketing.refunds", inputs=["marketing.orders"])
    # Built from orders directly and through revenue: one level down, with both edges.
    publish("marketing.board_kpis", inputs=["marketing.revenue", "marketing.orders"])
    publish("marketing.forecast", inputs=["marketing.board_kpis", "marketing.refunds"])
    body = api_as(analyst).get("/v1/catalog/products/marketing.orders/lineage?depth=2").json()
    levels = {n["id"]: n["level"] for n in body["nodes"]}
    assert levels == {
        "product:marketing.orders": 0,
        "product:marketing.revenue": 1,
        "product:marketing.refunds": 1,
        "product:marketing.board_kpis": 1,
        "product:marketing.forecast": 2,
    }
    edges = {(e["from"], e["to"]) for e in body["edges"]}
    assert ("product:marketing.revenue", "product:marketing.board_kpis") in edges
    assert ("product:marketing.refunds", "product:marketing.forecast") in edges
    assert len(body["edges"]) == 6 and body["truncated"] is False
    up = api_as(analyst).get("/v1/catalog/products/marketing.forecast/lineage?depth=1").json()
    assert up["upstream"] == ["product:marketing.board_kpis", "product:marketing.refunds"]
    assert up["truncated"] is True  # both are built from more


def test_the_lineage_page_draws_the_graph_and_lists_whom_it_lost(
    marketing: Any, owner: Any, client: Any
) -> None:
    products = chain(marketing)
    consumer = Consumer.objects.get(product=products["c"], kind="dashboard")
    consumer_withdraw(actor=None, consumer=consumer, note="moved to marketing.kpis_v2")
    client.force_login(owner)
    page = client.get("/products/marketing.revenue/lineage/?depth=3").content.decode()
    assert "<svg" in page and 'data-node="product:marketing.orders"' in page
    lost = client.get("/products/marketing.board_kpis/lineage/").content.decode()
    assert "Former consumers" in lost and "moved to marketing.kpis_v2" in lost


def test_the_graph_stays_readable_at_thirty_nodes(marketing: Any) -> None:
    from catalog.charts import NODE_H, lineage_svg

    graph = Graph(root=product_key("d.root"))
    graph.add(Node(key=product_key("d.root"), kind="product", name="Root", product_id="d.root"))
    for i in range(29):
        node = Node(key=f"consumer:{i}", kind="dashboard", name=f"Dashboard {i:02d} " * 3, level=1)
        graph.add(node)
        graph.link(graph.root, node.key)
    svg = lineage_svg(graph, title="thirty")
    assert svg.count("<rect") == 30 and svg.count('class="edge"') == 29
    # Every box its own place: none overlaps another.
    assert len(set(re.findall(r'<rect x="([\d.]+)" y="([\d.]+)"', svg))) == 30
    assert f'height="{NODE_H}"' in svg and "…" in svg  # long names cut, the full one in <title>


# --- the CLI ------------------------------------------------------------------------------


def test_contract_diff_impact_reads_an_exported_lineage_file(
    marketing: Any, tmp_path: Path
) -> None:
    products = chain(marketing)
    lineage = product_lineage(user=None, product=products["a"], depth=10).to_dict()
    (tmp_path / "lineage.json").write_text(json.dumps(lineage))
    (tmp_path / "old.json").write_text(json.dumps(contract_document("marketing.orders")))
    (tmp_path / "new.json").write_text(json.dumps(breaking(products["a"], 4)))
    out = io.StringIO()
    call_command(
        "contract",
        "diff",
        str(tmp_path / "old.json"),
        str(tmp_path / "new.json"),
        "--impact",
        "--lineage",
        str(tmp_path / "lineage.json"),
        stdout=out,
    )
    text = out.getvalue()
    assert "impact: the breaking change reaches 1 consumer and 2 downstream products" in text
    assert "Executive / CEO dashboard (dashboard) uses marketing.board_kpis" in text


def test_contract_diff_impact_asks_a_running_portal(
    marketing: Any, owner: Any, live_server: Any, tmp_path: Path, transactional_db: Any
) -> None:
    from rest_framework.authtoken.models import Token

    products = chain(marketing)
    token = Token.objects.create(user=owner)
    (tmp_path / "old.json").write_text(json.dumps(contract_document("marketing.orders")))
    (tmp_path / "new.json").write_text(json.dumps(breaking(products["a"], 4)))
    out = io.StringIO()
    args = [str(tmp_path / "old.json"), str(tmp_path / "new.json"), "--impact", "--format"]
    call_command(
        "contract",
        "diff",
        *args,
        "json",
        "--portal",
        live_server.url,
        "--token",
        token.key,
        stdout=out,
    )
    body = json.loads(out.getvalue())
    assert [p["id"] for p in body["impact"]["products"]] == [
        "marketing.revenue",
        "marketing.board_kpis",
    ]
    with pytest.raises(CommandError, match="needs --token"):
        call_command("contract", "diff", *args, "json", "--portal", live_server.url)


def test_impact_of_reads_back_the_graph_the_api_writes() -> None:
    graph = Graph(root=product_key("a.x"))
    graph.add(Node(key=product_key("a.x"), kind="product", name="X", product_id="a.x"))
    graph.add(Node(key="consumer:1", kind="team", name="T", level=1))
    graph.link(graph.root, "consumer:1")
    again = Graph.from_dict(json.loads(json.dumps({"product": "a.x", **graph.to_dict()})))
    assert impact_of(again).to_dict() == impact_of(graph).to_dict()
    with pytest.raises(ValueError, match="nodes"):
        Graph.from_dict({"product": "a.x"})


# --- every way a contract is rewritten keeps its inputs; the admin says the impact ------------


def admin_client(user: Any) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_the_admin_refuses_a_breaking_change_listing_what_it_would_break(
    marketing: Any, owner: Any
) -> None:
    from tests.catalog.test_ownership_matrix import _change_form_data

    products = chain(marketing)
    client = admin_client(owner)
    url = f"/admin/catalog/dataproduct/{products['a'].pk}/change/"
    data = _change_form_data(client, products["a"])
    data["columns-0-type"] = "integer"  # string → integer: breaking, at the same version
    page = client.post(url, data)
    assert page.status_code == 200
    errors = " ".join(page.context["adminform"].form.non_field_errors())
    assert "breaking change needs version > 3" in errors
    assert "it affects 1 consumer and 2 downstream products" in errors
    assert "Executive / CEO dashboard (dashboard) uses marketing.board_kpis" in errors
    assert "marketing.revenue (product) uses marketing.orders" in errors
    products["a"].refresh_from_db()
    assert products["a"].columns.order_by("position").first().type == "string"


def test_an_admin_edit_keeps_the_products_inputs(marketing: Any, owner: Any) -> None:
    from tests.catalog.test_ownership_matrix import _change_form_data

    products = chain(marketing)
    revenue = products["b"]
    client = admin_client(owner)
    data = _change_form_data(client, revenue)
    data.update({"description": "Edited in the admin.", "version": revenue.version + 1})
    answer = client.post(f"/admin/catalog/dataproduct/{revenue.pk}/change/", data)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    revenue.refresh_from_db()
    assert revenue.description == "Edited in the admin." and revenue.inputs == ["marketing.orders"]
    assert Consumer.objects.filter(product=products["a"], downstream=revenue).exists()
    assert revenue.versions.order_by("-id").first().document["inputs"] == ["marketing.orders"]


def test_the_product_api_shows_inputs_and_deprecating_keeps_them(
    marketing: Any, owner: Any, api_as: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from catalog.governance.services import product_deprecate

    products = chain(marketing)
    body = api_as(owner).get("/v1/catalog/products/marketing.revenue").json()
    assert body["inputs"] == ["marketing.orders"]
    # The API body is the contract: sent back with a new version, it changes nothing else.
    body = {k: v for k, v in body.items() if k in contract_document("marketing.revenue")}
    body.update({"version": body["version"] + 1, "inputs": ["marketing.orders"]})
    again = api_as(owner).put("/v1/catalog/products/marketing.revenue", body, format="json")
    assert again.status_code == 200, again.json()
    outcome = product_deprecate(
        actor=owner,
        product=DataProduct.objects.get(product_id="marketing.revenue"),
        sunset_at=timezone.now() + timedelta(days=60),
        replaced_by=None,
        reason="moving on",
    )
    assert outcome.product.status == "deprecated" and outcome.product.inputs == ["marketing.orders"]
    link = Consumer.objects.get(product=products["a"], kind="product")
    assert link.downstream == outcome.product
    assert any("still used by 1 consumer and 1 downstream product" in w for w in outcome.warnings)


def test_the_deprecation_notice_on_the_product_page_lists_who_depends_on_it(
    marketing: Any, owner: Any, client: Any
) -> None:
    products = chain(marketing)
    publish(
        "marketing.board_kpis",
        version=4,
        status="deprecated",
        inputs=["marketing.revenue"],
        deprecation={"sunsetAt": "2099-01-01T00:00:00Z", "reason": "replaced"},
    )
    client.force_login(owner)
    page = client.get(f"/products/{products['c'].product_id}/").content.decode()
    notice = page.split("data-dependents>", 1)[1].split("</small>", 1)[0]
    assert "Still used by 1 consumer: Executive / CEO dashboard (dashboard)" in notice
