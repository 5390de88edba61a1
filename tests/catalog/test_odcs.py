"""ODCS v3 conversion: exact round trips, field names, importing foreign documents safely."""

from __future__ import annotations

import json
from typing import Any

import pytest

from catalog.contract import (
    FRESHNESS,
    MASKS,
    STATUSES,
    ContractError,
    load_document,
    parse_contract,
)
from catalog.odcs import API_VERSION, from_odcs, is_odcs, to_odcs
from tests.catalog import DELETE, FIXTURES, full_document, seed_document, with_change


def round_trip(doc: dict[str, Any]) -> None:
    contract = parse_contract(doc)
    exported = to_odcs(contract)
    # What a file or an HTTP body would carry: plain JSON.
    exported = json.loads(json.dumps(exported))
    assert is_odcs(exported)
    assert parse_contract(from_odcs(exported)) == contract


def test_seed_round_trips() -> None:
    round_trip(seed_document())


def test_full_contract_round_trips() -> None:
    round_trip(full_document())


@pytest.mark.parametrize("freshness", FRESHNESS)
def test_every_freshness_round_trips(freshness: str) -> None:
    round_trip(with_change(seed_document(), "sla.freshness", freshness))


@pytest.mark.parametrize("status", STATUSES)
def test_every_status_round_trips(status: str) -> None:
    round_trip(with_change(seed_document(), "status", status))


@pytest.mark.parametrize("mask", MASKS)
def test_every_mask_round_trips(mask: str) -> None:
    round_trip(with_change(seed_document(), "schema[1].mask", mask))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("publishedAt", DELETE),
        ("owner.slackChannel", ""),
        ("description", ""),
        ("tags", []),
        ("qualityChecks", []),
        ("qualityChecks[3].params", {"minRows": 5}),
        ("qualityChecks[3].params", {"maxRows": 5}),
        ("qualityChecks[2].params", DELETE),
        ("sla.queryLatencyP95Ms", 12.5),
        ("sla.availability", 100),
        ("table", "custom_table"),
    ],
)
def test_variants_round_trip(path: str, value: object) -> None:
    round_trip(with_change(seed_document(), path, value))


def test_check_order_survives_even_when_checks_are_spread_over_properties() -> None:
    doc = full_document()
    doc["qualityChecks"].reverse()
    round_trip(doc)


def test_range_with_only_one_bound_round_trips() -> None:
    doc = full_document()
    doc["qualityChecks"][2]["params"] = {"max": 5}
    round_trip(doc)


# --- the exported shape -------------------------------------------------------------------------


def test_export_uses_odcs_v3_field_names() -> None:
    odcs = to_odcs(parse_contract(seed_document()))
    assert odcs["apiVersion"] == API_VERSION == "v3.0.2"
    assert odcs["kind"] == "DataContract"
    assert odcs["id"] == "marketing.campaign_attribution"
    assert odcs["version"] == "3.0.0"
    assert odcs["status"] == "active"
    assert odcs["domain"] == "marketing"
    assert odcs["description"] == {"purpose": seed_document()["description"]}
    assert odcs["tags"] == ["marketing", "attribution", "campaigns", "revenue"]
    assert odcs["team"] == [{"username": "marketing-data@company.com", "role": "owner"}]
    assert [s["tool"] for s in odcs["support"]] == ["email", "slack"]
    assert odcs["support"][1]["channel"] == "#marketing-data"
    assert odcs["slaProperties"] == [
        {"property": "freshness", "value": 1, "unit": "h"},
        {"property": "availability", "value": 99.5, "unit": "percent"},
        {"property": "latency", "value": 2000, "unit": "ms", "element": "query.p95"},
    ]
    [obj] = odcs["schema"]
    assert obj["name"] == "campaign_attribution"
    assert obj["physicalName"] == "marketing_campaign_attribution"
    assert obj["logicalType"] == "object"
    user_id = obj["properties"][1]
    assert user_id["name"] == "user_id"
    assert user_id["logicalType"] == "string"
    assert user_id["required"] is True
    assert user_id["classification"] == "pii"
    touch = obj["properties"][4]
    assert touch["logicalType"] == "date"
    assert touch["quality"][0]["type"] == "text"
    campaign = obj["properties"][2]
    assert campaign["quality"][0] | {"customProperties": None} == {
        "name": "no_null_campaign_ids",
        "type": "library",
        "rule": "nullValues",
        "mustBe": 0,
        "unit": "rows",
        "dimension": "completeness",
        "severity": "error",
        "customProperties": None,
    }
    assert [q["name"] for q in obj["quality"]] == ["valid_channels", "daily_row_count"]
    assert obj["quality"][0]["type"] == "sql"
    assert obj["quality"][1]["mustBeBetween"] == [1000, 500000]
    custom = {c["property"]: c["value"] for c in odcs["customProperties"]}
    assert custom == {
        "contractVersion": 3,
        "ownerTeam": "Marketing Analytics",
        "publishedAt": "2025-03-01T00:00:00Z",
    }


