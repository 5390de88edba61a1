"""Django admin for domain owners: their own domain's products, columns and checks inline.

Saving goes through ``catalog.services.product_publish`` like every other entry point: the
form, the column and check inlines are assembled into one contract document, validated (contract,
policies, breaking changes, warehouse) before anything is written, and errors are shown on
the form with their contract path.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from accounts import permissions
from accounts.models import TeamMembership, User
from accounts.permissions import signed_in

from .contract import (
    CHECK_PARAMS,
    CHECK_TYPES,
    CHECKS_NEEDING_COLUMN,
    CHECKS_WITHOUT_COLUMN,
    COLUMN_TYPES,
    FRESHNESS,
    MASKS,
    SEVERITIES,
    STATUSES,
    ContractError,
)
from .contract.vocabulary import ProductStatus
from .documents import optional_keys
from .governance.lifecycle import SUNSET_IN_PAST, sunset_in_past
from .governance.policies import POLICIES, parse_rules
from .governance.selectors import global_rules
from .governance.services import product_retire
from .models import (
    Column,
    Consumer,
    ContractVersion,
    DataProduct,
    Domain,
    GovernancePolicy,
    QualityCheck,
    TableAssignment,
    WarehouseConnection,
)
from .services import PublishRefused, product_publish, webhook_url_problem


def _choices(values: tuple[str, ...], blank: bool = False) -> list[tuple[str, str]]:
    items = [(v, v) for v in values]
    return [("", "—")] + items if blank else items


# What each check type needs, one entry per type (every type in CHECK_TYPES; a test checks that
# each example passes contract validation). Shown under the checks inline and in the params
# field's help text, so an owner never has to guess a parameter name.
CHECK_TYPE_GUIDE: dict[str, tuple[str, str]] = {
    "not_null": ("fails when the column holds NULLs", "{}"),
    "unique": ("fails when a value occurs more than once", "{}"),
    "range": (
        "numeric column; min and/or max; fails when a value lies outside",
        '{"min": 0, "max": 100}',
    ),
    "accepted_values": (
        "fails when the column holds any other value",
        '{"values": ["delivered", "opened", "clicked"]}',
    ),
    "freshness": (
        "timestamp column; fails when the newest value is older than maxStaleHours "
        "(default: the SLA's freshness)",
        '{"maxStaleHours": 2}',
    ),
    "row_count": ("no column; minRows and/or maxRows", '{"minRows": 1000}'),
    "custom_sql": (
        "one SELECT counting the rows that break a rule; passes at 0",
        '{"sql": "SELECT count(*) FROM campaign_attribution WHERE revenue_cents < 0"}',
    ),
}


def check_type_rows() -> list[dict[str, str]]:
    """One row per check type for the admin's hint table: column, params, meaning, example."""
    rows = []
    for check_type in CHECK_TYPES:
        meaning, example = CHECK_TYPE_GUIDE[check_type]
        if check_type in CHECKS_NEEDING_COLUMN:
            column = "required"
        elif check_type in CHECKS_WITHOUT_COLUMN:
            column = "none"
        else:
            column = "optional"
        params = ", ".join(CHECK_PARAMS[check_type]) or "none"
        rows.append(
            {
                "type": check_type,
                "column": column,
                "params": params,
                "meaning": meaning,
                "example": example,
            }
        )
    return rows


PARAMS_HELP = "JSON object; per type: " + "; ".join(
    f"{t} {CHECK_TYPE_GUIDE[t][1]}" for t in CHECK_TYPES
)


class ColumnForm(forms.ModelForm):
    type = forms.ChoiceField(choices=_choices(COLUMN_TYPES))
    mask = forms.ChoiceField(
        choices=_choices(MASKS, blank=True),
        required=False,
        help_text="How readers outside the domain see a PII column (blank: last4).",
    )

    class Meta:
        model = Column
        fields = ["position", "name", "type", "description", "pii", "nullable", "mask"]
        # Compact widgets: the inline must fit a 1280 px window next to the admin's sidebar.
        widgets = {
            "position": forms.NumberInput(attrs={"class": "portal-position"}),
            "name": forms.TextInput(attrs={"size": 18}),
            "description": forms.Textarea(attrs={"rows": 2, "cols": 34}),
        }
        help_texts = {"pii": "Personal data: masked for readers outside the domain's team."}


