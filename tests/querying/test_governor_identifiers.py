"""Identifiers are compared exactly as the engines compare them (querying/governor/names.py).

The attack (issue 11, class 1): a CTE whose name Python's ``str.lower()`` folds onto a physical
table's name (U+212A KELVIN SIGN lowers to ``k``) made the governor take the table reference for
the CTE, while the engine, which folds ASCII only, read the physical table raw. Tested here:

* the rule itself against each engine: for generated pairs of names, "the governor says equal"
  is exactly "the engine finds the table" (DuckDB file, PostgreSQL);
* every code point whose case mapping (lower, upper or case folding) lands in ASCII, on both
  engines, as CTE names, table aliases, column aliases and table names around the products and a
  non-product table (hr_salaries): never a raw value, never a physical table read unmasked;
* a property test over identifiers drawn from the whole Unicode range in those positions.
"""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from querying.governor import QueryRefused, govern
from querying.governor.names import ascii_lower, confusable, fold, loose
from querying.warehouses import Warehouse, WarehouseError
from tests.querying.conftest import FORBIDDEN, PII, leaked, make_policy

ASCII_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _maps_to_ascii(char: str) -> set[str]:
    """The ASCII letters ``char`` turns into under Unicode case mapping (empty if none)."""
    found: set[str] = set()
    mappings = (char.lower(), char.upper(), char.casefold())
    if mappings == (char, char, char):  # most code points: nothing to look at (fast path)
        return found
    for mapped in mappings:
        letters = "".join(c for c in mapped.lower() if c in ASCII_LETTERS)
        if mapped != char and letters:
            found.add(letters)
    return found


CASE_MAPPED = [
    chr(cp)
    for cp in range(0x80, sys.maxunicode + 1)
    if not 0xD800 <= cp <= 0xDFFF and _maps_to_ascii(chr(cp))
]
# Names the attack aims at: product tables, product names, a non-product table, columns.
TARGETS = (
    "marketing_campaign_attribution",
    "campaign_attribution",
    "sales_orders",
    "orders",
    "hr_salaries",
    "secrets",
    "web_events",
    "finance_ledger",
    "staff_waffle_fluffiest_class",
)


def test_every_case_mapping_into_ascii_is_covered() -> None:
    # The known ones, so the enumeration above cannot silently come out empty.
    for char in ("\u212a", "\u017f", "\u0130", "\u0131", "\u00df", "\ufb00", "\ufb01"):
        assert char in CASE_MAPPED
    assert len(CASE_MAPPED) >= 10


def _variants(char: str) -> list[tuple[str, str]]:
    """(look-alike, target) pairs: ``target`` with the letters ``char`` maps to replaced."""
    out = []
    for mapped in sorted(_maps_to_ascii(char)):
        for target in TARGETS:
            if mapped in target:
                out.append((target.replace(mapped, char, 1), target))
                break
    return out


def _attacks(char: str) -> list[str]:
    queries = []
    for alike, target in _variants(char):
        for name in (alike, f'"{alike}"'):
            # A CTE named like the table, then the table: the engine must not read it raw.
            queries.append(f"WITH {name} AS (SELECT 1 AS user_id) SELECT * FROM {target}")
            queries.append(
                f"WITH {name} AS (SELECT 1 AS x) SELECT * FROM {target} UNION ALL "
                f"SELECT * FROM {target}"
            )
            # The table under its look-alike name, and look-alike aliases.
            queries.append(f"SELECT * FROM {name}")
            queries.append(f"SELECT {name}.* FROM campaign_attribution AS {name}")
            queries.append(f"SELECT email AS {name} FROM campaign_attribution")
    return queries


def _run_attack(sql: str, dialect: str, warehouse: Warehouse) -> str:
    """Govern and run ``sql``; fail on any raw value. Returns the outcome for the summary."""
    try:
        governed = govern(
            sql, make_policy(), dialect=dialect, pii_columns=PII, forbidden_names=FORBIDDEN
        )
    except QueryRefused as refusal:
        assert not leaked(refusal.message), (sql, refusal.message)
        return refusal.code
    try:
        result = warehouse.execute(
            governed.sql, timeout_s=10, max_rows=governed.max_rows, session=governed.session
        )
    except WarehouseError as exc:
        assert not leaked(str(exc).replace(governed.sql, "")), (sql, str(exc)[:300])
        return "engine error"
    shown = repr(result.rows) + repr(result.columns)
    assert not leaked(shown), (sql, shown[:300])
    return "rows"


