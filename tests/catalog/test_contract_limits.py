"""Contracts are bounded (issue #21): every list, text, number and date has a documented limit.

Each limit is refused one past it, naming the field path, and accepted at it. Validation is
linear: 100,000 tags are refused in milliseconds (it took 73 s for 50,000). Dates out of range,
NaN, infinities and huge numbers are ``ContractError``s, never an OverflowError or ValueError.
"""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from catalog import contract as c
from catalog.contract import (
    FIELD_MAX_LENGTH,
    ContractError,
    json_schema,
    load_document,
    parse_contract,
)
from tests.catalog import DELETE, full_document, seed_document, with_change


def issues_of(doc: Any) -> list[c.ContractIssue]:
    with pytest.raises(ContractError) as caught:
        parse_contract(doc)
    return caught.value.issues


def assert_refused(doc: Any, path: str, words: str) -> None:
    issues = issues_of(doc)
    assert any(i.path == path and words in i.message for i in issues), [str(i) for i in issues]


# --- text lengths -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "key"),
    [((), "name"), (("owner",), "team"), (("owner",), "slackChannel"), ((), "description")],
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
    doc["description"] = "d" * c.DESCRIPTION_MAX_LENGTH
    doc["schema"][0]["description"] = "d" * c.DESCRIPTION_MAX_LENGTH
    doc["qualityChecks"][0]["name"] = "c" * FIELD_MAX_LENGTH["name"]
    doc["tags"] = [f"{i:02d}" + "t" * (c.TAG_MAX_LENGTH - 2) for i in range(c.TAGS_MAX)]
    parsed = parse_contract(doc)
    assert parsed.name == doc["name"] and len(parsed.tags) == c.TAGS_MAX


# One past each limit, and what the error says. Built on the full document (every check type).
def _values(n: int) -> list[str]:
    return [f"v{i}" for i in range(n)]


LIMITS: list[tuple[str, Any, str]] = [
    ("tags", [f"t{i}" for i in range(c.TAGS_MAX + 1)], f"at most {c.TAGS_MAX} tags"),
    ("tags[0]", "t" * (c.TAG_MAX_LENGTH + 1), f"at most {c.TAG_MAX_LENGTH} characters"),
    ("description", "d" * (c.DESCRIPTION_MAX_LENGTH + 1), "at most 10000 characters"),
    ("schema[0].description", "d" * (c.DESCRIPTION_MAX_LENGTH + 1), "at most 10000"),
    ("name", "n" * 201, "at most 200 characters"),
    ("qualityChecks[0].name", "n" * 201, "at most 200 characters"),
    ("deprecation.reason", "r" * (c.REASON_MAX_LENGTH + 1), "at most 2000 characters"),
    ("sla.queryLatencyP95Ms", c.LATENCY_MAX_MS + 1, "at most 3,600,000"),
    ("qualityChecks[3].params.maxStaleHours", c.STALE_HOURS_MAX + 0.5, "at most 87,600"),
    ("qualityChecks[5].params.sql", "SELECT 1 " + " " * c.CUSTOM_SQL_MAX_LENGTH, "at most 10,000"),
    ("qualityChecks[6].params.values", _values(c.ACCEPTED_VALUES_MAX + 1), "at most 1000 values"),
    ("qualityChecks[6].params.values[0]", "v" * (c.ACCEPTED_VALUE_MAX_LENGTH + 1), "at most 200"),
    ("qualityChecks[4].params.maxRows", c.NUMBER_MAX + 1, "in magnitude"),
    ("qualityChecks[2].params.min", -c.NUMBER_MAX - 1, "in magnitude"),
]


@pytest.mark.parametrize(("path", "value", "words"), LIMITS, ids=[p for p, _, _ in LIMITS])
def test_one_past_each_limit_is_refused_naming_the_path(path: str, value: Any, words: str) -> None:
    assert_refused(with_change(full_document(), path, value), path, words)


