"""The compose stack without Docker: its own commands on PostgreSQL + Redis (issue 20).

A scratch cluster after the db container's first start (the init script), a throwaway Redis,
then docker-compose.yml's migrate job, gunicorn, worker and beat — the commands read from the
compose file, run from the packages installed from the lock. Then README's "Your first data
product", step by step: the admin, a domain and its owner (add_domain), the table loaded and
granted by the loader (deploy/examples/marketing_signups.sql), the contract published through
the API with a token, its checks run by the real worker, a governed query through the API and
a session login; beat schedules the next run; /healthz turns 503 when the database stops.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from tests.deploy.cluster import Cluster, free_port, stop
from tests.deploy.compose import REPO
from tests.deploy.stack import Http, Stack, wait_port

pytestmark = pytest.mark.integration

EXAMPLES = REPO / "deploy" / "examples"
MAYA_PASSWORD = "maya-first-product-1"
ANA_PASSWORD = "ana-first-product-1"


@pytest.fixture(scope="module")
def stack(
    deployed_cluster: Cluster, redis_url: str, deploy_secrets: dict[str, str]
) -> Iterator[Stack]:
    folder = Path(tempfile.mkdtemp(prefix="portal-stack-"))
    stack = Stack(deploy_secrets, deployed_cluster, redis_url, folder)
    try:
        migrate = stack.run("migrate")
        assert migrate.returncode == 0, migrate.stdout + migrate.stderr
        yield stack
    finally:
        stack.stop_all()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def web_port(stack: Stack) -> int:
    port = free_port()
    # PORT as the compose file sets it; bound to loopback only for the test.
    stack.start("web", PORT=str(port), GUNICORN_CMD_ARGS=f"--bind 127.0.0.1:{port}")
    stack.start("worker")
    stack.start("beat")
    wait_port(port)
    stack.wait_healthy("web", PORT=str(port))
    # The worker's node name is celery@<host name>, as in its container.
    stack.wait_healthy("worker", HOSTNAME=socket.gethostname())
    return port


def manage(stack: Stack, *args: str, **extra: str) -> str:
    """``docker compose exec web python manage.py …``: a command in the web container."""
    # ``extra`` is the command's environment, never run()'s ``timeout``.
    result = stack.run("web", ["python", "manage.py", *args], **extra)  # type: ignore[arg-type]
    assert result.returncode == 0, f"manage.py {args[0]}: {result.stdout}{result.stderr}"
    return result.stdout


def loader_psql(stack: Stack, sql_file: Path) -> None:
    """``docker compose exec -T db psql -U warehouse_loader -d warehouse < FILE`` (README)."""
    result = subprocess.run(
        ["psql", "-U", "warehouse_loader", "-d", "warehouse", "-v", "ON_ERROR_STOP=1",
         "--no-psqlrc", "-q", "-f", str(sql_file)],
        env={**stack.cluster.superuser_env(), "PGUSER": "warehouse_loader",
             "PATH": f"{stack.cluster.bindir}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def portal_db(stack: Stack) -> psycopg.Connection[Any]:
    url = stack.cluster.url("portal", stack.secrets["PORTAL_DB_PASSWORD"], "portal")
    return psycopg.connect(url, autocommit=True)


def test_the_migrate_job_can_run_again_without_changes(stack: Stack) -> None:
    again = stack.run("migrate")
    assert again.returncode == 0, again.stderr
    assert "No migrations to apply" in again.stdout
    with portal_db(stack) as conn:
        owner = conn.execute(
            "SELECT tableowner FROM pg_tables WHERE tablename = 'catalog_dataproduct'"
        ).fetchone()
    assert owner == ("portal",)


def test_web_and_worker_health_checks_pass(stack: Stack, web_port: int) -> None:
    status, headers, body = Http(web_port).request("GET", "/healthz")
    assert (status, body) == (200, b'{"status": "ok"}')
    # The static files the image builds are served (collected once, as the Dockerfile does).
    static = stack.run(
        "web", ["python", "manage.py", "collectstatic", "--noinput", "-v", "0"],
        PORTAL_VAR_DIR=str(stack.folder / "var-web"),
    )  # fmt: skip
    assert static.returncode == 0, static.stderr
    for proc in stack.processes.values():
        assert proc.poll() is None


def test_your_first_data_product(stack: Stack, web_port: int) -> None:
    # 1. The admin, a domain owner, an analyst; the domain with its owner (add_domain).
    manage(stack, "createsuperuser", "--noinput", "--username", "admin", "--email",
           "admin@example.com", DJANGO_SUPERUSER_PASSWORD="admin-first-product-1")  # fmt: skip
    manage(stack, "add_user", "maya", "--role", "manager", "--password", MAYA_PASSWORD)
    manage(stack, "add_user", "ana", "--role", "analyst", "--password", ANA_PASSWORD)
    out = manage(stack, "add_domain", "marketing", "--name", "Marketing", "--owner", "maya")
    assert out.strip() == "created domain marketing (Marketing): tables marketing_*, owner maya"

    # 2. The loader's table, granted to the reader role.
    loader_psql(stack, EXAMPLES / "marketing_signups.sql")

    # 3. The contract, published by its owner through the API with a token.
    token = re.search(r"Generated token (\w+)", manage(stack, "drf_create_token", "maya"))
    assert token is not None
    maya = Http(web_port)
    maya.token = token.group(1)
    contract = yaml.safe_load((EXAMPLES / "marketing.signups.yaml").read_text())
    status, body = maya.json("PUT", "/v1/catalog/products/marketing.signups", contract)
    assert status == 201, body

    # 4. Its checks, run by the worker through Redis.
    status, body = maya.json("POST", "/v1/quality/products/marketing.signups/runs")
    assert status in (200, 202), body
    run_id = body["id"]
    run = wait_for_run(maya, lambda r: r["id"] == run_id)
    assert run["status"] == "passed", run
    results = {r["checkName"]: r for r in run["results"]}
    assert {"signup_id_unique", "signed_up_at_fresh", "known_countries"} <= set(results)
    assert all(r["passed"] for r in results.values()), results

    # 5. A governed query: the owner sees e-mails, an analyst sees them masked.
    sql = "SELECT email, count(*) AS n FROM marketing.signups GROUP BY email ORDER BY email LIMIT 3"
    status, owner_rows = maya.json("POST", "/v1/query", {"sql": sql})
    assert status == 200, owner_rows
    assert owner_rows["rows"][0][0].endswith("@example.com")
    ana = Http(web_port)
    ana.token = re.search(r"Generated token (\w+)", manage(stack, "drf_create_token", "ana")).group(
        1
    )
    status, analyst_rows = ana.json("POST", "/v1/query", {"sql": sql})
    assert status == 200, analyst_rows
    assert analyst_rows["maskedColumns"] == ["marketing.signups.email"]
    # The e-mail mask keeps the domain only: every subscriber falls into one group.
    assert analyst_rows["rows"] == [["***@example.com", 500]]

    # 6. A person logs in and finds the product.
    browser = Http(web_port)
    status, _, _ = browser.request("GET", "/accounts/login/")
    assert status == 200 and "csrftoken" in browser.cookies
    status, headers, _ = browser.request(
        "POST", "/accounts/login/",
        form={"username": "ana", "password": ANA_PASSWORD,
              "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
    )  # fmt: skip
    assert status == 302, headers
    status, _, page = browser.request("GET", "/products/marketing.signups/")
    assert status == 200 and b"Newsletter Signups" in page

    # 7. Beat schedules the next run when the product is due.
    with portal_db(stack) as conn:
        conn.execute(
            "UPDATE catalog_dataproduct SET next_check_at = now() - interval '1 minute' "
            "WHERE product_id = 'marketing.signups'"
        )
    scheduled = wait_for_run(maya, lambda r: r["trigger"] == "schedule")
    assert scheduled["status"] == "passed", scheduled


def wait_for_run(client: Http, match: Any, within_s: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + within_s
    last = None
    while time.monotonic() < deadline:
        status, body = client.json("GET", "/v1/quality/products/marketing.signups/runs")
        assert status == 200, body
        runs = body["results"] if isinstance(body, dict) else body
        found = [r for r in runs if match(r)]
        if found and found[0]["status"] not in ("queued", "running"):
            return found[0]
        last = found[0] if found else runs
        time.sleep(1)
    raise AssertionError(f"no finished run in {within_s}s: {last}")


def test_a_backup_restores_into_an_empty_database_as_the_readme_says(stack: Stack) -> None:
    """README "Backups": pg_dump of the portal database, pg_restore, then the migrate job."""
    env = {**stack.cluster.superuser_env(), "PATH": f"{stack.cluster.bindir}:/usr/bin:/bin"}
    dump = stack.folder / "portal.dump"
    with dump.open("wb") as out:
        subprocess.run(
            ["pg_dump", "-U", "portal", "-d", "portal", "--format=custom"],
            env=env, stdout=out, check=True, timeout=120,
        )  # fmt: skip
    with psycopg.connect(
        host=str(stack.cluster.socket_dir), port=stack.cluster.port, user="postgres",
        dbname="postgres", autocommit=True,
    ) as conn:  # fmt: skip
        conn.execute("CREATE DATABASE portal_restored OWNER portal")
    with dump.open("rb") as backup:
        restored = subprocess.run(
            ["pg_restore", "-U", "portal", "-d", "portal_restored", "--clean", "--if-exists",
             "--no-owner", "--role=portal"],
            env=env, stdin=backup, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert restored.returncode == 0, restored.stderr
    url = stack.cluster.url("portal", stack.secrets["PORTAL_DB_PASSWORD"], "portal_restored")
    migrate = stack.run("migrate", DATABASE_URL=url)
    assert migrate.returncode == 0 and "No migrations to apply" in migrate.stdout, migrate.stderr
    with psycopg.connect(url) as conn:
        product = conn.execute(
            "SELECT version, status FROM catalog_dataproduct WHERE product_id = 'marketing.signups'"
        ).fetchone()
        runs = conn.execute("SELECT count(*) FROM quality_checkrun").fetchone()
    assert product == (1, "published")
    assert runs is not None and runs[0] >= 2


def test_healthz_turns_503_when_the_database_stops(stack: Stack, web_port: int) -> None:
    stop(stack.cluster)  # the last test of the module: the cluster stays down
    deadline = time.monotonic() + 30
    status = None
    while time.monotonic() < deadline:
        status, _, body = Http(web_port).request("GET", "/healthz")
        if status == 503:
            break
        time.sleep(0.5)
    assert status == 503
    assert body == b'{"status": "unavailable", "database": "unavailable"}'
    failed = stack.healthcheck("web", PORT=str(web_port))
    assert failed.returncode != 0
