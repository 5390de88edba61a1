"""Sign-in with the company's OpenID Connect provider, end to end (issue 19).

The provider is django-oauth-toolkit's, running in a second process (tests/support/
oidc_provider); the portal is the live server, configured for it as the environment would.
Every request is real HTTP: the authorization code flow with PKCE, the token exchange, the ID
token's RS256 signature checked against the provider's published keys, the user info, the
RP-initiated logout. Nothing is mocked.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from accounts import permissions
from accounts.models import ExternalIdentity, Role, TeamMembership, User
from tests.support.oidc_provider.process import (
    PROVIDER_NAME,
    Provider,
    oidc_on,
    oidc_provider,
    portal_configure,
    provider_running,
    sign_in_at_provider,
)

__all__ = ["oidc_on", "oidc_provider"]  # fixtures, imported for pytest

pytestmark = pytest.mark.django_db(transaction=True)

LOCAL_PASSWORD = "pw-for-tests"  # tests.factories.UserFactory's


def signed_in_as(http: requests.Session, portal: str) -> str | None:
    """The username the portal's pages show for this client, or None when not signed in."""
    page = http.get(f"{portal}/", allow_redirects=False)
    if page.status_code != 200:
        return None
    marker = '<form class="userbox"'
    if marker not in page.text:
        return None
    box = page.text.split(marker, 1)[1]
    return box.split("<span>", 1)[1].split(" <small>", 1)[0]


def complete(http: requests.Session, callback: str) -> requests.Response:
    return http.get(callback, allow_redirects=False)


def teams(user: User) -> dict[str, bool]:
    return {
        m.domain.slug: m.is_owner
        for m in TeamMembership.objects.filter(user=user).select_related("domain")
    }


def test_first_login_creates_the_user_with_the_groups_roles_and_teams(
    live_server: Any, oidc_on: Provider, marketing: Any, finance: Any
) -> None:
    http = requests.Session()
    assert not User.objects.filter(username="dana").exists()

    landed = complete(http, sign_in_at_provider(http, live_server.url, "dana"))

    assert landed.status_code == 302 and landed.headers["Location"] == "/"
    assert signed_in_as(http, live_server.url) == "dana"
    dana = User.objects.get(username="dana")
    assert (dana.email, dana.first_name, dana.last_name) == ("dana@example.com", "Dana", "Owens")
    assert not dana.has_usable_password()  # signs in through the provider only
    identity = ExternalIdentity.objects.get(user=dana)
    assert identity.issuer == oidc_on.issuer and identity.subject  # the provider's sub
    assert identity.last_login_at is not None
    # data-marketing-owners -> owner of marketing; data-finance-members -> member of finance
    assert teams(dana) == {"marketing": True, "finance": False}
    assert dana.role == Role.ANALYST and dana.is_staff  # owners reach the admin, as local ones
    assert [d.slug for d in permissions.owned_domains(dana)] == ["marketing"]

    # A second login finds the same user by its subject (no second account), and the teams
    # follow the provider's groups: out of data-finance-members, out of finance's team.
    oidc_on.groups_remove("dana", "data-finance-members")
    again = requests.Session()
    complete(again, sign_in_at_provider(again, live_server.url, "dana"))
    assert signed_in_as(again, live_server.url) == "dana"
    assert User.objects.filter(username__startswith="dana").count() == 1
    assert ExternalIdentity.objects.count() == 1
    assert teams(User.objects.get(username="dana")) == {"marketing": True}


def test_admin_group_and_groups_of_unknown_domains(
    live_server: Any, oidc_on: Provider, marketing: Any
) -> None:
    eli = requests.Session()
    complete(eli, sign_in_at_provider(eli, live_server.url, "eli"))
    user = User.objects.get(username="eli")
    assert user.role == Role.ADMIN and user.is_staff and user.is_platform_admin

    gus = requests.Session()  # data-nowhere-owners: no such domain, ignored
    complete(gus, sign_in_at_provider(gus, live_server.url, "gus"))
    user = User.objects.get(username="gus")
    assert user.role == Role.ANALYST and not user.is_staff and teams(user) == {}


