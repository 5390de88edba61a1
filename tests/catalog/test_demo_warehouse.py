"""The demo: its 23 contracts, its warehouse (deterministic, relative to now, atomic) and people.

Pure: no database, no Django settings needed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot
import yaml
from sqlglot import exp

from catalog.demo import DELIBERATE_PROBLEMS, contract_paths, load_demo_contracts
from catalog.demo.people import DEMO_CONSUMERS, DEMO_DOMAINS, DEMO_USERS
from catalog.demo.warehouse import (
    DUCKDB_TYPES,
    RECIPES,
    UNBOUND_TABLES,
    build_demo_warehouse,
    table_name,
)

NOW = datetime(2026, 11, 29, 14, 7, 31, 123456, tzinfo=UTC)
DOMAINS = {"marketing", "product", "finance", "ops", "engineering"}
STALE = "ops.inventory_levels"
NULLS = ("marketing.email_engagement", "campaign_id")
DEPRECATED = "finance.revenue_daily_legacy"
# A policy matching these tokens in a column name expects pii: true.
PII_TOKENS = re.compile(
    r"(^|_)(email|phone|name|address|ip|birth|dob|ssn|user_id|customer_id|card|account)(_|$)"
)

# Transcribed from /work/shared/seed.md (the write-up's `campaignAttribution`).
SEED_CONTRACT: dict[str, Any] = {
    "id": "marketing.campaign_attribution",
    "domain": "marketing",
    "name": "Campaign Attribution",
    "description": (
        "Multi-touch attribution for all marketing campaigns. Updated hourly. "
        "Covers web, email, and paid channels."
    ),
    "owner": {
        "team": "Marketing Analytics",
        "contact": "marketing-data@company.com",
        "slackChannel": "#marketing-data",
    },
    "schema": [
        {
            "column": "attribution_id",
            "type": "string",
            "description": "Unique attribution record ID",
            "pii": False,
            "nullable": False,
        },
        {
            "column": "user_id",
            "type": "string",
            "description": "Anonymized user identifier",
            "pii": True,
            "nullable": False,
        },
        {
            "column": "campaign_id",
            "type": "string",
            "description": "Campaign identifier",
            "pii": False,
            "nullable": False,
        },
        {
            "column": "channel",
            "type": "string",
            "description": "Acquisition channel (organic, paid, email, referral)",
            "pii": False,
            "nullable": False,
        },
        {
            "column": "touchpoint_at",
            "type": "timestamp",
            "description": "When the user interacted with the campaign",
            "pii": False,
            "nullable": False,
        },
        {
            "column": "conversion_at",
            "type": "timestamp",
            "description": "When the user converted (null if not converted)",
            "pii": False,
            "nullable": True,
        },
        {
            "column": "revenue_cents",
            "type": "integer",
            "description": "Revenue attributed to this touchpoint (multi-touch weighted)",
            "pii": False,
            "nullable": True,
        },
        {
            "column": "attribution_model",
            "type": "string",
            "description": "Model used: linear, time_decay, position_based",
            "pii": False,
            "nullable": False,
        },
    ],
    "sla": {"freshness": "1h", "availability": 99.5, "queryLatencyP95Ms": 2000},
    "qualityChecks": [
        {
            "name": "no_null_campaign_ids",
            "type": "not_null",
            "column": "campaign_id",
            "severity": "error",
        },
        {
            "name": "valid_channels",
            "type": "custom_sql",
            "severity": "error",
            "params": {
                "sql": "SELECT COUNT(*) FROM campaign_attribution WHERE channel NOT IN "
                "('organic','paid','email','referral','social','direct')"
            },
        },
        {
            "name": "hourly_freshness",
            "type": "freshness",
            "column": "touchpoint_at",
            "severity": "error",
            "params": {"maxStaleHours": 2},
        },
        {
            "name": "daily_row_count",
            "type": "row_count",
            "severity": "warning",
            "params": {"minRows": 1000, "maxRows": 500000},
        },
    ],
    "tags": ["marketing", "attribution", "campaigns", "revenue"],
    "version": 3,
    "publishedAt": "2025-03-01T00:00:00Z",
    "status": "published",
}


@pytest.fixture(scope="module")
def contracts() -> list[dict[str, Any]]:
    return load_demo_contracts()


@pytest.fixture(scope="module")
def by_id(contracts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in contracts}


@pytest.fixture(scope="module")
def warehouse(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, dict[str, int]]]:
    path = tmp_path_factory.mktemp("demo") / "warehouse.duckdb"
    counts = build_demo_warehouse(path, now=NOW)
    _READERS[path] = duckdb.connect(str(path), read_only=True)
    yield path, counts
    _READERS.pop(path).close()


def _small(*ids: str) -> list[dict[str, Any]]:
    """A few demo contracts, for tests about the build mechanics (faster than all 23)."""
    wanted = set(ids) or {"marketing.campaign_attribution", "finance.orders_revenue"}
    return [c for c in load_demo_contracts() if c["id"] in wanted]


_READERS: dict[Path, duckdb.DuckDBPyConnection] = {}


def _read(path: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Rows from a read-only connection (kept open for the shared module warehouse only)."""
    if path in _READERS:
        return _READERS[path].execute(sql, params or []).fetchall()
    conn = duckdb.connect(str(path), read_only=True)
    try:
        return conn.execute(sql, params or []).fetchall()
    finally:
        conn.close()


