"""Draft a data product's contract from a warehouse table (issue 15): one service, three doors.

``manage.py draft_contract``, ``POST /v1/catalog/drafts`` and the "New data product" page call
``contract_draft``. It writes nothing:

1. authorise (owners of the domain and admins; ``actor=None`` is the trusted CLI) and check
   the table: in the domain's namespace (its prefix or an admin's assignment, ``namespace``),
   present in the warehouse, bound by no live product; else ``DraftNotFound`` naming the tables
   the caller could mean, or ``DraftConflict``; the product id is free;
2. read the table once and draft it (``catalog.governance.drafting.draft_table``, pure): its
   columns, one sample of its first rows, one pass of the check engine proving the candidate
   checks with the profile's figures fused into the same scan, the domain's policies over the
   draft with the publish's own value sample.

The result passes ``parse_contract``; published as it is, its checks pass on the table.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accounts import permissions
from accounts.models import TeamMembership, User
from catalog.contract import ID_RE, ContractError
from catalog.contract.vocabulary import ProductStatus
from catalog.governance import drafting
from catalog.governance import selectors as governance
from catalog.governance.namespace import ascii_lower, table_owner
from catalog.governance.policies import PolicyRule
from catalog.models import DataProduct, Domain
from catalog.warehouses import domain_connection
from querying.warehouses import Warehouse, WarehouseError

SUGGESTIONS = 5


class DraftError(Exception):
    """A draft that cannot be made; ``code`` is stable, the message says what to do."""

    code = "DRAFT_REFUSED"

    def __init__(self, message: str, *, field: str = "table") -> None:
        super().__init__(message)
        self.field = field


class DraftNotFound(DraftError):
    """No such domain, or no such table the caller may draft (404); names what they could mean."""

    code = "NOT_FOUND"

    def __init__(self, message: str, *, field: str = "table", suggestions: list[str]) -> None:
        super().__init__(message, field=field)
        self.suggestions = suggestions


class DraftConflict(DraftError):
    """The table is bound by a product already, or the id is taken (409)."""

    code = "CONFLICT"


class DraftInvalid(DraftError):
    """An input that cannot be used as given (400)."""

    code = "INVALID"


class DraftUnavailable(DraftError):
    """The warehouse could not be read (503)."""

    code = "WAREHOUSE_UNAVAILABLE"


@dataclass
class ContractDraft:
    """A drafted contract document, the table's column profile, and every inference's note."""

    contract: dict[str, Any]
    profile: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """``{"contract", "profile", "notes"}``: the API's body."""
        return {"contract": self.contract, "profile": self.profile, "notes": self.notes}


def _warehouse(domain: Domain) -> Warehouse:
    """The domain's warehouse connection (issue 18): where its new tables are drafted from."""
    return domain_connection(domain).open()


def draft_domains(*, actor: User | None) -> list[Domain]:
    """The domains ``actor`` may draft products in (all of them for the trusted CLI)."""
    if actor is None:
        return list(Domain.objects.order_by("slug"))
    return list(permissions.owned_domains(actor).order_by("slug"))


def draftable_tables(
    *, actor: User | None, domain: Domain | None = None, warehouse: Warehouse | None = None
) -> dict[str, list[str]]:
    """Per domain slug, the warehouse tables ``actor`` may draft a product from.

    A table is offered to the owners of the domain whose namespace holds it (prefix or
    assignment), unless a live product (any status but retired) binds it already.
    """
    domains = draft_domains(actor=actor)
    if domain is not None:
        domains = [d for d in domains if d.pk == domain.pk]
    if not domains:
        return {}
    # Each domain's tables are read on its own connection (issue 18), once per connection.
    by_connection: dict[str, list[Domain]] = {}
    for each in domains:
        by_connection.setdefault(domain_connection(each).name, []).append(each)
    prefixes, assignments = governance.table_namespaces(creating=domains[0].slug)
    bound = _bound_tables()
    offered: dict[str, list[str]] = {d.slug: [] for d in domains}
    for group in by_connection.values():
        try:
            tables = (warehouse or _warehouse(group[0])).tables()
        except WarehouseError as exc:
            raise DraftUnavailable(f"the warehouse cannot be read: {_one_line(exc)}") from None
        wanted = {d.slug for d in group}
        for table in tables:
            owner = table_owner(table, prefixes=prefixes, assignments=assignments)
            if owner.domain in wanted and ascii_lower(table) not in bound:
                offered[owner.domain].append(table)
    return offered


def _bound_tables() -> set[str]:
    """Tables (ASCII-folded) a live product binds."""
    rows = DataProduct.objects.exclude(status=ProductStatus.RETIRED).values_list("table", flat=True)
    return {ascii_lower(t) for t in rows}


