"""The governed query audit log in the admin: filterable, read-only, scoped per reader.

Platform admins read every row; domain owners read the queries that used their domain's
products, and their own (``querying.selectors.query_log_visible``, the same rows as
``GET /v1/query/log``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from accounts import permissions
from catalog.models import DataProduct

from .models import QueryLog, QueryProductUse
from .selectors import query_log_visible, without_hash_key


class ProductFilter(admin.SimpleListFilter):
    """Queries that referenced one data product (products the reader may read)."""

    title = "product"
    parameter_name = "product"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        readable = permissions.restrict(DataProduct.objects.all(), request.user, "view")
        ids = (
            QueryProductUse.objects.filter(
                log__in=model_admin.get_queryset(request).values("pk"),
                product_id__in=readable.values("product_id"),
            )
            .order_by("product_id")
            .values_list("product_id", flat=True)
            .distinct()
        )
        return [(pid, pid) for pid in ids]

    def queryset(self, request: HttpRequest, queryset: QuerySet[QueryLog]) -> QuerySet[QueryLog]:
        if self.value():
            return queryset.filter(uses__product_id=self.value()).distinct()
        return queryset


@admin.register(QueryLog)
class QueryLogAdmin(admin.ModelAdmin):
    """Audit rows are evidence: nobody adds, edits or deletes them here."""

    list_display = (
        "created_at",
        "username",
        "role",
        "decision",
        "code",
        "short_sql",
        "row_count",
        "truncated",
        "duration_ms",
    )
    list_filter = (
        "decision",
        "code",
        "role",
        ("created_at", admin.DateFieldListFilter),
        ProductFilter,
    )
    search_fields = ("username", "submitted_sql", "code")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    fields = (
        "created_at", "username", "role", "decision", "code", "message", "submitted",
        "executed", "products", "pii_columns", "masked_columns", "row_count", "truncated",
        "duration_ms",
    )  # fmt: skip
    readonly_fields = fields
    ordering = ("-created_at", "-id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[QueryLog]:
        return query_log_visible(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return permissions.may_use_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not self.has_module_permission(request):
            return False
        return obj is None or query_log_visible(request.user).filter(pk=obj.pk).exists()

    @admin.display(description="SQL")
    def short_sql(self, obj: QueryLog) -> str:
        """The submitted SQL, shortened for the list."""
        text = " ".join(without_hash_key(obj.submitted_sql).split())
        return text if len(text) <= 80 else text[:79] + "…"

    @admin.display(description="submitted SQL")
    def submitted(self, obj: QueryLog) -> str:
        return format_html('<pre class="portal-sql">{}</pre>', without_hash_key(obj.submitted_sql))

    @admin.display(description="executed SQL (governed)")
    def executed(self, obj: QueryLog) -> str:
        if not obj.executed_sql:
            return "—"
        return format_html('<pre class="portal-sql">{}</pre>', without_hash_key(obj.executed_sql))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
