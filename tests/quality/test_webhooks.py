"""Outbound webhooks (issue #11): public addresses only, vetted address pinned, no redirects.

Delivery is proved against real HTTP(S) servers on 127.0.0.1 in a thread (with
``allow_private=True``); refusals need no server, since nothing is ever connected. Only DNS,
which leaves the process, is replaced where a test needs a name with a chosen answer.
"""

from __future__ import annotations

import ast
import contextlib
import ipaddress
import json
import random
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from quality import webhooks
from quality.webhooks import UnsafeURL, address_refusal, check_url, post_json


class Server:
    """Records POSTs; ``/fail`` → 500, ``/slow`` sleeps, ``/redirect-<code>`` → internal URL."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.posts: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                server.posts.append((self.path, dict(self.headers), body))
                if self.path == "/slow":
                    threading.Event().wait(1.0)
                if self.path.startswith("/redirect-"):
                    self.send_response(int(self.path.rsplit("-", 1)[1]))
                    self.send_header("Location", f"{server.url}/internal")
                    self.end_headers()
                    return
                if self.path == "/big":
                    self.send_response(200)
                    self.end_headers()
                    self.wfile.write(b"x" * 5_000_000)
                    return
                if self.path == "/trickle":
                    # Headers that never end, one byte at a time: each read succeeds in time.
                    try:
                        self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                        for _ in range(100):
                            self.wfile.write(b"X-A: b\r\n")
                            self.wfile.flush()
                            threading.Event().wait(0.05)
                    except OSError:  # the sender hung up, as it should
                        pass
                    return
                self.send_response(500 if self.path == "/fail" else 200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def paths(self) -> list[str]:
        return [p for p, _, _ in self.posts]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.close()


# --- what is refused ------------------------------------------------------------------------

REFUSED_URLS = [
    ("http://127.0.0.1/", "loopback"),
    ("http://localhost/", "resolves to 127.0.0.1, which is a loopback"),
    ("http://LOCALHOST./hook", "loopback"),
    ("http://[::1]/", "loopback"),
    ("http://10.1.2.3/", "private"),
    ("http://172.16.0.1/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://100.64.0.1/", "CGNAT"),
    ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
    ("http://169.254.1.1/", "link-local"),
    ("http://[fd00:ec2::254]/", "cloud metadata"),
    ("http://metadata.google.internal/computeMetadata/v1/", "cloud metadata"),
    ("http://[::ffff:127.0.0.1]/", "IPv4-mapped form of a loopback"),
    ("http://[::ffff:a9fe:a9fe]/", "IPv4-mapped form of a cloud metadata"),
    ("http://[::127.0.0.1]/", "IPv4-compatible"),
    ("http://[64:ff9b::7f00:1]/", "NAT64 form of a loopback"),
    ("http://[2002:7f00:1::]/", "6to4 form of a loopback"),
    ("http://[2002:a9fe:a9fe::]/", "6to4 form of a cloud metadata"),
    ("http://2130706433/", "resolves to 127.0.0.1, which is a loopback"),
    ("http://0x7f.1/", "resolves to 127.0.0.1, which is a loopback"),
    ("http://0177.0.0.1/", "resolves to 127.0.0.1, which is a loopback"),
    ("http://127.1:8080/", "resolves to 127.0.0.1, which is a loopback"),
    ("http://0/", "unspecified"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[fc00::1]/", "unique local"),
    ("http://224.0.0.1/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://255.255.255.255/", "reserved"),
    ("http://192.0.0.192/", "cloud metadata"),
    ("http://198.18.0.1/", "benchmarking"),
    ("http://[2001:db8::1]/", "documentation"),
    ("http://[2001::1]/", "Teredo"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED_URLS)
def test_internal_addresses_are_refused_in_every_spelling(url: str, reason: str) -> None:
    with pytest.raises(UnsafeURL) as caught:
        check_url(url)
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "not an http(s) URL"),
        ("gopher://example.com/", "not an http(s) URL"),
        ("ftp://example.com/", "not an http(s) URL"),
        ("javascript:alert(1)", "not an http(s) URL"),
        ("//example.com/x", "not an http(s) URL"),
        ("http://user:pw@example.com/", "credentials"),
        ("http://example.com@127.0.0.1/", "credentials"),
        ("http://example.com\\@127.0.0.1/", "backslashes"),
        ("http://exa mple.com/", "spaces"),
        ("http://example.com/\r\nX-Injected: 1", "control characters"),
        ("http://example.com:99999/", "malformed"),
        ("http://example.com:0/", "port 0"),
        ("http:///nohost", "no host"),
        ("http://[fe80::1%25eth0]/", "zone"),
        ("", "empty"),
    ],
)
def test_malformed_and_non_http_urls_are_refused_before_any_lookup(
    url: str, reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_dns(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("resolved a URL that should have been refused first")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(UnsafeURL) as caught:
        check_url(url)
    assert reason in str(caught.value)


def fake_dns(answers: dict[str, list[str]]) -> Any:
    """A getaddrinfo that answers from ``answers`` (DNS leaves the process, so it is replaced)."""

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        out: list[tuple[Any, ...]] = []
        for address in answers[host]:
            if ":" in address:
                out.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                out.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return out

    return getaddrinfo


def test_a_name_is_refused_when_any_of_its_addresses_is_internal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        fake_dns(
            {
                "mixed.example": ["93.184.216.34", "10.0.0.5"],
                "mixed6.example": ["2606:4700::1111", "::1"],
                "public.example": ["93.184.216.34", "2606:4700::1111"],
            }
        ),
    )
    with pytest.raises(UnsafeURL, match="resolves to 10.0.0.5, which is a private address"):
        check_url("https://mixed.example/hook")
    with pytest.raises(UnsafeURL, match="resolves to ::1, which is a loopback address"):
        check_url("https://mixed6.example/hook")
    check_url("https://public.example/hook")  # every address public: accepted
    with pytest.raises(UnsafeURL, match="does not resolve"):
        check_url("https://nowhere.example/hook")


def sample_addresses(network: ipaddress.IPv4Network | ipaddress.IPv6Network, rng: random.Random):
    """First, last and a few random addresses of ``network``."""
    first, last = int(network.network_address), int(network.broadcast_address)
    picks = {first, last, *(rng.randint(first, last) for _ in range(5))}
    return [
        ipaddress.ip_address(p) if network.version == 4 else ipaddress.IPv6Address(p)
        for p in sorted(picks)
    ]


def test_every_special_purpose_range_is_refused_plain_and_in_every_ipv6_wrapping() -> None:
    rng = random.Random(11)
    checked = 0
    for network, _reason in webhooks._V4_REFUSED:
        for address in sample_addresses(network, rng):
            v4 = ipaddress.IPv4Address(int(address))
            wrapped = [
                ipaddress.IPv6Address(f"::ffff:{v4}"),  # IPv4-mapped
                ipaddress.IPv6Address((0x2002 << 112) | (int(v4) << 80)),  # 6to4
                ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b::")) | int(v4)),  # NAT64
                ipaddress.IPv6Address(int(v4)),  # IPv4-compatible (::a.b.c.d)
            ]
            candidates: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [v4, *wrapped]
            for candidate in candidates:
                assert address_refusal(candidate) is not None, candidate
                checked += 1
    for network6, _reason in webhooks._V6_REFUSED:
        for address in sample_addresses(network6, rng):
            assert address_refusal(ipaddress.IPv6Address(int(address))) is not None, address
            checked += 1
    assert checked > 400


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        "93.184.216.34",
        "2606:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ],
)
def test_public_addresses_and_their_wrappings_are_allowed(address: str) -> None:
    assert address_refusal(ipaddress.ip_address(address)) is None


def test_allow_private_opens_private_ranges_but_never_the_metadata_service() -> None:
    for address in ("127.0.0.1", "10.0.0.1", "::1", "192.168.0.10", "fd12::1"):
        assert address_refusal(ipaddress.ip_address(address), allow_private=True) is None
    for address in (
        "169.254.169.254",
        "fd00:ec2::254",
        "::ffff:169.254.169.254",
        "100.100.100.200",
    ):
        refusal = address_refusal(ipaddress.ip_address(address), allow_private=True)
        assert "cloud metadata" in (refusal or ""), address
    with pytest.raises(UnsafeURL, match="cloud metadata"):
        check_url("http://169.254.169.254/", allow_private=True)
    with pytest.raises(UnsafeURL, match="cloud metadata"):
        check_url("http://metadata.google.internal/", allow_private=True)
    check_url("http://localhost:1/", allow_private=True)


def test_check_url_only_ever_raises_unsafe_url_on_generated_garbage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", fake_dns({"example.com": ["93.184.216.34"]}))
    rng = random.Random(21)
    alphabet = "hts:/@[]%.:0123456789abcdefx\\?#\x00\r\n \u0130\u212a\uff0e\u3002-_"
    for _ in range(3000):
        url = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        if rng.random() < 0.5:
            url = rng.choice(["http://", "https://", "HTTP://"]) + url
        with contextlib.suppress(UnsafeURL):
            check_url(url)


# --- what is sent ---------------------------------------------------------------------------


def test_a_post_reaches_a_local_server_only_with_allow_private(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://localhost:{server.port}/hook?token=secret"

    assert post_json(url, {"a": 1}) is False
    assert server.posts == []
    assert "loopback" in caplog.text and "secret" not in caplog.text

    assert post_json(url, {"a": 1}, allow_private=True) is True
    [(path, headers, body)] = server.posts
    assert (path, body) == ("/hook?token=secret", {"a": 1})
    assert headers["Host"] == f"localhost:{server.port}"
    assert headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_a_redirect_is_a_failure_and_is_never_followed(
    server: Server, code: int, caplog: pytest.LogCaptureFixture
) -> None:
    assert post_json(f"{server.url}/redirect-{code}", {"a": 1}, allow_private=True) is False
    assert server.paths() == [f"/redirect-{code}"]  # /internal never asked
    assert "redirects are not followed" in caplog.text


def test_an_error_answer_a_timeout_and_a_closed_port_are_false_not_exceptions(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    assert post_json(f"{server.url}/fail", {"a": 1}, allow_private=True) is False
    assert "answered 500" in caplog.text
    started = time.monotonic()
    assert post_json(f"{server.url}/slow", {"a": 1}, timeout_s=0.2, allow_private=True) is False
    assert time.monotonic() - started < 0.9
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    assert post_json(f"http://127.0.0.1:{closed}/", {"a": 1}, allow_private=True) is False
    assert post_json(f"{server.url}/ok", {"a": 1}, allow_private=True) is True


def test_a_trickling_server_cannot_hold_the_sender_past_its_deadline(server: Server) -> None:
    started = time.monotonic()
    assert post_json(f"{server.url}/trickle", {"a": 1}, timeout_s=0.3, allow_private=True) is False
    assert time.monotonic() - started < 2.0  # 100 header lines x 0.05 s would take 5 s


def test_a_huge_answer_is_read_only_up_to_the_bound(server: Server) -> None:
    assert post_json(f"{server.url}/big", {"a": 1}, allow_private=True) is True


def test_the_connection_goes_to_the_vetted_address_not_a_second_dns_answer(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A rebinding name: the first answer passes the check, any later one points elsewhere.
    answers = iter([["127.0.0.1"]])
    calls: list[str] = []

    def rebinding(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        calls.append(host)
        address = next(answers, ["10.255.255.1"])[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    url = f"http://rebind.example:{server.port}/hook"

    assert post_json(url, {"a": 1}, allow_private=True, timeout_s=1.0) is True
    assert calls == ["rebind.example"]
    assert server.posts[0][1]["Host"] == f"rebind.example:{server.port}"


def test_post_json_never_raises_on_bad_arguments(caplog: pytest.LogCaptureFixture) -> None:
    assert post_json(None, {"a": 1}) is False  # type: ignore[arg-type]
    assert post_json("http://[::1", {"a": 1}) is False
    assert post_json("http://127.0.0.1:1/", {"a": {1, 2}}, allow_private=True) is False


# --- TLS: connect to the vetted address, verify the certificate for the host name ----------


def make_cert(tmp_path: Path, name: str) -> tuple[Path, Path]:
    cert, key = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            f"/CN={name}",
            "-addext",
            f"subjectAltName=DNS:{name}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.mark.parametrize(
    ("cert_name", "delivered"), [("localhost", True), ("other.example", False)]
)
def test_https_verifies_the_certificate_and_sends_sni_for_the_host_name(
    tmp_path: Path, cert_name: str, delivered: bool
) -> None:
    cert, key = make_cert(tmp_path, cert_name)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    seen_sni: list[str | None] = []
    server_tls.sni_callback = lambda sock, name, ctx: seen_sni.append(name)
    srv = Server(tls=server_tls)
    try:
        client_tls = ssl.create_default_context(cafile=str(cert))
        url = f"https://localhost:{srv.port}/hook"
        ok = post_json(url, {"a": 1}, allow_private=True, ssl_context=client_tls, timeout_s=2.0)
    finally:
        srv.close()
    assert ok is delivered
    assert seen_sni[:1] == ["localhost"]
    assert (len(srv.posts) == 1) is delivered


def test_the_webhook_module_does_not_import_django() -> None:
    tree = ast.parse(Path(webhooks.__file__).read_text())
    names = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ] + [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert names and not [n for n in names if n.split(".")[0] in ("django", "catalog", "quality")]
