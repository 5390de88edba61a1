"""Users in the admin (platform admins only): role, teams and admin access, not raw groups.

Team memberships are edited inline and saved through ``accounts.permissions``, which keeps the
guardian groups (``domain:<slug>:owners``/``members``) in step; the groups themselves are not
shown or edited here. Two third-party registrations are removed from the admin because they
would mislead: Django's Group admin (groups are derived from memberships) and
django-celery-beat's schedule models (beat reads its schedule from ``config/celery.py``; rows
added there would never run).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import HttpRequest
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from rest_framework.authtoken.admin import TokenAdmin as BaseTokenAdmin
from rest_framework.authtoken.models import TokenProxy

from catalog.models import Domain

from . import permissions
from .models import TeamMembership, User

for _model in (Group, PeriodicTask, ClockedSchedule, CrontabSchedule, SolarSchedule,
               IntervalSchedule, TokenProxy):  # fmt: skip
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


class PlatformAdminOnly(admin.ModelAdmin):
    """Only platform admins (role ``admin`` or superuser) see and change these rows."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return permissions.is_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return permissions.is_admin(request.user)

    has_change_permission = has_add_permission = has_delete_permission = has_view_permission


class MembershipInline(admin.TabularInline):
    """The user's domain teams; saved through ``accounts.permissions`` (see save_formset)."""

    model = TeamMembership
    extra = 0
    fields = ["domain", "is_owner", "joined_at"]
    readonly_fields = ["joined_at"]
    verbose_name = "team membership"
    verbose_name_plural = "Teams (owners publish and change the domain's products)"

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return permissions.is_admin(request.user)

    has_change_permission = has_add_permission = has_delete_permission = has_view_permission


@admin.register(User)
class UserAdmin(PlatformAdminOnly, BaseUserAdmin):
    list_display = ["username", "full_name", "email", "role", "teams", "admin_access", "is_active"]
    list_filter = [
        "role",
        ("memberships__domain", admin.RelatedOnlyFieldListFilter),
        "memberships__is_owner",
        "is_active",
    ]
    search_fields = ["username", "first_name", "last_name", "email"]
    ordering = ["username"]
    inlines = [MembershipInline]
    filter_horizontal = ()
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        (
            "Portal",
            {
                "fields": ("role", "is_active", "is_superuser"),
                "description": "Platform admins (role admin) see and change every domain and "
                "read PII unmasked. Domain owners use this admin for their own domain; team "
                "members and business users work in the portal.",
            },
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "password1", "password2")}),
        ("Portal", {"fields": ("email", "role")}),
    )
    readonly_fields = ["last_login", "date_joined"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(self.readonly_fields)
        if not request.user.is_superuser:  # only a superuser makes another one
            fields.append("is_superuser")
        return fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).prefetch_related("memberships__domain")

    @admin.display(description="name")
    def full_name(self, obj: User) -> str:
        return obj.get_full_name()

    @admin.display(description="teams")
    def teams(self, obj: User) -> str:
        """``marketing (owner), finance (member)``, or a dash."""
        rows = sorted(obj.memberships.all(), key=lambda m: m.domain.slug)
        text = ", ".join(f"{m.domain.slug} ({'owner' if m.is_owner else 'member'})" for m in rows)
        return text or "—"

    @admin.display(description="admin access", boolean=True)
    def admin_access(self, obj: User) -> bool:
        # The same rule as permissions.may_use_admin, read from the prefetched memberships.
        return permissions.is_admin(obj) or any(m.is_owner for m in obj.memberships.all())

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # Memberships go through accounts.permissions so guardian's groups stay in step.
        if formset.model is not TeamMembership:
            return super().save_formset(request, form, formset, change)
        for row in formset.forms:
            data = getattr(row, "cleaned_data", None)
            if not data or not data.get("domain"):
                continue
            before = row.initial.get("domain")  # the row's domain as it was shown
            if before is not None and before != data["domain"].pk:
                permissions.membership_remove(
                    user=form.instance, domain=Domain.objects.get(pk=before)
                )
            if data.get("DELETE"):
                permissions.membership_remove(user=form.instance, domain=data["domain"])
            else:
                permissions.membership_set(
                    user=form.instance, domain=data["domain"], is_owner=bool(data.get("is_owner"))
                )
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        return None


@admin.register(TokenProxy)
class TokenAdmin(PlatformAdminOnly, BaseTokenAdmin):
    """API tokens for scripts and CI: platform admins create and revoke them."""


# Access requests and grants (issue 17) register from their own module.
from . import access_admin  # noqa: E402, F401
