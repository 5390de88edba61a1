"""The governed query audit log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time

from django.conf import settings
from django.db import models
from django.db.models import Case, Count, F, FloatField, Q, Value, When, Window
from django.db.models.functions import Coalesce, Greatest, RowNumber


class QueryDecision(models.TextChoices):
    ALLOWED = "allowed", "Allowed"
    REFUSED = "refused", "Refused"
    ERROR = "error", "Engine error"
    TIMEOUT = "timeout", "Timed out"


class PiiAccess(models.TextChoices):
    """How a query read PII (issue 17): the write-up's masking metric is counted from this.

    Raw reads name their kind of justification: a grant, or a role or domain basis
    (``PRIVILEGED``: admins, the domain's owners and, where the domain lets them, members).
    """

    NONE = "", "No PII"
    MASKED = "masked", "Masked"
    GRANT = "grant", "Raw under an access grant"
    MEMBER = "domain_member", "Raw as a member of the domain"
    OWNER = "domain_owner", "Raw as an owner of the domain"
    ADMIN = "admin", "Raw as a platform admin"


# Raw by role or domain: the people the masking metric calls privileged.
PRIVILEGED_ACCESS = (PiiAccess.MEMBER, PiiAccess.OWNER, PiiAccess.ADMIN)


class QueryLog(models.Model):
    """One governed query request, refused ones included; rows are appended, never changed."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="query_logs",
    )
    # Copied, not joined: the audit keeps what was true when the query ran.
    username = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=16, blank=True, db_index=True)
    submitted_sql = models.TextField()
    # What reached the warehouse, with the PII hash key replaced by a placeholder.
    executed_sql = models.TextField(blank=True)
    decision = models.CharField(max_length=16, choices=QueryDecision.choices, db_index=True)
    code = models.CharField(max_length=64, blank=True, db_index=True)
    message = models.TextField(blank=True)
    products = models.JSONField(default=list, blank=True)
    pii_columns = models.JSONField(default=list, blank=True, help_text="PII columns touched")
    masked_columns = models.JSONField(default=list, blank=True)
    # Every PII column read raw, with its justification (issue 17): {"product.column":
    # "role:admin" | "domain:owner" | "domain:member" | "grant:<id>"}. Never one without.
    raw_columns = models.JSONField(default=dict, blank=True)
    pii_access = models.CharField(
        max_length=16, choices=PiiAccess.choices, blank=True, default="", db_index=True
    )
    row_count = models.PositiveIntegerField(null=True, blank=True)
    truncated = models.BooleanField(default=False)
    duration_ms = models.FloatField(null=True, blank=True, help_text="Warehouse time")
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["decision", "created_at"], name="querylog_decision_at")]

    def __str__(self) -> str:
        return f"{self.username or '?'} {self.decision} {self.created_at:%Y-%m-%d %H:%M}"


# Governed queries that got no answer because of the warehouse (not the user's SQL): the
# adapter could not reach it. Counted as failures by availability and at the time cap by p95.
UNAVAILABLE_CODES = ("WAREHOUSE_UNAVAILABLE",)


def _unanswered() -> Q:
    """Uses whose query got no answer for a reason that is not the caller's: p95 at the cap."""
    return Q(decision=QueryDecision.TIMEOUT) | Q(
        decision=QueryDecision.ERROR, log__code__in=UNAVAILABLE_CODES
    )