def _scalar(path: Path, sql: str) -> Any:
    return _read(path, sql)[0][0]


# ---------------------------------------------------------------------------------- contracts


def test_exactly_23_contract_files_one_product_each(contracts: list[dict[str, Any]]) -> None:
    paths = contract_paths()
    assert len(paths) == 23
    assert [p.name for p in paths] == [f"{c['id']}.yaml" for c in contracts]
    assert len({c["id"] for c in contracts}) == 23


def test_products_spread_across_the_five_domains(contracts: list[dict[str, Any]]) -> None:
    per_domain: dict[str, int] = {}
    for c in contracts:
        assert c["id"].split(".")[0] == c["domain"]
        per_domain[c["domain"]] = per_domain.get(c["domain"], 0) + 1
    assert set(per_domain) == DOMAINS == set(DEMO_DOMAINS)
    assert min(per_domain.values()) >= 4


def test_every_yaml_loads_as_a_plain_document() -> None:
    for path in contract_paths():
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(doc, dict), path
        # Timestamps must be quoted: YAML would otherwise turn them into datetime objects.
        assert isinstance(doc["publishedAt"], str), path
        assert isinstance((doc.get("deprecation") or {}).get("sunsetAt", ""), str), path


def test_seed_product_is_the_write_up_verbatim(by_id: dict[str, dict[str, Any]]) -> None:
    assert by_id["marketing.campaign_attribution"] == SEED_CONTRACT


def test_contract_shape_and_conventions(contracts: list[dict[str, Any]]) -> None:
    id_re = re.compile(r"^[a-z][a-z0-9-]*\.[a-z][a-z0-9_]*$")
    check_types: set[str] = set()
    for c in contracts:
        assert id_re.match(c["id"]), c["id"]
        assert c["description"].strip() and c["name"].strip()
        assert set(c["owner"]) == {"team", "contact", "slackChannel"}
        assert "@" in c["owner"]["contact"] and c["owner"]["slackChannel"].startswith("#")
        assert c["sla"]["freshness"] in ("realtime", "1h", "4h", "24h")
        assert 99 <= c["sla"]["availability"] <= 100
        assert c["status"] in ("published", "deprecated")
        assert isinstance(c["version"], int) and c["version"] >= 1
        datetime.fromisoformat(c["publishedAt"].replace("Z", "+00:00"))
        for col in c["schema"]:
            name = col["column"]
            assert re.fullmatch(r"[a-z][a-z0-9_]*", name), (c["id"], name)
            assert col["type"] in DUCKDB_TYPES
            assert col["description"].strip(), (c["id"], name)
            if PII_TOKENS.search(name):
                assert col["pii"] is True, f"{c['id']}.{name} looks personal but is not pii"
            if "mask" in col:
                assert col["pii"] is True and col["mask"] in (
                    "last4",
                    "email",
                    "hash",
                    "null",
                    "redact",
                )
        for check in c["qualityChecks"]:
            check_types.add(check["type"])
            assert check["severity"] in ("error", "warning")
    assert check_types == {
        "not_null",
        "unique",
        "range",
        "freshness",
        "row_count",
        "custom_sql",
        "accepted_values",
    }


