"""Writes to the catalog: publishing contracts, consumers, domain settings.

Every entry point (``manage.py publish``, ``PUT /v1/catalog/products/<id>``, the admin form,
ODCS documents, ``seed_demo``, deprecate and retire) publishes through ``product_publish`` so a
contract is validated, authorised, gated and stored the same way everywhere.

Writes to one product are serialised (issue 13): the gates judge a contract against the
version it follows, then the write happens under a lock only if that version is still the
latest (compare-and-set); otherwise the contract is judged again against the new latest.
Every accepted change carries a new, higher ``version``: the same version with another
document is a conflict (409), so history holds one row per version and versions never go down.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone

from accounts import permissions
from accounts.models import User

from .contract import Contract, ContractError, ContractIssue, parse_contract
from .models import Column, Consumer, ContractVersion, DataProduct, Domain, QualityCheck


class PublishRefused(Exception):
    """A valid contract that may not be published as it stands (policy, breaking change, table)."""

    def __init__(self, code: str, issues: list[ContractIssue]) -> None:
        self.code = code
        self.issues = issues
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


@dataclass
class GateResult:
    """What one publish gate found: blocking issues, warnings and (for the diff) changes."""

    errors: list[ContractIssue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    is_breaking: bool = False
    code: str = "POLICY"


# A gate looks at the new contract and the last published one (None for a new product) and
# reports what it found. Governance, breaking-change and warehouse-conformance gates register
# here (see catalog/governance.py); they run in order and the first blocking one refuses.
PublishGate = Callable[[Contract, Contract | None, Domain | None], GateResult]
PUBLISH_GATES: list[PublishGate] = []
# Gates that read other catalog rows; run again under the publish's lock, before the write.
PUBLISH_RECHECKS: list[PublishGate] = []
# A publish judged against a version that was superseded before it could be written is judged
# again; after this many rounds it is refused as a conflict.
PUBLISH_ATTEMPTS = 3


def contract_input(data: object) -> object:
    """Accept our contract document or an ODCS v3 one (converted to ours)."""
    from . import odcs

    if isinstance(data, dict) and odcs.is_odcs(data):
        return odcs.from_odcs(data)
    return data


def product_document(product: DataProduct) -> dict[str, Any]:
    """The product's current contract as the canonical camelCase document."""
    return product_contract(product).to_dict()


def product_contract(product: DataProduct) -> Contract:
    """Rebuild the ``Contract`` from the product's rows."""
    doc: dict[str, Any] = {
        "id": product.product_id,
        "domain": product.domain.slug,
        "name": product.name,
        "description": product.description,
        "owner": {
            "team": product.owner_team,
            "contact": product.owner_contact,
            "slackChannel": product.owner_slack_channel,
        },
        "schema": [
            {
                "column": c.name,
                "type": c.type,
                "description": c.description,
                "pii": c.pii,
                "nullable": c.nullable,
                **({"mask": c.mask} if c.mask else {}),
            }
            for c in product.columns.all()
        ],
        "sla": {
            "freshness": product.sla_freshness,
            "availability": product.sla_availability,
            "queryLatencyP95Ms": product.sla_query_latency_p95_ms,
        },
        "qualityChecks": [
            {
                "name": q.name,
                "type": q.type,
                **({"column": q.column} if q.column else {}),
                **({"params": q.params} if q.params else {}),
                "severity": q.severity,
            }
            for q in product.checks.all()
        ],
        "tags": list(product.tags),
        "version": product.version,
        "status": product.status,
        "table": product.table,
    }
    if product.published_at is not None:
        doc["publishedAt"] = product.published_at.isoformat().replace("+00:00", "Z")
    if product.status in ("deprecated", "retired") and (
        product.deprecation_sunset_at
        or product.deprecation_replaced_by
        or product.deprecation_reason
    ):
        dep: dict[str, Any] = {"reason": product.deprecation_reason}
        if product.deprecation_sunset_at:
            dep["sunsetAt"] = product.deprecation_sunset_at.isoformat().replace("+00:00", "Z")
        if product.deprecation_replaced_by:
            dep["replacedBy"] = product.deprecation_replaced_by
        doc["deprecation"] = dep
    return parse_contract(doc)


