"""Writes for quality: request, claim and record check runs; incidents; retention.

Invariants (see docs/quality.md):

- A run row is created *before* its task is queued, with a unique ``run_key``; the task only
  fills it. Every unfinished run has a ``deadline_at``: queued, the time it may wait for a
  worker; running, its checks' time cap plus a margin. The dispatcher re-queues a run past its
  deadline once, then records it as ``error`` with the reason (``runs_recover``), so no run
  stays ``queued`` or ``running`` forever, whatever was lost (worker, broker, database).
- A run is claimed ``queued -> running`` with one conditional UPDATE carrying a fresh token,
  and finished with another conditional UPDATE on that token, so a redelivered task
  (``acks_late``) or a second worker never records a run twice.
- Scheduled due times follow from the previous due time (``next_due``), so schedules do not
  drift by the dispatcher's delay.
- The beat dispatcher claims a due product with one conditional UPDATE on
  ``DataProduct.next_check_at``; zero rows updated means another beat or worker won.
- A publish asks for its check run as data, never by calling quality: it makes the product
  due now, and the dispatcher records the run as ``publish`` (key ``publish:<version id>``,
  one per version) when a contract version was recorded after the product's last run.
- At most one open incident per product and kind (a partial unique constraint), and each
  notification is sent after a conditional UPDATE of its ``notified_*_at`` stamp.
- The product's stored health (``DataProduct.health*``, what every catalog surface shows) is
  refreshed after every finished run, every incident transition and by the beat every two
  minutes (``product_health_refresh``); a refresh never overwrites facts measured later.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from catalog.contract import FRESHNESS_HOURS
from catalog.contract.vocabulary import ProductStatus, Severity
from catalog.models import ContractVersion, DataProduct
from catalog.warehouses import product_warehouse
from quality.checks import (
    CheckOutcome,
    CheckSpec,
    CheckStatus,
    CheckType,
    ColumnSpec,
    ProductSpec,
    RunReport,
    run_product,
)
from quality.checks.evaluate import human_hours
from querying.governor import scrub_error

from . import health, notifications, selectors
from .models import (
    FINISHED_STATUSES,
    CheckResult,
    CheckRun,
    Incident,
    IncidentStatus,
    RunProfile,
    RunStatus,
    RunTrigger,
    queue_deadline,
    running_deadline,
)

log = logging.getLogger(__name__)

# How often a product is checked, from its freshness SLA: often enough that a breach is seen
# well inside the SLA window (docs/quality.md has the table).
CADENCE: dict[str, timedelta] = {
    "realtime": timedelta(minutes=5),
    "1h": timedelta(minutes=15),
    "4h": timedelta(hours=1),
    "24h": timedelta(hours=6),
}
DEFAULT_CADENCE = timedelta(hours=6)
# Products the scheduler checks; drafts and retired products are checked only on request.
SCHEDULED_STATUSES = (ProductStatus.PUBLISHED, ProductStatus.DEPRECATED)
MIN_RETENTION_DAYS = 90
STALE_INCIDENT = health.STALE_INCIDENT
QUALITY_INCIDENT = health.QUALITY_INCIDENT


def check_cadence(freshness: str) -> timedelta:
    """How often a product with this freshness SLA is checked."""
    return CADENCE.get(freshness, DEFAULT_CADENCE)


def retention_days() -> int:
    """Days of check history kept; never fewer than 90."""
    return max(MIN_RETENTION_DAYS, int(getattr(settings, "QUALITY_HISTORY_DAYS", 90)))


# A lost run is queued again this many times, then recorded as an error.
MAX_REQUEUES = 1


def product_spec(product: DataProduct) -> ProductSpec:
    """The pure engine's view of a product, built from its contract rows."""
    return ProductSpec(
        product_id=product.product_id,
        table=product.table,
        columns=tuple(
            ColumnSpec(
                name=c.name, type=c.type, nullable=c.nullable, pii=c.pii, mask=c.mask or None
            )
            for c in product.columns.all().order_by("position")
        ),
        checks=tuple(
            CheckSpec(
                name=q.name,
                type=q.type,
                severity=q.severity,
                column=q.column or None,
                params=dict(q.params or {}),
            )
            for q in product.checks.all().order_by("position")
        ),
        freshness_sla=product.sla_freshness,
    )


