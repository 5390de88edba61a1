"""Spark adapter: Spark Connect (``sc://host:port``) or an in-process session (``spark://local[N]``).

The only module that imports pyspark (lazily: the embedded default never loads Java or pyspark).

URLs:

- ``sc://host:15002`` — a Spark Connect server (the protocol a Databricks cluster speaks); Spark
  Connect's own parameters pass through (``sc://host:443/;use_ssl=true;token=…``).
- ``spark://local[2]`` — a session inside this process (needs Java 17); small setups and demos.

Both take the portal's own parameter ``;database=NAME`` (the schema the product tables live in,
default ``default``) and the in-process session takes ``;warehouse=/abs/dir`` (where its tables'
files live; every table folder found there is registered at start-up, since an in-process
catalog forgets them when the process ends).

Read-only by construction, three times over: the governor lets only SELECTs through; this
adapter parses each statement again (sqlglot, Spark dialect) and refuses anything that is not a
single query before Spark sees it (``spark.sql()`` runs DDL and commands eagerly); and the
session turns off SQL over files (``spark.sql.runSQLOnFiles=false``: ``parquet.`/path```).

The time cap cancels the job: each statement runs under a fresh job tag, and a timer interrupts
that tag (``interruptTag``), which cancels its Spark jobs on the cluster: no task of theirs starts
any more and the running ones stop at their next row. The sessions keep a statement one job
whose joins stream row by row (no adaptive execution, broadcast joins or hints: ``SESSION_CONF``
says why). Nested-loop joins are the exception
(SPARK-33409): a join without an equality between its tables, or a correlated subquery
without one to its outer query, is refused before it runs (``relates_its_tables``,
``correlated_by_an_equality``). The hash key is a bound
parameter (``args=``), never SQL text; Spark prints bound values in the plans of statements that
fail, so error messages are cut to their first paragraph and every session value is replaced
before the message leaves this module.
"""

from __future__ import annotations

import atexit
import datetime as dt
import importlib.util
import itertools
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from .base import (
    QueryTimeout,
    Result,
    WarehouseColumn,
    WarehouseError,
    WarehouseUnavailable,
    checked_session,
    fetch_capped,
)

# Session settings applied to every session the portal opens.
SESSION_CONF: dict[str, str] = {
    # Timestamps come back as UTC wall-clock values (the checks compare them with UTC "now").
    "spark.sql.session.timeZone": "UTC",
    # No `parquet.`/path``-style tables: only catalog tables can be read.
    "spark.sql.runSQLOnFiles": "false",
    # Errors without the JVM's stack trace (it can quote the plan, bound values included).
    "spark.sql.pyspark.jvmStacktrace.enabled": "false",
    # The time cap must stop the work (measured on a 2-million-row table joined on a key all its
    # rows share, tests/querying/test_spark_cancel.py):
    # - adaptive execution plans each stage as a job of its own once the one before has ended,
    #   so a cancel that lands between two stages cancels nothing and the next one (the join)
    #   runs to its end; without it a statement is one job, cancelled whole;
    # - a broadcast join's task looks for a cancel once per 4,096 rows it streams, each of which
    #   can meet every row of a skewed key (a task ran 11 s past its cap on 300,000 rows); a
    #   sort-merge join's task looks once per streamed row. Hints would bring broadcasts back.
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.autoBroadcastJoinThreshold": "-1",
    "spark.sql.optimizer.disableHints": "true",
}
CARTESIAN_REFUSED = (
    "this query joins tables without an equality between them (a cross join, a range join, or "
    "a subquery tied to the outer query only by a range): on Spark the portal refuses it, "
    "since Spark cannot stop such a join once it runs; relate them with an equality "
    "(ON a.key = b.key)"
)
DEFAULT_DATABASE = "default"
# What the plans Spark appends to an error message start with ('Project [...], +- Relation ...).
_PLAN_LINE = re.compile(r"^\s*('|\+-|:|\|)")
_SQLSTATE_TAIL = re.compile(r"(SQLSTATE: \w+)[;.].*$")
# Spark's error when a table's files changed under this session's cached listing of them.
_STALE_FILES = "FAILED_READ_FILE.FILE_NOT_EXIST"
_QUERY_TYPES = (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery)
# The client logs every failed statement (plans included) at ERROR; the adapter reports it.
logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class SparkTarget:
    """Where a Spark URL points: a Connect URL or a local master, and the database."""

    remote: str | None  # "sc://host:port/;params" without the portal's own parameters
    master: str | None  # "local[2]"
    database: str
    warehouse_dir: str | None = None


