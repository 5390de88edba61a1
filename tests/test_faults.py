"""Portal database and disk faults answer 503, never 500 (issue 13, item 5).

The fault is injected where the request reads or writes: the catalog selector (API, page),
the session save (after the view), a full disk. Under /v1/ the answer is the JSON error with
``Retry-After``; elsewhere the app's 503 page. With DEBUG on too (the demo).
"""

from __future__ import annotations

import errno
from typing import Any

import pytest
from django.db import InterfaceError, OperationalError

pytestmark = pytest.mark.django_db

FAULTS = [
    OperationalError("could not connect to server: Connection refused"),
    OperationalError("database is locked"),
    InterfaceError("connection already closed"),
    OSError(errno.ENOSPC, "No space left on device"),
    OSError(errno.EROFS, "Read-only file system"),
]


def _break_search(monkeypatch: pytest.MonkeyPatch, fault: BaseException) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise fault

    monkeypatch.setattr("catalog.selectors.product_search_page", fail)


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: str(f)[:24])
def test_an_api_request_during_a_fault_is_503_json(
    api_as: Any, analyst: Any, settings: Any, monkeypatch: Any, fault: BaseException, debug: bool
) -> None:
    settings.DEBUG = debug
    _break_search(monkeypatch, fault)
    response = api_as(analyst).get("/v1/catalog/search?q=x")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert response["Retry-After"] == "30"
    assert "Traceback" not in response.content.decode()


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("fault", FAULTS[:1] + FAULTS[3:4], ids=["database", "disk"])
def test_a_page_during_a_fault_is_the_apps_503_page(
    client: Any, analyst: Any, settings: Any, monkeypatch: Any, fault: BaseException, debug: bool
) -> None:
    settings.DEBUG = debug
    client.raise_request_exception = False
    client.force_login(analyst)
    _break_search(monkeypatch, fault)
    response = client.get("/search/?q=x")

    assert response.status_code == 503
    body = response.content.decode()
    assert "not available right now" in body and "Traceback" not in body


def test_a_fault_while_writing_the_session_at_login_is_503(
    client: Any, analyst: Any, monkeypatch: Any
) -> None:
    from django.contrib.sessions.backends.db import SessionStore

    analyst.set_password("correct horse battery staple")
    analyst.save()
    client.raise_request_exception = False

    def fail(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("database is locked")

    monkeypatch.setattr(SessionStore, "save", fail)
    monkeypatch.setattr(SessionStore, "create", fail)
    response = client.post(
        "/accounts/login/",
        {"username": analyst.username, "password": "correct horse battery staple"},
    )
    assert response.status_code == 503
    assert b"Traceback" not in response.content
