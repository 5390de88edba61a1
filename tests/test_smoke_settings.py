"""Project-level invariants: migrations are complete and the settings parse URLs."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from config.settings import database_from_url


@pytest.mark.django_db
def test_makemigrations_check_is_clean() -> None:
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_database_url_parses_postgres_and_sqlite() -> None:
    pg = database_from_url("postgresql://u:p%40ss@db.example:6543/portal")
    assert pg["ENGINE"] == "django.db.backends.postgresql"
    assert (pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"], pg["NAME"]) == (
        "u",
        "p@ss",
        "db.example",
        "6543",
        "portal",
    )
    lite = database_from_url("sqlite:////tmp/x.sqlite3")
    assert lite == {"ENGINE": "django.db.backends.sqlite3", "NAME": "/tmp/x.sqlite3"}
    with pytest.raises(ValueError, match="unsupported scheme"):
        database_from_url("mysql://x")


def test_the_wsgi_process_freezes_its_startup_heap(tmp_path: Any) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "PORTAL_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": ""}
    env.pop("DJANGO_SETTINGS_MODULE")
    out = subprocess.run(
        [sys.executable, "-c", "import gc, config.wsgi; print(gc.get_freeze_count())"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    assert int(out.stdout.strip()) > 10_000  # modules, settings, URL patterns, app registry
