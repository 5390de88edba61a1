"""publish, export_contract and add_user: the command-line side of the foundation (issue 2)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts import permissions
from accounts.models import User
from catalog.models import ContractVersion, DataProduct
from tests.factories import FIXTURES, contract_document, seed_document

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, stdin: str = "") -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        call_command(*args, stdout=out, stderr=err)
    finally:
        sys.stdin = old_stdin
    return out.getvalue(), err.getvalue()


def write(tmp_path: Path, name: str, doc: Any) -> str:
    path = tmp_path / name
    path.write_text(
        yaml.safe_dump(doc, sort_keys=False) if name.endswith(".yaml") else json.dumps(doc)
    )
    return str(path)


def test_publish_the_write_ups_contract_from_yaml_creates_it() -> None:
    out, _ = run("publish", str(FIXTURES / "campaign_attribution.yaml"))
    assert "marketing.campaign_attribution v3 (published): created" in out
    product = DataProduct.objects.get(product_id="marketing.campaign_attribution")
    assert product.table == "marketing_campaign_attribution"
    assert [c.name for c in product.columns.all()][:3] == [
        "attribution_id",
        "user_id",
        "campaign_id",
    ]
    assert product.columns.get(name="user_id").pii is True
    assert product.checks.count() == 4


def test_publish_json_and_stdin(tmp_path: Path) -> None:
    path = write(tmp_path, "c.json", contract_document("product.funnel"))
    out, _ = run("publish", path)
    assert "product.funnel v3 (published): created" in out
    out, _ = run("publish", "-", stdin=yaml.safe_dump(contract_document("product.other")))
    assert "product.other" in out and "created" in out


def test_invalid_file_prints_one_line_per_problem_and_stores_nothing(tmp_path: Path) -> None:
    doc = seed_document()
    doc["schema"][3]["type"] = "text"
    doc["sla"]["freshness"] = "2h"
    doc["qualityChecks"][0]["type"] = "regex"
    path = write(tmp_path, "bad.yaml", doc)
    with pytest.raises(CommandError, match="not published"):
        run("publish", path)
    assert not DataProduct.objects.exists()
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("publish", path, stderr=err)
    lines = err.getvalue().strip().splitlines()
    assert any(line.startswith(f"{path}: schema[3].type:") for line in lines)
    assert any(line.startswith(f"{path}: sla.freshness:") for line in lines)
    assert any("qualityChecks[0].type" in line and "regex" in line for line in lines)


def test_one_bad_file_does_not_stop_the_good_ones(tmp_path: Path) -> None:
    good = write(tmp_path, "good.yaml", contract_document("product.good"))
    bad = write(tmp_path, "bad.yaml", {"id": "Not An Id"})
    with pytest.raises(CommandError, match="1 of 2"):
        run("publish", bad, good)
    assert list(DataProduct.objects.values_list("product_id", flat=True)) == ["product.good"]


def test_missing_file_and_broken_yaml_are_one_line_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: [unclosed\n")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("publish", str(tmp_path / "missing.yaml"), str(broken), stderr=err)
    text = err.getvalue()
    assert "missing.yaml: no such file" in text
    assert "broken.yaml" in text and "Traceback" not in text


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_export_then_publish_again_changes_nothing(fmt: str, tmp_path: Path) -> None:
    run("publish", str(FIXTURES / "campaign_attribution.yaml"))
    exported, _ = run("export_contract", "marketing.campaign_attribution", "--format", fmt)
    path = tmp_path / f"exported.{fmt}"
    path.write_text(exported)
    out, _ = run("publish", str(path))
    assert "unchanged" in out
    assert ContractVersion.objects.count() == 1
    loaded = yaml.safe_load(exported)
    assert loaded["version"] == 3 and loaded["sla"]["queryLatencyP95Ms"] == 2000


def test_export_unknown_product_is_an_error() -> None:
    with pytest.raises(CommandError, match="no data product"):
        run("export_contract", "marketing.nope")


def test_publish_as_a_user_checks_their_ownership(
    tmp_path: Path, owner: User, outsider: User
) -> None:
    path = write(tmp_path, "c.yaml", contract_document("marketing.owned"))
    out, _ = run("publish", path, "--as", owner.username)
    assert "created" in out
    path = write(tmp_path, "c2.yaml", contract_document("marketing.not_yours"))
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("publish", path, "--as", outsider.username, stderr=err, stdout=io.StringIO())
    assert "permission denied" in err.getvalue()


def test_add_user_creates_and_updates_role_and_team(marketing: Any) -> None:
    out, _ = run("add_user", "zoe", "--role", "analyst", "--password", "s3cret-pass")
    assert "created zoe (analyst)" in out
    zoe = User.objects.get(username="zoe")
    assert zoe.check_password("s3cret-pass") and not zoe.is_staff
    out, _ = run("add_user", "zoe", "--role", "manager", "--team", "marketing", "--owner")
    assert "updated zoe (manager, owner of marketing)" in out
    zoe.refresh_from_db()
    assert zoe.role == "manager" and zoe.is_staff
    assert permissions.can(zoe, "change", marketing)
    run("add_user", "zoe", "--role", "manager", "--team", "marketing")
    zoe = User.objects.get(username="zoe")
    assert not permissions.can(zoe, "change", marketing)
    assert permissions.can(zoe, "view_pii", marketing)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "analyst", "--owner"], "--owner needs --team"),
        (["--role", "analyst", "--team", "nope"], "no domain 'nope'"),
    ],
)
def test_add_user_bad_usage(args: list[str], message: str, marketing: Any) -> None:
    with pytest.raises(CommandError, match=message):
        run("add_user", "x", *args)


def test_drf_create_token_gives_a_script_its_token(analyst: User) -> None:
    out, _ = run("drf_create_token", analyst.username)
    assert "Generated token" in out


def test_commands_exit_non_zero_with_one_line_in_a_real_process(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.yaml", {"id": "x"})
    proc = subprocess.run(
        [sys.executable, "manage.py", "publish", bad],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={
            **__import__("os").environ,
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
            "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        },
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
