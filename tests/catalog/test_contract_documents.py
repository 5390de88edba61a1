"""Reading contract text (YAML/JSON) and the published JSON Schema."""

from __future__ import annotations

import json
from typing import Any

import pytest

from catalog.contract import (
    ContractError,
    ContractIssue,
    dump_json,
    dump_yaml,
    json_schema,
    load_document,
    parse_contract,
)
from tests.catalog import DELETE, FIXTURES, full_document, seed_document, with_change

# --- load_document ------------------------------------------------------------------------------


def load_issues(text: str | bytes, filename: str | None = None) -> list[str]:
    with pytest.raises(ContractError) as info:
        load_document(text, filename=filename)
    return [str(i) for i in info.value.issues]


def test_yaml_syntax_error_names_file_and_line() -> None:
    text = "id: x\nowner:\n  team: [a\n  contact: b\n"
    [issue] = load_issues(text, "products/x.yaml")
    assert issue.startswith("products/x.yaml: invalid YAML: line ")
    assert "line 4" in issue


def test_yaml_error_without_filename_uses_a_placeholder() -> None:
    with pytest.raises(ContractError) as info:
        load_document("a: [")
    assert info.value.issues[0].path == "<document>"


def test_json_syntax_error_names_line_and_column() -> None:
    assert load_issues('{\n  "id": "x",\n  oops\n}', "c.json") == [
        "c.json: invalid JSON: line 3, column 3: Expecting property name enclosed in double quotes"
    ]


def test_json_nan_is_refused() -> None:
    [issue] = load_issues('{"sla": {"availability": NaN}}', "c.json")
    assert issue.startswith("c.json: invalid JSON")


def test_duplicate_keys_are_refused() -> None:
    [issue] = load_issues("id: a.b\nname: x\nid: a.c\n", "dup.yaml")
    assert issue == "dup.yaml: invalid YAML: line 3, column 1: duplicate key 'id'"


def test_aliases_are_refused() -> None:
    text = "a: &x [1, 2]\nb: *x\n"
    [issue] = load_issues(text)
    assert "aliases are not allowed" in issue


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    assert "aliases are not allowed" in load_issues("\n".join(lines))[0]


def test_multiple_documents_are_refused() -> None:
    assert "invalid YAML" in load_issues("a: 1\n---\nb: 2\n")[0]


def test_python_tags_are_refused() -> None:
    assert "invalid YAML" in load_issues("!!python/object/apply:os.system ['true']")[0]


def test_too_large_documents_are_refused() -> None:
    assert "document too large" in load_issues("x" * 1_000_001)[0]


def test_bytes_are_decoded_and_bad_bytes_refused() -> None:
    assert load_document(b"a: 1") == {"a": 1}
    assert "not UTF-8" in load_issues(b"a: \xff")[0]


def test_deeply_nested_yaml_is_refused_or_loaded_never_crashes() -> None:
    try:
        load_document("[" * 100_000)
    except ContractError as exc:
        assert exc.issues


def test_empty_document_is_none_and_parse_says_so() -> None:
    assert load_document("") is None
    with pytest.raises(ContractError) as info:
        parse_contract(load_document(""))
    assert str(info.value) == "the contract must be a mapping (a YAML/JSON object), not null"


def test_unquoted_yaml_timestamps_stay_text_and_parse_the_same() -> None:
    text = (FIXTURES / "campaign_attribution.yaml").read_text()
    unquoted = text.replace(
        "publishedAt: '2025-03-01T00:00:00Z'", "publishedAt: 2025-03-01T00:00:00Z"
    )
    assert unquoted != text
    doc = load_document(unquoted)
    assert isinstance(doc, dict) and doc["publishedAt"] == "2025-03-01T00:00:00Z"
    assert parse_contract(doc) == parse_contract(seed_document())


