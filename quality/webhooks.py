"""Outbound HTTP for notifications: POST JSON to public addresses only, follow no redirects.

Pure Python (no Django import): callers pass ``allow_private`` from their settings.

Invariants (issue #11), each tested in tests/quality/test_webhooks.py:

- Only ``http`` and ``https`` URLs without credentials are used, and the host is resolved once.
  If ANY address it resolves to is private, loopback, link-local, multicast, reserved,
  unspecified, shared (CGNAT), a documentation or benchmarking range, or an IPv4-mapped,
  IPv4-compatible, 6to4 or NAT64 form of one of those, the URL is refused. Numeric hosts in
  any spelling (``2130706433``, ``0x7f.1``) are resolved the same way, so they are caught too.
- Cloud metadata endpoints (``169.254.169.254``, ``fd00:ec2::254``, ``metadata.google.internal``
  …) are refused even with ``allow_private``: nothing the portal sends belongs there.
- The connection goes to an address that was checked, never to a second DNS answer, so a
  name that changes its answer between the check and the connect (DNS rebinding) cannot win.
  The Host header, TLS SNI and certificate verification still use the URL's host name.
- No redirect is followed (a 3xx is a failure), the response read is bounded, and the whole
  exchange has a deadline. ``post_json`` logs and returns False on any failure; it never raises.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import json
import logging
import socket
import ssl
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

HTTP_TIMEOUT_S = 5.0
# Enough to read a status line and a small error body; webhook answers are not used.
MAX_RESPONSE_BYTES = 64 * 1024

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeURL(ValueError):
    """A webhook URL the portal refuses to contact; the message says why."""


# Cloud instance metadata services: AWS/Azure/GCP/OpenStack, AWS ECS task metadata, AWS IPv6
# (Nitro), Alibaba Cloud, Oracle Cloud. All are refused, with or without allow_private.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",
        "169.254.170.2",
        "169.254.170.23",
        "fd00:ec2::254",
        "fd00:ec2::23",
        "100.100.100.200",
        "192.0.0.192",
    )
)
METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "metadata.azure.internal",
        "instance-data",
        "instance-data.ec2.internal",
    }
)

# IANA special-purpose ranges (RFC 6890 and successors), each with the reason we give. Checked
# explicitly rather than with ``ip.is_global``, whose answer differs between Python versions
# (3.11 calls 192.0.0.192, ::127.0.0.1 and 64:ff9b::7f00:1 global).
_V4_REFUSED: tuple[tuple[ipaddress.IPv4Network, str], ...] = tuple(
    (ipaddress.IPv4Network(net), reason)
    for net, reason in (
        ("0.0.0.0/8", "an unspecified ('this network') address"),
        ("10.0.0.0/8", "a private address"),
        ("100.64.0.0/10", "a shared (CGNAT) address"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address"),
        ("172.16.0.0/12", "a private address"),
        ("192.0.0.0/24", "a reserved (IETF protocol) address"),
        ("192.0.2.0/24", "a documentation address"),
        ("192.88.99.0/24", "a reserved (6to4 relay) address"),
        ("192.168.0.0/16", "a private address"),
        ("198.18.0.0/15", "a benchmarking address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("224.0.0.0/4", "a multicast address"),
        ("240.0.0.0/4", "a reserved address"),
    )
)
_V6_REFUSED: tuple[tuple[ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.IPv6Network(net), reason)
    for net, reason in (
        ("::/128", "an unspecified address"),
        ("::1/128", "a loopback address"),
        # ::ffff:0:0/96 (IPv4-mapped) is unwrapped before this table is read.
        ("::/8", "a reserved (IPv4-compatible or unassigned) address"),
        ("64:ff9b:1::/48", "a local-use NAT64 address"),
        ("100::/64", "a discard-only address"),
        ("2001::/23", "a reserved (IETF protocol, Teredo) address"),
        ("2001:db8::/32", "a documentation address"),
        ("3fff::/20", "a documentation address"),
        ("fc00::/7", "a private (unique local) address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address"),
        ("ff00::/8", "a multicast address"),
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def address_refusal(address: IPAddress, *, allow_private: bool = False) -> str | None:
    """Why the portal must not connect to ``address`` (e.g. "a loopback address"), or None."""
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if isinstance(address, ipaddress.IPv6Address):
        # Forms that carry an IPv4 address: judged by the address they carry.
        embedded: ipaddress.IPv4Address | None = address.ipv4_mapped or address.sixtofour
        form = "an IPv4-mapped" if address.ipv4_mapped else "a 6to4"
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
            form = "a NAT64"
        if embedded is not None:
            inner = address_refusal(embedded, allow_private=allow_private)
            if inner is None:
                return None
            return f"{form} form of {inner} ({embedded})"
        if address.scope_id:
            return "a scoped (interface-local) address"
    if allow_private:
        return None
    table = _V4_REFUSED if isinstance(address, ipaddress.IPv4Address) else _V6_REFUSED
    for network, reason in table:
        if address in network:
            return reason
    return None


@dataclass(frozen=True)
class Target:
    """A vetted URL: where to connect (checked addresses) and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[tuple[int, tuple[Any, ...]], ...]  # (family, sockaddr), all checked

    @property
    def label(self) -> str:
        """``scheme://host:port`` for logs; never the path, which may hold a token (Slack)."""
        return f"{self.scheme}://{self.host}:{self.port}"