def last_published_contract(product: DataProduct) -> Contract | None:
    """The contract of the product's newest ContractVersion, if any."""
    return _version_contract(product.versions.order_by("-id").first(), product)


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


def product_publish(
    *,
    actor: User | None,
    document: object,
    source: str = "api",
    expected_id: str | None = None,
    dry_run: bool = False,
) -> PublishOutcome:
    """Validate a contract document and create or update its product.

    Steps: parse and validate the contract (ours or ODCS); check the URL id; then, until it is
    written or refused (at most ``PUBLISH_ATTEMPTS`` rounds): read the product and its latest
    version; authorise the actor (owner of the domain, or admin; ``None`` is a trusted system
    caller); refuse a version conflict; run every publish gate against that latest version
    (without holding a lock: gates read the warehouse); then in one transaction lock the domain
    and the product, and write only if the latest version is still the one judged against
    (else judge again), after the rechecks: upsert product, columns and checks and append a
    ContractVersion. Publishing the same document again changes nothing.
    ``dry_run`` stops after the gates: everything is checked, nothing is written.
    Raises ContractError, PermissionDenied, PublishRefused or PublishConflict (nothing written).
    """
    contract = parse_contract(contract_input(document))
    if expected_id is not None and contract.id != expected_id:
        raise ContractError(
            [ContractIssue("id", f"must match the product in the URL ({expected_id})")]
        )
    for _ in range(PUBLISH_ATTEMPTS):
        outcome = _publish_once(actor=actor, contract=contract, source=source, dry_run=dry_run)
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
    product = DataProduct.objects.select_related("domain").filter(product_id=contract.id).first()
    _authorize(actor, contract, product)
    last = product.versions.order_by("-id").first() if product is not None else None
    previous = _version_contract(last, product) if product is not None else None
    contract = _with_published_at(contract, last)
    new_doc = contract.to_dict()
    if last is not None:
        _check_version(contract, new_doc, last)

    domain = Domain.objects.filter(slug=contract.domain).first()
    gated = _run_gates(PUBLISH_GATES, contract, previous, domain)
    if dry_run:
        return PublishOutcome(
            product or DataProduct(product_id=contract.id),
            product is None,
            True,
            None,
            gated.changes,
            gated.warnings,
        )
    with transaction.atomic():
        domain = _lock_domain(contract.domain)
        locked = (
            DataProduct.objects.select_for_update()
            .select_related("domain")
            .filter(product_id=contract.id)
            .first()
        )
        latest = locked.versions.order_by("-id").first() if locked is not None else None
        if (locked is None) != (product is None) or _pk(latest) != _pk(last):
            return None  # someone published in between: judge again against their version
        _run_gates(PUBLISH_RECHECKS, contract, previous, domain)
        if locked is not None and latest is not None and latest.document == new_doc:
            return PublishOutcome(locked, False, False, None, [], gated.warnings)
        permissions.grant_domain(domain)
        created = locked is None
        target = (
            locked if locked is not None else DataProduct(product_id=contract.id, domain=domain)
        )
        _apply(target, contract)
        try:
            with transaction.atomic():
                version = ContractVersion.objects.create(
                    product=target,
                    version=contract.version,
                    document=new_doc,
                    changes=gated.changes,
                    is_breaking=gated.is_breaking,
                    source=source,
                    published_by=actor,
                )
        except IntegrityError:  # the lock makes this unreachable; the constraint is the backstop
            raise _version_taken(contract, contract.version) from None
        from . import lifecycle_hooks

        transaction.on_commit(lambda: lifecycle_hooks.after_publish(version.pk))
    return PublishOutcome(target, created, True, version, gated.changes, gated.warnings)


def _sans_date(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "publishedAt"}


def _with_published_at(contract: Contract, last: ContractVersion | None) -> Contract:
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
    return parse_contract({**document, "publishedAt": timezone.now().isoformat()})


