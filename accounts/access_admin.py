"""Access requests and grants in the admin (issue 17): lists with filters, each request's
history; read-only and never deleted (decisions are made on the portal's pages or the API, so
every change is an event with who, when and why).

Platform admins read every request; domain owners the requests on their domains' products
(``accounts.permissions.restrict``, as the API).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from . import permissions
from .access_models import AccessEvent, AccessRequest


class AccessEventInline(admin.TabularInline):
    """The request's history, oldest first."""

    model = AccessEvent
    extra = 0
    fields = readonly_fields = ("at", "actor_username", "from_status", "to_status", "note")
    can_delete = False
    verbose_name_plural = "History (who, when, from, to, why)"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AccessRequest)
class AccessRequestAdmin(admin.ModelAdmin):
    """Requests and grants: filter by state, domain, product, dates; read-only."""

    list_display = [
        "id",
        "product",
        "requester",
        "status",
        "columns_list",
        "days",
        "created_at",
        "decided_by",
        "expires_at",
    ]
    list_filter = [
        "status",
        ("product__domain", admin.RelatedOnlyFieldListFilter),
        ("product", admin.RelatedOnlyFieldListFilter),
        ("created_at", admin.DateFieldListFilter),
        ("expires_at", admin.DateFieldListFilter),
    ]
    search_fields = ["requester__username", "product__product_id", "purpose"]
    list_select_related = ["product", "requester", "decided_by"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    fields = readonly_fields = (
        "product",
        "requester",
        "status",
        "columns",
        "purpose",
        "days",
        "created_at",
        "decided_at",
        "decided_by",
        "decision_note",
        "expires_at",
        "ended_at",
        "expiry_warned_at",
    )
    inlines = [AccessEventInline]

    @admin.display(description="columns")
    def columns_list(self, obj: AccessRequest) -> str:
        return ", ".join(obj.columns) or "—"

    def get_queryset(self, request: HttpRequest) -> QuerySet[AccessRequest]:
        return permissions.restrict(super().get_queryset(request), request.user, "view")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return permissions.may_use_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return permissions.may_use_admin(request.user)
        return permissions.can(request.user, "view", obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
