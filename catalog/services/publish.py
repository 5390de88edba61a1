"""What happens when an owner publishes: the one publish pipeline, read top to bottom.

Every entry point (``PUT /v1/catalog/products/<id>``, the admin form, ``manage.py publish``,
ODCS documents, ``seed_demo``, deprecate and retire) calls ``product_publish``:

1. parse and validate the document, ours or ODCS (``catalog.contract``); check the URL's id;
2. read the product and its latest version; authorise the actor; refuse a version conflict;
3. diff the contract against that version, once (``catalog.contract_diff``);
4. the gates, in this order, each handed that one diff (``catalog/governance/gates.py``); the
   first that finds a blocking problem refuses and nothing is written: lifecycle, breaking
   change (with its impact downstream), lineage (inputs), table binding, policies, custom SQL,
   conformance (``_judge``);
5. in one transaction: lock the domain and the product; when another publish landed since
   step 2, judge again against it (compare-and-set; the last of ``PUBLISH_ATTEMPTS`` rounds
   judges under the locks, so it cannot lose again); run the table-binding gate again under
   the lock; write the product, its columns and checks, its
   inputs as consumer links (``catalog.lineage.inputs_record``), and append the
   ContractVersion (noted on the product when it is its first draft or first published
   version: ``history.first_versions_note``). The product is due for checks now
   (``next_check_at``): quality's dispatcher sees the new version and records its ``publish``
   run (quality/services.py);
6. after commit, named Celery tasks (``catalog/tasks.py``), never network calls inside the
   request: e-mail the consumers what changed for them; refresh the search index
   (``_after_commit``).

Writes to one product are serialised (issue 13): every accepted change carries a new, higher
``version``; the same version with another document is a conflict (409), so history holds one
row per version and versions never go down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from accounts import permissions
from accounts.models import User
from catalog.contract import Contract, ContractError, ContractIssue, parse_contract
from catalog.contract_diff import Change, diff_contracts
from catalog.documents import contract_input, version_contract
from catalog.governance.gates import (
    Candidate,
    GateResult,
    breaking_change_gate,
    conformance_gate,
    custom_sql_gate,
    impact_text,
    lifecycle_gate,
    lineage_gate,
    policies_gate,
    table_binding_gate,
)
from catalog.lineage import inputs_record, product_impact_by_id
from catalog.models import (
    Column,
    ContractVersion,
    DataProduct,
    Domain,
    QualityCheck,
    WarehouseConnection,
)
from catalog.tasks import consumers_notify_task, queue, search_index_refresh_task

from .history import first_versions_note
from .locks import domain_lock, rows_lock

# A publish judged against a version that was superseded before it could be written is judged
# again; after this many rounds it is refused as a conflict.
PUBLISH_ATTEMPTS = 3


class PublishRefused(Exception):
    """A valid contract that may not be published as it stands (policy, breaking change, table)."""

    def __init__(
        self, code: str, issues: list[ContractIssue], impact: dict[str, Any] | None = None
    ) -> None:
        self.code = code
        self.issues = issues
        # A refused breaking change: what it would have reached downstream (issue 16).
        self.impact = impact
        super().__init__("\n".join(str(i) for i in issues))


class PublishConflict(PublishRefused):
    """The contract conflicts with the product's latest version (HTTP 409): codes
    ``VERSION_CONFLICT`` (same version, other document; or a lower version) and
    ``CONCURRENT_PUBLISH`` (the product kept changing while this publish was judged)."""


@dataclass
class PublishOutcome:
    """What ``product_publish`` did."""

    product: DataProduct
    created: bool
    changed: bool
    version: ContractVersion | None
    changes: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    impact: dict[str, Any] | None = None


def product_publish(
    *,
    actor: User | None,
    document: object,
    source: str = "api",
    expected_id: str | None = None,
    dry_run: bool = False,
) -> PublishOutcome:
    """Validate a contract document and create or update its product (the module's steps).

    ``actor`` must own the product's domain or be an admin; ``None`` is a trusted system
    caller (``manage.py publish`` without ``--as``, seed_demo). Publishing the same document
    again changes nothing. ``dry_run`` stops after the gates: everything is checked, nothing is
    written. Raises ContractError, PermissionDenied, PublishRefused or PublishConflict (nothing
    written).
    """
    contract = parse_contract(contract_input(document))
    if expected_id is not None and contract.id != expected_id:
        raise ContractError(
            [ContractIssue("id", f"must match the product in the URL ({expected_id})")]
        )
    for attempt in range(1, PUBLISH_ATTEMPTS + 1):
        if attempt < PUBLISH_ATTEMPTS or dry_run:
            outcome = _publish_once(actor=actor, contract=contract, source=source, dry_run=dry_run)
        else:
            # The last round judges under the domain's and the product's locks, so no other
            # publish can land in between: many writers at once never exhaust the rounds.
            with transaction.atomic():
                domain_lock(contract.domain)
                rows_lock(DataProduct, product_id=contract.id)
                outcome = _publish_once(
                    actor=actor, contract=contract, source=source, dry_run=False
                )
        if outcome is not None:
            return outcome
    raise PublishConflict(
        "CONCURRENT_PUBLISH",
        [
            ContractIssue(
                "version",
                f"{contract.id} changed {PUBLISH_ATTEMPTS} times while this contract was being "
                "checked; fetch the latest version and publish again",
            )
        ],
    )


def _publish_once(
    *, actor: User | None, contract: Contract, source: str, dry_run: bool
) -> PublishOutcome | None:
    """One round of ``product_publish``; None when the product changed before the write."""
    now = timezone.now()
    product = DataProduct.objects.select_related("domain").filter(product_id=contract.id).first()
    _authorize(actor, contract, product)
    last = product.versions.order_by("-id").first() if product is not None else None
    previous = version_contract(last, product) if product is not None else None
    contract = _with_published_at(contract, last, now=now)
    new_doc = contract.to_dict()
    # The one diff of this round: every gate that needs it reads it from the candidate.
    changes = tuple(diff_contracts(previous, contract)) if previous is not None else ()
    if last is not None:
        _check_version(contract, new_doc, last, changes)

    domain = Domain.objects.filter(slug=contract.domain).first()
    candidate = Candidate(contract, previous, domain, changes, now)
    judged = _judge(candidate)
    if dry_run:
        stub = product or DataProduct(product_id=contract.id)
        return PublishOutcome(
            stub, product is None, True, None, judged.changes, judged.warnings, judged.impact
        )

    with transaction.atomic():
        domain, _ = domain_lock(contract.domain)
        locked = (
            DataProduct.objects.select_for_update()
            .select_related("domain")
            .filter(product_id=contract.id)
            .first()
        )
        latest = locked.versions.order_by("-id").first() if locked is not None else None
        if (locked is None) != (product is None) or _pk(latest) != _pk(last):
            return None  # someone published in between: judge again against their version
        # It reads other products, which a concurrent publish of the domain may have changed.
        _refuse_on_errors(table_binding_gate(candidate))
        if locked is not None and latest is not None and latest.document == new_doc:
            return PublishOutcome(locked, False, False, None, [], judged.warnings)
        permissions.grant_domain(domain)
        target = locked or DataProduct(product_id=contract.id, domain=domain)
        _write_rows(target, contract, now=now)
        inputs_record(product=target, inputs=contract.inputs, actor=actor, now=now)
        try:
            with transaction.atomic():
                version = ContractVersion.objects.create(
                    product=target,
                    version=contract.version,
                    document=new_doc,
                    changes=judged.changes,
                    is_breaking=judged.is_breaking,
                    source=source,
                    published_by=actor,
                )
        except IntegrityError:  # the lock makes this unreachable; the constraint is the backstop
            raise _version_taken(contract, contract.version) from None
        first_versions_note(product=target, version=version)
        _after_commit(version)
    return PublishOutcome(
        target, locked is None, True, version, judged.changes, judged.warnings, judged.impact
    )


@dataclass
class _Judged:
    """What the gates let through: warnings for the owner, and the recorded changes."""

    warnings: list[str] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    is_breaking: bool = False
    impact: dict[str, Any] | None = None

    def add(self, result: GateResult) -> None:
        """Keep what one gate found; refuse the publish when it found errors."""
        _refuse_on_errors(result)
        self.warnings.extend(result.warnings)
        self.changes.extend(result.changes)
        self.is_breaking = self.is_breaking or result.is_breaking
        self.impact = self.impact or result.impact


def _judge(candidate: Candidate) -> _Judged:
    """The gates, in order; the first with errors refuses (PublishRefused), so the later ones
    (which read the warehouse) never run for a contract already refused."""
    judged = _Judged()
    judged.add(lifecycle_gate(candidate))
    judged.add(breaking_change_gate(candidate))
    judged.add(lineage_gate(candidate))
    judged.add(table_binding_gate(candidate))
    judged.add(policies_gate(candidate))
    judged.add(custom_sql_gate(candidate))
    judged.add(conformance_gate(candidate))
    return judged


def _refuse_on_errors(result: GateResult) -> None:
    if result.errors:
        raise PublishRefused(result.code, result.errors, result.impact)


def _after_commit(version: ContractVersion) -> None:
    """Queue the publish's side effects as named tasks once the transaction commits."""
    transaction.on_commit(lambda: queue(consumers_notify_task, version.pk))
    transaction.on_commit(lambda: queue(search_index_refresh_task, [version.product_id]))


def _authorize(actor: User | None, contract: Contract, product: DataProduct | None) -> None:
    if actor is None:  # trusted system caller: manage.py publish without --as, seed_demo
        return
    if product is not None:
        if not permissions.can(actor, "change", product):
            raise PermissionDenied(
                f"you may not change {product.product_id} (domain {product.domain.slug})"
            )
    elif not permissions.can_create_in(actor, contract.domain):
        raise PermissionDenied(f"you may not publish products in domain {contract.domain!r}")


def _sans_date(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "publishedAt"}


def _with_published_at(
    contract: Contract, last: ContractVersion | None, *, now: datetime
) -> Contract:
    """``contract`` dated the way its version history reads (issue 12).

    ``publishedAt`` is when this version was published, so the product page's published date
    and its version history agree: the same contract published again keeps its date (a
    document that differs only in ``publishedAt`` is the same contract); a new version that
    gives no date, or repeats the previous version's (copied along by an export, the admin,
    a deprecation), is published now; a first version or a new one may state its own date.
    """
    document = contract.to_dict()
    stated = document.get("publishedAt")
    if last is not None:
        kept = last.document.get("publishedAt")
        if contract.version == last.version and _sans_date(document) == _sans_date(last.document):
            if stated == kept:
                return contract
            return parse_contract(
                {**_sans_date(document), **({"publishedAt": kept} if kept else {})}
            )
        if contract.version > last.version and stated is not None and stated != kept:
            return contract
    elif stated is not None:
        return contract
    return parse_contract({**document, "publishedAt": now.isoformat()})


def _pk(row: models.Model | None) -> int | None:
    return row.pk if row is not None else None


def _version_taken(
    contract: Contract, latest: int, changes: tuple[Change, ...] = ()
) -> PublishConflict:
    """The conflict of a version already published with another document; when the change
    is breaking, what it would reach downstream is said too (issue 16)."""
    message = (
        f"version {contract.version} of {contract.id} is already published with a "
        f"different document; publish this one as version {latest + 1}"
    )
    impact = product_impact_by_id(contract.id) if any(c.breaking for c in changes) else None
    if impact is not None and not impact.is_empty:
        message += f"; its breaking changes reach {impact_text(impact)}"
    return PublishConflict(
        "VERSION_CONFLICT",
        [ContractIssue("version", message)],
        impact.to_dict() if impact is not None and not impact.is_empty else None,
    )


def _check_version(
    contract: Contract, new_doc: dict[str, Any], last: ContractVersion, changes: tuple[Change, ...]
) -> None:
    """Refuse a version below the latest, or the latest version with another document.

    A *breaking* change at the latest version is left to the breaking-change gate: 400
    ``BREAKING_CHANGE`` naming each change and everything it reaches downstream (issue 16).
    Any other document at a taken version is a 409 (issue 13: of two publishes of one
    version, one wins, the other is told the version is taken)."""
    if contract.version < last.version:
        raise PublishConflict(
            "VERSION_CONFLICT",
            [
                ContractIssue(
                    "version",
                    f"must not go down: {contract.id} is at version {last.version}; "
                    f"publish version {last.version + 1} or higher",
                )
            ],
        )
    if contract.version == last.version and last.document != new_doc:
        if any(change.breaking for change in changes):
            return
        raise _version_taken(contract, last.version, changes)


def _write_rows(product: DataProduct, contract: Contract, *, now: datetime) -> None:
    """Copy the contract onto the product's rows (product, columns, checks).

    The product is due for checks now: quality's dispatcher records the new version's
    ``publish`` run (a data hand-over, so the catalog never calls quality).
    """
    product.name = contract.name
    product.description = contract.description
    product.owner_team = contract.owner.team
    product.owner_contact = contract.owner.contact
    product.owner_slack_channel = contract.owner.slack_channel
    product.sla_freshness = contract.sla.freshness
    product.sla_availability = contract.sla.availability
    product.sla_query_latency_p95_ms = contract.sla.query_latency_p95_ms
    product.tags = list(contract.tags)
    product.version = contract.version
    product.published_at = contract.published_at
    product.status = contract.status
    product.table = contract.table
    product.access = contract.access
    product.inputs = list(contract.inputs)
    # The contract's warehouse connection (issue 18; the conformance gate proved it exists).
    product.warehouse = (
        WarehouseConnection.objects.filter(name=contract.warehouse).first()
        if contract.warehouse
        else None
    )
    dep = contract.deprecation
    product.deprecation_sunset_at = dep.sunset_at if dep else None
    product.deprecation_replaced_by = (dep.replaced_by or "") if dep else ""
    product.deprecation_reason = dep.reason if dep else ""
    product.has_pii = any(c.pii for c in contract.schema)
    product.next_check_at = now
    product.save()
    product.columns.all().delete()
    Column.objects.bulk_create(
        Column(
            product=product,
            position=i,
            name=c.column,
            type=c.type,
            description=c.description,
            pii=c.pii,
            nullable=c.nullable,
            mask=c.mask or "",
        )
        for i, c in enumerate(contract.schema)
    )
    product.checks.all().delete()
    QualityCheck.objects.bulk_create(
        QualityCheck(
            product=product,
            position=i,
            name=q.name,
            type=q.type,
            column=q.column or "",
            params=dict(q.params),
            severity=q.severity,
        )
        for i, q in enumerate(contract.quality_checks)
    )