def _pk(row: models.Model | None) -> int | None:
    return row.pk if row is not None else None


def _version_contract(last: ContractVersion | None, product: DataProduct) -> Contract | None:
    """The contract of ``last`` (the product's newest ContractVersion), if any."""
    if last is None:
        return None
    try:
        return parse_contract(last.document)
    except ContractError:  # an older document that today's rules refuse: compare with rows
        return product_contract(product)


def _version_taken(contract: Contract, latest: int) -> PublishConflict:
    return PublishConflict(
        "VERSION_CONFLICT",
        [
            ContractIssue(
                "version",
                f"version {contract.version} of {contract.id} is already published with a "
                f"different document; publish this one as version {latest + 1}",
            )
        ],
    )


def _check_version(contract: Contract, new_doc: dict[str, Any], last: ContractVersion) -> None:
    """Refuse a version below the latest, or the latest version with another document."""
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
        raise _version_taken(contract, last.version)


@dataclass
class _Gated:
    warnings: list[str] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    is_breaking: bool = False


def _run_gates(
    gates: list[PublishGate], contract: Contract, previous: Contract | None, domain: Domain | None
) -> _Gated:
    """Run ``gates`` in order; the first with errors refuses (PublishRefused)."""
    out = _Gated()
    for gate in gates:
        result = gate(contract, previous, domain)
        if result.errors:
            raise PublishRefused(result.code, result.errors)
        out.warnings.extend(result.warnings)
        out.changes.extend(result.changes)
        out.is_breaking = out.is_breaking or result.is_breaking
    return out


def _lock(model: type[models.Model], **lookup: Any) -> int:
    """Lock the matching rows until the transaction ends; return how many there are.

    An UPDATE that changes nothing rather than SELECT ... FOR UPDATE: PostgreSQL locks the rows
    the same way, and SQLite (which ignores FOR UPDATE) takes its database write lock at the
    start of the transaction, so the transaction never reads a snapshot it cannot write from.
    """
    pk = model._meta.pk.name  # type: ignore[union-attr]
    return model._default_manager.filter(**lookup).update(**{pk: F(pk)})


def _lock_domain(slug: str) -> Domain:
    """Lock (creating it first if need be) the domain every publish of its products takes.

    Products of one domain are written one at a time, so two of them cannot both take a
    table that was free when each was judged (the table-binding recheck runs under it).
    """
    if not _lock(Domain, slug=slug):
        domain, _ = Domain.objects.get_or_create(slug=slug, defaults={"name": slug.title()})
        _lock(Domain, pk=domain.pk)
    return Domain.objects.get(slug=slug)


def _apply(product: DataProduct, contract: Contract) -> None:
    """Copy the contract onto the product's rows (product, columns, checks)."""
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
    dep = contract.deprecation
    product.deprecation_sunset_at = dep.sunset_at if dep else None
    product.deprecation_replaced_by = (dep.replaced_by or "") if dep else ""
    product.deprecation_reason = dep.reason if dep else ""
    product.has_pii = any(c.pii for c in contract.schema)
    if product.next_check_at is None:
        product.next_check_at = timezone.now()
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
    from .search import search_index_refresh

    search_index_refresh([product.pk])


class ConsumerTaken(Exception):
    """Another user's consumer registration, which this actor may not change (HTTP 409)."""


def consumer_register(
    *, actor: User | None, product: DataProduct, team: str, use_case: str, contact: str
) -> tuple[Consumer, bool]:
    """Register a team as a consumer of ``product``, or update the team's registration.

    A registration is changed only by whoever made it, the product's owners or admins
    (``actor=None`` is a trusted system caller such as seed_demo); anyone else gets
    ConsumerTaken instead of overwriting another team's contact (issue 11). Registrations of
    one product are written one at a time (issue 13).
    """
    team = team.strip()
    fields = {"use_case": use_case.strip(), "contact": contact}
    with transaction.atomic():
        _lock(DataProduct, pk=product.pk)
        consumer = Consumer.objects.filter(product=product, team=team).first()
        if consumer is None:
            consumer = Consumer.objects.create(
                product=product, team=team, registered_by=actor, **fields
            )
            return consumer, True
        if actor is not None and not permissions.can_change_consumer(actor, consumer):
            raise ConsumerTaken(
                f"team {team} is already registered as a consumer of {product.product_id} by "
                "another user; only they, the product's owners or an admin may change it"
            )
        for name, value in fields.items():
            setattr(consumer, name, value)
        consumer.save(update_fields=[*fields, "updated_at"])
        return consumer, False


