"""Global governance policies: defaults, PII detection, federation (stricter only)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from catalog.contract import parse_contract
from catalog.governance.policies import (
    DEFAULT_POLICIES,
    POLICIES,
    SQL_RESERVED_WORDS,
    PolicyRule,
    Violation,
    evaluate_policies,
    has_errors,
    iban_ok,
    luhn_ok,
    merge_rules,
    parse_rules,
    pii_category_for_name,
    pii_category_for_value,
)
from tests.catalog import full_document, seed_document, with_change


def violations(doc: dict[str, Any], rules=DEFAULT_POLICIES, samples=None) -> list[Violation]:
    return evaluate_policies(parse_contract(doc), rules, samples=samples)


def errors(doc: dict[str, Any], **kwargs: Any) -> list[Violation]:
    return [v for v in violations(doc, **kwargs) if v.severity == "error"]


def add_column(doc: dict[str, Any], name: str, **extra: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    out["schema"].append({"column": name, "type": "string", "description": "d", **extra})
    return out


# --- the seed -------------------------------------------------------------------------------


def test_seed_publishes_with_warnings_only() -> None:
    found = violations(seed_document())
    assert not has_errors(found)
    assert {v.severity for v in found} == {"warning"}
    assert [(v.policy, v.path) for v in found] == [
        ("pii.identifier_mask", "schema[1].mask"),
        ("checks.not_null", "schema[0]"),
        ("checks.not_null", "schema[1]"),
        ("checks.not_null", "schema[3]"),
        ("checks.not_null", "schema[4]"),
        ("checks.not_null", "schema[7]"),
    ]
    assert found[1].message == (
        "column attribution_id is declared not nullable but has no not_null check"
    )


def test_seed_samples_that_look_like_ids_do_not_trip_pii_detection() -> None:
    samples = {
        "attribution_id": ["a-1", "a-2", "a-3"],
        "campaign_id": ["spring-2025", "summer-2025"],
        "channel": ["organic", "paid", "email", "referral"],
        "touchpoint_at": ["2025-03-01T10:00:00Z", "2025-03-01 11:00:00"],
        "conversion_at": [None, "2025-03-02"],
        "revenue_cents": [1200, 0, None],
        "attribution_model": ["linear", "time_decay"],
    }
    assert not has_errors(violations(seed_document(), samples=samples))


def test_full_contract_has_no_violations() -> None:
    assert violations(full_document()) == []


def test_every_policy_is_documented_and_in_the_defaults() -> None:
    assert [r.key for r in DEFAULT_POLICIES] == list(POLICIES)
    for definition in POLICIES.values():
        assert definition.title and definition.description
        assert definition.default_severity in ("error", "warning", "off")
    defaults = {r.key: r.severity for r in DEFAULT_POLICIES}
    assert defaults["naming.column_snake_case"] == "error"
    assert defaults["metadata.product_description"] == "error"
    assert defaults["metadata.owner_contact"] == "error"
    assert defaults["pii.column_names"] == "error"
    assert defaults["pii.sampled_values"] == "error"
    assert defaults["checks.freshness"] == "warning"
    assert defaults["checks.not_null"] == "warning"


# --- naming ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["order", "user", "select", "Group", "table", "limit"])
def test_reserved_word_column_is_an_error(name: str) -> None:
    found = errors(add_column(seed_document(), name))
    assert any(
        v.policy == "naming.no_reserved_words" and v.path == "schema[8].column" for v in found
    )


def test_order_column_message() -> None:
    found = [
        v for v in errors(add_column(seed_document(), "order")) if v.policy.startswith("naming")
    ]
    assert found == [
        Violation(
            "naming.no_reserved_words",
            "schema[8].column",
            "column order is an SQL reserved word; rename it (e.g. order_value)",
            "error",
        )
    ]


@pytest.mark.parametrize("name", ["date", "timestamp", "name", "status", "type", "value"])
def test_common_non_reserved_names_are_fine(name: str) -> None:
    assert name not in SQL_RESERVED_WORDS
    assert not errors(add_column(seed_document(), name))


@pytest.mark.parametrize("name", ["CampaignId", "campaign-id", "1st_touch", "_hidden", "a b"])
def test_non_snake_case_column_is_an_error(name: str) -> None:
    found = errors(add_column(seed_document(), name))
    assert [v.policy for v in found] == ["naming.column_snake_case"]
    assert found[0].path == "schema[8].column"


def test_product_id_pattern_can_be_made_stricter_by_params() -> None:
    rules = [PolicyRule("naming.product_id", "error", {"pattern": r"^marketing\.[a-z_]+_v\d+$"})]
    assert [v.policy for v in violations(seed_document(), rules=rules)] == ["naming.product_id"]


def test_extra_reserved_words_from_params() -> None:
    rules = [PolicyRule("naming.no_reserved_words", "error", {"extra_words": ["Channel"]})]
    assert [v.path for v in violations(seed_document(), rules=rules)] == ["schema[3].column"]


# --- required metadata --------------------------------------------------------------------------


def test_missing_product_description_is_an_error() -> None:
    found = errors(with_change(seed_document(), "description", "  "))
    assert [(v.policy, v.path) for v in found] == [("metadata.product_description", "description")]


def test_missing_column_description_is_a_warning() -> None:
    found = violations(with_change(seed_document(), "schema[2].description", ""))
    assert ("metadata.column_descriptions", "schema[2].description", "warning") in [
        (v.policy, v.path, v.severity) for v in found
    ]


@pytest.mark.parametrize(
    ("slack", "message"),
    [
        ("", "the owner needs a Slack channel for consumers' questions"),
        ("marketing-data", "Slack channel marketing-data should start with #"),
    ],
)
def test_slack_channel_is_a_warning(slack: str, message: str) -> None:
    found = [
        v
        for v in violations(with_change(seed_document(), "owner.slackChannel", slack))
        if v.policy == "metadata.owner_slack"
    ]
    assert found == [Violation("metadata.owner_slack", "owner.slackChannel", message, "warning")]


def test_no_tags_is_a_warning() -> None:
    found = violations(with_change(seed_document(), "tags", []))
    assert ("metadata.tags", "warning") in [(v.policy, v.severity) for v in found]


def test_description_min_length_param() -> None:
    rules = [PolicyRule("metadata.product_description", "error", {"min_length": 500})]
    found = violations(seed_document(), rules=rules)
    assert found[0].message == "the description needs at least 500 characters"


# --- PII ------------------------------------------------------------------------------------


def test_unflagged_email_column_is_an_error() -> None:
    found = errors(add_column(seed_document(), "email"))
    assert found == [
        Violation(
            "pii.column_names",
            "schema[8].pii",
            "column email looks like personal data (e-mail address) by its name; set pii: true",
            "error",
        )
    ]


def test_flagged_email_column_is_fine() -> None:
    assert not errors(add_column(seed_document(), "email", pii=True, mask="email"))


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("email", "e-mail address"),
        ("customer_email", "e-mail address"),
        ("email_address", "e-mail address"),
        ("phone", "phone number"),
        ("mobile_number", "phone number"),
        ("first_name", "person's name"),
        ("last_name", "person's name"),
        ("full_name", "person's name"),
        ("customer_name", "person's name"),
        ("surname", "person's name"),
        ("username", "person's name"),
        ("address", "postal address"),
        ("billing_address_line_1", "postal address"),
        ("postal_code", "postal address"),
        ("ip_address", "IP address"),
        ("client_ip", "IP address"),
        ("dob", "birth date"),
        ("date_of_birth", "birth date"),
        ("birth_date", "birth date"),
        ("user_id", "person identifier"),
        ("customer_id", "person identifier"),
        ("card_number", "payment or account number"),
        ("account_number", "payment or account number"),
        ("iban", "payment or account number"),
        ("ssn", "government identifier"),
        ("passport_number", "government identifier"),
    ],
)
def test_personal_column_names(name: str, category: str) -> None:
    assert pii_category_for_name(name) == category


@pytest.mark.parametrize(
    "name",
    [
        "attribution_id",
        "campaign_id",
        "campaign_name",
        "email_campaign_id",
        "channel",
        "account_type",
        "order_id",
        "product_name",
        "shipping_method",
        "revenue_cents",
        "touchpoint_at",
        "archive_size",
    ],
)
def test_ordinary_column_names(name: str) -> None:
    assert pii_category_for_name(name) is None


def test_sampled_email_values_in_an_innocent_column_are_an_error() -> None:
    doc = add_column(seed_document(), "contact_x")
    samples = {"contact_x": ["ann@example.com", "bob@example.org", None, "n/a", "cy@example.net"]}
    found = errors(doc, samples=samples)
    assert found == [
        Violation(
            "pii.sampled_values",
            "schema[8].pii",
            "column contact_x: 3 of 4 sampled values look like personal data (mostly e-mail "
            "address); set pii: true",
            "error",
        )
    ]
    # Flagging it settles it.
    flagged = add_column(seed_document(), "contact_x", pii=True)
    assert not errors(flagged, samples=samples)


def test_sampled_values_below_the_threshold_pass() -> None:
    doc = add_column(seed_document(), "notes")
    samples = {"notes": ["ann@example.com", "call back", "ok", "fine"]}
    assert not errors(doc, samples=samples)


def test_domain_can_lower_the_sampling_threshold() -> None:
    doc = add_column(seed_document(), "notes")
    samples = {"notes": ["ann@example.com", "call back", "ok", "fine"]}
    strict = merge_rules(
        DEFAULT_POLICIES, [PolicyRule("pii.sampled_values", "error", {"threshold": 0.2})]
    )
    assert [v.policy for v in errors(doc, rules=strict, samples=samples)] == ["pii.sampled_values"]


@pytest.mark.parametrize(
    ("value", "category"),
    [
        ("ann@example.com", "e-mail address"),
        ("+49 30 1234567", "phone number"),
        ("(555) 123-4567", "phone number"),
        ("+14155550100", "phone number"),
        ("4111 1111 1111 1111", "payment card number"),
        ("4111-1111-1111-1111", "payment card number"),
        ("5500000000000004", "payment card number"),
        ("DE89 3704 0044 0532 0130 00", "IBAN"),
        ("GB82WEST12345698765432", "IBAN"),
        ("192.168.10.1", "IP address"),
        ("2001:db8::8a2e:370:7334", "IP address"),
    ],
)
def test_personal_values(value: str, category: str) -> None:
    assert pii_category_for_value(value) == category


@pytest.mark.parametrize(
    "value",
    [
        "2025-03-01",
        "2025-03-01T10:00:00Z",
        "1.234.567",
        "12345678",
        "4111111111111112",  # fails Luhn
        "DE89 3704 0044 0532 0130 01",  # fails mod 97
        "organic",
        "v1.2.3",
        "999.1.1.1",
        12345,
        None,
        "x" * 1000,
    ],
)
def test_ordinary_values(value: object) -> None:
    assert pii_category_for_value(value) is None


def test_checksums() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("GB82 WEST 1234 5698 7654 32") and not iban_ok("GB83WEST12345698765432")


def test_ignore_columns_param_exempts_a_column() -> None:
    doc = add_column(seed_document(), "client_id")
    rules = [PolicyRule("pii.column_names", "error", {"ignore_columns": ["client_id"]})]
    assert violations(doc, rules=rules) == []


# --- required checks ------------------------------------------------------------------------


def test_published_product_without_freshness_check_gets_a_warning() -> None:
    doc = seed_document()
    doc["qualityChecks"].pop(2)
    found = [v for v in violations(doc) if v.policy == "checks.freshness"]
    assert found == [
        Violation(
            "checks.freshness",
            "qualityChecks",
            "a published product needs a freshness check (e.g. on touchpoint_at) to prove its "
            "1h SLA",
            "warning",
        )
    ]


def test_required_checks_do_not_apply_to_drafts() -> None:
    doc = with_change(seed_document(), "status", "draft")
    doc["qualityChecks"].pop(2)
    doc["schema"][1]["mask"] = "hash"  # user_id: no pii.identifier_mask warning either
    assert violations(doc) == []


def test_deprecated_without_details_gets_warnings() -> None:
    doc = with_change(seed_document(), "status", "deprecated")
    doc["schema"][1]["mask"] = "hash"  # user_id: no pii.identifier_mask warning
    found = [(v.policy, v.path) for v in violations(doc)]
    assert found == [("lifecycle.deprecation_notice", "deprecation")]
    doc = with_change(doc, "deprecation", {"reason": "old"})
    found = [(v.policy, v.path) for v in violations(doc)]
    assert found == [
        ("lifecycle.deprecation_notice", "deprecation.sunsetAt"),
        ("lifecycle.deprecation_notice", "deprecation.replacedBy"),
    ]


# --- federation -----------------------------------------------------------------------------


def test_domain_stricter_rule_upgrades_a_warning_to_error() -> None:
    rules = merge_rules(DEFAULT_POLICIES, [PolicyRule("checks.not_null", "error")])
    found = violations(seed_document(), rules=rules)
    assert has_errors(found)
    assert {v.severity for v in found if v.policy == "checks.not_null"} == {"error"}
    # Nothing else changed.
    others = {r.key: r for r in rules if r.key != "checks.not_null"}
    assert others == {r.key: r for r in DEFAULT_POLICIES if r.key != "checks.not_null"}


def test_domain_cannot_loosen_a_global_error() -> None:
    rules = merge_rules(
        DEFAULT_POLICIES,
        [
            PolicyRule("pii.column_names", "off"),
            PolicyRule("naming.no_reserved_words", "warning"),
            PolicyRule("checks.not_null", "off"),
        ],
    )
    by_key = {r.key: r.severity for r in rules}
    assert by_key["pii.column_names"] == "error"
    assert by_key["naming.no_reserved_words"] == "error"
    assert by_key["checks.not_null"] == "warning"
    assert [v.policy for v in errors(add_column(seed_document(), "email"), rules=rules)] == [
        "pii.column_names"
    ]


def test_domain_cannot_loosen_params() -> None:
    rules = merge_rules(
        DEFAULT_POLICIES,
        [
            PolicyRule("pii.sampled_values", "error", {"threshold": 0.99, "min_samples": 50}),
            PolicyRule("pii.column_names", "error", {"ignore_columns": ["email"]}),
            PolicyRule("metadata.product_description", "error", {"min_length": 0}),
        ],
    )
    params = {r.key: r.params for r in rules}
    assert params["pii.sampled_values"]["threshold"] == 0.5
    assert params["pii.sampled_values"]["min_samples"] == 1
    assert params["pii.column_names"]["ignore_columns"] == []
    assert params["metadata.product_description"]["min_length"] == 1


def test_domain_can_narrow_global_exemptions() -> None:
    global_rules = [PolicyRule("pii.column_names", "error", {"ignore_columns": ["a_id", "b_id"]})]
    rules = merge_rules(
        global_rules, [PolicyRule("pii.column_names", "error", {"ignore_columns": ["a_id"]})]
    )
    assert rules[0].params["ignore_columns"] == ["a_id"]


def test_domain_can_turn_on_a_rule_the_platform_has_off() -> None:
    global_rules = [PolicyRule("metadata.tags", "off"), PolicyRule("checks.not_null", "warning")]
    rules = merge_rules(global_rules, [PolicyRule("metadata.tags", "warning")])
    assert PolicyRule("metadata.tags", "warning") in rules
    missing = merge_rules([], [PolicyRule("checks.freshness", "error")])
    assert missing == [PolicyRule("checks.freshness", "error")]


def test_domain_can_extend_required_checks_to_deprecated_products() -> None:
    rules = merge_rules(
        DEFAULT_POLICIES,
        [PolicyRule("checks.not_null", "warning", {"statuses": ["deprecated"]})],
    )
    doc = with_change(seed_document(), "status", "deprecated")
    assert any(v.policy == "checks.not_null" for v in violations(doc, rules=rules))


def test_off_rules_are_not_evaluated() -> None:
    rules = [PolicyRule(r.key, "off", r.params) for r in DEFAULT_POLICIES]
    assert violations(add_column(seed_document(), "order"), rules=rules) == []


def test_errors_come_first() -> None:
    doc = add_column(seed_document(), "Email")
    found = violations(doc)
    severities = [v.severity for v in found]
    assert severities == sorted(severities, key=lambda s: s != "error")
    assert severities[0] == "error"


def test_parse_rules_round_trips_and_refuses_garbage() -> None:
    data = [r.to_dict() for r in DEFAULT_POLICIES]
    assert parse_rules(data) == DEFAULT_POLICIES
    assert parse_rules([{"key": "checks.not_null", "severity": "error"}]) == [
        PolicyRule("checks.not_null", "error")
    ]
    assert parse_rules(
        [{"key": "pii.sampled_values", "severity": "error", "params": {"threshold": 0.3}}]
    ) == [PolicyRule("pii.sampled_values", "error", {"threshold": 0.3})]
    for bad in (
        "x",
        [1],
        [{"key": "nope", "severity": "error"}],
        [{"key": "checks.not_null", "severity": "fatal"}],
        [{"key": "checks.not_null", "severity": "error", "params": []}],
        [{"key": "checks.not_null", "severity": "error", "extra": 1}],
        [{"key": "checks.not_null", "severity": "error", "params": {"nope": 1}}],
        [{"key": "checks.not_null", "severity": "error", "params": {"statuses": "published"}}],
        [{"key": "pii.sampled_values", "severity": "error", "params": {"threshold": "high"}}],
        [{"key": "pii.sampled_values", "severity": "error", "params": {"threshold": 2}}],
        [{"key": "pii.sampled_values", "severity": "error", "params": {"min_samples": 1.5}}],
        [{"key": "pii.sampled_values", "severity": "error", "params": {"min_samples": True}}],
        [{"key": "naming.product_id", "severity": "error", "params": {"pattern": "("}}],
    ):
        with pytest.raises(ValueError):
            parse_rules(bad)


def test_unknown_rule_key_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        evaluate_policies(parse_contract(seed_document()), [PolicyRule("nope", "error")])
    with pytest.raises(ValueError):
        merge_rules(DEFAULT_POLICIES, [PolicyRule("nope", "error")])
    with pytest.raises(ValueError):
        merge_rules(DEFAULT_POLICIES, [PolicyRule("checks.not_null", "fatal")])


def test_violation_shapes() -> None:
    v = Violation("pii.column_names", "schema[8].pii", "msg", "error")
    assert str(v) == "error: schema[8].pii: msg [pii.column_names]"
    assert v.to_dict() == {
        "policy": "pii.column_names",
        "path": "schema[8].pii",
        "message": "msg",
        "severity": "error",
    }
