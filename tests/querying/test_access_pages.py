"""People are told, and the pages show it (issue 17): owners get the request by e-mail and the
domain's Slack webhook (escaped, with a link); the requester gets the decision; the product page
shows the caller's access, the form to ask, the grant and its expiry, and the masking figure with
every raw read's justification; the owner's inbox approves and denies; the scorecard shows the
figure per domain."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.access_models import AccessRequest
from catalog.access import masking_figure
from catalog.governance.selectors import domain_scorecard
from catalog.models import DataProduct, Domain
from catalog.services import product_publish
from querying.access import services
from querying.services import query_submit
from tests.quality.test_notifications import Receiver
from tests.querying.fixtures_django import build_warehouse
from tests.querying.test_access_requests import PID, PII, PURPOSE, SQL, document

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(tmp_path: Path, settings: Any, marketing: Domain, finance: Domain) -> DataProduct:
    settings.PII_HASH_KEY = "test-hash-key"
    settings.WAREHOUSE_URL = f"duckdb:///{build_warehouse(tmp_path / 'w.duckdb')}"
    return product_publish(actor=None, document=document(PID)).product


@pytest.fixture
def receiver(settings: Any, marketing: Domain) -> Any:
    rec = Receiver()
    settings.WEBHOOK_ALLOW_PRIVATE = True
    Domain.objects.filter(pk=marketing.pk).update(slack_webhook_url=f"{rec.url}/slack")
    yield rec
    rec.server.shutdown()
    rec.server.server_close()


def page(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def card(html: str) -> str:
    """The product page's "Raw access" card."""
    found = re.search(r'<section class="card" id="access".*?</section>', html, re.S)
    assert found, "the product page has no access card"
    return found.group(0)