def consumer_withdraw(*, actor: User, consumer: Consumer) -> None:
    """Withdraw a consumer registration: its registrant, the product's owners or admins only.

    Raises PermissionDenied for anyone else. Registrations of one product are written one at
    a time, as in ``consumer_register``.
    """
    if not permissions.can_change_consumer(actor, consumer):
        raise PermissionDenied(
            f"only whoever registered {consumer.team}, the product's owners or an admin may "
            "withdraw this registration"
        )
    with transaction.atomic():
        _lock(DataProduct, pk=consumer.product_id)
        Consumer.objects.filter(pk=consumer.pk).delete()


class DomainSettingsDenied(PermissionDenied):
    """Settings of a domain the actor may not change; ``fields`` names them (HTTP 403)."""

    def __init__(self, fields: list[str], message: str) -> None:
        self.fields = fields
        super().__init__(message)


class DomainSettingsInvalid(Exception):
    """A domain setting that cannot be stored; ``field`` names it (HTTP 400)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


_DOMAIN_SETTING_NAMES = {
    "slack_webhook_url": "the Slack webhook",
    "table_prefix": "the table prefix",
}


def webhook_url_problem(url: str) -> str | None:
    """Why the portal refuses to post to ``url`` (private, loopback, metadata...), or None."""
    from quality.webhooks import UnsafeURL, check_url

    try:
        check_url(url, allow_private=bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE", False)))
    except UnsafeURL as exc:
        return str(exc)
    return None


def domain_update(
    *,
    actor: User,
    domain: Domain,
    slack_webhook_url: str | None = None,
    table_prefix: str | None = None,
) -> Domain:
    """Change a domain's settings: its Slack webhook (owners, admins), its table prefix (admins).

    ``None`` leaves a setting as it is; ``""`` clears it (a blank prefix is the default one).
    Raises DomainSettingsDenied naming what the actor may not change, or DomainSettingsInvalid.
    """
    from .namespace import prefix_problem

    wanted = {
        name: value
        for name, value in (
            ("slack_webhook_url", slack_webhook_url),
            ("table_prefix", table_prefix),
        )
        if value is not None
    }
    if not wanted:
        return domain
    denied = permissions.can_change_domain_settings(actor, domain, list(wanted))
    if denied:
        who = "admins" if permissions.can(actor, "change", domain) else "its owners or admins"
        what = " and ".join(_DOMAIN_SETTING_NAMES[name] for name in denied)
        raise DomainSettingsDenied(denied, f"only {who} may change {what} of domain {domain.slug}")
    url = wanted.get("slack_webhook_url")
    if url:
        problem = webhook_url_problem(url)
        if problem:
            raise DomainSettingsInvalid("slack_webhook_url", problem)
    prefix = wanted.get("table_prefix")
    if prefix:
        problem = prefix_problem(prefix)
        if problem:
            raise DomainSettingsInvalid("table_prefix", problem)
    with transaction.atomic():
        _lock(Domain, pk=domain.pk)
        fresh = Domain.objects.get(pk=domain.pk)
        for name, value in wanted.items():
            setattr(fresh, name, value)
        if "table_prefix" in wanted:
            clash = next(
                (
                    d.slug
                    for d in Domain.objects.exclude(pk=fresh.pk)
                    if d.effective_table_prefix == fresh.effective_table_prefix
                ),
                None,
            )
            if clash is not None:
                raise DomainSettingsInvalid(
                    "table_prefix",
                    f"domain {clash} already uses the prefix {fresh.effective_table_prefix}",
                )
        fresh.save(update_fields=list(wanted))
    return fresh


# A domain slug is the first part of every product id (``<domain>.<product>``, contract.ID_RE).
DOMAIN_SLUG_RE = re.compile(r"[a-z][a-z0-9-]*")
DOMAIN_SLUG_MAX = 63
DOMAIN_NAME_MAX = 200
DOMAIN_DESCRIPTION_MAX = 10_000


def _text_problem(value: str, *, max_length: int, one_line: bool) -> str | None:
    """Why ``value`` cannot be stored as a domain's name or description, or None."""
    if len(value) > max_length:
        return f"must be at most {max_length:,} characters"
    allowed = set() if one_line else {"\n", "\t"}
    if any(unicodedata.category(ch) in {"Cc", "Cs"} and ch not in allowed for ch in value):
        where = " on one line" if one_line else ""
        return f"must be printable text{where} (no control characters or invalid UTF-8)"
    return None


