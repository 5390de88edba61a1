"""A real Spark Connect server for the warehouse suites, and throwaway Spark databases (issue 18).

Which server the tests use:

- ``PORTAL_TEST_SPARK_URL=sc://host:port``: a server someone else runs (e.g. a Databricks-like
  endpoint); the tests only create and drop their own databases in it.
- ``PORTAL_TEST_SPARK=1``: the tests start one local Spark Connect server themselves, the first
  time a Spark test needs it, and stop it when the test run ends. It is pyspark's own Spark
  (``pyspark/jars``, the connect jar included) run by ``spark-submit`` with the machine's Java 17,
  listening on 127.0.0.1 on a free port, in-memory catalog, tables under a temporary folder;
  nothing is downloaded. Start-up is about 10-20 s on a busy 2-core machine, once per run.
- neither: every Spark test skips (and says why).

``spark_warehouse(statements)`` creates a fresh database, runs the statements in it through a
session of its own (the loader), and yields the portal's URL for that database
(``…;database=<name>``); the database is dropped afterwards.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

SPARK_URL_ENV = "PORTAL_TEST_SPARK_URL"
SPARK_START_ENV = "PORTAL_TEST_SPARK"
START_TIMEOUT_S = 180
SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
# Small test tables: a few shuffle partitions instead of 200 keep every GROUP BY fast.
SERVER_CONF = {
    "spark.ui.enabled": "false",
    "spark.sql.catalogImplementation": "in-memory",
    "spark.sql.shuffle.partitions": "4",
    "spark.connect.grpc.binding.address": "127.0.0.1",
    "spark.sql.session.timeZone": "UTC",
}


class _Server:
    """The one local Spark Connect server of this test process (started on first use)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.process: subprocess.Popen[bytes] | None = None
        self.url: str | None = None
        self.folder: Path | None = None
        self.error: str | None = None
        self.started_s: float | None = None

    def start(self) -> str:
        with self.lock:
            if self.url is not None:
                return self.url
            if self.error is not None:
                raise RuntimeError(self.error)
            try:
                self.url = self._start()
            except Exception as exc:
                self.error = f"the local Spark Connect server did not start: {exc}"
                self.stop()
                raise RuntimeError(self.error) from exc
            return self.url

    def _start(self) -> str:
        import pyspark

        home = Path(pyspark.__file__).parent
        java = shutil.which("java")
        if java is None:
            raise RuntimeError("no java on PATH (Debian: openjdk-17-jre-headless)")
        self.folder = Path(tempfile.mkdtemp(prefix="portal-spark-"))
        port = _free_port()
        conf = {
            **SERVER_CONF,
            "spark.connect.grpc.binding.port": str(port),
            "spark.sql.warehouse.dir": str(self.folder / "warehouse"),
            "spark.driver.extraJavaOptions": f"-Djava.io.tmpdir={self.folder}",
        }
        command = [str(home / "bin" / "spark-submit"), "--class", SERVER_CLASS]
        command += ["--name", "portal-test-spark-connect", "--master", "local[2]"]
        command += ["--driver-memory", "1g"]
        for key, value in conf.items():
            command += ["--conf", f"{key}={value}"]
        command.append("spark-internal")
        env = {
            **os.environ,
            "SPARK_HOME": str(home),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_LOG_DIR": str(self.folder),
            "SPARK_CONNECT_MODE": "0",
        }
        env.pop("SPARK_REMOTE", None)
        log = (self.folder / "server.log").open("wb")
        started = time.monotonic()
        self.process = subprocess.Popen(  # noqa: S603 (our own command line)
            command,
            env=env,
            cwd=self.folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole
        )
        log.close()
        atexit.register(self.stop)
        while time.monotonic() - started < START_TIMEOUT_S:
            if self.process.poll() is not None:
                raise RuntimeError(f"it exited ({self.process.returncode}): {self._log_tail()}")
            if _listening(port) and "Spark Connect server started" in self._log_tail(50):
                url = f"sc://127.0.0.1:{port}"
                _warm_up(url)
                self.started_s = time.monotonic() - started
                return url
            time.sleep(0.25)
        raise RuntimeError(f"not listening after {START_TIMEOUT_S}s: {self._log_tail()}")

    def _log_tail(self, lines: int = 5) -> str:
        if self.folder is None:
            return ""
        try:
            text = (self.folder / "server.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the server's process group (only the one this object started) and clean up."""
        process, self.process = self.process, None
        if process is not None:
            # The adapter's cached sessions first: closing them once the server is gone can
            # hang at interpreter exit.
            from querying.warehouses import spark as adapter

            adapter._stop_sessions()
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
        self.url = None


def _warm_up(url: str) -> None:
    """One small job through every stage a governed query uses: the first job of a fresh JVM
    compiles and loads for seconds (9 s measured here), which would count against the first
    test's time cap."""
    spark = loader_session(url)
    try:
        spark.sql(
            "SELECT md5(CAST(id % 3 AS STRING)) AS h, count(*) FROM range(100) GROUP BY 1"
        ).collect()
    finally:
        spark.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


SERVER = _Server()


def spark_url() -> str:
    """The Spark Connect URL (starting the local server once), or skip without Spark."""
    url = os.environ.get(SPARK_URL_ENV)
    if url:
        return url
    if os.environ.get(SPARK_START_ENV) == "1":
        return SERVER.start()  # a failure to start fails the test (it does not skip)
    pytest.skip(
        f"no Spark: set {SPARK_START_ENV}=1 (the tests start a local Spark Connect server; "
        f"needs Java 17 and the 'spark' extra) or {SPARK_URL_ENV}=sc://host:port"
    )


def stop_server() -> None:
    """Stop the local server (the test run's end; a no-op when none was started)."""
    SERVER.stop()


def loader_session(url: str) -> Any:
    """A Spark Connect session of the test's own (not the adapter's), to write tables."""
    from pyspark.sql import SparkSession

    return SparkSession.builder.remote(url.split(";", 1)[0]).create()


@contextmanager
def spark_warehouse(statements: Sequence[str], *, database: str | None = None) -> Iterator[str]:
    """Yield a portal URL for a Spark database built by ``statements`` (run in it).

    ``database=None``: a fresh database, dropped afterwards. ``database="default"``: the tables
    go into Spark's default database (what the governor reads when no schema is given, as the
    governor suites call it) and are dropped afterwards; one run per server at a time.
    """
    url = spark_url()
    name = database or "wh_" + secrets.token_hex(4)
    spark = loader_session(url)
    tables = [s.split()[2] for s in statements if s.upper().startswith("CREATE TABLE")]
    if database is None:
        spark.sql(f"CREATE DATABASE `{name}`")
    try:
        spark.sql(f"USE `{name}`")
        for table in tables:  # left over by a run that was killed
            spark.sql(f"DROP TABLE IF EXISTS `{table}`")
        for statement in statements:
            spark.sql(statement)
        yield url if database == "default" else f"{url};database={name}"
    finally:
        if database is None:
            spark.sql(f"DROP DATABASE IF EXISTS `{name}` CASCADE")
        else:
            for table in tables:
                spark.sql(f"DROP TABLE IF EXISTS `{name}`.`{table}`")
        spark.stop()
