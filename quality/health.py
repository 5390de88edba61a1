"""One health verdict per product: the rule every surface shows (issue 12).

Pure Python: no Django import. ``quality.selectors.health_facts_many`` gathers the facts (the
newest finished run's results, open incidents, measured SLA figures) and
``quality.services.product_health_refresh`` stores them on the product (``facts_to_stored``)
after every finished run, every incident transition and every few minutes (beat). Every
surface (search hits, the product page and API, the domain page, the home page, the scorecard,
governed-query warnings) reads them back (``facts_from_stored``) and calls ``health_of`` with
the time of the request, so data that ages past its SLA reads ``stale`` without a new run.
Nobody shows a variant of their own.

Verdicts, in precedence order (the first that applies wins; docs/quality.md):

1. ``stale``: the newest data is older than the freshness SLA allows, or a stale-data
   incident is open;
2. ``failing``: in the newest finished run an error-severity check failed or could not run
   (an unreachable table included), or a quality incident is open;
3. ``unknown``: no check run has finished yet, so nothing is known;
4. ``warning``: a warning-severity check failed, availability or query latency misses its
   SLA target, or another incident is open;
5. ``ok``: none of the above.

Stale outranks failing because stale data is wrong everywhere, even where checks pass, and
stays wrong until the producer delivers again (the write-up's CEO decided on a stale table).
Every reason that applies is listed, most severe first, so a stale product that also fails
checks says both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from catalog.contract.vocabulary import Severity
from quality.checks.specs import CheckStatus

HEALTH_STATES = ("ok", "warning", "failing", "stale", "unknown")
# How each verdict reads in a badge; the API carries the state itself.
HEALTH_LABELS = {
    "ok": "healthy",
    "warning": "warning",
    "failing": "failing",
    "stale": "stale",
    "unknown": "not checked yet",
}
# Severity rank for sorting (most severe first) and for "needs attention".
HEALTH_RANK = {"stale": 0, "failing": 1, "warning": 2, "unknown": 3, "ok": 4}
NEEDS_ATTENTION = ("stale", "failing")
STALE_INCIDENT = "stale_data"
QUALITY_INCIDENT = "quality_failure"
# A score at or above this reads as "good"; below it, "poor" (for the score-versus-SLA note).
SCORE_LOOKS_GOOD = 90.0
MAX_CHECK_REASONS = 5
MAX_MESSAGE_CHARS = 200


@dataclass(frozen=True)
class ResultFact:
    """One check result of the newest finished run."""

    check_name: str
    status: str  # passed | failed | error
    severity: str  # error | warning
    message: str = ""


@dataclass(frozen=True)
class IncidentFact:
    """One open incident."""

    kind: str
    message: str
    opened_at: datetime


@dataclass(frozen=True)
class HealthFacts:
    """Everything the verdict depends on; ``None`` means "not measured"."""

    product_id: str
    freshness_sla: str
    freshness_limit_h: float | None
    newest_data_at: datetime | None
    last_run_at: datetime | None = None  # the newest finished run; None: never checked
    table_reachable: bool | None = None
    results: tuple[ResultFact, ...] = ()
    open_incidents: tuple[IncidentFact, ...] = ()
    quality_score: float | None = None
    availability_pct: float | None = None
    availability_target: float | None = None
    latency_p95_ms: float | None = None
    latency_target_ms: float | None = None


@dataclass(frozen=True)
class Health:
    """A product's verdict, the sentences that justify it, and the score-versus-SLA note."""

    state: str
    reasons: tuple[str, ...]
    freshness_state: str = "unknown"  # fresh | stale | unknown
    hours_stale: float | None = None
    score_note: str | None = None
    sla_breaches: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        """How the verdict reads in a badge."""
        return HEALTH_LABELS[self.state]

    @property
    def needs_attention(self) -> bool:
        """Stale or failing: listed under "needs attention" and counted on the scorecard."""
        return self.state in NEEDS_ATTENTION

    @property
    def summary(self) -> str:
        """The most important reason (one sentence)."""
        return self.reasons[0] if self.reasons else ""

    def as_dict(self) -> dict[str, object]:
        """The API's fields: ``health``, ``healthReasons``, ``scoreSlaNote``."""
        return {
            "health": self.state,
            "healthReasons": list(self.reasons),
            "scoreSlaNote": self.score_note,
        }


