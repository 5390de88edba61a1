"""The governed query audit log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Case, Count, F, FloatField, Q, Value, When, Window
from django.db.models.functions import Coalesce, Greatest, RowNumber


class QueryDecision(models.TextChoices):
    ALLOWED = "allowed", "Allowed"
    REFUSED = "refused", "Refused"
    ERROR = "error", "Engine error"
    TIMEOUT = "timeout", "Timed out"


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