def test_export_of_logical_types_and_masks() -> None:
    odcs = to_odcs(parse_contract(full_document()))
    props = {p["name"]: p for p in odcs["schema"][0]["properties"]}
    assert props["amount"]["logicalType"] == "number"
    assert props["attributes"]["logicalType"] == "object"
    assert props["labels"]["logicalType"] == "array"
    assert props["is_refund"]["logicalType"] == "boolean"
    assert props["entry_id"]["logicalType"] == "integer"
    assert props["customer_email"]["customProperties"] == [{"property": "mask", "value": "email"}]
    assert "customProperties" not in props["card_number"]  # default mask stays implicit
    assert props["amount"]["quality"][0]["query"] == (
        "SELECT COUNT(*) FROM {object} WHERE {property} < -100000 OR {property} > 100000.5"
    )
    assert props["currency"]["quality"][0]["arguments"] == {"validValues": ["EUR", "USD", "GBP"]}
    custom = {c["property"]: c["value"] for c in odcs["customProperties"]}
    assert custom["deprecation"] == {
        "sunsetAt": "2025-12-31T00:00:00Z",
        "replacedBy": "finance-ops.customer_ledger_v2",
        "reason": "Replaced by the v2 ledger with per-line tax.",
    }
    assert odcs["status"] == "deprecated"


def test_is_odcs() -> None:
    assert is_odcs({"apiVersion": "v3.0.0", "kind": "DataContract"})
    assert is_odcs({"apiVersion": "v3.1.0", "kind": "DataContract"})
    assert not is_odcs({"apiVersion": "v2.2.2", "kind": "DataContract"})
    assert not is_odcs({"apiVersion": "v3.0.0", "kind": "DataProduct"})
    assert not is_odcs(seed_document())
    assert not is_odcs(None)
    assert not is_odcs([{"apiVersion": "v3"}])
    assert not is_odcs({"apiVersion": 3, "kind": "DataContract"})


# --- importing foreign documents ----------------------------------------------------------------


def foreign() -> dict[str, Any]:
    doc = load_document((FIXTURES / "foreign_orders.odcs.yaml").read_text())
    assert isinstance(doc, dict)
    return doc


