"""Notifications: e-mail (locmem), the domain's Slack webhook and the generic webhook.

The webhooks are a real HTTP server on 127.0.0.1 in a thread; nothing leaves the machine.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from catalog.models import Consumer, DataProduct, Domain
from quality import notifications, services
from quality.models import Incident
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
    assert len(slack) == 1 and slack[0]["channel"] == "#marketing-data"
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


def test_post_json_gives_up_after_its_short_timeout(receiver: Receiver) -> None:
    assert notifications.post_json(f"{receiver.url}/slow", {"a": 1}, timeout_s=0.2) is False
    assert notifications.post_json(f"{receiver.url}/ok", {"a": 1}) is True


def test_post_json_refuses_non_http_urls(caplog: Any) -> None:
    assert notifications.post_json("file:///etc/passwd", {"a": 1}) is False
    assert "not an http(s) URL" in caplog.text


def test_an_incident_is_notified_once_even_when_asked_twice(product: DataProduct) -> None:
    incident = Incident.objects.create(product=product, opened_at=timezone.now(), message="old")

    first = services.incident_notify(incident=incident, event="opened")
    second = services.incident_notify(incident=incident, event="opened")

    assert (first, second) == (True, False)
    assert len(mail.outbox) == 1
