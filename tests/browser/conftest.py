"""Browser fixtures: Debian's chromium driven by Playwright against pytest-django's live_server.

``playwright install`` cannot download here, so the tests launch ``/usr/bin/chromium`` and are
skipped only when it is missing. Screenshots go to ``test-artifacts/screenshots/`` (gitignored).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing (apt-get install -y chromium)")
    # The live server thread and Playwright's sync API share the process; the ORM calls the
    # tests make next to Playwright would otherwise trip Django's async-safety check.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# The test database as ``seed_demo <args>`` left it, and the warehouse file it built, by args.
_SEEDED: dict[tuple[str, ...], tuple[sqlite3.Connection, tuple[int, int, int] | None]] = {}


def _stamp(path: Path | None) -> tuple[int, int, int] | None:
    try:
        stat = path.stat() if path is not None else None
    except FileNotFoundError:
        return None
    return None if stat is None else (stat.st_ino, stat.st_mtime_ns, stat.st_size)


def seed_demo(*args: str) -> None:
    """``manage.py seed_demo *args`` on the (flushed) test database.

    On SQLite the first call runs the command and keeps a copy of the database it left (the
    backup API, in memory); the next calls with the same arguments copy it back (milliseconds
    instead of 4-10 s), as long as the warehouse file is still the one that seed built (another
    module's seed replaces it: then the command runs again). PostgreSQL: the command each time.
    """
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection

    from accounts import permissions
    from catalog.demo.warehouse import duckdb_path

    warehouse = duckdb_path(settings.WAREHOUSE_URL)
    kept = _SEEDED.get(args) if connection.vendor == "sqlite" else None
    if kept is not None and kept[1] is not None and kept[1] == _stamp(warehouse):
        connection.ensure_connection()
        kept[0].backup(connection.connection)
        # Rows changed behind the ORM's back: what the process keeps about them goes (the
        # users come back with the same ids and dates, so the permission ids kept for them
        # by an earlier test would be taken as theirs).
        cache.clear()
        permissions.permissions_changed()
        return
    with open(os.devnull, "w") as devnull:
        call_command("seed_demo", *args, stdout=devnull, stderr=devnull)
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        copy = sqlite3.connect(":memory:", check_same_thread=False)
        connection.connection.backup(copy)
        _SEEDED[args] = (copy, _stamp(warehouse))


@pytest.fixture
def demo(live_server: Any) -> Any:
    """The demo world (23 products, people, consumers, one quality run) behind a live server;
    without the 120-day past (tests/browser/test_insights_browser.py seeds it where it shows)."""
    seed_demo("--history-days", "0")
    return live_server


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def shoot() -> Any:
    """``shoot(page, name)`` saves a full-page screenshot under test-artifacts/screenshots."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(tab: Any, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        tab.screenshot(path=str(path), full_page=True)
        return path

    return save


def login(tab: Any, base_url: str, username: str, password: str) -> None:
    """Log in through the real login form."""
    tab.goto(f"{base_url}/accounts/login/")
    tab.get_by_label("Username").fill(username)
    tab.get_by_label("Password").fill(password)
    tab.get_by_role("button", name="Log in").click()
    tab.wait_for_url(f"{base_url}/")