@pytest.mark.parametrize(("path", "value", "words"), LIMITS, ids=[p for p, _, _ in LIMITS])
def test_the_json_schema_refuses_what_the_parser_refuses(path: str, value: Any, words: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    doc = with_change(full_document(), path, value)
    validator = jsonschema.Draft202012Validator(json_schema())
    assert list(validator.iter_errors(doc)), f"schema accepted {path}"


def test_column_and_check_counts_are_bounded() -> None:
    doc = seed_document()
    column = doc["schema"][0]
    doc["schema"] = [{**column, "column": f"c{i}"} for i in range(c.COLUMNS_MAX + 1)]
    doc["qualityChecks"] = [
        {"name": f"k{i}", "type": "row_count", "params": {"minRows": 1}, "severity": "error"}
        for i in range(c.CHECKS_MAX + 1)
    ]
    issues = issues_of(doc)
    paths = {i.path: i.message for i in issues}
    assert paths["schema"] == f"at most {c.COLUMNS_MAX} columns (got {c.COLUMNS_MAX + 1})"
    assert paths["qualityChecks"] == f"at most {c.CHECKS_MAX} checks (got {c.CHECKS_MAX + 1})"
    # An over-long schema is refused whole: the checks are not told their columns are missing.
    assert len(issues) == 2


def test_columns_and_checks_at_their_limits_are_accepted() -> None:
    doc = seed_document()
    column = {"column": "c", "type": "integer", "description": "x"}
    doc["schema"] = [{**column, "column": f"c{i}"} for i in range(c.COLUMNS_MAX)]
    doc["qualityChecks"] = [
        {"name": f"k{i}", "type": "not_null", "column": f"c{i}", "severity": "warning"}
        for i in range(c.CHECKS_MAX)
    ]
    parsed = parse_contract(doc)
    assert (len(parsed.schema), len(parsed.quality_checks)) == (c.COLUMNS_MAX, c.CHECKS_MAX)


@pytest.mark.parametrize("bad", ["line\nbreak", "tab\there", "nul\x00", "esc\x1b[31m"])
def test_tags_and_check_names_are_one_line(bad: str) -> None:
    assert_refused(with_change(seed_document(), "tags[0]", bad), "tags[0]", "control characters")
    doc = with_change(seed_document(), "qualityChecks[0].name", bad)
    assert_refused(doc, "qualityChecks[0].name", "control characters")


# --- linear time --------------------------------------------------------------------------


def timed_issues(doc: Any) -> tuple[float, list[c.ContractIssue]]:
    started = time.perf_counter()
    with pytest.raises(ContractError) as caught:
        parse_contract(doc)
    return time.perf_counter() - started, caught.value.issues


def growth(make: Any, n: int) -> float:
    """How much longer refusing ``make(10 * n)`` takes than ``make(n)`` (best of three each).

    Linear work grows about 10x, quadratic work 100x: a ratio, not a wall-clock limit, so a
    busy machine does not fail it (speed itself is the benchmarks' job).
    """

    def best(size: int) -> float:
        times = []
        for _ in range(3):
            doc = make(size)
            started = time.perf_counter()
            with pytest.raises(ContractError):
                parse_contract(doc)
            times.append(time.perf_counter() - started)
        return min(times)

    return best(10 * n) / max(best(n), 1e-4)


LINEAR = 40  # well under the 100x of quadratic work, well over linear's 10x and its noise


@pytest.mark.parametrize(
    "tags",
    [
        [f"tag-{i}" for i in range(100_000)],  # all different
        ["same"] * 100_000,  # all duplicates
        [f"t{i % 997}" for i in range(100_000)],  # many duplicates
    ],
    ids=["distinct", "identical", "mixed"],
)
def test_a_100000_tag_contract_is_refused_in_linear_time(tags: list[str]) -> None:
    _, issues = timed_issues(with_change(seed_document(), "tags", tags))
    assert [str(i) for i in issues] == ["tags: at most 50 tags (got 100000)"]
    # Was 73 s for 50,000: every tag compared with every other.
    ratio = growth(lambda n: with_change(seed_document(), "tags", tags[:n]), 10_000)
    assert ratio < LINEAR, ratio


def test_a_100000_tag_document_is_refused_from_json_text_too() -> None:
    text = json.dumps(with_change(seed_document(), "tags", [f"t{i}" for i in range(100_000)]))
    with pytest.raises(ContractError, match="at most 50 tags"):
        parse_contract(load_document(text, filename="big.json"))


def test_duplicate_tags_within_the_limit_are_still_named() -> None:
    doc = with_change(seed_document(), "tags", ["a", "b", "a", "c", "b"])
    issues = [str(i) for i in issues_of(doc)]
    assert issues == ["tags[2]: duplicate tag 'a'", "tags[4]: duplicate tag 'b'"]


def flood(n: int) -> dict[str, Any]:
    doc = seed_document()
    doc.update({f"unknown_{i}": 1 for i in range(n)})
    return doc


def test_a_flood_of_problems_reports_the_first_ones_and_a_count_in_linear_time() -> None:
    _, issues = timed_issues(flood(100_000))
    assert len(issues) == c.ISSUES_MAX + 1
    assert str(issues[-1]) == f"... and {100_000 - c.ISSUES_MAX} more problem(s)"
    ratio = growth(flood, 10_000)
    assert ratio < LINEAR, ratio


def bad_params(n: int) -> dict[str, Any]:
    doc = full_document()
    doc["qualityChecks"][6]["params"]["values"] = [
        [i] for i in range(min(n, c.ACCEPTED_VALUES_MAX))
    ]
    doc["qualityChecks"][0]["params"] = {f"p{i}": i for i in range(n)}
    return doc


def test_many_bad_params_and_values_stay_linear() -> None:
    _, issues = timed_issues(bad_params(100_000))
    assert issues
    ratio = growth(bad_params, 10_000)
    assert ratio < LINEAR, ratio


# --- dates --------------------------------------------------------------------------------

OUT_OF_RANGE_DATES = [
    "9999-12-31T23:59:59-14:00",  # past datetime.max once in UTC: was an OverflowError
    "9999-12-31T23:59:59Z",
    "9999-01-01T14:00:01+14:00",  # 9999-01-01T00:00:01Z
    "0001-01-01T00:00:00+14:00",  # before datetime.min once in UTC
    "0001-01-01T00:00:00Z",
    "0000-01-01T00:00:00Z",  # year 0
    "10000-01-01T00:00:00Z",  # year 10000
    "+10000-01-01T00:00:00Z",
    "1899-12-31T23:59:59Z",
    "1900-01-01T00:00:00+00:01",
]


@pytest.mark.parametrize("field", ["publishedAt", "deprecation.sunsetAt"])
@pytest.mark.parametrize("value", OUT_OF_RANGE_DATES)
def test_dates_out_of_range_are_a_validation_error_naming_the_path(field: str, value: str) -> None:
    doc = with_change(full_document(), field, value)
    assert_refused(doc, field, "out of range")


@pytest.mark.parametrize(
    "value",
    [
        datetime.max.replace(tzinfo=timezone(timedelta(hours=-14))),
        datetime.min.replace(tzinfo=timezone(timedelta(hours=14))),
        datetime.max,
        datetime.min,
        datetime(1899, 12, 31, 23, 0, tzinfo=UTC),
    ],
)
def test_datetime_objects_out_of_range_are_refused_too(value: datetime) -> None:
    assert_refused(
        with_change(full_document(), "publishedAt", value), "publishedAt", "out of range"
    )


@pytest.mark.parametrize(
    "value",
    [
        "1900-01-01T00:00:00Z",
        "9998-12-31T23:59:59Z",
        "9998-12-31T23:59:59+14:00",
        "1900-01-01T00:00:00-12:00",
    ],
)
def test_dates_at_the_edges_of_the_range_are_accepted(value: str) -> None:
    published = parse_contract(with_change(full_document(), "publishedAt", value)).published_at
    assert published is not None and c.DATETIME_MIN <= published <= c.DATETIME_MAX


@pytest.mark.parametrize(
    "value",
    ["٢٠٢٥-03-01T00:00:00Z", "２０２５-03-01T00:00:00Z", "2025-13-01T00:00:00Z",
     "2025-03-01T00:00:00+24:00", "2025-03-01T25:00:00Z", "2025-02-30T00:00:00Z"],
)  # fmt: skip
def test_malformed_dates_are_not_iso_8601(value: str) -> None:
    assert_refused(with_change(full_document(), "publishedAt", value), "publishedAt", "ISO 8601")


def test_generated_dates_at_every_edge_and_offset_raise_only_contract_errors() -> None:
    base = full_document()
    rng = random.Random(21)
    years = [0, 1, 2, 1899, 1900, 1901, 2025, 9997, 9998, 9999, 10000, 99999]
    offsets = ["Z", "z", "", "+14:00", "-14:00", "+23:59", "-23:59", "+0000", "-1200", "+24:00"]
    accepted = refused = 0
    for _ in range(1000):
        text = (
            f"{rng.choice(years):04d}-{rng.choice([1, 12, 2, 13, 0]):02d}-"
            f"{rng.choice([1, 28, 29, 31, 0, 32]):02d}T{rng.choice([0, 23, 24]):02d}:"
            f"{rng.choice([0, 59]):02d}:{rng.choice([0, 59, 60]):02d}{rng.choice(offsets)}"
        )
        for field in ("publishedAt", "deprecation.sunsetAt"):
            doc = with_change(base, field, text)
            try:
                parsed = parse_contract(doc)
            except ContractError as exc:
                refused += 1
                assert all(i.path == field for i in exc.issues), (text, exc.issues)
                continue
            accepted += 1
            value = parsed.published_at if field == "publishedAt" else parsed.deprecation.sunset_at
            assert value is not None and c.DATETIME_MIN <= value <= c.DATETIME_MAX, text
            # Exporting and publishing again changes nothing, even at the edges.
            assert parse_contract(parsed.to_dict()) == parsed
    assert accepted > 50 and refused > 50


# --- numbers ------------------------------------------------------------------------------

HOSTILE_NUMBERS = [float("nan"), float("inf"), float("-inf"), 10**400, -(10**400), 1e300, -1e300]
NUMBER_PATHS = [
    "sla.availability",
    "sla.queryLatencyP95Ms",
    "qualityChecks[2].params.min",
    "qualityChecks[2].params.max",
    "qualityChecks[3].params.maxStaleHours",
    "qualityChecks[4].params.minRows",
    "qualityChecks[4].params.maxRows",
    "qualityChecks[6].params.values[0]",
    "version",
]


@pytest.mark.parametrize("path", NUMBER_PATHS)
@pytest.mark.parametrize("value", HOSTILE_NUMBERS, ids=repr)
def test_nan_infinities_and_huge_numbers_are_validation_errors(path: str, value: Any) -> None:
    doc = with_change(full_document(), path, value)
    if path.endswith("values[0]"):
        doc["schema"] = [
            {**col, "type": "float"} if col["column"] == "currency" else col
            for col in doc["schema"]
        ]
    issues = issues_of(doc)
    assert any(i.path == path for i in issues), [str(i) for i in issues]


@pytest.mark.parametrize(
    "text",
    [
        '{"sla": {"availability": NaN}}',
        '{"sla": {"availability": Infinity}}',
        '{"sla": {"availability": -Infinity}}',
    ],
)
def test_json_text_with_nan_or_infinity_is_refused_when_read(text: str) -> None:
    with pytest.raises(ContractError, match="invalid JSON"):
        load_document(text, filename="c.json")


@pytest.mark.parametrize(
    ("literal", "path"),
    [
        ("1e400", "sla.availability"),
        ("-1e400", "sla.queryLatencyP95Ms"),
        ("1" + "0" * 300, "sla.availability"),
    ],
)
def test_json_numbers_that_overflow_a_double_are_refused_naming_the_path(
    literal: str, path: str
) -> None:
    doc = full_document()
    section, key = path.split(".")
    doc[section][key] = "__X__"
    text = json.dumps(doc).replace('"__X__"', literal)
    assert_refused(load_document(text, filename="c.json"), path, "")


@pytest.mark.parametrize("literal", [".nan", ".inf", "-.inf", "1e400", "1" + "0" * 400])
def test_yaml_nan_infinity_and_huge_numbers_are_refused_naming_the_path(literal: str) -> None:
    text = c.dump_yaml(parse_contract(full_document())).replace(
        "availability: 99.9", f"availability: {literal}"
    )
    assert f"availability: {literal}" in text
    assert_refused(load_document(text), "sla.availability", "")


def test_generated_hostile_documents_raise_only_contract_errors() -> None:
    rng = random.Random(2121)
    hostile: list[Any] = [
        *HOSTILE_NUMBERS, *OUT_OF_RANGE_DATES, None, True, "", " ", "x" * 20_000, [], {},
        [None] * 1000, {"k": [1] * 10}, -1, 0, 2**63, 1e15 + 1, "\x00", DELETE,
    ]  # fmt: skip
    paths = [
        *NUMBER_PATHS, "publishedAt", "deprecation.sunsetAt", "tags", "tags[0]", "name",
        "qualityChecks[5].params.sql", "qualityChecks[6].params.values", "schema[0].column",
        "qualityChecks[0].name", "deprecation.reason", "owner.contact", "table", "id",
    ]  # fmt: skip
    base = full_document()
    for _ in range(1000):
        doc = base
        for _ in range(rng.randint(1, 3)):
            try:
                doc = with_change(doc, rng.choice(paths), rng.choice(hostile))
            except (KeyError, IndexError, TypeError):  # the path's parent was replaced
                continue
        try:
            parse_contract(doc)
        except ContractError as exc:
            assert exc.issues and all(isinstance(i.message, str) for i in exc.issues)


# --- storable text ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["description", "name", "tags[0]", "schema[1].description", "qualityChecks[5].params.sql",
     "qualityChecks[6].params.values[1]", "deprecation.reason", "owner.team"],
)  # fmt: skip
@pytest.mark.parametrize(
    ("bad", "words"), [("a\x00b", "NUL"), ("a\ud800b", "lone surrogate"), ("\udfff", "lone")]
)
def test_nul_and_lone_surrogates_are_refused_naming_the_path(
    path: str, bad: str, words: str
) -> None:
    issues = issues_of(with_change(full_document(), path, bad))
    assert any(i.path == path and words in i.message for i in issues), issues
    for issue in issues:  # every line can be written out
        str(issue).encode("utf-8")


