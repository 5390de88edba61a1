"""Throttling: failed log-ins per username and address, the API per user, POST /v1/query.

Limits are set low here (the test settings keep them out of the rest of the suite's way).
Each attack tries a way around the limit: another spelling of the username, a forged
X-Forwarded-For, concurrent guesses, switching between token and session, another endpoint.
"""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.backends import LoginThrottled

PASSWORD = "correct horse battery staple"
LIMIT = 4
WINDOW_S = 600


@pytest.fixture(autouse=True)
def low_limits(settings: Any) -> Any:
    settings.LOGIN_FAILURES_MAX = LIMIT
    settings.LOGIN_FAILURES_WINDOW_S = WINDOW_S
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/min", "user": "6/min", "query": "2/min"},
    }
    cache.clear()
    yield settings
    cache.clear()


@pytest.fixture
def maya(owner: Any) -> Any:
    owner.set_password(PASSWORD)
    owner.save()
    return owner


def log_in(username: str, password: str, address: str = "127.0.0.1", **extra: Any) -> Any:
    return Client().post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **extra,
    )


def assert_throttled_page(response: Any) -> None:
    assert response.status_code == 429, response.status_code
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "Too many attempts" in html and "Too many failed log-ins" in html
    assert 'href="/static/css/base.css"' in html
    assert 0 < int(response["Retry-After"]) <= WINDOW_S


def assert_throttled_json(response: Any) -> None:
    assert response.status_code == 429, response.content[:200]
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == "THROTTLED", body
    wait = int(response["Retry-After"])
    assert 0 < wait <= 60
    assert re.search(rf"[Tt]ry again in {wait} s\.$", body["error"]["message"]), body


# ---------------------------------------------------------------------------------------------
# Log-ins
# ---------------------------------------------------------------------------------------------


def test_failed_log_ins_past_the_limit_answer_429_even_with_the_right_password(maya: Any) -> None:
    for _ in range(LIMIT):
        response = log_in("maya", "wrong")
        assert response.status_code == 200 and "didn't match" in response.content.decode()
    assert_throttled_page(log_in("maya", "wrong"))
    assert_throttled_page(log_in("maya", PASSWORD))


def test_the_limit_is_per_username_and_address(maya: Any, analyst: Any) -> None:
    analyst.set_password(PASSWORD)
    analyst.save()
    for _ in range(LIMIT + 1):
        log_in("maya", "wrong")
    assert_throttled_page(log_in("maya", PASSWORD))
    assert log_in("maya", PASSWORD, address="10.1.2.3").status_code == 302  # another address
    assert log_in(analyst.username, PASSWORD).status_code == 302  # another user, same address


@pytest.mark.parametrize("variant", ["MAYA", "Maya", "ｍａｙａ", "ＭＡＹＡ", "maya"])
def test_spellings_of_one_username_share_one_count(maya: Any, variant: str) -> None:
    for _ in range(LIMIT):
        assert log_in(variant, "wrong").status_code == 200
    assert_throttled_page(log_in("maya", PASSWORD))