def test_column_names_are_plain_identifiers_in_both_dialects(
    contracts: list[dict[str, Any]],
) -> None:
    """No reserved words: every column parses as a bare column reference in DuckDB and PG."""
    for c in contracts:
        for col in c["schema"]:
            name = col["column"]
            for dialect in ("duckdb", "postgres"):
                tree = sqlglot.parse_one(f"SELECT {name} FROM t WHERE {name} IS NULL", read=dialect)
                found = [node.name for node in tree.find_all(exp.Column)]
                assert found == [name, name], (c["id"], name, dialect)


def test_most_products_check_freshness_and_their_non_nullable_columns(
    contracts: list[dict[str, Any]],
) -> None:
    for c in contracts:
        if c["id"] == "marketing.campaign_attribution":
            continue  # the write-up's example, kept verbatim
        checked = {(k["type"], k.get("column")) for k in c["qualityChecks"]}
        timestamps = {col["column"] for col in c["schema"] if col["type"] == "timestamp"}
        assert any(t == "freshness" and col in timestamps for t, col in checked), c["id"]
        for col in c["schema"]:
            if col["nullable"] is False:
                assert ("not_null", col["column"]) in checked, (c["id"], col["column"])


def test_the_deprecated_finance_product(by_id: dict[str, dict[str, Any]]) -> None:
    legacy = by_id[DEPRECATED]
    assert legacy["status"] == "deprecated"
    assert legacy["deprecation"]["replacedBy"] == "finance.orders_revenue"
    assert legacy["deprecation"]["replacedBy"] in by_id
    assert legacy["deprecation"]["sunsetAt"].startswith("2027-")
    assert legacy["deprecation"]["reason"].strip()
    assert [c["id"] for c in by_id.values() if c["status"] == "deprecated"] == [DEPRECATED]


def test_every_demo_contract_passes_parse_contract(contracts: list[dict[str, Any]]) -> None:
    contract_module = pytest.importorskip("catalog.contract")
    for c in contracts:
        try:
            parsed = contract_module.parse_contract(c)
        except contract_module.ContractError as exc:  # pragma: no cover - shows the issues
            pytest.fail(f"{c['id']}: {[str(i) for i in exc.issues]}")
        assert parsed.table == table_name(c)


# ---------------------------------------------------------------------------------- warehouse


def test_every_product_has_a_recipe_covering_its_columns(contracts: list[dict[str, Any]]) -> None:
    assert set(RECIPES) == {c["id"] for c in contracts}
    for c in contracts:
        assert set(RECIPES[c["id"]].columns) == {col["column"] for col in c["schema"]}, c["id"]


def test_build_creates_every_table_with_the_declared_columns(
    warehouse: tuple[Path, dict[str, int]], contracts: list[dict[str, Any]]
) -> None:
    path, counts = warehouse
    assert set(counts) == {table_name(c) for c in contracts} | set(UNBOUND_TABLES)
    tables = {r[0] for r in _read(path, "SELECT table_name FROM information_schema.tables")}
    assert tables == set(counts)
    for c in contracts:
        rows = _read(
            path,
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_name = ? ORDER BY ordinal_position",
            [table_name(c)],
        )
        expected = []
        for col in c["schema"]:
            nullable = col["nullable"] or (c["id"], col["column"]) == NULLS
            expected.append(
                (
                    col["column"],
                    DUCKDB_TYPES[col["type"]].replace("TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE"),
                    "YES" if nullable else "NO",
                )
            )
        # Columns the table has beyond its contract (issue 15: one to declare in the demo).
        recipe = RECIPES.get(c["id"])
        for name, (sql_type, _) in (recipe.extra if recipe else {}).items():
            expected.append((name, sql_type, "YES"))
        assert rows == expected, c["id"]