def test_a_key_with_a_lone_surrogate_is_refused_and_its_error_is_printable() -> None:
    doc = full_document()
    doc["sla"]["fresh\ud800ness"] = "1h"
    doc["bad\x00key"] = 1
    issues = issues_of(doc)
    assert any(i.path == "sla" and "lone surrogate" in i.message for i in issues), issues
    assert any(i.path == "" and "NUL" in i.message for i in issues), issues
    assert "\n".join(str(i) for i in issues).encode("utf-8")


def test_the_documented_limits_are_the_enforced_ones() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "governance.md").read_text()
    section = text.split("## Contract limits", 1)[1].split("\n## ", 1)[0]
    for value in (
        f"at most {c.TAGS_MAX}, each at most {c.TAG_MAX_LENGTH} characters",
        f"at most {c.DESCRIPTION_MAX_LENGTH:,} characters",
        f"at most {c.REASON_MAX_LENGTH:,} characters",
        f"1 to {c.COLUMNS_MAX} columns",
        f"| at most {c.CHECKS_MAX} |",
        f"at most {c.ACCEPTED_VALUES_MAX:,}, strings at most {c.ACCEPTED_VALUE_MAX_LENGTH}",
        f"`custom_sql` `params.sql` | at most {c.CUSTOM_SQL_MAX_LENGTH:,} characters",
        "at most 10^15 in magnitude",
        f"at most {c.LATENCY_MAX_MS:,} (one hour)",
        f"at most {c.STALE_HOURS_MAX:,} (ten years)",
        f"between {c.format_datetime(c.DATETIME_MIN)} and {c.format_datetime(c.DATETIME_MAX)}",
        f"at most {c.MAX_DOCUMENT_BYTES:,} characters",
        f"at most {c.ISSUES_MAX} problems",
        f"at most {FIELD_MAX_LENGTH['name']} characters",
    ):
        assert value in section, value
    assert c.NUMBER_MAX == 10**15