def test_owners_are_told_by_email_and_slack_and_the_requester_learns_the_decision(
    product: DataProduct,
    analyst: Any,
    owner: Any,
    member: Any,
    receiver: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    purpose = "<!channel> please: reconcile <https://evil.example|the> conversions & refunds"
    with django_capture_on_commit_callbacks(execute=True):
        request = services.access_request_create(actor=analyst, product=product, purpose=purpose)
    asked = [m for m in mail.outbox if "access request" in m.subject]
    assert len(asked) == 1 and asked[0].to == [owner.email]  # owners only, not members
    assert "/access/" in asked[0].body and purpose in asked[0].body
    assert "\n" not in asked[0].subject
    (slack,) = receiver.bodies("/slack")
    assert "<!channel>" not in slack["text"] and "&lt;!channel&gt;" in slack["text"]
    assert "<https://evil.example|" not in slack["text"]
    assert re.search(r"<http://[^|>]+/access/\|Decide in the portal>", slack["text"]), slack
    assert "channel" not in slack  # the domain's webhook decides where it posts
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.access_request_deny(actor=owner, request=request, note="use the aggregate")
    (told,) = mail.outbox
    assert told.to == [analyst.email] and "denied" in told.subject
    assert "use the aggregate" in told.body and "By maya" in told.body


def test_an_approval_tells_the_requester_until_when(
    product: DataProduct, analyst: Any, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    request = services.access_request_create(
        actor=analyst, product=product, purpose=PURPOSE, columns=["user_id"], days=5
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        approved = services.access_request_approve(actor=owner, request=request)
    (told,) = mail.outbox
    assert told.to == [analyst.email] and "approved" in told.subject
    assert (
        "user_id" in told.body
        and timezone.localtime(approved.expires_at).strftime("%Y-%m-%d") in told.body
    )


def test_the_product_page_lets_a_masked_reader_ask_and_then_shows_the_grant(
    product: DataProduct, analyst: Any, owner: Any
) -> None:
    url = f"/products/{PID}/"
    html = card(page(analyst).get(url).content.decode())
    assert "Request raw access" in html and 'name="purpose"' in html
    assert all(f'value="{name}"' in html for name in PII)
    response = page(analyst).post(
        f"/access/products/{PID}/request",
        {"columns": ["user_id", "channel"], "purpose": PURPOSE, "days": "7"},
    )
    assert response.status_code == 302 and response["Location"] == f"{url}#access"
    request = AccessRequest.objects.get()
    assert (request.columns, request.days, request.status) == (["user_id", "channel"], 7, "pending")
    html = card(page(analyst).get(url).content.decode())
    assert f'data-pending="{request.pk}"' in html and "Request raw access" not in html
    # The owner decides in the inbox.
    inbox = page(owner).get("/access/").content.decode()
    assert f'data-request="{request.pk}"' in inbox and escape(PURPOSE) in inbox
    decided = page(owner).post(f"/access/{request.pk}/approve", {"days": "3", "note": "ok"})
    assert decided.status_code == 302
    html = card(page(analyst).get(url).content.decode())
    assert f'data-grant="{request.pk}"' in html
    assert 'data-basis="grant:' in html and "until" in html
    granted = AccessRequest.objects.get(pk=request.pk)
    assert granted.days == 3 and granted.expires_at is not None
    assert granted.expires_at.strftime("%Y") in html


def test_a_short_purpose_from_the_form_is_said_and_nothing_is_stored(
    product: DataProduct, analyst: Any
) -> None:
    response = page(analyst).post(
        f"/access/products/{PID}/request", {"purpose": "short", "days": "7"}, follow=True
    )
    assert "at least 20 characters" in response.content.decode()
    assert not AccessRequest.objects.exists()


def test_members_see_why_they_read_raw_and_no_form(product: DataProduct, member: Any) -> None:
    html = card(page(member).get(f"/products/{PID}/").content.decode())
    assert 'data-basis="domain:member"' in html and "Request raw access" not in html


def test_the_inbox_denies_with_a_note_and_refuses_without(
    product: DataProduct, analyst: Any, owner: Any
) -> None:
    request = services.access_request_create(actor=analyst, product=product, purpose=PURPOSE)
    refused = page(owner).post(f"/access/{request.pk}/deny", {"note": ""}, follow=True)
    assert "note is required" in refused.content.decode()
    assert AccessRequest.objects.get(pk=request.pk).status == "pending"
    page(owner).post(f"/access/{request.pk}/deny", {"note": "aggregate instead"})
    assert AccessRequest.objects.get(pk=request.pk).status == "denied"
    mine = page(analyst).get("/access/").content.decode()
    assert "aggregate instead" in mine and "denied" in mine


def test_the_inbox_never_redirects_off_site(product: DataProduct, analyst: Any) -> None:
    request = services.access_request_create(actor=analyst, product=product, purpose=PURPOSE)
    response = page(analyst).post(
        f"/access/{request.pk}/cancel", {"next": "https://evil.example/x"}
    )
    assert response["Location"] == "/access/"


def test_the_masking_figure_counts_non_privileged_queries_and_every_raw_reads_basis(
    product: DataProduct, analyst: Any, manager: Any, owner: Any, member: Any, admin_user: Any
) -> None:
    request = services.access_request_create(
        actor=analyst, product=product, purpose=PURPOSE, columns=["channel"]
    )
    services.access_request_approve(actor=owner, request=request)
    now = datetime.now(UTC)
    for user in (analyst, manager, manager, manager, owner, member, admin_user):
        assert query_submit(user=user, sql=SQL, now=now).is_allowed
    figure = masking_figure([PID], now=now + timedelta(seconds=1))
    assert (figure.non_privileged, figure.masked, figure.raw_by_grant) == (4, 3, 1)
    assert figure.share == 0.75 and figure.unjustified == 0
    assert figure.raw_by_basis == {
        f"grant:{request.pk}": 1,
        "domain:member": 1,
        "domain:owner": 1,
        "role:admin": 1,
    }
    html = card(page(manager).get(f"/products/{PID}/").content.decode())
    assert "<strong>75%</strong> of the 4 queries" in html
    assert f"<code>grant:{request.pk}</code>: 1 query" in html
    card_json = domain_scorecard(Domain.objects.get(slug="marketing"), user=owner, now=now)
    assert card_json["piiMasking"]["share"] == 0.75
    assert card_json["piiMasking"]["rawReadsBy"]["domain:owner"] == 1
    governance = page(owner).get("/governance/").content.decode()
    assert "75%" in governance and "(3/4 queries without raw access" in governance


def test_the_admin_lists_requests_with_filters_read_only_and_narrowed_to_the_viewer(
    product: DataProduct, analyst: Any, manager: Any, owner: Any, outsider: Any, admin_user: Any
) -> None:
    finance = product_publish(actor=None, document=document("finance.revenue_attribution"))
    approved = services.access_request_create(actor=analyst, product=product, purpose=PURPOSE)
    services.access_request_approve(actor=owner, request=approved, note="fine")
    pending = services.access_request_create(
        actor=manager, product=finance.product, purpose=PURPOSE
    )
    url = "/admin/accounts/accessrequest/"

    def listed(user: Any, query: str = "") -> set[int]:
        response = page(user).get(f"{url}{query}")
        assert response.status_code == 200, response.status_code
        return {
            int(pk)
            for pk in re.findall(
                r"/admin/accounts/accessrequest/(\d+)/change/", response.content.decode()
            )
        }

    assert listed(admin_user) == {approved.pk, pending.pk}
    assert listed(admin_user, "?status__exact=pending") == {pending.pk}
    assert listed(admin_user, f"?product__domain__id__exact={product.domain_id}") == {approved.pk}
    assert listed(owner) == {approved.pk}  # their domain's only
    assert listed(outsider) == {pending.pk}
    # Read-only: the history is shown, nothing is changed or deleted from the admin.
    detail = page(admin_user).get(f"{url}{approved.pk}/change/").content.decode()
    assert "fine" in detail and "approved" in detail
    assert page(admin_user).post(f"{url}{approved.pk}/delete/", {"post": "yes"}).status_code == 403
    assert (
        page(admin_user).post(f"{url}{approved.pk}/change/", {"status": "pending"}).status_code
        == 403
    )
    assert AccessRequest.objects.get(pk=approved.pk).status == "approved"
    assert page(analyst).get(url).status_code == 302  # not staff: to the admin's log-in
