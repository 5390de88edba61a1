"""``GET /healthz`` answers the container health checks (docker-compose.yml, issue 20)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError
from django.test import Client

from config import healthz


@pytest.mark.django_db
def test_healthz_is_200_when_the_database_answers() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["127.0.0.1:8000", "evil.example", "portal.internal:8000"])
def test_healthz_answers_whatever_the_host_and_https_settings(host: str, settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["portal.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    response = Client().get("/healthz", HTTP_HOST=host)
    assert response.status_code == 200
    assert response.content == b'{"status": "ok"}'
    # Every other path still goes through host validation.
    assert Client().get("/accounts/login/", HTTP_HOST=host).status_code == 400


@pytest.mark.django_db
def test_healthz_is_503_without_a_traceback_when_the_database_is_down(monkeypatch: Any) -> None:
    calls = []

    def refuse() -> None:
        calls.append(1)
        raise DatabaseError('connection to server at "db" (10.0.0.5), port 5432 failed')

    monkeypatch.setattr(healthz.connection, "ensure_connection", refuse)
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unavailable"}
    assert b"10.0.0.5" not in response.content
    assert len(calls) == 2  # a dropped persistent connection gets one fresh try


@pytest.mark.django_db
def test_healthz_only_answers_get_and_head_at_its_exact_path() -> None:
    client = Client()
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code != 200
    assert client.get("/healthz/extra").status_code == 404
