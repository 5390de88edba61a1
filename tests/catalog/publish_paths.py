"""Publish one contract document through each entry point, the way a user would.

``publish_via(path, user, doc)`` returns a ``Published`` saying whether the product was
written and the text of every refusal (API JSON error, admin form errors, CLI stderr lines).
Paths: ``api`` (PUT), ``odcs`` (PUT of the ODCS v3 conversion), ``admin`` (the change form
of an existing product, else the add form), ``cli`` (``manage.py publish --as``).
"""

from __future__ import annotations

import html
import json
import tempfile
from dataclasses import dataclass
from datetime import datetime
from io import StringIO
from pathlib import Path
from typing import Any

import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.contract import parse_contract
from catalog.models import DataProduct, Domain
from catalog.odcs import to_odcs

PATHS = ("api", "odcs", "admin", "cli")


@dataclass
class Published:
    """What one publish attempt did."""

    ok: bool
    text: str  # the refusal as the user saw it, or the success body
    status: int | None = None  # HTTP status for api/odcs/admin
    code: str | None = None  # the JSON error code for api/odcs


def publish_via(path: str, user: Any, doc: dict[str, Any]) -> Published:
    """Publish ``doc`` as ``user`` through ``path``."""
    if path in ("api", "odcs"):
        client = APIClient()
        client.force_authenticate(user)
        body = to_odcs(parse_contract(doc)) if path == "odcs" else doc
        response = client.put(
            f"/v1/catalog/products/{doc['id']}", json.loads(json.dumps(body, default=str)), "json"
        )
        payload = response.json()
        ok = response.status_code in (200, 201)
        code = None if ok else payload["error"]["code"]
        return Published(ok, json.dumps(payload), response.status_code, code)
    if path == "admin":
        return _admin(user, doc)
    if path == "cli":
        with tempfile.TemporaryDirectory() as folder:
            file = Path(folder) / "contract.yaml"
            file.write_text(yaml.safe_dump(doc))
            out, err = StringIO(), StringIO()
            try:
                call_command("publish", str(file), "--as", user.username, stdout=out, stderr=err)
            except CommandError as exc:
                return Published(False, f"{err.getvalue()}\n{exc}")
            return Published(True, out.getvalue())
    raise ValueError(path)


def _admin(user: Any, doc: dict[str, Any]) -> Published:
    client = Client()
    client.force_login(user)
    product = DataProduct.objects.filter(product_id=doc["id"]).first()
    if product is None:
        url = "/admin/catalog/dataproduct/add/"
        data = admin_form_data(doc, Domain.objects.get(slug=doc["domain"]))
    else:
        url = f"/admin/catalog/dataproduct/{product.pk}/change/"
        data = admin_form_data(doc, product.domain, product)
    response = client.post(url, data, follow=True)
    page = html.unescape(response.content.decode())
    saved = bool(response.redirect_chain) and "not saved:" not in page
    return Published(saved, page, response.status_code)


def admin_form_data(
    doc: dict[str, Any], domain: Domain, product: DataProduct | None = None
) -> dict[str, Any]:
    """The admin form POST that states ``doc`` (over ``product``'s rows when it exists)."""
    data: dict[str, Any] = {
        "product_id": doc["id"],
        "domain": domain.pk,
        "name": doc["name"],
        "description": doc.get("description", ""),
        "owner_team": doc["owner"]["team"],
        "owner_contact": doc["owner"]["contact"],
        "owner_slack_channel": doc["owner"].get("slackChannel", ""),
        "sla_freshness": doc["sla"]["freshness"],
        "sla_availability": doc["sla"]["availability"],
        "sla_query_latency_p95_ms": doc["sla"]["queryLatencyP95Ms"],
        "tags": json.dumps(doc.get("tags", [])),
        "version": doc["version"],
        "status": doc["status"],
        "table": doc.get("table", ""),
        "deprecation_sunset_at": "",
        "deprecation_replaced_by": "",
        "deprecation_reason": "",
    }
    deprecation = doc.get("deprecation") or {}
    if deprecation.get("sunsetAt"):  # the admin's split widget, in the portal's time zone
        local = timezone.localtime(datetime.fromisoformat(deprecation["sunsetAt"]))
        data["deprecation_sunset_at_0"] = local.strftime("%Y-%m-%d")
        data["deprecation_sunset_at_1"] = local.strftime("%H:%M:%S")
    data["deprecation_reason"] = deprecation.get("reason", "")
    data["deprecation_replaced_by"] = deprecation.get("replacedBy", "")
    columns = doc["schema"]
    checks = doc.get("qualityChecks", [])
    old_columns = {c.name: c.pk for c in product.columns.all()} if product else {}
    old_checks = {q.name: q.pk for q in product.checks.all()} if product else {}
    for prefix, rows, old, key in (
        ("columns", columns, old_columns, "column"),
        ("checks", checks, old_checks, "name"),
    ):
        names = [row[key] for row in rows]
        kept = [r for r in rows if r[key] in old]
        added = [r for r in rows if r[key] not in old]
        removed = [name for name in old if name not in names]
        data[f"{prefix}-TOTAL_FORMS"] = len(kept) + len(removed) + len(added)
        data[f"{prefix}-INITIAL_FORMS"] = len(old)
        data[f"{prefix}-MIN_NUM_FORMS"] = 0
        data[f"{prefix}-MAX_NUM_FORMS"] = 1000
        # Django numbers the existing rows first (kept, then removed with DELETE), then new ones.
        entries: list[dict[str, Any] | str] = [*kept, *removed, *added]
        for i, row in enumerate(entries):
            if isinstance(row, str):
                data[f"{prefix}-{i}-id"] = old[row]
                data[f"{prefix}-{i}-DELETE"] = "on"
                continue
            if row[key] in old:
                data[f"{prefix}-{i}-id"] = old[row[key]]
            if product is not None:
                data[f"{prefix}-{i}-product"] = product.pk
            data[f"{prefix}-{i}-position"] = rows.index(row)
            if prefix == "columns":
                data[f"{prefix}-{i}-name"] = row["column"]
                data[f"{prefix}-{i}-type"] = row["type"]
                data[f"{prefix}-{i}-description"] = row.get("description", "")
                if row.get("pii"):
                    data[f"{prefix}-{i}-pii"] = "on"
                if row.get("nullable", True):
                    data[f"{prefix}-{i}-nullable"] = "on"
                data[f"{prefix}-{i}-mask"] = row.get("mask", "")
            else:
                data[f"{prefix}-{i}-name"] = row["name"]
                data[f"{prefix}-{i}-type"] = row["type"]
                data[f"{prefix}-{i}-column"] = row.get("column", "")
                data[f"{prefix}-{i}-params"] = json.dumps(row.get("params", {}))
                data[f"{prefix}-{i}-severity"] = row.get("severity", "error")
    return data
