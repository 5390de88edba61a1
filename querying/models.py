"""The governed query audit log."""

from __future__ import annotations

from django.conf import settings
from django.db import models


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


class QueryProductUse(models.Model):
    """One product a logged query referenced (a row per product, so filters and p95 are indexed)."""

    log = models.ForeignKey(QueryLog, on_delete=models.CASCADE, related_name="uses")
    product_id = models.CharField(max_length=200)
    # Denormalised from the log so the latency p95 is one indexed range scan.
    decision = models.CharField(max_length=16, choices=QueryDecision.choices)
    duration_ms = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["log", "product_id"]
        indexes = [
            models.Index(fields=["product_id", "decision", "created_at"], name="queryuse_p95")
        ]

    def __str__(self) -> str:
        return f"{self.product_id} ← query {self.log_id}"
