"""The health rule (quality/health.py), pure: a table of cases, precedence and sentences."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quality.health import (
    HEALTH_STATES,
    QUALITY_INCIDENT,
    STALE_INCIDENT,
    HealthFacts,
    IncidentFact,
    ResultFact,
    freshness,
    health_of,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PASS_ERR = ResultFact("no_null_ids", "passed", "error")
FAIL_ERR = ResultFact("no_null_ids", "failed", "error", "12 NULL values in campaign_id")
ERR_ERR = ResultFact("valid_channels", "error", "error", "the check could not run")
PASS_WARN = ResultFact("row_count", "passed", "warning")
FAIL_WARN = ResultFact("row_count", "failed", "warning", "42 rows, expected at least 1000")


def facts(**overrides: object) -> HealthFacts:
    """A checked, fresh, passing product (1h SLA, data 30 min old); override what differs."""
    base = HealthFacts(
        product_id="marketing.campaign_attribution",
        freshness_sla="1h",
        freshness_limit_h=1.0,
        newest_data_at=NOW - timedelta(minutes=30),
        last_run_at=NOW - timedelta(minutes=5),
        table_reachable=True,
        results=(PASS_ERR, PASS_WARN),
        quality_score=100.0,
        availability_pct=100.0,
        availability_target=99.5,
        latency_p95_ms=120.0,
        latency_target_ms=2000.0,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


STALE_DATA: dict[str, object] = {"newest_data_at": NOW - timedelta(hours=30)}
OPEN_STALE = IncidentFact(STALE_INCIDENT, "newest data 30 h old", NOW - timedelta(hours=2))
OPEN_QUALITY = IncidentFact(QUALITY_INCIDENT, "1 error-severity check failing", NOW)

CASES: list[tuple[str, dict[str, object], str]] = [
    ("everything passes and is fresh", {}, "ok"),
    ("a product without checks, checked and fresh", {"results": ()}, "ok"),
    ("never checked", {"last_run_at": None, "results": (), "table_reachable": None}, "unknown"),
    (
        "never checked, no data time, no SLA figures",
        {
            "last_run_at": None,
            "results": (),
            "newest_data_at": None,
            "availability_pct": None,
            "latency_p95_ms": None,
        },
        "unknown",
    ),
    ("an error-severity check failed", {"results": (FAIL_ERR, PASS_WARN)}, "failing"),
    ("an error-severity check could not run", {"results": (ERR_ERR,)}, "failing"),
    ("the table was unreachable", {"table_reachable": False, "results": (ERR_ERR,)}, "failing"),
    ("a warning-severity check failed", {"results": (PASS_ERR, FAIL_WARN)}, "warning"),
    ("availability below target", {"availability_pct": 97.0}, "warning"),
    ("latency p95 above target", {"latency_p95_ms": 30000.0}, "warning"),
    ("data older than the SLA", STALE_DATA, "stale"),
    ("stale beats failing", {**STALE_DATA, "results": (FAIL_ERR,)}, "stale"),
    ("stale beats never checked", {**STALE_DATA, "last_run_at": None, "results": ()}, "stale"),
    ("failing beats warning", {"results": (FAIL_ERR, FAIL_WARN), "latency_p95_ms": 9e9}, "failing"),
    ("an open stale-data incident", {"open_incidents": (OPEN_STALE,)}, "stale"),
    ("an open quality incident", {"open_incidents": (OPEN_QUALITY,)}, "failing"),
    (
        "another kind of incident",
        {"open_incidents": (IncidentFact("other_thing", "x", NOW),)},
        "warning",
    ),
    (
        "unknown beats warning",
        {"last_run_at": None, "results": (), "latency_p95_ms": 9e9},
        "unknown",
    ),
    ("no freshness check yet: not a warning", {"newest_data_at": None}, "ok"),
    ("exactly at the SLA limit is still fresh", {"newest_data_at": NOW - timedelta(hours=1)}, "ok"),
    (
        "a second past the SLA limit is stale",
        {"newest_data_at": NOW - timedelta(hours=1, seconds=1)},
        "stale",
    ),
]


@pytest.mark.parametrize(("case", "overrides", "expected"), CASES, ids=[c[0] for c in CASES])
def test_the_rule_gives_the_documented_verdict(
    case: str, overrides: dict[str, object], expected: str
) -> None:
    health = health_of(facts(**overrides), now=NOW)
    assert health.state == expected, (case, health.reasons)
    assert health.reasons, "every verdict says why"
    assert all(r.endswith((".", "\u2026")) for r in health.reasons), health.reasons


def test_a_failing_product_names_the_check_and_its_message() -> None:
    health = health_of(facts(results=(FAIL_ERR, PASS_WARN)), now=NOW)
    assert health.reasons[0] == (
        "Error-severity check no_null_ids failed: 12 NULL values in campaign_id."
    )
    assert health.label == "failing" and health.needs_attention


def test_a_stale_product_that_also_fails_says_both_most_severe_first() -> None:
    health = health_of(facts(**STALE_DATA, results=(FAIL_ERR,)), now=NOW)
    assert health.reasons[0] == "The newest data is 30.0 h old; the 1h freshness SLA allows 1.0 h."
    assert health.reasons[1].startswith("Error-severity check no_null_ids failed")


def test_an_unreachable_table_is_one_reason_not_one_per_check() -> None:
    errors = tuple(
        ResultFact(f"c{i}", "error", "error", "table t does not exist") for i in range(4)
    )
    health = health_of(facts(table_reachable=False, results=errors), now=NOW)
    assert (
        health.reasons[0] == "The last check run could not read the table: table t does not exist."
    )
    assert sum("could not" in r for r in health.reasons) == 1


def test_many_failing_checks_are_summarised_after_five() -> None:
    results = tuple(ResultFact(f"c{i}", "failed", "error", "bad") for i in range(8))
    health = health_of(facts(results=results), now=NOW)
    assert sum(r.startswith("Error-severity check") for r in health.reasons) == 5
    assert "3 more error-severity checks failed too." in health.reasons


def test_a_duplicate_incident_reason_is_not_repeated() -> None:
    health = health_of(facts(results=(FAIL_ERR,), open_incidents=(OPEN_QUALITY,)), now=NOW)
    assert not any("quality incident" in r for r in health.reasons)
    alone = health_of(facts(open_incidents=(OPEN_QUALITY,)), now=NOW)
    assert alone.reasons[0].startswith("A quality incident is open since 2026-06-01 12:00 UTC")


def test_an_ok_product_says_what_passed_and_how_old_its_data_is() -> None:
    health = health_of(facts(), now=NOW)
    assert health.reasons == (
        "All 2 check results of the last run passed.",
        "The newest data is 30 min old, within the 1h freshness SLA.",
    )
    assert health.score_note is None and not health.needs_attention


def test_unknown_says_nothing_is_known() -> None:
    health = health_of(facts(last_run_at=None, results=(), newest_data_at=None), now=NOW)
    assert health.label == "not checked yet"
    assert health.reasons[0].startswith("No check run has finished yet")


def test_a_good_score_with_a_breached_freshness_sla_says_which_and_why() -> None:
    health = health_of(
        facts(
            quality_score=98.0,
            freshness_sla="24h",
            freshness_limit_h=24.0,
            newest_data_at=NOW - timedelta(hours=30),
        ),
        now=NOW,
    )
    assert health.state == "stale"
    assert health.score_note is not None
    assert health.score_note.startswith(
        "Quality score 98 but freshness SLA breached: newest data 30.0 h old, SLA 24h (24.0 h)."
    )


def test_a_good_score_with_breached_availability_and_latency_names_both() -> None:
    health = health_of(
        facts(quality_score=95.0, availability_pct=97.25, latency_p95_ms=30000.0), now=NOW
    )
    assert health.state == "warning"
    assert health.score_note is not None
    assert "availability SLA breached: 97.25% over 30 days, target 99.5%" in health.score_note
    assert "query latency SLA breached: p95 30,000 ms over 7 days, target 2,000 ms" in (
        health.score_note
    )
    assert "Availability SLA breached: 97.25% over 30 days, target 99.5%." in health.reasons


def test_a_poor_score_with_every_sla_met_says_so() -> None:
    health = health_of(facts(quality_score=62.0), now=NOW)
    assert health.score_note == (
        "Every measured SLA is met, but the quality score is 62: checks failed in recent runs "
        "(the score counts the results of the last 30 runs)."
    )


def test_score_and_sla_that_agree_need_no_note() -> None:
    assert health_of(facts(quality_score=99.0), now=NOW).score_note is None
    assert health_of(facts(quality_score=None, **STALE_DATA), now=NOW).score_note is None
    assert health_of(facts(quality_score=50.0, **STALE_DATA), now=NOW).score_note is None


def test_freshness_is_unknown_without_a_data_time_or_an_sla() -> None:
    assert freshness(None, 1.0, now=NOW) == ("unknown", None)
    assert freshness(NOW - timedelta(hours=2), None, now=NOW) == ("unknown", 2.0)
    assert freshness(NOW + timedelta(hours=1), 1.0, now=NOW) == ("fresh", 0.0)  # clock skew


def test_as_dict_is_the_api_shape() -> None:
    body = health_of(facts(results=(FAIL_ERR,)), now=NOW).as_dict()
    assert set(body) == {"health", "healthReasons", "scoreSlaNote"}
    assert body["health"] == "failing" and isinstance(body["healthReasons"], list)


RESULTS = st.lists(
    st.builds(
        ResultFact,
        check_name=st.text(min_size=1, max_size=20),
        status=st.sampled_from(["passed", "failed", "error"]),
        severity=st.sampled_from(["error", "warning"]),
        message=st.text(max_size=300),
    ),
    max_size=12,
)


@given(
    results=RESULTS,
    age_h=st.one_of(st.none(), st.floats(min_value=0, max_value=5000)),
    checked=st.booleans(),
    reachable=st.sampled_from([True, False, None]),
    kinds=st.lists(st.sampled_from([STALE_INCIDENT, QUALITY_INCIDENT, "other"]), max_size=3),
    availability=st.one_of(st.none(), st.floats(min_value=0, max_value=100)),
    latency=st.one_of(st.none(), st.floats(min_value=0, max_value=1e6)),
    score=st.one_of(st.none(), st.floats(min_value=0, max_value=100)),
)
def test_the_precedence_holds_for_generated_facts(
    results: list[ResultFact],
    age_h: float | None,
    checked: bool,
    reachable: bool | None,
    kinds: list[str],
    availability: float | None,
    latency: float | None,
    score: float | None,
) -> None:
    f = facts(
        results=tuple(results) if checked else (),
        last_run_at=NOW if checked else None,
        table_reachable=reachable if checked else None,
        newest_data_at=None if age_h is None else NOW - timedelta(hours=age_h),
        open_incidents=tuple(IncidentFact(k, "m", NOW) for k in kinds),
        availability_pct=availability,
        latency_p95_ms=latency,
        quality_score=score,
    )
    health = health_of(f, now=NOW)
    assert health.state in HEALTH_STATES
    assert health.reasons
    stale = (age_h is not None and age_h > 1.0) or STALE_INCIDENT in kinds
    failing = (
        checked
        and (
            reachable is False
            or any(r.severity == "error" and r.status != "passed" for r in results)
        )
    ) or QUALITY_INCIDENT in kinds
    if stale:
        assert health.state == "stale"
    elif failing:
        assert health.state == "failing"
    elif not checked:
        assert health.state == "unknown"
    else:
        warned = (
            any(r.severity == "warning" and r.status != "passed" for r in results)
            or "other" in kinds
            or (availability is not None and availability < 99.5)
            or (latency is not None and latency > 2000.0)
        )
        assert health.state == ("warning" if warned else "ok")
    # A failing error-severity check never reads as ok, whatever else is true.
    if checked and any(r.severity == "error" and r.status != "passed" for r in results):
        assert health.state in ("failing", "stale")
