"""Drafting a contract from a table (issue 15), on real DuckDB and PostgreSQL tables.

The table below holds personal data of every kind the draft names (by column name and by
sampled values), free text with e-mail addresses and phone numbers in it, and look-alikes
that must stay unflagged (``email_opened``, ``campaign_id``, ``email_campaign_id``). The
draft is then published as it is through the real pipeline, and its checks run on the table
it came from: every one passes. Generated tables (random types, NULL rates, ranges and
cardinalities) hold the same property.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from catalog.contract import parse_contract
from catalog.governance.drafting import widened
from catalog.governance.policies import DEFAULT_POLICIES, evaluate_policies, has_errors
from catalog.models import Domain, TableAssignment
from catalog.services import product_publish
from catalog.services.drafts import (
    DraftConflict,
    DraftNotFound,
    contract_draft,
    draftable_tables,
)
from quality.models import RunProfile
from quality.services import check_run
from tests.factories import DataProductFactory
from tests.support.pg import pg_warehouse

pytestmark = pytest.mark.django_db

TABLE = "marketing_contacts"
GIVEN = ["Olivia", "Liam", "Emma", "Noah", "Mateo", "Sofia", "Priya", "Kwame", "Yuki", "Hugo"]
FAMILY = ["Smith", "Garcia", "Tanaka", "Okafor", "Rossi", "Novak", "Patel", "Cohen", "Silva"]
STREETS = ["Maple Street", "Oak Avenue", "Canal Road", "Harbor Lane", "Elm Drive"]
ROWS = 600

# column -> (DuckDB type, PostgreSQL type)
COLUMNS: dict[str, tuple[str, str]] = {
    "contact_id": ("VARCHAR NOT NULL", "text NOT NULL"),
    "email": ("VARCHAR", "text"),
    "reach_me": ("VARCHAR", "text"),  # e-mail addresses under a neutral name
    "mobile": ("VARCHAR", "text"),
    "callback": ("VARCHAR", "text"),  # phone numbers under a neutral name
    "full_name": ("VARCHAR", "text"),
    "display": ("VARCHAR", "text"),  # people's names under a neutral name
    "street_line": ("VARCHAR", "text"),  # postal addresses under a neutral name
    "birth_date": ("DATE", "date"),
    "customer_id": ("VARCHAR", "text"),
    "last_ip": ("VARCHAR", "text"),
    "notes": ("VARCHAR", "text"),  # free text, some with an e-mail address or a phone number
    "email_opened": ("BOOLEAN", "boolean"),
    "campaign_id": ("VARCHAR", "text"),
    "email_campaign_id": ("VARCHAR", "text"),
    "status": ("VARCHAR", "text"),
    "score": ("DOUBLE", "double precision"),
    "visits": ("BIGINT", "bigint"),
    "updated_at": ("TIMESTAMP", "timestamp"),
    "raw_payload": ("BLOB", "bytea"),  # no contract type: left out
    '"LegacyCode"': ("VARCHAR", "text"),  # not snake_case: left out
}
# What the draft must say about each column: (pii, mask).
EXPECTED_PII = {
    "email": "email",
    "reach_me": "email",
    "mobile": "last4",
    "callback": "last4",
    "full_name": "redact",
    "display": "redact",
    "street_line": "redact",
    "birth_date": "redact",
    "customer_id": "hash",
    "last_ip": "hash",
    "notes": "redact",
}
NOT_PII = (
    "contact_id",
    "email_opened",
    "campaign_id",
    "email_campaign_id",
    "status",
    "score",
    "visits",
    "updated_at",
)


def _rows(now: datetime) -> list[tuple[Any, ...]]:
    rng = random.Random(15)
    rows = []
    for i in range(ROWS):
        first, last = GIVEN[i % len(GIVEN)], FAMILY[(i * 7) % len(FAMILY)]
        phone = f"+44 20 7946 {1000 + i:04d}"
        note = None
        if i % 10 == 3:
            note = f"please call me on {phone}"
        elif i % 10 == 5:
            note = f"send it to {first.lower()}.{i}@work.example.com instead"
        elif i % 2 == 0:
            note = rng.choice(["likes running gear", "only sale alerts", "gift for a friend"])
        rows.append(
            (
                f"c-{i:05d}",
                f"{first.lower()}.{last.lower()}{i}@example.com",
                f"{last.lower()}.{i}@mail.example.org",
                None if i % 5 == 0 else f"+1-415-555-{i:04d}",
                phone,
                f"{first} {last}",
                f"{last}, {first}",
                f"{10 + i} {STREETS[i % len(STREETS)]}",
                date(1960, 1, 1) + timedelta(days=(i * 97) % 15000),
                f"cus-{i % 150:04d}",
                f"10.0.{i % 250}.{1 + i % 200}",
                note,
                i % 3 == 0,
                f"cmp-{i % 30:04d}",
                f"ecm-{i % 40:04d}",
                ["active", "paused", "churned"][i % 3],
                None if i % 10 == 9 else round(rng.uniform(-5, 95), 2),
                rng.randint(0, 500),
                (now - timedelta(minutes=10 + (i * 13) % 5000)).replace(tzinfo=None),
                b"\x00\x01",
                f"L{i}",
            )
        )
    return rows


def _literal(value: Any, engine: str) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, bytes):
        return "'\\x0001'::bytea" if engine == "postgres" else "'\\x00\\x01'::BLOB"
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def table_sql(engine: str, name: str = TABLE, rows: list[tuple[Any, ...]] | None = None) -> str:
    """CREATE TABLE and INSERT for one engine (the same rows on both)."""
    index = 0 if engine == "duckdb" else 1
    columns = ", ".join(f"{c} {types[index]}" for c, types in COLUMNS.items())
    values = ",\n".join(
        "(" + ", ".join(_literal(v, engine) for v in row) + ")"
        for row in (rows if rows is not None else _rows(datetime.now(UTC)))
    )
    return f"CREATE TABLE {name} ({columns});\nINSERT INTO {name} VALUES\n{values};\n"


def duckdb_url(path: Path, sql: str) -> str:
    conn = duckdb.connect(str(path))
    try:
        conn.execute(sql)
    finally:
        conn.close()
    return f"duckdb:///{path}"


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.integration)])
def contacts(request: pytest.FixtureRequest, tmp_path: Path, settings: Any) -> Iterator[str]:
    """A warehouse holding TABLE (and an unrelated finance table), as WAREHOUSE_URL."""
    engine = request.param
    settings.PUBLISH_REQUIRE_WAREHOUSE = True
    extra = "CREATE TABLE finance_ledger (id BIGINT);\n"
    if engine == "duckdb":
        settings.WAREHOUSE_URL = duckdb_url(tmp_path / "w.duckdb", table_sql(engine) + extra)
        yield engine
    else:
        with pg_warehouse(table_sql(engine) + extra) as url:
            settings.WAREHOUSE_URL = url
            yield engine


def _column(draft: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in draft["schema"] if c["column"] == name)


def test_every_kind_of_personal_data_is_found_and_masked_and_look_alikes_are_not(
    contacts: str, marketing: Domain, owner: User
) -> None:
    draft = contract_draft(actor=owner, table=TABLE, domain="marketing")
    doc = draft.contract
    for name, mask in EXPECTED_PII.items():
        column = _column(doc, name)
        assert column["pii"] is True and column["mask"] == mask, (name, column)
    for name in NOT_PII:
        assert _column(doc, name)["pii"] is False, name
    names = [c["column"] for c in doc["schema"]]
    assert "raw_payload" not in names and "LegacyCode" not in names
    notes = "\n".join(draft.notes)
    # Every inference comes with its evidence.
    assert "reach_me: 600 of 600 sampled values look like e-mail addresses" in notes
    assert "callback: 600 of 600 sampled values look like phone numbers" in notes
    assert "display: 600 of 600 sampled values look like people's names" in notes
    assert "street_line: 600 of 600 sampled values look like postal addresses" in notes
    assert "notes: 120 of 420 sampled values contain phone numbers or e-mail addresses" in notes
    assert "email: its name reads as personal data (e-mail address)" in notes
    assert "raw_payload: left out: its type" in notes
    assert "LegacyCode: left out: its name is not snake_case" in notes


def test_the_draft_proposes_checks_from_the_data(
    contacts: str, marketing: Domain, owner: User
) -> None:
    draft = contract_draft(actor=owner, table=TABLE, domain="marketing")
    doc = draft.contract
    checks = {c["name"]: c for c in doc["qualityChecks"]}
    assert checks["contact_id_unique"]["column"] == "contact_id"
    assert "customer_id_unique" not in checks  # repeats: not an identifier of the row
    assert checks["status_values"]["params"] == {"values": ["active", "churned", "paused"]}
    assert "campaign_id_values" not in checks  # 30 distinct values: not low-cardinality
    low, high = checks["score_range"]["params"]["min"], checks["score_range"]["params"]["max"]
    assert low <= -5 and high >= 95 and low > -20 and high < 120
    assert checks["visits_range"]["params"]["min"] == 0
    assert checks["updated_at_fresh"]["column"] == "updated_at"
    assert checks["row_count"]["params"] == {"minRows": 300, "maxRows": 1200}
    # NULLs seen: nullable; none seen: required, with a not_null check each.
    assert _column(doc, "mobile")["nullable"] is True
    assert _column(doc, "score")["nullable"] is True
    assert _column(doc, "visits")["nullable"] is False
    assert "visits_not_null" in checks and "mobile_not_null" not in checks
    assert doc["sla"]["freshness"] == "1h"  # newest row 10 minutes old: room for twice that
    assert doc["owner"]["contact"] == owner.email and doc["tags"] == ["marketing"]
    assert doc["id"] == "marketing.contacts" and doc["table"] == TABLE
    # No PII value in the profile; counts for every column.
    profile = {c["name"]: c for c in draft.profile["columns"]}
    assert profile["email"]["top"] == [] and profile["email"]["distinct"] == ROWS
    assert [t["value"] for t in profile["status"]["top"]] == ["active", "paused", "churned"]
    assert profile["mobile"]["nulls"] == ROWS // 5
    assert draft.profile["rows"] == ROWS
    text = json.dumps(draft.profile)
    assert "example.com" not in text and "Maple" not in text and "+44" not in text


def test_the_draft_passes_lint_and_published_as_is_its_checks_pass(
    contacts: str, marketing: Domain, owner: User, tmp_path: Path
) -> None:
    draft = contract_draft(actor=owner, table=TABLE, domain="marketing")
    contract = parse_contract(draft.contract)
    assert not has_errors(evaluate_policies(contract, DEFAULT_POLICIES))
    path = tmp_path / "draft.yaml"
    path.write_text(yaml.safe_dump(draft.contract, sort_keys=False))
    call_command("contract", "lint", str(path))  # exits non-zero on an error
    outcome = product_publish(actor=owner, document=draft.contract, source="test")
    assert outcome.created
    run = check_run(product=outcome.product)
    results = list(run.results.order_by("position"))
    assert results and all(r.passed for r in results), [
        (r.check_name, r.message) for r in results if not r.passed
    ]
    assert run.status == "passed"
    stored = RunProfile.objects.get(run=run)
    assert stored.data["rows"] == ROWS


def test_a_table_bound_by_a_product_is_not_offered_nor_drafted(
    contacts: str, marketing: Domain, owner: User
) -> None:
    assert TABLE in draftable_tables(actor=owner)["marketing"]
    draft = contract_draft(actor=owner, table=TABLE, domain="marketing")
    product_publish(actor=owner, document=draft.contract, source="test")
    assert TABLE not in draftable_tables(actor=owner).get("marketing", [])
    with pytest.raises(DraftConflict, match="already bound by marketing.contacts"):
        contract_draft(actor=owner, table=TABLE, domain="marketing")


def test_only_tables_the_domain_may_bind_are_offered(
    contacts: str, marketing: Domain, finance: Domain, owner: User, outsider: User
) -> None:
    assert draftable_tables(actor=owner) == {"marketing": [TABLE]}
    assert draftable_tables(actor=outsider) == {"finance": ["finance_ledger"]}
    with pytest.raises(DraftNotFound) as refused:
        contract_draft(actor=outsider, table=TABLE, domain="finance")
    assert "finance_ledger" in str(refused.value)  # what they could mean, in their domain
    assert TABLE not in str(refused.value).split("did you mean", 1)[-1]
    # An admin's assignment moves a table into a domain's namespace.
    TableAssignment.objects.create(table=TABLE, domain=finance)
    assert TABLE in draftable_tables(actor=outsider)["finance"]
    assert TABLE not in draftable_tables(actor=owner).get("marketing", [])


def test_an_unknown_table_names_the_tables_the_caller_could_mean(
    contacts: str, marketing: Domain, owner: User
) -> None:
    with pytest.raises(DraftNotFound) as refused:
        contract_draft(actor=owner, table="marketing_contact", domain="marketing")
    assert refused.value.suggestions == [TABLE]
    assert f"did you mean {TABLE}?" in str(refused.value)


def test_the_draft_command_prints_a_contract_publish_accepts(
    contacts: str, marketing: Domain, owner: User, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("draft_contract", TABLE, "--domain", "marketing", "--id", "marketing.people")
    out, err = capsys.readouterr()
    document = yaml.safe_load(out)
    assert document["id"] == "marketing.people" and document["table"] == TABLE
    assert "note: reach_me: 600 of 600 sampled values look like e-mail addresses" in err
    for fmt in ("json", "odcs"):
        call_command("draft_contract", TABLE, "--domain", "marketing", "--format", fmt)
        printed = capsys.readouterr().out
        assert "contacts" in printed
    with pytest.raises(CommandError, match="did you mean marketing_contacts"):
        call_command("draft_contract", "marketing_contact", "--domain", "marketing")


# --- generated tables -------------------------------------------------------------------------


def _generated(seed: int, now: datetime) -> tuple[str, int]:
    """A random table: its CREATE/INSERT (DuckDB) and its row count."""
    rng = random.Random(seed)
    rows = rng.choice([1, 7, 60, 900, 3000])
    columns: list[tuple[str, str, Any]] = []
    for n in range(rng.randint(2, 8)):
        kind = rng.choice(["int", "float", "text_low", "text_high", "bool", "ts", "id"])
        nulls = rng.choice([0.0, 0.0, 0.1, 0.9, 1.0])
        columns.append((f"{kind}_{n}", kind, nulls))
    low = rng.uniform(-1e6, 1e6)
    span = rng.choice([0.0, 0.5, 10.0, 1e3, 1e9])
    values = rng.sample(["a", "b b", "c's", "Ωmega", "", "x" * 40], k=rng.randint(1, 6))

    def value(kind: str, nulls: float, i: int) -> str:
        if rng.random() < nulls:
            return "NULL"
        if kind == "int":
            return str(int(low) + rng.randint(0, int(span)))
        if kind == "float":
            return repr(low + rng.random() * span)
        if kind == "text_low":
            return "'" + rng.choice(values).replace("'", "''") + "'"
        if kind == "text_high":
            return f"'v{rng.randint(0, 10**9)}'"
        if kind == "bool":
            return rng.choice(["TRUE", "FALSE"])
        if kind == "id":
            return f"'row-{i}'"
        moment = now - timedelta(hours=rng.choice([0.05, 2, 30, 2000]) * rng.random())
        return f"TIMESTAMP '{moment.replace(tzinfo=None).isoformat(sep=' ')}'"

    types = {
        "int": "BIGINT",
        "float": "DOUBLE",
        "text_low": "VARCHAR",
        "text_high": "VARCHAR",
        "bool": "BOOLEAN",
        "ts": "TIMESTAMP",
        "id": "VARCHAR",
    }
    create = ", ".join(f"{name} {types[kind]}" for name, kind, _ in columns)
    body = ",\n".join(
        "(" + ", ".join(value(kind, nulls, i) for _, kind, nulls in columns) + ")"
        for i in range(rows)
    )
    return f"CREATE TABLE marketing_gen ({create});\nINSERT INTO marketing_gen VALUES {body};", rows


@pytest.mark.parametrize("seed", range(12))
def test_generated_tables_draft_checks_that_pass_on_them(
    seed: int, tmp_path: Path, settings: Any, marketing: Domain, owner: User
) -> None:
    now = datetime.now(UTC)
    sql, rows = _generated(seed, now)
    settings.WAREHOUSE_URL = duckdb_url(tmp_path / "g.duckdb", sql)
    draft = contract_draft(actor=owner, table="marketing_gen", domain="marketing")
    parse_contract(draft.contract)
    outcome = product_publish(actor=owner, document=draft.contract, source="test")
    run = check_run(product=outcome.product)
    failing = [(r.check_name, r.message) for r in run.results.all() if not r.passed]
    assert not failing, (seed, rows, failing, draft.notes)


@pytest.mark.parametrize(
    ("low", "high", "integer"),
    [(0, 0, True), (5, 5, False), (-3.5, 7.25, False), (0.001, 0.002, False), (-1e12, 1e12, True)],
)
def test_widened_ranges_hold_the_observed_values_and_stay_non_negative(
    low: float, high: float, integer: bool
) -> None:
    out_low, out_high = widened(low, high, integer=integer)
    assert out_low <= low and out_high >= high
    if low >= 0:
        assert out_low >= 0
    if integer:
        assert isinstance(out_low, int) and isinstance(out_high, int)


def test_random_ranges_always_hold_their_values() -> None:
    rng = random.Random(3)
    for _ in range(2000):
        a, b = sorted(rng.uniform(-1e9, 1e9) * rng.random() ** 8 for _ in range(2))
        out_low, out_high = widened(a, b, integer=False)
        assert out_low <= a <= b <= out_high


def test_product_exists_with_that_id_is_a_conflict(
    contacts: str, marketing: Domain, owner: User
) -> None:
    DataProductFactory.create(
        product_id="marketing.contacts", domain=marketing, status="draft", table="marketing_other"
    )
    with pytest.raises(DraftConflict, match="exists already"):
        contract_draft(actor=owner, table=TABLE, domain="marketing")
    draft = contract_draft(
        actor=owner, table=TABLE, domain="marketing", product_id="marketing.contacts_v2"
    )
    assert draft.contract["id"] == "marketing.contacts_v2"


# --- the `unique` proof -----------------------------------------------------------------------
# A candidate (an identifier without repeats in the first rows) is refused by a random sample
# when a value repeats there, without a distinct count; else proved by the engine's statement,
# or on DuckDB for an integer column by a bitmap over the pass's min ... max.

KEY_ROWS = 30_000  # more than the first-rows sample (2,000), under the random sample's reach


def _key_table(engine: str, key_type: str, key: str) -> str:
    """``keys(k_id <key_type>, n INTEGER)``: ``key`` is an SQL expression of ``i`` (0-based)."""
    series = (
        f"range({KEY_ROWS}) r(i)" if engine == "duckdb" else f"generate_series(0, {KEY_ROWS - 1}) i"
    )
    return (
        f"CREATE TABLE marketing_keys (k_id {key_type}, n INTEGER);\n"
        f"INSERT INTO marketing_keys SELECT {key}, 1 FROM {series};\n"
    )


def _draft_logged(
    engine: str, sql: str, tmp_path: Path, *, table: str = "marketing_keys"
) -> tuple[Any, list[str], list[tuple[str, str]]]:
    """draft_table over a fresh table, the statements it sent, and the drafted checks that do
    not pass on that table (name, message)."""
    from catalog.governance.drafting import Identity, draft_table
    from quality.checks import CheckSpec, ColumnSpec, ProductSpec, run_product
    from querying.warehouses.registry import warehouse_from_url

    def run(url: str) -> tuple[Any, list[str], list[tuple[str, str]]]:
        warehouse = warehouse_from_url(url)
        sent: list[str] = []
        execute = warehouse.execute

        def logged(statement: str, *args: Any, **kwargs: Any) -> Any:
            sent.append(statement)
            return execute(statement, *args, **kwargs)

        warehouse.execute = logged  # type: ignore[method-assign,assignment]
        product_id = "marketing." + table.removeprefix("marketing_")
        identity = Identity(product_id, "Keys", "marketing", "Marketing", table, "m@x.co", "#m")
        now = datetime.now(UTC)
        draft = draft_table(
            warehouse,
            identity,
            rules=DEFAULT_POLICIES,
            now=now,
            timeout_s=60,
            hash_key="test-hash-key",
        )
        drafted = list(sent)
        contract = parse_contract(draft.document)
        spec = ProductSpec(
            contract.id,
            contract.table,
            tuple(ColumnSpec(c.column, c.type, c.nullable, c.pii, c.mask) for c in contract.schema),
            tuple(
                CheckSpec(c.name, c.type, c.severity, c.column, dict(c.params))
                for c in contract.quality_checks
            ),
            contract.sla.freshness,
        )
        report = run_product(warehouse, spec, now=now, hash_key="test-hash-key")
        failing = [(o.check_name, o.message) for o in report.outcomes if not o.passed]
        return draft, drafted, failing

    if engine == "duckdb":
        return run(duckdb_url(tmp_path / "k.duckdb", sql))
    with pg_warehouse(sql) as url:
        return run(url)


ENGINES = ["duckdb", pytest.param("postgres", marks=pytest.mark.integration)]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_key_that_repeats_after_the_first_rows_is_refused_by_the_sample_without_a_distinct_count(
    engine: str, tmp_path: Path
) -> None:
    # Unique in the first 2,000 rows, then every value comes back.
    key = "'k-' || CAST(i % 2500 AS VARCHAR)" if engine == "duckdb" else "'k-' || (i % 2500)"
    draft, sent, _ = _draft_logged(engine, _key_table(engine, "VARCHAR", key), tmp_path)
    checks = {c["name"] for c in draft.document["qualityChecks"]}
    assert "k_id_unique" not in checks
    assert not [s for s in sent if "DISTINCT" in s.upper()], sent
    note = next(n for n in draft.notes if n.startswith("k_id:") and "repeat" in n)
    assert "sampled values repeat one → no unique check" in note, draft.notes


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("key_type", "key", "unique", "bitmap"),
    [
        ("BIGINT", "i", True, True),
        ("BIGINT", "-1 - i", True, True),  # negative bounds
        ("BIGINT", "i * 1000000000", True, False),  # a range too wide for a bitmap
        ("INTEGER", f"CASE WHEN i = {KEY_ROWS - 1} THEN 7 ELSE i END", False, True),
        ("VARCHAR", f"CASE WHEN i = {KEY_ROWS - 1} THEN 'k7' ELSE 'k' || i END", False, False),
        ("VARCHAR", "'k' || i", True, False),
    ],
)
def test_a_key_without_repeats_in_the_sample_is_proved_on_the_whole_table(
    engine: str, key_type: str, key: str, unique: bool, bitmap: bool, tmp_path: Path
) -> None:
    if engine == "postgres":
        key = key.replace("'k' || i", "'k' || i::text").replace("i * ", "i::bigint * ")
    draft, sent, failing = _draft_logged(engine, _key_table(engine, key_type, key), tmp_path)
    assert not failing, failing
    checks = {c["name"] for c in draft.document["qualityChecks"]}
    assert ("k_id_unique" in checks) is unique, draft.notes
    notes = "\n".join(draft.notes)
    if unique:
        assert f"k_id: 0 duplicates in {KEY_ROWS:,} rows → unique" in notes
    else:
        assert "k_id: looks like an identifier, but 1 rows repeat a value" in notes, notes
    proofs = [s for s in sent if "BITSTRING_AGG" in s.upper() or "DISTINCT" in s.upper()]
    assert len(proofs) == 1, sent
    assert ("BITSTRING_AGG" in proofs[0].upper()) is (bitmap and engine == "duckdb"), proofs


def test_a_bitmap_that_meets_a_value_the_pass_did_not_see_falls_back_to_the_distinct_count(
    tmp_path: Path,
) -> None:
    """Rows written between the pass and the proof: the bitmap's bounds fail, the engine's own
    statement answers."""
    from catalog.governance import drafting
    from quality.checks.readings import Values

    url = duckdb_url(tmp_path / "k.duckdb", _key_table("duckdb", "BIGINT", "i"))
    from querying.warehouses.registry import warehouse_from_url

    warehouse = warehouse_from_url(url)
    probe = drafting.ProductSpec(
        "marketing.keys", "marketing_keys", (drafting.ColumnSpec("k_id", "integer"),)
    )
    check = drafting.CheckSpec("k_id_unique", "unique", column="k_id")
    values = Values({"min:k_id": 0, "max:k_id": 100}, {})  # stale: the table goes to 29,999
    [found] = drafting._prove_unique(warehouse, probe, [check], values, time.monotonic() + 60)
    assert found.passed and found.value == 0
    # Past the draft's time cap, no proof is sent: no unique check, and why.
    [late] = drafting._prove_unique(warehouse, probe, [check], values, time.monotonic() - 1)
    assert late.status == "error" and "used up its time" in late.message


# --- the accepted_values proof ------------------------------------------------------------------
# A candidate is the set of values the first rows hold; it is drafted only when no other value
# exists in the whole table, counted with the check's own condition (in the pass on
# PostgreSQL, as a statement of its own on DuckDB: ACCEPTED_VALUES_APART). A value the sample
# never reached, or one that differs from a sampled value only by case or a trailing space,
# keeps the check out; NULLs are no value (the check lets them be).

STATES = ["active", "paused", "closed"]


def _states_table(engine: str, state: str) -> str:
    """``marketing_states(state VARCHAR, n INTEGER)`` over KEY_ROWS rows: ``state`` is an SQL
    expression of ``i`` (0-based) and ``{base}``, the three STATES in turn."""
    if engine == "duckdb":
        base = "(['active', 'paused', 'closed'])[1 + (i % 3)::INTEGER]"
        series = f"range({KEY_ROWS}) r(i)"
    else:
        base = "(ARRAY['active', 'paused', 'closed'])[1 + i % 3]"
        series = f"generate_series(0, {KEY_ROWS - 1}) i"
    return (
        "CREATE TABLE marketing_states (state VARCHAR, n INTEGER);\n"
        f"INSERT INTO marketing_states SELECT {state.format(base=base)}, 1 FROM {series};\n"
    )


LAST = f"i = {KEY_ROWS - 1}"  # the last row: far past the first-rows sample (2,000)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("state", "accepted", "non_null"),
    [
        ("{base}", True, KEY_ROWS),
        ("CASE WHEN i % 4 = 0 THEN NULL ELSE {base} END", True, KEY_ROWS * 3 // 4),
        (f"CASE WHEN {LAST} THEN 'refunded' ELSE {{base}} END", False, 0),
        (f"CASE WHEN {LAST} THEN 'ACTIVE' ELSE {{base}} END", False, 0),  # case only
        (f"CASE WHEN {LAST} THEN 'active ' ELSE {{base}} END", False, 0),  # a trailing space
        (f"CASE WHEN i % 4 = 0 THEN NULL WHEN {LAST} THEN 'x' ELSE {{base}} END", False, 0),
    ],
    ids=["every-row", "nulls", "rare-value", "case", "trailing-space", "nulls-and-rare"],
)
def test_accepted_values_are_drafted_only_when_no_row_of_the_table_holds_another_value(
    engine: str, state: str, accepted: bool, non_null: int, tmp_path: Path
) -> None:
    draft, sent, failing = _draft_logged(
        engine, _states_table(engine, state), tmp_path, table="marketing_states"
    )
    checks = {c["name"]: c for c in draft.document["qualityChecks"]}
    notes = "\n".join(draft.notes)
    shown = ", ".join(sorted(STATES))
    assert not failing, failing  # published as it is, its checks pass on the table
    if accepted:
        assert checks["state_values"]["params"] == {"values": sorted(STATES)}
        among = (
            f"every one of {KEY_ROWS:,} rows"
            if non_null == KEY_ROWS
            else f"every non-NULL one of {non_null:,} rows"
        )
        assert f"state: {among} is one of 3 values ({shown}) → accepted_values" in notes, notes
    else:
        assert "state_values" not in checks, notes
        assert (
            f"state: the sample shows {shown}, but 1 rows hold other values → "
            "no accepted_values check"
        ) in notes, notes
    # The check's own condition counts the rows: in the pass on PostgreSQL, apart on DuckDB.
    [proof] = [s for s in sent if 'NOT "state" IN (' in s]
    if engine == "duckdb":
        assert proof.startswith('SELECT COUNT(*) FROM "marketing_states" WHERE'), proof
    else:
        assert 'FILTER(WHERE NOT "state" IS NULL' in proof, proof


def test_an_accepted_values_proof_past_the_time_cap_is_not_sent_and_drafts_no_check(
    tmp_path: Path,
) -> None:
    from catalog.governance import drafting
    from quality.checks.readings import Values
    from querying.warehouses.registry import warehouse_from_url

    warehouse = warehouse_from_url(
        duckdb_url(tmp_path / "s.duckdb", _states_table("duckdb", "{base}"))
    )
    check = drafting.CheckSpec(
        "state_values", "accepted_values", "error", "state", {"values": sorted(STATES)}
    )
    spec = drafting.ProductSpec(
        "marketing.states",
        "marketing_states",
        (drafting.ColumnSpec("state", "string"),),
        (check,),
    )
    now = datetime.now(UTC)
    [proved] = drafting._prove_apart(warehouse, spec, 0, Values({}, {}), now, time.monotonic() + 60)
    assert proved.passed and proved.value == 0
    values = Values({}, {})
    [late] = drafting._prove_apart(warehouse, spec, 0, values, now, time.monotonic() - 1)
    assert late.status == "error" and "used up its time" in late.message
    assert values.errors == {"outside:0": "the draft used up its time before this proof"}


# --- the publish's value sample -----------------------------------------------------------------
# The publish gate samples the first 200 rows' strings (conformance.sample_values); the draft
# already read the first 2,000 rows, so it cuts the gate's sample from them instead of reading
# the table again: the same values, the same findings, one statement fewer.

PEOPLE_ROWS = 2_500


def _people_table() -> str:
    """``marketing_people(who VARCHAR, n INTEGER)``: people's names in the first 200 rows (all
    the publish samples), ``n/a`` after them (most of what the draft samples)."""
    names = [
        f"'{GIVEN[i % len(GIVEN)]} {FAMILY[i % len(FAMILY)]}'" if i < 200 else "'n/a'"
        for i in range(PEOPLE_ROWS)
    ]
    values = ",\n".join(f"({name}, {i})" for i, name in enumerate(names))
    return (
        "CREATE TABLE marketing_people (who VARCHAR, n INTEGER);\n"
        f"INSERT INTO marketing_people VALUES\n{values};\n"
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_the_publish_sample_flags_what_the_draft_sample_misses_without_reading_the_table_again(
    engine: str, tmp_path: Path
) -> None:
    draft, sent, failing = _draft_logged(
        engine, _people_table(), tmp_path, table="marketing_people"
    )
    assert not failing, failing
    who = _column(draft.document, "who")
    assert (who["pii"], who["mask"]) == (True, "redact"), draft.notes
    assert (
        "who: the publish's policy sample flags it (column who: 200 of 200 sampled values look "
        "like personal data (mostly person's name); set pii: true)"
    ) in draft.notes
    # Read once: one columns() lookup, one first-rows sample, no sample of the gate's own.
    assert len([s for s in sent if "information_schema.columns" in s]) == 1, sent
    assert [s for s in sent if "LIMIT" in s.upper()] == [
        next(s for s in sent if s.upper().endswith("LIMIT 2000"))
    ], sent


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("table", [TABLE, "marketing_people"])
def test_the_publish_sample_cut_from_the_draft_rows_is_the_one_the_publish_reads(
    engine: str, table: str, tmp_path: Path
) -> None:
    from catalog.governance import conformance, drafting
    from querying.warehouses.registry import warehouse_from_url

    sql = table_sql(engine) if table == TABLE else _people_table()

    def compare(url: str) -> None:
        warehouse = warehouse_from_url(url)
        identity = drafting.Identity(
            "marketing.x", "X", "marketing", "Marketing", table, "m@x.co", "#m"
        )
        draft = drafting.draft_table(
            warehouse,
            identity,
            rules=DEFAULT_POLICIES,
            now=datetime.now(UTC),
            timeout_s=60,
            hash_key="k",
            verify_unique=False,
        )
        # The draft as drafted, and as it was before any column was flagged PII (what the gate
        # judged inside draft_table: every string column sampled, findings to make).
        unflagged = dict(draft.document)
        unflagged["schema"] = [
            {k: v for k, v in dict(c, pii=False).items() if k != "mask"}
            for c in draft.document["schema"]
        ]
        plans = drafting.plan_columns(warehouse.columns(table) or [])
        rows = drafting._first_rows(warehouse, identity, plans).counted
        found = []
        for document in (draft.document, unflagged):
            contract = parse_contract(document)
            read = conformance.sample_values(warehouse, contract)
            cut = conformance.values_from_rows(contract, rows)
            assert cut == read and read
            findings = evaluate_policies(contract, DEFAULT_POLICIES, samples=cut)
            assert findings == evaluate_policies(contract, DEFAULT_POLICIES, samples=read)
            found.append({v.policy for v in findings})
        assert "pii.sampled_values" not in found[0] and "pii.sampled_values" in found[1], found

    if engine == "duckdb":
        compare(duckdb_url(tmp_path / "p.duckdb", sql))
    else:
        with pg_warehouse(sql) as url:
            compare(url)
