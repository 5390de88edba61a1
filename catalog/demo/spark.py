"""Load the demo warehouse into Spark: the rows ``bin/demo`` puts in its DuckDB file, as tables.

Pure Python: no Django import. ``seed_demo`` calls ``load_demo_warehouse_spark`` when the
warehouse is Spark: ``sc://host:15002[;database=NAME]`` (a Spark Connect server, Databricks
included) or ``spark://local[N];warehouse=/abs/dir[;database=NAME]`` (Spark inside the portal's
processes, its tables kept as parquet folders under ``warehouse=``). Invariants
(tests/catalog/test_demo_spark.py):

- The same data: the DuckDB warehouse is built first, in a temporary folder, by
  ``build_demo_warehouse`` (deterministic for a ``now`` and ``seed``), then each table travels to
  Spark as Arrow data through the portal's own Spark session (``querying.warehouses.spark``) and
  is written as a table of the target's database: same names, same column order.
- Spark's types (``SPARK_TYPES``): Spark has no JSON type, so a JSON column becomes
  ``MAP<STRING,STRING>`` (what schema conformance counts as json; each value is the JSON
  value's text); ``TIMESTAMPTZ`` becomes ``TIMESTAMP`` (an instant, shown in the session's UTC).
  NOT NULL is not kept: Spark's file tables report every column nullable, so the checks scan
  for NULLs instead of reading the constraint.
- Not atomic across tables: Spark has no multi-table transaction, so each table is replaced on
  its own and a query during a reload may fail on a table being rewritten.
- Names reach Spark only as quoted identifiers built by sqlglot; values only as Arrow data.
- The portal reads what was loaded: ``spark_load_problem`` refuses a load target that is not the
  Spark database ``WAREHOUSE_URL`` reads (``seed_demo --warehouse`` then stops in one line).
"""

from __future__ import annotations

import dataclasses
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
from sqlglot import exp

from querying.warehouses.base import WarehouseError, WarehouseUnavailable
from querying.warehouses.connections import SECRET_PARAMS
from querying.warehouses.registry import url_scheme
from querying.warehouses.spark import (
    DEFAULT_DATABASE,
    SparkTarget,
    clean_message,
    parse_url,
    session_for,
)

from .warehouse import build_demo_warehouse

SPARK_SCHEMES = ("sc", "spark")
# DuckDB's information_schema type names of the demo tables -> Spark types.
SPARK_TYPES: dict[str, str] = {
    "VARCHAR": "STRING",
    "BIGINT": "BIGINT",
    "DOUBLE": "DOUBLE",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMP",
    "JSON": "MAP<STRING,STRING>",
    "VARCHAR[]": "ARRAY<STRING>",
}


def is_spark_url(url: str) -> bool:
    """Whether ``url`` names a Spark warehouse (``sc://`` or ``spark://``)."""
    return url_scheme(url) in SPARK_SCHEMES


def display_url(url: str) -> str:
    """``url`` with every secret parameter (``token=``…) replaced, for messages."""
    return SECRET_PARAMS.sub(lambda m: m.group(0).replace(m.group(2), "***"), url)


def _where(target: SparkTarget) -> str:
    return target.remote or f"{target.master} with warehouse={target.warehouse_dir}"


def spark_load_problem(load_url: str, warehouse_url: str) -> str | None:
    """Why loading the demo at ``load_url`` would not give the portal (``warehouse_url``) its
    tables, or None. Messages are one line and show no secret."""
    try:
        target = parse_url(load_url)
    except WarehouseError as exc:
        return str(exc)
    if target.remote is None and not target.warehouse_dir:
        return (
            "spark://local[N] needs ;warehouse=/abs/dir: the tables must outlive this process "
            "(the portal's processes find them there)"
        )
    if not is_spark_url(warehouse_url):
        return (
            f"WAREHOUSE_URL must be the same Spark ({display_url(load_url)}), not "
            f"{url_scheme(warehouse_url) or 'a URL without a scheme'}://…: the portal would not "
            "see the demo tables"
        )
    try:
        reader = parse_url(warehouse_url)
    except WarehouseError as exc:
        return f"WAREHOUSE_URL: {exc}"
    same_place = (
        reader.remote == target.remote
        if target.remote is not None
        else reader.remote is None and reader.warehouse_dir == target.warehouse_dir
    )
    if not same_place or reader.database != target.database:
        return (
            f"loads database {target.database} at {display_url(_where(target))} but "
            f"WAREHOUSE_URL reads database {reader.database} at {display_url(_where(reader))}: "
            "the portal would not see the demo tables"
        )
    return None


