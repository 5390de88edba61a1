"""On Spark the time cap stops the work, not only the wait (issue 18).

The adapter interrupts the statement's job tag when the cap passes: Spark starts none of the
job's remaining tasks and the running ones stop. Watched here on the local test server's own
processes: a statement that would keep both cores busy for tens of seconds times out at its cap,
and the server is idle a moment later. Nested-loop joins are the exception Spark cannot cancel
(SPARK-33409), so implicit cartesian products are refused before any job starts. Marked
``spark``; the CPU check needs the server the tests start (PORTAL_TEST_SPARK=1).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from querying.warehouses import QueryTimeout, WarehouseError, warehouse_from_url
from querying.warehouses.spark import CARTESIAN_REFUSED, SESSION_CONF, parse_url, session_for
from tests.support.spark import SERVER, spark_warehouse

pytestmark = [pytest.mark.integration, pytest.mark.spark]

# 20,000 rows in 64 files: the join below runs as 64+ short tasks (~0.5 s each here), so once
# the job is cancelled nothing is left but the tasks already running.
TABLE = (
    "CREATE TABLE cancel_rows USING parquet AS "
    "SELECT /*+ REPARTITION(64) */ id, CAST(id % 50 AS STRING) AS k FROM range(20000)"
)
# 8 million joined rows, each hashed over ~6 KB: about a minute of both cores here, uncapped
# (~11 s with 300 repeats, measured).
HEAVY = (
    "SELECT count(DISTINCT sha2(repeat(a.k || b.k || CAST(a.id AS STRING), 1500), 256)) "
    "FROM cancel_rows a JOIN cancel_rows b ON a.k = b.k"
)
CAP_S = 1.0
QUIET_WITHIN_S = 10
# Every row shares one key: joined with itself, 10^12 rows, each task hours of work. With a
# broadcast join a killed task looked for the cancel only every 4,096 streamed rows (4 * 10^9
# rows between looks here); with adaptive execution a cancel landing between two stages
# cancelled nothing and the join stage started after it (measured: still busy 12 s later).
SKEWED = (
    "CREATE TABLE skewed_rows USING parquet AS "
    "SELECT /*+ REPARTITION(4) */ id, 'x' AS k FROM range(1000000)"
)
SKEWED_JOIN = "SELECT count(*) FROM skewed_rows a JOIN skewed_rows b ON a.k = b.k"


def _cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) of every process in the process group ``pgid`` so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[2]) == pgid:  # fields[2] is the process group (field 5 of stat)
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def _busy(pgid: int, seconds: float) -> float:
    """The share of one core the group used over the next ``seconds``."""
    before = _cpu_seconds(pgid)
    time.sleep(seconds)
    return (_cpu_seconds(pgid) - before) / seconds


def test_a_statement_past_its_cap_stops_its_jobs_on_the_server() -> None:
    with spark_warehouse([TABLE]) as url:
        if SERVER.process is None:
            pytest.skip(
                "watching the server's CPU needs the tests' own server (PORTAL_TEST_SPARK=1)"
            )
        pgid = SERVER.process.pid  # started in a session of its own: its group
        warehouse = warehouse_from_url(url)
        assert _busy(pgid, 1.0) < 0.3, "the server was busy before the statement"
        started = time.monotonic()
        with pytest.raises(QueryTimeout):
            warehouse.execute(HEAVY, timeout_s=CAP_S)
        answered_s = time.monotonic() - started
        assert answered_s < CAP_S + 2, f"answered after {answered_s:.1f}s"
        # Without the interrupt both cores stay busy for about a minute; with it, what ran
        # finishes its current task and the server goes quiet (after the JVM's compiler, which
        # can stay busy a few seconds after a first heavy statement).
        deadline = time.monotonic() + QUIET_WITHIN_S
        busy = _busy(pgid, 1.0)
        while busy >= 0.35 and time.monotonic() < deadline:
            busy = _busy(pgid, 1.0)
        assert busy < 0.35, f"the server still used {busy:.2f} of a core {QUIET_WITHIN_S}s later"
        # The session is still usable afterwards.
        assert warehouse.execute("SELECT count(*) FROM cancel_rows", timeout_s=60).rows == [
            (20000,)
        ]


def _quiet_soon(pgid: int, within_s: float) -> float:
    """The server's CPU use (share of a core over half a second) once it went quiet, or the last
    figure after ``within_s``."""
    deadline = time.monotonic() + within_s
    busy = _busy(pgid, 0.5)
    while busy >= 0.35 and time.monotonic() < deadline:
        busy = _busy(pgid, 0.5)
    return busy


def test_a_skewed_join_stops_whenever_its_cap_falls() -> None:
    """Caps at several points of the statement's life (planning, the scans' stage, between
    stages, the join): each time the server is quiet within seconds."""
    with spark_warehouse([SKEWED]) as url:
        if SERVER.process is None:
            pytest.skip(
                "watching the server's CPU needs the tests' own server (PORTAL_TEST_SPARK=1)"
            )
        pgid = SERVER.process.pid
        warehouse = warehouse_from_url(url)
        for cap_s in (0.4, 1.0, 1.6, 2.2, 2.8):
            assert _quiet_soon(pgid, 15) < 0.35, "the server was busy before the statement"
            with pytest.raises(QueryTimeout):
                warehouse.execute(SKEWED_JOIN, timeout_s=cap_s)
            busy = _quiet_soon(pgid, 4)
            assert busy < 0.35, f"cap {cap_s}s: the server still used {busy:.2f} of a core 4s on"


def test_joins_are_planned_as_one_job_that_streams_row_by_row() -> None:
    """What the cancel relies on, in the plan of the adapter's own session: no adaptive plan (a
    job per stage), no broadcast join even when asked for by a hint; a sort-merge join."""
    with spark_warehouse([TABLE]) as url:
        session = session_for(parse_url(url))
        for sql in (
            "SELECT count(*) FROM cancel_rows a JOIN cancel_rows b ON a.k = b.k",
            "SELECT /*+ BROADCAST(b) */ count(*) FROM cancel_rows a JOIN cancel_rows b "
            "ON a.id = b.id",
        ):
            plan = session.sql(sql)._explain_string(mode="simple")
            assert "SortMergeJoin" in plan, plan
            assert "Broadcast" not in plan, plan
            assert "AdaptiveSparkPlan" not in plan, plan
        assert session.conf.get("spark.sql.adaptive.enabled") == "false"
        assert SESSION_CONF["spark.sql.adaptive.enabled"] == "false"


def test_a_join_without_an_equality_is_refused_before_any_job_runs() -> None:
    with spark_warehouse([TABLE]) as url:
        warehouse = warehouse_from_url(url)
        started = time.monotonic()
        with pytest.raises(WarehouseError) as caught:
            warehouse.execute(
                "SELECT count(*) FROM cancel_rows a, cancel_rows b, cancel_rows c "
                "WHERE a.k || b.k || c.k = 'x'",
                timeout_s=60,
            )
        assert not isinstance(caught.value, QueryTimeout)
        assert str(caught.value) == CARTESIAN_REFUSED
        assert time.monotonic() - started < 10
        # An equality between the tables is a join Spark can cancel: it runs.
        rows = warehouse.execute(
            "SELECT count(*) FROM cancel_rows a, cancel_rows b WHERE a.id = b.id AND a.id < 5",
            timeout_s=60,
        ).rows
        assert rows == [(5,)]
