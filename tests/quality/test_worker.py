"""A real Celery worker with beat runs scheduled checks end to end (issue 3, point 10).

The worker is a subprocess sharing this test's database (the file SQLite test DB, or the
PostgreSQL test DB in CI) and a DuckDB warehouse built in tmp_path. Broker: kombu's embedded
filesystem transport, and Redis (``CELERY_BROKER_URL=redis://…`` from CI, or a throwaway
``redis-server`` started here when the executable exists).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from django.db import connection
from django.utils import timezone

from catalog.models import DataProduct, Domain
from quality.models import CheckRun, RunStatus
from tests.quality.test_services import build_warehouse, make_product

REDIS_SERVER = shutil.which("redis-server")
REPO = Path(__file__).resolve().parents[2]
WAIT_S = 60

# The worker runs as ``python -m celery`` from this interpreter: no executable on PATH needed.
pytestmark = pytest.mark.integration


def _database_url() -> str:
    """The URL of the database this test runs against (the test DB, not the configured one)."""
    cfg = connection.settings_dict
    if cfg["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(cfg['NAME']).resolve()}"  # absolute path: four slashes
    user = quote(cfg.get("USER") or "")
    password = quote(cfg.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = cfg.get("HOST") or "localhost"
    port = f":{cfg['PORT']}" if cfg.get("PORT") else ""
    return f"postgresql://{auth}{host}{port}/{cfg['NAME']}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _own_database(url: str) -> str:
    """``url`` with a Redis database of this test process's own under pytest-xdist (gw0 -> 1,
    gw1 -> 2, ...): two processes' Celery workers on one queue would take each other's tasks."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return url
    return urlunsplit(urlsplit(url)._replace(path=f"/{1 + int(worker[2:])}"))


@pytest.fixture(params=["filesystem", "redis"])
def broker_url(request: Any, tmp_path: Path) -> Iterator[str]:
    if request.param == "filesystem":
        yield "filesystem://"
        return
    from_env = os.environ.get("CELERY_BROKER_URL", "")
    if from_env.startswith("redis://"):
        yield _own_database(from_env)
        return
    if REDIS_SERVER is None:
        pytest.skip("no CELERY_BROKER_URL=redis://… and no redis-server executable")
    port = _free_port()
    server = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _start_worker(
    tmp_path: Path, broker: str, warehouse_url: str, *, name: str = "worker", **extra: str
) -> subprocess.Popen[bytes]:
    var = tmp_path / "worker-var"
    for folder in ("broker/out", "broker/control", "broker/processed"):
        # config/settings.py names these folders but does not create them (reported).
        (var / folder).mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": _database_url(),
        "WAREHOUSE_URL": warehouse_url,
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PORTAL_VAR_DIR": str(var),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "NOTIFY_WEBHOOK_URL": "",
        "QUALITY_DISPATCH_EVERY_S": "2",
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "config", "worker", "-B", "--pool=solo"),
            *("--loglevel=INFO", "-s", str(var / "beat-schedule")),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
        ],
        cwd=REPO,
        env=env,
        stdout=open(tmp_path / f"{name}.log", "wb"),  # noqa: SIM115 - closed with the process
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def _stop(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=5)


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_due_checks_and_the_history_shows_them(
    broker_url: str, tmp_path: Path, settings: Any, marketing: Domain
) -> None:
    warehouse_url = build_warehouse(tmp_path / "wh.duckdb", newest=timezone.now(), null_campaigns=1)
    settings.WAREHOUSE_URL = warehouse_url
    good = make_product(marketing)
    DataProduct.objects.filter(pk=good.pk).update(
        next_check_at=timezone.now() - timedelta(minutes=1)
    )

    worker = _start_worker(tmp_path, broker_url, warehouse_url)
    try:
        deadline = time.monotonic() + WAIT_S
        run = None
        while time.monotonic() < deadline:
            run = CheckRun.objects.filter(product=good, trigger="schedule").first()
            if run is not None and run.is_finished:
                break
            if worker.poll() is not None:
                break
            time.sleep(0.5)
    finally:
        _stop(worker)
    log = (tmp_path / "worker.log").read_text(errors="replace")[-3000:]

    assert run is not None and run.is_finished, f"no finished scheduled run; worker log:\n{log}"
    assert run.status == "failed"  # one NULL campaign_id
    assert run.results.get(check_name="no_null_campaign_ids").value == 1
    assert CheckRun.objects.filter(product=good, trigger="schedule").count() == 1
    good.refresh_from_db()
    assert good.last_validated_at is not None
    assert good.next_check_at is not None and good.next_check_at > timezone.now()