@pytest.mark.parametrize(
    "dialect", ["duckdb", pytest.param("postgres", marks=pytest.mark.integration)]
)
def test_no_code_point_whose_case_maps_into_ascii_reads_a_table_raw(
    request: pytest.FixtureRequest, dialect: str
) -> None:
    warehouse = request.getfixturevalue("gov_duckdb" if dialect == "duckdb" else "gov_postgres")
    outcomes: dict[str, int] = {}
    for char in CASE_MAPPED:
        for sql in _attacks(char):
            outcome = _run_attack(sql, dialect, warehouse)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    # Every attack was either refused or ran masked (_run_attack asserts it).
    attacked = [char for char in CASE_MAPPED if _variants(char)]
    assert len(attacked) >= 10
    assert sum(outcomes.values()) == 10 * sum(len(_variants(c)) for c in attacked)
    assert outcomes.get("AMBIGUOUS_NAME", 0) >= len(attacked), outcomes


NFKC_ALIKE = [
    chr(cp)
    for cp in range(0x80, sys.maxunicode + 1)
    if not 0xD800 <= cp <= 0xDFFF
    # Fast path: a code point NFKC and case folding leave alone stays non-ASCII under loose().
    and not (unicodedata.is_normalized("NFKC", chr(cp)) and chr(cp).casefold() == chr(cp))
    and (mapped := loose(chr(cp))).isascii()
    and mapped.isalpha()
    and not _maps_to_ascii(chr(cp))
]


def test_compatibility_look_alikes_of_a_table_name_are_refused_as_cte_names() -> None:
    # Fullwidth and mathematical letters (NFKC folds them to ASCII; the engines do not).
    assert len(NFKC_ALIKE) > 500
    for char in NFKC_ALIKE:
        target = next((t for t in TARGETS if loose(char) in t), None)
        if target is None:
            continue
        alike = target.replace(loose(char), char, 1)
        sql = f'WITH "{alike}" AS (SELECT 1 AS user_id) SELECT * FROM {target}'
        for dialect in ("duckdb", "postgres"):
            with pytest.raises(QueryRefused) as refused:
                govern(sql, make_policy(), dialect=dialect, forbidden_names=FORBIDDEN)
            assert refused.value.code == "AMBIGUOUS_NAME", (ascii(char), refused.value.code)


def test_the_kelvin_sign_cte_is_refused_not_taken_for_the_table() -> None:
    sql = 'WITH "mar\u212aeting_campaign_attribution" AS (SELECT 1 AS user_id) ' + (
        "SELECT * FROM marketing_campaign_attribution"
    )
    for dialect in ("duckdb", "postgres"):
        with pytest.raises(QueryRefused) as refused:
            govern(sql, make_policy(), dialect=dialect)
        assert refused.value.code == "AMBIGUOUS_NAME"


def test_non_ascii_names_written_the_same_way_everywhere_still_work(gov_duckdb: Warehouse) -> None:
    sql = 'WITH "Größe" AS (SELECT revenue AS "Umsatz€" FROM campaign_attribution) ' + (
        'SELECT sum("Umsatz€") AS "Summe Größe" FROM "Größe"'
    )
    governed = govern(sql, make_policy(), dialect="duckdb")
    result = gov_duckdb.execute(governed.sql, timeout_s=10, session=governed.session)
    assert result.columns == ["Summe Größe"]
    assert result.rows[0][0] == sum(100 * i for i in range(12)) - 1


# --- the rule against each engine ------------------------------------------------------------

NAME_CHARS = st.characters(
    blacklist_categories=("Cs", "Cc", "Cf", "Zl", "Zp"), blacklist_characters='"\x00'
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.text(alphabet=NAME_CHARS, min_size=1, max_size=6),
    swap=st.sampled_from(["upper", "lower", "casefold", "nfkc", "same", "kelvin"]),
)
def test_fold_matches_duckdb_name_resolution(base: str, swap: str) -> None:
    import duckdb

    other = {
        "upper": base.upper(),
        "lower": base.lower(),
        "casefold": base.casefold(),
        "nfkc": unicodedata.normalize("NFKC", base),
        "same": base,
        "kelvin": base.replace("k", "\u212a").replace("K", "\u212a"),
    }[swap]
    conn = duckdb.connect()
    try:
        quoted = base.replace('"', '""')
        conn.execute(f'CREATE TABLE "{quoted}" (x INTEGER)')
        try:
            conn.execute(f'SELECT * FROM "{other}"')
            engine_equal = True
        except duckdb.CatalogException:
            engine_equal = False
    finally:
        conn.close()
    governor_equal = fold(base, quoted=True, dialect="duckdb") == fold(
        other, quoted=True, dialect="duckdb"
    )
    assert governor_equal == engine_equal, (ascii(base), ascii(other))


