"""The health verdict stored on the product (issue 14): quality writes the facts after every
finished run, every incident transition and on the beat's refresh; every surface judges them
at the time of the request, with the same rule (quality/health.py) and the same result as the
facts measured from quality's tables."""

from __future__ import annotations

import ast
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from catalog.models import DataProduct
from quality import selectors, services, tasks
from quality.health import (
    MAX_CHECK_REASONS,
    QUALITY_INCIDENT,
    STALE_INCIDENT,
    HealthFacts,
    IncidentFact,
    ResultFact,
    facts_from_stored,
    facts_to_stored,
    health_of,
    sla_from_stored,
    sla_status_of,
)
from quality.incidents import incident_acknowledge, incident_resolve
from quality.models import CheckRun, Incident
from querying.models import QueryLog, QueryProductUse
from tests.quality.test_quality_incidents import PID, rebuild

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]

MESSAGES = st.one_of(
    st.text(max_size=400),
    st.sampled_from(["", " ", "  \n\t ", "x" * 1000, "a  b\n\nc", "é" * 250 + " tail"]),
)
RESULTS = st.lists(
    st.builds(
        ResultFact,
        check_name=st.text(min_size=1, max_size=20),
        status=st.sampled_from(["passed", "failed", "error"]),
        severity=st.sampled_from(["error", "warning", "info"]),
        message=MESSAGES,
    ),
    max_size=20,
)
INCIDENTS = st.lists(
    st.builds(
        IncidentFact,
        kind=st.sampled_from([STALE_INCIDENT, QUALITY_INCIDENT, "other_thing"]),
        message=MESSAGES,
        opened_at=st.datetimes(
            min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
        ),
    ),
    max_size=3,
)
OPTIONAL_FLOAT = st.one_of(st.none(), st.floats(min_value=0, max_value=1e6))


def read_back(facts: HealthFacts, stored: dict[str, Any]) -> HealthFacts:
    """The facts a surface judges: the product's columns and the stored JSON, as saved."""
    return facts_from_stored(
        json.loads(json.dumps(stored)),
        product_id=facts.product_id,
        freshness_sla=facts.freshness_sla,
        freshness_limit_h=facts.freshness_limit_h,
        newest_data_at=facts.newest_data_at,
        quality_score=facts.quality_score,
        availability_target=facts.availability_target,
        latency_target_ms=facts.latency_target_ms,
    )


@given(
    results=RESULTS,
    incidents=INCIDENTS,
    checked=st.booleans(),
    reachable=st.sampled_from([True, False, None]),
    age_h=st.one_of(st.none(), st.floats(min_value=0, max_value=5000)),
    later_h=st.floats(min_value=0, max_value=500),
    availability=OPTIONAL_FLOAT,
    latency=OPTIONAL_FLOAT,
    score=st.one_of(st.none(), st.floats(min_value=0, max_value=100)),
)
def test_the_stored_facts_give_the_verdict_and_reasons_the_measured_ones_give_at_any_time(
    results: list[ResultFact],
    incidents: list[IncidentFact],
    checked: bool,
    reachable: bool | None,
    age_h: float | None,
    later_h: float,
    availability: float | None,
    latency: float | None,
    score: float | None,
) -> None:
    facts = HealthFacts(
        product_id="marketing.campaign_attribution",
        freshness_sla="1h",
        freshness_limit_h=1.0,
        newest_data_at=None if age_h is None else NOW - timedelta(hours=age_h),
        last_run_at=NOW - timedelta(minutes=5) if checked else None,
        table_reachable=reachable if checked else None,
        results=tuple(results) if checked else (),
        open_incidents=tuple(incidents),
        quality_score=score,
        availability_pct=availability,
        availability_target=99.5,
        latency_p95_ms=latency,
        latency_target_ms=2000.0,
    )
    stored = facts_to_stored(facts, last_run_id=7 if checked else None)
    # Judged when stored, and hours later (the data has aged; nothing was written).
    for now in (NOW, NOW + timedelta(hours=later_h)):
        assert health_of(read_back(facts, stored), now=now) == health_of(facts, now=now)


def test_many_long_failures_are_stored_small_and_still_counted() -> None:
    failures = tuple(ResultFact(f"check_{i}", "failed", "error", "x" * 5000) for i in range(300))
    facts = HealthFacts("d.p", "1h", 1.0, NOW, last_run_at=NOW, results=failures)
    stored = facts_to_stored(facts)
    assert len(json.dumps(stored)) < 3000
    assert len(stored["problems"]) == MAX_CHECK_REASONS
    health = health_of(read_back(facts, stored), now=NOW)
    assert f"{300 - MAX_CHECK_REASONS} more error-severity checks failed too." in health.reasons


def test_nothing_stored_reads_as_never_checked() -> None:
    facts = facts_from_stored(
        {},
        product_id="d.p",
        freshness_sla="1h",
        freshness_limit_h=1.0,
        newest_data_at=None,
        quality_score=None,
        availability_target=99.0,
        latency_target_ms=1000.0,
    )
    assert health_of(facts, now=NOW).state == "unknown"
    assert health_of(replace(facts, newest_data_at=NOW - timedelta(hours=3)), now=NOW).state == (
        "stale"
    )