HEAVY_CHECK = (
    "SELECT count(*) FROM campaign_attribution a "
    "JOIN campaign_attribution b ON a.revenue_cents < b.revenue_cents"
)


def _wait_for(predicate: Any, seconds: float, worker: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


# A check that runs until the 4 s time cap (its self-join would take minutes); the run's
# deadline is cap + 1 s margin.
CAPS = {"CHECK_TIMEOUT_S": "4", "CHECK_RUN_MARGIN_S": "1"}
# The worker's wait for SQLite's write lock (the outage below holds it for longer).
BUSY = {"SQLITE_BUSY_TIMEOUT_S": "3"}


def _due_product_with_a_slow_check(
    tmp_path: Path, settings: Any, marketing: Domain
) -> tuple[DataProduct, str]:
    """A product due now (the worker's dispatcher queues its run through the real broker)
    whose run lasts until the check time cap; and its warehouse URL."""
    warehouse_url = build_warehouse(tmp_path / "wh.duckdb", newest=timezone.now(), rows=100_000)
    settings.WAREHOUSE_URL = warehouse_url
    product = make_product(marketing)
    DataProduct.objects.filter(pk=product.pk).update(
        next_check_at=timezone.now() - timedelta(minutes=1), sla_freshness="24h"
    )
    product.checks.create(
        position=9, name="slow", type="custom_sql", params={"sql": HEAVY_CHECK}, severity="error"
    )
    return product, warehouse_url


@pytest.mark.slow  # ~15-20 s per broker
@pytest.mark.django_db(transaction=True)
def test_a_run_whose_worker_is_killed_mid_run_is_recovered_not_stuck(
    broker_url: str, tmp_path: Path, settings: Any, marketing: Domain
) -> None:
    product, warehouse_url = _due_product_with_a_slow_check(tmp_path, settings, marketing)
    first = _start_worker(tmp_path, broker_url, warehouse_url, name="first", **CAPS)
    second = None
    try:
        assert _wait_for(
            lambda: CheckRun.objects.filter(product=product, status="running").exists(), 60, first
        ), (tmp_path / "first.log").read_text(errors="replace")[-3000:]
        run = CheckRun.objects.get(product=product)
        os.killpg(first.pid, signal.SIGKILL)  # the worker dies mid-run, its message is gone
        first.wait(timeout=10)
        run.refresh_from_db()
        assert run.status == "running"

        second = _start_worker(tmp_path, broker_url, warehouse_url, name="second", **CAPS)
        recovered = _wait_for(lambda: CheckRun.objects.get(pk=run.pk).is_finished, 90, second)
    finally:
        _stop(first)
        if second is not None:
            _stop(second)
    run.refresh_from_db()
    log = (tmp_path / "second.log").read_text(errors="replace")[-3000:]
    assert recovered, f"run {run.pk} still {run.status}; second worker log:\n{log}"
    assert run.requeues == 1  # queued again once by the dispatcher, then run to the end
    assert run.results.filter(check_name="slow").exists()
    assert CheckRun.objects.filter(product=product).count() == 1


class _PortalDatabaseOutage:
    """Take the portal's database away from every other connection, then give it back.

    PostgreSQL: new connections refused (``ALLOW_CONNECTIONS false``) and every other backend on
    the test database terminated, which is what a worker sees when the server goes down.
    SQLite: another connection holds the write lock past the worker's busy timeout (3 s here,
    ``SQLITE_BUSY_TIMEOUT_S``), so every write fails with "database is locked" (the file itself
    cannot vanish under open handles).
    """

    def __init__(self) -> None:
        self.cfg = connection.settings_dict
        self.sqlite_holder: Any = None

    def begin(self) -> None:
        if self.cfg["ENGINE"].endswith("sqlite3"):
            import sqlite3

            self.sqlite_holder = sqlite3.connect(self.cfg["NAME"], timeout=30)
            self.sqlite_holder.isolation_level = None
            self.sqlite_holder.execute("BEGIN EXCLUSIVE")
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (mine,) = cursor.fetchone()
        # From the maintenance database: a database cannot shut its own doors.
        with self._maintenance() as conn:
            conn.execute(f'ALTER DATABASE "{self.cfg["NAME"]}" ALLOW_CONNECTIONS false')
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> %s",
                (self.cfg["NAME"], mine),
            )

    def _maintenance(self) -> Any:
        import psycopg

        cfg = self.cfg
        return psycopg.connect(
            dbname="postgres",
            user=cfg.get("USER") or None,
            password=cfg.get("PASSWORD") or None,
            host=cfg.get("HOST") or None,
            port=cfg.get("PORT") or None,
            autocommit=True,
        )

    def end(self) -> None:
        if self.sqlite_holder is not None:
            self.sqlite_holder.execute("ROLLBACK")
            self.sqlite_holder.close()
            self.sqlite_holder = None
            return
        if not self.cfg["ENGINE"].endswith("sqlite3"):
            with self._maintenance() as conn:
                conn.execute(f'ALTER DATABASE "{self.cfg["NAME"]}" ALLOW_CONNECTIONS true')

    @property
    def seconds(self) -> float:
        # Past the run's deadline (4 s cap + 1 s margin) with room to spare, and past the
        # worker's SQLite busy timeout (BUSY).
        return 9.0