# Spark Connect's own parameters and the headers it passes on (x-databricks-cluster-id=…).
_PARAM = re.compile(r"^([a-z][a-z0-9_-]*)=(.*)$")
_LOCAL = re.compile(r"^local(\[(\d+|\*)\])?$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_url(url: str) -> SparkTarget:
    """Split a ``sc://`` or ``spark://local[N]`` URL into a target (refusing anything else)."""
    scheme, _, rest = url.partition("://")
    head, *params = rest.split(";")
    own: dict[str, str] = {}
    passed: list[str] = []
    for param in params:
        if not param:
            continue
        match = _PARAM.match(param)
        if match is None:
            raise WarehouseUnavailable(f"invalid Spark URL parameter {param!r}")
        if match.group(1) in ("database", "warehouse"):
            own[match.group(1)] = match.group(2)
        else:
            passed.append(param)
    database = own.get("database") or DEFAULT_DATABASE
    if not _NAME.match(database):
        raise WarehouseUnavailable(f"invalid Spark database name {database!r}")
    if scheme == "sc":
        host = head.rstrip("/")
        if not host:
            raise WarehouseUnavailable("a Spark Connect URL needs a host: sc://host:15002")
        remote = f"sc://{host}" + ("/;" + ";".join(passed) if passed else "")
        return SparkTarget(remote=remote, master=None, database=database)
    if scheme == "spark":
        if passed or not _LOCAL.match(head.rstrip("/")):
            raise WarehouseUnavailable(
                "spark:// runs Spark in this process: spark://local[N] (a cluster: use its "
                "Spark Connect endpoint, sc://host:15002)"
            )
        warehouse = own.get("warehouse")
        if warehouse is not None and not warehouse.startswith("/"):
            raise WarehouseUnavailable("spark://local[N];warehouse= needs an absolute folder")
        return SparkTarget(
            remote=None, master=head.rstrip("/"), database=database, warehouse_dir=warehouse
        )
    raise WarehouseUnavailable(f"not a Spark URL: {scheme}://")


# One session per target and process: a Spark session is expensive to open (seconds), cheap to
# share (Spark Connect's client is thread-safe, and job tags are per thread).
_sessions: dict[SparkTarget, Any] = {}
_sessions_lock = threading.Lock()


def session_for(target: SparkTarget) -> Any:
    """The process's Spark session for ``target`` (opened and configured on first use)."""
    with _sessions_lock:
        session = _sessions.get(target)
        if session is not None:
            return session
        if importlib.util.find_spec("pyspark") is None:  # the optional "spark" extra
            raise WarehouseUnavailable("Spark support needs the portal's 'spark' extra (pyspark)")
        from pyspark.sql import SparkSession

        try:
            if target.remote is not None:
                session = SparkSession.builder.remote(target.remote).create()
                bound_retries(session)
            else:
                builder = SparkSession.builder.master(target.master or "local[2]")
                builder = builder.config("spark.ui.enabled", "false")
                # Without adaptive execution (SESSION_CONF) nothing coalesces Spark's default
                # 200 shuffle partitions: one a core of this machine's Spark.
                builder = builder.config("spark.sql.shuffle.partitions", str(local_cores(target)))
                if target.warehouse_dir:
                    builder = builder.config("spark.sql.warehouse.dir", target.warehouse_dir)
                # One SparkContext per process; a session of its own per target (its own
                # current database and settings).
                session = builder.getOrCreate().newSession()
            for key, value in SESSION_CONF.items():
                session.conf.set(key, value)
            if target.database != DEFAULT_DATABASE and not (
                target.remote is None and target.warehouse_dir
            ):
                # Unqualified names (the check engine's scans) resolve in the target's database.
                session.catalog.setCurrentDatabase(target.database)
            if target.remote is None and target.warehouse_dir:
                register_local_tables(session, target)
                session.catalog.setCurrentDatabase(target.database)
        except WarehouseError:
            raise
        except Exception as exc:
            raise WarehouseUnavailable(f"cannot open a Spark session: {first_line(exc)}") from exc
        _sessions[target] = session
        return session


def local_cores(target: SparkTarget) -> int:
    """The cores an in-process ``local[N]`` master runs on (``local``: 1; ``local[*]``: all)."""
    match = _LOCAL.match(target.master or "local[2]")
    count = match.group(2) if match else "2"
    if count is None:
        return 1
    return int(count) if count != "*" else os.cpu_count() or 2


# An unreachable Spark Connect server: pyspark's client retries for at least 10 minutes by
# default (15 tries, backoff x4 up to 60 s) and the portal's time cap only starts with the
# statement, so a request would hang. Bounded here: 4 tries over about 4 s, then
# WarehouseUnavailable (503 WAREHOUSE_UNAVAILABLE) and a new session on the next call.
CONNECT_RETRIES = 4
CONNECT_INITIAL_BACKOFF_MS = 50
CONNECT_MAX_BACKOFF_MS = 4000


def bound_retries(session: Any) -> None:
    """Give a Spark Connect session's client the portal's bounded retry policy."""
    from pyspark.sql.connect.client.retries import DefaultPolicy

    session.client.set_retry_policies(
        [
            DefaultPolicy(
                max_retries=CONNECT_RETRIES,
                initial_backoff=CONNECT_INITIAL_BACKOFF_MS,
                max_backoff=CONNECT_MAX_BACKOFF_MS,
                max_server_retry_delay=CONNECT_MAX_BACKOFF_MS,
            )
        ]
    )


@atexit.register
def _stop_sessions() -> None:
    """Close the process's sessions before the interpreter tears down the client's threads
    (pyspark's own close in ``__del__`` at exit can wait forever for them)."""
    with _sessions_lock:
        sessions = list(_sessions.values())
        _sessions.clear()
    for session in sessions:
        try:
            session.stop()
        except Exception:  # the server may be gone already
            logging.getLogger(__name__).debug("stopping a Spark session failed")


def forget_session(target: SparkTarget) -> None:
    """Drop the cached session (the server went away; the next call opens a new one)."""
    with _sessions_lock:
        _sessions.pop(target, None)


def register_local_tables(session: Any, target: SparkTarget) -> None:
    """Register every table folder under the local warehouse folder in the session's catalog."""
    from pathlib import Path

    root = Path(target.warehouse_dir or "")
    if target.database != DEFAULT_DATABASE:
        root = root / f"{target.database}.db"
        session.sql(f"CREATE DATABASE IF NOT EXISTS `{target.database}`")
    if not root.is_dir():
        return
    for folder in sorted(root.iterdir()):
        if folder.is_dir() and _NAME.match(folder.name) and any(folder.glob("*.parquet")):
            session.sql(
                f"CREATE TABLE IF NOT EXISTS `{target.database}`.`{folder.name}` "
                "USING parquet LOCATION ?",
                args=[str(folder)],
            )


def first_line(exc: BaseException) -> str:
    """An exception's first line (Spark's messages go on with plans and stack traces)."""
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def clean_message(message: str, secrets: Sequence[str] = ()) -> str:
    """Spark's error text without its plan, stack trace and SQL excerpt; secrets replaced.

    Spark appends the analysed plan (bound parameter values included), the SQL text with a
    caret line and the JVM stack trace; what stays is the first paragraph.
    """
    text = str(message).split("\n\nJVM stacktrace:", 1)[0]
    text = text.split("\n== SQL", 1)[0]
    lines = []
    for line in text.strip().splitlines():
        if _PLAN_LINE.match(line) or not line.strip():
            break
        lines.append(line)
    out = " ".join(lines).strip()
    out = _SQLSTATE_TAIL.sub(r"\1", out)
    for secret in secrets:
        if secret:
            out = out.replace(secret, "<session value>")
    return out or "Spark reported an error"


def only_queries(sql: str) -> None:
    """Refuse anything but one query: ``spark.sql()`` runs DDL and commands at once."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="spark") if s is not None]
    except (SqlglotError, RecursionError, ValueError) as exc:
        raise WarehouseError("the Spark adapter runs only statements it can parse") from exc
    if len(statements) != 1 or not isinstance(statements[0], _QUERY_TYPES):
        raise WarehouseError("the Spark adapter runs only one SELECT statement at a time")
    for node in statements[0].walk():
        if isinstance(node, exp.Command | exp.DDL | exp.DML):
            raise WarehouseError("the Spark adapter runs only one SELECT statement at a time")
    for select in statements[0].find_all(exp.Select):
        if not relates_its_tables(select) or not correlated_by_an_equality(select):
            raise WarehouseError(CARTESIAN_REFUSED)


def _sources(select: exp.Select) -> list[str]:
    """The names (aliases) of what a SELECT reads: its FROM and its joins, lower-cased."""
    source = select.args.get("from_")
    if source is None:
        return []
    joins = select.args.get("joins") or []
    return [source.this.alias_or_name.lower()] + [j.this.alias_or_name.lower() for j in joins]


def _conjuncts(select: exp.Select) -> list[exp.Expr]:
    """The AND-ed parts of a SELECT's WHERE and of its joins' ON conditions."""
    conditions = [select.args["where"].this] if select.args.get("where") else []
    conditions += [j.args["on"] for j in select.args.get("joins") or [] if j.args.get("on")]
    parts: list[exp.Expr] = []
    for condition in conditions:
        parts.extend(condition.flatten() if isinstance(condition, exp.And) else [condition])
    return parts


def _equality_sides(part: exp.Expr) -> tuple[set[str], set[str]] | None:
    """The table qualifiers of each side of an equality ("" for an unqualified column), or
    None when ``part`` is not an equality of columns on both sides."""
    if not isinstance(part, exp.EQ | exp.NullSafeEQ):
        return None
    left, right = (
        {c.table.lower() for c in side.find_all(exp.Column)} for side in (part.left, part.right)
    )
    return (left, right) if left and right else None


def correlated_by_an_equality(select: exp.Select) -> bool:
    """Whether a subquery that reads a table and refers to the outer query's columns is tied to
    it by an equality (``b.id = a.id``). Spark turns such a subquery (EXISTS, IN, a scalar one)
    into a join with the outer query, a nested loop again when no equality ties them."""
    names = set(_sources(select))
    if not names:
        return True  # no table of its own (a LATERAL projection): no join
    enclosing: set[str] = set()
    ancestor = select.find_ancestor(exp.Select)
    while ancestor is not None:
        enclosing.update(_sources(ancestor))
        ancestor = ancestor.find_ancestor(exp.Select)
    outer = {
        column.table.lower()
        for column in select.find_all(exp.Column)
        if column.table.lower() in enclosing - names and column.find_ancestor(exp.Select) is select
    }
    if not outer:
        return True
    for part in _conjuncts(select):
        sides = _equality_sides(part)
        if sides is None:
            continue
        if "" in sides[0] | sides[1]:
            return True  # unqualified: Spark resolves them, maybe across the two
        if any(a <= outer and b <= names for a, b in (sides, sides[::-1])):
            return True
    return False


def relates_its_tables(select: exp.Select) -> bool:
    """Whether every table a SELECT joins is tied to the others by an equality (ON or WHERE).

    Spark runs a join without one (``CROSS JOIN``, ``FROM a, b``, ``ON a.x < b.y``) as a nested
    loop, whose running tasks ignore a cancel (SPARK-33409): the time cap would answer while the
    cluster computed on. An equality counts when each side names columns and they are not of
    one table; a side with unqualified columns is given the benefit of the doubt.
    """
    joins = select.args.get("joins") or []
    names = _sources(select)
    if not joins or not names:
        return True
    group = {name: name for name in names}

    def root(name: str) -> str:
        while group[name] != name:
            name = group[name]
        return name

    def tie(tables: set[str]) -> None:
        roots = {root(t) for t in tables if t in group}
        first = min(roots, default=None)
        for other in roots:
            group[other] = first or other

    for join in joins:
        if join.args.get("using") or isinstance(join.this, exp.Lateral):
            # USING is an equality; a lateral subquery is tied by its own correlation.
            tie({names[0], join.this.alias_or_name.lower()})
    for part in _conjuncts(select):
        sides = _equality_sides(part)
        if sides is None:
            continue  # a column against a constant relates nothing
        if "" in sides[0] | sides[1]:
            tie(set(names))  # unqualified: Spark resolves them, maybe across tables
        elif sides[0].isdisjoint(sides[1]):
            tie(sides[0] | sides[1])
    return len({root(name) for name in names}) == 1


def plain(value: object) -> object:
    """A Spark value as the other adapters return it (structs as dicts, arrays as lists)."""
    if value is None or isinstance(value, str | int | float | bool | Decimal | dt.date | bytes):
        return value
    as_dict = getattr(value, "asDict", None)
    if callable(as_dict):
        return {str(k): plain(v) for k, v in as_dict().items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, bytearray):
        return bytes(value)
    return value


class _Rows:
    """Rows of a local iterator, as the ``fetchmany`` cursor ``fetch_capped`` reads."""

    def __init__(self, rows: Iterator[Any]) -> None:
        self.rows = rows

    def fetchmany(self, size: int = 256) -> list[tuple[object, ...]]:
        batch: list[tuple[object, ...]] = []
        for row in self.rows:
            batch.append(tuple(plain(v) for v in row))
            if len(batch) >= size:
                break
        return batch


class SparkWarehouse:
    """Read-only access to the tables of one Spark database (Connect or in-process)."""

    kind = "spark"
    dialect = "spark"

    def __init__(self, url: str) -> None:
        self.url = url
        self.target = parse_url(url)
        self.schema = self.target.database

    def _session(self) -> Any:
        return session_for(self.target)

    def _qualified(self, table: str) -> str:
        parts = table.split(".") if "." in table else [self.schema, table]
        return ".".join("`" + p.replace("`", "``") + "`" for p in parts)

    def execute(
        self,
        sql: str,
        params: Sequence[object] = (),
        *,
        timeout_s: float,
        max_rows: int | None = None,
        session: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
    ) -> Result:
        """Run one SELECT (session values bound by name) and cancel its jobs after ``timeout_s``.

        Positional ``params`` are not supported (no caller passes any to Spark).
        """
        variables = checked_session(session)
        if params:
            raise WarehouseError("the Spark adapter takes named session values, not parameters")
        only_queries(sql)
        spark = self._session()
        secrets = [value for _, value in variables]
        tag = f"portal-{uuid.uuid4().hex}"
        timed_out = threading.Event()

        def interrupt() -> None:
            timed_out.set()
            try:
                spark.interruptTag(tag)
            except Exception:  # the statement may have finished in between
                logging.getLogger(__name__).debug("interrupting %s failed", tag)

        timer = threading.Timer(timeout_s, interrupt)
        started = time.perf_counter()
        spark.addTag(tag)
        timer.start()
        try:
            for attempt in (1, 2):
                try:
                    limit = None if max_rows is None else max_rows + 1
                    if self.target.remote is not None:
                        fields, answer = one_round_trip(spark, sql, variables, limit)
                    else:
                        fields, answer = in_process(spark, sql, variables, limit)
                    rows, cut_by = fetch_capped(
                        _Rows(answer), max_rows=max_rows, max_bytes=max_bytes
                    )
                    break
                except WarehouseError:
                    raise
                except Exception as exc:
                    if timed_out.is_set():
                        raise QueryTimeout(
                            f"query exceeded {timeout_s:g}s and was cancelled"
                        ) from None
                    if attempt == 1 and _STALE_FILES in str(exc):
                        # Another session replaced a table's files (a pipeline's overwrite,
                        # seed_demo's reload): this session still lists the old ones. Forget
                        # its listings of the statement's tables and run it once more.
                        refresh_tables(spark, sql)
                        continue
                    raise self._error(exc, secrets) from None
        finally:
            timer.cancel()
            spark.removeTag(tag)
        if cut_by is not None:
            interrupt_quietly(spark, tag)  # stop what the iterator left running
        return Result(
            columns=[f.name for f in fields],
            rows=rows,
            truncated=cut_by is not None,
            truncated_by=cut_by,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            types=[f.dataType.simpleString().upper() for f in fields],
        )

    def _error(self, exc: BaseException, secrets: Sequence[str]) -> WarehouseError:
        """The exception as a WarehouseError (Unavailable when the server cannot be reached)."""
        message = clean_message(str(exc), secrets)
        if _unreachable(exc):
            forget_session(self.target)
            return WarehouseUnavailable(f"cannot reach Spark: {message}")
        return WarehouseError(message)

    def columns(self, table: str) -> list[WarehouseColumn] | None:
        """The table's columns (catalog schema: Spark's type names upper-cased), or None."""
        spark = self._session()
        try:
            fields = spark.table(self._qualified(table)).schema.fields
        except Exception as exc:
            if "TABLE_OR_VIEW_NOT_FOUND" in str(exc) or "SCHEMA_NOT_FOUND" in str(exc):
                return None
            raise self._error(exc, ()) from None
        return [
            WarehouseColumn(
                name=f.name, type=f.dataType.simpleString().upper(), nullable=bool(f.nullable)
            )
            for f in fields
        ]

    def tables(self) -> list[str]:
        """Tables and views of the database."""
        spark = self._session()
        try:
            listed = spark.catalog.listTables(dbName=self.schema)
        except Exception as exc:
            raise self._error(exc, ()) from None
        return sorted(t.name for t in listed if not t.isTemporary)


def in_process(
    spark: Any, sql: str, variables: Sequence[tuple[str, str]], limit: int | None
) -> tuple[list[Any], Iterator[Any]]:
    """An in-process session's answer to ``sql``: its fields and an iterator of its rows."""
    frame = spark.sql(sql, args=dict(variables)) if variables else spark.sql(sql)
    if limit is not None:
        frame = frame.limit(limit)
    return list(frame.schema.fields), frame.toLocalIterator()


