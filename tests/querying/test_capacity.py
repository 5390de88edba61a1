"""One heavy query cannot starve the portal, and statuses are honest (issue 13).

Governed queries run with bounded concurrency per process and per user (429 QUERY_BUSY,
audited); an answer whose audit row cannot be written is withheld (503); a warehouse lost
mid-query is 503 WAREHOUSE_UNAVAILABLE, not the user's fault.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import OperationalError

from querying.models import QueryLog
from querying.warehouses import WarehouseUnavailable, warehouse_from_url
from tests.querying.fixtures_django import *  # noqa: F403

SQL = "SELECT count(*) AS n FROM marketing.campaign_attribution"


class Gate:
    """Holds every warehouse statement until released (a heavy query in flight)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from querying.warehouses.duckdb import DuckDBWarehouse

        self.entered = threading.Semaphore(0)
        self.release = threading.Event()
        real = DuckDBWarehouse.execute

        def held(warehouse: Any, *args: Any, **kwargs: Any) -> Any:
            self.entered.release()
            self.release.wait(10)
            return real(warehouse, *args, **kwargs)

        monkeypatch.setattr(DuckDBWarehouse, "execute", held)


def _in_thread(client: Any, out: list[Any]) -> threading.Thread:
    thread = threading.Thread(
        target=lambda: out.append(client.post("/v1/query", {"sql": SQL}, format="json"))
    )
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_a_process_runs_at_most_its_share_of_queries_and_says_busy_beyond(
    api_as: Any, analyst: Any, manager: Any, warehouse: Any, settings: Any, monkeypatch: Any
) -> None:
    settings.QUERY_MAX_CONCURRENT = 1
    settings.QUERY_QUEUE_WAIT_S = 0
    gate = Gate(monkeypatch)
    first: list[Any] = []
    thread = _in_thread(api_as(analyst), first)
    assert gate.entered.acquire(timeout=10)  # the heavy query holds the only slot

    second = api_as(manager).post("/v1/query", {"sql": SQL}, format="json")
    gate.release.set()
    thread.join(10)

    assert second.status_code == 429
    assert second.json()["error"]["code"] == "QUERY_BUSY"
    assert first[0].status_code == 200
    busy = QueryLog.objects.get(code="QUERY_BUSY")
    assert busy.username == manager.username and busy.decision == "refused"
    # With the slot free again, the next query runs.
    assert api_as(manager).post("/v1/query", {"sql": SQL}, format="json").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_one_user_runs_at_most_their_share_while_others_still_can(
    api_as: Any, analyst: Any, manager: Any, warehouse: Any, settings: Any, monkeypatch: Any
) -> None:
    settings.QUERY_MAX_CONCURRENT = 4
    settings.QUERY_MAX_PER_USER = 1
    gate = Gate(monkeypatch)
    first: list[Any] = []
    thread = _in_thread(api_as(analyst), first)
    assert gate.entered.acquire(timeout=10)

    again = api_as(analyst).post("/v1/query", {"sql": SQL}, format="json")
    other: list[Any] = []
    other_thread = _in_thread(api_as(manager), other)
    assert gate.entered.acquire(timeout=10)  # another user got a slot
    gate.release.set()
    thread.join(10)
    other_thread.join(10)

    assert again.status_code == 429 and "already have 1" in again.json()["error"]["message"]
    assert first[0].status_code == 200 and other[0].status_code == 200


@pytest.mark.django_db
def test_an_answer_whose_audit_row_cannot_be_written_is_withheld(
    api_as: Any, analyst: Any, warehouse: Any, fixed_now: Any, monkeypatch: Any
) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("database is locked")

    monkeypatch.setattr(QueryLog.objects, "create", fail)
    response = api_as(analyst).post("/v1/query", {"sql": SQL}, format="json")

    assert response.status_code == 503
    body = response.json()
    assert body["error"]["code"] == "AUDIT_UNAVAILABLE" and "rows" not in body


@pytest.mark.integration
def test_a_warehouse_lost_mid_query_is_unavailable_not_an_engine_error() -> None:
    import psycopg

    from tests.support.pg import pg_admin_dsn_for, pg_warehouse

    with pg_warehouse("CREATE TABLE t (x int)") as dsn:
        warehouse = warehouse_from_url(dsn)
        errors: list[BaseException] = []

        def run() -> None:
            try:
                warehouse.execute("SELECT pg_sleep(20)", timeout_s=30)
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        with psycopg.connect(pg_admin_dsn_for(dsn), autocommit=True) as admin:
            deadline = time.monotonic() + 10
            killed = 0
            while not killed and time.monotonic() < deadline:
                time.sleep(0.2)
                killed = admin.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND state = 'active'"
                ).fetchone()[0]
        thread.join(30)
    assert killed == 1
    assert len(errors) == 1 and isinstance(errors[0], WarehouseUnavailable), errors