def vet_url(url: str, *, allow_private: bool = False) -> Target:
    """Parse ``url``, resolve its host once and check every address; UnsafeURL if refused."""
    if not isinstance(url, str) or not url:
        raise UnsafeURL("the webhook URL is empty")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F or ch == "\\" for ch in url):
        raise UnsafeURL("the webhook URL contains spaces, control characters or backslashes")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(f"the webhook URL is malformed ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeURL("the webhook URL is not an http(s) URL")
    if "@" in parts.netloc:
        raise UnsafeURL("the webhook URL must not contain credentials (user@host)")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeURL("the webhook URL has no host")
    if host in METADATA_HOSTS:
        raise UnsafeURL(f"the webhook host {host!r} is a cloud metadata service")
    if "%" in host:
        raise UnsafeURL("the webhook host must not carry an IPv6 zone (fe80::1%eth0)")
    if port is None:
        port = 443 if scheme == "https" else 80
    if port == 0:
        raise UnsafeURL("the webhook URL has port 0")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnsafeURL(f"the webhook host {host!r} does not resolve ({exc})") from None
    addresses: list[tuple[int, tuple[Any, ...]]] = []
    for family, _type, _proto, _name, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        literal = str(sockaddr[0])
        ip = ipaddress.ip_address(literal)
        if family == socket.AF_INET6 and len(sockaddr) == 4 and sockaddr[3]:
            ip = ipaddress.IPv6Address(f"{literal.split('%')[0]}%{sockaddr[3]}")
        reason = address_refusal(ip, allow_private=allow_private)
        if reason is not None:
            shown = "" if literal == host else f" resolves to {literal}, which"
            raise UnsafeURL(f"the webhook host {host!r}{shown} is {reason}")
        if (family, sockaddr) not in addresses:
            addresses.append((family, sockaddr))
    if not addresses:
        raise UnsafeURL(f"the webhook host {host!r} has no IPv4 or IPv6 address")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=scheme, host=host, port=port, path=path, addresses=tuple(addresses))


def check_url(url: str, *, allow_private: bool = False) -> None:
    """Raise UnsafeURL (saying why) unless ``url`` is a public http(s) URL, resolved now."""
    vet_url(url, allow_private=allow_private)


def _connect_to(target: Target, timeout_s: float) -> socket.socket:
    """A TCP connection to the first reachable vetted address (never a new DNS answer)."""
    last: OSError | None = None
    for family, sockaddr in target.addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout_s)
        try:
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            last = exc
            continue
        return sock
    raise last or OSError("no address to connect to")


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTPConnection whose socket goes to a vetted address; Host stays the URL's host."""

    def __init__(self, target: Target, timeout_s: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout_s)
        self._target = target

    def connect(self) -> None:
        self.sock = _connect_to(self._target, self.timeout)  # type: ignore[arg-type]


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPSConnection to a vetted address; SNI and certificate checks use the URL's host."""

    def __init__(self, target: Target, timeout_s: float, context: ssl.SSLContext) -> None:
        super().__init__(target.host, target.port, timeout=timeout_s, context=context)
        self._target = target
        self._tls = context

    def connect(self) -> None:
        sock = _connect_to(self._target, self.timeout)  # type: ignore[arg-type]
        self.sock = self._tls.wrap_socket(sock, server_hostname=self._target.host)


def _abort(conn: http.client.HTTPConnection, fired: threading.Event) -> None:
    """Deadline passed: shut the socket so a trickling server cannot hold the caller."""
    fired.set()
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def post_json(
    url: str,
    body: dict[str, Any],
    *,
    timeout_s: float = HTTP_TIMEOUT_S,
    allow_private: bool = False,
    ssl_context: ssl.SSLContext | None = None,
) -> bool:
    """POST ``body`` as JSON to a vetted URL; log and return False on any failure, never raise.

    Steps: vet the URL (resolve once, check every address); connect to a checked address;
    send; read a bounded answer; 2xx is success, a 3xx is a refused redirect.
    """
    try:
        target = vet_url(url, allow_private=allow_private)
    except UnsafeURL as exc:
        log.warning("notification webhook refused: %s", exc)
        return False
    except Exception as exc:  # never raise into a check run
        log.warning("notification webhook refused: %s", type(exc).__name__)
        return False
    try:
        data = json.dumps(body, default=str).encode()
    except (TypeError, ValueError) as exc:
        log.warning("notification webhook %s failed: body is not JSON (%s)", target.label, exc)
        return False
    conn: http.client.HTTPConnection
    if target.scheme == "https":
        context = ssl_context or ssl.create_default_context()
        conn = _PinnedHTTPSConnection(target, timeout_s, context)
    else:
        conn = _PinnedHTTPConnection(target, timeout_s)
    # The socket timeout bounds each step; this bounds the whole exchange.
    fired = threading.Event()
    deadline = threading.Timer(timeout_s * 2, _abort, args=(conn, fired))
    deadline.daemon = True
    deadline.start()
    try:
        conn.request(
            "POST",
            target.path,
            body=data,
            headers={"Content-Type": "application/json", "User-Agent": "data-mesh-portal"},
        )
        response = conn.getresponse()
        status = response.status
        response.read(MAX_RESPONSE_BYTES)
    except Exception as exc:  # network errors, timeouts, TLS errors, bad answers alike
        log.warning("notification webhook %s failed: %s", target.label, exc or type(exc).__name__)
        return False
    finally:
        deadline.cancel()
        conn.close()
    if fired.is_set():
        # A shut socket reads as end of headers: without this, a cut-off answer could pass.
        log.warning(
            "notification webhook %s failed: no complete answer within %.1f s",
            target.label,
            timeout_s * 2,
        )
        return False
    if 300 <= status < 400:
        log.warning(
            "notification webhook %s failed: answered %s (a redirect); redirects are not followed",
            target.label,
            status,
        )
        return False
    if not 200 <= status < 300:
        log.warning("notification webhook %s failed: answered %s", target.label, status)
        return False
    return True
