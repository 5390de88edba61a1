"""A Spark table replaced by another session is read anew, not as "file does not exist" (issue 18).

Each Spark session caches the file listing of the tables it read; a pipeline (or ``seed_demo``'s
reload) that overwrites a table from another session deletes the files that listing names. The
adapter then refreshes the statement's tables and runs it once more. Marked ``spark``.
"""

from __future__ import annotations

import pytest

from querying.warehouses import warehouse_from_url
from tests.support.spark import loader_session, spark_warehouse

pytestmark = [pytest.mark.integration, pytest.mark.spark]


def test_a_table_overwritten_by_another_session_is_read_anew() -> None:
    with spark_warehouse(["CREATE TABLE t USING parquet AS SELECT id FROM range(10)"]) as url:
        reader = warehouse_from_url(url)
        database = reader.schema
        assert reader.execute("SELECT count(*) FROM t", timeout_s=60).rows == [(10,)]
        qualified = f"SELECT count(*) FROM `{database}`.`t` AS x WHERE x.id >= 0"
        assert reader.execute(qualified, timeout_s=60).rows == [(10,)]
        loader = loader_session(url)
        try:
            frame = loader.range(25)
            frame.write.mode("overwrite").format("parquet").saveAsTable(f"`{database}`.`t`")
        finally:
            loader.stop()
        assert reader.execute("SELECT count(*) FROM t", timeout_s=60).rows == [(25,)]
        assert reader.execute(qualified, timeout_s=60).rows == [(25,)]
