"""Tell people about access requests (issue 17): owners, by e-mail and the domain's Slack
webhook, when someone asks; the requester when it is decided or revoked; the holder three days
before a grant ends.

Senders and escaping are quality's (``quality.notifications``): Slack text escaped (a purpose
cannot ping ``<!channel>``), e-mail subjects one bounded line, webhooks only to public
addresses. Best-effort like every notification: a failing channel is logged, never raised.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import timezone

from accounts.access_models import AccessRequest, AccessStatus
from accounts.models import TeamMembership
from catalog.mail import email_subject
from quality.notifications import post_json, slack_text

log = logging.getLogger(__name__)

# How long a purpose or note may be in one message (the page shows all of it).
TEXT_MAX = 500


def _url(path: str) -> str:
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}{path}"


def _clip(text: str) -> str:
    return text if len(text) <= TEXT_MAX else text[: TEXT_MAX - 1] + "\u2026"


def _when(value: datetime | None) -> str:
    if value is None:
        return "-"
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M %Z")


def _mail(*, to: list[str], subject: str, body: str, what: str) -> None:
    if not to:
        log.info("no e-mail address to send %s to", what)
        return
    try:
        EmailMessage(subject=email_subject(subject), body=body, to=to).send()
    except Exception as exc:  # SMTP down: log, keep going
        log.warning("access notice e-mail (%s) failed: %s", what, exc)


def _owner_addresses(request: AccessRequest) -> list[str]:
    """The e-mail addresses of the product's domain's owners (never the requester's)."""
    rows = TeamMembership.objects.filter(
        domain_id=request.product.domain_id, is_owner=True, user__is_active=True
    ).exclude(user_id=request.requester_id)
    return sorted({m.user.email for m in rows.select_related("user") if m.user.email})


def requested(*, request: AccessRequest) -> None:
    """Someone asked: the domain's owners by e-mail and the domain's Slack webhook."""
    product = request.product
    who = request.requester.get_username()
    columns = ", ".join(request.columns) or "none (query access to a restricted product)"
    subject = f"access request: {who} asks for raw {product.product_id}"
    text = (
        f"{who} asks to read {product.product_id} unmasked for {request.days} days.\n"
        f"Columns: {columns}\nPurpose: {_clip(request.purpose)}"
    )
    inbox = _url(reverse("access:inbox"))
    _mail(
        to=_owner_addresses(request),
        subject=subject,
        body=f"{text}\n\nApprove or deny it: {inbox}\n",
        what=f"request {request.pk}",
    )
    webhook = product.domain.slack_webhook_url
    if webhook:
        # No "channel": the domain's incoming webhook decides where it posts (issue 21).
        body: dict[str, Any] = {
            "text": slack_text(
                subject=email_subject(subject), text=text, url=inbox, label="Decide in the portal"
            ),
            "link_names": False,
        }
        post_json(webhook, body)


DECISION_WORDS = {
    AccessStatus.APPROVED: "approved",
    AccessStatus.DENIED: "denied",
    AccessStatus.REVOKED: "revoked",
}


def decided(*, request: AccessRequest) -> None:
    """The requester learns the decision (approved, denied) or the revocation, and why."""
    word = DECISION_WORDS.get(AccessStatus(request.status))
    if word is None:
        return
    product = request.product
    who = request.decided_by.get_username() if request.decided_by else "an owner"
    lines = [f"Your request to read {product.product_id} unmasked was {word}."]
    if request.status == AccessStatus.APPROVED:
        lines.append(f"Columns: {', '.join(request.columns) or 'none'}")
        lines.append(f"Until: {_when(request.expires_at)} ({request.days} days), by {who}.")
    elif request.status == AccessStatus.DENIED:
        lines.append(f"By {who}.")
    if request.decision_note or request.status == AccessStatus.REVOKED:
        note = request.events.order_by("-at", "-id").values_list("note", flat=True).first()
        if note:
            lines.append(f"Note: {_clip(note)}")
    page = _url(reverse("catalog:product-detail", args=[product.product_id]))
    _mail(
        to=[request.requester.email] if request.requester.email else [],
        subject=f"access {word}: {product.product_id}",
        body="\n".join(lines) + f"\n\n{page}\n",
        what=f"{word} {request.pk}",
    )


def expiry_warning(*, request: AccessRequest, now: datetime) -> None:
    """The holder learns their grant ends within three days (sent once)."""
    product = request.product
    page = _url(reverse("catalog:product-detail", args=[product.product_id]))
    _mail(
        to=[request.requester.email] if request.requester.email else [],
        subject=f"access ends soon: {product.product_id}",
        body=(
            f"Your access to {product.product_id} unmasked "
            f"({', '.join(request.columns) or 'query access'}) ends on "
            f"{_when(request.expires_at)}. Ask again on the product page if you still "
            f"need it.\n\n{page}\n"
        ),
        what=f"expiry warning {request.pk}",
    )


def notify(*, request_id: int, event: str) -> None:
    """Send the notice of ``event`` for one request (the task's whole body)."""
    request = (
        AccessRequest.objects.select_related("product__domain", "requester", "decided_by")
        .filter(pk=request_id)
        .first()
    )
    if request is None:
        log.warning("access request %s is gone; no %s notice", request_id, event)
        return
    if event == "requested":
        requested(request=request)
    elif event in DECISION_WORDS and request.status == event:
        decided(request=request)
