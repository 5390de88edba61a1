"""A grant unmasks exactly its columns of its product, whatever the query's shape (issue 17).

The adversarial suite's warehouses (tests/querying/conftest.py), on DuckDB and PostgreSQL: the
policy a grant holder gets is the masked caller's with the granted columns unmasked
(``querying.governor.unmasked``, as ``querying.selectors.query_policy`` builds it). Every case
runs the governed SQL and checks each cell: the granted columns' raw values appear, and no
fragment of any other column's raw value (another column of the same product, the same column
name in another product) ever does, through stars, joins, CTEs, unions, subqueries, windows and
late-hashed aggregates. The result names each raw PII column with its grant.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from querying.governor import GovernedQuery, Policy, ProductPolicy, govern, unmasked
from querying.governor.policy import ColumnPolicy
from querying.warehouses import Warehouse
from tests.querying.conftest import (
    FORBIDDEN,
    PII,
    ROWS,
    TOTAL_CAMPAIGN_ROWS,
    email,
    make_policy,
    note,
    phone,
    snapshot,
    ssn,
    user_id,
)

TIMEOUT_S = 5.0
CAMPAIGN = "marketing.campaign_attribution"
ORDERS = "sales.orders"
# Fragments of each PII column's raw values (user_id's last four characters are shown by its
# mask, so its fragments are the part the mask hides).
FRAGMENTS: dict[tuple[str, str], tuple[str, ...]] = {
    (CAMPAIGN, "user_id"): ("UIDZQ", "9371-"),
    (CAMPAIGN, "email"): ("zelda", "quix"),
    (CAMPAIGN, "phone"): ("555-7", "-4242"),
    (CAMPAIGN, "ssn"): ("078-05",),
    (CAMPAIGN, "notes"): ("confidential",),
    # Orders 0..4 hold campaign users 0..4's ids and phones: the same raw values.
    (ORDERS, "user_id"): ("UIDZQ", "9371-"),
    (ORDERS, "customer_phone"): ("555-7", "-4242"),
}


def granted(grants: dict[str, dict[str, str]]) -> Policy:
    """The masked caller's policy with ``grants`` (product id -> column -> basis) unmasked."""
    base = make_policy()
    products = tuple(
        ProductPolicy(
            product_id=p.product_id,
            table=p.table,
            columns=unmasked(p.columns, grants.get(p.product_id, {})),
            names=p.names,
            refusal=p.refusal,
            refusal_code=p.refusal_code,
            warning=p.warning,
        )
        for p in base.products
    )
    return Policy(products=products, hash_key=base.hash_key, max_rows=base.max_rows)


def run(warehouse: Warehouse, sql: str, policy: Policy) -> tuple[GovernedQuery, list[tuple]]:
    before = snapshot(warehouse)
    governed = govern(
        sql, policy, dialect=warehouse.dialect, pii_columns=PII, forbidden_names=FORBIDDEN
    )
    result = warehouse.execute(
        governed.sql, timeout_s=TIMEOUT_S, max_rows=governed.max_rows, session=governed.session
    )
    assert snapshot(warehouse) == before
    return governed, [tuple(r) for r in result.rows]


def leaked(rows: list[tuple], allowed: set[tuple[str, str]]) -> list[str]:
    """Fragments of raw values of columns NOT in ``allowed`` found in ``rows``."""
    text = repr(rows).lower()
    allowed_fragments = {f.lower() for key in allowed for f in FRAGMENTS.get(key, ())}
    return sorted(
        fragment
        for key, fragments in FRAGMENTS.items()
        if key not in allowed
        for fragment in fragments
        if fragment.lower() in text and fragment.lower() not in allowed_fragments
    )


EMAIL_GRANT = {CAMPAIGN: {"email": "grant:7"}}
USER_GRANT = {CAMPAIGN: {"user_id": "grant:8"}}
ORDER_PHONE_GRANT = {ORDERS: {"customer_phone": "grant:9"}}
RowCheck = Callable[[list[tuple]], None]


def column(rows: list[tuple], index: int) -> list[object]:
    return [r[index] for r in rows]


def emails_raw(rows: list[tuple], index: int = 0, *, count: int | None = None) -> None:
    values = {v for v in column(rows, index) if v is not None}
    assert values and values <= {email(i) for i in range(ROWS)}, sorted(map(str, values))[:3]
    assert count is None or len(rows) == count, len(rows)