@transaction.atomic
def domain_upsert(
    *,
    slug: str,
    name: str | None = None,
    description: str | None = None,
    table_prefix: str | None = None,
    owner: User | None = None,
) -> tuple[Domain, bool]:
    """Create a domain or update the fields given, grant its team groups, add ``owner``.

    Returns ``(domain, created)``. ``None`` leaves a field as it is; a blank ``table_prefix``
    is the default ``<slug>_``. Raises DomainSettingsInvalid naming the field.
    """
    from .namespace import prefix_problem

    if len(slug) > DOMAIN_SLUG_MAX or not DOMAIN_SLUG_RE.fullmatch(slug):
        raise DomainSettingsInvalid(
            "slug",
            "must be lowercase ASCII letters, digits and '-', start with a letter and be at "
            f"most {DOMAIN_SLUG_MAX} characters (it starts every product id: <domain>.<product>)",
        )
    wanted: dict[str, str] = {}
    if name is not None:
        name = name.strip()
        problem = "must not be blank" if not name else None
        problem = problem or _text_problem(name, max_length=DOMAIN_NAME_MAX, one_line=True)
        if problem:
            raise DomainSettingsInvalid("name", problem)
        wanted["name"] = name
    if description is not None:
        problem = _text_problem(description, max_length=DOMAIN_DESCRIPTION_MAX, one_line=False)
        if problem:
            raise DomainSettingsInvalid("description", problem)
        wanted["description"] = description
    if table_prefix is not None:
        problem = prefix_problem(table_prefix) if table_prefix else None
        if problem:
            raise DomainSettingsInvalid("table_prefix", problem)
        wanted["table_prefix"] = table_prefix
    if owner is not None and not owner.is_active:
        raise DomainSettingsInvalid("owner", f"user {owner.username} is inactive")

    created = False
    if not _lock(Domain, slug=slug):
        default_name = slug.replace("-", " ").title()
        _, created = Domain.objects.get_or_create(
            slug=slug, defaults={"name": wanted.get("name", default_name)}
        )
        _lock(Domain, slug=slug)
    domain = Domain.objects.get(slug=slug)
    changed = [key for key, value in wanted.items() if getattr(domain, key) != value]
    for key in changed:
        setattr(domain, key, wanted[key])
    mine = domain.effective_table_prefix
    clash = next(
        (d.slug for d in Domain.objects.exclude(pk=domain.pk) if d.effective_table_prefix == mine),
        None,
    )
    if clash is not None:
        # Raising rolls the whole call back: a new domain is not left behind.
        raise DomainSettingsInvalid(
            "table_prefix",
            f"domain {clash} already uses the table prefix {mine}; give {slug} its own",
        )
    if changed:
        domain.save(update_fields=changed)
    permissions.grant_domain(domain)
    if owner is not None:
        permissions.membership_set(user=owner, domain=domain, is_owner=True)
        if not owner.is_staff:  # as accounts.services.user_upsert: owners use the admin too
            owner.is_staff = True
            owner.save(update_fields=["is_staff"])
    return domain, created
