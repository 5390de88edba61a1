"""docker-compose.yml's ``spark`` service, run without Docker (issue 18).

Its command, with the volume's path and the port made local, starts a Spark Connect server from
pyspark's own Spark; a table written to it is read through the portal's adapter, and is still
there after a restart (the Hive catalog and the tables live in the volume's folder).

Marked ``spark`` (and ``integration``): it needs Java 17 and the ``spark`` extra, so it runs when
the test run has Spark (``PORTAL_TEST_SPARK=1``), and starts a server of its own twice (about a
minute on two cores).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from querying.warehouses import warehouse_from_url
from querying.warehouses.spark import forget_session, parse_url, session_for
from tests.deploy.compose import argv, load_compose, sample_secrets
from tests.support.spark import SPARK_START_ENV, loader_session

pytestmark = [pytest.mark.integration, pytest.mark.spark, pytest.mark.spark_stack]

START_TIMEOUT_S = 180
VOLUME = "/var/lib/spark"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_command(folder: Path, port: int) -> list[str]:
    """The service's command as this machine runs it: pyspark's spark-submit, the volume's
    folder, a free port on loopback, 1 GB of driver memory (SPARK_DRIVER_MEMORY)."""
    import pyspark

    env = {**sample_secrets(), "SPARK_DRIVER_MEMORY": "1g"}
    command = argv(load_compose(env)["services"]["spark"]["command"])
    assert command[0] == "spark-submit" and "--driver-memory" in command
    assert command[command.index("--driver-memory") + 1] == "1g"
    local = [str(Path(pyspark.__file__).parent / "bin" / "spark-submit")]
    for part in command[1:]:
        part = part.replace(VOLUME, str(folder))
        if part == "spark.connect.grpc.binding.port=15002":
            part = f"spark.connect.grpc.binding.port={port}"
        local.append(part)
    # The container listens on its own interfaces; on this machine, loopback only.
    return [local[0], "--conf", "spark.connect.grpc.binding.address=127.0.0.1", *local[1:]]


@contextmanager
def running_service(folder: Path) -> Iterator[str]:
    """Start the service's command; yield its Spark Connect URL; stop its process group."""
    import pyspark

    port = _free_port()
    log_path = folder / f"server-{port}.log"
    env = {
        **os.environ,
        "SPARK_HOME": str(Path(pyspark.__file__).parent),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_CONNECT_MODE": "0",
    }
    env.pop("SPARK_REMOTE", None)
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 (the compose file's own command)
            service_command(folder, port),
            env=env,
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"sc://127.0.0.1:{port}"
    try:
        started = time.monotonic()
        while "Spark Connect server started" not in log_path.read_text(errors="replace"):
            assert process.poll() is None, log_path.read_text(errors="replace")[-3000:]
            assert time.monotonic() - started < START_TIMEOUT_S, "the server did not start"
            time.sleep(0.5)
        yield url
    finally:
        for database in ("analytics",):  # the adapter's sessions on this server, closed first
            target = parse_url(f"{url};database={database}")
            with suppress(Exception):
                session_for(target).stop()
            forget_session(target)
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


@pytest.fixture
def volume(tmp_path: Path) -> Iterator[Path]:
    if os.environ.get(SPARK_START_ENV) != "1" or shutil.which("java") is None:
        pytest.skip(f"starts Spark itself: set {SPARK_START_ENV}=1 (needs Java 17, 'spark' extra)")
    folder = tmp_path / "sparkdata"
    folder.mkdir()
    yield folder


def test_the_spark_service_serves_tables_that_survive_a_restart(volume: Path) -> None:
    with running_service(volume) as url:
        loader = loader_session(url)
        try:
            loader.sql("CREATE DATABASE IF NOT EXISTS analytics")
            frame = loader.range(7).selectExpr("id", "concat('sku-', id) AS sku")
            frame.write.mode("overwrite").format("parquet").saveAsTable("analytics.orders")
        finally:
            loader.stop()
        reader = warehouse_from_url(f"{url};database=analytics")
        assert reader.tables() == ["orders"]
        assert reader.execute("SELECT count(*) FROM orders", timeout_s=60).rows == [(7,)]
    assert (volume / "metastore_db").is_dir() and (volume / "warehouse").is_dir()

    with running_service(volume) as url:  # a new container on the same volume
        reader = warehouse_from_url(f"{url};database=analytics")
        assert reader.tables() == ["orders"]
        rows = reader.execute("SELECT max(sku) FROM orders", timeout_s=60).rows
        assert rows == [("sku-6",)]
