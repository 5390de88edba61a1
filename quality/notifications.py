"""Tell people about incidents and failing checks: e-mail, Slack incoming webhook, a webhook.

Deduplication is the caller's job (``quality.services`` stamps ``notified_*_at`` with a
conditional UPDATE, and only notifies checks that newly fail). Here every channel is
best-effort: a failing SMTP server or webhook is logged and never breaks a run.

Every text is escaped for its medium (issue #21): whatever came from a user (check names and
messages, incident messages, product ids) goes into Slack with ``&``, ``<`` and ``>`` escaped,
so ``<!channel>``, ``<@U123>`` and ``<https://evil|click here>`` arrive as inert text; e-mail
subjects are one bounded line. The Slack channel is the one the domain's incoming webhook
posts to; a contract's ``slackChannel`` is shown on the product page, never used to route.
Webhook and Slack URLs go through ``quality.webhooks`` (public addresses only, no redirects).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage

from catalog.mail import email_subject
from catalog.models import DataProduct

from . import webhooks
from .models import CheckRun, Incident

log = logging.getLogger(__name__)

# One message line in an e-mail or a Slack post; the generic webhook carries the full result.
MESSAGE_MAX_LENGTH = 500
HTTP_TIMEOUT_S = webhooks.HTTP_TIMEOUT_S


def post_json(url: str, body: dict[str, Any], *, timeout_s: float = HTTP_TIMEOUT_S) -> bool:
    """POST ``body`` through ``quality.webhooks`` with the deployment's private-address rule."""
    allow_private = bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE", False))
    return webhooks.post_json(url, body, timeout_s=timeout_s, allow_private=allow_private)


def slack_escape(text: object) -> str:
    """``&``, ``<`` and ``>`` as Slack's entities: user text can't ping, link or mention."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _recipients(product: DataProduct) -> tuple[list[str], list[str]]:
    """(owner contact, consumer contacts); consumers go in Bcc so they don't see each other."""
    owner = [product.owner_contact] if product.owner_contact else []
    consumers = sorted(
        {c for c in product.consumers.values_list("contact", flat=True) if c} - set(owner)
    )
    return owner, consumers


def _product_url(product: DataProduct) -> str:
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}/products/{product.product_id}"


def _clip(text: object, limit: int = MESSAGE_MAX_LENGTH) -> str:
    """At most ``limit`` characters of ``text``, with an ellipsis when cut."""
    value = str(text)
    return value if len(value) <= limit else value[: limit - 1] + "\u2026"


def slack_text(*, subject: str, text: str, url: str, label: str) -> str:
    """The Slack message: escaped subject and text, then the portal's own link to ``url``."""
    link = f"<{slack_escape(url)}|{slack_escape(label)}>"
    return f"*{slack_escape(subject)}*\n{slack_escape(text)}\n{link}"


def _send(
    product: DataProduct, *, event: str, subject: str, text: str, payload: dict[str, Any]
) -> None:
    """Send one notification on every configured channel; ``subject`` and ``text`` are plain."""
    url = _product_url(product)
    owner, consumers = _recipients(product)
    if owner or consumers:
        try:
            EmailMessage(
                subject=email_subject(subject),
                body=f"{text}\n\n{url}\n",
                to=owner or consumers[:1],
                bcc=consumers if owner else consumers[1:],
            ).send()
        except Exception as exc:  # SMTP down: log, keep going
            log.warning("notification e-mail for %s failed: %s", product.product_id, exc)
    slack_url = product.domain.slack_webhook_url
    if slack_url:
        # No "channel": the domain's incoming webhook decides where it posts (issue #21); the
        # contract's slackChannel is the owner's text and must not route the portal's messages.
        body: dict[str, Any] = {
            "text": slack_text(
                subject=email_subject(subject), text=text, url=url, label=product.product_id
            ),
            "link_names": False,
        }
        post_json(slack_url, body)
    webhook = getattr(settings, "NOTIFY_WEBHOOK_URL", "")
    if webhook:
        post_json(webhook, {"event": event, "product": product.product_id, **payload})


# Per incident kind: (subject when opened, subject when resolved, text of a bare resolution).
INCIDENT_WORDING: dict[str, tuple[str, str, str]] = {
    "stale_data": (
        "stale data: {product}",
        "resolved: {product} is fresh again",
        "The data is fresh again.",
    ),
    "quality_failure": (
        "failing checks: {product}",
        "resolved: {product} passes its checks again",
        "Every error-severity check passes again.",
    ),
}


def incident_event(*, incident: Incident, event: str) -> None:
    """An incident was opened or resolved."""
    product = DataProduct.objects.select_related("domain").get(pk=incident.product_id)
    opened_subject, resolved_subject, resolved_text = INCIDENT_WORDING.get(
        incident.kind, INCIDENT_WORDING["stale_data"]
    )
    if event == "opened":
        subject = opened_subject.format(product=product.product_id)
        text = _clip(incident.message)
    elif incident.resolved_by is not None:  # resolved by a person, with their note (issue 12)
        subject = f"resolved by {incident.resolved_by.get_username()}: {product.product_id}"
        text = _clip(incident.resolution)
    else:
        subject = resolved_subject.format(product=product.product_id)
        text = _clip(incident.resolution or resolved_text)
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
    lines = "\n".join(
        f"- {o.check_name} ({o.type}, {o.status}): {_clip(o.message)}" for o in failing
    )
    _send(
        product,
        event="checks.failed",
        subject=f"{product.product_id}: {len(failing)} check(s) failing: {names}",
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
