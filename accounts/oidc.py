"""Sign-in with the company's OpenID Connect provider (issue 19), off unless ``OIDC_ENABLED=1``.

mozilla-django-oidc runs the authorization code flow (with PKCE and a nonce): the portal's
``/oidc/authenticate/`` sends the browser to the provider, whose answer comes back to
``/oidc/callback/``, where the backend below exchanges the code, checks the ID token's RS256
signature against the provider's keys and reads the user info. Then:

- the user is found by the provider's ``sub`` claim (``ExternalIdentity``), never by e-mail
  address, so a provider account can never take over a local one; on the first login a portal
  user is created (``preferred_username``, else the e-mail's local part; a taken name gets a
  number) with an unusable password: they sign in through the provider only;
- with ``OIDC_SYNC_GROUPS=1`` the role and domain teams follow the provider's group claim at
  every login (``accounts.claims``: ``data-marketing-owners`` owns marketing), applied through
  ``accounts.permissions.membership_set``/``membership_remove``; otherwise they stay managed in
  the admin (new users start as analysts with no team);
- local accounts keep signing in with a password (``accounts.backends.ThrottledModelBackend``,
  throttled as before; this backend ignores password log-ins);
- logging out of an account that signed in through the provider also ends the provider's
  session when ``OIDC_OP_LOGOUT_ENDPOINT`` is set (RP-initiated logout);
- what can go wrong answers a readable page, never a 500: the provider unreachable when the
  sign-in starts or when its code is exchanged (502), a callback whose state this browser did
  not start, a replayed one, an ID token not signed by the provider's keys, not issued for this
  client or by another issuer (400); the provider's own refusal (``?error=``) and a
  deactivated portal user go back to the login page with a message.

Off, every ``/oidc/`` URL answers 404 and the backend authenticates nobody.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any
from urllib.parse import urlencode, urlparse

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.views import LoginView, LogoutView
from django.core.exceptions import SuspiciousOperation
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from . import permissions
from .claims import claimed_groups, group_mapping, roles_and_teams
from .models import ExternalIdentity, Role, User

log = logging.getLogger(__name__)

ID_TOKEN_KEY = "oidc_id_token"
USERNAME_MAX = 150
# How long the start of a sign-in waits for the provider's keys before saying it is down.
PROBE_TIMEOUT_S = 5


def enabled() -> bool:
    """Whether sign-in with the provider is configured on."""
    return bool(getattr(settings, "OIDC_ENABLED", False))


def issuer() -> str:
    """The provider's identifier that identities are kept under: ``OIDC_OP_ISSUER``, else the
    origin of its authorization endpoint."""
    configured = getattr(settings, "OIDC_OP_ISSUER", "")
    if configured:
        return str(configured)
    url = urlparse(settings.OIDC_OP_AUTHORIZATION_ENDPOINT)
    return f"{url.scheme}://{url.netloc}"


def _username_base(claims: dict[str, Any]) -> str:
    raw = claims.get("preferred_username") or str(claims.get("email") or "").split("@")[0]
    text = unicodedata.normalize("NFKC", str(raw or "")).strip()
    # Django's username characters: letters, digits and @.+-_
    text = re.sub(r"[^\w.@+-]", "-", text)[: USERNAME_MAX - 8].strip("-")
    return text or "user"


def _free_username(claims: dict[str, Any]) -> str:
    base = _username_base(claims)
    taken = set(
        User.objects.filter(username__iregex=r"^" + re.escape(base) + r"(-[0-9]+)?$").values_list(
            "username", flat=True
        )
    )
    lowered = {name.lower() for name in taken}
    if base.lower() not in lowered:
        return base
    number = 2
    while f"{base}-{number}".lower() in lowered:
        number += 1
    return f"{base}-{number}"


def _text_claim(claims: dict[str, Any], name: str, limit: int) -> str:
    value = claims.get(name)
    return str(value)[:limit] if isinstance(value, str) else ""


@transaction.atomic
def user_sync_from_claims(*, user: User, claims: dict[str, Any]) -> User:
    """Apply the provider's claims to ``user``: e-mail and names always; role and teams from
    the group claim when ``OIDC_SYNC_GROUPS`` is on (teams of domains that do not exist are
    skipped and logged; teams the claim no longer grants are taken away)."""
    from catalog.models import Domain

    user.email = _text_claim(claims, "email", 254) or user.email
    user.first_name = _text_claim(claims, "given_name", 150) or user.first_name
    user.last_name = _text_claim(claims, "family_name", 150) or user.last_name
    if settings.OIDC_SYNC_GROUPS:
        mapping = group_mapping(
            admin_groups=settings.OIDC_ADMIN_GROUPS,
            manager_groups=settings.OIDC_MANAGER_GROUPS,
            owner_pattern=settings.OIDC_OWNER_GROUP_PATTERN,
            member_pattern=settings.OIDC_MEMBER_GROUP_PATTERN,
        )
        grants = roles_and_teams(claimed_groups(claims, settings.OIDC_GROUPS_CLAIM), mapping)
        user.role = grants.role
        domains = {d.slug: d for d in Domain.objects.filter(slug__in=list(grants.teams))}
        for slug in sorted(set(grants.teams) - set(domains)):
            log.warning("OIDC group for unknown domain %r ignored (user %s)", slug, user.username)
        for slug, domain in domains.items():
            permissions.membership_set(user=user, domain=domain, is_owner=grants.teams[slug])
        for membership in user.memberships.select_related("domain"):
            if membership.domain.slug not in domains:
                permissions.membership_remove(user=user, domain=membership.domain)
        user.is_staff = user.role == Role.ADMIN or any(grants.teams[s] for s in domains)
    user.save()
    return user


class PortalOIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend, inert when OIDC is off, finding users by ``sub``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.enabled = enabled()
        if self.enabled:
            super().__init__(*args, **kwargs)
        self.UserModel = get_user_model()

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> Any:
        if not self.enabled or request is None or "password" in kwargs:
            return None
        return super().authenticate(request, **kwargs)

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        """The library checks the signature and the nonce; this also checks that the ID token
        was issued for this client (``aud``) and, with ``OIDC_OP_ISSUER`` set, by that issuer."""
        payload: dict[str, Any] = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if settings.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("the ID token was not issued for this portal (aud)")
        expected = getattr(settings, "OIDC_OP_ISSUER", "")
        if expected and payload.get("iss") != expected:
            raise SuspiciousOperation("the ID token comes from another issuer (iss)")
        return payload

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        subject = claims.get("sub")
        return isinstance(subject, str) and 0 < len(subject) <= 255

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        return self.UserModel.objects.filter(
            external_identities__issuer=issuer(), external_identities__subject=claims["sub"]
        )

    def describe_user_by_claims(self, claims: dict[str, Any]) -> str:
        return f"subject {claims.get('sub')!r}"

    def create_user(self, claims: dict[str, Any]) -> User:
        """First login: a portal user with an unusable password, linked to the subject."""
        for _attempt in range(3):
            try:
                with transaction.atomic():
                    user = User(username=_free_username(claims), role=Role.ANALYST)
                    user.set_unusable_password()
                    user.save()
                    ExternalIdentity.objects.create(
                        user=user,
                        issuer=issuer(),
                        subject=claims["sub"],
                        last_login_at=timezone.now(),
                    )
                    return user_sync_from_claims(user=user, claims=claims)
            except IntegrityError:
                # Another login took the name (or created this subject) meanwhile: look again.
                existing = self.filter_users_by_claims(claims).first()
                if existing is not None:
                    return self.update_user(existing, claims)
        raise SuspiciousOperation("could not create a user for this subject")

    def update_user(self, user: User, claims: dict[str, Any]) -> User:
        """Later logins: claims applied again (a deactivated user is refused by the view)."""
        ExternalIdentity.objects.filter(user=user, issuer=issuer(), subject=claims["sub"]).update(
            last_login_at=timezone.now()
        )
        return user_sync_from_claims(user=user, claims=claims)


def _off() -> None:
    if not enabled():
        raise Http404("sign-in with an identity provider is not configured")


def _failure_page(request: HttpRequest, *, status: int, reason: str) -> HttpResponse:
    """The readable page for a sign-in that could not complete (and nothing was changed)."""
    context = {
        "reason": reason,
        "provider": getattr(settings, "OIDC_PROVIDER_NAME", "") or "your identity provider",
        "status": status,
    }
    return render(request, "registration/oidc_failed.html", context, status=status)


UNREACHABLE = (
    "The portal cannot reach {provider} right now, so you cannot sign in with it. Try again "
    "in a few minutes, or log in with a portal account."
)
NOT_VERIFIED = (
    "This sign-in could not be verified: it was not started from this browser, it was "
    "already used, or the answer was not one this portal can trust. Start again from the "
    "login page."
)


def _provider_reachable() -> bool:
    """Whether the provider answers for its signing keys (what every sign-in needs)."""
    timeout = min(PROBE_TIMEOUT_S, getattr(settings, "OIDC_TIMEOUT", PROBE_TIMEOUT_S) or 1)
    try:
        answer = requests.get(
            settings.OIDC_OP_JWKS_ENDPOINT,
            timeout=timeout,
            verify=getattr(settings, "OIDC_VERIFY_SSL", True),
        )
    except requests.RequestException as exc:
        log.warning("OIDC provider unreachable: %s: %s", type(exc).__name__, exc)
        return False
    if answer.status_code >= 500:
        log.warning("OIDC provider answers %s for its keys", answer.status_code)
        return False
    return True


def authenticate_view(request: HttpRequest) -> HttpResponse:
    """``/oidc/authenticate/``: off, 404; on, the redirect to the provider's login (or a page
    saying the provider cannot be reached: the browser would otherwise show its own error)."""
    _off()
    if not _provider_reachable():
        provider = getattr(settings, "OIDC_PROVIDER_NAME", "") or "your identity provider"
        return _failure_page(request, status=502, reason=UNREACHABLE.format(provider=provider))
    return OIDCAuthenticationRequestView.as_view()(request)


def callback_view(request: HttpRequest) -> HttpResponse:
    """``/oidc/callback/``: off, 404; on, the code exchange and the login.

    The library raises for a state this session did not start and for tokens it cannot
    trust, and lets the provider's network errors through: each is answered with a page."""
    _off()
    provider = getattr(settings, "OIDC_PROVIDER_NAME", "") or "your identity provider"
    try:
        return OIDCAuthenticationCallbackView.as_view()(request)
    except (SuspiciousOperation, jwt.PyJWTError) as exc:
        log.warning("OIDC sign-in refused: %s: %s", type(exc).__name__, exc)
        return _failure_page(request, status=400, reason=NOT_VERIFIED)
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else 502
        log.warning("OIDC provider refused during sign-in: %s", exc)
        if 400 <= status < 500:  # e.g. invalid_grant: a code already used or expired
            return _failure_page(request, status=400, reason=NOT_VERIFIED)
        return _failure_page(request, status=502, reason=UNREACHABLE.format(provider=provider))
    except requests.RequestException as exc:
        # ConnectionError, Timeout, a body that is not JSON (requests' JSONDecodeError): the
        # provider is down or misbehaving.
        log.warning("OIDC provider failed during sign-in: %s: %s", type(exc).__name__, exc)
        return _failure_page(request, status=502, reason=UNREACHABLE.format(provider=provider))


class PortalLoginView(LoginView):
    """The login page: the password form, and the provider's button when OIDC is on."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["oidc_enabled"] = enabled()
        context["oidc_provider_name"] = getattr(settings, "OIDC_PROVIDER_NAME", "")
        return context


class PortalLogoutView(LogoutView):
    """Log out; a provider login also ends the provider's session (RP-initiated logout)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        id_token = request.session.get(ID_TOKEN_KEY)
        response = super().post(request, *args, **kwargs)
        endpoint = getattr(settings, "OIDC_OP_LOGOUT_ENDPOINT", "")
        if enabled() and endpoint and id_token:
            back = request.build_absolute_uri(settings.LOGOUT_REDIRECT_URL_PATH)
            query = urlencode(
                {
                    "id_token_hint": id_token,
                    "post_logout_redirect_uri": back,
                    "client_id": settings.OIDC_RP_CLIENT_ID,
                }
            )
            return HttpResponseRedirect(f"{endpoint}?{query}")
        return response