class CheckForm(forms.ModelForm):
    type = forms.ChoiceField(choices=_choices(CHECK_TYPES))
    severity = forms.ChoiceField(
        choices=_choices(SEVERITIES),
        help_text="error: counts as failing; warning: lowers the score",
    )

    class Meta:
        model = QualityCheck
        fields = ["position", "name", "type", "column", "params", "severity"]
        widgets = {
            "position": forms.NumberInput(attrs={"class": "portal-position"}),
            "name": forms.TextInput(attrs={"size": 18}),
            "column": forms.TextInput(attrs={"size": 14}),
            "params": forms.Textarea(attrs={"rows": 2, "cols": 30, "class": "portal-json"}),
        }
        help_texts = {"params": PARAMS_HELP}


class ContractFormSet(BaseInlineFormSet):
    """The check inline; its ``clean`` validates the whole contract (form + both inlines).

    ``ProductAdmin._create_formsets`` hands it the main form and the column formset.
    """

    portal_form: forms.ModelForm | None = None
    portal_columns: BaseInlineFormSet | None = None
    portal_actor: Any = None

    def clean(self) -> None:
        super().clean()
        form, columns = self.portal_form, self.portal_columns
        if form is None or columns is None or not form.is_valid() or not columns.is_valid():
            return
        if any(f.errors for f in self.forms):
            return
        document = product_admin_document(form.cleaned_data, _rows(columns), _rows(self))
        # What the form does not show is kept as the product has it: its inputs (issue 16;
        # dropping them would withdraw its lineage), its access (issue 17; dropping it would
        # open a restricted product to every reader) and its warehouse (issue 18).
        if form.instance.pk:
            # The saved row (the form has already copied its own fields onto the instance).
            saved = DataProduct.objects.select_related("warehouse").get(pk=form.instance.pk)
            for key, value in optional_keys(saved).items():
                document.setdefault(key, value)
        try:
            outcome = product_publish(
                actor=self.portal_actor, document=document, source="admin", dry_run=True
            )
        except (ContractError, PublishRefused) as exc:
            messages = [str(issue) for issue in exc.issues]
            for message in messages:
                form.add_error(None, message)
            raise ValidationError(messages) from None
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
            raise ValidationError(str(exc)) from None
        form.portal_document = document  # type: ignore[attr-defined]
        form.portal_warnings = outcome.warnings  # type: ignore[attr-defined]


def _rows(formset: BaseInlineFormSet) -> list[dict[str, Any]]:
    rows = [
        f.cleaned_data for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")
    ]
    return sorted(rows, key=lambda r: r.get("position") or 0)


def product_admin_document(
    data: dict[str, Any], columns: list[dict[str, Any]], checks: list[dict[str, Any]]
) -> dict[str, Any]:
    """Assemble the admin form's cleaned data into a contract document."""
    domain = data.get("domain")
    doc: dict[str, Any] = {
        "id": data.get("product_id"),
        "domain": domain.slug if domain is not None else "",
        "name": data.get("name"),
        "description": data.get("description") or "",
        "owner": {
            "team": data.get("owner_team"),
            "contact": data.get("owner_contact"),
            "slackChannel": data.get("owner_slack_channel") or "",
        },
        "schema": [
            {
                "column": c["name"],
                "type": c["type"],
                "description": c.get("description") or "",
                "pii": bool(c.get("pii")),
                "nullable": bool(c.get("nullable")),
                **({"mask": c["mask"]} if c.get("mask") else {}),
            }
            for c in columns
        ],
        "sla": {
            "freshness": data.get("sla_freshness"),
            "availability": data.get("sla_availability"),
            "queryLatencyP95Ms": data.get("sla_query_latency_p95_ms"),
        },
        "qualityChecks": [
            {
                "name": q["name"],
                "type": q["type"],
                **({"column": q["column"]} if q.get("column") else {}),
                **({"params": q["params"]} if q.get("params") else {}),
                "severity": q["severity"],
            }
            for q in checks
        ],
        "tags": data.get("tags") or [],
        "version": data.get("version"),
        "status": data.get("status"),
        "table": data.get("table") or None,
    }
    if doc["table"] is None:
        del doc["table"]
    if data.get("status") in (ProductStatus.DEPRECATED, ProductStatus.RETIRED):
        dep: dict[str, Any] = {"reason": data.get("deprecation_reason") or ""}
        if data.get("deprecation_sunset_at"):
            dep["sunsetAt"] = data["deprecation_sunset_at"].isoformat()
        if data.get("deprecation_replaced_by"):
            dep["replacedBy"] = data["deprecation_replaced_by"]
        doc["deprecation"] = dep
    return doc


