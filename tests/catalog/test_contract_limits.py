"""Text fields are bounded by what the catalog stores, so PostgreSQL never truncates or fails."""

from __future__ import annotations

import pytest

from catalog.contract import FIELD_MAX_LENGTH, ContractError, parse_contract
from tests.factories import seed_document


@pytest.mark.parametrize(
    ("path", "key"),
    [((), "name"), (("owner",), "team"), (("owner",), "slackChannel")],
)
def test_over_long_text_is_refused_naming_the_field(path: tuple[str, ...], key: str) -> None:
    doc = seed_document()
    target = doc
    for part in path:
        target = target[part]
    target[key] = "x" * (FIELD_MAX_LENGTH[key] + 1)
    with pytest.raises(ContractError) as caught:
        parse_contract(doc)
    expected = ".".join([*path, key])
    assert any(i.path == expected and "at most" in i.message for i in caught.value.issues)


def test_text_at_the_limit_is_accepted() -> None:
    doc = seed_document()
    doc["name"] = "x" * FIELD_MAX_LENGTH["name"]
    doc["qualityChecks"][0]["name"] = "c" * FIELD_MAX_LENGTH["name"]
    assert parse_contract(doc).name == doc["name"]
