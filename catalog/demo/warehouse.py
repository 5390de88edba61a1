"""Build the demo e-commerce warehouse: one DuckDB table per demo data product.

Pure Python: no Django import. ``seed_demo`` calls ``build_demo_warehouse``; tests call it too.

Invariants (tests/catalog/test_demo_warehouse.py):

- Deterministic: the same ``now`` and ``seed`` give the same rows. Every pseudo-random value is
  ``hash(row number, salt, seed)`` computed inside DuckDB (no Python ``random``, no
  ``random()``, whose order depends on thread scheduling).
- Relative to ``now``: fresh products have their newest timestamp well inside their freshness
  check; the deliberate problems (``catalog.demo.DELIBERATE_PROBLEMS``) are the only checks that
  fail on the generated data.
- Column order, names and types follow the contract; a non-nullable column is ``NOT NULL`` in
  the warehouse, except the one column whose NULLs are the demo's null violation. A recipe's
  ``extra`` columns follow the contract's: columns the contract does not declare (yet).
- Tables no product uses yet (``UNBOUND_TABLES``) are built with the full demo, so drafting a
  new product from a table can be tried (issue 15).
- Timestamps are ``TIMESTAMPTZ`` (instants, read back as aware datetimes), stored in UTC.
- Atomic: rows are written into ``<path>.tmp-<pid>`` in the same directory, the connection is
  closed, then the file is ``os.replace``d over ``path``. A DuckDB read-write connection locks
  the file against every other process, readers included, so the live file is never opened for
  writing; readers holding the old file keep reading it until they reconnect.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import duckdb

from . import load_demo_contracts

DUCKDB_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "float": "DOUBLE",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMPTZ",
    "json": "JSON",
    "array": "VARCHAR[]",
}


@dataclass(frozen=True)
class Recipe:
    """How to generate one product's rows.

    ``lets`` are helper values computed in order (each may use ``i`` and the earlier ones);
    ``columns`` maps every contract column to a SQL expression over ``i`` and the lets.
    ``nullable`` lists columns declared non-nullable that the warehouse leaves nullable on
    purpose (the demo's null violation).
    """

    rows: int
    columns: Mapping[str, str]
    lets: tuple[tuple[str, str], ...] = ()
    nullable: frozenset[str] = field(default_factory=frozenset)
    # Columns the table has and the contract does not declare: name -> (DuckDB type, SQL).
    extra: Mapping[str, tuple[str, str]] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# SQL helpers, created as TEMP macros on the build connection (never stored in the file).
#   h(i, k)            deterministic non-negative BIGINT from row i and salt k
#   u(i, k)            uniform DOUBLE in [0, 1)
#   ri(i, k, lo, hi)   uniform integer in [lo, hi]
#   pick(i, k, xs)     one element of list xs (repeat an element to weight it)
#   ago(s)             now minus s seconds;  days_ago(n): today's midnight (UTC) minus n days
#   spread(i, k, lag, span)  a time between now-lag-span and now-lag; row 0 is exactly now-lag,
#                      so every table's newest value is known in advance
# ---------------------------------------------------------------------------------------------

_FIRST = [
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Mateo", "Sofia", "Lucas", "Mia", "Elias",
    "Amara", "Yuki", "Priya", "Omar", "Chloe", "Leon", "Hannah", "Diego", "Zoe", "Arjun",
    "Grace", "Felix", "Lena", "Kwame", "Isla", "Hugo", "Nora", "Ravi", "Clara", "Tariq",
]  # fmt: skip
_LAST = [
    "Smith", "Garcia", "Müller", "Tanaka", "Okafor", "Rossi", "Dubois", "Novak", "Kim", "Silva",
    "Jensen", "Patel", "Nguyen", "Cohen", "Kowalski", "Andersson", "Haddad", "Moreau", "Lopez",
    "Schmidt", "Ivanova", "Brown", "Wilson", "Fischer", "Costa", "Larsen", "Sato", "Khan",
]  # fmt: skip
_STREETS = [
    "Maple Street", "Oak Avenue", "Canal Road", "Station Square", "Harbor Lane", "Elm Drive",
    "Market Street", "Park Row", "Mill Lane", "Cedar Court", "Bridge Street", "Hill Road",
]  # fmt: skip
_CITIES = [
    "Springfield, IL 62704", "Portland, OR 97205", "Austin, TX 78701", "Denver, CO 80202",
    "Boston, MA 02108", "Seattle, WA 98101", "London EC1A 1BB", "Berlin 10115",
    "Amsterdam 1012 AB", "Paris 75002", "Toronto, ON M5H 2N2", "Sydney NSW 2000",
]  # fmt: skip
_MAIL_DOMAINS = ["gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me", "gmx.de"]


def _sql_list(values: Iterable[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _macros(now: datetime, seed: int) -> list[str]:
    now_utc = now.astimezone(UTC)
    today = now_utc.replace(hour=0, minute=0, second=0, microsecond=0)
    five_min = now_utc.replace(minute=now_utc.minute - now_utc.minute % 5, second=0, microsecond=0)
    seed = int(seed)
    return [
        f"CREATE TEMP MACRO h(i, k) AS CAST(hash(i, k, {seed}) % 2147483647 AS BIGINT)",
        "CREATE TEMP MACRO u(i, k) AS h(i, k) / 2147483647.0",
        "CREATE TEMP MACRO ri(i, k, lo, hi) AS lo + h(i, k) % (hi - lo + 1)",
        "CREATE TEMP MACRO pick(i, k, xs) AS xs[1 + h(i, k) % len(xs)]",
        f"CREATE TEMP MACRO now_ts() AS TIMESTAMPTZ '{now_utc.isoformat()}'",
        f"CREATE TEMP MACRO today_ts() AS TIMESTAMPTZ '{today.isoformat()}'",
        f"CREATE TEMP MACRO bucket_ts() AS TIMESTAMPTZ '{five_min.isoformat()}'",
        "CREATE TEMP MACRO secs(n) AS "
        "to_microseconds(CAST(round(CAST(n AS DOUBLE) * 1000000) AS BIGINT))",
        "CREATE TEMP MACRO ago(n) AS now_ts() - secs(n)",
        "CREATE TEMP MACRO days_ago(n) AS today_ts() - to_days(CAST(n AS INTEGER))",
        "CREATE TEMP MACRO spread(i, k, lag, span) AS "
        "ago(lag + CASE WHEN i = 0 THEN 0 ELSE h(i, k) % (span) END)",
        # People: customer number n always gets the same name, e-mail, phone and address.
        f"CREATE TEMP MACRO first_name(n) AS pick(n, 'first', {_sql_list(_FIRST)})",
        f"CREATE TEMP MACRO last_name(n) AS pick(n, 'last', {_sql_list(_LAST)})",
        "CREATE TEMP MACRO full_name(n) AS first_name(n) || ' ' || last_name(n)",
        "CREATE TEMP MACRO email_of(n) AS "
        "lower(strip_accents(first_name(n) || '.' || last_name(n))) || CAST(n % 100 AS VARCHAR)"
        f" || '@' || pick(n, 'maildomain', {_sql_list(_MAIL_DOMAINS)})",
        "CREATE TEMP MACRO phone_of(n) AS "
        "printf('+1-%03d-555-%04d', ri(n, 'area', 201, 989), ri(n, 'line', 0, 9999))",
        "CREATE TEMP MACRO address_of(n) AS "
        f"printf('%d %s, %s', ri(n, 'house', 1, 2400), pick(n, 'street', {_sql_list(_STREETS)}),"
        f" pick(n, 'city', {_sql_list(_CITIES)}))",
        "CREATE TEMP MACRO ipv4(i, k) AS printf('%d.%d.%d.%d', ri(i, k || '1', 11, 223), "
        "ri(i, k || '2', 0, 255), ri(i, k || '3', 0, 255), ri(i, k || '4', 1, 254))",
        "CREATE TEMP MACRO customer(n) AS printf('cus-%06d', n)",
        "CREATE TEMP MACRO app_user(n) AS printf('usr-%06d', n)",
    ]


_CHANNELS = "['organic', 'paid', 'paid', 'email', 'referral', 'social', 'direct']"
_CENTERS = "['ams1', 'ber1', 'nyc1', 'lax1']"
_SERVICES = (
    "['checkout', 'cart', 'catalog', 'search', 'payments', 'accounts', 'shipping', "
    "'recommendations', 'inventory', 'notifications', 'gateway', 'pricing']"
)
_QUERIES = (
    "['running shoes', 'rain jacket', 'wireless earbuds', 'yoga mat', 'coffee grinder', "
    "'linen shirt', 'backpack', 'desk lamp', 'gift card', 'kids sneakers', 'water bottle', "
    "'sunglasses', 'wool socks', 'standing desk', 'phone case', 'cast iron pan', 'hoodie', "
    "'trail running shoes', 'bluetooth speaker', 'winter coat', 'sale', 'new arrivals', "
    "'vegan leather bag', 'glitter boots size 3', 'espresso machine', 'plant pot']"
)
_FEATURES = (
    "['one_click_checkout', 'wishlist_sharing', 'size_advisor', 'visual_search', "
    "'saved_carts', 'dark_mode', 'order_tracking_map', 'gift_wrapping', 'buy_now_pay_later', "
    "'product_videos', 'ar_try_on', 'subscriptions', 'loyalty_points', 'quick_reorder', "
    "'live_chat', 'price_alerts', 'outfit_builder', 'store_pickup', 'reviews_photos', "
    "'referral_rewards']"
)
_ENDPOINTS = (
    "['/api/v2/cart', '/api/v2/cart/{id}/items', '/api/v2/checkout', '/api/v2/checkout/pay', "
    "'/api/v2/products', '/api/v2/products/{sku}', '/api/v2/search', '/api/v2/recommendations', "
    "'/api/v2/accounts/me', '/api/v2/accounts/login', '/api/v2/orders', '/api/v2/orders/{id}', "
    "'/api/v2/shipping/quote', '/api/v2/shipping/{id}/track', '/api/v2/inventory/{sku}', "
    "'/api/v2/prices', '/api/v2/wishlist', '/api/v2/reviews', '/api/v2/notifications', "
    "'/api/v2/health']"
)
_ENDPOINT_SERVICES = (
    "['cart', 'cart', 'checkout', 'payments', 'catalog', 'catalog', 'search', "
    "'recommendations', 'accounts', 'accounts', 'checkout', 'checkout', 'shipping', 'shipping', "
    "'inventory', 'pricing', 'accounts', 'catalog', 'notifications', 'gateway']"
)
_ENDPOINT_METHODS = (
    "['GET', 'POST', 'POST', 'POST', 'GET', 'GET', 'GET', 'GET', 'GET', 'POST', 'GET', 'GET', "
    "'POST', 'GET', 'GET', 'GET', 'PUT', 'GET', 'DELETE', 'GET']"
)
DAY = 86_400

RECIPES: dict[str, Recipe] = {
    # -------------------------------------------------------------------------- marketing
    "marketing.campaign_attribution": Recipe(
        rows=20_000,
        lets=(
            ("ts", "spread(i, 'ts', 120, 30 * 86400)"),
            ("converted", "u(i, 'conv') < 0.3"),
        ),
        columns={
            "attribution_id": "printf('att-%08d', i + 1)",
            "user_id": "app_user(ri(i, 'user', 1, 60000))",
            "campaign_id": "printf('cmp-%04d', ri(i, 'campaign', 1, 120))",
            "channel": f"pick(i, 'channel', {_CHANNELS} || ['organic'])",
            "touchpoint_at": "ts",
            "conversion_at": "CASE WHEN converted THEN "
            "least(ts + secs(ri(i, 'lag', 60, 3 * 86400)), now_ts()) END",
            "revenue_cents": "CASE WHEN converted THEN ri(i, 'revenue', 500, 40000) END",
            "attribution_model": "pick(i, 'model', ['linear', 'time_decay', 'position_based'])",
        },
    ),
    "marketing.email_engagement": Recipe(
        rows=30_000,
        lets=(
            ("cust", "ri(i, 'cust', 1, 30000)"),
            (
                "ev",
                "pick(i, 'event', ['delivered', 'delivered', 'delivered', 'delivered', "
                "'opened', 'opened', 'opened', 'clicked', 'clicked', 'bounced', 'unsubscribed'])",
            ),
        ),
        columns={
            "event_id": "printf('esp-%08d', i + 1)",
            "recipient_email": "email_of(cust)",
            "customer_id": "CASE WHEN u(i, 'prospect') < 0.1 THEN NULL ELSE customer(cust) END",
            # The demo's null violation: transactional mails carry no campaign tag.
            "campaign_id": "CASE WHEN i % 40 = 7 THEN NULL "
            "ELSE printf('cmp-%04d', ri(i, 'campaign', 1, 120)) END",
            "engagement_event": "ev",
            "client_app": "CASE WHEN ev IN ('opened', 'clicked') THEN "
            "pick(i, 'app', ['Apple Mail', 'Gmail', 'Outlook', 'Yahoo Mail', 'Spark']) END",
            "link_url": "CASE WHEN ev = 'clicked' THEN "
            "'https://shop.example.com' || pick(i, 'link', ['/sale', '/new-arrivals', "
            "'/c/shoes', '/c/outerwear', '/gift-guide']) END",
            "occurred_at": "spread(i, 'ts', 180, 14 * 86400)",
        },
        nullable=frozenset({"campaign_id"}),
    ),
    "marketing.ad_spend_daily": Recipe(
        rows=4_380,  # 365 days x 12 campaign/platform lines
        lets=(
            ("line", "i % 12"),
            ("impr", "ri(i, 'impressions', 1000, 200000)"),
        ),
        columns={
            "spend_id": "printf('spd-%04d-%02d', i // 12, line)",
            "spend_date": "days_ago(i // 12)",
            "campaign_id": "printf('cmp-%04d', 1 + line * 7)",
            "ad_platform": "(['google_ads', 'meta', 'tiktok', 'linkedin', 'bing'])[1 + line % 5]",
            "impressions": "impr",
            "clicks": "CAST(floor(impr * (0.004 + u(i, 'ctr') * 0.03)) AS BIGINT)",
            "spend_cents": "ri(i, 'spend', 5000, 2500000)",
            "currency": "pick(i, 'cur', ['USD', 'USD', 'USD', 'EUR', 'GBP'])",
        },
        # In the table, not (yet) in the contract: the platforms started reporting it.
        extra={"conversions": ("BIGINT", "CAST(floor(u(i, 'conv') * 40) AS BIGINT)")},
    ),
    "marketing.customer_segments": Recipe(
        rows=30_000,
        lets=(("orders", "CASE WHEN u(i, 'never') < 0.08 THEN 0 ELSE ri(i, 'orders', 1, 40) END"),),
        columns={
            "customer_id": "customer(i + 1)",
            "segment_code": "CASE WHEN orders = 0 THEN 'new' ELSE pick(i, 'segment', "
            "['champions', 'loyal', 'loyal', 'promising', 'at_risk', 'hibernating']) END",
            "lifetime_value_cents": "orders * ri(i, 'aov', 1500, 15000)",
            "order_count": "orders",
            "last_order_at": "CASE WHEN orders > 0 THEN spread(i, 'last', 3600, 365 * 86400) END",
            "churn_probability": "round(u(i, 'churn'), 4)",
            "preferred_channel": f"pick(i, 'pref', {_CHANNELS})",
            "computed_at": "spread(i, 'computed', 7200, 900)",
        },
    ),
    "marketing.web_sessions": Recipe(
        rows=40_000,
        lets=(
            ("pages", "CASE WHEN u(i, 'bounce') < 0.4 THEN 1 ELSE ri(i, 'pages', 2, 25) END"),
            (
                "source",
                "CASE WHEN u(i, 'direct') < 0.3 THEN NULL ELSE pick(i, 'source', "
                "['google', 'facebook', 'instagram', 'newsletter', 'tiktok', 'partner']) END",
            ),
        ),
        columns={
            "session_id": "printf('ses-%08d', i + 1)",
            "visitor_ip": "ipv4(i, 'ip')",
            "landing_page": "pick(i, 'landing', ['/', '/', '/sale', '/new-arrivals', "
            "'/c/shoes', '/c/outerwear', '/p/' || printf('sku-%05d', ri(i, 'sku', 1, 5000)), "
            "'/blog/how-to-choose-running-shoes'])",
            "utm_source": "source",
            "utm_campaign": "CASE WHEN source IS NOT NULL THEN "
            "printf('cmp-%04d', ri(i, 'campaign', 1, 120)) END",
            "device_category": "pick(i, 'device', ['desktop', 'mobile', 'mobile', 'tablet'])",
            "started_at": "spread(i, 'ts', 60, 30 * 86400)",
            "duration_seconds": "CASE WHEN pages = 1 THEN ri(i, 'dur', 0, 30) "
            "ELSE pages * ri(i, 'dur', 10, 240) END",
            "pages_viewed": "pages",
            "bounced": "pages = 1",
        },
    ),
    # -------------------------------------------------------------------------- product
    "product.funnel_events": Recipe(
        rows=50_000,
        lets=(
            (
                "step",
                "pick(i, 'step', ['landing', 'landing', 'landing', 'landing', 'landing', "
                "'product_view', 'product_view', 'product_view', 'product_view', 'add_to_cart', "
                "'add_to_cart', 'checkout_start', 'payment', 'order_complete'])",
            ),
        ),
        columns={
            "event_id": "printf('fev-%09d', i + 1)",
            "session_id": "printf('ses-%08d', i // 4 + 1)",
            "user_id": "CASE WHEN u(i // 4, 'anon') < 0.55 THEN NULL "
            "ELSE app_user(ri(i // 4, 'user', 1, 60000)) END",
            "funnel_step": "step",
            "platform": "pick(i // 4, 'platform', ['web', 'web', 'web', 'ios', 'android'])",
            "product_sku": "CASE WHEN step IN ('product_view', 'add_to_cart') THEN "
            "printf('SKU-%05d', ri(i, 'sku', 1, 5000)) END",
            "properties": "CASE WHEN u(i, 'props') < 0.8 THEN json_object("
            "'referrer', pick(i, 'ref', ['google', 'instagram', 'newsletter', 'direct']), "
            "'ab_bucket', ri(i, 'bucket', 0, 99), 'app_version', "
            "pick(i, 'appv', ['5.2.0', '5.2.1', '5.3.0'])) END",
            "occurred_at": "spread(i, 'ts', 30, 7 * 86400)",
        },
    ),
    "product.feature_adoption": Recipe(
        rows=3_600,  # 20 features x 180 days
        lets=(("feature", "i % 20"), ("stage", "(['alpha', 'beta', 'ga', 'ga'])[1 + i % 20 % 4]")),
        columns={
            "adoption_id": "printf('fad-%03d-%02d', i // 20, feature)",
            "feature_key": f"({_FEATURES})[1 + feature]",
            "snapshot_date": "days_ago(i // 20)",
            "active_users": "ri(i, 'active', 50, 20000)",
            "adoption_rate": "round(u(i, 'rate') * 0.8, 4)",
            "rollout_stage": "stage",
            "is_enabled": "stage = 'ga'",
        },
    ),
    "product.experiment_results": Recipe(
        rows=3_600,  # 40 experiments x 3 variants x 30 days
        lets=(
            ("variant", "i % 3"),
            ("exposed", "ri(i, 'exposures', 200, 5000)"),
            ("converted", "CAST(floor(exposed * (0.01 + u(i, 'cr') * 0.08)) AS BIGINT)"),
        ),
        columns={
            "result_id": "printf('exr-%02d-%d-%02d', i // 3 % 40, variant, i // 120)",
            "experiment_key": "printf('exp-%03d', 100 + i // 3 % 40)",
            "variant_key": "(['control', 'treatment_a', 'treatment_b'])[1 + variant]",
            "result_date": "days_ago(i // 120)",
            "exposures": "exposed",
            "conversions": "converted",
            "conversion_rate": "round(converted / exposed, 5)",
            "p_value": "CASE WHEN variant = 0 THEN NULL ELSE round(u(i, 'p'), 4) END",
            "computed_at": "spread(i, 'computed', 1200, 3600)",
        },
    ),
    "product.search_queries": Recipe(
        rows=40_000,
        lets=(("found", "CASE WHEN u(i, 'zero') < 0.08 THEN 0 ELSE ri(i, 'found', 1, 480) END"),),
        columns={
            "query_id": "printf('srq-%08d', i + 1)",
            "user_id": "CASE WHEN u(i, 'anon') < 0.5 THEN NULL "
            "ELSE app_user(ri(i, 'user', 1, 60000)) END",
            "query_text": f"pick(i, 'query', {_QUERIES})",
            "results_count": "found",
            "clicked_position": "CASE WHEN found > 0 AND u(i, 'click') < 0.45 THEN "
            "least(found, ri(i, 'pos', 1, 48)) END",
            "zero_results": "found = 0",
            "latency_ms": "ri(i, 'latency', 8, 900)",
            "searched_at": "spread(i, 'ts', 45, 14 * 86400)",
        },
    ),
    "product.user_signups": Recipe(
        rows=25_000,
        lets=(("person", "100000 + i"),),
        columns={
            "signup_id": "printf('sgn-%07d', i + 1)",
            "user_id": "app_user(i + 1)",
            "email": "email_of(person)",
            "full_name": "CASE WHEN u(i, 'noname') < 0.05 THEN NULL ELSE full_name(person) END",
            "birth_date": "CASE WHEN u(i, 'nodob') < 0.35 THEN NULL "
            "ELSE days_ago(ri(i, 'age', 18 * 365, 75 * 365)) END",
            "signup_source": f"pick(i, 'source', {_CHANNELS})",
            "country_code": "pick(i, 'country', ['US', 'US', 'US', 'CA', 'GB', 'DE', 'FR', 'NL', "
            "'ES', 'AU'])",
            "marketing_opt_in": "u(i, 'optin') < 0.6",
            "signed_up_at": "spread(i, 'ts', 600, 180 * 86400)",
        },
    ),
    # -------------------------------------------------------------------------- finance
    "finance.orders_revenue": Recipe(
        rows=50_000,
        lets=(
            ("gross", "ri(i, 'gross', 1500, 400000)"),
            (
                "discount",
                "CASE WHEN u(i, 'disc') < 0.3 THEN gross * ri(i, 'pct', 5, 30) // 100 ELSE 0 END",
            ),
            ("tax", "(gross - discount) * 8 // 100"),
            (
                "method",
                "pick(i, 'pay', ['card', 'card', 'card', 'card', 'paypal', 'paypal', "
                "'apple_pay', 'gift_card', 'bank_transfer'])",
            ),
        ),
        columns={
            "order_id": "printf('ord-%08d', i + 1)",
            "customer_id": "customer(ri(i, 'cust', 1, 30000))",
            "order_status": "pick(i, 'status', ['placed', 'paid', 'shipped', 'shipped', "
            "'delivered', 'delivered', 'delivered', 'delivered', 'cancelled', 'refunded'])",
            "gross_cents": "gross",
            "discount_cents": "discount",
            "tax_cents": "tax",
            "net_cents": "gross - discount + tax",
            "currency": "pick(i, 'cur', ['USD', 'USD', 'USD', 'EUR', 'GBP'])",
            "payment_method": "method",
            "card_number": "CASE WHEN method = 'card' THEN printf('4%03d %04d %04d %04d', "
            "ri(i, 'c1', 0, 999), ri(i, 'c2', 0, 9999), ri(i, 'c3', 0, 9999), "
            "ri(i, 'c4', 0, 9999)) END",
            "sku_list": "list_transform(range(ri(i, 'items', 1, 4)), "
            "lambda x: printf('SKU-%05d', ri(i * 8 + x, 'sku', 1, 5000)))",
            "ordered_at": "spread(i, 'ts', 90, 90 * 86400)",
        },
    ),
    "finance.refunds": Recipe(
        rows=6_000,
        columns={
            "refund_id": "printf('rfd-%07d', i + 1)",
            "order_id": "printf('ord-%08d', ri(i, 'order', 1, 50000))",
            "customer_id": "customer(ri(i, 'cust', 1, 30000))",
            "refund_cents": "ri(i, 'amount', 100, 250000)",
            "reason_code": "pick(i, 'reason', ['damaged', 'late', 'wrong_item', "
            "'not_as_described', 'changed_mind', 'changed_mind', 'fraud'])",
            "is_partial": "u(i, 'partial') < 0.35",
            "approver_team": "pick(i, 'team', ['support', 'support', 'finance', 'fraud-ops'])",
            "refunded_at": "spread(i, 'ts', 900, 90 * 86400)",
        },
    ),
    "finance.invoices": Recipe(
        rows=12_000,
        lets=(
            ("acct", "ri(i, 'account', 1, 800)"),
            ("issued", "spread(i, 'ts', 3 * 3600, 365 * 86400)"),
            ("due", "issued + to_days(30)"),
            (
                "status",
                "CASE WHEN u(i, 'void') < 0.02 THEN 'void' "
                "WHEN due > now_ts() THEN CASE WHEN u(i, 'early') < 0.3 THEN 'paid' "
                "ELSE 'issued' END "
                "WHEN u(i, 'late') < 0.9 THEN 'paid' ELSE 'overdue' END",
            ),
        ),
        columns={
            "invoice_id": "printf('inv-%06d', i + 1)",
            "account_number": "printf('ACCT-%08d', 31000000 + acct * 3917)",
            "billing_email": "'ap+' || CAST(acct AS VARCHAR) || '@' || pick(acct, 'company', "
            "['northwind.example', 'contoso.example', 'globex.example', 'initech.example', "
            "'umbrella.example', 'hooli.example'])",
            "billing_address": "address_of(acct)",
            "amount_cents": "ri(i, 'amount', 5000, 5000000)",
            "currency": "pick(acct, 'cur', ['USD', 'USD', 'EUR', 'GBP'])",
            "invoice_status": "status",
            "issued_at": "issued",
            "due_at": "due",
            "paid_at": "CASE WHEN status = 'paid' THEN "
            "least(issued + secs(ri(i, 'payday', 3600, 45 * 86400)), now_ts()) END",
        },
    ),
    "finance.revenue_daily_legacy": Recipe(
        rows=2_920,  # 730 days x 4 regions, ending 90 days ago (the loader was switched off)
        lets=(
            ("orders", "ri(i, 'orders', 200, 5000)"),
            ("aov", "round(40 + u(i, 'aov') * 80, 2)"),
        ),
        columns={
            "revenue_date": "days_ago(90 + i // 4)",
            "region": "(['na', 'emea', 'apac', 'latam'])[1 + i % 4]",
            "gross_revenue_usd": "round(orders * aov, 2)",
            "order_count": "orders",
            "avg_order_value_usd": "aov",
        },
    ),
    # -------------------------------------------------------------------------- ops
    "ops.shipments": Recipe(
        rows=30_000,
        lets=(
            ("cust", "ri(i, 'cust', 1, 30000)"),
            ("shipped", "spread(i, 'ts', 1800, 60 * 86400)"),
            ("eta", "shipped + secs(3600 * ri(i, 'transit', 20, 120))"),
            ("problem", "u(i, 'exception') < 0.015"),
        ),
        columns={
            "shipment_id": "printf('shp-%08d', i + 1)",
            "order_id": "printf('ord-%08d', ri(i, 'order', 1, 50000))",
            "carrier": "pick(i, 'carrier', ['ups', 'ups', 'fedex', 'dhl', 'usps'])",
            "shipping_address": "address_of(cust)",
            "recipient_phone": "CASE WHEN u(i, 'nophone') < 0.15 THEN NULL ELSE phone_of(cust) END",
            "weight_grams": "ri(i, 'weight', 50, 25000)",
            "shipment_status": "CASE WHEN problem THEN 'exception' "
            "WHEN eta <= now_ts() THEN 'delivered' "
            "WHEN shipped > ago(3600) THEN 'label_created' "
            "WHEN eta - secs(6 * 3600) <= now_ts() THEN 'out_for_delivery' "
            "ELSE 'in_transit' END",
            "shipped_at": "shipped",
            "delivered_at": "CASE WHEN NOT problem AND eta <= now_ts() THEN eta END",
        },
    ),
    "ops.inventory_levels": Recipe(
        rows=12_000,  # 500 SKUs x 4 centers x 6 snapshots, 4 h apart, the newest ~30 h old
        lets=(("on_hand", "ri(i, 'onhand', 0, 800)"),),
        columns={
            "snapshot_id": "printf('snp-%d-%d-%05d', i // 2000, i // 500 % 4, i % 500 + 1)",
            "sku": "printf('SKU-%05d', i % 500 + 1)",
            "fulfilment_center": f"({_CENTERS})[1 + i // 500 % 4]",
            "on_hand_units": "on_hand",
            "reserved_units": "CAST(floor(on_hand * u(i, 'reserved') * 0.5) AS BIGINT)",
            "reorder_point": "ri(i % 500, 'reorder', 20, 150)",
            # Deliberately stale: the WMS export stopped 30 hours ago (4 h SLA).
            "snapshot_at": "ago(30 * 3600 + (i // 2000) * 4 * 3600)",
        },
    ),
    "ops.warehouse_sla": Recipe(
        rows=2_000,  # 4 centers x 500 days
        lets=(("rate", "round(0.85 + u(i, 'ontime') * 0.15, 4)"),),
        columns={
            "report_id": "printf('wsla-%s-%03d', (" + _CENTERS + ")[1 + i % 4], i // 4)",
            "fulfilment_center": f"({_CENTERS})[1 + i % 4]",
            "report_date": "days_ago(i // 4)",
            "orders_picked": "ri(i, 'picked', 300, 9000)",
            "on_time_rate": "rate",
            "avg_pick_minutes": "round(8 + u(i, 'pick') * 90, 1)",
            "sla_met": "rate >= 0.95",
        },
    ),
    "ops.support_tickets": Recipe(
        rows=20_000,
        lets=(
            ("cust", "ri(i, 'cust', 1, 30000)"),
            ("opened", "spread(i, 'ts', 300, 120 * 86400)"),
            (
                "status",
                "CASE WHEN opened > ago(86400) THEN pick(i, 'recent', ['open', 'open', 'pending', "
                "'solved']) ELSE pick(i, 'old', ['solved', 'closed', 'closed', 'closed']) END",
            ),
        ),
        columns={
            "ticket_id": "printf('tkt-%07d', i + 1)",
            "customer_id": "customer(cust)",
            "customer_email": "email_of(cust)",
            "contact_channel": "pick(i, 'channel', ['email', 'email', 'chat', 'chat', 'phone', "
            "'social'])",
            "priority": "pick(i, 'priority', ['low', 'normal', 'normal', 'normal', 'high', "
            "'urgent'])",
            "ticket_status": "status",
            "topics": "list_distinct([pick(i, 'topic1', ['delivery', 'returns', 'payment', "
            "'sizing', 'account', 'damaged_item'])] || CASE WHEN u(i, 'two') < 0.3 THEN "
            "[pick(i, 'topic2', ['refund', 'promo_code', 'delivery', 'exchange'])] "
            "ELSE [] END)",
            "opened_at": "opened",
            "first_response_minutes": "CASE WHEN status = 'open' AND u(i, 'waiting') < 0.5 "
            "THEN NULL ELSE ri(i, 'frt', 1, 600) END",
            "resolved_at": "CASE WHEN status IN ('solved', 'closed') THEN "
            "least(opened + secs(ri(i, 'ttr', 600, 3 * 86400)), now_ts()) END",
            "csat_score": "CASE WHEN status IN ('solved', 'closed') AND u(i, 'rated') < 0.4 "
            "THEN ri(i, 'csat', 1, 5) END",
        },
    ),
    "ops.supplier_deliveries": Recipe(
        rows=5_000,
        lets=(
            ("expected", "ago(ri(i, 'expected', -14 * 86400, 200 * 86400))"),
            ("arrived", "expected + secs(ri(i, 'delay', -2 * 86400, 5 * 86400))"),
            ("units", "ri(i, 'units', 50, 20000)"),
            ("received", "CASE WHEN arrived <= now_ts() THEN arrived END"),
        ),
        columns={
            "delivery_id": "printf('dlv-%06d', i + 1)",
            "po_number": "printf('PO-%07d', 3000000 + i // 2)",
            "supplier_code": "printf('SUP-%03d', ri(i, 'supplier', 1, 120))",
            "fulfilment_center": f"pick(i, 'center', {_CENTERS})",
            "units_expected": "units",
            "units_received": "CASE WHEN received IS NULL THEN 0 "
            "ELSE units - ri(i, 'short', 0, units // 20) END",
            "expected_at": "expected",
            "received_at": "received",
            "inspection_passed": "CASE WHEN received IS NOT NULL THEN u(i, 'qa') < 0.93 END",
            "recorded_at": "CASE WHEN i = 0 THEN ago(1800) ELSE least(ago(1800), "
            "coalesce(received, expected - to_days(10)) + secs(7200)) END",
        },
    ),
    # -------------------------------------------------------------------------- engineering
    "engineering.api_latency": Recipe(
        rows=40_320,  # 20 endpoints x 2016 five-minute buckets (7 days)
        lets=(
            ("endpoint_no", "i % 20"),
            ("p50", "round(20 + u(i, 'p50') * 80, 1)"),
            ("p95", "round(p50 * (1.5 + u(i, 'p95') * 2), 1)"),
        ),
        columns={
            "measurement_id": "printf('lat-%02d-%04d', endpoint_no, i // 20)",
            "service_key": f"({_ENDPOINT_SERVICES})[1 + endpoint_no]",
            "endpoint": f"({_ENDPOINTS})[1 + endpoint_no]",
            "http_method": f"({_ENDPOINT_METHODS})[1 + endpoint_no]",
            "bucket_start": "bucket_ts() - secs(300 * (i // 20))",
            "request_count": "ri(i, 'requests', 50, 5000)",
            "p50_ms": "p50",
            "p95_ms": "p95",
            "p99_ms": "round(p95 * (1.1 + u(i, 'p99')), 1)",
            "error_rate": "round(u(i, 'errors') * 0.02, 5)",
        },
    ),
    "engineering.deployments": Recipe(
        rows=3_000,
        columns={
            "deployment_id": "printf('dep-%06d', i + 1)",
            "service_key": f"pick(i, 'service', {_SERVICES})",
            "git_sha": "md5(printf('sha-%d', i)) || left(md5(printf('tail-%d', i)), 8)",
            "environment": "pick(i, 'env', ['staging', 'staging', 'production'])",
            "deployed_by_team": "pick(i, 'team', ['checkout-squad', 'discovery-squad', "
            "'platform', 'payments-squad', 'fulfilment-squad'])",
            "outcome": "pick(i, 'outcome', ['succeeded', 'succeeded', 'succeeded', 'succeeded', "
            "'succeeded', 'succeeded', 'succeeded', 'succeeded', 'failed', 'rolled_back'])",
            "started_at": "spread(i, 'ts', 1200, 180 * 86400)",
            "duration_seconds": "ri(i, 'duration', 60, 1800)",
        },
    ),
    "engineering.incidents_log": Recipe(
        rows=2_000,
        lets=(
            (
                "sev",
                "pick(i, 'sev', ['sev1', 'sev2', 'sev2', 'sev3', 'sev3', 'sev3', 'sev4', "
                "'sev4', 'sev4', 'sev4'])",
            ),
            ("service", f"pick(i, 'service', {_SERVICES})"),
            ("opened", "spread(i, 'ts', 6 * 3600, 700 * 86400)"),
            ("ttr", "ri(i, 'ttr', 5, 2880)"),
            (
                "resolved",
                "CASE WHEN opened + secs(60 * ttr) <= now_ts() THEN opened + secs(60 * ttr) END",
            ),
        ),
        columns={
            "incident_id": "printf('INC-%05d', i + 1)",
            "severity_level": "sev",
            "service_key": "service",
            "title": "service || ': ' || pick(i, 'title', ['elevated 5xx error rate', "
            "'p95 latency above SLO', 'queue backlog growing', 'third-party API timeouts', "
            "'database failover', 'certificate expiry warning', 'cache stampede'])",
            "opened_at": "opened",
            "resolved_at": "resolved",
            "minutes_to_resolve": "CASE WHEN resolved IS NOT NULL THEN ttr END",
            "external_impact": "sev IN ('sev1', 'sev2') OR u(i, 'impact') < 0.1",
            "postmortem_url": "CASE WHEN sev IN ('sev1', 'sev2') OR u(i, 'pm') < 0.1 THEN "
            "printf('https://wiki.example.com/postmortems/INC-%05d', i + 1) END",
        },
    ),
    "engineering.error_events": Recipe(
        rows=50_000,
        lets=(
            ("service", f"pick(i, 'service', {_SERVICES})"),
            ("kind", "ri(i, 'kind', 1, 6)"),
        ),
        columns={
            "error_id": "printf('err-%09d', i + 1)",
            "service_key": "service",
            "error_class": "(['TimeoutError', 'ConnectionResetError', 'ValidationError', "
            "'KeyError', 'PaymentDeclined', 'RateLimitExceeded'])[kind]",
            "message": "(['upstream request timed out after 5000 ms', 'connection reset by peer', "
            "'invalid field: quantity must be positive', 'missing key: shipping_option', "
            "'card issuer declined the payment', 'too many requests'])[kind]",
            "fingerprint": "left(md5(service || '/' || CAST(kind AS VARCHAR)), 16)",
            "http_status": "([504, 502, 422, 500, 402, 429])[kind]",
            "release_version": "printf('2026.%02d.%d', ri(i, 'minor', 1, 11), "
            "ri(i, 'patch', 0, 9))",
            "client_ip": "CASE WHEN u(i, 'internal') < 0.05 THEN NULL ELSE ipv4(i, 'ip') END",
            "user_id": "CASE WHEN u(i, 'anon') < 0.5 THEN NULL "
            "ELSE app_user(ri(i, 'user', 1, 60000)) END",
            "context": "json_object('route', pick(i, 'route', " + _ENDPOINTS + "), "
            "'browser', pick(i, 'browser', ['Chrome', 'Safari', 'Firefox', 'Edge', 'iOS app', "
            "'Android app']))",
            "occurred_at": "spread(i, 'ts', 20, 7 * 86400)",
        },
    ),
}


@dataclass(frozen=True)
class UnboundTable:
    """A warehouse table no demo product uses yet: columns as (DuckDB type, SQL over ``i``)."""

    rows: int
    columns: Mapping[str, tuple[str, str]]
    lets: tuple[tuple[str, str], ...] = ()


UNBOUND_TABLES: dict[str, UnboundTable] = {
    # Sign-ups to the newsletter, loaded by the marketing team's pipeline; personal data of
    # every kind the draft finds, and look-alikes it must not flag (email_opened, campaign_id).
    "marketing_newsletter_signups": UnboundTable(
        rows=12_000,
        lets=(("cust", "ri(i, 'cust', 1, 30000)"), ("note", "u(i, 'note')")),
        columns={
            "signup_id": ("VARCHAR NOT NULL", "printf('nls-%07d', i + 1)"),
            "email": ("VARCHAR NOT NULL", "email_of(cust)"),
            "full_name": ("VARCHAR", "full_name(cust)"),
            "phone": ("VARCHAR", "CASE WHEN u(i, 'phone') < 0.3 THEN NULL ELSE phone_of(cust) END"),
            "postal_address": ("VARCHAR", "address_of(cust)"),
            "birth_date": (
                "DATE",
                "DATE '1950-01-01' + CAST(ri(cust, 'born', 0, 18000) AS INTEGER)",
            ),
            "customer_id": ("VARCHAR", "customer(cust)"),
            "country": (
                "VARCHAR NOT NULL",
                "pick(i, 'country', ['US', 'US', 'DE', 'GB', 'FR', 'NL'])",
            ),
            "signup_source": (
                "VARCHAR NOT NULL",
                "pick(i, 'source', "
                "['footer_form', 'checkout', 'checkout', 'popup', 'landing_page'])",
            ),
            "campaign_id": ("VARCHAR", "printf('cmp-%04d', ri(i, 'campaign', 1, 120))"),
            "email_opened": ("BOOLEAN NOT NULL", "u(i, 'opened') < 0.4"),
            "open_count": ("BIGINT NOT NULL", "ri(i, 'opens', 0, 60)"),
            "signup_note": (
                "VARCHAR",
                "CASE WHEN note < 0.03 THEN 'Please call me on ' || phone_of(cust) "
                "WHEN note < 0.06 THEN 'Send the coupon to my work address ' || email_of(cust + 7) "
                "WHEN note < 0.5 THEN NULL ELSE pick(i, 'msg', ['Love the new collection', "
                "'Interested in running gear', 'Only sale alerts please', "
                "'Found you on Instagram', 'Gift for my sister']) END",
            ),
            "signed_up_at": ("TIMESTAMPTZ NOT NULL", "spread(i, 'ts', 300, 60 * 86400)"),
        },
    ),
}


def _create_unbound(name: str, table: UnboundTable) -> tuple[str, str]:
    """CREATE TABLE and INSERT ... SELECT of one unbound table."""
    columns = ", ".join(f"{_quote(c)} {t}" for c, (t, _) in table.columns.items())
    source = f"(SELECT range AS i FROM range({int(table.rows)}))"
    for let, expr in table.lets:
        source = f"(SELECT *, {expr} AS {_quote(let)} FROM {source})"
    select = ", ".join(expr for _, expr in table.columns.values())
    return (
        f"CREATE TABLE {_quote(name)} ({columns})",
        f"INSERT INTO {_quote(name)} SELECT {select} FROM {source} ORDER BY i",
    )


def duckdb_path(url: str) -> Path | None:
    """The file behind a ``duckdb:///…`` URL, or None for another warehouse."""
    parsed = urlparse(url)
    if parsed.scheme != "duckdb":
        return None
    path = unquote(parsed.netloc + parsed.path)
    return Path("/" + path.lstrip("/")) if path.startswith("/") else Path(path)


def table_name(contract: Mapping[str, Any]) -> str:
    """The physical table: the contract's ``table``, or ``<domain>_<product_name>``."""
    return contract.get("table") or str(contract["id"]).replace(".", "_", 1).replace("-", "_")


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _create_sql(contract: Mapping[str, Any], recipe: Recipe | None) -> str:
    allowed_nulls = recipe.nullable if recipe else frozenset()
    parts = []
    for col in contract["schema"]:
        name = col["column"]
        sql_type = DUCKDB_TYPES[col["type"]]
        not_null = col.get("nullable", True) is False and name not in allowed_nulls
        parts.append(f"{_quote(name)} {sql_type}{' NOT NULL' if not_null else ''}")
    for name, (sql_type, _) in (recipe.extra if recipe else {}).items():
        parts.append(f"{_quote(name)} {sql_type}")
    return f"CREATE TABLE {_quote(table_name(contract))} ({', '.join(parts)})"


_FILLER = {
    "string": "printf('%s-%06d', {name!r}, i + 1)",
    "integer": "ri(i, {name!r}, 0, 1000)",
    "float": "round(u(i, {name!r}), 4)",
    "boolean": "u(i, {name!r}) < 0.5",
    "timestamp": "spread(i, {name!r}, 60, 7 * 86400)",
    "json": "json_object('n', i)",
    "array": "[printf('%s-%d', {name!r}, i % 10)]",
}


def _insert_sql(contract: Mapping[str, Any], recipe: Recipe | None) -> str:
    """INSERT ... SELECT over range(rows); each let is one nested subquery level."""
    table = _quote(table_name(contract))
    if recipe is None:  # a contract the demo has no recipe for: plain filler data by type
        recipe = Recipe(
            rows=2_000,
            columns={
                c["column"]: _FILLER[c["type"]].format(name=c["column"]) for c in contract["schema"]
            },
        )
    missing = [c["column"] for c in contract["schema"] if c["column"] not in recipe.columns]
    if missing:
        raise ValueError(f"{contract['id']}: no demo data for column(s) {', '.join(missing)}")
    source = f"(SELECT range AS i FROM range({int(recipe.rows)}))"
    for name, expr in recipe.lets:
        source = f"(SELECT *, {expr} AS {_quote(name)} FROM {source})"
    exprs = [recipe.columns[c["column"]] for c in contract["schema"]]
    exprs += [expr for _, expr in recipe.extra.values()]
    return f"INSERT INTO {table} SELECT {', '.join(exprs)} FROM {source} ORDER BY i"


def _remove(path: str, *, only_wal: bool = False) -> None:
    for candidate in (path + ".wal",) if only_wal else (path, path + ".wal"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(candidate)


def build_demo_warehouse(
    path: str | Path,
    *,
    now: datetime,
    seed: int = 42,
    contracts: list[dict[str, Any]] | None = None,
    unbound: bool | None = None,
) -> dict[str, int]:
    """Write the demo warehouse to ``path`` atomically; return ``{table: row count}``.

    ``now`` anchors every timestamp (naive means UTC); ``contracts`` defaults to the 23 demo
    contracts. ``unbound`` adds ``UNBOUND_TABLES`` (default: with the default contracts).
    Safe to run again: the new file replaces the old one in one ``os.replace``.
    """
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    if unbound is None:
        unbound = contracts is None
    if contracts is None:
        contracts = load_demo_contracts()
    target = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(target))
    os.makedirs(directory, exist_ok=True)
    tmp = f"{target}.tmp-{os.getpid()}"
    _remove(tmp)  # a leftover of a crashed build by a process with the same pid
    counts: dict[str, int] = {}
    try:
        conn = duckdb.connect(tmp)
        try:
            conn.execute("SET TimeZone = 'UTC'")
            for statement in _macros(now, seed):
                conn.execute(statement)
            for contract in contracts:
                recipe = RECIPES.get(contract["id"])
                table = table_name(contract)
                conn.execute(_create_sql(contract, recipe))
                conn.execute(_insert_sql(contract, recipe))
                row = conn.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()
                counts[table] = int(row[0]) if row else 0
            for name, spec in UNBOUND_TABLES.items() if unbound else ():
                for statement in _create_unbound(name, spec):
                    conn.execute(statement)
                row = conn.execute(f"SELECT count(*) FROM {_quote(name)}").fetchone()
                counts[name] = int(row[0]) if row else 0
            conn.execute("CHECKPOINT")
        finally:
            conn.close()
        # The old file's WAL (left by a crashed writer) must not be replayed onto the new file.
        _remove(target, only_wal=True)
        os.replace(tmp, target)
    except BaseException:
        _remove(tmp)
        raise
    return counts
