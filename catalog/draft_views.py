"""The "New data product" page (issue 15): pick a table, edit its drafted contract, publish.

1. ``GET /products/new/``: the tables the user's domains may bind that no product uses yet;
2. ``GET /products/new/?source=<domain>/<table>``: the draft (``catalog.services.drafts``)
   as a form beside the table's column profile and the draft's notes;
3. ``POST /products/new/check/``: the same dry run a publish makes (contract, policies,
   table binding, custom SQL, conformance: ``product_publish(dry_run=True)``), answered as
   JSON naming the form field of each problem (static/js/draft.js shows them beside the fields
   while the owner types);
4. ``POST /products/new/`` with ``action`` ``check`` (the same dry run, for pages without
   JavaScript), ``add_column``, ``add_check``, ``draft`` (save with status draft) or
   ``publish``: the real publish, then the product's page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.permissions import signed_in
from catalog.contract import ContractError, ContractIssue
from catalog.contract.vocabulary import ProductStatus

from .draft_form import (
    CHOICES,
    FormDocument,
    Row,
    attach_errors,
    empty_check,
    empty_column,
    initial_rows,
    page_fields,
    product_values,
    read_form,
)
from .services import PublishRefused, product_publish
from .services.drafts import DraftError, contract_draft, draft_domains, draftable_tables

# The last drafts' profiles and notes, per user session, so a re-rendered form keeps them.
SESSION_KEY = "product_drafts"
DRAFTS_KEPT = 3
DRAFT_ONLY = (
    "fine for a draft: it is checked once the table has it; publishing needs the table to have it"
)


@login_required
@require_http_methods(["GET", "POST"])
def product_new(request: HttpRequest) -> HttpResponse:
    """Pick a table (GET), see and edit its draft (GET ?source=), check or publish it (POST)."""
    user = signed_in(request.user)
    domains = draft_domains(actor=user)
    if not domains:
        raise PermissionDenied("only owners of a domain and admins may create data products")
    if request.method == "POST":
        return _post(request)
    source = request.GET.get("source", "")
    if not source:
        return _pick(request, domains)
    domain, _, table = source.partition("/")
    try:
        draft = contract_draft(
            actor=user,
            table=table,
            domain=domain,
            product_id=request.GET.get("id") or None,
            name=request.GET.get("name") or None,
        )
    except DraftError as exc:
        return _pick(request, domains, error=str(exc), status=_status_of(exc))
    _remember(request, table, draft.profile, draft.notes)
    columns, checks = initial_rows(draft.contract)
    return _render_form(
        request,
        values=product_values(draft.contract),
        columns=[*columns, empty_column(len(columns))],
        checks=[*checks, empty_check(len(checks))],
        table=table,
    )


def _status_of(exc: DraftError) -> int:
    return {"NOT_FOUND": 404, "CONFLICT": 409, "WAREHOUSE_UNAVAILABLE": 503}.get(exc.code, 400)


def _pick(
    request: HttpRequest, domains: list[Any], *, error: str = "", status: int = 200
) -> HttpResponse:
    try:
        offered = draftable_tables(actor=signed_in(request.user))
    except DraftError as exc:
        offered, error, status = {}, error or str(exc), 503
    names = {d.slug: d.name for d in domains}
    groups = [(slug, names.get(slug, slug), tables) for slug, tables in offered.items()]
    return render(
        request,
        "catalog/product_new.html",
        {"step": "pick", "groups": groups, "error": error, "any_table": any(offered.values())},
        status=status,
    )


def _remember(request: HttpRequest, table: str, profile: Any, notes: list[str]) -> None:
    kept = [d for d in request.session.get(SESSION_KEY, []) if d.get("table") != table]
    kept.append({"table": table, "profile": profile, "notes": notes})
    request.session[SESSION_KEY] = kept[-DRAFTS_KEPT:]


def _recall(request: HttpRequest, table: str) -> dict[str, Any]:
    for draft in request.session.get(SESSION_KEY, []):
        if draft.get("table") == table:
            return dict(draft)
    return {}


def _render_form(
    request: HttpRequest,
    *,
    values: dict[str, Any],
    columns: list[Row],
    checks: list[Row],
    table: str,
    errors: dict[str, list[str]] | None = None,
    general: list[str] | None = None,
    warnings: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    kept = _recall(request, table)
    errors = errors or {}
    column_names = [r.values["column"] for r in columns if r.values.get("column")]
    attach_errors(columns, "col", errors)
    attach_errors(checks, "chk", errors)
    return render(
        request,
        "catalog/product_new.html",
        {
            "step": "edit",
            "fields": page_fields(values, errors),
            "table_errors": errors.get("table", []),
            "columns": columns,
            "checks": checks,
            "column_names": column_names,
            "choices": CHOICES,
            "profile": kept.get("profile"),
            "notes": kept.get("notes", []),
            "errors": errors,
            "general": general or [],
            "warnings": warnings or [],
            "has_errors": bool(errors or general),
            "table": table,
        },
        status=status,
    )


@login_required
@require_POST
def product_new_check(request: HttpRequest) -> JsonResponse:
    """The publish's dry run over the posted form: ``{"ok", "errors", "general", "warnings"}``."""
    user = signed_in(request.user)
    if not draft_domains(actor=user):
        return JsonResponse(
            {"ok": False, "general": ["only domain owners may do this"]}, status=403
        )
    form, _, _ = read_form(request.POST, status=ProductStatus.PUBLISHED)
    result = _dry_run(user, form)
    return JsonResponse(result, status=200)