@given(
    runs=st.integers(0, 50),
    reached=st.integers(0, 50),
    answered=st.integers(0, 10_000),
    failed=st.integers(0, 100),
    latency=OPTIONAL_FLOAT,
)
def test_the_stored_sla_figures_read_back_as_measured(
    runs: int, reached: int, answered: int, failed: int, latency: float | None
) -> None:
    reached = min(reached, runs)
    common: dict[str, Any] = {
        "freshness_sla": "4h",
        "freshness_limit_h": 4.0,
        "newest_data_at": NOW - timedelta(hours=5),
        "availability_target": 99.0,
        "latency_target_ms": 1500.0,
        "latency_cap_s": 30.0,
        "now": NOW,
    }
    measured = sla_status_of(
        runs=runs,
        runs_reached=reached,
        answered=answered,
        failed=failed,
        latency_p95_ms=latency,
        **common,
    )
    facts = HealthFacts("d.p", "4h", 4.0, None, latency_p95_ms=latency)
    stored = json.loads(
        json.dumps(facts_to_stored(facts, sla=measured, measured_at=NOW - timedelta(minutes=1)))
    )
    back = sla_from_stored(stored, **common)
    assert replace(back, measured_at=None) == measured
    assert back.as_dict() == measured.as_dict()
    assert back.measured_at == NOW - timedelta(minutes=1)


# --- written on every transition --------------------------------------------------------------


@pytest.fixture
def product(marketing: Any, tmp_path: Path, settings: Any) -> DataProduct:
    from catalog.services import product_publish
    from tests.factories import contract_document

    settings.WAREHOUSE_URL = rebuild(tmp_path / "wh.duckdb", newest=timezone.now())
    doc = contract_document(PID)
    doc["schema"][1]["mask"] = "hash"
    return product_publish(actor=None, document=doc).product


def stored(product: DataProduct) -> DataProduct:
    return DataProduct.objects.get(pk=product.pk)


def measured_now(product: DataProduct) -> Any:
    """The verdict from facts measured from quality's tables at this moment."""
    now = timezone.now()
    facts = selectors.health_facts_many([stored(product)], now=now)[product.pk]
    return health_of(facts, now=now)


def test_a_finished_run_stores_the_verdict_its_reasons_and_its_facts(
    product: DataProduct, tmp_path: Path, settings: Any
) -> None:
    assert stored(product).health_at is None
    settings.WAREHOUSE_URL = rebuild(tmp_path / "wh.duckdb", newest=timezone.now(), nulls=12)
    before = timezone.now()
    services.check_run(product=product, trigger="manual")
    row = stored(product)
    run = CheckRun.objects.get(product=product)
    assert row.health == "failing"
    assert row.health_at is not None and row.health_at >= before
    assert row.health_reasons[0].startswith("Error-severity check no_null_campaign_ids failed")
    assert row.health_facts["lastRunId"] == run.pk
    assert row.health_facts["results"] == run.results.count()
    assert [i["kind"] for i in row.health_facts["incidents"]] == [QUALITY_INCIDENT]
    verdict = row.health_now()
    assert verdict.state == "failing"
    assert verdict.reasons == measured_now(product).reasons


def test_incidents_opened_and_resolved_by_runs_are_stored(
    product: DataProduct, tmp_path: Path, settings: Any
) -> None:
    path = tmp_path / "wh.duckdb"
    settings.WAREHOUSE_URL = rebuild(path, newest=timezone.now() - timedelta(hours=30))
    services.check_run(product=product, trigger="manual")
    row = stored(product)
    assert row.health == "stale"
    assert {i["kind"] for i in row.health_facts["incidents"]} == {STALE_INCIDENT}
    assert row.open_incident_count == 1

    settings.WAREHOUSE_URL = rebuild(path, newest=timezone.now())
    services.check_run(product=product, trigger="manual")
    row = stored(product)
    assert not Incident.objects.filter(product=product, status="open").exists()
    assert row.health_facts["incidents"] == [] and row.open_incident_count == 0
    assert row.health == "ok" and row.health_now().state == "ok"


def test_acknowledging_and_resolving_an_incident_by_hand_store_the_health_again(
    product: DataProduct, owner: Any
) -> None:
    incident = Incident.objects.create(
        product=product, kind=QUALITY_INCIDENT, opened_at=timezone.now(), message="broken"
    )
    services.product_health_refresh(product_ids=[product.pk])
    first = stored(product)
    assert first.health == "failing" and first.health_now().state == "failing"

    incident_acknowledge(actor=owner, incident=incident, note="on it")
    acknowledged = stored(product)
    assert acknowledged.health_at > first.health_at

    incident_resolve(actor=owner, incident=incident, note="fixed the load")
    resolved = stored(product)
    assert resolved.health_at > acknowledged.health_at
    assert resolved.health_facts["incidents"] == []
    assert resolved.health == resolved.health_now().state == "unknown"  # never checked


