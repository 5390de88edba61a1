"""Check results are not a read channel (issue 21): custom SQL over PII, on both engines.

A custom check reads its product through the PII masks and must return one integer count; its
message is written by the portal; engine errors are scrubbed. The suite below is written as the
attacks that used to work (text results echoed, cast errors quoting values, characters
extracted one check at a time, string aggregates, membership tests against a guessed value):
each runs on a real DuckDB file and a real PostgreSQL, holding the governor suite's raw values,
and no raw fragment may appear in any outcome. Then, through the portal (DuckDB and
PostgreSQL warehouses), in the product API, the runs API, the product page, the e-mail and the
Slack payload.
"""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core import mail

from catalog.models import Column, Consumer, DataProduct, Domain, QualityCheck
from quality import services
from quality.checks import CheckSpec, ColumnSpec, ProductSpec, run_product
from querying.warehouses import Warehouse
from tests.querying.conftest import (  # noqa: F401 - the warehouses are fixtures
    HASH_KEY,
    email,
    gov_duckdb,
    gov_postgres,
    leaked,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
COLUMNS = (
    ("user_id", "string", "last4"),
    ("email", "string", "email"),
    ("phone", "string", "hash"),
    ("ssn", "string", "null"),
    ("notes", "string", "redact"),
    ("campaign", "string", None),
    ("revenue", "integer", None),
    ("event_date", "timestamp", None),
)
T = "campaign_attribution"
# The attacks: every one returned (or quoted) raw data before issue 21.
ATTACKS: dict[str, str] = {
    "text_result": f"SELECT email FROM {T} LIMIT 1",
    "text_rows": f"SELECT email FROM {T}",
    "string_agg": f"SELECT string_agg(email, ',') FROM {T}",
    "concat_all": f"SELECT max(user_id || ssn || notes || phone) FROM {T}",
    "cast_error_email": f"SELECT count(*) FROM {T} WHERE CAST(email AS INTEGER) > 0",
    "cast_error_user": f"SELECT sum(CAST(user_id AS INTEGER)) FROM {T}",
    "cast_error_notes": f"SELECT count(*) FROM {T} WHERE CAST(notes AS DATE) IS NULL",
    "cast_error_phone": f"SELECT min(CAST(phone AS BIGINT)) FROM {T}",
    "ascii_first_char": f"SELECT ascii(substr(email, 1, 1)) FROM {T} WHERE revenue = 100",
    "ascii_nth_char": f"SELECT max(ascii(substr(user_id, 3, 1))) FROM {T}",
    "length": f"SELECT max(length(ssn)) FROM {T}",
    "position": f"SELECT max(strpos(email, 'q')) FROM {T}",
    "membership": f"SELECT count(*) FROM {T} WHERE email = '{email(1)}'",
    "prefix_oracle": f"SELECT count(*) FROM {T} WHERE user_id LIKE 'UIDZQ%'",
    "hash_of_raw": f"SELECT count(*) FROM {T} WHERE md5(phone) = md5('+1-555-7001-4242')",
    "two_columns": f"SELECT count(*), max(email) FROM {T}",
    "fraction": f"SELECT avg(revenue) FROM {T}",
    "float": f"SELECT CAST(count(*) AS DOUBLE PRECISION) FROM {T}",
    "null": f"SELECT max(ssn) FROM {T}",
    "boolean": f"SELECT count(*) > 0 FROM {T}",
    "division": f"SELECT count(*) / 0 FROM {T}",
    "other_table": "SELECT count(*) FROM hr_salaries",
    "system_table": "SELECT count(*) FROM information_schema.tables",
    "key": "SELECT count(*) FROM campaign_attribution WHERE getvariable('portal_hash_key') = ''",
    "fine": f"SELECT count(*) FROM {T} WHERE email NOT LIKE '%@%'",
}
# What a masked reader gets for the oracles: the raw answer would have been 1 (or 12).
MASKED_ANSWERS = {"membership": 0.0, "prefix_oracle": 0.0, "hash_of_raw": 0.0, "fine": 0.0}


def _spec() -> ProductSpec:
    return ProductSpec(
        product_id="marketing.campaign_attribution",
        table="marketing_campaign_attribution",
        columns=tuple(
            ColumnSpec(name, type_, pii=mask is not None, mask=mask)
            for name, type_, mask in COLUMNS
        ),
        checks=tuple(
            CheckSpec(name, "custom_sql", "error", None, {"sql": sql})
            for name, sql in ATTACKS.items()
        ),
    )


@pytest.mark.parametrize(
    "engine", ["duckdb", pytest.param("postgres", marks=pytest.mark.integration)]
)
def test_no_custom_check_returns_or_quotes_a_raw_value(
    request: pytest.FixtureRequest, engine: str
) -> None:
    warehouse: Warehouse = request.getfixturevalue(f"gov_{engine}")
    report = run_product(warehouse, _spec(), now=NOW, hash_key=HASH_KEY)
    outcomes = {o.check_name: o for o in report.outcomes if o.check_name in ATTACKS}
    assert set(outcomes) == set(ATTACKS)
    for name, outcome in outcomes.items():
        assert not leaked(outcome.message), (name, outcome.message)
        assert len(outcome.message) <= 500, name
        if outcome.status == "error":
            assert outcome.value is None, name
    for name, answer in MASKED_ANSWERS.items():
        assert outcomes[name].value == answer, (name, outcomes[name].message)
    # Not a count: an error that says so, never the value.
    for name in ("text_result", "text_rows", "string_agg", "concat_all", "two_columns"):
        assert outcomes[name].status == "error", name
        assert "single count" in outcomes[name].message, outcomes[name].message
    for name in ("fraction", "float", "null", "boolean"):
        assert outcomes[name].status == "error" and "single count" in outcomes[name].message
    for name in ("other_table", "system_table", "key"):
        assert outcomes[name].message.startswith("custom SQL refused"), outcomes[name].message
    # Characters the masks show: '*' (42) of '***@…', never a letter of the raw value.
    assert outcomes["ascii_first_char"].value == 42.0
    assert outcomes["length"].status == "error"  # NULL: the ssn mask is NULL


# --- through the portal ---------------------------------------------------------------------


class Slack:
    """A Slack incoming webhook on 127.0.0.1 that keeps what it was sent."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        slack = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                slack.bodies.append(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slack"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def slack() -> Iterator[Slack]:
    server = Slack()
    yield server
    server.server.shutdown()
    server.server.server_close()


def _warehouse_url(warehouse: Warehouse) -> str:
    path = getattr(warehouse, "path", None)
    return f"duckdb://{path}" if path else str(warehouse.url)  # type: ignore[attr-defined]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "engine", ["duckdb", pytest.param("postgres", marks=pytest.mark.integration)]
)
def test_no_raw_value_reaches_the_api_the_page_the_mail_or_slack(
    request: pytest.FixtureRequest,
    engine: str,
    marketing: Domain,
    analyst: Any,
    api_as: Any,
    client: Any,
    slack: Slack,
    settings: Any,
) -> None:
    warehouse: Warehouse = request.getfixturevalue(f"gov_{engine}")
    settings.WAREHOUSE_URL = _warehouse_url(warehouse)
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.PII_HASH_KEY = HASH_KEY
    Domain.objects.filter(pk=marketing.pk).update(slack_webhook_url=slack.url)
    product = DataProduct.objects.create(
        product_id="marketing.campaign_attribution",
        domain=marketing,
        name="Campaign attribution",
        owner_team="Marketing",
        owner_contact="owners@example.com",
        sla_freshness="24h",
        sla_availability=99.5,
        sla_query_latency_p95_ms=2000,
        status="published",
        table="marketing_campaign_attribution",
        has_pii=True,
    )
    for i, (name, type_, mask) in enumerate(COLUMNS):
        Column.objects.create(
            product=product,
            position=i,
            name=name,
            type=type_,
            pii=mask is not None,
            mask=mask or "",
        )
    for i, (name, sql) in enumerate(ATTACKS.items()):
        QualityCheck.objects.create(
            product=product, position=i, name=name, type="custom_sql", params={"sql": sql}
        )
    Consumer.objects.create(product=product, team="Growth", use_case="ads", contact="g@example.com")

    run = services.check_run(product=product, trigger="manual")
    assert run.results.count() >= len(ATTACKS)
    assert mail.outbox and slack.bodies  # error-severity checks failed: both were told

    api = api_as(analyst)
    client.force_login(analyst)
    surfaces = {
        "product API": api.get(f"/v1/catalog/products/{product.product_id}").content,
        "runs API": api.get(f"/v1/quality/products/{product.product_id}/runs").content,
        "quality API": api.get(f"/v1/quality/products/{product.product_id}").content,
        "product page": client.get(f"/products/{product.product_id}/").content,
        "e-mail": "\n".join(f"{m.subject}\n{m.body}" for m in mail.outbox).encode(),
        "slack": json.dumps(slack.bodies).encode(),
    }
    for where, body in surfaces.items():
        text = body.decode("utf-8", "replace")
        for sql in ATTACKS.values():  # the contract's own SQL (the attack text) is not data
            for spelled in (sql, json.dumps(sql)[1:-1], html.escape(sql)):
                text = text.replace(spelled, "")
        assert not leaked(text), (where, leaked(text))
    assert b"single count" in surfaces["runs API"]


@pytest.mark.django_db
def test_the_migration_cleans_results_stored_before(marketing: Domain) -> None:
    from importlib import import_module

    from django.apps import apps

    from quality.models import CheckResult, CheckRun

    product = DataProduct.objects.create(
        product_id="marketing.old",
        domain=marketing,
        name="Old",
        sla_availability=99.5,
        sla_query_latency_p95_ms=2000,
        table="marketing_old",
    )
    run = CheckRun.objects.create(
        product=product, trigger="manual", run_key="old", message=f"failed on '{email(3)}'"
    )
    raw = email(1) * 20_000  # the 1 MB message of the report
    rows = {
        "echo": ("custom_sql", "error", f"custom SQL returned '{email(1)}', not a number", None),
        "big": ("custom_sql", "error", raw, None),
        "count": ("custom_sql", "failed", f"custom SQL returned 3 (passes at 0) {email(2)}", 3.0),
        "ok": ("custom_sql", "passed", "custom SQL returned 0", 0.0),
        "cast": ("range", "error", f"Conversion Error: Could not convert '{email(4)}'", None),
        "plain": ("not_null", "failed", "12 NULL values in email", 12.0),
    }
    for name, (type_, status, message, value) in rows.items():
        CheckResult.objects.create(
            run=run,
            check_name=name,
            check_type=type_,
            status=status,
            passed=status == "passed",
            severity="error",
            message=message,
            value=value,
            created_at=NOW,
        )

    import_module("quality.migrations.0002_scrub_check_messages").clean(apps, None)

    after = {r.check_name: r.message for r in CheckResult.objects.all()}
    for name, message in after.items():
        assert not leaked(message), (name, message)
        assert len(message) <= 300
    assert after["count"] == "custom SQL counted 3 rows, expected 0"
    assert after["ok"] == "custom SQL counted 0 rows"
    assert after["plain"] == "12 NULL values in email"  # not an error: left as it was
    assert not leaked(CheckRun.objects.get(pk=run.pk).message)