CASES: dict[str, tuple[dict[str, dict[str, str]], str, set[tuple[str, str]], RowCheck | None]] = {
    # name: (grants, sql, the (product, column) raw values may show for, extra check)
    "star": (
        EMAIL_GRANT,
        "SELECT * FROM campaign_attribution",
        {(CAMPAIGN, "email")},
        lambda rows: emails_raw(rows, 1, count=TOTAL_CAMPAIGN_ROWS),
    ),
    "qualified_star_join": (
        EMAIL_GRANT,
        "SELECT c.*, o.* FROM campaign_attribution c JOIN orders o ON c.user_id = o.user_id",
        {(CAMPAIGN, "email")},
        lambda rows: emails_raw(rows, 1),
    ),
    "same_column_name_in_another_product": (
        USER_GRANT,
        # The last equality ties the two tables (true for these rows): Spark refuses a join
        # without one (querying/warehouses/spark.py, relates_its_tables).
        "SELECT c.user_id AS mine, o.user_id AS theirs FROM campaign_attribution c, orders o "
        "WHERE o.order_id = 1 AND c.revenue = 100 AND o.order_id * 100 = c.revenue",
        {(CAMPAIGN, "user_id")},
        lambda rows: _assert(rows == [(user_id(1), "***0001")], rows),
    ),
    "cte": (
        EMAIL_GRANT,
        "WITH x AS (SELECT * FROM campaign_attribution), y AS (SELECT email, phone FROM x) "
        "SELECT * FROM y",
        {(CAMPAIGN, "email")},
        lambda rows: emails_raw(rows, 0),
    ),
    "union_with_another_column": (
        EMAIL_GRANT,
        "SELECT email FROM campaign_attribution UNION ALL SELECT user_id FROM "
        "campaign_attribution UNION ALL SELECT notes FROM campaign_attribution",
        {(CAMPAIGN, "email")},
        None,
    ),
    "union_with_another_product": (
        ORDER_PHONE_GRANT,
        "SELECT customer_phone AS p FROM orders UNION ALL SELECT phone FROM campaign_attribution",
        {(ORDERS, "customer_phone")},
        lambda rows: _assert(phone(1) in column(rows, 0), rows[:3]),
    ),
    "scalar_subqueries": (
        EMAIL_GRANT,
        "SELECT (SELECT max(email) FROM campaign_attribution) AS e, "
        "(SELECT max(ssn) FROM campaign_attribution) AS s, "
        "(SELECT max(user_id) FROM campaign_attribution) AS u",
        {(CAMPAIGN, "email")},
        lambda rows: _assert(rows[0][0] in {email(i) for i in range(ROWS)}, rows),
    ),
    "in_subquery_on_a_masked_column": (
        EMAIL_GRANT,
        "SELECT email FROM campaign_attribution WHERE user_id IN "
        "(SELECT user_id FROM orders WHERE order_id = 1)",
        {(CAMPAIGN, "email")},
        lambda rows: _assert(rows == [(email(1),)], rows),
    ),
    "window_over_a_masked_column": (
        EMAIL_GRANT,
        "SELECT email, first_value(phone) OVER (ORDER BY revenue) AS f FROM campaign_attribution",
        {(CAMPAIGN, "email")},
        None,
    ),
    "late_hashed_group_by": (
        EMAIL_GRANT,
        "SELECT phone, count(*) AS n FROM campaign_attribution WHERE phone IS NOT NULL "
        "GROUP BY phone",
        {(CAMPAIGN, "email")},
        lambda rows: _assert(
            len(rows) == ROWS and all(len(str(r[0])) == 32 for r in rows), rows[:3]
        ),
    ),
    "late_hashed_count_distinct": (
        EMAIL_GRANT,
        "SELECT count(DISTINCT phone) AS n, count(DISTINCT email) AS e FROM campaign_attribution",
        {(CAMPAIGN, "email")},
        lambda rows: _assert(rows == [(ROWS, ROWS)], rows),
    ),
    "granted_column_grouped": (
        EMAIL_GRANT,
        "SELECT email, count(*) AS n, max(user_id) AS u FROM campaign_attribution GROUP BY email",
        {(CAMPAIGN, "email")},
        lambda rows: emails_raw(rows, 0),
    ),
    "hash_column_granted_in_one_product_only": (
        ORDER_PHONE_GRANT,
        "SELECT o.customer_phone, c.phone FROM orders o JOIN campaign_attribution c "
        "ON o.user_id = c.user_id",
        {(ORDERS, "customer_phone")},
        lambda rows: _assert(all(len(str(r[1])) == 32 for r in rows) and rows, rows[:3]),
    ),
    "lateral_and_derived_table": (
        EMAIL_GRANT,
        "SELECT d.e, d.n FROM (SELECT email AS e, notes AS n FROM campaign_attribution) d",
        {(CAMPAIGN, "email")},
        None,
    ),
}


