"""Which joins the Spark adapter runs: only those Spark can cancel (issue 18; pure, no Spark).

Spark runs a join without an equality between its sides as a nested loop whose running tasks
ignore a cancel (SPARK-33409), so the adapter refuses it before Spark sees it
(``querying/warehouses/spark.py``, ``relates_its_tables``). The cancel itself, on a real server:
tests/querying/test_spark_cancel.py.
"""

from __future__ import annotations

import random

import pytest
import sqlglot
from sqlglot import exp

from querying.warehouses import WarehouseError
from querying.warehouses.spark import CARTESIAN_REFUSED, only_queries, relates_its_tables

RUNS = [
    "SELECT * FROM a",
    "SELECT * FROM a JOIN b ON a.id = b.id",
    "SELECT * FROM a, b WHERE a.id = b.id AND a.x > 3",
    "SELECT * FROM a LEFT JOIN b ON a.id = b.a_id AND b.x < a.x",
    "SELECT * FROM a JOIN b USING (id)",
    "SELECT * FROM a x JOIN b y ON X.id = Y.id",  # Spark's names are case-insensitive
    "SELECT * FROM a JOIN b ON id = a_id",  # unqualified: Spark resolves them
    "SELECT * FROM a JOIN b ON a.id = b.id JOIN c ON c.id = b.id",
    "SELECT * FROM a JOIN b ON a.k || 'x' = b.k",
    "SELECT * FROM (SELECT * FROM a JOIN b ON a.id = b.id) s",
    "SELECT * FROM a WHERE a.id IN (SELECT id FROM b)",
    "SELECT x.u FROM a c, LATERAL (SELECT c.user_id AS u) x",
    # Correlated subqueries tied to the outer query by an equality: hash joins in Spark.
    "SELECT * FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.a_id = a.id AND b.x < a.x)",
    "SELECT a.id, (SELECT max(b.x) FROM b WHERE a.id = b.a_id) FROM a",
    "SELECT * FROM a WHERE NOT EXISTS (SELECT 1 FROM b WHERE b.a_id = a_key)",  # unqualified
    "SELECT t.s.f FROM t WHERE t.s.g > 1",  # a struct's fields, not another table
]
REFUSED = [
    "SELECT * FROM a CROSS JOIN b",
    "SELECT * FROM a, b",
    "SELECT * FROM a, b WHERE a.x || b.x = 'x'",
    "SELECT * FROM a JOIN b ON a.x < b.y",
    "SELECT * FROM a JOIN b ON a.id = 'x'",
    "SELECT * FROM a JOIN b ON a.id = a.other",
    "SELECT * FROM a JOIN b ON a.id = b.id OR a.x = b.x",
    "SELECT * FROM a JOIN b ON a.id = b.id CROSS JOIN c",
    "SELECT * FROM a JOIN b ON TRUE",
    "SELECT count(*) FROM (SELECT * FROM a, b) s",
    "SELECT * FROM a WHERE a.id IN (SELECT b.id FROM b, c)",
    # Correlated only by a range or a constant: Spark's semi/outer join would be a nested loop.
    "SELECT * FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.x < a.x)",
    "SELECT * FROM a WHERE NOT EXISTS (SELECT 1 FROM b WHERE b.x <> a.x OR b.y = 1)",
    "SELECT a.id, (SELECT count(*) FROM b WHERE b.ts BETWEEN a.start AND a.stop) FROM a",
    "SELECT * FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.x = a.x + b.y)",
]


@pytest.mark.parametrize("sql", RUNS)
def test_joins_spark_can_cancel_run(sql: str) -> None:
    only_queries(sql)


@pytest.mark.parametrize("sql", REFUSED)
def test_joins_spark_cannot_cancel_are_refused_with_the_reason(sql: str) -> None:
    with pytest.raises(WarehouseError) as caught:
        only_queries(sql)
    assert str(caught.value) == CARTESIAN_REFUSED


def _connected(tables: int, edges: list[tuple[int, int]]) -> bool:
    seen, todo = {0}, [0]
    while todo:
        node = todo.pop()
        for left, right in edges:
            for here, there in ((left, right), (right, left)):
                if here == node and there not in seen:
                    seen.add(there)
                    todo.append(there)
    return len(seen) == tables


@pytest.mark.parametrize("seed", range(200))
def test_generated_join_graphs_are_judged_by_their_equalities(seed: int) -> None:
    """Random tables joined with ON/WHERE equalities, constant filters and range conditions:
    the query runs exactly when the equalities connect every table."""
    rng = random.Random(seed)
    tables = rng.randint(2, 5)
    edges: list[tuple[int, int]] = []
    joins, where = [], []
    for index in range(1, tables):
        on: list[str] = []
        for _ in range(rng.randint(0, 2)):
            other = rng.randrange(index)
            kind = rng.choice(["eq", "eq", "range", "const"])
            if kind == "eq":
                edges.append((other, index))
                on.append(f"T{other}.k = t{index}.K")
            elif kind == "range":
                on.append(f"t{other}.k < t{index}.k")
            else:
                on.append(f"t{index}.k = 'x'")
        style = rng.choice(["on", "comma", "cross"]) if not on else "on"
        if style == "on":
            joins.append(f"JOIN tab t{index} ON {' AND '.join(on) if on else 'TRUE'}")
        else:
            joins.append(f", tab t{index}" if style == "comma" else f"CROSS JOIN tab t{index}")
        if rng.random() < 0.3:
            other = rng.randrange(index)
            edges.append((other, index))
            where.append(f"t{other}.k = t{index}.k")
    sql = f"SELECT count(*) FROM tab t0 {' '.join(joins)}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    select = sqlglot.parse_one(sql, read="spark")
    assert isinstance(select, exp.Select)
    assert relates_its_tables(select) is _connected(tables, edges), sql