def test_the_beat_refresh_stores_every_product_in_one_pass(
    product: DataProduct, django_assert_max_num_queries: Any
) -> None:
    from catalog.services import product_publish
    from tests.factories import contract_document

    others = [
        product_publish(actor=None, document=contract_document(f"marketing.other_{i}")).product
        for i in range(4)
    ]
    services.check_run(product=product, trigger="manual")
    assert stored(product).health == "ok"
    # Slow governed queries since the run: the latency SLA (2 s in the seed) is now missed.
    for _ in range(5):
        at = timezone.now()
        log = QueryLog.objects.create(
            submitted_sql="SELECT 1", decision="allowed", duration_ms=60_000.0, created_at=at
        )
        QueryProductUse.objects.create(
            log=log, product_id=PID, decision="allowed", duration_ms=60_000.0, created_at=at
        )
    assert stored(product).health_now().state == "ok"  # not measured again yet

    with django_assert_max_num_queries(12):  # a fixed number, not one set per product
        assert tasks.health_refresh_task.apply().get() == 5
    row = stored(product)
    assert row.health == "warning" and row.health_now().state == "warning"
    assert row.health_facts["latencyP95Ms"] == 60_000.0
    assert any("latency SLA breached" in r for r in row.health_reasons)
    assert all(stored(p).health_at == row.health_at for p in others)
    assert [stored(p).health for p in others] == ["unknown"] * 4


def test_a_refresh_never_overwrites_facts_measured_later(product: DataProduct) -> None:
    later = timezone.now()
    assert services.product_health_refresh(product_ids=[product.pk], now=later) == 1
    earlier = later - timedelta(seconds=5)
    assert services.product_health_refresh(product_ids=[product.pk], now=earlier) == 0
    assert stored(product).health_at == later


def test_pages_and_the_api_read_stale_once_the_data_ages_without_a_run(
    product: DataProduct, analyst: Any, api_as: Any
) -> None:
    services.check_run(product=product, trigger="manual")  # data 0 min old, 1h SLA
    row = stored(product)
    assert row.health == "ok"
    runs = CheckRun.objects.count()
    client = Client()
    client.force_login(analyst)
    api = api_as(analyst)
    assert api.get(f"/v1/catalog/products/{PID}").json()["health"] == "ok"

    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=False):
        detail = api.get(f"/v1/catalog/products/{PID}").json()
        hits = api.get("/v1/catalog/search?domain=marketing").json()["products"]
        page = client.get(f"/products/{PID}/").content.decode()
        search = client.get("/search/?domain=marketing").content.decode()
        home = client.get("/").content.decode()

    assert detail["health"] == "stale"
    assert detail["healthReasons"][0].startswith("The newest data is 2.0 h old")
    assert [h["health"] for h in hits if h["id"] == PID] == ["stale"]
    assert 'data-health="stale"' in page and 'data-health="ok"' not in page
    assert 'data-health="stale"' in search
    assert "attention-list" in home and PID in home
    # Nothing was run or written: the verdict was judged from the stored facts at read time.
    assert CheckRun.objects.count() == runs
    assert stored(product).health_at == row.health_at and stored(product).health == "ok"


# --- the catalog reads no quality selectors --------------------------------------------------

# What catalog pages show from quality is read from the product's stored fields and quality's
# models, never by calling quality's selectors, services, notifications or tasks (the whole
# layer order is tests/test_layering.py's).
FORBIDDEN = ("quality.selectors", "quality.services", "quality.notifications", "quality.tasks")
CATALOG_MODULES = sorted(
    str(p.relative_to(ROOT))
    for p in (ROOT / "catalog").rglob("*.py")
    if "migrations" not in p.parts
)


def imports_of(path: Path) -> list[str]:
    """Every module ``path`` imports, at any depth (function-level imports included)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names.append(module)
            names += [f"{module}.{alias.name}" for alias in node.names]
    return names


def forbidden_imports(relative: str) -> set[str]:
    path = ROOT / relative
    return {
        forbidden
        for name in imports_of(path)
        for forbidden in FORBIDDEN
        if name == forbidden or name.startswith(forbidden + ".")
    }


@pytest.mark.parametrize("relative", [*CATALOG_MODULES, "querying/selectors.py"])
def test_catalog_and_query_warnings_call_no_quality_selectors_services_or_notifications(
    relative: str,
) -> None:
    assert not forbidden_imports(relative), relative


def test_the_import_check_sees_function_level_and_relative_imports(tmp_path: Path) -> None:
    sample = ROOT / "catalog" / "_sample_for_the_import_check.py"
    sample.write_text(
        "def f():\n    from quality.selectors import product_health\n"
        "    from quality import services\n"
    )
    try:
        assert forbidden_imports(str(sample.relative_to(ROOT))) == {
            "quality.selectors",
            "quality.services",
        }
    finally:
        sample.unlink()