def test_without_group_sync_roles_and_teams_stay_with_the_admin(
    live_server: Any, oidc_on: Provider, settings: Any, marketing: Any, finance: Any
) -> None:
    settings.OIDC_SYNC_GROUPS = False
    http = requests.Session()
    complete(http, sign_in_at_provider(http, live_server.url, "dana"))
    dana = User.objects.get(username="dana")
    assert dana.role == Role.ANALYST and not dana.is_staff and teams(dana) == {}

    # An admin makes dana a manager in finance's team; the next login leaves that alone.
    dana.role = Role.MANAGER
    dana.save()
    permissions.membership_set(user=dana, domain=finance, is_owner=True)
    again = requests.Session()
    complete(again, sign_in_at_provider(again, live_server.url, "dana"))
    dana.refresh_from_db()
    assert dana.role == Role.MANAGER and teams(dana) == {"finance": True}
    assert signed_in_as(again, live_server.url) == "dana"


def test_local_accounts_keep_working_and_are_never_taken_over(
    live_server: Any, oidc_on: Provider, member: User
) -> None:
    # The provider's "mo" is another person than the portal's local "mo".
    http = requests.Session()
    complete(http, sign_in_at_provider(http, live_server.url, "mo"))
    assert signed_in_as(http, live_server.url) == "mo-2"
    assert User.objects.get(username="mo-2").email == "mo.other@example.com"
    member.refresh_from_db()
    assert member.email != "mo.other@example.com" and member.has_usable_password()
    assert not ExternalIdentity.objects.filter(user=member).exists()

    # The local "mo" still logs in with the password form, next to the provider's button.
    local = requests.Session()
    form = local.get(f"{live_server.url}/accounts/login/")
    assert f"Sign in with {PROVIDER_NAME}" in form.text and 'name="password"' in form.text
    posted = local.post(
        f"{live_server.url}/accounts/login/",
        data={
            "username": "mo",
            "password": LOCAL_PASSWORD,
            "csrfmiddlewaretoken": local.cookies["csrftoken"],
        },
        allow_redirects=False,
    )
    assert posted.status_code == 302
    assert signed_in_as(local, live_server.url) == "mo"


def test_logout_ends_the_portal_session_and_the_providers(
    live_server: Any, oidc_on: Provider, marketing: Any
) -> None:
    http = requests.Session()
    complete(http, sign_in_at_provider(http, live_server.url, "dana"))
    assert signed_in_as(http, live_server.url) == "dana"

    out = http.post(
        f"{live_server.url}/accounts/logout/",
        data={"csrfmiddlewaretoken": http.cookies["csrftoken"]},
        allow_redirects=False,
    )
    assert out.status_code == 302
    assert out.headers["Location"].startswith(f"{oidc_on.issuer}/logout/?id_token_hint=")
    back = http.get(out.headers["Location"], allow_redirects=False)  # the provider's logout
    assert back.status_code == 302, back.text[:500]
    assert back.headers["Location"] == f"{live_server.url}/accounts/login/"
    assert signed_in_as(http, live_server.url) is None

    # The provider's session ended too: signing in again asks for the password there.
    start = http.get(f"{live_server.url}/oidc/authenticate/", allow_redirects=False)
    at_provider = http.get(start.headers["Location"], allow_redirects=False)
    assert at_provider.headers["Location"].startswith("/accounts/login/?next=")


def test_a_local_accounts_logout_stays_in_the_portal(
    live_server: Any, oidc_on: Provider, member: User
) -> None:
    http = requests.Session()
    http.get(f"{live_server.url}/accounts/login/")
    http.post(
        f"{live_server.url}/accounts/login/",
        data={
            "username": "mo",
            "password": LOCAL_PASSWORD,
            "csrfmiddlewaretoken": http.cookies["csrftoken"],
        },
    )
    out = http.post(
        f"{live_server.url}/accounts/logout/",
        data={"csrfmiddlewaretoken": http.cookies["csrftoken"]},
        allow_redirects=False,
    )
    assert out.status_code == 302 and out.headers["Location"] == "/accounts/login/"


