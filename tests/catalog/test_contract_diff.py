"""Breaking-change diff: every breaking and non-breaking kind, and the version-bump rule."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.contract import parse_contract
from catalog.contract_diff import (
    MASK_STRENGTH,
    Change,
    breaking_changes,
    diff_contracts,
    needs_version_bump,
)
from tests.catalog import DELETE, full_document, seed_document, with_change


def diff(changes: list[tuple[str, object]], base: dict[str, Any] | None = None) -> list[Change]:
    old_doc = base if base is not None else seed_document()
    new_doc = old_doc
    for path, value in changes:
        new_doc = with_change(new_doc, path, value)
    return diff_contracts(parse_contract(old_doc), parse_contract(new_doc))


def only(changes: list[Change]) -> Change:
    assert len(changes) == 1, changes
    return changes[0]


def test_identical_contracts_have_no_changes() -> None:
    assert diff([]) == []
    assert diff([], full_document()) == []


def test_version_and_published_at_are_not_reported() -> None:
    assert diff([("version", 4), ("publishedAt", "2026-01-01T00:00:00Z")]) == []


# --- breaking ---------------------------------------------------------------------------------

BREAKING = [
    # (changes, kind, path, message fragment)
    ([("table", "other_table")], "table_changed", "table",
     "physical table marketing_campaign_attribution → other_table"),
    ([("schema[3].type", "integer")], "column_type_changed", "schema[3].type",
     "column channel: type string → integer"),
    ([("schema[0].nullable", True)], "column_nullable_changed", "schema[0].nullable",
     "column attribution_id may now be null"),
    ([("schema[1].pii", False)], "column_pii_removed", "schema[1].pii",
     "column user_id is no longer flagged pii"),
    ([("sla.freshness", "4h")], "sla_loosened", "sla.freshness", "freshness 1h → 4h"),
    ([("sla.availability", 99.0)], "sla_loosened", "sla.availability",
     "availability 99.5% → 99%"),
    ([("sla.queryLatencyP95Ms", 3000)], "sla_loosened", "sla.queryLatencyP95Ms",
     "query latency p95 2000 ms → 3000 ms"),
    ([("qualityChecks[0].severity", "warning")], "check_loosened", "qualityChecks[0].severity",
     "check no_null_campaign_ids: severity error → warning"),
    ([("qualityChecks[2].params.maxStaleHours", 3)], "check_loosened",
     "qualityChecks[2].params.maxStaleHours", "check hourly_freshness: maxStaleHours 2 → 3"),
    ([("qualityChecks[3].params.minRows", 10)], "check_loosened",
     "qualityChecks[3].params.minRows", "check daily_row_count: minRows 1000 → 10"),
    ([("qualityChecks[3].params.maxRows", 600000)], "check_loosened",
     "qualityChecks[3].params.maxRows", "check daily_row_count: maxRows 500000 → 600000"),
    ([("qualityChecks[3].params", {"minRows": 1000})], "check_loosened",
     "qualityChecks[3].params.maxRows", "maxRows 500000 → none"),
    ([("qualityChecks[1].params.sql", "SELECT 0")], "check_sql_changed",
     "qualityChecks[1].params.sql", "check valid_channels: SQL changed"),
    ([("qualityChecks[0].column", "channel")], "check_replaced", "qualityChecks[0]",
     "check no_null_campaign_ids: not_null on campaign_id → not_null on channel"),
    ([("qualityChecks[0].type", "unique")], "check_replaced", "qualityChecks[0]",
     "not_null on campaign_id → unique on campaign_id"),
    ([("id", "marketing.campaign_attribution_v2"), ("table", "marketing_campaign_attribution")],
     "id_changed", "id", "product id marketing.campaign_attribution → "),
]  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "kind", "path", "fragment"), BREAKING, ids=[b[1] + ":" + b[2] for b in BREAKING]
)
def test_breaking(changes: list[tuple[str, object]], kind: str, path: str, fragment: str) -> None:
    change = only(diff(changes))
    assert (change.kind, change.path, change.breaking) == (kind, path, True)
    assert fragment in change.message
    assert str(change).startswith(f"BREAKING {path}: ")


def test_column_removed_is_breaking() -> None:
    doc = seed_document()
    doc["schema"].pop(6)  # revenue_cents
    change = only(diff_contracts(parse_contract(seed_document()), parse_contract(doc)))
    assert change == Change("schema[6]", "column_removed", "column revenue_cents removed", True)


def test_removing_a_checked_column_reports_the_check_too() -> None:
    doc = seed_document()
    doc["schema"].pop(2)  # campaign_id
    doc["qualityChecks"].pop(0)  # its not_null check
    changes = diff_contracts(parse_contract(seed_document()), parse_contract(doc))
    assert [(c.kind, c.breaking) for c in changes] == [
        ("column_removed", True),
        ("check_removed", True),
    ]


def test_rename_is_detected_heuristically_and_breaking() -> None:
    changes = diff([("schema[1].column", "visitor_ref")])
    assert [(c.kind, c.breaking) for c in changes] == [
        ("column_removed", True),
        ("column_added", False),
    ]
    assert "renamed to visitor_ref?" in changes[0].message
    assert "probably user_id renamed" in changes[1].message


def test_a_removed_and_added_column_of_another_type_is_not_called_a_rename() -> None:
    changes = diff([("schema[6]", {"column": "score", "type": "float", "description": "x"})])
    assert changes[0].message == "column revenue_cents removed"
    assert changes[1].message == "column score added (float, nullable)"


@pytest.mark.parametrize(
    ("old", "new", "breaking"),
    [
        (None, "hash", False),  # last4 → hash
        ("hash", None, True),  # hash → last4
        ("redact", "hash", True),
        ("null", "redact", False),
        ("email", "last4", True),
        ("last4", "email", False),
        ("hash", "email", True),
    ],
)
def test_mask_changes(old: str | None, new: str | None, breaking: bool) -> None:
    base = with_change(seed_document(), "schema[1].mask", old) if old else seed_document()
    change = only(diff([("schema[1].mask", new if new else DELETE)], base))
    assert change.kind == "column_mask_changed"
    assert change.breaking is breaking
    assert change.path == "schema[1].mask"


def test_mask_strength_order_is_documented() -> None:
    order = sorted(MASK_STRENGTH, key=lambda m: MASK_STRENGTH[m])
    assert order == [None, "last4", "email", "hash", "null", "redact"]


def test_range_widened_is_breaking_and_narrowed_is_not() -> None:
    check = {"name": "r", "type": "range", "column": "revenue_cents",
             "params": {"min": 0, "max": 100}, "severity": "error"}  # fmt: skip
    base = with_change(seed_document(), "qualityChecks[0]", check)
    wider = diff([("qualityChecks[0].params.max", 200)], base)
    assert only(wider).breaking and "max 100 → 200" in wider[0].message
    lower = diff([("qualityChecks[0].params.min", -1)], base)
    assert only(lower).breaking and "min 0 → -1" in lower[0].message
    unbounded = diff([("qualityChecks[0].params", {"max": 100})], base)
    assert only(unbounded).breaking and "min 0 → none" in unbounded[0].message
    narrower = diff([("qualityChecks[0].params", {"min": 10, "max": 50})], base)
    assert [c.breaking for c in narrower] == [False, False]
    assert {c.kind for c in narrower} == {"check_tightened"}


def test_accepted_values_extended_is_breaking_and_reduced_is_not() -> None:
    check = {"name": "ch", "type": "accepted_values", "column": "channel",
             "params": {"values": ["organic", "paid"]}, "severity": "error"}  # fmt: skip
    base = with_change(seed_document(), "qualityChecks[0]", check)
    extended = only(diff([("qualityChecks[0].params.values", ["organic", "paid", "tv"])], base))
    assert extended.breaking and extended.message == "check ch: now also accepts [tv]"
    reduced = only(diff([("qualityChecks[0].params.values", ["organic"])], base))
    assert not reduced.breaking and reduced.kind == "check_tightened"


def test_freshness_without_max_stale_hours_uses_the_sla_window() -> None:
    base = with_change(seed_document(), "qualityChecks[2].params", DELETE)  # 1h SLA → 1 h
    tighter = only(diff([("qualityChecks[2].params", {"maxStaleHours": 0.5})], base))
    assert not tighter.breaking
    looser = only(diff([("qualityChecks[2].params", {"maxStaleHours": 2})], base))
    assert looser.breaking and looser.message == "check hourly_freshness: maxStaleHours 1 → 2"


def test_whitespace_only_sql_edit_is_not_a_change() -> None:
    sql = seed_document()["qualityChecks"][1]["params"]["sql"]
    assert diff([("qualityChecks[1].params.sql", "  " + sql.replace(" ", "\n  ") + "\n")]) == []


def test_check_removed_is_breaking() -> None:
    doc = seed_document()
    doc["qualityChecks"].pop(3)
    change = only(diff_contracts(parse_contract(seed_document()), parse_contract(doc)))
    assert change == Change(
        "qualityChecks[3]", "check_removed", "check daily_row_count (row_count) removed", True
    )


# --- non-breaking -----------------------------------------------------------------------------

NON_BREAKING = [
    ([("description", "Better words.")], "metadata_changed", "description"),
    ([("name", "Attribution")], "metadata_changed", "name"),
    ([("owner.team", "Growth")], "metadata_changed", "owner.team"),
    ([("owner.contact", "growth@company.com")], "metadata_changed", "owner.contact"),
    ([("owner.slackChannel", "#growth")], "metadata_changed", "owner.slackChannel"),
    ([("tags", ["marketing", "new"])], "tags_changed", "tags"),
    ([("schema[5].nullable", False)], "column_nullable_changed", "schema[5].nullable"),
    ([("schema[6].pii", True)], "column_pii_added", "schema[6].pii"),
    ([("schema[6].description", "Cents.")], "column_description_changed",
     "schema[6].description"),
    ([("sla.freshness", "realtime")], "sla_tightened", "sla.freshness"),
    ([("sla.availability", 99.9)], "sla_tightened", "sla.availability"),
    ([("sla.queryLatencyP95Ms", 500)], "sla_tightened", "sla.queryLatencyP95Ms"),
    ([("qualityChecks[3].severity", "error")], "check_tightened", "qualityChecks[3].severity"),
    ([("qualityChecks[2].params.maxStaleHours", 1)], "check_tightened",
     "qualityChecks[2].params.maxStaleHours"),
    ([("qualityChecks[3].params.minRows", 2000)], "check_tightened",
     "qualityChecks[3].params.minRows"),
    ([("status", "deprecated")], "status_changed", "status"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "kind", "path"), NON_BREAKING, ids=[n[2] for n in NON_BREAKING]
)
def test_non_breaking(changes: list[tuple[str, object]], kind: str, path: str) -> None:
    change = only(diff(changes))
    assert (change.kind, change.path, change.breaking) == (kind, path, False)
    assert not str(change).startswith("BREAKING")


def test_column_added_is_not_breaking_even_when_not_nullable() -> None:
    doc = seed_document()
    doc["schema"].append(
        {"column": "campaign_cost", "type": "integer", "description": "c", "nullable": False}
    )
    change = only(diff_contracts(parse_contract(seed_document()), parse_contract(doc)))
    assert change == Change(
        "schema[8]", "column_added", "column campaign_cost added (integer, not nullable)", False
    )


def test_check_added_is_not_breaking() -> None:
    doc = seed_document()
    doc["qualityChecks"].append(
        {"name": "ids_unique", "type": "unique", "column": "attribution_id", "severity": "error"}
    )
    change = only(diff_contracts(parse_contract(seed_document()), parse_contract(doc)))
    assert change.kind == "check_added" and not change.breaking
    assert change.message == "check ids_unique (unique on attribution_id) added"


def test_reordering_columns_is_noted_not_breaking() -> None:
    doc = seed_document()
    doc["schema"][0], doc["schema"][1] = doc["schema"][1], doc["schema"][0]
    change = only(diff_contracts(parse_contract(seed_document()), parse_contract(doc)))
    assert (change.kind, change.breaking) == ("columns_reordered", False)


def test_deprecation_change_is_lifecycle_not_breaking() -> None:
    changes = diff([("deprecation.reason", "Another reason.")], full_document())
    assert [(c.kind, c.breaking) for c in changes] == [("deprecation_changed", False)]


# --- version bump -----------------------------------------------------------------------------


def test_breaking_change_needs_a_version_bump() -> None:
    old = parse_contract(seed_document())
    same_version = parse_contract(with_change(seed_document(), "schema[3].type", "json"))
    changes = diff_contracts(old, same_version)
    assert breaking_changes(changes) == changes
    assert needs_version_bump(old, same_version, changes)

    bumped_doc = with_change(with_change(seed_document(), "schema[3].type", "json"), "version", 4)
    bumped = parse_contract(bumped_doc)
    assert not needs_version_bump(old, bumped, diff_contracts(old, bumped))


def test_non_breaking_change_needs_no_bump() -> None:
    old = parse_contract(seed_document())
    new = parse_contract(with_change(seed_document(), "description", "Clearer."))
    assert not needs_version_bump(old, new, diff_contracts(old, new))


def test_lower_version_with_breaking_change_needs_a_bump() -> None:
    old = parse_contract(seed_document())
    new = parse_contract(with_change(with_change(seed_document(), "table", "t2"), "version", 2))
    assert needs_version_bump(old, new, diff_contracts(old, new))


def test_many_changes_come_in_contract_order() -> None:
    changes = diff(
        [
            ("description", "New."),
            ("schema[3].type", "json"),
            ("sla.freshness", "24h"),
            ("qualityChecks[0].severity", "warning"),
            ("status", "deprecated"),
        ]
    )
    assert [c.path for c in changes] == [
        "description",
        "schema[3].type",
        "sla.freshness",
        "qualityChecks[0].severity",
        "status",
    ]
    assert [c.breaking for c in changes] == [False, True, True, True, False]
    assert changes[1].to_dict() == {
        "path": "schema[3].type",
        "kind": "column_type_changed",
        "message": "column channel: type string → json",
        "breaking": True,
    }