def one_round_trip(
    spark: Any, sql: str, variables: Sequence[tuple[str, str]], limit: int | None
) -> tuple[list[Any], Iterator[Any]]:
    """A Spark Connect session's answer to ``sql`` in one round trip: its fields and rows.

    pyspark's public path makes four: ``spark.sql`` sends the statement to be analysed,
    ``.schema`` asks for it again, ``toLocalIterator`` reads a setting and then runs it (250 ms a
    statement on the test server, 160 ms this way). Here the statement goes as a lazy relation
    (pyspark's own ``SQL`` plan, which ``spark.sql`` sends too) and the fields are the schema the
    server sends ahead of the rows (or, failing that, the Arrow schema of the first batch).
    """
    from pyspark.sql.connect import functions
    from pyspark.sql.connect.dataframe import DataFrame
    from pyspark.sql.connect.plan import SQL
    from pyspark.sql.conversion import ArrowTableToRowsConversion
    from pyspark.sql.pandas.types import from_arrow_schema
    from pyspark.sql.types import StructType

    named = {name: functions.lit(value) for name, value in variables}
    frame: Any = DataFrame(SQL(sql, [], named, []), spark)
    if limit is not None:
        frame = frame.limit(limit)
    answers = spark.client.to_table_as_iterator(frame._plan.to_proto(spark.client), {})
    first = next(answers, None)
    if isinstance(first, StructType):
        schema, batches = first, answers
    elif first is not None:
        schema = from_arrow_schema(first.schema, prefer_timestamp_ntz=True)
        batches = itertools.chain([first], answers)
    else:
        return list(frame.schema.fields), iter(())

    def rows() -> Iterator[Any]:
        for batch in batches:
            if not isinstance(batch, StructType):
                yield from ArrowTableToRowsConversion.convert(batch, schema, binary_as_bytes=True)

    return list(schema.fields), rows()