def test_foreign_document_imports() -> None:
    c = parse_contract(from_odcs(foreign()))
    assert c.id == "sales.orders"  # built from domain + object name: the ODCS id is a UUID
    assert c.name == "Orders"
    assert c.version == 1  # 0.9.0: our versions start at 1
    assert c.status == "published"
    assert c.description == "Every confirmed web shop order."
    assert c.owner.contact == "ana@shop.example"
    assert c.owner.team == "sales"
    assert c.owner.slack_channel == "#sales-data"
    assert c.table == "sales_orders_v1"
    assert [(col.column, col.type, col.nullable, col.pii) for col in c.schema] == [
        ("order_id", "string", False, False),
        ("customer_email", "string", True, True),
        ("status", "string", True, False),
        ("amount", "float", True, False),
        ("ordered_at", "timestamp", False, False),
    ]
    assert c.sla.freshness == "4h" and c.sla.availability == 99.9
    assert c.sla.query_latency_p95_ms == 3000
    assert [(q.name, q.type, q.column, q.severity) for q in c.quality_checks] == [
        ("order_id_nullValues", "not_null", "order_id", "error"),
        ("order_id_duplicateValues", "unique", "order_id", "warning"),
        ("status_invalidValues", "accepted_values", "status", "error"),
        ("rowCount", "row_count", None, "error"),
        ("no_negative_totals", "custom_sql", None, "error"),
    ]
    assert c.quality_checks[2].params == {"values": ["open", "paid", "shipped"]}
    assert c.quality_checks[3].params == {"minRows": 1}


def test_foreign_document_without_query_latency_reports_our_missing_field() -> None:
    doc = foreign()
    doc["slaProperties"].pop(1)  # the 3000 ms query latency
    converted = from_odcs(doc)  # converts fine...
    with pytest.raises(ContractError) as info:
        parse_contract(converted)  # ...but we never invent a promise: p95 must be stated
    assert [str(i) for i in info.value.issues] == ["sla.queryLatencyP95Ms: required"]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            "schema[0].properties[0].quality[0]",
            {"type": "text", "description": "Looks right."},
            "schema[0].properties[0].quality[0]: quality rule 'order_id_text' (text ) has no "
            "equivalent check the engine can run",
        ),
        (
            "schema[0].properties[0].quality[0]",
            {"rule": "nullValues", "mustBeLessThan": 5, "unit": "percent"},
            "schema[0].properties[0].quality[0]: quality rule 'order_id_nullValues'",
        ),
        (
            "schema[0].quality[0]",
            {"type": "custom", "engine": "soda", "implementation": "x"},
            "schema[0].quality[0]: quality rule 'custom' (custom ) has no equivalent",
        ),
        (
            "slaProperties[0]",
            {"property": "latency", "value": 2, "unit": "h"},
            "slaProperties[0]: freshness 2 h has no freshness class",
        ),
        (
            "schema",
            [{"name": "a"}, {"name": "b"}],
            "schema: expected exactly one schema object (one product = one table), got 2",
        ),
        ("version", "latest", "version: cannot read a version number from 'latest'"),
        ("schema[0].properties[1]", "customer_email", "schema[0].properties[1]: must be a mapping"),
    ],
)
def test_foreign_documents_never_drop_a_guarantee_silently(
    path: str, value: object, expected: str
) -> None:
    with pytest.raises(ContractError) as info:
        from_odcs(with_change(foreign(), path, value))
    assert any(str(i).startswith(expected) for i in info.value.issues), info.value.issues


def test_not_odcs_is_refused() -> None:
    with pytest.raises(ContractError) as info:
        from_odcs(seed_document())
    assert str(info.value).startswith("apiVersion: not an ODCS v3 document")


def test_garbage_raises_only_contract_error() -> None:
    garbage = [None, True, 0, "", [None], {"x": 1}]
    base = to_odcs(parse_contract(full_document()))
    base = json.loads(json.dumps(base))

    def paths(value: object, prefix: str = "") -> list[str]:
        out = [prefix] if prefix else []
        if isinstance(value, dict):
            for key, item in value.items():
                out += paths(item, f"{prefix}.{key}" if prefix else key)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                out += paths(item, f"{prefix}[{i}]")
        return out

    for path in paths(base):
        if path in ("apiVersion", "kind"):
            continue
        for value in garbage:
            doc = with_change(base, path, value)
            try:
                parse_contract(from_odcs(doc))
            except ContractError as exc:
                assert exc.issues
