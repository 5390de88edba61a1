"""The fixed cast of users and domains every test can use.

``owner``: owner of marketing; ``member``: member (not owner) of marketing; ``outsider``:
owner of finance; ``analyst``, ``manager``: no team; ``admin``: platform admin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from catalog.models import Domain
from tests.support.shared_catalog import cast_user, domain


@pytest.fixture
def marketing(db: Any) -> Domain:
    return domain("marketing")


@pytest.fixture
def finance(db: Any) -> Domain:
    return domain("finance")


@pytest.fixture
def owner(marketing: Domain) -> User:
    return cast_user("owner", {"marketing": marketing})


@pytest.fixture
def member(marketing: Domain) -> User:
    return cast_user("member", {"marketing": marketing})


@pytest.fixture
def outsider(finance: Domain) -> User:
    return cast_user("outsider", {"finance": finance})


@pytest.fixture
def analyst(db: Any) -> User:
    return cast_user("analyst")


@pytest.fixture
def manager(db: Any) -> User:
    return cast_user("manager")


@pytest.fixture
def admin_user(db: Any) -> User:
    return cast_user("admin_user")


@pytest.fixture
def uninstrumented_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Templates render as in production, without the test runner's instrumentation, which
    copies the context of every template rendered for the test client (~1,500 on an admin
    product form answer): for tests that read only status codes and bodies (no
    ``response.context``, no ``response.templates``)."""
    from django.template.base import Template
    from django.test.utils import _TestState  # what setup_test_environment() replaced

    original = _TestState.saved_data.template_render  # type: ignore[attr-defined]
    monkeypatch.setattr(Template, "_render", original)


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def api_as(api: APIClient):
    """``api_as(user)`` returns an API client authenticated as ``user`` (None: anonymous)."""

    def login(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return login


# --- CI's second run -------------------------------------------------------------------------
# .ci/run runs the suite twice: embedded (everything but `slow`), then on PostgreSQL + Redis with
# `--backend-run`, which keeps only what the backend can change: tests that touch the portal's
# database, the broker or a PostgreSQL warehouse, plus `integration`, `slow` and `spark` tests.
# Pure tests (the governor's parsing, contract rules, the check compiler…) and the browser tests
# already ran in the first run and would run the same code again.

_BACKEND_MARKERS = ("integration", "slow", "spark", "django_db")
# A module naming these reads a PostgreSQL warehouse itself. (Modules that start processes on
# the portal's database or broker use the database fixtures too; those naming DATABASE_URL or
# CELERY_BROKER_URL without them only strip the variables, e.g. bin/demo's embedded run.)
_BACKEND_WORDS = ("PORTAL_TEST_PG_URL", "tests.support.pg")
_module_mentions: dict[str, bool] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend-run",
        action="store_true",
        help="keep only tests whose outcome depends on the database, broker or a PostgreSQL "
        "warehouse (CI's second run; browser tests run in the first only)",
    )


def _touches_backend(item: pytest.Item) -> bool:
    if any(item.get_closest_marker(name) for name in _BACKEND_MARKERS):
        return True
    if "_django_db_helper" in getattr(item, "fixturenames", ()):
        return True
    path = str(item.path)
    if path not in _module_mentions:
        text = item.path.read_text(encoding="utf-8")
        _module_mentions[path] = any(word in text for word in _BACKEND_WORDS)
    return _module_mentions[path]


def _ran_with_a_postgres_twin(item: pytest.Item, ids: set[str]) -> bool:
    """A warehouse test's DuckDB case that the first run ran (it is not ``slow``) and whose
    PostgreSQL twin runs here: the twin covers what this run's portal database can change."""
    head, bracket, tail = item.nodeid.partition("[")
    parts = tail.rstrip("]").split("-")
    if not bracket or "duckdb" not in parts or item.get_closest_marker("slow"):
        return False
    twin = "-".join("postgres" if part == "duckdb" else part for part in parts)
    return f"{head}[{twin}]" in ids


# The longest modules first (measured in both of CI's runs, December 2026), so bin/test's two
# processes, which take a module at a time, do not end with one of them alone on a long module.
# The rest keep their order. Every process sorts the same way (pytest-xdist requires it).
_LONGEST_FIRST = (
    "tests/test_hostile_http.py",
    "tests/quality/test_worker.py",
    "tests/querying/test_no_secret_in_outputs.py",
    "tests/querying/test_access_requests.py",
    "tests/test_bin_demo.py",
    "tests/deploy/test_stack.py",
    "tests/catalog/test_seed_demo_command.py",
    "tests/test_admin_roles.py",
    "tests/catalog/test_demo_rerun.py",
    "tests/deploy/test_demo_postgres.py",
    "tests/querying/test_late_hashing.py",
    "tests/browser/test_insights_browser.py",
    "tests/querying/test_governor_adversarial.py",
    "tests/querying/test_spark_cancel.py",
    "tests/querying/test_governor_grants.py",
    "tests/catalog/test_warehouse_connections.py",
    "tests/browser/test_what_people_see.py",
    "tests/browser/test_catalog_browser.py",
    "tests/catalog/test_admin_owner_forms.py",
    "tests/querying/test_saved_queries_api.py",
    "tests/test_permission_matrix.py",
    "tests/browser/test_admin_browser.py",
    "tests/browser/test_access_browser.py",
    "tests/accounts/test_oidc_end_to_end.py",
    "tests/querying/test_governor_identifiers.py",
    "tests/browser/test_csp_in_chromium.py",
    "tests/querying/test_api_query.py",
    "tests/browser/test_new_product_browser.py",
    "tests/catalog/test_drafts.py",
    "tests/querying/test_query_log_api.py",
    "tests/quality/test_admin_quality.py",
    "tests/catalog/test_what_new_users_tripped_on.py",
    "tests/test_settings_security.py",
)


def _longest_first(items: list[pytest.Item]) -> None:
    root = Path(__file__).resolve().parent.parent
    rank = {name: index for index, name in enumerate(_LONGEST_FIRST)}

    def key(item: pytest.Item) -> int:
        try:
            name = item.path.resolve().relative_to(root).as_posix()
        except ValueError:
            return len(rank)
        return rank.get(name, len(rank))

    items.sort(key=key)  # stable: the rest keep the collection's order


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _longest_first(items)
    if not config.getoption("--backend-run"):
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    ids = {item.nodeid for item in items}
    for item in items:
        wanted = (
            not item.get_closest_marker("browser")
            and _touches_backend(item)
            and not _ran_with_a_postgres_twin(item, ids)
        )
        (keep if wanted else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