def _assert(condition: object, detail: object = None) -> None:
    assert condition, detail


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_grant_unmasks_only_its_columns_of_its_product(
    gov_warehouse: Warehouse, name: str
) -> None:
    grants, sql, allowed, check = CASES[name]
    governed, rows = run(gov_warehouse, sql, granted(grants))
    assert not leaked(rows, allowed), leaked(rows, allowed)
    # Every granted column of every product the query read, whichever columns it named.
    assert governed.raw_columns == {
        f"{product}.{col}": basis
        for product, cols in grants.items()
        if product in governed.products
        for col, basis in cols.items()
    }
    for raw in governed.raw_columns:
        assert raw not in governed.masked_columns
    if check is not None:
        check(rows)


def test_the_masked_caller_and_the_grant_holder_differ_only_in_the_granted_column(
    gov_warehouse: Warehouse,
) -> None:
    sql = "SELECT user_id, email, phone, ssn, notes FROM campaign_attribution WHERE revenue = 100"
    _, masked = run(gov_warehouse, sql, make_policy())
    governed, holder = run(gov_warehouse, sql, granted(EMAIL_GRANT))
    assert masked == [("***0001", "***@privmail1.test", masked[0][2], None, "[REDACTED]")]
    assert holder == [("***0001", email(1), masked[0][2], None, "[REDACTED]")]
    assert governed.raw_columns == {f"{CAMPAIGN}.email": "grant:7"}
    assert f"{CAMPAIGN}.email" not in governed.masked_columns


@pytest.mark.parametrize("seed", range(12))
def test_generated_grants_unmask_exactly_the_granted_columns(
    gov_duckdb: Warehouse, seed: int
) -> None:
    """Random subsets of both products' PII columns granted: SELECT * shows raw exactly those."""
    rng = random.Random(seed)
    pii = {
        CAMPAIGN: ["user_id", "email", "phone", "ssn", "notes"],
        ORDERS: ["user_id", "customer_phone"],
    }
    grants = {
        product: {c: f"grant:{seed}" for c in cols if rng.random() < 0.5}
        for product, cols in pii.items()
    }
    product = rng.choice(sorted(pii))
    table = "campaign_attribution" if product == CAMPAIGN else "orders"
    order = "revenue" if product == CAMPAIGN else "order_id"
    governed, rows = run(gov_duckdb, f"SELECT * FROM {table} ORDER BY {order}", granted(grants))
    policy = next(p for p in make_policy().products if p.product_id == product)
    names = [c.name for c in policy.columns]
    allowed = {(product, c) for c in grants[product]}
    assert not leaked(rows, allowed), (grants, leaked(rows, allowed))
    assert governed.raw_columns == {f"{product}.{c}": f"grant:{seed}" for c in grants[product]}
    raw_values = {"user_id": user_id, "email": email, "phone": phone, "ssn": ssn, "notes": note,
                  "customer_phone": phone}  # fmt: skip
    # User 0's row: campaigns sort the all-NULL row (revenue -1) first, orders start at 0.
    first = rows[1] if product == CAMPAIGN else rows[0]
    for position, name in enumerate(names):
        if name in grants[product]:
            assert first[position] == raw_values[name](0), (name, first)
        elif name in raw_values:
            assert first[position] != raw_values[name](0), (name, first)


def test_a_policy_column_without_a_basis_is_reported_as_unjustified() -> None:
    """The governor reports what it was given; querying.services refuses to run it."""
    base = make_policy()
    campaign = base.products[0]
    products = (
        ProductPolicy(
            product_id=campaign.product_id,
            table=campaign.table,
            columns=tuple(
                ColumnPolicy(c.name, None if c.name == "ssn" else c.mask, c.type)
                for c in campaign.columns
            ),
            names=campaign.names,
        ),
        *base.products[1:],
    )
    governed = govern(
        "SELECT ssn FROM campaign_attribution",
        Policy(products, base.hash_key, base.max_rows),
        dialect="duckdb",
        pii_columns=PII,
    )
    assert governed.raw_columns == {f"{CAMPAIGN}.ssn": ""}
