"""Notifications: e-mail (locmem), the domain's Slack webhook and the generic webhook.

The webhooks are a real HTTP server on 127.0.0.1 in a thread; nothing leaves the machine.
Loopback is refused by default (issue #11), so these tests turn on WEBHOOK_ALLOW_PRIVATE.
"""

from __future__ import annotations

import json
import random
import re
import threading
import unicodedata
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from catalog.mail import SUBJECT_MAX_LENGTH
from catalog.models import Consumer, DataProduct, Domain
from quality import notifications, services
from quality.models import CheckRun, Incident
from tests.quality.test_services import build_warehouse, make_product


class Receiver:
    """Collects JSON POSTs by path; ``/fail`` answers 500, ``/slow`` sleeps past the timeout."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                receiver.posts.append((self.path, body))
                if self.path == "/slow":
                    threading.Event().wait(1.0)
                self.send_response(500 if self.path == "/fail" else 200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [body for p, body in self.posts if p == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    yield rec
    rec.server.shutdown()
    rec.server.server_close()


@pytest.fixture
def product(marketing: Domain, receiver: Receiver, settings: Any) -> DataProduct:
    Domain.objects.filter(pk=marketing.pk).update(slack_webhook_url=f"{receiver.url}/slack")
    settings.NOTIFY_WEBHOOK_URL = f"{receiver.url}/hook"
    settings.WEBHOOK_ALLOW_PRIVATE = True
    product = make_product(marketing)
    Consumer.objects.create(product=product, team="Growth", use_case="ads", contact="g@example.com")
    return product


def test_an_opened_incident_reaches_email_slack_and_the_webhook_once(
    product: DataProduct, receiver: Receiver, tmp_path: Path, settings: Any
) -> None:
    settings.WAREHOUSE_URL = build_warehouse(
        tmp_path / "w.duckdb", newest=timezone.now() - timedelta(hours=6)
    )

    services.check_run(product=product, trigger="schedule")
    services.check_run(product=product, trigger="schedule")

    stale = [m for m in mail.outbox if "stale data" in m.subject]
    assert len(stale) == 1
    assert stale[0].to == ["owners@example.com"] and stale[0].bcc == ["g@example.com"]
    slack = [b for b in receiver.bodies("/slack") if "stale data" in b["text"]]
    # The domain's incoming webhook decides the channel, never the contract's slackChannel.
    assert len(slack) == 1 and "channel" not in slack[0]
    events = [b["event"] for b in receiver.bodies("/hook")]
    assert events.count("incident.opened") == 1
    opened = next(b for b in receiver.bodies("/hook") if b["event"] == "incident.opened")
    assert opened["product"] == "marketing.campaign_attribution"
    assert opened["incident"]["status"] == "open"
    # The failing freshness check is told once too, not on every run.
    assert events.count("checks.failed") == 1


def test_a_resolved_incident_is_announced_on_every_channel(
    product: DataProduct, receiver: Receiver, tmp_path: Path, settings: Any
) -> None:
    path = tmp_path / "w.duckdb"
    settings.WAREHOUSE_URL = build_warehouse(path, newest=timezone.now() - timedelta(hours=6))
    services.check_run(product=product, trigger="schedule")
    build_warehouse(path, newest=timezone.now())

    services.check_run(product=product, trigger="schedule")

    assert Incident.objects.get().status == "resolved"
    assert sum("resolved" in m.subject for m in mail.outbox) == 1
    assert sum("fresh again" in b["text"] for b in receiver.bodies("/slack")) == 1
    assert [b["event"] for b in receiver.bodies("/hook")].count("incident.resolved") == 1


def test_a_failing_webhook_is_logged_and_never_breaks_the_run(
    product: DataProduct, receiver: Receiver, tmp_path: Path, settings: Any, caplog: Any
) -> None:
    settings.NOTIFY_WEBHOOK_URL = f"{receiver.url}/fail"
    Domain.objects.filter(pk=product.domain_id).update(slack_webhook_url="http://127.0.0.1:9/x")
    settings.WAREHOUSE_URL = build_warehouse(
        tmp_path / "w.duckdb", newest=timezone.now(), null_campaigns=1
    )

    run = services.check_run(product=product, trigger="schedule")

    assert run.status == "failed"
    assert len(mail.outbox) == 1  # e-mail still went out
    assert len(receiver.bodies("/fail")) == 1
    assert "webhook" in caplog.text and "failed" in caplog.text


def test_post_json_gives_up_after_its_short_timeout(receiver: Receiver, settings: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = True
    assert notifications.post_json(f"{receiver.url}/slow", {"a": 1}, timeout_s=0.2) is False
    assert notifications.post_json(f"{receiver.url}/ok", {"a": 1}) is True


def test_post_json_refuses_non_http_urls(caplog: Any) -> None:
    assert notifications.post_json("file:///etc/passwd", {"a": 1}) is False
    assert "not an http(s) URL" in caplog.text


def test_post_json_refuses_loopback_unless_the_setting_allows_it(
    receiver: Receiver, settings: Any, caplog: Any
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = False
    assert notifications.post_json(f"{receiver.url}/ok", {"a": 1}) is False
    assert receiver.posts == [] and "loopback" in caplog.text
    settings.WEBHOOK_ALLOW_PRIVATE = True
    assert notifications.post_json(f"{receiver.url}/ok", {"a": 1}) is True


def test_an_incident_is_notified_once_even_when_asked_twice(product: DataProduct) -> None:
    incident = Incident.objects.create(product=product, opened_at=timezone.now(), message="old")

    first = services.incident_notify(incident=incident, event="opened")
    second = services.incident_notify(incident=incident, event="opened")

    assert (first, second) == (True, False)
    assert len(mail.outbox) == 1


# --- escaped for their medium (issue #21) ----------------------------------------------------

# Every Slack control sequence: broadcasts, mentions, channel links, disguised links, dates,
# entities (already escaped text must not be decoded into markup either), bare brackets.
SLACK_HOSTILE = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!here|here>",
    "<@U123ABC>",
    "<@W123|boss>",
    "<#C123|general>",
    "<!subteam^S123|@team>",
    "<!date^1392734382^{date_short}|Feb 18>",
    "<https://evil.example/phish|click here>",
    "<mailto:ceo@example.com|mail the CEO>",
    "<http://portal.example/products/x>",
    "&lt;!channel&gt;",
    "&amp;lt;@U1&amp;gt;",
    "<",
    ">",
    "&",
    "a < b > c & d",
    "<<!channel>>",
    "\u2029<!here>\r\n",
]


def hostile_strings(count: int, seed: int = 21) -> list[str]:
    """Random concatenations of Slack control sequences and filler text."""
    rng = random.Random(seed)
    filler = ["x", " ", "*bold*", "_i_", "`code`", "\n", "é", "|", "^", "!", "@", "#"]
    return [
        "".join(rng.choice(SLACK_HOSTILE + filler) for _ in range(rng.randint(1, 6)))
        for _ in range(count)
    ]


def slack_unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def assert_inert(text: str, product: DataProduct) -> str:
    """The only Slack markup in ``text`` is the portal's link at its end; returns the rest."""
    link = f"<{notifications._product_url(product)}|{product.product_id}>"
    assert text.endswith(link)
    body = text[: -len(link)]
    assert "<" not in body and ">" not in body
    # Every & starts one of the three entities: nothing Slack would decode into markup.
    assert re.sub(r"&(amp|lt|gt);", "", body).count("&") == 0
    return slack_unescape(body)