def freshness(
    newest_data_at: datetime | None, limit_h: float | None, *, now: datetime
) -> tuple[str, float | None]:
    """(fresh | stale | unknown, hours since the newest data); stale once *older* than the SLA.

    The same rule as the catalog's SQL annotation (fresh while newest >= now - limit).
    """
    if newest_data_at is None:
        return "unknown", None
    age_h = max(0.0, (now - newest_data_at).total_seconds() / 3600)
    if limit_h is None:
        return "unknown", round(age_h, 2)
    return ("stale" if age_h > limit_h else "fresh"), round(age_h, 2)


def hours_text(value: float) -> str:
    """``0.4`` → ``24 min``, ``5.25`` → ``5.3 h``, ``50`` → ``2.1 days``."""
    if value < 1:
        return f"{round(value * 60)} min"
    if value < 48:
        return f"{value:.1f} h"
    return f"{value / 24:.1f} days"


def _number(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _sentence(text: str) -> str:
    text = " ".join(str(text).split())
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[: MAX_MESSAGE_CHARS - 1].rstrip() + "\u2026"
    return text if text.endswith((".", "!", "?", "\u2026")) else text + "."


def _date(value: datetime) -> str:
    if value.utcoffset() is None:
        return value.strftime("%Y-%m-%d %H:%M")
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _check_sentences(results: Sequence[ResultFact], severity: str) -> list[str]:
    bad = [r for r in results if r.severity == severity and r.status != CheckStatus.PASSED]
    out = []
    for r in bad[:MAX_CHECK_REASONS]:
        verb = "could not run" if r.status == CheckStatus.ERROR else "failed"
        detail = f": {r.message}" if r.message else ""
        out.append(_sentence(f"{severity.title()}-severity check {r.check_name} {verb}{detail}"))
    if len(bad) > MAX_CHECK_REASONS:
        more = len(bad) - MAX_CHECK_REASONS
        out.append(f"{more} more {severity}-severity check{'s' if more > 1 else ''} failed too.")
    return out


def _sla_breaches(
    facts: HealthFacts, fresh_state: str, age_h: float | None
) -> list[tuple[str, str]]:
    """(kind, ``… SLA breached: …``) for each SLA the product misses."""
    out = []
    if fresh_state == "stale" and age_h is not None and facts.freshness_limit_h is not None:
        out.append(
            (
                "freshness",
                f"freshness SLA breached: newest data {hours_text(age_h)} old, "
                f"SLA {facts.freshness_sla} ({hours_text(facts.freshness_limit_h)})",
            )
        )
    pct, target = facts.availability_pct, facts.availability_target
    if pct is not None and target is not None and pct < target:
        out.append(
            (
                "availability",
                f"availability SLA breached: {_number(pct)}% over 30 days, "
                f"target {_number(target)}%",
            )
        )
    p95, limit = facts.latency_p95_ms, facts.latency_target_ms
    if p95 is not None and limit is not None and p95 > limit:
        out.append(
            (
                "latency",
                f"query latency SLA breached: p95 {_number(p95)} ms over 7 days, "
                f"target {_number(limit)} ms",
            )
        )
    return out


def _score_note(facts: HealthFacts, breaches: list[str], fresh_state: str) -> str | None:
    """Say which one is breached and why when the score and the SLA disagree."""
    score = facts.quality_score
    if score is None:
        return None
    shown = f"{score:.0f}"
    if breaches and score >= SCORE_LOOKS_GOOD:
        return _sentence(f"Quality score {shown} but " + "; ".join(breaches)) + (
            " The score counts passed check results; the SLA measures the data's age, "
            "availability and query latency."
        )
    measured = (
        fresh_state != "unknown"
        or facts.availability_pct is not None
        or facts.latency_p95_ms is not None
    )
    if not breaches and measured and score < SCORE_LOOKS_GOOD:
        return (
            f"Every measured SLA is met, but the quality score is {shown}: checks failed in "
            "recent runs (the score counts the results of the last 30 runs)."
        )
    return None


def health_of(facts: HealthFacts, *, now: datetime) -> Health:
    """The verdict for ``facts`` at ``now``, with every reason that applies, most severe first."""
    fresh_state, age_h = freshness(facts.newest_data_at, facts.freshness_limit_h, now=now)
    stale: list[str] = []
    failing: list[str] = []
    warning: list[str] = []
    notes: list[str] = []
    checked = facts.last_run_at is not None

    if fresh_state == "stale" and age_h is not None and facts.freshness_limit_h is not None:
        stale.append(
            f"The newest data is {hours_text(age_h)} old; the {facts.freshness_sla} freshness "
            f"SLA allows {hours_text(facts.freshness_limit_h)}."
        )
    if checked:
        if facts.table_reachable is False:
            detail = next((r.message for r in facts.results if r.message), "")
            failing.append(
                _sentence(
                    "The last check run could not read the table"
                    + (f": {detail}" if detail else "")
                )
            )
        else:
            failing += _check_sentences(facts.results, "error")
        warning += _check_sentences(facts.results, "warning")
    for incident in facts.open_incidents:
        opened = f"open since {_date(incident.opened_at)}"
        if incident.kind == STALE_INCIDENT:
            if not stale:
                stale.append(_sentence(f"A stale-data incident is {opened}: {incident.message}"))
        elif incident.kind == QUALITY_INCIDENT:
            if not failing:
                failing.append(_sentence(f"A quality incident is {opened}: {incident.message}"))
        else:
            kind = incident.kind.replace("_", " ")
            warning.append(_sentence(f"An incident ({kind}) is {opened}: {incident.message}"))
    breaches = _sla_breaches(facts, fresh_state, age_h)
    # A stale product's freshness breach is its stale reason already.
    warning += [
        _sentence(text[0].upper() + text[1:]) for kind, text in breaches if kind != "freshness"
    ]

    if stale:
        state = "stale"
    elif failing:
        state = "failing"
    elif not checked:
        state = "unknown"
    elif warning:
        state = "warning"
    else:
        state = "ok"

    if not checked:
        notes.append("No check run has finished yet, so nothing is known about this data.")
    elif state == "ok":
        notes.append(
            f"All {len(facts.results)} check results of the last run passed."
            if facts.results
            else "The last check run found no problems."
        )
    if fresh_state == "fresh" and age_h is not None and facts.freshness_limit_h is not None:
        notes.append(
            f"The newest data is {hours_text(age_h)} old, within the {facts.freshness_sla} "
            "freshness SLA."
        )
    elif fresh_state == "unknown" and checked:
        notes.append("Freshness is not measured: no freshness check has seen a timestamp yet.")

    return Health(
        state=state,
        reasons=tuple(stale + failing + warning + notes),
        freshness_state=fresh_state,
        hours_stale=age_h,
        score_note=_score_note(facts, [text for _, text in breaches], fresh_state),
        sla_breaches=tuple(text for _, text in breaches),
    )


# ---------------------------------------------------------------------------------------------
# Stored facts: what ``DataProduct.health_facts`` holds, and the verdict read back from it
# ---------------------------------------------------------------------------------------------

STORED_FACTS_VERSION = 1
SEVERITIES = (Severity.ERROR, Severity.WARNING)


def _brief(text: str) -> str:
    """The part of a message a reason can show (``_sentence`` cuts at ``MAX_MESSAGE_CHARS``).

    A message of blanks stays one blank: the reason reads as it would with the original.
    """
    shown = " ".join(str(text).split())[:MAX_MESSAGE_CHARS]
    return shown or (" " if text else "")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def facts_to_stored(
    facts: HealthFacts,
    *,
    last_run_id: int | None = None,
    sla: SlaStatus | None = None,
    measured_at: datetime | None = None,
) -> dict[str, Any]:
    """The JSON ``DataProduct.health_facts`` holds: what ``health_of`` needs besides the
    product's own columns (newest data time, SLA targets, score), kept small.

    Results are kept as the first ``MAX_CHECK_REASONS`` problems of each severity with their
    count (the rule shows no more), messages cut to what a reason can show; the verdict read
    back (``facts_from_stored``) is the one ``facts`` give, at any ``now``.
    """
    problems: dict[str, list[dict[str, str]]] = {}
    counts: dict[str, int] = {}
    for r in facts.results:
        if r.status == CheckStatus.PASSED or r.severity not in SEVERITIES:
            continue
        counts[r.severity] = counts.get(r.severity, 0) + 1
        if counts[r.severity] <= MAX_CHECK_REASONS:
            problems.setdefault(r.severity, []).append(
                {
                    "check": r.check_name,
                    "status": r.status,
                    "severity": r.severity,
                    "message": _brief(r.message),
                }
            )
    detail = next((r.message for r in facts.results if r.message), "")
    stored: dict[str, Any] = {
        "v": STORED_FACTS_VERSION,
        "lastRunId": last_run_id,
        "lastRunAt": _iso(facts.last_run_at),
        "tableReachable": facts.table_reachable,
        "results": len(facts.results),
        "problems": [p for severity in SEVERITIES for p in problems.get(severity, [])],
        "problemCounts": counts,
        "unreachableDetail": _brief(detail) if facts.table_reachable is False else "",
        "incidents": [
            {"kind": i.kind, "message": _brief(i.message), "openedAt": _iso(i.opened_at)}
            for i in facts.open_incidents
        ],
        "availabilityPct": facts.availability_pct,
        "latencyP95Ms": facts.latency_p95_ms,
    }
    if sla is not None:
        stored["sla"] = {
            "runs": sla.availability_runs,
            "runsReached": sla.availability_runs_reached,
            "queriesAnswered": sla.availability_queries_answered,
            "queriesFailed": sla.availability_queries_failed,
            "measuredAt": _iso(measured_at),
        }
    return stored


def _stored_results(stored: Mapping[str, Any]) -> tuple[ResultFact, ...]:
    """Results standing in for the stored ones: the same verdict and reasons."""
    shown = [
        ResultFact(
            check_name=str(p.get("check", "")),
            status=str(p.get("status", CheckStatus.FAILED)),
            severity=str(p.get("severity", Severity.ERROR)),
            message=str(p.get("message", "")),
        )
        for p in stored.get("problems") or []
        if isinstance(p, Mapping)
    ]
    out: list[ResultFact] = []
    counts = stored.get("problemCounts") or {}
    for severity in SEVERITIES:
        mine = [r for r in shown if r.severity == severity]
        out += mine
        unshown = int(counts.get(severity, len(mine)) or 0) - len(mine)
        if unshown > 0:  # counted in "N more", never named
            out += [ResultFact("", "failed", severity)] * unshown
    detail = str(stored.get("unreachableDetail") or "")
    passed = max(0, int(stored.get("results") or 0) - len(out) - (1 if detail else 0))
    carrier = (ResultFact("", "passed", "error", detail),) if detail else ()
    return carrier + tuple(out) + (ResultFact("", "passed", "error"),) * passed


def facts_from_stored(
    stored: Mapping[str, Any] | None,
    *,
    product_id: str,
    freshness_sla: str,
    freshness_limit_h: float | None,
    newest_data_at: datetime | None,
    quality_score: float | None,
    availability_target: float | None,
    latency_target_ms: float | None,
) -> HealthFacts:
    """``HealthFacts`` from the product's columns and its stored facts (``facts_to_stored``).

    Nothing stored yet (a product no refresh has seen) reads as never checked.
    """
    stored = stored if isinstance(stored, Mapping) else {}
    last_run_at = _parse(stored.get("lastRunAt"))
    reachable = stored.get("tableReachable")
    return HealthFacts(
        product_id=product_id,
        freshness_sla=freshness_sla,
        freshness_limit_h=freshness_limit_h,
        newest_data_at=newest_data_at,
        last_run_at=last_run_at,
        table_reachable=reachable if isinstance(reachable, bool) else None,
        results=_stored_results(stored) if last_run_at is not None else (),
        open_incidents=tuple(
            IncidentFact(
                kind=str(i.get("kind", "")),
                message=str(i.get("message", "")),
                opened_at=_parse(i.get("openedAt")) or datetime.min.replace(tzinfo=UTC),
            )
            for i in stored.get("incidents") or []
            if isinstance(i, Mapping)
        ),
        quality_score=quality_score,
        availability_pct=_number_or_none(stored.get("availabilityPct")),
        availability_target=availability_target,
        latency_p95_ms=_number_or_none(stored.get("latencyP95Ms")),
        latency_target_ms=latency_target_ms,
    )


def _number_or_none(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def open_incident_count(stored: Mapping[str, Any] | None) -> int:
    """How many incidents were open at the last refresh."""
    incidents = stored.get("incidents") if isinstance(stored, Mapping) else None
    return len(incidents) if isinstance(incidents, list) else 0


# ---------------------------------------------------------------------------------------------
# SLA figures (measured by quality.selectors.sla_status_many, stored with the health facts)
# ---------------------------------------------------------------------------------------------

AVAILABILITY_WINDOW_DAYS = 30
LATENCY_WINDOW_DAYS = 7
AVAILABILITY_FORMULA = (
    "Availability = successful answers / attempts on the product over the last 30 days. "
    "Successful: governed queries the warehouse answered, and check runs that reached the "
    "product's table. Attempts: those plus governed queries the warehouse could not answer "
    "(unavailable) and check runs that could not reach the table (missing, or warehouse "
    "down). Refused queries, errors in the caller's own SQL and timeouts are not counted "
    "(timeouts count in the latency p95)."
)
LATENCY_FORMULA = (
    "Nearest-rank 95th percentile of governed queries on the product over the last {days} "
    "days: answered queries at the time the caller waited; queries that timed out or that the "
    "warehouse could not answer at the time cap (QUERY_TIMEOUT_S = {cap:g} s, or longer if "
    "they took longer). Refused queries and errors in the caller's own SQL are not counted."
)


def latency_formula(cap_s: float) -> str:
    """How the latency p95 is measured, with the query time cap in force."""
    return LATENCY_FORMULA.format(days=LATENCY_WINDOW_DAYS, cap=float(cap_s))


def availability_pct(*, runs: int, runs_reached: int, answered: int, failed: int) -> float | None:
    """The availability formula (AVAILABILITY_FORMULA): None when nothing was attempted."""
    attempts = runs + answered + failed
    if not attempts:
        return None
    return round(100.0 * (runs_reached + answered) / attempts, 2)


@dataclass(frozen=True)
class SlaStatus:
    """A product's SLA, measured: freshness, availability and query latency.

    ``measured_at`` is when availability and latency were measured (None: just now).
    """

    freshness: str
    freshness_state: str  # fresh | stale | unknown
    hours_stale: float | None
    freshness_limit_h: float | None
    newest_data_at: datetime | None
    availability_pct: float | None
    availability_target: float
    availability_met: bool | None
    availability_runs: int
    latency_p95_ms: float | None
    latency_target_ms: float
    latency_met: bool | None
    availability_runs_reached: int = 0
    availability_queries_answered: int = 0
    availability_queries_failed: int = 0
    latency_cap_s: float = 30.0
    measured_at: datetime | None = None

    @property
    def availability_formula(self) -> str:
        """How availability is measured (shown on the product page)."""
        return AVAILABILITY_FORMULA

    @property
    def latency_formula(self) -> str:
        """How the latency p95 is measured (shown on the product page)."""
        return latency_formula(self.latency_cap_s)

    @property
    def availability_attempts(self) -> int:
        """Check runs and counted governed queries in the window."""
        return (
            self.availability_runs
            + self.availability_queries_answered
            + self.availability_queries_failed
        )

    @property
    def met(self) -> bool | None:
        """Whether every measured SLA is met (None: nothing measured yet); the scorecard's."""
        if self.availability_met is None and self.freshness_state == "unknown":
            return None
        return (
            self.availability_met is not False
            and self.freshness_state != "stale"
            and self.latency_met is not False
        )

    def as_dict(self) -> dict[str, Any]:
        """camelCase for the API."""
        return {
            "freshness": {
                "sla": self.freshness,
                "state": self.freshness_state,
                "hoursStale": self.hours_stale,
                "limitHours": self.freshness_limit_h,
                "newestDataAt": self.newest_data_at.isoformat() if self.newest_data_at else None,
            },
            "availability": {
                "pct": self.availability_pct,
                "target": self.availability_target,
                "met": self.availability_met,
                "runs": self.availability_runs,
                "runsReachedTable": self.availability_runs_reached,
                "queriesAnswered": self.availability_queries_answered,
                "queriesFailed": self.availability_queries_failed,
                "windowDays": AVAILABILITY_WINDOW_DAYS,
                "formula": AVAILABILITY_FORMULA,
            },
            "queryLatencyP95Ms": {
                "value": self.latency_p95_ms,
                "target": self.latency_target_ms,
                "met": self.latency_met,
                "windowDays": LATENCY_WINDOW_DAYS,
                "formula": self.latency_formula,
            },
        }


def sla_status_of(
    *,
    freshness_sla: str,
    freshness_limit_h: float | None,
    newest_data_at: datetime | None,
    availability_target: float,
    latency_target_ms: float,
    runs: int,
    runs_reached: int,
    answered: int,
    failed: int,
    latency_p95_ms: float | None,
    latency_cap_s: float,
    now: datetime,
    measured_at: datetime | None = None,
) -> SlaStatus:
    """The SLA status from measured counts; freshness is judged at ``now``."""
    state, hours_stale = freshness(newest_data_at, freshness_limit_h, now=now)
    pct = availability_pct(runs=runs, runs_reached=runs_reached, answered=answered, failed=failed)
    return SlaStatus(
        freshness=freshness_sla,
        freshness_state=state,
        hours_stale=hours_stale,
        freshness_limit_h=freshness_limit_h,
        newest_data_at=newest_data_at,
        availability_pct=pct,
        availability_target=availability_target,
        availability_met=None if pct is None else pct >= availability_target,
        availability_runs=runs,
        latency_p95_ms=latency_p95_ms,
        latency_target_ms=latency_target_ms,
        latency_met=None if latency_p95_ms is None else latency_p95_ms <= latency_target_ms,
        availability_runs_reached=runs_reached,
        availability_queries_answered=answered,
        availability_queries_failed=failed,
        latency_cap_s=latency_cap_s,
        measured_at=measured_at,
    )


def sla_from_stored(
    stored: Mapping[str, Any] | None,
    *,
    freshness_sla: str,
    freshness_limit_h: float | None,
    newest_data_at: datetime | None,
    availability_target: float,
    latency_target_ms: float,
    latency_cap_s: float,
    now: datetime,
) -> SlaStatus:
    """The SLA status from the stored figures (``facts_to_stored``), freshness judged at ``now``."""
    stored = stored if isinstance(stored, Mapping) else {}
    raw_sla = stored.get("sla")
    sla: Mapping[str, Any] = raw_sla if isinstance(raw_sla, Mapping) else {}

    def count(key: str) -> int:
        value = sla.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    return sla_status_of(
        freshness_sla=freshness_sla,
        freshness_limit_h=freshness_limit_h,
        newest_data_at=newest_data_at,
        availability_target=availability_target,
        latency_target_ms=latency_target_ms,
        runs=count("runs"),
        runs_reached=count("runsReached"),
        answered=count("queriesAnswered"),
        failed=count("queriesFailed"),
        latency_p95_ms=_number_or_none(stored.get("latencyP95Ms")),
        latency_cap_s=latency_cap_s,
        now=now,
        measured_at=_parse(sla.get("measuredAt")),
    )


__all__ = [
    "AVAILABILITY_FORMULA",
    "AVAILABILITY_WINDOW_DAYS",
    "LATENCY_FORMULA",
    "LATENCY_WINDOW_DAYS",
    "SlaStatus",
    "availability_pct",
    "facts_from_stored",
    "facts_to_stored",
    "latency_formula",
    "open_incident_count",
    "sla_from_stored",
    "sla_status_of",
    "HEALTH_LABELS",
    "HEALTH_RANK",
    "HEALTH_STATES",
    "NEEDS_ATTENTION",
    "QUALITY_INCIDENT",
    "STALE_INCIDENT",
    "Health",
    "HealthFacts",
    "IncidentFact",
    "ResultFact",
    "freshness",
    "health_of",
    "hours_text",
]
