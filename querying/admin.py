"""The governed query audit log in the admin: filterable, read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import QueryLog, QueryProductUse


class ProductFilter(admin.SimpleListFilter):
    """Queries that referenced one data product."""

    title = "product"
    parameter_name = "product"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        ids = (
            QueryProductUse.objects.order_by("product_id")
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
    readonly_fields = tuple(f.name for f in QueryLog._meta.fields)
    ordering = ("-created_at", "-id")

    @admin.display(description="SQL")
    def short_sql(self, obj: QueryLog) -> str:
        """The submitted SQL, shortened for the list."""
        text = " ".join(obj.submitted_sql.split())
        return text if len(text) <= 80 else text[:79] + "…"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