def test_the_demo_has_a_table_no_product_uses_and_one_with_an_undeclared_column(
    warehouse: tuple[Path, dict[str, int]], contracts: list[dict[str, Any]]
) -> None:
    path, counts = warehouse
    bound = {table_name(c) for c in contracts}
    assert set(counts) - bound == {"marketing_newsletter_signups"}
    assert counts["marketing_newsletter_signups"] == 12_000
    extra = {c["id"]: list(RECIPES[c["id"]].extra) for c in contracts if RECIPES[c["id"]].extra}
    assert extra == {"marketing.ad_spend_daily": ["conversions"]}
    assert _scalar(path, "SELECT count(conversions) FROM marketing_ad_spend_daily") > 0


def test_row_counts_within_bounds(warehouse: tuple[Path, dict[str, int]]) -> None:
    path, counts = warehouse
    for table, n in counts.items():
        assert 2_000 <= n <= 50_000, table
        assert _scalar(path, f"SELECT count(*) FROM {table}") == n
    assert 1_000 <= counts["marketing_campaign_attribution"] <= 500_000


def _run_checks(path: Path, contracts: list[dict[str, Any]], now: datetime) -> set[tuple[str, str]]:
    """A small, independent evaluator of the contract checks: the (product, check) that fail."""
    failing: set[tuple[str, str]] = set()
    for c in contracts:
        table, short = table_name(c), c["id"].split(".", 1)[1]
        for check in c["qualityChecks"]:
            col, params = check.get("column"), check.get("params") or {}
            kind = check["type"]
            if kind == "not_null":
                ok = _scalar(path, f"SELECT count(*) FROM {table} WHERE {col} IS NULL") == 0
            elif kind == "unique":
                ok = _scalar(path, f"SELECT count({col}) - count(DISTINCT {col}) FROM {table}") == 0
            elif kind == "range":
                bounds = [f"{col} < {params['min']}"] if "min" in params else []
                bounds += [f"{col} > {params['max']}"] if "max" in params else []
                where = " OR ".join(bounds)
                ok = _scalar(path, f"SELECT count(*) FROM {table} WHERE {where}") == 0
            elif kind == "accepted_values":
                found = {r[0] for r in _read(path, f"SELECT DISTINCT {col} FROM {table}")}
                ok = found - {None} <= set(params["values"])
            elif kind == "freshness":
                newest = _scalar(path, f"SELECT max({col}) FROM {table}")
                ok = newest is not None and now - newest <= timedelta(hours=params["maxStaleHours"])
            elif kind == "row_count":
                n = _scalar(path, f"SELECT count(*) FROM {table}")
                ok = params.get("minRows", 0) <= n <= params.get("maxRows", float("inf"))
            else:
                assert kind == "custom_sql"
                sql = params["sql"]
                if table not in sql:  # the seed names the table by the product's short name
                    sql = re.sub(rf"\b{short}\b", table, sql)
                ok = _scalar(path, sql) == 0
            if not ok:
                failing.add((c["id"], check["name"]))
    return failing


def test_only_the_deliberate_problems_fail(
    warehouse: tuple[Path, dict[str, int]], contracts: list[dict[str, Any]]
) -> None:
    path, _ = warehouse
    assert _run_checks(path, contracts, NOW) == {
        ("ops.inventory_levels", "snapshot_at_fresh"),
        ("marketing.email_engagement", "campaign_id_not_null"),
        ("finance.revenue_daily_legacy", "revenue_date_fresh"),
    }
    assert set(DELIBERATE_PROBLEMS) == {STALE, NULLS[0], DEPRECATED}


def test_fresh_products_are_inside_their_sla_and_the_stale_one_is_not(
    warehouse: tuple[Path, dict[str, int]], contracts: list[dict[str, Any]]
) -> None:
    path, _ = warehouse
    sla_hours = {"realtime": 0.25, "1h": 1, "4h": 4, "24h": 24}
    for c in contracts:
        fresh = [k for k in c["qualityChecks"] if k["type"] == "freshness"]
        column = fresh[0]["column"]
        age = NOW - _scalar(path, f"SELECT max({column}) FROM {table_name(c)}")
        assert age >= timedelta(0), c["id"]
        if c["id"] == STALE:
            assert timedelta(hours=29) <= age <= timedelta(hours=31)
            assert age > timedelta(hours=sla_hours[c["sla"]["freshness"]])
        elif c["id"] == DEPRECATED:
            assert timedelta(days=89) <= age <= timedelta(days=92)
        else:
            assert age <= timedelta(hours=sla_hours[c["sla"]["freshness"]]), c["id"]


