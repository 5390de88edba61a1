"""Test clients that answer as a browser or script would see it (no exception re-raised)."""

from __future__ import annotations

from typing import Any

from django.test import Client
from rest_framework.test import APIClient


def api_client(user: Any | None) -> APIClient:
    """An API client logged in as ``user`` (None: anonymous); server errors come back as 500s."""
    client = APIClient(raise_request_exception=False)
    if user is not None:
        client.force_authenticate(user)
    return client


def page_client(user: Any | None) -> Client:
    """A browser session logged in as ``user`` (None: anonymous); server errors come back."""
    client = Client(raise_request_exception=False, enforce_csrf_checks=False)
    if user is not None:
        client.force_login(user)
    return client
