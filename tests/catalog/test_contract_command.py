"""``manage.py contract lint|diff``: the domains' CI, without a database.

None of these tests has the django_db mark: pytest-django refuses any database access, so a
passing test proves the command never touches the database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.contract import parse_contract
from catalog.management.commands.contract import Command
from catalog.odcs import to_odcs
from tests.factories import seed_document

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, name: str, doc: Any) -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path)


def run(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("contract", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), str(exc)
    return 0, out.getvalue(), err.getvalue()


def test_the_command_skips_system_checks_so_ci_needs_no_configured_project() -> None:
    assert Command.requires_system_checks == []


def test_lint_passes_the_seed_contract_and_lists_its_warnings(tmp_path: Path) -> None:
    path = write(tmp_path, "seed.yaml", seed_document())
    code, out, _ = run("lint", path)
    assert code == 0
    assert f"{path}: warning: schema[0]: column attribution_id is declared not nullable" in out
    assert "[checks.not_null]" in out
    assert out.splitlines()[-1] == f"{path}: ok"


def test_lint_fails_a_policy_error_with_exit_1_and_names_the_path(tmp_path: Path) -> None:
    doc = seed_document()
    doc["schema"][5]["column"] = "select"
    doc["qualityChecks"] = [c for c in doc["qualityChecks"] if c.get("column") != "select"]
    path = write(tmp_path, "bad.yaml", doc)
    code, out, message = run("lint", path)
    assert code == 1
    assert f"{path}: error: schema[5].column: column select is an SQL reserved word" in out
    assert message == "1 of 1 contract(s) failed lint"


def test_lint_reports_invalid_contracts_as_errors(tmp_path: Path) -> None:
    doc = seed_document()
    doc["schema"][0]["type"] = "varchar"
    path = write(tmp_path, "invalid.yaml", doc)
    code, out, _ = run("lint", path)
    assert code == 1
    assert f"{path}: error: schema[0].type: " in out


def test_lint_json_lists_every_file_with_errors_and_warnings(tmp_path: Path) -> None:
    good = write(tmp_path, "good.yaml", seed_document())
    doc = seed_document()
    doc["schema"].append({"column": "phone", "type": "string", "description": "Mobile"})
    bad = write(tmp_path, "bad.yaml", doc)
    code, out, _ = run("lint", good, bad, "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert report["ok"] is False
    assert [f["ok"] for f in report["files"]] == [True, False]
    [error] = report["files"][1]["errors"]
    assert error == {
        "path": "schema[8].pii",
        "message": error["message"],
        "policy": "pii.column_names",
    }
    assert "phone number" in error["message"]


def test_lint_applies_a_policies_file(tmp_path: Path) -> None:
    path = write(tmp_path, "seed.yaml", seed_document())
    rules = write(tmp_path, "rules.yaml", [{"key": "checks.not_null", "severity": "error"}])
    code, out, _ = run("lint", path, "--policies", rules)
    assert code == 1
    assert "error: schema[0]: column attribution_id" in out


def test_lint_refuses_a_malformed_policies_file_with_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, "seed.yaml", seed_document())
    rules = write(tmp_path, "rules.yaml", [{"key": "naming.whatever", "severity": "error"}])
    code, _, message = run("lint", path, "--policies", rules)
    assert code == 2
    assert "unknown policy 'naming.whatever'" in message


def test_lint_accepts_an_odcs_v3_document(tmp_path: Path) -> None:
    odcs = to_odcs(parse_contract(seed_document()))
    path = write(tmp_path, "odcs.yaml", json.loads(json.dumps(odcs)))
    code, out, _ = run("lint", path, "--format", "json")
    assert code == 0
    assert json.loads(out)["files"][0]["id"] == "marketing.campaign_attribution"


def test_lint_of_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    code, _, message = run("lint", str(tmp_path / "nope.yaml"))
    assert code == 2
    assert message.endswith("nope.yaml: no such file")


def test_diff_fails_a_breaking_change_without_a_version_increase(tmp_path: Path) -> None:
    old = write(tmp_path, "old.yaml", seed_document())
    doc = seed_document()
    del doc["schema"][6]
    new = write(tmp_path, "new.yaml", doc)
    code, out, message = run("diff", old, new)
    assert code == 1
    assert "BREAKING schema[6]: column revenue_cents removed" in out
    assert message == "breaking changes need a version above 3"


def test_diff_passes_a_breaking_change_with_a_version_increase_as_json(tmp_path: Path) -> None:
    old = write(tmp_path, "old.yaml", seed_document())
    doc = seed_document()
    del doc["schema"][6]
    doc["schema"][0]["description"] = "The record id"
    doc["version"] = 4
    new = write(tmp_path, "new.yaml", doc)
    code, out, _ = run("diff", old, new, "--format", "json")
    assert code == 0
    body = json.loads(out)
    assert body["ok"] is True and body["breaking"] is True and body["needsVersionBump"] is False
    assert body["changes"] == [
        {
            "path": "schema[6]",
            "kind": "column_removed",
            "message": "column revenue_cents removed",
            "breaking": True,
        },
        {
            "path": "schema[0].description",
            "kind": "column_description_changed",
            "message": "column attribution_id: description changed",
            "breaking": False,
        },
    ]


def test_diff_of_identical_contracts_reports_no_changes(tmp_path: Path) -> None:
    old = write(tmp_path, "old.yaml", seed_document())
    code, out, _ = run("diff", old, old)
    assert code == 0
    assert "no changes" in out


def test_diff_refuses_a_version_that_goes_down(tmp_path: Path) -> None:
    old = write(tmp_path, "old.yaml", seed_document())
    new = write(tmp_path, "new.yaml", {**seed_document(), "version": 2})
    code, _, message = run("diff", old, new)
    assert code == 1
    assert message == "version goes down (3 → 2)"


def test_bad_usage_exits_2_with_one_line_and_no_database(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": "postgresql://nobody:x@127.0.0.1:1/none"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    usage = subprocess.run(
        [sys.executable, "manage.py", "contract", "diff", "only-one.yaml"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert usage.returncode == 2
    assert usage.stderr.strip().splitlines() == [
        "manage.py contract diff: error: the following arguments are required: NEW"
    ]
    path = write(tmp_path, "seed.yaml", seed_document())
    lint = subprocess.run(
        [sys.executable, "manage.py", "contract", "lint", path],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert lint.returncode == 0, lint.stderr
    assert lint.stdout.strip().endswith(f"{path}: ok")


@pytest.mark.parametrize("args", [("lint", "--format", "xml", "x.yaml"), ("frobnicate",)])
def test_bad_arguments_raise_a_command_error(args: tuple[str, ...]) -> None:
    with pytest.raises(CommandError, match="Error: "):
        call_command("contract", *args)