class QueryProductUseQuerySet(models.QuerySet["QueryProductUse"]):
    """The product-level figures of the query log that quality measures health with (quality
    reads these models, never querying's selectors: apps depend one way, README "Layout")."""

    def latency_p95_ms(self, product_ids: Sequence[str], *, since: datetime) -> dict[str, float]:
        """Nearest-rank p95 latency per product id since ``since`` (ids without queries are
        absent). How it is measured is shown on the product page (quality.health.LATENCY_FORMULA).

        Samples: answered (allowed) queries at their audited duration; timed-out queries and
        queries the warehouse could not answer at ``QUERY_TIMEOUT_S`` (or their duration when
        longer). Refusals and errors in the caller's SQL are left out. One query for all ids: a
        window ranks each product's samples and keeps the row at rank ceil(0.95 n).
        """
        if not product_ids:
            return {}
        cap = Value(float(settings.QUERY_TIMEOUT_S) * 1000.0, output_field=FloatField())
        samples = (
            self.filter(product_id__in=list(product_ids), created_at__gte=since)
            .filter(Q(decision=QueryDecision.ALLOWED, duration_ms__isnull=False) | _unanswered())
            .annotate(
                effective_ms=Case(
                    When(decision=QueryDecision.ALLOWED, then=F("duration_ms")),
                    default=Greatest(Coalesce(F("duration_ms"), cap), cap),
                    output_field=FloatField(),
                )
            )
            .annotate(
                rank=Window(
                    RowNumber(),
                    partition_by=[F("product_id")],
                    order_by=[F("effective_ms").asc(), F("id").asc()],
                ),
                n=Window(Count("id"), partition_by=[F("product_id")]),
            )
        )
        # rank == ceil(0.95 n) in integers: 100 rank >= 95 n > 100 (rank - 1).
        rows = (
            samples.annotate(r100=F("rank") * 100, n95=F("n") * 95)
            .filter(r100__gte=F("n95"), r100__lt=F("n95") + 100)
            .values_list("product_id", "effective_ms")
        )
        return {product_id: float(value) for product_id, value in rows}

    def outcomes(
        self, product_ids: Sequence[str], *, since: datetime
    ) -> dict[str, tuple[int, int]]:
        """Per product id: (governed queries answered, queries the warehouse could not answer).

        Refusals, errors in the caller's own SQL and timeouts are in neither count (timeouts
        count in the latency p95); availability is about whether the product could answer.
        """
        if not product_ids:
            return {}
        rows = (
            self.filter(product_id__in=list(product_ids), created_at__gte=since)
            .values("product_id")
            .annotate(
                answered=Count("id", filter=Q(decision=QueryDecision.ALLOWED)),
                failed=Count(
                    "id", filter=Q(decision=QueryDecision.ERROR, log__code__in=UNAVAILABLE_CODES)
                ),
            )
            .order_by()
        )
        return {row["product_id"]: (row["answered"], row["failed"]) for row in rows}


class QueryProductUse(models.Model):
    """One product a logged query referenced (a row per product, so filters and p95 are indexed)."""

    log = models.ForeignKey(QueryLog, on_delete=models.CASCADE, related_name="uses")
    product_id = models.CharField(max_length=200)
    # Denormalised from the log so the latency p95 is one indexed range scan.
    decision = models.CharField(max_length=16, choices=QueryDecision.choices)
    duration_ms = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField()
    # How this query read this product's PII (issue 17; the product page's masking figure).
    pii_access = models.CharField(max_length=16, choices=PiiAccess.choices, blank=True, default="")

    objects = QueryProductUseQuerySet.as_manager()

    class Meta:
        ordering = ["log", "product_id"]
        indexes = [
            models.Index(fields=["product_id", "decision", "created_at"], name="queryuse_p95")
        ]

    def __str__(self) -> str:
        return f"{self.product_id} ← query {self.log_id}"


# --- Saved and shared queries (issue 19) ----------------------------------------------------


class SavedQueryQuerySet(models.QuerySet["SavedQuery"]):
    """Saved queries; what a given user may see is ``accounts.permissions.restrict``'s."""

    def shared_on(self, product_pk: int) -> SavedQueryQuerySet:
        """Shared queries that read the product with primary key ``product_pk``, newest run
        first (then newest saved)."""
        return (
            self.filter(is_shared=True, products=product_pk)
            .select_related("author")
            .order_by(F("last_run_at").desc(nulls_last=True), "-updated_at", "-id")
        )


class SavedQuery(models.Model):
    """A named query its author saved, with its chart; shared ones are readable by everyone
    who may read every product it reads, and run with the runner's permissions."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_queries"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=2000)
    sql = models.TextField()
    # {"type": "bar" | "line" | "scatter", "x": column, "y": [column, ...]} or null: a table.
    chart = models.JSONField(null=True, blank=True)
    is_shared = models.BooleanField(default=False, db_index=True)
    # The products the governor resolved the SQL to when it was last saved (GovernedQuery.products).
    products = models.ManyToManyField(
        "catalog.DataProduct", related_name="saved_queries", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    objects = SavedQueryQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["author", "updated_at"], name="savedquery_author")]
        constraints = [
            models.UniqueConstraint(fields=["author", "name"], name="savedquery_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} (by {self.author})"


# --- Usage rollups (issue 16): the audit log summed per UTC day ------------------------------
# Written only by catalog/usage_rollup.py (a beat task, idempotent: a day is recomputed whole);
# read by the product page, search (through DataProduct.queries_30d) and the metrics.
# Every daily rollup (usage, quality) and every daily chart counts in UTC days.


def utc_day(moment: datetime) -> date:
    """The UTC date of an aware datetime: the day a rollup counts it in."""
    return moment.astimezone(UTC).date()


def day_start(day: date) -> datetime:
    """00:00 UTC of ``day``."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def team_label(team: str | None, role: str) -> str:
    """The team a person's queries count for: their domain team, else ``no team (role)``."""
    return team or f"no team ({role or 'unknown'})"


