"""The contract: every constraint accepted and refused, with the exact path in the message."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from catalog.contract import (
    CHECK_TYPES,
    COLUMN_TYPES,
    FRESHNESS,
    MASKS,
    SEVERITIES,
    STATUSES,
    ColumnSpec,
    Contract,
    ContractError,
    ContractIssue,
    default_table,
    dump_json,
    dump_yaml,
    load_document,
    parse_contract,
    validate_contract,
)
from tests.catalog import DELETE, full_document, seed_document, with_change


def issues_of(doc: object) -> list[str]:
    with pytest.raises(ContractError) as info:
        parse_contract(doc)
    assert info.value.issues, "a ContractError always lists at least one issue"
    return [str(i) for i in info.value.issues]


# --- the seed -------------------------------------------------------------------------------


def test_seed_example_parses_with_every_field_as_written() -> None:
    c = parse_contract(seed_document())
    assert c.id == "marketing.campaign_attribution"
    assert c.domain == "marketing"
    assert c.product_name == "campaign_attribution"
    assert c.name == "Campaign Attribution"
    assert c.description.startswith("Multi-touch attribution for all marketing campaigns.")
    assert c.owner.team == "Marketing Analytics"
    assert c.owner.contact == "marketing-data@company.com"
    assert c.owner.slack_channel == "#marketing-data"
    assert [col.column for col in c.schema] == [
        "attribution_id",
        "user_id",
        "campaign_id",
        "channel",
        "touchpoint_at",
        "conversion_at",
        "revenue_cents",
        "attribution_model",
    ]
    assert [col.column for col in c.pii_columns] == ["user_id"]
    assert c.schema[1].effective_mask == "last4"
    assert c.schema[0].effective_mask is None
    assert [col.nullable for col in c.schema] == [False] * 5 + [True, True, False]
    assert c.sla.freshness == "1h" and c.sla.freshness_hours == 1
    assert c.sla.availability == 99.5 and c.sla.query_latency_p95_ms == 2000
    assert [(q.name, q.type, q.severity) for q in c.quality_checks] == [
        ("no_null_campaign_ids", "not_null", "error"),
        ("valid_channels", "custom_sql", "error"),
        ("hourly_freshness", "freshness", "error"),
        ("daily_row_count", "row_count", "warning"),
    ]
    assert c.quality_checks[2].params == {"maxStaleHours": 2}
    assert c.quality_checks[3].params == {"minRows": 1000, "maxRows": 500000}
    assert "channel NOT IN ('organic'" in c.quality_checks[1].params["sql"]
    assert c.tags == ("marketing", "attribution", "campaigns", "revenue")
    assert c.version == 3
    assert c.published_at == datetime(2025, 3, 1, tzinfo=UTC)
    assert c.status == "published"
    assert c.table == "marketing_campaign_attribution"
    assert c.deprecation is None


def test_full_contract_parses() -> None:
    c = parse_contract(full_document())
    assert c.table == "finance_ledger"
    assert {col.column: col.effective_mask for col in c.pii_columns} == {
        "card_number": "last4",
        "customer_email": "email",
        "account_number": "hash",
        "birth_date": "null",
        "full_name": "redact",
        "phone": "last4",
    }
    assert {q.type for q in c.quality_checks} == set(CHECK_TYPES)
    assert c.deprecation is not None
    assert c.deprecation.replaced_by == "finance-ops.customer_ledger_v2"
    assert c.deprecation.sunset_at == datetime(2025, 12, 31, tzinfo=UTC)


def test_column_named_and_hashable() -> None:
    c = parse_contract(seed_document())
    assert c.column_named("user_id") == c.schema[1]
    assert c.column_named("nope") is None
    assert hash(c) == hash(parse_contract(seed_document()))
    assert {c, parse_contract(seed_document())} == {c}


def test_default_table() -> None:
    assert default_table("marketing.campaign_attribution") == "marketing_campaign_attribution"
    assert default_table("finance-ops.ledger") == "finance_ops_ledger"


# --- round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize("make", [seed_document, full_document])
def test_to_dict_round_trips(make) -> None:
    c = parse_contract(make())
    assert parse_contract(c.to_dict()) == c
    assert parse_contract(json.loads(json.dumps(c.to_dict()))) == c


@pytest.mark.parametrize("make", [seed_document, full_document])
def test_yaml_and_json_dumps_round_trip(make) -> None:
    c = parse_contract(make())
    assert parse_contract(load_document(dump_yaml(c))) == c
    assert parse_contract(load_document(dump_json(c), filename="c.json")) == c
    assert parse_contract(load_document(dump_json(c))) == c  # YAML reads our JSON too
    # Exporting twice is stable text.
    again = parse_contract(load_document(dump_yaml(c)))
    assert dump_yaml(again) == dump_yaml(c)
    assert dump_json(again) == dump_json(c)


def test_to_dict_is_canonical_in_the_seed_key_order() -> None:
    doc = parse_contract(seed_document()).to_dict()
    assert list(doc) == [
        "id",
        "domain",
        "name",
        "description",
        "owner",
        "schema",
        "sla",
        "qualityChecks",
        "tags",
        "version",
        "publishedAt",
        "status",
        "table",
    ]
    assert list(doc["owner"]) == ["team", "contact", "slackChannel"]
    assert list(doc["schema"][0]) == ["column", "type", "description", "pii", "nullable"]
    assert list(doc["sla"]) == ["freshness", "availability", "queryLatencyP95Ms"]
    assert doc["qualityChecks"][0] == {
        "name": "no_null_campaign_ids",
        "type": "not_null",
        "column": "campaign_id",
        "severity": "error",
    }
    assert list(doc["qualityChecks"][2]) == ["name", "type", "column", "params", "severity"]
    assert doc["publishedAt"] == "2025-03-01T00:00:00Z"


def test_to_dict_optional_parts() -> None:
    full = parse_contract(full_document()).to_dict()
    assert full["deprecation"] == {
        "sunsetAt": "2025-12-31T00:00:00Z",
        "replacedBy": "finance-ops.customer_ledger_v2",
        "reason": "Replaced by the v2 ledger with per-line tax.",
    }
    assert full["publishedAt"] == "2025-02-03T04:05:06.789000Z"
    assert "mask" not in full["schema"][1]  # default mask stays implicit
    assert full["schema"][2]["mask"] == "email"
    draft = parse_contract(with_change(seed_document(), "publishedAt", DELETE)).to_dict()
    assert "publishedAt" not in draft


def test_to_dict_does_not_share_params_with_the_contract() -> None:
    c = parse_contract(seed_document())
    doc = c.to_dict()
    doc["qualityChecks"][3]["params"]["minRows"] = 1
    assert c.quality_checks[3].params["minRows"] == 1000


def test_parse_does_not_keep_references_to_the_input() -> None:
    doc = seed_document()
    c = parse_contract(doc)
    doc["qualityChecks"][3]["params"]["minRows"] = 1
    assert c.quality_checks[3].params["minRows"] == 1000


# --- accepted variations ----------------------------------------------------------------------


ACCEPTED = [
    ("publishedAt", DELETE),
    ("publishedAt", None),
    ("publishedAt", "2025-03-01T00:00:00+02:00"),
    ("publishedAt", "2025-03-01T00:00:00"),
    ("publishedAt", "2025-03-01 00:00"),
    ("publishedAt", "2025-03-01T00:00:00.123456Z"),
    ("publishedAt", datetime(2025, 3, 1)),
    ("description", ""),
    ("owner.slackChannel", ""),
    ("schema[0].pii", DELETE),
    ("schema[0].nullable", DELETE),
    ("schema[0].description", ""),
    ("sla.availability", 99),
    ("sla.availability", 100),
    ("sla.availability", 99.99),
    ("sla.queryLatencyP95Ms", 0.5),
    ("qualityChecks", []),
    ("qualityChecks[0].params", {}),
    ("qualityChecks[0].params", None),
    ("qualityChecks[1].column", "channel"),
    ("qualityChecks[2].params", DELETE),
    ("qualityChecks[2].params.maxStaleHours", 0.5),
    ("qualityChecks[3].params", {"minRows": 0}),
    ("qualityChecks[3].params", {"maxRows": 10}),
    ("qualityChecks[3].params", {"minRows": 5, "maxRows": 5}),
    ("qualityChecks[3].params.minRows", 1000.0),
    ("tags", []),
    ("version", 1),
    ("version", 4.0),
    ("table", "custom_table_1"),
    ("table", "_staging"),
    ("table", None),
    ("status", "draft"),
    ("status", "deprecated"),
    ("status", "retired"),
]


def case_id(path: str, value: object) -> str:
    """``path=value`` with no memory address, so every test process collects the same ids."""
    return re.sub(r" at 0x[0-9a-fA-F]+", "", f"{path}={value!r}")


@pytest.mark.parametrize(("path", "value"), ACCEPTED, ids=[case_id(p, v) for p, v in ACCEPTED])
def test_accepts(path: str, value: object) -> None:
    parse_contract(with_change(seed_document(), path, value))


@pytest.mark.parametrize("column_type", COLUMN_TYPES)
def test_accepts_every_column_type(column_type: str) -> None:
    parse_contract(with_change(seed_document(), "schema[7].type", column_type))


@pytest.mark.parametrize("mask", MASKS)
def test_accepts_every_mask_on_a_pii_column(mask: str) -> None:
    c = parse_contract(with_change(seed_document(), "schema[1].mask", mask))
    assert c.schema[1].mask == mask and c.schema[1].effective_mask == mask


@pytest.mark.parametrize("freshness", FRESHNESS)
def test_accepts_every_freshness(freshness: str) -> None:
    assert parse_contract(with_change(seed_document(), "sla.freshness", freshness)).sla.freshness


@pytest.mark.parametrize("severity", SEVERITIES)
def test_accepts_every_severity(severity: str) -> None:
    parse_contract(with_change(seed_document(), "qualityChecks[0].severity", severity))


@pytest.mark.parametrize("status", STATUSES)
def test_accepts_every_status(status: str) -> None:
    assert parse_contract(with_change(seed_document(), "status", status)).status == status


def test_naive_datetime_means_utc() -> None:
    c = parse_contract(with_change(seed_document(), "publishedAt", "2025-03-01T12:00:00"))
    assert c.published_at == datetime(2025, 3, 1, 12, tzinfo=UTC)
    c = parse_contract(with_change(seed_document(), "publishedAt", "2025-03-01T12:00:00+02:00"))
    assert c.published_at == datetime(2025, 3, 1, 10, tzinfo=UTC)
    assert c.to_dict()["publishedAt"] == "2025-03-01T10:00:00Z"


def test_range_check_with_only_min_or_max() -> None:
    for params in ({"min": 0}, {"max": 10}, {"min": -1.5, "max": 1e9}, {"min": 3, "max": 3}):
        doc = with_change(
            seed_document(),
            "qualityChecks[0]",
            {"name": "r", "type": "range", "column": "revenue_cents", "params": params,
             "severity": "warning"},
        )  # fmt: skip
        assert parse_contract(doc).quality_checks[0].params == params


def test_accepted_values_with_matching_scalars() -> None:
    doc = with_change(
        seed_document(),
        "qualityChecks[0]",
        {"name": "ch", "type": "accepted_values", "column": "channel",
         "params": {"values": ["organic", "paid"]}, "severity": "error"},
    )  # fmt: skip
    assert parse_contract(doc).quality_checks[0].params == {"values": ["organic", "paid"]}


def test_unique_check_on_any_declared_column() -> None:
    doc = with_change(
        seed_document(),
        "qualityChecks[0]",
        {"name": "u", "type": "unique", "column": "attribution_id", "severity": "error"},
    )
    parse_contract(doc)


def test_validate_contract_lists_issues_without_raising() -> None:
    assert validate_contract(seed_document()) == []
    issues = validate_contract(with_change(seed_document(), "version", 0))
    assert issues == [ContractIssue("version", "must be a positive integer")]
    assert issues[0].to_dict() == {"path": "version", "message": "must be a positive integer"}


# --- refused: one problem, one exact message ----------------------------------------------------

REFUSED = [
    # top level
    ("id", DELETE, "id: required"),
    ("id", 42, "id: must be a string, not a number"),
    ("id", "Marketing.campaign", "id: must look like domain.product_name"),
    ("id", "marketing", "id: must look like domain.product_name"),
    ("id", "marketing.campaign-attribution", "id: must look like domain.product_name"),
    ("id", "marketing.campaign.x", "id: must look like domain.product_name"),
    ("id", "1marketing.x", "id: must look like domain.product_name"),
    ("id", "marketing.Campaign", "id: must look like domain.product_name"),
    ("domain", "sales", "domain: must equal the id's prefix 'marketing'"),
    ("domain", DELETE, "domain: required"),
    ("domain", "", "domain: must not be empty"),
    ("name", DELETE, "name: required"),
    ("name", "", "name: must not be empty"),
    ("name", "   ", "name: must not be empty"),
    ("name", ["x"], "name: must be a string, not a list"),
    ("description", DELETE, "description: required"),
    ("description", None, "description: must be a string, not null"),
    ("colour", "red", "colour: unknown field"),
    ("qualitychecks", [], "qualitychecks: unknown field (did you mean 'qualityChecks'?)"),
    # owner
    ("owner", DELETE, "owner: required"),
    ("owner", "team", "owner: must be a mapping, not a string"),
    ("owner.team", DELETE, "owner.team: required"),
    ("owner.team", "", "owner.team: must not be empty"),
    ("owner.contact", DELETE, "owner.contact: required"),
    ("owner.contact", "marketing-data", "owner.contact: must be an e-mail address"),
    ("owner.contact", "a b@c.com", "owner.contact: must be an e-mail address"),
    ("owner.contact", "a@b", "owner.contact: must be an e-mail address"),
    ("owner.slackChannel", DELETE, "owner.slackChannel: required"),
    ("owner.slackChannel", 5, "owner.slackChannel: must be a string, not a number"),
    (
        "owner.slack_channel",
        "#x",
        "owner.slack_channel: unknown field (did you mean 'slackChannel'?)",
    ),
    # schema
    ("schema", DELETE, "schema: required"),
    ("schema", [], "schema: must declare at least one column"),
    ("schema", {"a": 1}, "schema: must be a list, not a mapping"),
    ("schema[0]", "attribution_id", "schema[0]: must be a mapping, not a string"),
    ("schema[3].type", "str", "schema[3].type: unknown column type 'str'; must be one of string, "),
    ("schema[3].type", DELETE, "schema[3].type: required"),
    ("schema[3].column", DELETE, "schema[3].column: required"),
    ("schema[3].column", "", "schema[3].column: must not be empty"),
    ("schema[3].column", "a\nb", "schema[3].column: must not contain control characters"),
    ("schema[3].column", "x" * 129, "schema[3].column: must be at most 128 characters"),
    ("schema[3].column", "campaign_id", "schema[3].column: duplicate column 'campaign_id' (also "),
    ("schema[3].description", DELETE, "schema[3].description: required"),
    ("schema[3].pii", "yes", "schema[3].pii: must be a boolean, not a string"),
    ("schema[3].pii", 1, "schema[3].pii: must be a boolean, not a number"),
    ("schema[3].nullable", None, "schema[3].nullable: must be a boolean, not null"),
    ("schema[3].mask", "last4", "schema[3].mask: only allowed on pii columns"),
    ("schema[1].mask", "stars", "schema[1].mask: must be one of last4, email, hash, null, redact"),
    ("schema[1].mask", None, "schema[1].mask: null is not a mask; write mask: 'null' (quoted)"),
    ("schema[1].masking", "hash", "schema[1].masking: unknown field (did you mean 'mask'?)"),
    # sla
    ("sla", DELETE, "sla: required"),
    ("sla", [], "sla: must be a mapping, not a list"),
    ("sla.freshness", "2h", "sla.freshness: must be one of realtime, 1h, 4h, 24h"),
    ("sla.freshness", DELETE, "sla.freshness: required"),
    ("sla.availability", "99", "sla.availability: must be a number, not a string"),
    ("sla.availability", True, "sla.availability: must be a number, not a boolean"),
    ("sla.availability", 98.9, "sla.availability: must be between 99 and 100"),
    ("sla.availability", 100.01, "sla.availability: must be between 99 and 100"),
    ("sla.availability", float("nan"), "sla.availability: must be a finite number"),
    ("sla.availability", DELETE, "sla.availability: required"),
    ("sla.queryLatencyP95Ms", 0, "sla.queryLatencyP95Ms: must be greater than 0"),
    ("sla.queryLatencyP95Ms", -5, "sla.queryLatencyP95Ms: must be greater than 0"),
    ("sla.queryLatencyP95Ms", float("inf"), "sla.queryLatencyP95Ms: must be a finite number"),
    ("sla.queryLatencyP95Ms", DELETE, "sla.queryLatencyP95Ms: required"),
    ("sla.uptime", 99, "sla.uptime: unknown field"),
    # quality checks
    ("qualityChecks", DELETE, "qualityChecks: required"),
    ("qualityChecks", {}, "qualityChecks: must be a list, not a mapping"),
    ("qualityChecks[0]", 3, "qualityChecks[0]: must be a mapping, not a number"),
    (
        "qualityChecks[0].type",
        "regex",
        "qualityChecks[0].type: unknown check type 'regex'; the engine runs: "
        "not_null, unique, range, freshness, row_count, custom_sql, accepted_values",
    ),
    ("qualityChecks[0].type", DELETE, "qualityChecks[0].type: required"),
    ("qualityChecks[0].name", DELETE, "qualityChecks[0].name: required"),
    ("qualityChecks[0].name", "", "qualityChecks[0].name: must not be empty"),
    (
        "qualityChecks[1].name",
        "no_null_campaign_ids",
        "qualityChecks[1].name: duplicate check 'no_null_campaign_ids' (also qualityChecks[0])",
    ),
    (
        "qualityChecks[0].severity",
        "critical",
        "qualityChecks[0].severity: must be one of error, warning",
    ),
    ("qualityChecks[0].severity", DELETE, "qualityChecks[0].severity: required"),
    (
        "qualityChecks[0].column",
        "campaign",
        "qualityChecks[0].column: 'campaign' is not a declared column",
    ),
    ("qualityChecks[0].column", DELETE, "qualityChecks[0].column: required for not_null"),
    ("qualityChecks[0].column", 7, "qualityChecks[0].column: must be a string, not a number"),
    ("qualityChecks[0].params", [], "qualityChecks[0].params: must be a mapping, not a list"),
    (
        "qualityChecks[0].params",
        {"threshold": 1},
        "qualityChecks[0].params.threshold: unknown field (not_null takes no params)",
    ),
    ("qualityChecks[0].when", "always", "qualityChecks[0].when: unknown field"),
    ("qualityChecks[1].params", DELETE, "qualityChecks[1].params.sql: required for custom_sql"),
    ("qualityChecks[1].params.sql", "  ", "qualityChecks[1].params.sql: must not be empty"),
    (
        "qualityChecks[1].params.sql",
        1,
        "qualityChecks[1].params.sql: must be a string, not a number",
    ),
    ("qualityChecks[1].column", "nope", "qualityChecks[1].column: 'nope' is not a declared column"),
    (
        "qualityChecks[2].column",
        "channel",
        "qualityChecks[2].column: freshness needs a timestamp column, not string",
    ),
    ("qualityChecks[2].column", DELETE, "qualityChecks[2].column: required for freshness"),
    (
        "qualityChecks[2].params.maxStaleHours",
        0,
        "qualityChecks[2].params.maxStaleHours: must be a positive number",
    ),
    (
        "qualityChecks[2].params.maxStaleHours",
        "2",
        "qualityChecks[2].params.maxStaleHours: must be a number, not a string",
    ),
    (
        "qualityChecks[2].params.maxStaleHour",
        2,
        "qualityChecks[2].params.maxStaleHour: unknown field (freshness takes maxStaleHours); "
        "did you mean 'maxStaleHours'?",
    ),
    ("qualityChecks[3].params", {}, "qualityChecks[3].params: row_count needs params.minRows"),
    ("qualityChecks[3].params", DELETE, "qualityChecks[3].params: row_count needs params.minRows"),
    (
        "qualityChecks[3].params.minRows",
        -1,
        "qualityChecks[3].params.minRows: must be a non-negative",
    ),
    ("qualityChecks[3].params.minRows", 1.5, "qualityChecks[3].params.minRows: must be an integer"),
    (
        "qualityChecks[3].params.minRows",
        True,
        "qualityChecks[3].params.minRows: must be an integer, not a boolean",
    ),
    (
        "qualityChecks[3].params.maxRows",
        999,
        "qualityChecks[3].params.minRows: must not exceed params.maxRows (1000 > 999)",
    ),
    ("qualityChecks[3].column", "channel", "qualityChecks[3].column: not used by row_count"),
    ("qualityChecks[3].params.rows", 1, "qualityChecks[3].params.rows: unknown field"),
    (
        "qualityChecks[3].params.minRows",
        float("nan"),
        "qualityChecks[3].params.minRows: must be an integer",
    ),
    # tags
    ("tags", DELETE, "tags: required"),
    ("tags", "marketing", "tags: must be a list, not a string"),
    ("tags[1]", 3, "tags[1]: must be a string, not a number"),
    ("tags[1]", "", "tags[1]: must not be empty"),
    ("tags[1]", "marketing", "tags[1]: duplicate tag 'marketing'"),
    # version
    ("version", DELETE, "version: required"),
    ("version", True, "version: must be an integer, not a boolean"),
    ("version", "3", "version: must be an integer, not a string"),
    ("version", 3.5, "version: must be an integer, not a number"),
    ("version", 0, "version: must be a positive integer"),
    ("version", -2, "version: must be a positive integer"),
    # publishedAt
    ("publishedAt", "yesterday", "publishedAt: must be an ISO 8601 datetime"),
    ("publishedAt", "2025-03-01", "publishedAt: must be an ISO 8601 datetime"),
    ("publishedAt", "2025-13-01T00:00:00Z", "publishedAt: must be an ISO 8601 datetime"),
    ("publishedAt", "2025-02-30T00:00:00Z", "publishedAt: must be an ISO 8601 datetime"),
    ("publishedAt", 1740787200, "publishedAt: must be an ISO 8601 datetime"),
    # status
    ("status", DELETE, "status: required"),
    ("status", "live", "status: must be one of draft, published, deprecated, retired"),
    ("status", "Published", "status: must be one of draft, published, deprecated, retired"),
    # extensions
    ("table", "Marketing", "table: must be a lowercase SQL identifier"),
    ("table", "a-b", "table: must be a lowercase SQL identifier"),
    ("table", "1abc", "table: must be a lowercase SQL identifier"),
    ("table", "x; drop table y", "table: must be a lowercase SQL identifier"),
    ("table", "t" * 64, "table: must be at most 63 characters"),
    ("table", 5, "table: must be a string, not a number"),
    ("deprecation", {"reason": "old"}, "deprecation: only allowed when status is deprecated"),
]


@pytest.mark.parametrize(
    ("path", "value", "expected"), REFUSED, ids=[case_id(p, v)[:60] for p, v, _ in REFUSED]
)
def test_refuses(path: str, value: object, expected: str) -> None:
    issues = issues_of(with_change(seed_document(), path, value))
    assert any(issue.startswith(expected) for issue in issues), issues
    assert len(issues) == 1, issues


def test_long_default_table_name_must_be_set_explicitly() -> None:
    long_id = "marketing." + "x" * 60
    doc = with_change(seed_document(), "id", long_id)
    assert issues_of(doc) == [
        f"table: the default table name 'marketing_{'x' * 60}' is longer than 63 characters; "
        "set table explicitly"
    ]
    parse_contract(with_change(doc, "table", "short"))


# --- check type rules -------------------------------------------------------------------------


def _with_check(check: dict[str, object]) -> dict[str, object]:
    return with_change(seed_document(), "qualityChecks[0]", check)


CHECK_REFUSED = [
    (
        {"name": "r", "type": "range", "column": "revenue_cents", "severity": "error"},
        "qualityChecks[0].params: range needs params.min and/or params.max",
    ),
    (
        {
            "name": "r",
            "type": "range",
            "column": "revenue_cents",
            "params": {"min": 5, "max": 1},
            "severity": "error",
        },
        "qualityChecks[0].params.min: must not exceed params.max (5 > 1)",
    ),
    (
        {
            "name": "r",
            "type": "range",
            "column": "revenue_cents",
            "params": {"min": "0"},
            "severity": "error",
        },
        "qualityChecks[0].params.min: must be a number, not a string",
    ),
    (
        {
            "name": "r",
            "type": "range",
            "column": "revenue_cents",
            "params": {"max": False},
            "severity": "error",
        },
        "qualityChecks[0].params.max: must be a number, not a boolean",
    ),
    (
        {
            "name": "r",
            "type": "range",
            "column": "channel",
            "params": {"min": 0},
            "severity": "error",
        },
        "qualityChecks[0].column: range needs a numeric column",
    ),
    (
        {"name": "r", "type": "range", "params": {"min": 0}, "severity": "error"},
        "qualityChecks[0].column: required for range",
    ),
    (
        {
            "name": "r",
            "type": "range",
            "column": "revenue_cents",
            "params": {"minimum": 0},
            "severity": "error",
        },
        "qualityChecks[0].params.minimum: unknown field (range takes min, max)",
    ),
    (
        {"name": "a", "type": "accepted_values", "column": "channel", "severity": "error"},
        "qualityChecks[0].params.values: required for accepted_values",
    ),
    (
        {
            "name": "a",
            "type": "accepted_values",
            "column": "channel",
            "params": {"values": []},
            "severity": "error",
        },
        "qualityChecks[0].params.values: must be a non-empty list",
    ),
    (
        {
            "name": "a",
            "type": "accepted_values",
            "column": "channel",
            "params": {"values": "paid"},
            "severity": "error",
        },
        "qualityChecks[0].params.values: must be a non-empty list",
    ),
    (
        {
            "name": "a",
            "type": "accepted_values",
            "column": "channel",
            "params": {"values": ["paid", None]},
            "severity": "error",
        },
        "qualityChecks[0].params.values[1]: must be a scalar, not null",
    ),
    (
        {
            "name": "a",
            "type": "accepted_values",
            "column": "channel",
            "params": {"values": ["paid", {"x": 1}]},
            "severity": "error",
        },
        "qualityChecks[0].params.values[1]: must be a scalar, not a mapping",
    ),
    (
        {
            "name": "a",
            "type": "accepted_values",
            "column": "channel",
            "params": {"values": ["paid", 3]},
            "severity": "error",
        },
        "qualityChecks[0].params.values[1]: does not match the column type string",
    ),
    (
        {
            "name": "a",
            "type": "accepted_values",
            "column": "revenue_cents",
            "params": {"values": [1, "2"]},
            "severity": "error",
        },
        "qualityChecks[0].params.values[1]: does not match the column type integer",
    ),
    (
        {"name": "a", "type": "accepted_values", "params": {"values": ["x"]}, "severity": "error"},
        "qualityChecks[0].column: required for accepted_values",
    ),
    (
        {"name": "u", "type": "unique", "severity": "error"},
        "qualityChecks[0].column: required for unique",
    ),
    (
        {
            "name": "u",
            "type": "unique",
            "column": "channel",
            "params": {"x": 1},
            "severity": "error",
        },
        "qualityChecks[0].params.x: unknown field (unique takes no params)",
    ),
    (
        {"name": "f", "type": "freshness", "column": "revenue_cents", "severity": "error"},
        "qualityChecks[0].column: freshness needs a timestamp column, not integer",
    ),
    (
        {
            "name": "s",
            "type": "custom_sql",
            "params": {"sql": "select 1", "query": "x"},
            "severity": "error",
        },
        "qualityChecks[0].params.query: unknown field (custom_sql takes sql)",
    ),
    (
        {
            "name": "s",
            "type": "custom_sql",
            "params": {"sql": {"nested": [1]}},
            "severity": "error",
        },
        "qualityChecks[0].params.sql: must be a string, not a mapping",
    ),
]


@pytest.mark.parametrize(
    ("check", "expected"), CHECK_REFUSED, ids=[e.split(": ", 1)[1][:50] for _, e in CHECK_REFUSED]
)
def test_refuses_check(check: dict[str, object], expected: str) -> None:
    issues = issues_of(_with_check(check))
    assert any(issue.startswith(expected) for issue in issues), issues


def test_params_must_be_json_data() -> None:
    doc = _with_check(
        {"name": "s", "type": "custom_sql", "params": {"sql": {1, 2}}, "severity": "error"}
    )
    issues = issues_of(doc)
    assert "qualityChecks[0].params.sql: must be JSON data, not set" in issues


def test_params_nested_too_deeply_is_refused() -> None:
    deep: object = "x"
    for _ in range(50):
        deep = [deep]
    doc = _with_check(
        {"name": "s", "type": "custom_sql", "params": {"sql": deep}, "severity": "error"}
    )
    assert any("nested too deeply" in i for i in issues_of(doc))


# --- deprecation ----------------------------------------------------------------------------


def _deprecated(deprecation: object) -> dict[str, object]:
    doc = with_change(seed_document(), "status", "deprecated")
    return with_change(doc, "deprecation", deprecation)


def test_deprecation_accepted_with_only_a_reason() -> None:
    c = parse_contract(_deprecated({"reason": "superseded"}))
    assert c.deprecation is not None
    assert c.deprecation.sunset_at is None and c.deprecation.replaced_by is None


def test_deprecation_is_optional_even_when_deprecated() -> None:
    assert parse_contract(_deprecated(None)).deprecation is None


DEPRECATION_REFUSED = [
    ({"reason": ""}, "deprecation.reason: must not be empty"),
    ({"sunsetAt": "2026-01-01T00:00:00Z"}, "deprecation.reason: required"),
    ({"reason": "x", "sunsetAt": "soon"}, "deprecation.sunsetAt: must be an ISO 8601 datetime"),
    ({"reason": "x", "replacedBy": "Other"}, "deprecation.replacedBy: must be a product id"),
    (
        {"reason": "x", "replacedBy": "marketing.campaign_attribution"},
        "deprecation.replacedBy: must not be the product itself",
    ),
    (
        {"reason": "x", "replaced_by": "a.b"},
        "deprecation.replaced_by: unknown field (did you mean 'replacedBy'?)",
    ),
    ("because", "deprecation: must be a mapping, not a string"),
]


@pytest.mark.parametrize(("deprecation", "expected"), DEPRECATION_REFUSED)
def test_refuses_deprecation(deprecation: object, expected: str) -> None:
    issues = issues_of(_deprecated(deprecation))
    assert any(issue.startswith(expected) for issue in issues), issues


# --- all problems at once, never another exception --------------------------------------------


def test_lists_every_problem_in_document_order() -> None:
    doc = seed_document()
    doc = with_change(doc, "owner.contact", "nobody")
    doc = with_change(doc, "schema[3].type", "text")
    doc = with_change(doc, "sla.availability", "high")
    doc = with_change(doc, "qualityChecks[0].type", "regex")
    doc = with_change(doc, "qualityChecks[1].params.sql", "")
    doc = with_change(doc, "version", True)
    paths = [i.split(":")[0] for i in issues_of(doc)]
    assert paths == [
        "owner.contact",
        "schema[3].type",
        "sla.availability",
        "qualityChecks[0].type",
        "qualityChecks[1].params.sql",
        "version",
    ]


def test_a_broken_column_does_not_cascade_into_check_errors() -> None:
    doc = with_change(seed_document(), "schema[2].type", "uuid")
    assert len(issues_of(doc)) == 1  # no_null_campaign_ids still finds campaign_id


def test_error_text_joins_lines() -> None:
    doc = with_change(with_change(seed_document(), "version", 0), "status", "x")
    with pytest.raises(ContractError) as info:
        parse_contract(doc)
    assert str(info.value) == (
        "version: must be a positive integer\n"
        "status: must be one of draft, published, deprecated, retired"
    )
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "data",
    [None, [], (), 1, 1.5, True, "", "x" * 1_000_000, b"bytes", set(), object(),
     {1: 2}, {None: None}, {"schema": [[[[]]]]}, {"qualityChecks": [{"params": {(1,): 1}}]}],
    ids=lambda d: type(d).__name__,
)  # fmt: skip
def test_garbage_raises_only_contract_error(data: object) -> None:
    issues_of(data)


def test_not_a_mapping_message() -> None:
    assert issues_of([1]) == ["the contract must be a mapping (a YAML/JSON object), not a list"]


def test_every_field_replaced_by_garbage_raises_only_contract_error() -> None:
    garbage: list[object] = [
        None, True, -1, 0.5, float("nan"), "", "x" * 10_000, [], {}, [None], {"k": []}
    ]  # fmt: skip

    def paths(value: object, prefix: str = "") -> list[str]:
        out = [prefix] if prefix else []
        if isinstance(value, dict):
            for key, item in value.items():
                out += paths(item, f"{prefix}.{key}" if prefix else key)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                out += paths(item, f"{prefix}[{i}]")
        return out

    for make in (seed_document, full_document):
        doc = make()
        for path in paths(doc):
            for value in garbage:
                try:
                    parse_contract(with_change(doc, path, value))
                except ContractError as exc:
                    assert exc.issues


def test_huge_unknown_key_is_shortened_in_the_path() -> None:
    issues = issues_of(with_change(seed_document(), "k" * 10_000, 1))
    assert len(issues[0]) < 200


def test_deeply_nested_document_raises_contract_error() -> None:
    deep: object = {}
    for _ in range(5000):
        deep = {"schema": [deep]}
    issues_of(deep)


def test_contract_is_immutable() -> None:
    c = parse_contract(seed_document())
    with pytest.raises(AttributeError):
        c.version = 4  # type: ignore[misc]
    assert isinstance(c, Contract) and isinstance(c.schema[0], ColumnSpec)


def test_integral_floats_are_stored_as_integers() -> None:
    doc = with_change(seed_document(), "qualityChecks[3].params.minRows", 1000.0)
    doc = with_change(doc, "version", 3.0)
    c = parse_contract(doc)
    assert type(c.quality_checks[3].params["minRows"]) is int
    assert type(c.version) is int
    assert c == parse_contract(seed_document())
