"""Tell people about incidents and failing checks: e-mail, Slack incoming webhook, a webhook.

Deduplication is the caller's job (``quality.services`` stamps ``notified_*_at`` with a
conditional UPDATE, and only notifies checks that newly fail). Here every channel is
best-effort: a failing SMTP server or webhook is logged and never breaks a run.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.core.mail import EmailMessage

from catalog.models import DataProduct

from .models import CheckRun, Incident

log = logging.getLogger(__name__)

HTTP_TIMEOUT_S = 5.0


def post_json(url: str, body: dict[str, Any], *, timeout_s: float = HTTP_TIMEOUT_S) -> bool:
    """POST ``body`` as JSON to an http(s) URL; log and return False on any failure."""
    if urlparse(url).scheme not in ("http", "https"):
        log.warning("notification webhook %r is not an http(s) URL; skipped", url)
        return False
    request = urllib.request.Request(
        url,
        data=json.dumps(body, default=str).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "data-mesh-portal"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - scheme checked
            return 200 <= response.status < 300
    except Exception as exc:  # network errors, timeouts, HTTP errors alike
        log.warning("notification webhook %s failed: %s", urlparse(url).netloc, exc)
        return False


def _recipients(product: DataProduct) -> tuple[list[str], list[str]]:
    """(owner contact, consumer contacts); consumers go in Bcc so they don't see each other."""
    owner = [product.owner_contact] if product.owner_contact else []
    consumers = sorted(
        {c for c in product.consumers.values_list("contact", flat=True) if c} - set(owner)
    )
    return owner, consumers


def _product_url(product: DataProduct) -> str:
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}/products/{product.product_id}"


def _send(
    product: DataProduct, *, event: str, subject: str, text: str, payload: dict[str, Any]
) -> None:
    """Send one notification on every configured channel."""
    owner, consumers = _recipients(product)
    if owner or consumers:
        try:
            EmailMessage(
                subject=subject,
                body=f"{text}\n\n{_product_url(product)}\n",
                to=owner or consumers[:1],
                bcc=consumers if owner else consumers[1:],
            ).send()
        except Exception as exc:  # SMTP down: log, keep going
            log.warning("notification e-mail for %s failed: %s", product.product_id, exc)
    slack_url = product.domain.slack_webhook_url
    if slack_url:
        body: dict[str, Any] = {"text": f"*{subject}*\n{text}\n{_product_url(product)}"}
        if product.owner_slack_channel:
            body["channel"] = product.owner_slack_channel
        post_json(slack_url, body)
    webhook = getattr(settings, "NOTIFY_WEBHOOK_URL", "")
    if webhook:
        post_json(webhook, {"event": event, "product": product.product_id, **payload})


def incident_event(*, incident: Incident, event: str) -> None:
    """An incident was opened or resolved."""
    product = DataProduct.objects.select_related("domain").get(pk=incident.product_id)
    if event == "opened":
        subject = f"[data portal] stale data: {product.product_id}"
        text = incident.message
    else:
        subject = f"[data portal] resolved: {product.product_id} is fresh again"
        text = incident.resolution or "The data is fresh again."
    _send(
        product,
        event=f"incident.{event}",
        subject=subject,
        text=text,
        payload={
            "incident": {
                "id": incident.pk,
                "kind": incident.kind,
                "status": incident.status,
                "openedAt": incident.opened_at.isoformat(),
                "resolvedAt": incident.resolved_at.isoformat() if incident.resolved_at else None,
                "message": incident.message,
            }
        },
    )


def check_failures(*, product: DataProduct, run: CheckRun, outcomes: Iterable[Any]) -> None:
    """Error-severity checks started failing (or erroring) in ``run``."""
    failing = list(outcomes)
    names = ", ".join(o.check_name for o in failing)
    lines = "\n".join(f"- {o.check_name} ({o.type}, {o.status}): {o.message}" for o in failing)
    _send(
        product,
        event="checks.failed",
        subject=f"[data portal] {product.product_id}: {len(failing)} check(s) failing: {names}"[
            :200
        ],
        text=f"Run {run.pk} ({run.trigger}) found:\n{lines}",
        payload={
            "run": {"id": run.pk, "trigger": run.trigger, "status": run.status},
            "results": [
                {
                    "checkName": o.check_name,
                    "type": o.type,
                    "status": o.status,
                    "passed": o.passed,
                    "severity": o.severity,
                    "message": o.message,
                    "value": o.value,
                }
                for o in failing
            ],
        },
    )