def run_enqueue(run_id: int) -> bool:
    """Send the run's task to the broker; False (logged) when the broker cannot take it.

    The run stays queued with its deadline: the dispatcher re-queues it once the broker is
    back (``runs_recover``), so a broker outage never leaves a run behind.
    """
    from kombu.exceptions import OperationalError as BrokerError

    from .tasks import check_run_task

    try:
        check_run_task.delay(run_id)
    except (BrokerError, OSError) as exc:
        log.warning("could not queue check run %s (broker unavailable): %s", run_id, exc)
        return False
    return True


def _enqueue(run_id: int) -> None:
    run_enqueue(run_id)


def run_withdraw(*, run: CheckRun) -> bool:
    """Delete a run nobody could queue (still ``queued``, never claimed); whether it went."""
    deleted, _ = CheckRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).delete()
    return bool(deleted)


def check_request(
    *,
    product: DataProduct,
    trigger: str,
    actor: object | None = None,
    run_key: str | None = None,
    enqueue: bool = True,
) -> tuple[CheckRun, bool]:
    """Create a queued run for ``product`` and queue its task on commit.

    Returns ``(run, created)``. A manual or API request while a recent run of the product is
    still queued or running returns that run instead of piling up another one; a ``run_key``
    that exists already (a publish hook delivered twice) returns the existing run.
    ``enqueue=False`` is for callers that run it themselves (``check_run``, the CLI).
    """
    now = timezone.now()
    if trigger in (RunTrigger.MANUAL, RunTrigger.API):
        # A run still within its deadline is in progress; one past it is lost and never handed
        # back as if it were (the dispatcher recovers it).
        pending = (
            product.check_runs.filter(
                status__in=[RunStatus.QUEUED, RunStatus.RUNNING], deadline_at__gt=now
            )
            .order_by("-id")
            .first()
        )
        if pending is not None:
            return pending, False
    key = run_key or f"{trigger}:{product.pk}:{uuid.uuid4().hex}"
    user = actor if getattr(actor, "is_authenticated", False) else None
    try:
        with transaction.atomic():
            run = CheckRun.objects.create(
                product=product,
                trigger=trigger,
                run_key=key,
                requested_by=user,  # type: ignore[misc]
                contract_version=product.version,
                deadline_at=queue_deadline(now),
            )
    except IntegrityError:
        return CheckRun.objects.get(run_key=key), False
    if enqueue:
        transaction.on_commit(partial(_enqueue, run.pk))
    return run, True