@pytest.fixture
def loaded(product: DataProduct) -> DataProduct:
    """The product as the services load it: with its domain's Slack URL, read afresh."""
    return DataProduct.objects.select_related("domain").get(pk=product.pk)


@pytest.fixture
def run(product: DataProduct) -> CheckRun:
    return CheckRun.objects.create(product=product, trigger="schedule", run_key="r1")


def outcome(name: str, message: str) -> SimpleNamespace:
    return SimpleNamespace(
        check_name=name,
        type="custom_sql",
        status="failed",
        passed=False,
        severity="error",
        message=message,
        value=1,
    )


def test_slack_text_from_check_names_and_messages_is_inert(
    loaded: DataProduct, run: CheckRun, receiver: Receiver
) -> None:
    hostile = SLACK_HOSTILE + hostile_strings(200)
    for i in range(0, len(hostile), 20):
        chunk = hostile[i : i + 20]
        outcomes = [outcome(f"{s}#{j}", f"found {s}") for j, s in enumerate(chunk)]
        notifications.check_failures(product=loaded, run=run, outcomes=outcomes)
    posts = receiver.bodies("/slack")
    assert len(posts) == (len(hostile) + 19) // 20
    for body, start in zip(posts, range(0, len(hostile), 20), strict=True):
        assert set(body) == {"text", "link_names"} and body["link_names"] is False
        plain = assert_inert(body["text"], loaded)
        for j, s in enumerate(hostile[start : start + 20]):
            # The user's text arrives whole (decoded by Slack as the literal characters).
            assert f"- {s}#{j} (custom_sql, failed): found {s}" in plain