def test_unquoted_yaml_date_is_refused_as_not_a_datetime() -> None:
    text = (FIXTURES / "campaign_attribution.yaml").read_text()
    doc = load_document(
        text.replace("publishedAt: '2025-03-01T00:00:00Z'", "publishedAt: 2025-03-01")
    )
    with pytest.raises(ContractError) as info:
        parse_contract(doc)
    assert str(info.value).startswith("publishedAt: must be an ISO 8601 datetime")


def test_yaml_null_mask_value_is_a_string_when_quoted() -> None:
    # mask: null (unquoted) is YAML null = "no mask"; the mask named "null" must be quoted.
    c = parse_contract(full_document())
    assert c.schema[4].mask == "null"
    assert "mask: 'null'" in dump_yaml(c)


def test_dumps_are_stable_text() -> None:
    c = parse_contract(seed_document())
    assert dump_yaml(c).startswith("id: marketing.campaign_attribution\ndomain: marketing\n")
    assert "publishedAt: '2025-03-01T00:00:00Z'" in dump_yaml(c)
    assert json.loads(dump_json(c)) == c.to_dict()
    assert dump_json(c).endswith("}\n")


def test_unicode_survives_the_round_trip() -> None:
    c = parse_contract(with_change(seed_document(), "description", "Zürich — 東京 ✓"))
    assert "Zürich — 東京 ✓" in dump_yaml(c)
    assert parse_contract(load_document(dump_yaml(c))) == c
    assert parse_contract(load_document(dump_json(c), filename="c.json")) == c


# --- JSON Schema ------------------------------------------------------------------------------

jsonschema = pytest.importorskip("jsonschema")


def schema_errors(doc: object) -> list[str]:
    validator = jsonschema.Draft202012Validator(
        json_schema(), format_checker=jsonschema.FormatChecker()
    )
    return [e.message for e in validator.iter_errors(doc)]


def test_json_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "/v1/contracts/schema.json"
    json.dumps(schema)
    assert json_schema() == schema  # a fresh copy each call, same content


@pytest.mark.parametrize("make", [seed_document, full_document])
def test_valid_documents_pass_the_schema(make) -> None:
    assert schema_errors(make()) == []
    assert schema_errors(parse_contract(make()).to_dict()) == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("id", "Bad.Id"),
        ("owner.contact", "nobody"),
        ("schema[3].type", "text"),
        ("schema[3].colour", "red"),
        ("schema[3].mask", "hash"),  # mask on a non-pii column
        ("sla.freshness", "2h"),
        ("sla.availability", 98),
        ("sla.queryLatencyP95Ms", 0),
        ("qualityChecks[0].type", "regex"),
        ("qualityChecks[0].column", DELETE),
        ("qualityChecks[1].params", DELETE),
        ("qualityChecks[1].params.sql", ""),
        ("qualityChecks[2].params.maxStaleHour", 2),
        ("qualityChecks[3].params", {}),
        ("qualityChecks[3].params.minRows", -1),
        ("qualityChecks[3].column", "channel"),
        ("tags", ["a", "a"]),
        ("version", 0),
        ("version", True),
        ("publishedAt", "yesterday"),
        ("status", "live"),
        ("table", "Bad-Table"),
        ("deprecation", {"sunsetAt": "2026-01-01T00:00:00Z"}),
        ("extra", 1),
    ],
)
def test_invalid_documents_fail_the_schema_and_the_parser(path: str, value: object) -> None:
    doc: Any = with_change(seed_document(), path, value)
    assert schema_errors(doc), f"schema accepted {path}={value!r}"
    with pytest.raises(ContractError):
        parse_contract(doc)


def test_issue_shapes() -> None:
    issue = ContractIssue("schema[3].type", "must be one of ...")
    assert str(issue) == "schema[3].type: must be one of ..."
    assert str(ContractIssue("", "top")) == "top"
    err = ContractError([issue, ContractIssue("version", "required")])
    assert str(err) == "schema[3].type: must be one of ...\nversion: required"