class ProductPartInline(admin.TabularInline):
    """Columns and checks are part of the product: whoever may change it may edit them."""

    extra = 0
    ordering = ["position"]

    def _may(self, request: HttpRequest, obj: Any) -> bool:
        if obj is None:
            return permissions.owns_a_domain(request.user)
        return permissions.can(request.user, "change", obj)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, obj)


class ColumnInline(ProductPartInline):
    model = Column
    form = ColumnForm


class CheckInline(ProductPartInline):
    model = QualityCheck
    form = CheckForm
    formset = ContractFormSet
    fields = ["position", "name", "type", "column", "params", "severity", "history"]
    readonly_fields = ["history"]
    template = "admin/portal/check_inline.html"

    def check_type_rows(self) -> list[dict[str, str]]:
        """The hint table under the inline (its template reads it)."""
        return check_type_rows()

    @admin.display(description="history")
    def history(self, obj: QualityCheck) -> str:
        """A link to this check's results, newest first (blank until it is saved)."""
        if obj.pk is None:
            return "—"
        return format_html('<a href="{}">results</a>', check_history_url(obj.product, obj.name))


def check_history_url(product: DataProduct, check_name: str | None = None) -> str:
    """The admin's check-result list for one product (and one check, when named)."""
    query = {"product": product.product_id}
    if check_name:
        query["check"] = check_name
    return f"{reverse('admin:quality_checkresult_changelist')}?{urlencode(query)}"


class ProductForm(forms.ModelForm):
    sla_freshness = forms.ChoiceField(
        choices=_choices(FRESHNESS),
        help_text="How old the newest data may be: realtime (15 min), 1h, 4h or 24h.",
    )
    status = forms.ChoiceField(
        choices=_choices(STATUSES),
        help_text="draft → published → deprecated (with a sunset date) → retired.",
    )
    table = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"size": 40}),
        help_text="Physical table in the warehouse; blank: the domain and product name joined "
        "by an underscore (marketing.campaign_attribution reads marketing_campaign_attribution).",
    )

    class Meta:
        model = DataProduct
        fields = [
            "product_id", "domain", "name", "description", "owner_team", "owner_contact",
            "owner_slack_channel", "sla_freshness", "sla_availability", "sla_query_latency_p95_ms",
            "tags", "version", "status", "table", "deprecation_sunset_at",
            "deprecation_replaced_by", "deprecation_reason",
        ]  # fmt: skip
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4, "cols": 80}),
            "tags": forms.Textarea(attrs={"rows": 1, "cols": 60, "class": "portal-json"}),
            "deprecation_reason": forms.Textarea(attrs={"rows": 2, "cols": 80}),
        }
        help_texts = {
            "product_id": "domain.product_name, e.g. marketing.campaign_attribution; fixed once "
            "saved.",
            "owner_team": "The team consumers contact about this product.",
            "owner_contact": "E-mail address of the owning team.",
            "owner_slack_channel": "e.g. #marketing-data (optional).",
            "sla_availability": "Promised availability in percent, 99 to 100.",
            "sla_query_latency_p95_ms": "Promised p95 latency of governed queries, in "
            "milliseconds.",
            "tags": 'JSON list of words, e.g. ["marketing", "email"].',
            "version": "Every accepted change is a new version: raise it by one when you change "
            "anything.",
            "deprecation_sunset_at": "When a deprecated product stops answering queries; must be "
            "in the future.",
            "deprecation_replaced_by": "Product id consumers should move to.",
            "deprecation_reason": "Why it is deprecated; consumers are told.",
        }

    def clean_deprecation_sunset_at(self) -> Any:
        """A new or moved sunset date must lie in the future (an unchanged one may have passed):
        the lifecycle gate's rule, shown on the field before the contract is assembled."""
        value = self.cleaned_data.get("deprecation_sunset_at")
        before = self.instance.deprecation_sunset_at if self.instance.pk else None
        if sunset_in_past(value, before, now=timezone.now()):
            raise ValidationError(f"The sunset date {SUNSET_IN_PAST}.", code="sunset_in_past")
        return value


