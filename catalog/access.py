"""Raw access as catalog pages show it (issue 17): the caller's access to a product's PII, and
the write-up's masking figure with every raw read's justification.

Reads only. Requests and grants are ``accounts.access_models`` rows (the policy that reads them
is ``accounts.permissions``); the figures come from the audit log (``querying.models``: models
are below the catalog in the README's layer order). Writes are ``querying.access``'s.

**Masked share** (product page, scorecard): of the answered queries that read a product's PII
by people with no role or domain basis on it (not an admin, an owner of its domain, or a member
the domain lets read raw), the share that read it masked; the others read it raw under an
access grant. **Raw reads**: answered queries that read PII raw, by justification (``role:admin``,
``domain:owner``, ``domain:member``, ``grant:<id>``), counted from what the audit log stored for
each raw column; a raw read without a justification is refused before it runs
(``querying.services``), so the count of unjustified ones is a check, always 0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count

from accounts import permissions
from accounts.access_models import AccessRequest, AccessStatus
from querying.models import PRIVILEGED_ACCESS, PiiAccess, QueryDecision, QueryLog, QueryProductUse

from .contract.vocabulary import Access, ProductStatus
from .models import DataProduct

WINDOW_DAYS = 30
# Raw reads whose justifications are read back from the audit rows (the newest ones).
RAW_ROWS_READ = 2000
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class MaskingFigure:
    """The write-up's metric over some products and ``WINDOW_DAYS`` days."""

    non_privileged: int  # answered queries that read PII with no role or domain basis
    masked: int  # of those, read masked
    raw_by_grant: int  # of those, read raw under a grant
    raw_by_basis: dict[str, int]  # raw reads per justification ("grant:12", "domain:owner")
    unjustified: int  # raw reads the audit stored without a justification (never: a check)
    window_days: int = WINDOW_DAYS

    @property
    def share(self) -> float | None:
        """Masked ÷ non-privileged (None when nobody without raw access read PII)."""
        return round(self.masked / self.non_privileged, 4) if self.non_privileged else None

    @property
    def raw_reads(self) -> int:
        """Answered queries that read PII raw, whatever their justification."""
        return sum(self.raw_by_basis.values())

    def as_dict(self) -> dict[str, Any]:
        """The figure as the scorecard's JSON shows it."""
        return {
            "nonPrivilegedQueries": self.non_privileged,
            "masked": self.masked,
            "rawByGrant": self.raw_by_grant,
            "share": self.share,
            "rawReads": self.raw_reads,
            "rawReadsBy": dict(self.raw_by_basis),
            "unjustifiedRawReads": self.unjustified,
            "windowDays": self.window_days,
        }


def masking_figure(product_ids: Iterable[str], *, now: datetime) -> MaskingFigure:
    """The masked share and raw reads' justifications over ``product_ids``, last 30 days.

    Two queries: the uses per kind of access (``QueryProductUse.pii_access``), and, when some
    read PII raw, the justifications the audit stored for those queries' raw columns. A query
    that read two products counts for each.
    """
    ids = sorted(set(product_ids))
    since = now - timedelta(days=WINDOW_DAYS)
    uses = QueryProductUse.objects.filter(
        product_id__in=ids, created_at__gte=since, decision=QueryDecision.ALLOWED
    )
    counts = dict(
        uses.exclude(pii_access=PiiAccess.NONE)
        .values_list("pii_access")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("pii_access", "n")
    )
    masked = counts.get(PiiAccess.MASKED, 0)
    granted = counts.get(PiiAccess.GRANT, 0)
    raw_kinds = (PiiAccess.GRANT, *PRIVILEGED_ACCESS)
    by_basis: Counter[str] = Counter()
    unjustified = 0
    if any(counts.get(kind) for kind in raw_kinds):
        raw_logs = (
            QueryLog.objects.filter(
                pk__in=uses.filter(pii_access__in=raw_kinds).values("log_id"),
                created_at__gte=since,
            )
            .order_by("-created_at", "-id")
            .values_list("raw_columns", flat=True)[:RAW_ROWS_READ]
        )
        prefixes = tuple(f"{pid}." for pid in ids)
        for raw in raw_logs:
            bases = {
                basis
                for column, basis in (raw or {}).items()
                if isinstance(column, str) and column.startswith(prefixes)
            }
            unjustified += "" in bases
            by_basis.update(b for b in bases if b)
    return MaskingFigure(
        non_privileged=masked + granted,
        masked=masked,
        raw_by_grant=granted,
        raw_by_basis=dict(sorted(by_basis.items())),
        unjustified=unjustified,
    )


