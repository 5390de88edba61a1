"""Fixtures of the deployment tests: the compose file's secrets and a scratch cluster.

The integration tests here start their own PostgreSQL cluster (initdb, as the postgres image
does on an empty volume) and their own Redis, so they never touch the shared test server. They
run where PostgreSQL tests are wanted (``PORTAL_TEST_PG_URL`` set, as in CI's second run) and
skip cleanly elsewhere.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.cluster import Cluster, free_port, run_init_scripts, scratch_cluster
from tests.deploy.compose import environment, load_compose, sample_secrets
from tests.support.pg import PG_URL_ENV


def require_integration() -> None:
    """Skip unless PostgreSQL tests are wanted here (CI's second run sets the variable)."""
    if not os.environ.get(PG_URL_ENV):
        pytest.skip(f"{PG_URL_ENV} is not set (CI sets it; see .ci/run)")


@pytest.fixture(scope="module")
def deploy_secrets() -> dict[str, str]:
    return sample_secrets()


@pytest.fixture(scope="module")
def deployed_cluster(deploy_secrets: dict[str, str]) -> Iterator[Cluster]:
    """A fresh cluster after the db container's first start: the init script has run."""
    require_integration()
    db_env = environment(load_compose(deploy_secrets)["services"]["db"])
    with scratch_cluster() as cluster:
        run_init_scripts(cluster, db_env)
        yield cluster


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A throwaway redis-server on a free loopback port (the stack's broker and cache)."""
    require_integration()
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("no redis-server executable (.ci/run installs it)")
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="portal-redis-"))
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder)],
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
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