def username_of(user: Any) -> str:
    """A user as plain text: links to user pages would be 403s for everyone but admins."""
    return user.get_username() if user is not None else "—"


def product_of(obj: Model | None) -> DataProduct | None:
    """The data product ``obj`` belongs to (itself, or its ``product``, or its run's)."""
    if obj is None or isinstance(obj, DataProduct):
        return obj
    product = getattr(obj, "product", None)  # a CheckResult's is its run's product
    return product if isinstance(product, DataProduct) else None


class OwnedElsewhereMixin:
    """Opening an object of another domain says whose it is, instead of "doesn't exist".

    Only when the user may read the product (a draft of another domain still reads as not
    found: its existence is the owners' business).
    """

    model: type[Model]

    def _get_obj_does_not_exist_redirect(
        self, request: HttpRequest, opts: Any, object_id: str
    ) -> HttpResponseRedirect:
        obj = self._object_anywhere(object_id)
        product = product_of(obj)
        if product is None or not permissions.can(request.user, "view", product):
            return super()._get_obj_does_not_exist_redirect(request, opts, object_id)  # type: ignore[misc]
        domain = product.domain
        # "Data product marketing.x belongs to…": the admin capitalises a message's first letter.
        what = f"{opts.verbose_name} {obj if obj is not product else product.product_id}"
        self.message_user(  # type: ignore[attr-defined]
            request,
            format_html(
                "{} belongs to the {} domain ({}); owner team {}, contact {}. Only that "
                "domain's owners and platform admins work on it here. "
                '<a href="{}">Read it on its product page</a>.',
                what,
                domain.name,
                domain.slug,
                product.owner_team,
                product.owner_contact,
                reverse("catalog:product-detail", args=[product.product_id]),
            ),
            messages.WARNING,
        )
        return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))

    def _object_anywhere(self, object_id: str) -> Model | None:
        try:
            pk = self.model._meta.pk.to_python(unquote(object_id))
            return self.model._default_manager.filter(pk=pk).first()
        except (ValidationError, ValueError, TypeError, OverflowError):
            return None


