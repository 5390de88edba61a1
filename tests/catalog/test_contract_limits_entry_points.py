"""Bounded contracts at every entry point (issue #21): the API answers 400, never 500; the
commands print one line per problem and exit non-zero, never a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.contract import DATETIME_MIN, ContractError, format_datetime, load_document
from catalog.models import DataProduct
from tests.factories import contract_document

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_ID = "marketing.campaign_attribution"
RANGE = f"out of range: must be between {format_datetime(DATETIME_MIN)}"


def hostile_document(**changes: Any) -> dict[str, Any]:
    doc = contract_document(PRODUCT_ID)
    for path, value in changes.items():
        target = doc
        *parents, last = path.split("__")
        for part in parents:
            target = target[part]
        target[last] = value
    return doc


# --- the API ----------------------------------------------------------------------------------


def put_raw(api_as: Any, user: Any, body: str) -> Any:
    return api_as(user).put(
        f"/v1/catalog/products/{PRODUCT_ID}", data=body, content_type="application/json"
    )


def assert_400_naming(response: Any, path: str, words: str = "") -> dict[str, Any]:
    assert response.status_code == 400, response.content[:500]
    error = response.json()["error"]
    assert set(error) >= {"code", "message"}
    assert path in error.get("fields", {}), error
    assert any(words in message for message in error["fields"][path]), error
    return error


@pytest.mark.django_db
def test_a_put_with_100000_tags_is_a_fast_400(api_as: Any, owner: Any) -> None:
    body = json.dumps(hostile_document(tags=[f"tag-{i}" for i in range(100_000)]))
    started = time.perf_counter()
    response = put_raw(api_as, owner, body)
    elapsed = time.perf_counter() - started
    assert_400_naming(response, "tags", "at most 50 tags (got 100000)")
    # A sanity bound only (the quadratic bug took 73 s for 50,000); linearity is tested by
    # growth ratios in test_contract_limits.py, speed by the benchmarks.
    assert elapsed < 15.0
    assert not DataProduct.objects.filter(product_id=PRODUCT_ID).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("publishedAt", "9999-12-31T23:59:59-14:00"),  # was a 500
        ("publishedAt", "0001-01-01T00:00:00+14:00"),
        ("publishedAt", "0000-01-01T00:00:00Z"),
        ("publishedAt", "10000-01-01T00:00:00Z"),
    ],
)
def test_a_put_with_an_out_of_range_date_is_a_400(
    api_as: Any, owner: Any, path: str, value: str
) -> None:
    response = put_raw(api_as, owner, json.dumps(hostile_document(**{path: value})))
    assert_400_naming(response, path, RANGE)


@pytest.mark.django_db
def test_a_put_with_an_out_of_range_sunset_is_a_400(api_as: Any, owner: Any) -> None:
    doc = hostile_document(status="deprecated")
    doc["deprecation"] = {"sunsetAt": "9999-12-31T23:59:59-14:00", "reason": "replaced"}
    assert_400_naming(put_raw(api_as, owner, json.dumps(doc)), "deprecation.sunsetAt", RANGE)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "literal"),
    [
        ("sla__availability", "1e400"),  # JSON reads it as infinity
        ("sla__availability", "-1e400"),
        ("sla__queryLatencyP95Ms", "1" + "0" * 40),
        ("sla__queryLatencyP95Ms", "1e300"),
        ("version", "1e300"),
    ],
)
def test_a_put_with_an_infinite_or_huge_number_is_a_400_naming_it(
    api_as: Any, owner: Any, path: str, literal: str
) -> None:
    body = json.dumps(hostile_document(**{path: "__X__"})).replace('"__X__"', literal)
    assert_400_naming(put_raw(api_as, owner, body), path.replace("__", "."))


@pytest.mark.django_db
@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_a_put_with_nan_or_infinity_literals_is_a_400(
    api_as: Any, owner: Any, literal: str
) -> None:
    body = json.dumps(hostile_document(sla__availability="__X__")).replace('"__X__"', literal)
    response = put_raw(api_as, owner, body)
    assert response.status_code == 400, response.content[:500]
    assert response.json()["error"]["code"]


@pytest.mark.django_db
def test_every_limit_through_the_api_is_a_400_never_a_500(api_as: Any, owner: Any) -> None:
    cases = {
        "description": ("d" * 10_001, "at most 10000 characters"),
        "schema": (
            [{"column": f"c{i}", "type": "string", "description": ""} for i in range(501)],
            "at most 500 columns",
        ),
        "qualityChecks": (
            [{"name": f"k{i}", "type": "row_count", "params": {"minRows": 1}, "severity": "error"}
             for i in range(201)],
            "at most 200 checks",
        ),
        "tags": (["x" * 51], "at most 50 characters"),
    }  # fmt: skip
    for path, (value, words) in cases.items():
        response = put_raw(api_as, owner, json.dumps(hostile_document(**{path: value})))
        fields = response.json()["error"].get("fields", {})
        assert response.status_code == 400, (path, response.content[:300])
        key = path if path in fields else f"{path}[0]"
        assert any(words in m for m in fields[key]), (path, fields)


# --- manage.py publish ------------------------------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def bad_files(tmp_path: Path) -> dict[str, tuple[str, list[str]]]:
    """name → (path, the problem lines expected on stderr, without the file prefix)."""
    dates = yaml.safe_dump(
        hostile_document(publishedAt="9999-12-31T23:59:59-14:00", version=10**400 // 10**390)
    )
    nan_yaml = yaml.safe_dump(hostile_document(sla__availability=99.9)).replace(
        "availability: 99.9", "availability: .nan"
    )
    inf_json = json.dumps(hostile_document(sla__queryLatencyP95Ms="__X__")).replace(
        '"__X__"', "1e400"
    )
    tags = json.dumps(hostile_document(tags=[f"t{i}" for i in range(100_000)]))
    return {
        "dates": (
            write(tmp_path, "dates.yaml", dates),
            [f"publishedAt: {RANGE}", "version: must be at most 2147483647"],
        ),
        "nan": (write(tmp_path, "nan.yaml", nan_yaml), ["sla.availability: must be a finite"]),
        "inf": (
            write(tmp_path, "inf.json", inf_json),
            ["sla.queryLatencyP95Ms: must be a finite number"],
        ),
        "tags": (write(tmp_path, "tags.json", tags), ["tags: at most 50 tags (got 100000)"]),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["dates", "nan", "inf", "tags"])
def test_publish_prints_one_line_per_problem_and_fails(
    tmp_path: Path, marketing: Any, case: str
) -> None:
    path, expected = bad_files(tmp_path)[case]
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 of 1 contract"):
        call_command("publish", path, stdout=out, stderr=err)
    lines = err.getvalue().strip().splitlines()
    assert all(line.startswith(f"{path}: ") for line in lines), lines
    for want in expected:
        assert any(line.startswith(f"{path}: {want}") for line in lines), lines
    assert len(lines) == len(expected)
    assert not DataProduct.objects.exists()


def test_contract_lint_prints_one_line_per_problem_and_exits_1(tmp_path: Path) -> None:
    files = bad_files(tmp_path)
    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("contract", "lint", *(p for p, _ in files.values()), stdout=out)
    assert caught.value.returncode == 1
    lines = out.getvalue().splitlines()
    for path, expected in files.values():
        prefix = f"{path}: error: "
        errors = [line.removeprefix(prefix) for line in lines if line.startswith(prefix)]
        assert len(errors) == len(expected), lines
        for want in expected:
            assert any(e.startswith(want) for e in errors), lines
        assert f"{path}: FAILED" in lines


def real_process(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_publish_and_lint_in_a_real_process_print_lines_not_tracebacks(tmp_path: Path) -> None:
    files = bad_files(tmp_path)
    paths = [files[name][0] for name in ("dates", "nan", "inf")]
    publish = real_process(["publish", *paths], tmp_path)
    assert publish.returncode != 0
    assert "Traceback" not in publish.stderr and "Error:" not in publish.stdout
    assert f"{paths[0]}: publishedAt: {RANGE}" in publish.stderr
    assert f"{paths[1]}: sla.availability: must be a finite number" in publish.stderr
    assert "3 of 3 contract(s) not published" in publish.stderr

    lint = real_process(["contract", "lint", *paths], tmp_path)
    assert lint.returncode == 1
    assert "Traceback" not in lint.stderr
    assert f"{paths[2]}: error: sla.queryLatencyP95Ms: must be a finite number" in lint.stdout


@pytest.mark.django_db
@pytest.mark.parametrize("escape", ["\\u0000", "\\ud800"])
def test_publish_refuses_text_no_database_can_store_with_one_line(
    tmp_path: Path, marketing: Any, escape: str
) -> None:
    text = json.dumps(hostile_document(description="__X__")).replace("__X__", f"a{escape}b")
    path = write(tmp_path, "text.json", text)
    err = StringIO()
    with pytest.raises(CommandError, match="1 of 1 contract"):
        call_command("publish", path, stdout=StringIO(), stderr=err)
    [line] = err.getvalue().strip().splitlines()
    assert line.startswith(f"{path}: description: must ")
    assert not DataProduct.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("id: [\n", "invalid YAML: line 2, column 1: expected the node content"),
        ("id: \x00\n", "invalid YAML: unacceptable character #x0000: special characters"),
        ("a: 1\n---\nb: 2\n", "invalid YAML"),
        ("[1, 2]\n", "the contract must be a mapping"),
    ],
)
def test_unreadable_documents_are_one_line_naming_the_file_once(
    tmp_path: Path, marketing: Any, text: str, words: str
) -> None:
    path = write(tmp_path, "c.yaml", text)
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("publish", path, stdout=StringIO(), stderr=err)
    [line] = err.getvalue().strip().splitlines()
    assert line.startswith(f"{path}: {words}"), line
    assert line.count(path) == 1
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("contract", "lint", path, stdout=out)
    assert out.getvalue().splitlines() == [f"{path}: error: {line.removeprefix(path + ': ')}",
                                           f"{path}: FAILED"]  # fmt: skip


def test_bad_bytes_on_stdin_are_one_line_in_a_real_process(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "LC_ALL": "C.UTF-8",
    }
    for args in (["publish", "-"], ["contract", "lint", "-"]):
        proc = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT, env=env, input=b"id: \xff\n", capture_output=True, timeout=120,
        )  # fmt: skip
        output = (proc.stdout + proc.stderr).decode()
        assert proc.returncode != 0 and "Traceback" not in output, output
        assert "not UTF-8 text: invalid start byte" in output, output


@pytest.mark.parametrize("text", ["id: \x00\n", "x: \x1b\n", "a:\n  b: \x07\n", "k: \ufffe\n"])
def test_yaml_errors_are_one_line(text: str) -> None:
    with pytest.raises(ContractError) as caught:
        load_document(text, filename="c.yaml")
    assert all("\n" not in str(i) for i in caught.value.issues), caught.value.issues
