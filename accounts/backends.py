"""Password log-ins, with failures limited per username and client address.

Every form that checks a password (the portal's log-in page, the admin's) goes through
``django.contrib.auth.authenticate`` and so through ``ThrottledModelBackend``. Each attempt is
counted in the cache *before* the password is checked, so concurrent guesses cannot slip past
the limit; a successful log-in clears the count. Past ``LOGIN_FAILURES_MAX`` attempts within
``LOGIN_FAILURES_WINDOW_S`` the backend raises ``LoginThrottled`` (DRF's ``Throttled``), which
``config.middleware.ErrorResponseMiddleware`` answers with 429, the app's page and Retry-After.
"""

from __future__ import annotations

import hashlib
import time
import unicodedata
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.http import HttpRequest
from rest_framework.exceptions import Throttled
from rest_framework.throttling import BaseThrottle


class LoginThrottled(Throttled):
    """Too many failed log-ins for one username from one client address."""

    reason = "Too many failed log-ins for this username from your address."


def failure_key(username: str, request: HttpRequest | None) -> str:
    """The cache key counting log-ins for ``username`` from ``request``'s client address.

    Usernames are compared after NFKC and case folding, so spelling variants of one name share
    one count; the address is DRF's (``NUM_PROXIES`` decides whether X-Forwarded-For counts).
    """
    # DRF's get_ident reads request.META only, which Django's request has (its stubs ask for
    # DRF's Request).
    address = BaseThrottle().get_ident(request) if request is not None else ""  # type: ignore[arg-type]
    name = unicodedata.normalize("NFKC", username).casefold()
    digest = hashlib.sha256(f"{address}\0{name}".encode("utf-8", "backslashreplace"))
    return f"login-attempts:{digest.hexdigest()}"


def attempt_begin(key: str) -> None:
    """Count one log-in attempt; raise ``LoginThrottled`` when it is over the limit."""
    window = settings.LOGIN_FAILURES_WINDOW_S
    now = time.time()
    cache.add(key, 0, window)
    cache.add(f"{key}:start", now, window)
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between add() and incr()
        cache.add(key, 1, window)
        count = 1
    if count > settings.LOGIN_FAILURES_MAX:
        started = cache.get(f"{key}:start", now)
        raise LoginThrottled(wait=max(1.0, started + window - now))


def attempts_clear(key: str) -> None:
    """Forget the attempts counted under ``key`` (after a successful log-in)."""
    cache.delete_many([key, f"{key}:start"])


class ThrottledModelBackend(ModelBackend):
    """Django's ModelBackend, refusing to check passwords past the failed log-in limit."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if not isinstance(username, str) or password is None:
            return None
        key = failure_key(username, request)
        attempt_begin(key)
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:
            attempts_clear(key)
        return user