def test_a_forged_forwarded_for_header_does_not_give_a_fresh_count(maya: Any) -> None:
    for n in range(LIMIT):
        log_in("maya", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    assert_throttled_page(log_in("maya", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7"))


def test_a_successful_log_in_clears_the_count(maya: Any) -> None:
    for _ in range(LIMIT - 1):
        log_in("maya", "wrong")
    assert log_in("maya", PASSWORD).status_code == 302
    for _ in range(LIMIT):
        assert log_in("maya", "wrong").status_code == 200
    assert_throttled_page(log_in("maya", "wrong"))


def test_the_count_ends_with_its_window(maya: Any) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(LIMIT + 1):
            log_in("maya", "wrong")
        blocked = log_in("maya", PASSWORD)
        assert_throttled_page(blocked)
        assert int(blocked["Retry-After"]) == WINDOW_S
        clock.move_to(start + timedelta(seconds=WINDOW_S - 60))
        assert int(log_in("maya", PASSWORD)["Retry-After"]) == 60
        clock.move_to(start + timedelta(seconds=WINDOW_S + 1))
        assert log_in("maya", PASSWORD).status_code == 302


def test_the_admin_log_in_form_is_limited_too(maya: Any) -> None:
    for _ in range(LIMIT):
        response = Client().post("/admin/login/", {"username": "maya", "password": "wrong"})
        assert response.status_code == 200
    response = Client().post("/admin/login/", {"username": "maya", "password": PASSWORD})
    assert_throttled_page(response)


def test_concurrent_guesses_check_no_more_passwords_than_the_limit(
    maya: Any, monkeypatch: Any
) -> None:
    """Each attempt is counted before its password is checked, so a burst cannot overshoot."""
    checked: list[str] = []
    lock = threading.Lock()

    def check(
        self: Any, request: Any, username: Any = None, password: Any = None, **kw: Any
    ) -> None:
        with lock:
            checked.append(password)

    monkeypatch.setattr(ModelBackend, "authenticate", check)
    outcomes: list[str] = []
    barrier = threading.Barrier(24)

    def guess(n: int) -> None:
        barrier.wait()
        try:
            authenticate(None, username="maya", password=f"guess-{n}")
            outcomes.append("checked")
        except LoginThrottled:
            outcomes.append("throttled")

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(checked) == LIMIT
    assert sorted(outcomes) == ["checked"] * LIMIT + ["throttled"] * (24 - LIMIT)


# ---------------------------------------------------------------------------------------------
# The API
# ---------------------------------------------------------------------------------------------


def token_client(user: Any, address: str = "127.0.0.1") -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def test_each_user_is_limited_across_endpoints_tokens_and_sessions(
    owner: Any, analyst: Any
) -> None:
    token = token_client(owner)
    session = APIClient()
    session.force_login(owner)
    for n in range(6):
        client, url = (token, "/v1/catalog/domains") if n % 2 else (session, "/v1/catalog/search")
        assert client.get(url).status_code == 200
    assert_throttled_json(token.get("/v1/catalog/domains"))
    assert_throttled_json(session.get("/v1/catalog/search"))
    assert_throttled_json(token_client(owner, address="10.9.8.7").get("/v1/catalog/domains"))
    assert token_client(analyst).get("/v1/catalog/domains").status_code == 200


def test_anonymous_callers_are_limited_per_address_whatever_they_forward(db: Any) -> None:
    client = APIClient()
    for n in range(3):
        response = client.get("/v1/contracts/schema.json", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        assert response.status_code == 200
    assert_throttled_json(client.get("/v1/contracts/schema.json"))
    other = APIClient(REMOTE_ADDR="10.0.0.9")
    assert other.get("/v1/contracts/schema.json").status_code == 200


def test_governed_queries_have_a_stricter_limit_of_their_own(owner: Any) -> None:
    client = token_client(owner)
    for url in ("/v1/query", "/v1/query.csv"):
        response = client.post(url, {"sql": "select"}, format="json")
        assert response.status_code != 429, response.content[:200]
    assert_throttled_json(client.post("/v1/query", {"sql": "select"}, format="json"))
    # The rest of the API still answers: the user-wide limit (6/min) is not reached.
    assert client.get("/v1/catalog/domains").status_code == 200


def test_throttled_api_answers_in_the_json_shape_with_retry_after(owner: Any) -> None:
    client = token_client(owner)
    responses = [client.get("/v1/catalog/domains") for _ in range(8)]
    assert [r.status_code for r in responses] == [200] * 6 + [429] * 2
    for response in responses[6:]:
        assert_throttled_json(response)


def test_the_query_page_and_its_csv_download_share_the_query_limit(owner: Any) -> None:
    """No way around the API's query limit through the HTML form (it runs the same SQL)."""
    page = Client()
    page.force_login(owner)
    assert page.post("/query/", {"sql": "select 1"}).status_code != 429  # 503: no warehouse
    assert page.post("/query/download.csv", {"sql": "select 1"}).status_code != 429
    blocked = page.post("/query/", {"sql": "select 1"})
    assert blocked.status_code == 429
    assert "Too many queries." in blocked.content.decode()
    assert 0 < int(blocked["Retry-After"]) <= 60
    assert_throttled_json(token_client(owner).post("/v1/query", {"sql": "select 1"}, format="json"))
    assert page.get("/query/").status_code == 200  # only running queries counts
