"""Which domain a table belongs to: the warehouses' ASCII-only folding, prefixes, assignments.

Pure: no database. The publish gate built on it is tested in test_table_binding.py.
"""

from __future__ import annotations

import sys
import unicodedata

import pytest

from catalog.demo import load_demo_contracts
from catalog.demo.people import DEMO_DOMAINS
from catalog.demo.warehouse import table_name
from catalog.governance.namespace import (
    ascii_lower,
    default_prefix,
    prefix_problem,
    same_table,
    table_name_problem,
    table_owner,
)

PREFIXES = {"marketing": "marketing_", "finance": "finance_", "marketing-eu": "marketing_eu_"}


def owner(table: str, assignments: dict[str, str] | None = None) -> str | None:
    return table_owner(table, prefixes=PREFIXES, assignments=assignments or {}).domain


def lookalikes() -> list[tuple[str, str]]:
    """Every non-ASCII code point that Python's lower(), casefold() or NFKC maps to ASCII
    letters (U+212A KELVIN SIGN → k, U+017F LONG S → s, fullwidth and mathematical letters)."""
    found = []
    for code in range(0x80, sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        if (
            char.lower() == char
            and char.casefold() == char
            and unicodedata.is_normalized("NFKC", char)
        ):
            continue  # all three mappings leave it alone (fast path: most code points)
        for mapped in (
            char.lower(),
            char.casefold(),
            unicodedata.normalize("NFKC", char).casefold(),
        ):
            ascii_part = "".join(c for c in mapped if "a" <= c <= "z")
            if ascii_part and mapped.isascii():
                found.append((char, mapped))
                break
            if ascii_part and mapped != char:  # "i̇": an ASCII letter and a combining mark
                found.append((char, mapped))
                break
    return found


def test_there_are_lookalikes_to_test_kelvin_among_them() -> None:
    chars = {c for c, _ in lookalikes()}
    assert "\u212a" in chars  # KELVIN SIGN lowers to "k"
    assert "\u0130" in chars  # LATIN CAPITAL LETTER I WITH DOT ABOVE lowers to "i̇"
    assert "\u017f" in chars  # LATIN SMALL LETTER LONG S casefolds to "s"
    assert "\uff2b" in chars  # FULLWIDTH LATIN CAPITAL LETTER K is "k" after NFKC
    assert len(chars) > 500


@pytest.mark.parametrize(("char", "lowered"), lookalikes(), ids=lambda v: f"U+{ord(v[0]):04X}")
def test_no_lookalike_code_point_folds_onto_an_ascii_name(char: str, lowered: str) -> None:
    # Python's str.lower() would take "mar<char>eting_x" for the marketing table; the
    # warehouses do not, and neither does the namespace.
    table = f"marketing_{char}pis"
    assert ascii_lower(table) != f"marketing_{lowered}pis"
    assert not same_table(table, f"marketing_{lowered}pis")
    assert owner(table) is None
    # Nor does an assignment of the ASCII name cover the look-alike, or the other way round.
    assert owner(f"{char}pis", {f"{lowered}pis": "marketing"}) is None
    assert owner(f"{lowered}pis", {f"{char}pis": "marketing"}) is None


def test_kelvin_sign_is_not_k() -> None:
    assert "mar\u212aeting_x".lower() == "marketing_x"  # what the gate must not rely on
    assert owner("mar\u212aeting_x") is None
    assert table_owner("mar\u212aeting_x", prefixes=PREFIXES, assignments={}).via == "not_plain"


def test_ascii_case_folds_as_the_warehouses_fold() -> None:
    assert same_table("Marketing_Campaigns", "marketing_campaigns")
    assert owner("MARKETING_CAMPAIGNS") == "marketing"


def test_an_exactly_assigned_non_ascii_name_belongs_to_its_domain_only() -> None:
    assigned = {"caf\u00e9_orders": "finance"}
    assert owner("caf\u00e9_orders", assigned) == "finance"
    assert owner("cafe\u0301_orders", assigned) is None  # the decomposed spelling is another name
    assert owner("CAF\u00c9_orders", assigned) is None  # not folded: the engines don't either


def test_default_prefix_maps_dashes_to_underscores() -> None:
    assert default_prefix("growth-eu") == "growth_eu_"
    assert default_prefix("marketing") == "marketing_"


def test_longest_matching_prefix_wins() -> None:
    assert owner("marketing_eu_sales") == "marketing-eu"
    assert owner("marketing_europe") == "marketing"
    assert owner("marketing_") is None  # the prefix alone names no table of the domain


def test_an_assignment_wins_over_every_prefix() -> None:
    assert owner("marketing_hr_export", {"marketing_hr_export": "finance"}) == "finance"
    assert owner("salaries", {"salaries": "finance"}) == "finance"
    assert owner("salaries") is None


def test_two_domains_with_one_prefix_own_nothing() -> None:
    found = table_owner("shared_x", prefixes={"a": "shared_", "b": "shared_"}, assignments={})
    assert (found.domain, found.via) == (None, "ambiguous")


@pytest.mark.parametrize(
    ("prefix", "ok"),
    [
        ("mkt_", True),
        ("marketing_eu_", True),
        ("mkt", False),  # must end with "_", or "mkt" would also cover "mktg_..." tables
        ("_", False),
        ("Mkt_", False),
        ("m\u212at_", False),
        ("", False),
        ("a" * 62 + "_", False),
    ],
)
def test_prefixes_are_lowercase_ascii_ending_with_an_underscore(prefix: str, ok: bool) -> None:
    assert (prefix_problem(prefix) is None) is ok


@pytest.mark.parametrize(
    ("table", "ok"),
    [("salaries", True), ("_x", True), ("Salaries", False), ("x\n", False), ("ſalaries", False)],
)
def test_assignable_table_names_are_what_a_contract_can_bind(table: str, ok: bool) -> None:
    assert (table_name_problem(table) is None) is ok


def test_every_demo_table_is_in_its_domains_default_namespace() -> None:
    prefixes = {slug: default_prefix(slug) for slug in DEMO_DOMAINS}
    for contract in load_demo_contracts():
        found = table_owner(table_name(contract), prefixes=prefixes, assignments={})
        assert (found.domain, found.via) == (contract["domain"], "prefix"), contract["id"]