@dataclass(frozen=True)
class PiiColumnAccess:
    """One PII column as the caller reads it."""

    name: str
    mask: str | None  # what others see
    basis: str | None  # why the caller reads it raw, or None: masked


@dataclass(frozen=True)
class ProductAccess:
    """The product page's "Raw access" card for one caller."""

    columns: tuple[PiiColumnAccess, ...]
    basis: str | None  # role or domain basis for every PII column
    grants: tuple[AccessRequest, ...]  # the caller's active grants on it
    pending: AccessRequest | None  # the caller's pending request on it
    restricted: bool
    may_request: bool
    max_days: int
    default_days: int
    decides: bool  # the caller decides requests on it (owner of its domain, admin)
    figure: MaskingFigure
    history: tuple[AccessRequest, ...] = field(default=())  # the caller's earlier requests

    @property
    def raw_columns(self) -> list[PiiColumnAccess]:
        """The PII columns the caller reads raw."""
        return [c for c in self.columns if c.basis]


def product_access(*, user: Any, product: DataProduct, now: datetime) -> ProductAccess:
    """What the caller reads raw of ``product`` and why, their grants and pending request,
    whether they may ask, and the product's masking figure."""
    pii = [c for c in product.columns.all() if c.pii]
    basis = permissions.pii_basis(user, product)
    mine = (
        list(
            AccessRequest.objects.filter(requester=user, product=product)
            .select_related("decided_by")
            .order_by("-created_at", "-id")[:20]
        )
        if getattr(user, "is_authenticated", False)
        else []
    )
    grants = tuple(r for r in mine if r.is_active(now))
    granted = permissions.granted_columns(
        [
            permissions.Grant(r.pk, product.pk, frozenset(r.columns), r.expires_at)
            for r in grants
            if r.expires_at is not None
        ],
        product.pk,
    )
    columns = tuple(
        PiiColumnAccess(c.name, c.effective_mask, basis or granted.get(c.name)) for c in pii
    )
    pending = next((r for r in mine if r.status == AccessStatus.PENDING), None)
    restricted = product.access == Access.RESTRICTED
    max_days = product.domain.access_max_days
    return ProductAccess(
        columns=columns,
        basis=basis,
        grants=grants,
        pending=pending,
        restricted=restricted,
        may_request=(
            basis is None
            and pending is None
            and (bool(pii) or restricted)
            and product.status in (ProductStatus.PUBLISHED, ProductStatus.DEPRECATED)
            and getattr(user, "is_authenticated", False)
        ),
        max_days=max_days,
        default_days=min(DEFAULT_DAYS, max_days),
        decides=permissions.can(user, "decide", product),
        figure=masking_figure([product.product_id], now=now),
        history=tuple(r for r in mine if r not in grants and r is not pending)[:5],
    )


def domain_masking_figure(product_ids: Iterable[str], *, now: datetime) -> dict[str, Any]:
    """The scorecard's masking figure for a domain's products (see the module's definitions)."""
    return masking_figure(product_ids, now=now).as_dict()


__all__ = [
    "MaskingFigure",
    "ProductAccess",
    "domain_masking_figure",
    "masking_figure",
    "product_access",
]
