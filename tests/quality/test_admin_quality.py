"""Domain owners work on quality in the admin: runs with results, per-check history, incidents.

Runs read ``marketing.campaign_attribution · run 36 · failed``; each check's results over time
are one filtered list linked from the product, the run and the check; incidents are
acknowledged and resolved with a note (owners and consumers told), never deleted (issue 12).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from catalog.models import Consumer, DataProduct
from quality.incidents import IncidentRefused, incident_acknowledge, incident_resolve
from quality.models import CheckResult, CheckRun, Incident
from tests.querying.fixtures_django import *  # noqa: F403

pytestmark = pytest.mark.django_db

OURS = "marketing.campaign_attribution"
THEIRS = "finance.revenue_attribution"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def make_run(product: DataProduct, minutes_ago: int, outcomes: dict[str, bool]) -> CheckRun:
    """A finished run of ``product`` with one result per check name (passed or failed)."""
    at = timezone.now() - timedelta(minutes=minutes_ago)
    run = CheckRun.objects.create(
        product=product, trigger="schedule", run_key=f"{product.pk}:{minutes_ago}",
        status="passed" if all(outcomes.values()) else "failed", started_at=at, finished_at=at,
    )  # fmt: skip
    for position, (name, passed) in enumerate(outcomes.items()):
        CheckResult.objects.create(
            run=run, position=position, check_name=name, check_type="not_null",
            status="passed" if passed else "failed", passed=passed, severity="error",
            message="" if passed else f"{minutes_ago} NULL values", value=0 if passed else 1,
            created_at=at,
        )  # fmt: skip
    return run


@pytest.fixture
def history(warehouse: Any) -> dict[str, Any]:
    """Three runs of our product (no_nulls fails in the newest) and one of theirs."""
    ours = DataProduct.objects.get(product_id=OURS)
    theirs = DataProduct.objects.get(product_id=THEIRS)
    runs = [
        make_run(ours, 30, {"rows_exist": True, "no_nulls": True}),
        make_run(ours, 20, {"rows_exist": True, "no_nulls": True}),
        make_run(ours, 10, {"rows_exist": True, "no_nulls": False}),
    ]
    other = make_run(theirs, 5, {"no_nulls": False})
    return {"ours": ours, "theirs": theirs, "runs": runs, "other": other}


# --- Runs and per-check history --------------------------------------------------------------


def test_a_run_reads_as_product_run_and_status_in_the_list_and_on_its_page(
    history: dict[str, Any], owner: Any
) -> None:
    newest = history["runs"][-1]
    assert str(newest) == f"{OURS} · run {newest.pk} · failed"
    client = client_for(owner)
    page = client.get("/admin/quality/checkrun/")
    html = page.content.decode()
    assert f"{OURS} · run {newest.pk} · failed" in html
    assert "1 passed, 1 failed" in html and "2 passed" in html
    detail = client.get(f"/admin/quality/checkrun/{newest.pk}/change/").content.decode()
    assert f"{OURS} · run {newest.pk} · failed</h2>" in detail


def test_a_runs_page_lists_its_results_each_linked_to_that_checks_history(
    history: dict[str, Any], owner: Any
) -> None:
    newest = history["runs"][-1]
    page = client_for(owner).get(f"/admin/quality/checkrun/{newest.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "10 NULL values" in html and "rows_exist" in html
    assert f"/admin/quality/checkresult/?product={OURS}&amp;check=no_nulls" in html


def test_one_checks_history_lists_its_results_in_every_run_newest_first(
    history: dict[str, Any], owner: Any
) -> None:
    page = client_for(owner).get(
        "/admin/quality/checkresult/", {"product": OURS, "check": "no_nulls"}
    )
    assert page.status_code == 200
    results = list(page.context["cl"].result_list)
    assert [r.run_id for r in results] == [r.pk for r in reversed(history["runs"])]
    assert [r.status for r in results] == ["failed", "passed", "passed"]
    assert {r.check_name for r in results} == {"no_nulls"}


def test_another_domains_check_history_stays_out_of_an_owners_lists(
    history: dict[str, Any], owner: Any
) -> None:
    client = client_for(owner)
    everything = client.get("/admin/quality/checkresult/").context["cl"].result_list
    assert {r.run.product.product_id for r in everything} == {OURS}
    asked = client.get("/admin/quality/checkresult/", {"product": THEIRS, "check": "no_nulls"})
    assert list(asked.context["cl"].result_list) == []


def test_the_product_form_links_to_its_runs_results_incidents_and_queries(
    history: dict[str, Any], owner: Any
) -> None:
    client = client_for(owner)
    ours = history["ours"]
    html = client.get(f"/admin/catalog/dataproduct/{ours.pk}/change/").content.decode()
    links = {
        f"/admin/quality/checkrun/?product__id__exact={ours.pk}": 3,
        f"/admin/quality/checkresult/?product={OURS}": 6,
        f"/admin/quality/incident/?product__id__exact={ours.pk}": 0,
        f"/admin/querying/querylog/?product={OURS}": 0,
    }
    for url, count in links.items():
        assert url.replace("&", "&amp;") in html, url
        listed = client.get(url)
        assert listed.status_code == 200 and listed.context["cl"].result_count == count, url
    # Each saved check links to its own history from the checks inline.
    check = ours.checks.order_by("position").first()
    assert f"/admin/quality/checkresult/?product={OURS}&amp;check={check.name}" in html


def test_results_and_runs_are_history_nobody_edits_or_deletes(
    history: dict[str, Any], admin_user: Any
) -> None:
    client = client_for(admin_user)
    run = history["runs"][0]
    result = run.results.first()
    for url in (
        "/admin/quality/checkrun/add/",
        f"/admin/quality/checkrun/{run.pk}/delete/",
        "/admin/quality/checkresult/add/",
        f"/admin/quality/checkresult/{result.pk}/delete/",
    ):
        assert client.get(url).status_code == 403, url
    page = client.get(f"/admin/quality/checkrun/{run.pk}/change/").content.decode()
    assert 'name="_save"' not in page


# --- Incidents ---------------------------------------------------------------------------------


@pytest.fixture
def incidents(history: dict[str, Any]) -> dict[str, Incident]:
    now = timezone.now()
    Consumer.objects.create(
        product=history["ours"], team="Growth", use_case="ROI", contact="growth@example.com"
    )
    return {
        "ours": Incident.objects.create(
            product=history["ours"], opened_at=now, message=f"{OURS}: newest data is 30 h old"
        ),
        "theirs": Incident.objects.create(
            product=history["theirs"], opened_at=now, message=f"{THEIRS}: stale"
        ),
    }


def test_an_owner_acknowledges_an_incident_with_a_note(
    incidents: dict[str, Incident], owner: Any
) -> None:
    incident = incidents["ours"]
    url = f"/admin/quality/incident/{incident.pk}/change/"
    response = client_for(owner).post(url, {"action": "acknowledge", "note": "looking at it"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "open"
    assert incident.acknowledged_by == owner and incident.acknowledged_at is not None
    assert incident.acknowledgement == "looking at it"
    listed = client_for(owner).get("/admin/quality/incident/").content.decode()
    assert "by maya" in listed


def test_resolving_needs_a_note_and_the_refusal_names_it(
    incidents: dict[str, Incident], owner: Any
) -> None:
    incident = incidents["ours"]
    url = f"/admin/quality/incident/{incident.pk}/change/"
    response = client_for(owner).post(url, {"action": "resolve", "note": "   "})
    assert response.status_code == 200
    assert "note" in response.context["adminform"].form.errors
    response = client_for(owner).post(url, {"note": "fixed"})
    assert "action" in response.context["adminform"].form.errors  # what to do, not guessed
    incident.refresh_from_db()
    assert incident.status == "open"


def test_an_owner_resolves_an_incident_and_consumers_hear_the_note(
    incidents: dict[str, Incident], owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    incident = incidents["ours"]
    url = f"/admin/quality/incident/{incident.pk}/change/"
    client = client_for(owner)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as sent:
        response = client.post(url, {"action": "resolve", "note": "backfilled the 3 missing days"})
    assert len(sent) == 1  # told once the resolution is committed
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "resolved" and incident.resolved_by == owner
    assert incident.resolution == "backfilled the 3 missing days"
    assert incident.notified_resolved_at is not None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "resolved by maya" in message.subject and OURS in message.subject
    assert "backfilled the 3 missing days" in message.body
    assert "growth@example.com" in message.to + message.bcc
    # Resolved: the page is read-only now, and a second post changes nothing.
    page = client.get(url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(url, {"action": "resolve", "note": "again"}).status_code == 403
    assert len(mail.outbox) == 1


def test_incidents_are_never_deleted_not_even_by_admins(
    incidents: dict[str, Incident], owner: Any, admin_user: Any
) -> None:
    for user in (owner, admin_user):
        client = client_for(user)
        incident = incidents["ours"]
        assert client.get(f"/admin/quality/incident/{incident.pk}/delete/").status_code == 403
        page = client.get("/admin/quality/incident/")
        actions = [name for name, _ in page.context["action_form"].fields["action"].choices]
        assert "delete_selected" not in actions and "acknowledge_selected" in actions
    assert Incident.objects.count() == 2


def test_the_acknowledge_action_handles_only_the_owners_incidents(
    incidents: dict[str, Incident], owner: Any
) -> None:
    response = client_for(owner).post(
        "/admin/quality/incident/",
        {
            "action": "acknowledge_selected",
            "_selected_action": [str(i.pk) for i in incidents.values()],
        },
        follow=True,
    )
    assert "Acknowledged 1 incident(s)." in response.content.decode()
    ours, theirs = (Incident.objects.get(pk=i.pk) for i in incidents.values())
    assert ours.acknowledged_by == owner
    assert theirs.acknowledged_at is None


def test_an_outsider_is_told_whose_incident_it_is_and_cannot_handle_it(
    incidents: dict[str, Incident], outsider: Any
) -> None:
    incident = incidents["ours"]
    url = f"/admin/quality/incident/{incident.pk}/change/"
    response = client_for(outsider).get(url, follow=True)
    text = response.content.decode()
    assert "belongs to the Marketing domain (marketing)" in text
    client_for(outsider).post(url, {"action": "resolve", "note": "not mine"})
    incident.refresh_from_db()
    assert incident.status == "open"


def test_a_second_resolution_of_the_same_incident_is_refused_not_repeated(
    incidents: dict[str, Incident], owner: Any, admin_user: Any
) -> None:
    first = Incident.objects.get(pk=incidents["ours"].pk)
    second = Incident.objects.get(pk=incidents["ours"].pk)  # read before the first resolution
    incident_resolve(actor=owner, incident=first, note="restarted the loader")
    with pytest.raises(IncidentRefused) as refused:
        incident_resolve(actor=admin_user, incident=second, note="me too")
    assert refused.value.field == "status"
    second.refresh_from_db()
    assert second.resolved_by == owner and second.resolution == "restarted the loader"
    with pytest.raises(IncidentRefused) as late:
        incident_acknowledge(actor=owner, incident=second)
    assert late.value.field == "status"


@pytest.mark.parametrize(
    ("note", "field"),
    [("x" * 2001, "resolution"), ("bad\x00note", "resolution"), ("", "resolution")],
)
def test_bad_resolution_notes_are_refused_naming_the_field(
    incidents: dict[str, Incident], owner: Any, note: str, field: str
) -> None:
    with pytest.raises(IncidentRefused) as refused:
        incident_resolve(actor=owner, incident=incidents["ours"], note=note)
    assert refused.value.field == field


def test_only_owners_and_admins_handle_incidents(
    incidents: dict[str, Incident], member: Any, outsider: Any
) -> None:
    for user in (member, outsider):
        with pytest.raises(PermissionDenied):
            incident_acknowledge(actor=user, incident=incidents["ours"])
        with pytest.raises(PermissionDenied):
            incident_resolve(actor=user, incident=incidents["ours"], note="x")