@pytest.mark.slow  # ~20-25 s per broker
@pytest.mark.django_db(transaction=True)
def test_a_run_whose_portal_database_goes_away_mid_run_is_finished_after_it_returns(
    broker_url: str, tmp_path: Path, settings: Any, marketing: Domain
) -> None:
    product, warehouse_url = _due_product_with_a_slow_check(tmp_path, settings, marketing)
    worker = _start_worker(tmp_path, broker_url, warehouse_url, **CAPS, **BUSY)
    outage = _PortalDatabaseOutage()
    try:
        assert _wait_for(
            lambda: CheckRun.objects.filter(product=product, status="running").exists(), 60, worker
        ), (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
        run = CheckRun.objects.get(product=product)
        outage.begin()
        try:
            # The check finishes during the outage: its results cannot be written.
            time.sleep(outage.seconds)
            assert worker.poll() is None, "the worker died with the portal database"
        finally:
            outage.end()
        finished = _wait_for(lambda: CheckRun.objects.get(pk=run.pk).is_finished, 90, worker)
    finally:
        outage.end()
        _stop(worker)
    run.refresh_from_db()
    log = (tmp_path / "worker.log").read_text(errors="replace")[-4000:]
    assert finished, f"run {run.pk} still {run.status} after the database came back:\n{log}"
    # The outage reached the run: writing its outcome failed and the task retried.
    whole_log = (tmp_path / "worker.log").read_text(errors="replace")
    assert re.search(r"check_run_task\[\S+\] retry: .*OperationalError", whole_log), log
    # Recovered (its message delivered again by the broker, or queued again once by the
    # dispatcher, and run), or recorded as an error with the reason; never a second run row,
    # never left running.
    assert CheckRun.objects.filter(product=product).count() == 1
    checks_ran = run.results.filter(check_name="slow").exists()
    if checks_ran:  # run again to the end (the slow one times out), queued again at most once
        assert run.requeues <= 1, log
    else:  # recorded as lost, with the reason
        assert run.status == RunStatus.ERROR and "lost" in run.message, (run.message, log)