def test_seed_product_data_fits_its_checks(warehouse: tuple[Path, dict[str, int]]) -> None:
    path, counts = warehouse
    table = "marketing_campaign_attribution"
    channels = {r[0] for r in _read(path, f"SELECT DISTINCT channel FROM {table}")}
    assert channels <= {"organic", "paid", "email", "referral", "social", "direct"}
    newest = _scalar(path, f"SELECT max(touchpoint_at) FROM {table}")
    assert NOW - newest <= timedelta(hours=1)
    models = {r[0] for r in _read(path, f"SELECT DISTINCT attribution_model FROM {table}")}
    assert models == {"linear", "time_decay", "position_based"}
    # conversion_at and revenue_cents are NULL exactly for non-converted touchpoints
    assert _scalar(path, f"SELECT count(*) FROM {table} WHERE conversion_at < touchpoint_at") == 0
    assert (
        _scalar(
            path,
            f"SELECT count(*) FROM {table} "
            "WHERE (conversion_at IS NULL) <> (revenue_cents IS NULL)",
        )
        == 0
    )


def test_the_deliberate_null_violation_exists(warehouse: tuple[Path, dict[str, int]]) -> None:
    path, _ = warehouse
    nulls = _scalar(
        path, "SELECT count(*) FROM marketing_email_engagement WHERE campaign_id IS NULL"
    )
    assert 0 < nulls < 0.05 * 30_000


def test_deprecated_product_data_is_three_months_old(
    warehouse: tuple[Path, dict[str, int]],
) -> None:
    path, _ = warehouse
    newest, oldest = _read(
        path, "SELECT max(revenue_date), min(revenue_date) FROM finance_revenue_daily_legacy"
    )[0]
    assert timedelta(days=89) <= NOW - newest <= timedelta(days=92)
    assert newest - oldest > timedelta(days=365)


def test_timestamps_are_never_in_the_future_except_due_dates(
    warehouse: tuple[Path, dict[str, int]], contracts: list[dict[str, Any]]
) -> None:
    path, _ = warehouse
    allowed_future = {("finance.invoices", "due_at"), ("ops.supplier_deliveries", "expected_at")}
    for c in contracts:
        for col in c["schema"]:
            if col["type"] != "timestamp" or (c["id"], col["column"]) in allowed_future:
                continue
            newest = _scalar(path, f"SELECT max({col['column']}) FROM {table_name(c)}")
            assert newest is None or newest <= NOW, (c["id"], col["column"])


def _checksum(path: Path, table: str) -> int:
    return int(_scalar(path, f"SELECT sum(hash(t)) FROM {table} AS t"))


def test_build_is_deterministic_for_the_same_now_and_seed(
    tmp_path: Path, warehouse: tuple[Path, dict[str, int]]
) -> None:
    first_path, first_counts = warehouse
    tables = {
        "marketing.campaign_attribution": "marketing_campaign_attribution",
        "finance.orders_revenue": "finance_orders_revenue",
        "ops.support_tickets": "ops_support_tickets",
        "product.funnel_events": "product_funnel_events",
    }
    second = tmp_path / "again.duckdb"
    counts = build_demo_warehouse(second, now=NOW, seed=42, contracts=_small(*tables))
    assert counts == {t: first_counts[t] for t in tables.values()}
    for table in tables.values():
        assert _checksum(second, table) == _checksum(first_path, table), table
    other_seed = tmp_path / "other.duckdb"
    build_demo_warehouse(other_seed, now=NOW, seed=7, contracts=_small())
    assert _checksum(other_seed, "finance_orders_revenue") != _checksum(
        first_path, "finance_orders_revenue"
    )