@pytest.mark.integration
def test_fold_matches_postgres_name_resolution() -> None:
    import psycopg

    from tests.support.pg import pg_admin_url

    url = pg_admin_url()
    pairs = [
        (name, quoted_a, variant, quoted_b)
        for name in (f"T{char}x" for char in [*CASE_MAPPED, "A", "é", "É", "e\u0301", "\u0130"])
        for variant in {name.lower(), name.upper(), name.casefold(), name}
        for quoted_a in (True, False)
        for quoted_b in (True, False)
    ]
    checked = 0
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS fold_test CASCADE")
        conn.execute("CREATE SCHEMA fold_test")
        try:
            for index, (created, quoted_a, asked, quoted_b) in enumerate(pairs):
                # A prefix per pair (ASCII, folded alike by both) keeps the tables apart.
                spelled = f'"p{index}_{created}"' if quoted_a else f"p{index}_{created}"
                asked_sql = f'"p{index}_{asked}"' if quoted_b else f"p{index}_{asked}"
                try:
                    conn.execute(f"CREATE TABLE fold_test.{spelled} (x int)")
                except psycopg.errors.SyntaxError:
                    continue  # not a valid unquoted name in PostgreSQL
                try:
                    conn.execute(f"SELECT * FROM fold_test.{asked_sql}")
                    engine_equal = True
                except (psycopg.errors.UndefinedTable, psycopg.errors.SyntaxError):
                    engine_equal = False
                governor_equal = fold(
                    f"p{index}_{created}", quoted=quoted_a, dialect="postgres"
                ) == (fold(f"p{index}_{asked}", quoted=quoted_b, dialect="postgres"))
                assert governor_equal == engine_equal, (ascii(spelled), ascii(asked_sql))
                checked += 1
        finally:
            conn.execute("DROP SCHEMA IF EXISTS fold_test CASCADE")
    assert checked > 100


def test_ascii_lower_folds_only_ascii() -> None:
    assert ascii_lower("MiXeD_09") == "mixed_09"
    assert ascii_lower("\u212aÉ\u0130") == "\u212aÉ\u0130"
    assert fold("Foo", quoted=True, dialect="postgres") == "Foo"
    assert fold("Foo", quoted=True, dialect="duckdb") == "foo"
    assert fold("Foo", quoted=False, dialect="postgres") == "foo"


def test_confusable_pairs_need_a_non_ascii_name() -> None:
    assert confusable([("Revenue", True), ("revenue", False)], dialect="postgres") is None
    assert confusable([("k", True), ("\u212a", True)], dialect="duckdb") == ("k", "\u212a")
    assert confusable([("é", True), ("e\u0301", True)], dialect="duckdb") == ("é", "e\u0301")
    assert confusable([("Größe", True), ("Größe", False)], dialect="duckdb") is None
    assert loose("\uff21") == "a"  # FULLWIDTH LATIN CAPITAL LETTER A


# --- the property test over the whole Unicode range --------------------------------------------

TEMPLATES = (
    "WITH {n} AS (SELECT 1 AS user_id) SELECT * FROM {t}",
    "WITH {n} AS (SELECT 1 AS user_id) SELECT * FROM {n}, {t}",
    "SELECT {n}.email, {n}.phone FROM {t} AS {n}",
    "SELECT count(DISTINCT phone) AS {n} FROM {t} GROUP BY campaign",
    "SELECT * FROM {n}",
    "WITH x AS (SELECT * FROM {t}) SELECT {n}.* FROM x AS {n}",
)
IDENTIFIER = st.text(alphabet=NAME_CHARS, min_size=1, max_size=12)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=IDENTIFIER,
    quoted=st.booleans(),
    template=st.sampled_from(TEMPLATES),
    target=st.sampled_from(TARGETS),
)
def test_generated_identifiers_never_read_a_table_raw_on_duckdb(
    gov_duckdb: Warehouse, name: str, quoted: bool, template: str, target: str
) -> None:
    spelled = f'"{name}"' if quoted else name
    _run_attack(template.format(n=spelled, t=target), "duckdb", gov_duckdb)


@pytest.mark.integration
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=IDENTIFIER,
    quoted=st.booleans(),
    template=st.sampled_from(TEMPLATES),
    target=st.sampled_from(TARGETS),
)
def test_generated_identifiers_never_read_a_table_raw_on_postgres(
    gov_postgres: Warehouse, name: str, quoted: bool, template: str, target: str
) -> None:
    spelled = f'"{name}"' if quoted else name
    _run_attack(template.format(n=spelled, t=target), "postgres", gov_postgres)
