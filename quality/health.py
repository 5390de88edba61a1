"""One health verdict per product: the rule every surface shows (issue 12).

Pure Python: no Django import. ``quality.selectors`` gathers the facts (the newest finished
run's results, the newest data time, open incidents, measured SLA figures) and calls
``health_of``; search hits, the product page and API, the domain page, the home page, the
scorecard and governed-query warnings all show what it returns, never a variant of their own.

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

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

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
    bad = [r for r in results if r.severity == severity and r.status != "passed"]
    out = []
    for r in bad[:MAX_CHECK_REASONS]:
        verb = "could not run" if r.status == "error" else "failed"
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


__all__ = [
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