def test_timestamps_follow_now(tmp_path: Path) -> None:
    later = NOW + timedelta(days=10)
    path = tmp_path / "later.duckdb"
    build_demo_warehouse(path, now=later, contracts=_small())
    newest = _scalar(path, "SELECT max(touchpoint_at) FROM marketing_campaign_attribution")
    assert timedelta(0) <= later - newest <= timedelta(hours=1)


def test_naive_now_means_utc(tmp_path: Path) -> None:
    path = tmp_path / "naive.duckdb"
    build_demo_warehouse(
        path, now=NOW.replace(tzinfo=None), contracts=_small("product.funnel_events")
    )
    newest = _scalar(path, "SELECT max(occurred_at) FROM product_funnel_events")
    assert newest.tzinfo is not None
    assert timedelta(0) <= NOW - newest <= timedelta(hours=1)


def test_the_quality_engine_sees_exactly_the_deliberate_problems(
    warehouse: tuple[Path, dict[str, int]], contracts: list[dict[str, Any]]
) -> None:
    """The real engine (fused scan, custom SQL gate, schema conformance) agrees with the above."""
    checks = pytest.importorskip("quality.checks")
    duckdb_adapter = pytest.importorskip("querying.warehouses.duckdb")
    path, _ = warehouse
    # The adapter opens its own hardened connections; DuckDB refuses a second configuration for
    # a file this process already has open, so close the shared reader meanwhile.
    _READERS.pop(path).close()
    try:
        adapter = duckdb_adapter.DuckDBWarehouse(path)
        failing = set()
        for c in contracts:
            spec = checks.ProductSpec(
                product_id=c["id"],
                table=table_name(c),
                columns=tuple(
                    checks.ColumnSpec(col["column"], col["type"], col.get("nullable", True))
                    for col in c["schema"]
                ),
                checks=tuple(
                    checks.CheckSpec(
                        name=k["name"],
                        type=k["type"],
                        severity=k["severity"],
                        column=k.get("column"),
                        params=k.get("params") or {},
                    )
                    for k in c["qualityChecks"]
                ),
                freshness_sla=c["sla"]["freshness"],
            )
            report = checks.run_product(adapter, spec, now=NOW)
            failing |= {(c["id"], o.check_name) for o in report.outcomes if not o.passed}
    finally:
        _READERS[path] = duckdb.connect(str(path), read_only=True)
    assert failing == {
        ("ops.inventory_levels", "snapshot_at_fresh"),
        ("marketing.email_engagement", "campaign_id_not_null"),
        ("marketing.email_engagement", "schema:campaign_id:nullable"),
        ("finance.revenue_daily_legacy", "revenue_date_fresh"),
    }


def test_demo_contracts_and_data_pass_the_default_governance_policies(
    warehouse: tuple[Path, dict[str, int]], contracts: list[dict[str, Any]]
) -> None:
    """No policy error; only the verbatim seed product gets warnings (missing not_null checks)."""
    contract_module = pytest.importorskip("catalog.contract")
    policies = pytest.importorskip("catalog.governance.policies")
    path, _ = warehouse
    warned = set()
    for c in contracts:
        table = table_name(c)
        samples = {
            col["column"]: [
                r[0] for r in _read(path, f"SELECT {col['column']} FROM {table} LIMIT 200")
            ]
            for col in c["schema"]
            if col["type"] == "string"
        }
        violations = policies.evaluate_policies(
            contract_module.parse_contract(c), policies.DEFAULT_POLICIES, samples=samples
        )
        assert not policies.has_errors(violations), [str(v) for v in violations]
        warned |= {c["id"] for v in violations if c["id"] != DEPRECATED}
    assert warned == {"marketing.campaign_attribution"}


# ---------------------------------------------------------------------------------- atomic swap