def _dry_run(user: Any, form: FormDocument) -> dict[str, Any]:
    """Run the publish's gates without writing; problems by form field."""
    errors: dict[str, list[str]] = {k: list(v) for k, v in form.errors.items()}
    general: list[str] = []
    warnings: list[str] = []
    publishable = True
    if not errors:
        try:
            outcome = product_publish(actor=user, document=form.document, dry_run=True)
            warnings = list(outcome.warnings)
        except ContractError as exc:
            _place(form, exc.issues, errors, general)
        except PublishRefused as exc:  # PublishConflict too
            draft_ok = exc.code == "CONFORMANCE" and all(
                "does not exist in table" in i.message for i in exc.issues
            )
            _place(form, exc.issues, errors, general, suffix=DRAFT_ONLY if draft_ok else "")
            publishable = False
            if draft_ok:
                general.append(
                    "Columns the table does not have yet can be saved as a draft; they are "
                    "checked once the table has them."
                )
        except PermissionDenied as exc:
            general.append(str(exc))
    ok = not errors and not general
    return {
        "ok": ok,
        "publishable": ok and publishable,
        "errors": errors,
        "general": general,
        "warnings": warnings,
    }


def _place(
    form: FormDocument,
    issues: list[ContractIssue],
    errors: dict[str, list[str]],
    general: list[str],
    *,
    suffix: str = "",
) -> None:
    for issue in issues:
        message = f"{issue.message} ({suffix})" if suffix else issue.message
        name = form.field_for(issue.path)
        if name:
            errors.setdefault(name, []).append(message)
        else:
            general.append(f"{issue.path}: {message}" if issue.path else message)


def _post(request: HttpRequest) -> HttpResponse:
    user = signed_in(request.user)
    action = request.POST.get("action", "check")
    status = ProductStatus.DRAFT if action == "draft" else ProductStatus.PUBLISHED
    form, columns, checks = read_form(request.POST, status=status)
    table = str(form.document.get("table", ""))
    values = {k: request.POST.get(k, "") for k in product_values({})}
    if action in ("add_column", "add_check"):
        if action == "add_column":
            columns.append(empty_column(len(columns)))
        else:
            checks.append(empty_check(len(checks)))
        return _render_form(request, values=values, columns=columns, checks=checks, table=table)
    if action in ("draft", "publish") and not form.errors:
        try:
            outcome = product_publish(actor=user, document=form.document, source="page")
        except ContractError as exc:
            return _again(request, form, values, columns, checks, table, exc.issues)
        except PublishRefused as exc:
            suffix = ""
            if exc.code == "CONFORMANCE" and status == ProductStatus.PUBLISHED:
                suffix = DRAFT_ONLY
            return _again(request, form, values, columns, checks, table, exc.issues, suffix)
        verb = "saved as a draft" if status == ProductStatus.DRAFT else "published"
        product = outcome.product
        note = "" if status == ProductStatus.DRAFT else " Its checks run within a minute."
        messages.success(request, f"{product.product_id} v{product.version} {verb}.{note}")
        for warning in outcome.warnings:
            messages.warning(request, warning)
        return HttpResponseRedirect(reverse("catalog:product-detail", args=[product.product_id]))
    result = _dry_run(user, form)
    return _render_form(
        request,
        values=values,
        columns=columns,
        checks=checks,
        table=table,
        errors=result["errors"],
        general=result["general"],
        warnings=result["warnings"],
        status=200 if result["ok"] else 400,
    )


def _again(
    request: HttpRequest,
    form: FormDocument,
    values: dict[str, Any],
    columns: list[Row],
    checks: list[Row],
    table: str,
    issues: list[ContractIssue],
    suffix: str = "",
) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    general: list[str] = []
    _place(form, issues, errors, general, suffix=suffix)
    status = 409 if any("version" in i.path for i in issues) else 400
    return _render_form(
        request,
        values=values,
        columns=columns,
        checks=checks,
        table=table,
        errors=errors,
        general=general,
        status=status,
    )