class UsageDay(models.Model):
    """One UTC day of one product's governed queries by callers of one role (issue 16).

    ``queries`` counts answered queries that read the product; ``attributed`` shares each query
    equally among the products it read (1/n each), so summing it over products counts each
    query once. The PII figures count queries that touched the product's PII columns, as the
    audit recorded them (``QueryProductUse.pii_access``, issue 17): ``masked``, or read raw as a
    platform admin (``raw_by_role``), as an owner or member of the product's domain
    (``raw_by_domain``) or under an access grant (``raw_by_grant``); a raw read without a
    justification is refused before it runs. ``within_latency`` counts answers that
    came back within the product's p95 latency target, of ``answered`` (answers with a measured
    duration).
    """

    day = models.DateField()
    product = models.ForeignKey("catalog.DataProduct", on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=16, blank=True)
    queries = models.PositiveIntegerField(default=0)
    attributed = models.FloatField(default=0.0)
    users = models.PositiveIntegerField(default=0)
    masked = models.PositiveIntegerField(default=0)
    raw_by_role = models.PositiveIntegerField(default=0)
    raw_by_domain = models.PositiveIntegerField(default=0)
    raw_by_grant = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    within_latency = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["day", "product", "role"]
        constraints = [
            models.UniqueConstraint(fields=["day", "product", "role"], name="usageday_unique")
        ]
        indexes = [models.Index(fields=["day", "product"], name="usageday_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.product_id} {self.role}: {self.queries}"


class UsageDomainDay(models.Model):
    """``UsageDay`` summed per domain, role and whether the products are drafts (now): what the
    metrics read (a few hundred rows a day, whatever the number of products). ``status`` is
    ``draft`` or ``live``, so ``accounts.permissions.restrict`` narrows these rows exactly as
    it narrows products: drafts only for their domain's team. Rebuilt from ``UsageDay`` by
    every rollup, so a product published since counts as live on every day."""

    day = models.DateField()
    domain = models.ForeignKey("catalog.Domain", on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=16, blank=True)
    status = models.CharField(max_length=16)
    queries = models.PositiveIntegerField(default=0)
    attributed = models.FloatField(default=0.0)
    masked = models.PositiveIntegerField(default=0)
    raw_by_role = models.PositiveIntegerField(default=0)
    raw_by_domain = models.PositiveIntegerField(default=0)
    raw_by_grant = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    within_latency = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["day", "domain", "role", "status"]
        indexes = [models.Index(fields=["day", "domain"], name="usagedomainday_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.domain_id} {self.role} {self.status}: {self.queries}"


class UsageUserDay(models.Model):
    """One UTC day of one person's answered queries on one product (issue 16): distinct users
    over 30 days and the top consumer teams come from here. ``team`` is the person's domain team
    when the day was rolled up (their first team by slug), else ``no team (<role>)``."""

    day = models.DateField()
    product = models.ForeignKey("catalog.DataProduct", on_delete=models.CASCADE, related_name="+")
    username = models.CharField(max_length=150)
    team = models.CharField(max_length=200, blank=True)
    queries = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["day", "product", "username"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "product", "username"], name="usageuserday_unique"
            )
        ]
        indexes = [models.Index(fields=["product", "day"], name="usageuserday_product")]

    def __str__(self) -> str:
        return f"{self.day} {self.product_id} {self.username}: {self.queries}"


class UsageRollupDay(models.Model):
    """A UTC day the usage rollup has summed (days without queries have no UsageDay rows, so
    this says which days are done; the rollup backfills the days missing here)."""

    day = models.DateField(unique=True)
    rolled_at = models.DateTimeField()

    class Meta:
        ordering = ["day"]

    def __str__(self) -> str:
        return f"usage {self.day}"