def test_rebuild_swaps_the_file_under_a_reader_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    build_demo_warehouse(path, now=NOW - timedelta(days=30), contracts=_small())
    reader = duckdb.connect(str(path), read_only=True)
    try:
        old_newest = reader.execute(
            "SELECT max(ordered_at) FROM finance_orders_revenue"
        ).fetchone()[0]
        build_demo_warehouse(path, now=NOW, contracts=_small())  # twice is safe, even while read
        # The open reader keeps its snapshot of the old file...
        assert (
            reader.execute("SELECT max(ordered_at) FROM finance_orders_revenue").fetchone()[0]
            == old_newest
        )
    finally:
        reader.close()
    # ...and a new connection sees the new data.
    new_newest = _scalar(path, "SELECT max(ordered_at) FROM finance_orders_revenue")
    assert new_newest > old_newest
    assert NOW - new_newest <= timedelta(hours=1)
    assert sorted(os.listdir(tmp_path)) == ["warehouse.duckdb"]


def test_failed_build_keeps_the_old_file_and_removes_its_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    build_demo_warehouse(path, now=NOW, contracts=_small())
    before = _checksum(path, "finance_orders_revenue")
    broken = _small()
    broken[-1] = {
        **broken[-1],
        "schema": [
            *broken[-1]["schema"],
            {"column": "not_in_recipe", "type": "string", "description": "x"},
        ],
    }
    with pytest.raises(ValueError, match="not_in_recipe"):
        build_demo_warehouse(path, now=NOW + timedelta(days=1), contracts=broken)
    assert sorted(os.listdir(tmp_path)) == ["warehouse.duckdb"]
    assert _checksum(path, "finance_orders_revenue") == before


def test_a_stale_temp_file_of_the_same_pid_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    (tmp_path / f"warehouse.duckdb.tmp-{os.getpid()}").write_bytes(b"garbage")
    build_demo_warehouse(path, now=NOW, contracts=_small())
    assert sorted(os.listdir(tmp_path)) == ["warehouse.duckdb"]


def test_contracts_without_a_recipe_get_filler_data(tmp_path: Path) -> None:
    extra = {
        **SEED_CONTRACT,
        "id": "marketing.extra_product",
        "schema": [
            {"column": "extra_id", "type": "string", "description": "x", "nullable": False},
            {"column": "seen_at", "type": "timestamp", "description": "x"},
            {"column": "tags_list", "type": "array", "description": "x"},
            {"column": "payload", "type": "json", "description": "x"},
        ],
    }
    counts = build_demo_warehouse(tmp_path / "w.duckdb", now=NOW, contracts=[extra])
    assert counts == {"marketing_extra_product": 2000}


# ---------------------------------------------------------------------------------- people


def test_demo_users() -> None:
    names = [u["username"] for u in DEMO_USERS]
    assert len(names) == len(set(names))
    admins = [u for u in DEMO_USERS if u["role"] == "admin"]
    assert [u["username"] for u in admins] == ["admin"]
    owners = {u["team"] for u in DEMO_USERS if u["owner"]}
    assert owners == set(DEMO_DOMAINS)
    assert any(u["team"] and not u["owner"] for u in DEMO_USERS)
    teamless_roles = {u["role"] for u in DEMO_USERS if u["team"] is None}
    assert {"analyst", "manager"} <= teamless_roles
    for u in DEMO_USERS:
        assert u["role"] in ("analyst", "manager", "admin")
        assert u["team"] is None or u["team"] in DEMO_DOMAINS
        assert not u["owner"] or u["team"] is not None
        assert len(u["password"]) >= 8 and u["password"] == f"demo-{u['username']}"
        assert "@" in u["email"]


def test_demo_consumers_reference_demo_products(by_id: dict[str, dict[str, Any]]) -> None:
    assert len(DEMO_CONSUMERS) >= 5
    for consumer in DEMO_CONSUMERS:
        assert consumer["product"] in by_id
        assert consumer["team"] and consumer["useCase"] and "@" in consumer["contact"]
    # The CEO dashboard moved off the deprecated legacy table to three validated products
    # (issue 16; quality/demo_history.py keeps its registration on the legacy table).
    ceo = [c for c in DEMO_CONSUMERS if c.get("name") == "Executive / CEO dashboard"]
    assert sorted(c["product"] for c in ceo) == [
        "finance.invoices",
        "finance.orders_revenue",
        "finance.refunds",
    ]
    assert all(c.get("kind") == "dashboard" and c["product"] != DEPRECATED for c in ceo)