def _name(*parts: str) -> str:
    """Backquoted Spark identifier of ``parts`` (``db``.``table``)."""
    return ".".join(exp.to_identifier(p, quoted=True).sql(dialect="spark") for p in parts)


def _create_database_sql(database: str) -> str:
    database_name = exp.Table(this=exp.to_identifier(database, quoted=True))
    return exp.Create(this=database_name, kind="DATABASE", exists=True).sql(dialect="spark")


def _source_select(table: str, columns: list[tuple[str, str]]) -> str:
    """DuckDB SELECT of ``table``'s columns, JSON as text (Arrow has no JSON type)."""
    projections = [
        exp.cast(exp.column(name, quoted=True), "VARCHAR").as_(name, quoted=True)
        if data_type == "JSON"
        else exp.column(name, quoted=True)
        for name, data_type in columns
    ]
    return exp.select(*projections).from_(exp.to_table(table, quoted=True)).sql("duckdb")


def _spark_projections(table: str, columns: list[tuple[str, str]]) -> list[str]:
    """Spark expressions giving the Arrow columns the table's Spark types, in order."""
    out = []
    for name, data_type in columns:
        if data_type not in SPARK_TYPES:
            raise ValueError(f"{table}.{name}: no Spark type for DuckDB's {data_type}")
        column = exp.column(name, quoted=True)
        spark_type = exp.DataType.build(SPARK_TYPES[data_type], dialect="spark")
        if data_type == "JSON":  # the JSON text, parsed into a map
            value: exp.Expression = exp.Anonymous(
                this="from_json", expressions=[column, exp.Literal.string(SPARK_TYPES["JSON"])]
            )
        else:
            value = exp.cast(column, spark_type)
        out.append(value.as_(name, quoted=True).sql(dialect="spark"))
    return out


def _columns(source: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    rows = source.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [(str(name), str(data_type)) for name, data_type in rows]


def _write_table(
    spark: Any, source: duckdb.DuckDBPyConnection, target: SparkTarget, table: str
) -> None:
    """Replace ``table`` in the target's database with the DuckDB table's rows."""
    columns = _columns(source, table)
    projections = _spark_projections(table, columns)
    arrow = source.sql(_source_select(table, columns)).to_arrow_table()
    frame = spark.createDataFrame(arrow).selectExpr(*projections)
    writer = frame.write.mode("overwrite").format("parquet")
    if target.remote is None and target.warehouse_dir:
        # In-process Spark keeps its tables as folders (querying.warehouses.spark registers
        # them in each process at start-up, as external tables): write the table there, so a
        # rerun replaces it in place instead of meeting its own folder as a stranger's.
        folder = Path(target.warehouse_dir)
        if target.database != DEFAULT_DATABASE:
            folder = folder / f"{target.database}.db"
        writer = writer.option("path", str(folder / table))
    writer.saveAsTable(_name(target.database, table))


def load_demo_warehouse_spark(
    url: str,
    *,
    now: datetime,
    seed: int = 42,
    contracts: list[dict[str, Any]] | None = None,
) -> dict[str, int]:
    """Load the demo tables into the Spark database at ``url``; return ``{table: rows}``.

    Raises WarehouseError (one readable line) when Spark cannot be reached or refuses.
    """
    target = parse_url(url)
    # The portal's own session, on the default database: the target's may not exist yet.
    spark = session_for(dataclasses.replace(target, database=DEFAULT_DATABASE))
    try:
        spark.sql(_create_database_sql(target.database))
    except Exception as exc:
        raise WarehouseUnavailable(f"Spark refused: {clean_message(str(exc))}") from None
    with tempfile.TemporaryDirectory(prefix="demo-warehouse-") as folder:
        path = Path(folder) / "warehouse.duckdb"
        counts = build_demo_warehouse(path, now=now, seed=seed, contracts=contracts)
        source = duckdb.connect(str(path), read_only=True)
        try:
            source.execute("SET TimeZone = 'UTC'")
            for table in counts:
                try:
                    _write_table(spark, source, target, table)
                except Exception as exc:
                    message = clean_message(str(exc))
                    raise WarehouseError(f"Spark refused table {table}: {message}") from None
        finally:
            source.close()
    return counts