def contract_draft(
    *,
    actor: User | None,
    table: str,
    domain: str,
    product_id: str | None = None,
    name: str | None = None,
    now: datetime | None = None,
) -> ContractDraft:
    """Draft the contract of a new product over ``table`` in ``domain`` (the module's steps)."""
    now = now or timezone.now()
    found = Domain.objects.filter(slug=domain).first()
    if found is None:
        known = [d.slug for d in draft_domains(actor=actor)]
        raise DraftNotFound(
            f"no domain {domain!r}{_could_mean(domain, known)}", field="domain", suggestions=known
        )
    if actor is not None and not permissions.can_create_in(actor, found.slug):
        raise PermissionDenied(f"only owners of domain {found.slug} and admins may draft products")
    try:
        warehouse = _warehouse(found)
    except WarehouseError as exc:
        raise DraftUnavailable(f"the warehouse cannot be read: {_one_line(exc)}") from None
    offered = draftable_tables(actor=actor, domain=found, warehouse=warehouse).get(found.slug, [])
    if table not in offered:
        _refuse_table(table, found, offered)
    pid = product_id or drafting.default_product_id(found.slug, table, found.effective_table_prefix)
    _check_id(pid, found.slug, explicit=product_id is not None)
    label = (name or "").strip() or drafting.default_name(pid)
    identity = drafting.Identity(
        product_id=pid,
        name=label,
        domain=found.slug,
        domain_name=found.name or found.slug,
        table=table,
        contact=_contact(actor, found),
        slack_channel=f"#{found.slug}-data",
    )
    try:
        draft = drafting.draft_table(
            warehouse,
            identity,
            rules=_rules(found),
            now=now,
            timeout_s=float(settings.CHECK_TIMEOUT_S),
            hash_key=settings.PII_HASH_KEY,
        )
    except drafting.TableUnreadable as exc:
        if exc.missing:  # dropped since it was listed
            _refuse_table(table, found, [t for t in offered if t != table])
        raise DraftUnavailable(str(exc)) from None
    except ContractError as exc:  # a drafting bug: never hand out a contract that fails
        raise DraftInvalid(f"the drafted contract is invalid: {exc.issues[0]}") from None
    return ContractDraft(contract=draft.document, profile=draft.profile, notes=draft.notes)


def _refuse_table(table: str, domain: Domain, offered: list[str]) -> None:
    """Raise the right refusal for a table ``domain``'s owners may not draft from."""
    if not isinstance(table, str) or not table.strip():
        raise DraftInvalid("name the table to draft from")
    bound = governance.live_products_on(table, excluding="")
    mine = [
        (pid, status)
        for pid, status, theirs in bound
        if ascii_lower(theirs) == ascii_lower(table) and pid.split(".", 1)[0] == domain.slug
    ]
    if mine:
        pid, status = mine[0]
        raise DraftConflict(
            f"table {table} is already bound by {pid} ({status}); edit that product"
        )
    prefix = domain.effective_table_prefix
    raise DraftNotFound(
        f"no table {table!r} that domain {domain.slug} may draft from (its tables start with "
        f"{prefix} or are assigned to it, and no product binds them yet)"
        f"{_could_mean(table, offered)}",
        suggestions=difflib.get_close_matches(table, offered, n=SUGGESTIONS, cutoff=0.4)
        or offered[:SUGGESTIONS],
    )


def _could_mean(given: str, known: list[str]) -> str:
    close = difflib.get_close_matches(str(given), known, n=SUGGESTIONS, cutoff=0.4)
    shown = close or known[:SUGGESTIONS]
    return f"; did you mean {', '.join(shown)}?" if shown else ""


def _check_id(product_id: str, domain: str, *, explicit: bool) -> None:
    if not re.match(ID_RE, product_id) or product_id.split(".", 1)[0] != domain:
        raise DraftInvalid(
            f"id {product_id!r} must look like {domain}.product_name (lowercase, snake_case)",
            field="id",
        )
    if DataProduct.objects.filter(product_id=product_id).exists():
        hint = "" if explicit else "; pass another id"
        raise DraftConflict(f"a data product {product_id} exists already{hint}", field="id")


def _rules(domain: Domain) -> list[PolicyRule]:
    try:
        return governance.rules_for(domain)
    except ValueError:  # the domain's overrides are invalid: the publish will say so
        return governance.global_rules()


def _contact(actor: User | None, domain: Domain) -> str:
    """The acting owner's address, else one of the domain's owners', else a placeholder."""
    if actor is not None and actor.email and permissions.can(actor, "create", domain):
        return str(actor.email)
    owner = (
        TeamMembership.objects.filter(domain=domain, is_owner=True)
        .exclude(user__email="")
        .select_related("user")
        .order_by("pk")
        .first()
    )
    if owner is not None:
        return str(owner.user.email)
    return f"{domain.slug}-owners@example.invalid"


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]