def checks_dispatch_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Claim every due product with a conditional UPDATE and queue one run each.

    Due: a published or deprecated product at its ``next_check_at``, and a draft a publish made
    due (the claim clears a draft's due time: drafts are not checked on a schedule). The run is
    the new contract version's ``publish`` run when the product has one that no run followed
    yet (a publish makes its product due now: that is how the catalog asks for it), else a
    ``schedule`` run. Returns the ids of the runs created. Zero rows updated means another beat
    or worker claimed that product first; that is normal, not an error.
    """
    now = now or timezone.now()
    runs_recover(now=now)
    due = (
        DataProduct.objects.filter(
            Q(status__in=SCHEDULED_STATUSES, next_check_at__isnull=True)
            | Q(status__in=(*SCHEDULED_STATUSES, ProductStatus.DRAFT), next_check_at__lte=now)
        )
        .order_by("next_check_at")
        .values_list("pk", "next_check_at", "sla_freshness", "status")[:limit]
    )
    run_ids: list[int] = []
    for pk, due_at, freshness, status in list(due):
        with transaction.atomic():
            claim = DataProduct.objects.filter(pk=pk)
            claim = (
                claim.filter(next_check_at=due_at)
                if due_at
                else claim.filter(next_check_at__isnull=True)
            )
            scheduled = status in SCHEDULED_STATUSES
            following = next_due(due_at, check_cadence(freshness), now) if scheduled else None
            won = claim.update(next_check_at=following)
            if not won:
                continue
            publish_key = unchecked_version_key(pk)
            if publish_key is None and not scheduled:
                continue  # a draft is checked when a version is published, never on a schedule
            stamp = due_at.isoformat() if due_at else now.isoformat()
            run = CheckRun.objects.create(
                product_id=pk,
                trigger=RunTrigger.PUBLISH if publish_key else RunTrigger.SCHEDULE,
                run_key=publish_key or f"schedule:{pk}:{stamp}",
                deadline_at=queue_deadline(now),
            )
            transaction.on_commit(partial(_enqueue, run.pk))
        run_ids.append(run.pk)
    return run_ids


def unchecked_version_key(product_pk: int) -> str | None:
    """``publish:<version id>`` when the product's newest contract version was recorded after
    its newest run and has no publish run yet (a version gets one), else None.

    Compared by time rather than by looking for the version's publish run alone: history
    retention prunes old runs, and an old version must not read as new once its run is gone.
    """
    version = (
        ContractVersion.objects.filter(product_id=product_pk)
        .order_by("-id")
        .values_list("pk", "created_at")
        .first()
    )
    if version is None:
        return None
    last_run_at = (
        CheckRun.objects.filter(product_id=product_pk)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if last_run_at is not None and last_run_at >= version[1]:
        return None
    key = f"publish:{version[0]}"
    return None if CheckRun.objects.filter(run_key=key).exists() else key


def next_due(due_at: datetime | None, cadence: timedelta, now: datetime) -> datetime:
    """The next due time, counted from the previous due time so schedules do not drift.

    A product due at 10:00 every 5 minutes is next due at 10:05 even when the dispatcher saw
    it at 10:00:59; after a long pause it skips to the first slot after ``now``.
    """
    if due_at is None:
        return now + cadence
    following = due_at + cadence
    if following <= now:
        missed = (now - due_at) // cadence
        following = due_at + cadence * (missed + 1)
    return following


def runs_recover(*, now: datetime | None = None) -> list[int]:
    """Re-queue runs past their deadline once, then record them as ``error``; returns their ids.

    Each step is a conditional UPDATE on the run's status and deadline, so two dispatchers (or
    a worker finishing late) never both act on one run.
    """
    now = now or timezone.now()
    lost = CheckRun.objects.filter(
        status__in=[RunStatus.QUEUED, RunStatus.RUNNING], deadline_at__lt=now
    ).values_list("pk", "status", "deadline_at", "requeues")
    recovered: list[int] = []
    for pk, status, deadline, requeues in list(lost[:500]):
        same = CheckRun.objects.filter(pk=pk, status=status, deadline_at=deadline)
        if requeues < MAX_REQUEUES:
            with transaction.atomic():
                won = same.update(
                    status=RunStatus.QUEUED,
                    claim_token="",
                    requeues=requeues + 1,
                    deadline_at=queue_deadline(now),
                )
                if won:
                    transaction.on_commit(partial(_enqueue, pk))
            if won:
                log.warning("check run %s was lost while %s; queued again", pk, status)
                recovered.append(pk)
            continue
        reason = (
            f"the run was lost twice while {status} (a worker was stopped, or the broker or "
            "the portal database was unavailable); its checks did not run"
        )
        if _record_lost(pk, same, reason=reason, now=now):
            recovered.append(pk)
    return recovered


HEALTH_REFRESH_BATCH = 500


def product_health_refresh(
    *, product_ids: list[int] | None = None, now: datetime | None = None
) -> int:
    """Measure the health facts of the given products (every product when None) and store them
    on each, with the verdict at ``now``; returns how many products were written.

    One pass: a fixed number of queries per batch of 500 products and one bulk UPDATE. The
    UPDATE only replaces facts measured before ``now`` (``health_at``), so a slow refresh
    never overwrites what a later run or incident change stored.
    """
    now = now or timezone.now()
    qs = DataProduct.objects.only(*selectors.HEALTH_FIELDS).order_by("pk")
    if product_ids is not None:
        qs = qs.filter(pk__in=product_ids)
    products = list(qs)
    written = 0
    for start in range(0, len(products), HEALTH_REFRESH_BATCH):
        batch = products[start : start + HEALTH_REFRESH_BATCH]
        measured = selectors.health_measure_many(batch, now=now)
        for product in batch:
            m = measured[product.pk]
            verdict = health.health_of(m.facts, now=now)
            product.health = verdict.state
            product.health_reasons = list(verdict.reasons)
            product.health_at = now
            product.health_facts = health.facts_to_stored(
                m.facts, last_run_id=m.last_run_id, sla=m.sla, measured_at=now
            )
        written += DataProduct.objects.filter(
            Q(health_at__isnull=True) | Q(health_at__lte=now)
        ).bulk_update(batch, ["health", "health_reasons", "health_at", "health_facts"])
    return written


def _health_refresh_quietly(product_id: int) -> None:
    """``product_health_refresh`` of one product after a change; a failure is logged, never
    raised (the run or incident change is committed; the beat's refresh catches up)."""
    try:
        product_health_refresh(product_ids=[product_id])
    except Exception:
        log.exception("could not refresh the stored health of product %s", product_id)


def _record_lost(pk: int, same: Any, *, reason: str, now: datetime) -> bool:
    """Finish a lost run as ``error`` with one result saying why; False if someone else did."""
    with transaction.atomic():
        if not same.update(status=RunStatus.ERROR, finished_at=now, message=reason, claim_token=""):
            return False
        run = CheckRun.objects.select_related("product").get(pk=pk)
        CheckResult.objects.create(
            run=run,
            position=0,
            check_name="run",
            check_type="schema",  # the run itself, not a declared check type
            status=CheckStatus.ERROR,
            passed=False,
            severity=Severity.ERROR,
            message=reason,
            created_at=now,
        )
        DataProduct.objects.filter(pk=run.product_id).update(
            quality_score=selectors.quality_score_compute(run.product)
        )
    log.error("check run %s recorded as error: %s", pk, reason)
    _health_refresh_quietly(run.product_id)
    return True


def _run_status(report: RunReport) -> str:
    if not report.table_reachable or any(o.status == CheckStatus.ERROR for o in report.outcomes):
        return RunStatus.ERROR
    if any(not o.passed for o in report.outcomes):
        return RunStatus.FAILED
    return RunStatus.PASSED


def _engine_report(product: DataProduct, now: datetime) -> RunReport:
    """Run the pure engine; any failure around it becomes an ``error`` report, never a crash."""
    started = time.perf_counter()
    try:
        warehouse = product_warehouse(product)  # its connection (issue 18)
        return run_product(
            warehouse,
            product_spec(product),
            now=now,
            timeout_s=float(settings.CHECK_TIMEOUT_S),
            hash_key=settings.PII_HASH_KEY,
            profile=True,  # the columns' profile, from the same scan (issue 15)
        )
    except Exception as exc:  # a bad connection or an engine bug must not lose the run
        log.exception("quality run of %s failed outside the checks", product.product_id)
        first_line = scrub_error(str(exc).splitlines()[0])[:300] if str(exc) else ""
        message = f"the run could not start: {type(exc).__name__}: {first_line}"
        return RunReport(
            outcomes=[
                CheckOutcome(
                    check_name="run",
                    type="schema",
                    status=CheckStatus.ERROR,
                    passed=False,
                    severity=Severity.ERROR,
                    message=message,
                )
            ],
            table_reachable=False,
            statements_sent=0,
            elapsed_ms=(time.perf_counter() - started) * 1000,
        )


@dataclass
class _Transitions:
    opened: Incident | None = None
    resolved: Incident | None = None


def check_run(
    *,
    product: DataProduct,
    trigger: str = RunTrigger.MANUAL,
    now: datetime | None = None,
    run: CheckRun | None = None,
) -> CheckRun:
    """Run all of ``product``'s checks and record the history.

    Steps:
    1. claim the run (``queued -> running``, or a ``running`` run whose worker died); a run
       that is finished, or running elsewhere, is returned untouched;
    2. run the pure engine against the product's warehouse connection;
    3. in one transaction: finish the run (only if our claim still holds), store one
       CheckResult per outcome and the run's column profile, update the product's
       lastValidated, qualityScore,
       newest data time and next check time;
    4. open or resolve the stale-data incident, and the quality incident (an error-severity
       check failing or erroring);
    5. notify on incident transitions, and on error-severity checks that newly fail while no
       quality incident opened in this run (that incident's message names them already).
    """
    now = now or timezone.now()
    if run is None:
        run, _ = check_request(product=product, trigger=trigger, enqueue=False)
    token = uuid.uuid4().hex
    claimed = (
        CheckRun.objects.filter(pk=run.pk)
        .filter(
            Q(status=RunStatus.QUEUED) | Q(status=RunStatus.RUNNING, deadline_at__lt=timezone.now())
        )
        .update(
            status=RunStatus.RUNNING,
            claim_token=token,
            started_at=now,
            deadline_at=running_deadline(timezone.now()),
        )
    )
    if not claimed:
        run.refresh_from_db()
        return run
    try:
        return _execute(product=product, run=run, token=token, now=now)
    except Exception:
        # Give the run back so a retry of the task can claim it again at once.
        CheckRun.objects.filter(pk=run.pk, claim_token=token, status=RunStatus.RUNNING).update(
            status=RunStatus.QUEUED, claim_token=""
        )
        raise


def _execute(*, product: DataProduct, run: CheckRun, token: str, now: datetime) -> CheckRun:
    product = DataProduct.objects.select_related("domain").get(pk=product.pk)
    previous = selectors.last_finished_run(product)
    report = _engine_report(product, now)
    finished_at = now + timedelta(milliseconds=report.elapsed_ms)
    status = _run_status(report)
    with transaction.atomic():
        won = CheckRun.objects.filter(
            pk=run.pk, claim_token=token, status=RunStatus.RUNNING
        ).update(
            status=status,
            finished_at=finished_at,
            duration_ms=round(report.elapsed_ms, 3),
            table_reachable=report.table_reachable,
            statements_sent=report.statements_sent,
            newest_data_at=report.newest_value_at,
            contract_version=product.version,
        )
        if not won:  # another worker reclaimed this run while ours was slow; it records it
            run.refresh_from_db()
            return run
        CheckResult.objects.bulk_create(
            CheckResult(
                run_id=run.pk,
                position=i,
                check_name=o.check_name,
                check_type=o.type,
                status=o.status,
                passed=o.passed,
                severity=o.severity,
                message=o.message,
                value=o.value,
                created_at=finished_at,
            )
            for i, o in enumerate(report.outcomes)
        )
        if report.profile is not None:
            RunProfile.objects.create(
                run_id=run.pk, product=product, computed_at=finished_at, data=report.profile
            )
        fields: dict[str, object] = {
            "last_validated_at": finished_at,
            "quality_score": selectors.quality_score_compute(product),
            # Scheduled runs were given their next slot when claimed (next_due, no drift); a
            # product never scheduled yet gets one from now.
            "next_check_at": product.next_check_at or now + check_cadence(product.sla_freshness),
        }
        if report.newest_value_at is not None:
            fields["newest_data_at"] = report.newest_value_at
        DataProduct.objects.filter(pk=product.pk).update(**fields)
    run.refresh_from_db()
    product.refresh_from_db()

    stale = _sync_stale_incident(product=product, run=run, now=finished_at)
    quality = _sync_quality_incident(
        product=product,
        run=run,
        outcomes=report.outcomes,
        now=finished_at,
        stale_open=product.incidents.filter(
            kind=STALE_INCIDENT, status=IncidentStatus.OPEN
        ).exists(),
    )
    # What every surface shows, before anyone is told (notifications may be slow).
    _health_refresh_quietly(product.pk)
    newly_failing = _newly_failing(report.outcomes, previous)
    for transitions in (stale, quality):
        if transitions.opened is not None:
            incident_notify(incident=transitions.opened, event="opened")
        if transitions.resolved is not None:
            incident_notify(incident=transitions.resolved, event="resolved")
    # The opened quality incident already names every failing check: one message, not two.
    if newly_failing and quality.opened is None:
        notifications.check_failures(product=product, run=run, outcomes=newly_failing)
    return run


def _newly_failing(outcomes: list[CheckOutcome], previous: CheckRun | None) -> list[CheckOutcome]:
    """Error-severity outcomes that fail now and passed (or did not exist) last run."""
    before: dict[str, bool] = {}
    if previous is not None:
        before = {r.check_name: r.passed for r in previous.results.all()}
    return [
        o
        for o in outcomes
        if o.severity == Severity.ERROR and not o.passed and before.get(o.check_name, True)
    ]


def _sync_stale_incident(*, product: DataProduct, run: CheckRun, now: datetime) -> _Transitions:
    """Open a stale-data incident on a freshness SLA breach; resolve it once data is fresh."""
    limit_h = FRESHNESS_HOURS.get(product.sla_freshness)
    newest = product.newest_data_at
    if limit_h is None or newest is None:
        return _Transitions()  # no evidence either way: leave any incident as it is
    hours_stale = max(0.0, (now - newest).total_seconds() / 3600)
    if hours_stale > limit_h:
        message = (
            f"{product.product_id}: newest data is {human_hours(hours_stale)} old; "
            f"the {product.sla_freshness} freshness SLA allows {limit_h:g} h"
        )
        try:
            with transaction.atomic():
                incident = Incident.objects.create(
                    product=product,
                    kind=STALE_INCIDENT,
                    opened_at=now,
                    message=message,
                    opened_by_run=run,
                )
        except IntegrityError:  # already open: one incident, one notification
            return _Transitions()
        return _Transitions(opened=incident)
    open_incident = product.incidents.filter(
        kind=STALE_INCIDENT, status=IncidentStatus.OPEN
    ).first()
    if open_incident is None:
        return _Transitions()
    resolved = Incident.objects.filter(pk=open_incident.pk, status=IncidentStatus.OPEN).update(
        status=IncidentStatus.RESOLVED,
        resolved_at=now,
        resolution=f"data is fresh again ({human_hours(hours_stale)} old, SLA {limit_h:g} h)",
    )
    if not resolved:
        return _Transitions()
    open_incident.refresh_from_db()
    return _Transitions(resolved=open_incident)


def _quality_message(product: DataProduct, failing: list[CheckOutcome]) -> str:
    """``<product>: 2 error-severity checks failing: a (failed): …; b (error): …``."""
    shown = "; ".join(
        f"{o.check_name} ({o.status}): {o.message[:200]}" if o.message else o.check_name
        for o in failing[:5]
    )
    more = f"; and {len(failing) - 5} more" if len(failing) > 5 else ""
    count = f"{len(failing)} error-severity check{'s' if len(failing) > 1 else ''}"
    return f"{product.product_id}: {count} failing: {shown}{more}"


def _sync_quality_incident(
    *,
    product: DataProduct,
    run: CheckRun,
    outcomes: list[CheckOutcome],
    now: datetime,
    stale_open: bool = False,
) -> _Transitions:
    """Open a quality incident when an error-severity check fails or errors; resolve it once
    every error-severity check passes again (issue 12). One open per product (the constraint).

    One problem, one incident: while a stale-data incident is open, failing freshness checks
    are that incident's, so stale data alone does not open a second one.
    """
    failing = [
        o
        for o in outcomes
        if o.severity == Severity.ERROR
        and not o.passed
        and not (stale_open and o.type == CheckType.FRESHNESS and o.status == CheckStatus.FAILED)
    ]
    if failing:
        try:
            with transaction.atomic():
                incident = Incident.objects.create(
                    product=product,
                    kind=QUALITY_INCIDENT,
                    opened_at=now,
                    message=_quality_message(product, failing),
                    opened_by_run=run,
                )
        except IntegrityError:  # already open: one incident, one notification
            return _Transitions()
        return _Transitions(opened=incident)
    open_incident = product.incidents.filter(
        kind=QUALITY_INCIDENT, status=IncidentStatus.OPEN
    ).first()
    if open_incident is None:
        return _Transitions()
    checked = [o for o in outcomes if o.severity == Severity.ERROR]
    if any(not o.passed for o in checked):
        resolution = (
            f"the other error-severity checks pass again (run {run.pk}); the failing "
            "freshness check belongs to the open stale-data incident"
        )
    elif checked:
        resolution = f"all {len(checked)} error-severity checks pass again (run {run.pk})"
    else:
        resolution = f"no error-severity check fails any more (run {run.pk})"
    resolved = Incident.objects.filter(pk=open_incident.pk, status=IncidentStatus.OPEN).update(
        status=IncidentStatus.RESOLVED, resolved_at=now, resolution=resolution
    )
    if not resolved:
        return _Transitions()
    open_incident.refresh_from_db()
    return _Transitions(resolved=open_incident)


def incident_notify(*, incident: Incident, event: str) -> bool:
    """Tell owners and consumers about an incident event once; returns whether it was sent."""
    stamp_field = "notified_open_at" if event == "opened" else "notified_resolved_at"
    won = Incident.objects.filter(pk=incident.pk, **{f"{stamp_field}__isnull": True}).update(
        **{stamp_field: timezone.now()}
    )
    if not won:
        return False
    notifications.incident_event(incident=incident, event=event)
    return True


def history_prune(*, now: datetime | None = None) -> int:
    """Delete finished runs older than the retention, keeping each product's last run."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=retention_days())
    keep = {
        selectors.last_finished_run_id(product_id)
        for product_id in CheckRun.objects.values_list("product_id", flat=True).distinct()
    }
    old = CheckRun.objects.filter(status__in=FINISHED_STATUSES, finished_at__lt=cutoff).exclude(
        pk__in=[k for k in keep if k is not None]
    )
    deleted, per_model = old.delete()
    return int(per_model.get(CheckRun._meta.label, 0))
