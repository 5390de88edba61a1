"""``manage.py add_domain``: a domain and its owner before anything is published (issue 20)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import permissions
from catalog.contract import ID_RE
from catalog.models import Domain
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]


def add_domain(*args: str) -> str:
    out = io.StringIO()
    call_command("add_domain", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_a_new_domain_gets_its_groups_and_its_owner_may_publish_right_away() -> None:
    maya = UserFactory.create(username="maya", role="manager", is_staff=False)
    ana = UserFactory.create(username="ana", role="analyst")
    out = add_domain("marketing", "--name", "Marketing", "--owner", "maya")

    assert out.strip() == "created domain marketing (Marketing): tables marketing_*, owner maya"
    domain = Domain.objects.get(slug="marketing")
    assert domain.name == "Marketing" and domain.table_prefix == ""
    maya.refresh_from_db()
    assert maya.is_staff
    assert maya.memberships.get(domain=domain).is_owner
    assert permissions.can_create_in(maya, "marketing")
    assert permissions.can(maya, "change", domain)
    assert not permissions.can_create_in(ana, "marketing")
    assert list(permissions.owned_domains(maya)) == [domain]


@pytest.mark.django_db
def test_running_it_again_updates_only_what_is_given() -> None:
    add_domain("growth-eu", "--description", "EU growth team")
    domain = Domain.objects.get(slug="growth-eu")
    assert domain.name == "Growth Eu" and domain.effective_table_prefix == "growth_eu_"

    out = add_domain("growth-eu", "--name", "Growth (EU)", "--table-prefix", "geu_")
    assert out.startswith("updated domain growth-eu (Growth (EU)): tables geu_*")
    domain.refresh_from_db()
    assert (domain.name, domain.description, domain.table_prefix) == (
        "Growth (EU)",
        "EU growth team",
        "geu_",
    )
    add_domain("growth-eu", "--table-prefix", "")
    domain.refresh_from_db()
    assert domain.table_prefix == "" and Domain.objects.count() == 1


@pytest.mark.django_db
def test_a_prefix_another_domain_uses_is_refused_and_nothing_is_created() -> None:
    add_domain("finance", "--table-prefix", "fin_")
    with pytest.raises(CommandError, match=r"^--table-prefix: domain finance already uses"):
        add_domain("fintech", "--table-prefix", "fin_")
    # A default prefix that collides is refused too: "fin" would take fin_ as well.
    with pytest.raises(CommandError, match=r"already uses the table prefix fin_"):
        add_domain("fin")
    assert list(Domain.objects.values_list("slug", flat=True)) == ["finance"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Marketing"], "SLUG: must be lowercase ASCII letters"),
        (["mkt_eu"], "SLUG: must be lowercase"),
        (["9lives"], "SLUG: must be lowercase"),
        (["a" * 64], "SLUG: must be lowercase"),
        (["ok", "--name", "   "], "--name: must not be blank"),
        (["ok", "--name", "two\nlines"], "--name: must be printable text on one line"),
        (["ok", "--name", "x" * 201], "--name: must be at most 200 characters"),
        (["ok", "--description", "nul\x00"], "--description: must be printable text"),
        (["ok", "--table-prefix", "OK_"], "--table-prefix: must be lowercase"),
        (["ok", "--table-prefix", "ok"], "--table-prefix: must be lowercase"),
        (["ok", "--owner", "nobody"], "--owner: no user 'nobody' (create one first"),
        (["ok", "--owner", "bad\udcffname"], "--owner: no user 'bad\\udcffname'"),
    ],
)
def test_bad_input_is_one_readable_line_and_stores_nothing(args: list[str], message: str) -> None:
    with pytest.raises(CommandError) as caught:
        add_domain(*args)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)
    assert not Domain.objects.exists()


@pytest.mark.django_db
def test_an_inactive_owner_is_refused() -> None:
    UserFactory.create(username="gone", is_active=False)
    with pytest.raises(CommandError, match="^--owner: user gone is inactive$"):
        add_domain("ops", "--owner", "gone")
    assert not Domain.objects.exists()


@pytest.mark.django_db
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    slug=st.text(st.characters(codec="utf-8"), max_size=70)
    | st.from_regex(r"[a-z][a-z0-9-]{0,70}", fullmatch=True)
)
def test_any_slug_is_either_a_usable_product_id_prefix_or_a_slug_error(slug: str) -> None:
    try:
        add_domain("--", slug)
    except CommandError as exc:
        assert str(exc).startswith(("SLUG: ", "--table-prefix: ")), str(exc)
        return
    domain = Domain.objects.get(slug=slug)
    assert re.fullmatch(ID_RE.strip("^$"), f"{domain.slug}.orders")
    assert domain.effective_table_prefix.endswith("_")


def test_a_real_process_prints_one_line_and_exits_1(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "PORTAL_VAR_DIR": str(tmp_path / "var"),
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    bad = subprocess.run(
        [sys.executable, "manage.py", "add_domain", "Bad Slug"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1
    assert bad.stderr.strip().count("\n") == 0 and "Traceback" not in bad.stderr
    assert "SLUG: must be lowercase" in bad.stderr
    # Invalid UTF-8 on the command line: still one line.
    raw = subprocess.run(
        [sys.executable.encode(), b"manage.py", b"add_domain", b"ok", b"--owner", b"\xff\xfe"],
        cwd=ROOT,
        env=env,
        capture_output=True,
    )
    assert raw.returncode == 1
    assert raw.stderr.strip().count(b"\n") == 0 and b"Traceback" not in raw.stderr
    good = subprocess.run(
        [sys.executable, "manage.py", "add_domain", "ops", "--name", "Operations"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip() == "created domain ops (Operations): tables ops_*"