def refresh_tables(spark: Any, sql: str) -> None:
    """Drop the session's cached file listings of every table ``sql`` names (catalog API, no
    SQL; names that are CTEs, or tables that are gone, are skipped)."""
    try:
        tree = sqlglot.parse_one(sql, read="spark")
    except (SqlglotError, RecursionError, ValueError):
        return
    names = {
        ".".join(exp.to_identifier(part, quoted=True).sql(dialect="spark") for part in parts)
        for table in tree.find_all(exp.Table)
        if (parts := [p.name for p in table.parts]) and all(parts)
    }
    for name in sorted(names):
        try:
            spark.catalog.refreshTable(name)
        except Exception:
            logging.getLogger(__name__).debug("refreshing %s failed", name)


def interrupt_quietly(spark: Any, tag: str) -> None:
    """Cancel whatever still runs under ``tag`` (nothing to do is fine)."""
    try:
        spark.interruptTag(tag)
    except Exception:
        logging.getLogger(__name__).debug("interrupting %s failed", tag)


def _unreachable(exc: BaseException) -> bool:
    """Whether the error says the server could not be reached (not the statement's fault)."""
    text = str(exc)
    return any(
        marker in text
        for marker in (
            "StatusCode.UNAVAILABLE",
            "failed to connect",
            "Connection refused",
            "Socket closed",
            "RETRIES_EXCEEDED",
            "NO_ACTIVE_SESSION",
            "INVALID_HANDLE.SESSION",
        )
    )
