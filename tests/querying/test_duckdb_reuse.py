"""The DuckDB adapter reuses one read-only instance per file, and never reads an old file.

Opening an instance costs most of a small query, so each process keeps one per file and gives
each statement its own cursor; a file swapped in by a writer (temp file + os.replace, as the
demo loader does) is opened afresh through its own hard link, even while a statement still runs
on the old one.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import duckdb

from querying.warehouses.duckdb import DuckDBWarehouse


def _write(path: Path, sql: str) -> None:
    tmp = path.with_suffix(".tmp")
    conn = duckdb.connect(str(tmp))
    conn.execute(sql)
    conn.close()
    os.replace(tmp, path)


def test_a_swapped_file_is_read_at_once_and_old_links_go(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    _write(path, "CREATE TABLE t AS SELECT 1 AS x")
    warehouse = DuckDBWarehouse(path)
    assert warehouse.execute("SELECT x FROM t", timeout_s=5).rows == [(1,)]
    for generation in (2, 3, 4):
        _write(path, f"CREATE TABLE t AS SELECT {generation} AS x")
        assert warehouse.execute("SELECT x FROM t", timeout_s=5).rows == [(generation,)]
        links = list((tmp_path / ".w.duckdb.readers").iterdir())
        assert [int(link.name) for link in links] == [path.stat().st_ino]


def test_session_variables_stay_with_their_statement(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    _write(path, "CREATE TABLE t AS SELECT 1 AS x")
    warehouse = DuckDBWarehouse(path)
    seen = warehouse.execute(
        "SELECT getvariable('portal_hash_key')", timeout_s=5, session={"portal_hash_key": "k1"}
    )
    assert seen.rows == [("k1",)]
    assert warehouse.execute("SELECT getvariable('portal_hash_key')", timeout_s=5).rows == [(None,)]


def test_a_statement_on_the_old_file_finishes_while_new_ones_read_the_new(
    tmp_path: Path,
) -> None:
    path = tmp_path / "w.duckdb"
    _write(path, "CREATE TABLE t AS SELECT range AS x FROM range(2000000)")
    warehouse = DuckDBWarehouse(path)
    results: list[object] = []

    def long() -> None:
        results.append(
            warehouse.execute(
                "SELECT count(*) FROM t a, (SELECT * FROM t LIMIT 200) b WHERE a.x % 7 = b.x % 5",
                timeout_s=60,
            ).rows
        )

    thread = threading.Thread(target=long)
    thread.start()
    time.sleep(0.2)
    _write(path, "CREATE TABLE t AS SELECT 7 AS x")
    assert warehouse.execute("SELECT * FROM t", timeout_s=5).rows == [(7,)]
    thread.join(60)
    assert results and results[0] != [(7,)]


def test_timeouts_still_cancel_and_the_instance_stays_usable(tmp_path: Path) -> None:
    from querying.warehouses import QueryTimeout

    path = tmp_path / "w.duckdb"
    _write(path, "CREATE TABLE t AS SELECT 1 AS x")
    warehouse = DuckDBWarehouse(path)
    try:
        warehouse.execute("SELECT count(*) FROM range(2000000000) a, range(10) b", timeout_s=0.3)
    except QueryTimeout:
        pass
    else:  # pragma: no cover - the statement must not finish in 0.3 s
        raise AssertionError("no timeout")
    assert warehouse.execute("SELECT x FROM t", timeout_s=5).rows == [(1,)]