def test_slack_text_from_an_incident_message_is_inert(
    product: DataProduct, receiver: Receiver
) -> None:
    for i, text in enumerate(SLACK_HOSTILE):
        incident = Incident.objects.create(
            product=product, opened_at=timezone.now(), message=f"stale {text}", kind=f"k{i}"
        )
        notifications.incident_event(incident=incident, event="opened")
    posts = receiver.bodies("/slack")
    assert len(posts) == len(SLACK_HOSTILE)
    for body, text in zip(posts, SLACK_HOSTILE, strict=True):
        assert f"stale {text}" in assert_inert(body["text"], product)


def test_the_slack_channel_never_comes_from_the_contract(
    loaded: DataProduct, run: CheckRun, receiver: Receiver
) -> None:
    DataProduct.objects.filter(pk=loaded.pk).update(owner_slack_channel="#general <!channel>")
    loaded.refresh_from_db()
    assert loaded.owner_slack_channel == "#general <!channel>"
    notifications.check_failures(product=loaded, run=run, outcomes=[outcome("c", "m")])
    [body] = receiver.bodies("/slack")
    assert "channel" not in body and "#general" not in body["text"]


SUBJECT_HOSTILE = [
    "line\r\nBcc: victim@example.com",
    "nul\x00byte",
    "tab\there",
    "para\u2029graph\u2028line",
    "bidi \u202egnp.exe\u202c",
    "zero\u200bwidth",
    "\x1b[31mred\x1b[0m",
    "[data portal] already prefixed",
    "x" * 5000,
    "é" * 400,
]


def test_email_subjects_are_one_bounded_line_with_one_prefix(
    loaded: DataProduct, run: CheckRun
) -> None:
    rng = random.Random(11)
    names = SUBJECT_HOSTILE + [
        "".join(rng.choice(SUBJECT_HOSTILE) for _ in range(3)) for _ in range(40)
    ]
    for name in names:
        notifications.check_failures(product=loaded, run=run, outcomes=[outcome(name, "m")])
    # A subject with a newline makes Django refuse the message: every one must have gone out.
    assert len(mail.outbox) == len(names)
    for message in mail.outbox:
        subject = message.subject
        assert len(subject) <= SUBJECT_MAX_LENGTH
        assert subject.startswith("[data portal] marketing.campaign_attribution: 1 check(s)")
        assert not subject.startswith("[data portal] [data portal]")
        assert not [ch for ch in subject if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")], (
            repr(subject)
        )
    assert mail.outbox[8].subject.endswith("\u2026")


def test_incident_subjects_carry_the_prefix_once(product: DataProduct) -> None:
    incident = Incident.objects.create(product=product, opened_at=timezone.now(), message="m")
    notifications.incident_event(incident=incident, event="opened")
    assert mail.outbox[0].subject == "[data portal] stale data: marketing.campaign_attribution"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\r\nb", "[data portal] a b"),
        ("[data portal] x", "[data portal] x"),
        ("  [data portal]   y  ", "[data portal] y"),
        ("\u202ex\u2028y", "[data portal] x y"),
    ],
)
def test_email_subject_examples(raw: str, expected: str) -> None:
    assert notifications.email_subject(raw) == expected


def test_an_over_long_subject_is_cut_with_an_ellipsis() -> None:
    subject = notifications.email_subject("y" * 1000)
    assert len(subject) == SUBJECT_MAX_LENGTH and subject.endswith("\u2026")