def test_a_callback_with_another_state_is_refused_with_a_page(
    live_server: Any, oidc_on: Provider, marketing: Any
) -> None:
    http = requests.Session()
    callback = sign_in_at_provider(http, live_server.url, "dana")
    forged = callback.replace("state=", "state=forged")
    answer = complete(http, forged)
    assert answer.status_code == 400
    assert "did not complete" in answer.text and "could not be verified" in answer.text
    assert "Traceback" not in answer.text
    assert signed_in_as(http, live_server.url) is None
    assert not User.objects.filter(username="dana").exists()


def test_a_replayed_callback_is_refused_with_a_page(
    live_server: Any, oidc_on: Provider, marketing: Any
) -> None:
    http = requests.Session()
    callback = sign_in_at_provider(http, live_server.url, "dana")
    assert complete(http, callback).status_code == 302
    answer = complete(http, callback)  # its state was used up by the first visit
    assert answer.status_code == 400
    assert "could not be verified" in answer.text

    # Another browser replaying a callback it never started gets the login page's message.
    stranger = requests.Session()
    answer = complete(stranger, callback)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/accounts/login/?oidc=failed"
    page = stranger.get(f"{live_server.url}{answer.headers['Location']}")
    assert f"Signing in with {PROVIDER_NAME} did not succeed" in page.text
    assert signed_in_as(stranger, live_server.url) is None


def test_the_provider_refusing_goes_back_to_the_login_page(
    live_server: Any, oidc_on: Provider
) -> None:
    http = requests.Session()
    start = http.get(f"{live_server.url}/oidc/authenticate/", allow_redirects=False)
    state = dict(p.split("=", 1) for p in start.headers["Location"].split("?", 1)[1].split("&"))[
        "state"
    ]
    answer = http.get(
        f"{live_server.url}/oidc/callback/",
        params={"error": "access_denied", "state": state},
        allow_redirects=False,
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/accounts/login/?oidc=failed"


def test_a_provider_that_is_down_when_sign_in_starts_gets_a_page(
    live_server: Any, settings: Any, tmp_path: Any
) -> None:
    # A provider that was started, then stopped: nothing listens at its address any more.
    with provider_running(tmp_path / "gone", live_server.url) as gone:
        portal_configure(settings, gone)
    http = requests.Session()
    answer = http.get(f"{live_server.url}/oidc/authenticate/", allow_redirects=False)
    assert answer.status_code == 502
    assert f"cannot reach {PROVIDER_NAME}" in answer.text and "Traceback" not in answer.text
    assert "portal account" in answer.text


def test_a_provider_that_goes_down_before_the_code_exchange_gets_a_page(
    live_server: Any, settings: Any, tmp_path: Any, marketing: Any
) -> None:
    with provider_running(tmp_path / "op", live_server.url) as provider:
        portal_configure(settings, provider)
        http = requests.Session()
        callback = sign_in_at_provider(http, live_server.url, "dana")
        provider.stop()  # the user signed in there; the provider dies before the exchange
        answer = complete(http, callback)
    assert answer.status_code == 502
    assert f"cannot reach {PROVIDER_NAME}" in answer.text and "Traceback" not in answer.text
    assert signed_in_as(http, live_server.url) is None
    assert not User.objects.filter(username="dana").exists()


def test_a_deactivated_user_is_refused_with_the_login_pages_message(
    live_server: Any, oidc_on: Provider, marketing: Any
) -> None:
    first = requests.Session()
    complete(first, sign_in_at_provider(first, live_server.url, "dana"))
    User.objects.filter(username="dana").update(is_active=False)

    http = requests.Session()
    answer = complete(http, sign_in_at_provider(http, live_server.url, "dana"))
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/accounts/login/?oidc=failed"
    assert signed_in_as(http, live_server.url) is None
    assert User.objects.filter(username__startswith="dana").count() == 1
