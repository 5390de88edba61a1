"""Project-level invariants: migrations are complete and the settings parse URLs."""

from __future__ import annotations

from io import StringIO

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
    assert (lite["ENGINE"], lite["NAME"]) == ("django.db.backends.sqlite3", "/tmp/x.sqlite3")
    # Several writers on the embedded default: WAL, a busy timeout, BEGIN IMMEDIATE (issue 13).
    assert lite["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert lite["OPTIONS"]["timeout"] >= 20
    assert "journal_mode=WAL" in lite["OPTIONS"]["init_command"]
    short = database_from_url("sqlite:////tmp/x.sqlite3", sqlite_busy_timeout_s=3)
    assert short["OPTIONS"]["timeout"] == 3
    with pytest.raises(ValueError, match="SQLITE_BUSY_TIMEOUT_S"):
        database_from_url("sqlite:////tmp/x.sqlite3", sqlite_busy_timeout_s=0)
    with pytest.raises(ValueError, match="unsupported scheme"):
        database_from_url("mysql://x")