class DomainScopedAdmin(OwnedElsewhereMixin, admin.ModelAdmin):
    """Object permissions from ``accounts.permissions`` instead of Django's global ones."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return permissions.may_use_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return self.has_module_permission(request)
        return permissions.can(request.user, "change", obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return permissions.owns_a_domain(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return permissions.is_admin(request.user)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return permissions.restrict(super().get_queryset(request), request.user, "change")


@admin.register(DataProduct)
class ProductAdmin(DomainScopedAdmin):
    form = ProductForm
    inlines = [ColumnInline, CheckInline]
    list_display = [
        "product_id",
        "domain",
        "status",
        "version",
        "quality_score",
        "last_validated_at",
    ]
    list_filter = ["status", "domain"]
    search_fields = ["product_id", "name", "description", "tags"]
    readonly_fields = [
        "published_at",
        "last_validated_at",
        "quality_score",
        "newest_data_at",
        "history_links",
    ]
    fieldsets = [
        (None, {"fields": ["product_id", "domain", "name", "description", "table", "tags"]}),
        ("Owner", {"fields": ["owner_team", "owner_contact", "owner_slack_channel"]}),
        (
            "Service level",
            {"fields": ["sla_freshness", "sla_availability", "sla_query_latency_p95_ms"]},
        ),
        (
            "Version and lifecycle",
            {
                "fields": [
                    "version",
                    "status",
                    "published_at",
                    "deprecation_sunset_at",
                    "deprecation_replaced_by",
                    "deprecation_reason",
                ]
            },
        ),
        (
            "Quality",
            {"fields": ["quality_score", "last_validated_at", "newest_data_at", "history_links"]},
        ),
    ]
    # quality/admin.py registers this admin with its "Run checks now" action added.
    actions = ["retire_products"]

    @admin.display(description="history")
    def history_links(self, obj: DataProduct) -> str:
        """Links to the product's check runs, check results, incidents and governed queries."""
        if obj.pk is None:
            return "—"
        by_pk = f"?product__id__exact={obj.pk}"
        by_id = f"?{urlencode({'product': obj.product_id})}"
        links = [
            (reverse("admin:quality_checkrun_changelist") + by_pk, "check runs"),
            (check_history_url(obj), "check results, per check"),
            (reverse("admin:quality_incident_changelist") + by_pk, "incidents"),
            (reverse("admin:querying_querylog_changelist") + by_id, "governed queries"),
        ]
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    @admin.action(description="Retire selected deprecated products")
    def retire_products(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        """Retire each selected product through the lifecycle service (gates and notices apply)."""
        done, refused = [], []
        for product in queryset.select_related("domain"):
            try:
                product_retire(actor=signed_in(request.user), product=product)
            except (PublishRefused, ContractError, PermissionDenied) as exc:
                issues = getattr(exc, "issues", None)
                refused.append(f"{product.product_id}: {issues[0] if issues else exc}")
            else:
                done.append(product.product_id)
        if done:
            self.message_user(request, f"retired: {', '.join(done)}")
        for line in refused:
            self.message_user(request, f"not retired: {line}", level="error")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(self.readonly_fields)
        if obj is not None:  # a new id is a new product; renaming would orphan its history
            fields += ["product_id", "domain_name"]
        return fields

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        # Once saved, the domain shows as text: a link would lead owners to the admin-only
        # domain page (a 403).
        if obj is None:
            return self.fieldsets
        return [
            (
                name,
                {**opts, "fields": ["domain_name" if f == "domain" else f for f in opts["fields"]]},
            )
            for name, opts in self.fieldsets
        ]

    @admin.display(description="domain")
    def domain_name(self, obj: DataProduct) -> str:
        return f"{obj.domain.name} ({obj.domain.slug})"

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "domain":
            kwargs["queryset"] = permissions.owned_domains(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form_class = super().get_form(request, obj, change=change, **kwargs)
        fixed = {"product_id": obj.product_id, "domain": obj.domain} if obj is not None else {}

        class ContractProductForm(form_class):  # type: ignore[misc, valid-type]
            def __init__(self, *args: Any, **kw: Any) -> None:
                super().__init__(*args, **kw)
                request.portal_form = self  # type: ignore[attr-defined]

            def clean(self) -> dict[str, Any]:
                data = super().clean()
                data.update(fixed)  # read-only fields are not posted; the document needs them
                return data

        return ContractProductForm

    def _create_formsets(self, request: HttpRequest, obj: Any, change: bool) -> Any:
        # Django validates inlines one by one; hand the check formset the main form and the
        # column formset so it validates the contract as one document (see ContractFormSet).
        # A private ModelAdmin method (Django 5.2), so the stubs do not list it.
        formsets, inline_instances = super()._create_formsets(request, obj, change)  # type: ignore[misc]
        columns = next((f for f in formsets if f.model is Column), None)
        for formset in formsets:
            if isinstance(formset, ContractFormSet):
                formset.portal_form = getattr(request, "portal_form", None)
                formset.portal_columns = columns
                formset.portal_actor = request.user
        return formsets, inline_instances

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        document = getattr(form, "portal_document", None)
        if document is None:  # validated in ContractFormSet.clean; never save unvalidated
            raise PermissionDenied("contract was not validated")
        try:
            outcome = product_publish(
                actor=signed_in(request.user), document=document, source="admin"
            )
        except (ContractError, PublishRefused, PermissionDenied) as exc:
            # Judged again at save time: a concurrent publish (a version conflict) or a
            # table taken since the form was checked. Nothing was written; say so.
            issues = getattr(exc, "issues", None)
            request.portal_refused = [str(i) for i in issues] if issues else [str(exc)]  # type: ignore[attr-defined]
            return
        obj.pk = outcome.product.pk
        obj.product_id = outcome.product.product_id
        for warning in getattr(form, "portal_warnings", []):
            self.message_user(request, f"warning: {warning}", level="warning")

    def _refused(self, request: HttpRequest) -> HttpResponseRedirect | None:
        refused = getattr(request, "portal_refused", None)
        if not refused:
            return None
        for line in refused:
            self.message_user(request, f"not saved: {line}", level="error")
        return HttpResponseRedirect(request.get_full_path())

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: Any = None) -> Any:
        return self._refused(request) or super().response_add(request, obj, post_url_continue)

    def response_change(self, request: HttpRequest, obj: Any) -> Any:
        return self._refused(request) or super().response_change(request, obj)

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        if getattr(request, "portal_refused", None):
            return None
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        if getattr(request, "portal_refused", None):
            return None
        return super().log_change(request, obj, message)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # product_publish already stored columns and checks from the same document.
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


@admin.register(ContractVersion)
class ContractVersionAdmin(DomainScopedAdmin):
    list_display = ["product", "version", "is_breaking", "source", "publisher", "created_at"]
    list_filter = ["is_breaking", "source"]
    fields = readonly_fields = tuple(
        "publisher" if f.name == "published_by" else f.name for f in ContractVersion._meta.fields
    )

    @admin.display(description="published by")
    def publisher(self, obj: ContractVersion) -> str:
        return username_of(obj.published_by)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # history is never edited

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return permissions.restrict(ContractVersion.objects.all(), request.user, "change")


@admin.register(Consumer)
class ConsumerAdmin(DomainScopedAdmin):
    list_display = ["product", "team", "contact", "registered_at"]
    search_fields = ["team", "use_case", "contact"]
    fields = ["product", "team", "use_case", "contact", "registrant", "registered_at"]
    readonly_fields = ["registrant", "registered_at"]

    @admin.display(description="registered by")
    def registrant(self, obj: Consumer) -> str:
        return username_of(obj.registered_by)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:  # who registered a team may change the registration (issue 11)
            obj.registered_by = request.user
        super().save_model(request, obj, form, change)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "product":
            kwargs["queryset"] = permissions.restrict(
                DataProduct.objects.all(), request.user, "change"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class MembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 0
    fields = ["user", "is_owner", "joined_at"]
    readonly_fields = ["joined_at"]
    verbose_name_plural = "Team (owners publish and change the domain's products)"

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return permissions.is_admin(request.user)

    has_change_permission = has_add_permission = has_delete_permission = has_view_permission


class AdminOnly(admin.ModelAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return permissions.is_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return permissions.is_admin(request.user)

    has_change_permission = has_add_permission = has_delete_permission = has_view_permission


class DomainForm(forms.ModelForm):
    """The Slack webhook must be a public address (the sender refuses anything else anyway)."""

    # A webhook typed without a scheme is https (Django 6's default; 5.x warns until asked).
    slack_webhook_url = forms.URLField(
        required=False, max_length=200, assume_scheme="https", label="Slack webhook URL"
    )

    class Meta:
        model = Domain
        fields = ["slug", "name", "description", "slack_webhook_url", "table_prefix",
                  "policy_overrides", "members_see_raw", "access_max_days",
                  "warehouse"]  # fmt: skip

    def clean_slack_webhook_url(self) -> str:
        url = self.cleaned_data.get("slack_webhook_url") or ""
        problem = webhook_url_problem(url) if url else None
        if problem:
            raise ValidationError(problem)
        return url


@admin.register(Domain)
class DomainAdmin(AdminOnly):
    """Admins only: the table prefix decides which tables a domain's products may bind.

    Owners change their own domain's Slack webhook with ``PATCH /v1/catalog/domains/<slug>``.
    """

    form = DomainForm
    list_display = ["slug", "name", "effective_table_prefix"]
    search_fields = ["slug", "name"]
    inlines = [MembershipInline]

    @admin.display(description="table prefix")
    def effective_table_prefix(self, obj: Domain) -> str:
        return obj.effective_table_prefix

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # Memberships go through accounts.permissions so guardian's groups stay in step (this
        # method had drifted onto TableAssignmentAdmin, where it never ran: issue 12).
        if formset.model is not TeamMembership:
            return super().save_formset(request, form, formset, change)
        for row in formset.forms:
            data = getattr(row, "cleaned_data", None)
            if not data or not data.get("user"):
                continue
            before = row.initial.get("user")  # the row's user as it was shown
            if before is not None and before != data["user"].pk:
                permissions.membership_remove(
                    user=User.objects.get(pk=before), domain=form.instance
                )
            if data.get("DELETE"):
                permissions.membership_remove(user=data["user"], domain=form.instance)
            else:
                permissions.membership_set(
                    user=data["user"], domain=form.instance, is_owner=bool(data.get("is_owner"))
                )
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        return None


@admin.register(WarehouseConnection)
class WarehouseConnectionAdmin(AdminOnly):
    """Admins only: named warehouses (issue 18). Secrets are ``${ENV_VAR}`` in the URL, read
    from the environment when the connection opens; a URL with a secret in clear is refused."""

    list_display = ["name", "url", "domain_names", "updated_at"]
    search_fields = ["name", "url", "description"]
    fields = ["name", "url", "description"]

    @admin.display(description="domains")
    def domain_names(self, obj: WarehouseConnection) -> str:
        return ", ".join(d.slug for d in obj.domains.all()) or "-"


@admin.register(TableAssignment)
class TableAssignmentAdmin(AdminOnly):
    """Admins assign a table outside a domain's prefix namespace to that domain (issue 11)."""

    list_display = ["table", "domain", "assigned_by", "created_at", "note"]
    search_fields = ["table", "note"]
    list_filter = ["domain"]
    readonly_fields = ["assigned_by", "created_at"]
    fields = ["table", "domain", "note", "assigned_by", "created_at"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.assigned_by = request.user
        super().save_model(request, obj, form, change)


# --- Governance (issue 6) -------------------------------------------------------------------


class GovernancePolicyForm(forms.ModelForm):
    """Validates a rule the same way the publish gate reads it (known key, severity, params)."""

    class Meta:
        model = GovernancePolicy
        fields = ["severity", "params"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if "params" in data and data["params"] is None:
            data["params"] = {}  # a blank field (or "null") means no params; the column is not null
        rule = {"key": self.instance.key, "severity": data.get("severity")}
        try:
            parse_rules([{**rule, "params": data.get("params") or {}}])
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        return data


@admin.register(GovernancePolicy)
class GovernancePolicyAdmin(AdminOnly):
    """Platform admins set each global rule's severity and parameters."""

    form = GovernancePolicyForm
    list_display = ["key", "title", "severity", "updated_at", "updated_by"]
    list_editable = ["severity"]
    readonly_fields = ["key", "title", "description", "updated_at", "updated_by"]
    fields = ["key", "title", "description", "severity", "params", "updated_at", "updated_by"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        global_rules()  # rows for every known policy exist before the list is shown
        return super().get_queryset(request).filter(key__in=list(POLICIES))

    @admin.display(description="title")
    def title(self, obj: GovernancePolicy) -> str:
        return POLICIES[obj.key].title if obj.key in POLICIES else obj.key

    @admin.display(description="what it asks")
    def description(self, obj: GovernancePolicy) -> str:
        return POLICIES[obj.key].description if obj.key in POLICIES else ""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # rules are the ones the engine knows; they are seeded, not invented

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
