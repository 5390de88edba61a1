"""Admin for quality: check runs with their results, per-check history, incidents.

Scoped by domain like the catalog: owners see their own domains' rows, platform admins all
(``accounts.permissions``). History is written by runs only, so runs and results are read-only;
incidents are acknowledged and resolved with a note (``quality.incidents``), never deleted.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from accounts import permissions
from catalog.admin import OwnedElsewhereMixin, ProductAdmin, check_history_url, username_of
from catalog.models import DataProduct

from . import selectors
from .incidents import (
    NOTE_MAX_LENGTH,
    IncidentRefused,
    incident_acknowledge,
    incident_resolve,
)
from .models import CheckResult, CheckRun, Incident, IncidentStatus, RunTrigger
from .services import check_request


class ProductChecksAdmin(ProductAdmin):
    """The catalog's product admin with "Run checks now" (quality depends on catalog, not back:
    the catalog registers ``ProductAdmin``, and quality registers it again with this action)."""

    actions = ["run_checks_now", *ProductAdmin.actions]

    @admin.action(description="Run checks now")
    def run_checks_now(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        """Queue a manual run of each selected product the user may run checks of."""
        allowed = [p for p in queryset if permissions.can(request.user, "run_checks", p)]
        for product in allowed:
            check_request(product=product, trigger=RunTrigger.MANUAL, actor=request.user)
        self.message_user(request, f"Queued checks for {len(allowed)} product(s).")


admin.site.unregister(DataProduct)
admin.site.register(DataProduct, ProductChecksAdmin)


class ScopedAdmin(OwnedElsewhereMixin, admin.ModelAdmin):
    """Rows of the products the user may change; nobody adds, edits or deletes them here."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return permissions.may_use_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return self.has_module_permission(request)
        return permissions.can(request.user, "change", obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return permissions.restrict(super().get_queryset(request), request.user, "change")


class ScopedProductFilter(admin.SimpleListFilter):
    """Results of one product (by product id), among the products the user may change."""

    title = "product"
    parameter_name = "product"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        ids = permissions.restrict(DataProduct.objects.all(), request.user, "change")
        return [
            (pid, pid) for pid in ids.order_by("product_id").values_list("product_id", flat=True)
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value():
            return queryset.filter(run__product__product_id=self.value())
        return queryset


class CheckNameFilter(admin.SimpleListFilter):
    """One check's history: its results in every run (listed for the chosen product)."""

    title = "check"
    parameter_name = "check"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        product = request.GET.get("product")
        if not product:
            return []
        names = (
            model_admin.get_queryset(request)
            .filter(run__product__product_id=product)
            .order_by("check_name")
            .values_list("check_name", flat=True)
            .distinct()
        )
        return [(name, name) for name in names]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value():
            return queryset.filter(check_name=self.value())
        return queryset


class CheckResultInline(admin.TabularInline):
    """A run's results, each linked to that check's history."""

    model = CheckResult
    extra = 0
    can_delete = False
    fields = ("position", "check_name", "check_type", "status", "severity", "value", "message",
              "history")  # fmt: skip
    readonly_fields = fields
    ordering = ["position"]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # ``obj`` is the run: whoever may open the run reads its results.
        if obj is None:
            return permissions.may_use_admin(request.user)
        return permissions.can(request.user, "change", obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="history")
    def history(self, obj: CheckResult) -> str:
        return format_html(
            '<a href="{}">all runs</a>', check_history_url(obj.run.product, obj.check_name)
        )


@admin.register(CheckRun)
class CheckRunAdmin(ScopedAdmin):
    list_display = ["run", "trigger", "started_at", "duration_ms", "results", "table_reachable"]
    list_filter = ["status", "trigger", ("product", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["product__product_id"]
    date_hierarchy = "created_at"
    inlines = [CheckResultInline]
    list_select_related = ["product"]
    # The claim's bookkeeping is internal; the requester shows as text (user pages are admins').
    exclude = ["run_key", "claim_token", "requested_by"]
    readonly_fields = ["requester"]

    @admin.display(description="requested by")
    def requester(self, obj: CheckRun) -> str:
        return username_of(obj.requested_by)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return (
            super()
            .get_queryset(request)
            .select_related("product")
            .annotate(
                passed_count=Count("results", filter=Q(results__passed=True)),
                failed_count=Count("results", filter=Q(results__passed=False)),
            )
        )

    @admin.display(description="run", ordering="-created_at")
    def run(self, obj: CheckRun) -> str:
        return str(obj)

    @admin.display(description="results")
    def results(self, obj: CheckRun) -> str:
        passed = getattr(obj, "passed_count", 0)
        failed = getattr(obj, "failed_count", 0)
        if not passed and not failed:
            return "—"
        return f"{passed} passed, {failed} failed" if failed else f"{passed} passed"


@admin.register(CheckResult)
class CheckResultAdmin(ScopedAdmin):
    """Per-check history: filter by product, then by check, to see one check over time."""

    # Type and severity are filters, not columns: the list fits a 1280 px window.
    list_display = ["created_at", "product_id", "check_name", "status", "value", "short_message",
                    "run_link"]  # fmt: skip
    list_filter = [ScopedProductFilter, CheckNameFilter, "status", "severity", "check_type"]
    search_fields = ["check_name", "run__product__product_id"]
    date_hierarchy = "created_at"
    list_select_related = ["run__product"]
    ordering = ["-created_at", "position"]

    @admin.display(description="product", ordering="run__product__product_id")
    def product_id(self, obj: CheckResult) -> str:
        return obj.run.product.product_id

    @admin.display(description="message")
    def short_message(self, obj: CheckResult) -> str:
        text = " ".join(obj.message.split())
        return text if len(text) <= 70 else text[:69] + "…"

    @admin.display(description="run")
    def run_link(self, obj: CheckResult) -> str:
        url = reverse("admin:quality_checkrun_change", args=[obj.run_id])
        return format_html('<a href="{}">run {}</a>', url, obj.run_id)


class IncidentForm(forms.ModelForm):
    """Handle an open incident: acknowledge it, or resolve it with a note."""

    action = forms.ChoiceField(
        choices=[
            ("", "—"),
            ("acknowledge", "Acknowledge: we are on it"),
            ("resolve", "Resolve, with the note below"),
        ],
        help_text="Resolving tells the owners and the product's consumers, with your note. If "
        "the data is still stale or failing, the next check run opens a new incident.",
    )
    note = forms.CharField(
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="What was found or done (required to resolve).",
    )

    class Meta:
        model = Incident
        fields: list[str] = []

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.instance.status != IncidentStatus.OPEN:
            raise ValidationError({"action": "the incident is already resolved"})
        if data.get("action") == "resolve" and not (data.get("note") or "").strip():
            raise ValidationError({"note": "say what was done to resolve the incident"})
        if data.get("action") == "acknowledge" and self.instance.acknowledged_at is not None:
            by = self.instance.acknowledged_by
            raise ValidationError(
                {"action": f"already acknowledged by {by.get_username() if by else 'someone'}"}
            )
        return data


INCIDENT_FIELDS = [
    "product", "kind", "status", "opened_at", "message", "opened_by_run",
    "acknowledged_at", "acknowledged", "acknowledgement",
    "resolved_at", "resolver", "resolution", "notified_open_at", "notified_resolved_at",
]  # fmt: skip


@admin.register(Incident)
class IncidentAdmin(ScopedAdmin):
    form = IncidentForm
    list_display = ["incident", "opened_at", "acknowledged", "resolved_at", "resolver"]
    list_filter = ["status", "kind", ("product", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["product__product_id", "message", "resolution"]
    date_hierarchy = "opened_at"
    list_select_related = ["product", "acknowledged_by", "resolved_by"]
    readonly_fields = INCIDENT_FIELDS
    actions = ["acknowledge_selected"]
    change_list_template = "quality/admin_incident_change_list.html"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # "Change" here means handling it: open incidents of the user's own domains.
        if obj is None:
            return self.has_module_permission(request)
        return obj.status == IncidentStatus.OPEN and permissions.can(request.user, "change", obj)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        sets: list[Any] = [(None, {"fields": INCIDENT_FIELDS})]
        if obj is not None and self.has_change_permission(request, obj):
            sets.insert(0, ("Handle this incident", {"fields": ["action", "note"]}))
        return sets

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Never obj.save(): each step is a service with its own conditional UPDATE.
        action, note = form.cleaned_data.get("action"), form.cleaned_data.get("note") or ""
        try:
            if action == "acknowledge":
                incident_acknowledge(actor=request.user, incident=obj, note=note)
            elif action == "resolve":
                incident_resolve(actor=request.user, incident=obj, note=note)
        except (IncidentRefused, PermissionDenied) as exc:
            request.portal_refused = str(exc)  # type: ignore[attr-defined]

    def response_change(self, request: HttpRequest, obj: Any) -> HttpResponse:
        refused = getattr(request, "portal_refused", None)
        if refused:
            self.message_user(request, f"not saved: {refused}", level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        done = "resolved" if request.POST.get("action") == "resolve" else "acknowledged"
        what = f"The {obj.kind} incident on {obj.product.product_id}"
        self.message_user(request, f"{what} is {done}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:quality_incident_changelist"))

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        if getattr(request, "portal_refused", None):
            return None
        return super().log_change(request, obj, message)

    @admin.display(description="incident", ordering="-opened_at")
    def incident(self, obj: Incident) -> str:
        return str(obj)

    @admin.display(description="acknowledged")
    def acknowledged(self, obj: Incident) -> str:
        if obj.acknowledged_at is None:
            return "—"
        return f"by {username_of(obj.acknowledged_by)}"

    @admin.display(description="resolved by")
    def resolver(self, obj: Incident) -> str:
        if obj.resolved_at is None:
            return "—"
        return username_of(obj.resolved_by) if obj.resolved_by else "automatically"

    @admin.action(description="Acknowledge selected incidents")
    def acknowledge_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        done, refused = 0, []
        for incident in queryset.select_related("product__domain"):
            try:
                incident_acknowledge(actor=request.user, incident=incident)
            except (IncidentRefused, PermissionDenied) as exc:
                refused.append(f"{incident}: {exc}")
            else:
                done += 1
        if done:
            self.message_user(request, f"Acknowledged {done} incident(s).")
        for line in refused:
            self.message_user(request, f"not acknowledged: {line}", level=messages.WARNING)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = {**(extra_context or {}), "incidents_per_month": self._per_month(request)}
        return super().changelist_view(request, extra_context=context)

    def _per_month(self, request: HttpRequest) -> list[dict[str, Any]]:
        # Owners see their own domains' incidents (as in the list); admins see every domain's.
        if permissions.is_admin(request.user):
            return selectors.incidents_per_month()
        owned = permissions.owned_domains(request.user)
        return selectors.incidents_per_month_in(domains=owned)
