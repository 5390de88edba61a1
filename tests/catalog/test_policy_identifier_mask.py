"""Policy pii.identifier_mask (issue 12): identifier-like PII columns should be hashed."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog.contract import MASKS, parse_contract
from catalog.demo import load_demo_contracts
from catalog.governance.policies import (
    COLLAPSING_MASKS,
    DEFAULT_POLICIES,
    POLICIES,
    PolicyRule,
    evaluate_policies,
    looks_like_identifier,
    merge_rules,
)
from querying.governor.core import COLLAPSING_MASKS as GOVERNOR_COLLAPSING_MASKS
from tests.factories import seed_document

KEY = "pii.identifier_mask"


def findings(doc: dict[str, Any], rules: list[PolicyRule] | None = None) -> list[Any]:
    found = evaluate_policies(parse_contract(doc), rules or DEFAULT_POLICIES)
    return [v for v in found if v.policy == KEY]


def with_column(name: str, *, pii: bool = True, mask: str | None = None) -> dict[str, Any]:
    doc = seed_document()
    doc["schema"][1]["mask"] = "hash"  # the seed's user_id, out of the way
    column: dict[str, Any] = {"column": name, "type": "string", "description": "d", "pii": pii}
    if mask is not None:
        column["mask"] = mask
    doc["schema"].append(column)
    return doc


def test_the_seed_user_id_gets_a_warning_suggesting_hash() -> None:
    [violation] = findings(seed_document())
    assert violation.severity == "warning"
    assert violation.path == "schema[1].mask"
    assert violation.message.startswith(
        "column user_id looks like an identifier, but its mask last4 (the default) collapses values"
    )
    assert "set mask: hash" in violation.message


@pytest.mark.parametrize("mask", sorted(COLLAPSING_MASKS))
def test_every_collapsing_mask_on_an_id_is_flagged(mask: str) -> None:
    [violation] = findings(with_column("customer_id", mask=mask))
    assert violation.path == "schema[8].mask"
    assert f"its mask {mask} collapses" in violation.message


def test_hash_on_an_id_passes() -> None:
    assert findings(with_column("customer_id", mask="hash")) == []


@pytest.mark.parametrize(
    "name", ["id", "buyer_id", "customer", "account_key", "member_uuid", "visitor_id_2", "client"]
)
def test_identifier_like_names_are_flagged(name: str) -> None:
    assert len(findings(with_column(name))) == 1


@pytest.mark.parametrize(
    "name", ["card_number", "phone", "email", "full_name", "billing_address", "idea", "paid"]
)
def test_personal_columns_that_are_not_identifiers_keep_their_mask(name: str) -> None:
    assert findings(with_column(name)) == []


def test_a_column_that_is_not_pii_is_never_flagged() -> None:
    assert findings(with_column("order_id", pii=False)) == []


def test_ignored_columns_are_skipped_and_a_domain_can_only_shrink_the_list() -> None:
    rules = [PolicyRule(KEY, "warning", {"ignore_columns": ["customer_id"]})]
    assert findings(with_column("customer_id"), rules) == []
    merged = merge_rules(rules, [PolicyRule(KEY, "error", {"ignore_columns": []})])
    [violation] = findings(with_column("customer_id"), merged)
    assert violation.severity == "error"


def test_the_policy_is_a_default_warning() -> None:
    assert POLICIES[KEY].default_severity == "warning"
    assert PolicyRule(KEY, "warning", {"ignore_columns": []}) in DEFAULT_POLICIES


def test_collapsing_masks_are_the_governors() -> None:
    assert COLLAPSING_MASKS == GOVERNOR_COLLAPSING_MASKS
    assert set(MASKS) - COLLAPSING_MASKS == {"hash"}


WORD = st.from_regex(r"[a-z]{1,8}", fullmatch=True)


@given(
    prefix=WORD, suffix=st.sampled_from(["id", "key", "uuid", "guid"]), digits=st.integers(0, 99)
)
def test_generated_id_names_are_identifiers(prefix: str, suffix: str, digits: int) -> None:
    assert looks_like_identifier(f"{prefix}_{suffix}")
    assert looks_like_identifier(f"{prefix}_{suffix}_{digits}")
    assert looks_like_identifier(f"{prefix.upper()}_{suffix.upper()}")


@given(word=WORD)
def test_generated_names_without_an_id_part_are_not(word: str) -> None:
    name = f"{word}_amount"
    assert not looks_like_identifier(name)


def test_the_demo_hashes_its_identifier_like_pii_columns_except_the_seeds_own_contract() -> None:
    flagged = {}
    for doc in load_demo_contracts():
        found = findings(copy.deepcopy(doc))
        if found:
            flagged[doc["id"]] = [v.path for v in found]
        for column in doc["schema"]:
            if (
                column.get("pii")
                and looks_like_identifier(column["column"])
                and doc["id"] != "marketing.campaign_attribution"
            ):
                assert column.get("mask") == "hash", (doc["id"], column["column"])
    # The seed's contract stays as the seed wrote it: user_id with the default mask.
    assert flagged == {"marketing.campaign_attribution": ["schema[1].mask"]}
