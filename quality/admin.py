"""Admin for quality history (read-only) and incidents, scoped by domain like the catalog."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from accounts import permissions

from . import selectors
from .models import CheckResult, CheckRun, Incident


class ReadOnlyScopedAdmin(admin.ModelAdmin):
    """History is written by runs only; staff see their own domains' rows, admins all."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return self.has_module_permission(request)
        return permissions.can(request.user, "change", obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return permissions.is_admin(request.user)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return permissions.restrict(super().get_queryset(request), request.user, "change")


class CheckResultInline(admin.TabularInline):
    model = CheckResult
    extra = 0
    can_delete = False
    fields = ["position", "check_name", "check_type", "status", "severity", "value", "message"]
    readonly_fields = fields
    ordering = ["position"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CheckRun)
class CheckRunAdmin(ReadOnlyScopedAdmin):
    list_display = ["product", "trigger", "status", "started_at", "duration_ms", "table_reachable"]
    list_filter = ["status", "trigger"]
    search_fields = ["product__product_id"]
    date_hierarchy = "created_at"
    inlines = [CheckResultInline]
    list_select_related = ["product"]


@admin.register(Incident)
class IncidentAdmin(ReadOnlyScopedAdmin):
    list_display = ["product", "kind", "status", "opened_at", "resolved_at", "notified_open_at"]
    list_filter = ["status", "kind"]
    search_fields = ["product__product_id", "message"]
    date_hierarchy = "opened_at"
    list_select_related = ["product"]
    change_list_template = "quality/admin_incident_change_list.html"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = {**(extra_context or {}), "incidents_per_month": self._per_month(request)}
        return super().changelist_view(request, extra_context=context)

    def _per_month(self, request: HttpRequest) -> list[dict[str, Any]]:
        # Staff see their own domains' incidents (as in the list); admins see every domain's.
        if permissions.is_admin(request.user):
            return selectors.incidents_per_month()
        owned = permissions.owned_domains(request.user)
        return selectors.incidents_per_month_in(domains=owned)
