"""Consumer registrations belong to whoever made them; owners set their domain's webhook.

Issue 11, item 5: anyone could overwrite another team's consumer contact (and so receive its
notices); owners had no way to set the Slack webhook the README promised. The webhook is
vetted by ``quality.webhooks.check_url`` (no private, loopback, link-local or metadata hosts).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from catalog.models import Consumer, DataProduct, Domain
from catalog.services import ConsumerTaken, consumer_register, product_publish
from tests.factories import UserFactory, contract_document

pytestmark = pytest.mark.django_db

URL = "/v1/catalog/products/marketing.campaign_attribution/consumers"
PUBLIC_HOOK = "https://93.184.216.34/services/T000/B000/xyz"  # numeric: no DNS needed here


@pytest.fixture
def product(marketing: Domain) -> DataProduct:
    return product_publish(actor=None, document=contract_document()).product


def register(api_as: Any, user: Any, contact: str, use: str = "dashboards") -> Any:
    body = {"team": "Growth", "useCase": use, "contact": contact}
    return api_as(user).post(URL, body, format="json")


def test_another_user_cannot_overwrite_a_teams_registration(
    product: DataProduct, api_as: Any, analyst: Any, manager: Any
) -> None:
    assert register(api_as, analyst, "growth@company.com").json()["created"] is True
    response = register(api_as, manager, "attacker@evil.example", use="phishing")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "CONSUMER_TAKEN"
    assert "already registered as a consumer of marketing.campaign_attribution" in error["message"]
    assert "team" in error["fields"]
    consumer = Consumer.objects.get(product=product, team="Growth")
    assert (consumer.contact, consumer.use_case, consumer.registered_by) == (
        "growth@company.com",
        "dashboards",
        analyst,
    )


@pytest.mark.parametrize("who", ["analyst", "owner", "admin_user"])
def test_the_registrant_the_owners_and_admins_may_change_it(
    who: str, request: Any, product: DataProduct, api_as: Any, analyst: Any
) -> None:
    register(api_as, analyst, "growth@company.com")
    response = register(api_as, request.getfixturevalue(who), "new@company.com", use="v2")
    assert response.status_code == 200, response.content
    assert response.json() == {"registered": True, "created": False}
    consumer = Consumer.objects.get(product=product, team="Growth")
    assert (consumer.contact, consumer.registered_by) == ("new@company.com", analyst)


def test_a_registration_made_by_the_system_is_changed_by_owners_only(
    product: DataProduct, api_as: Any, analyst: Any, owner: Any
) -> None:
    consumer_register(
        actor=None, product=product, team="Growth", use_case="seeded", contact="g@company.com"
    )
    assert register(api_as, analyst, "x@evil.example").status_code == 409
    assert register(api_as, owner, "owners@company.com").status_code == 200
    assert Consumer.objects.get(team="Growth").contact == "owners@company.com"


def test_the_page_form_refuses_to_overwrite_with_a_message(
    product: DataProduct, analyst: Any, manager: Any
) -> None:
    consumer_register(
        actor=analyst, product=product, team="Growth", use_case="dash", contact="g@company.com"
    )
    client = Client()
    client.force_login(manager)
    response = client.post(
        "/products/marketing.campaign_attribution/consumers/",
        {"team": "Growth", "use_case": "mine now", "contact": "attacker@evil.example"},
    )
    assert response.status_code == 409
    assert "already registered as a consumer" in response.content.decode()
    assert Consumer.objects.get(team="Growth").contact == "g@company.com"


def test_the_service_raises_for_an_outsider(product: DataProduct, analyst: Any) -> None:
    other = UserFactory.create(username="eve")
    consumer_register(actor=analyst, product=product, team="Growth", use_case="a", contact="a@b.io")
    with pytest.raises(ConsumerTaken):
        consumer_register(
            actor=other, product=product, team="Growth", use_case="b", contact="e@b.io"
        )


# --- the domain's Slack webhook ----------------------------------------------------------------


def patch(api_as: Any, user: Any, body: dict[str, Any], slug: str = "marketing") -> Any:
    return api_as(user).patch(f"/v1/catalog/domains/{slug}", body, format="json")


def test_owners_set_their_domains_slack_webhook(owner: Any, marketing: Domain, api_as: Any) -> None:
    response = patch(api_as, owner, {"slackWebhookUrl": PUBLIC_HOOK})
    assert response.status_code == 200, response.content
    assert response.json()["slackWebhookUrl"] == PUBLIC_HOOK
    marketing.refresh_from_db()
    assert marketing.slack_webhook_url == PUBLIC_HOOK
    assert patch(api_as, owner, {"slackWebhookUrl": ""}).status_code == 200
    marketing.refresh_from_db()
    assert marketing.slack_webhook_url == ""


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.0.0.5/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://2130706433/hook",  # 127.0.0.1 as one number
        "http://user:pw@93.184.216.34/hook",
    ],
)
def test_an_unsafe_webhook_is_refused_naming_the_field(
    url: str, owner: Any, marketing: Domain, api_as: Any
) -> None:
    response = patch(api_as, owner, {"slackWebhookUrl": url})
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert "slackWebhookUrl" in error["fields"]
    marketing.refresh_from_db()
    assert marketing.slack_webhook_url == ""


@pytest.mark.parametrize(("who", "status"), [("outsider", 403), ("member", 403), ("analyst", 403)])
def test_only_owners_and_admins_change_a_domains_webhook(
    who: str, status: int, request: Any, marketing: Domain, api_as: Any
) -> None:
    response = patch(api_as, request.getfixturevalue(who), {"slackWebhookUrl": PUBLIC_HOOK})
    assert response.status_code == status
    assert response.json()["error"]["code"] == "FORBIDDEN"
    marketing.refresh_from_db()
    assert marketing.slack_webhook_url == ""


def test_anonymous_cannot_patch_a_domain(marketing: Domain, api_as: Any) -> None:
    assert patch(api_as, None, {"slackWebhookUrl": PUBLIC_HOOK}).status_code == 401


def test_admins_set_any_domains_webhook(admin_user: Any, finance: Domain, api_as: Any) -> None:
    assert patch(api_as, admin_user, {"slackWebhookUrl": PUBLIC_HOOK}, "finance").status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [({"slack": "x"}, "slack"), ({"slackWebhookUrl": "not a url"}, "slackWebhookUrl")],
)
def test_bad_domain_bodies_are_400_naming_the_field(
    body: dict[str, Any], field: str, owner: Any, marketing: Domain, api_as: Any
) -> None:
    response = patch(api_as, owner, body)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_an_unknown_domain_is_404(owner: Any, api_as: Any, marketing: Domain) -> None:
    response = patch(api_as, owner, {"slackWebhookUrl": PUBLIC_HOOK}, "nowhere")
    assert response.status_code == 404


def test_the_domain_admin_refuses_an_internal_webhook(admin_user: Any, marketing: Domain) -> None:
    client = Client()
    client.force_login(admin_user)
    response = client.post(
        f"/admin/catalog/domain/{marketing.pk}/change/",
        {
            "slug": "marketing",
            "name": "Marketing",
            "description": "",
            "slack_webhook_url": "http://169.254.169.254/latest",
            "table_prefix": "",
            "policy_overrides": "[]",
            "teammembership_set-TOTAL_FORMS": 0,
            "teammembership_set-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200  # re-rendered with the error
    assert "is a cloud metadata address" in response.content.decode()
    marketing.refresh_from_db()
    assert marketing.slack_webhook_url == ""
