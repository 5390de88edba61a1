"""Run docker-compose.yml's services as local processes: the same commands, the same environment.

Each service's ``command`` and ``environment`` come from the compose file (interpolated with
the test's secrets); only the addresses change (``db:5432`` and ``redis:6379`` become the
scratch cluster's and the throwaway Redis's), each service gets its own ``PORTAL_VAR_DIR`` (as
each container has its own filesystem), and the environment starts as empty as a container's.
``python``, ``gunicorn`` and ``celery`` are the ones installed from the lock file next to the
running interpreter. Test-only settings are listed in TEST_ONLY and nowhere else.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.deploy.cluster import Cluster
from tests.deploy.compose import REPO, argv, environment, healthcheck_argv, load_compose, localize

BIN = Path(sys.executable).parent
# What the test changes in the compose environment, and why.
TEST_ONLY = {
    # Beat's dispatcher every 2 s instead of 60 s, so a scheduled run shows up quickly.
    "QUALITY_DISPATCH_EVERY_S": "2",
    # Notifications to files instead of an SMTP server on localhost.
    "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
    "LOG_LEVEL": "INFO",
}


@dataclass
class Stack:
    """The compose services of one test module, started on a cluster and a Redis."""

    secrets: dict[str, str]
    cluster: Cluster
    redis: str  # host:port
    folder: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def services(self) -> dict[str, Any]:
        return load_compose(self.secrets)["services"]

    def addresses(self) -> dict[str, str]:
        return {"db:5432": f"127.0.0.1:{self.cluster.port}", "redis:6379": self.redis}

    def env(self, service: str, **extra: str) -> dict[str, str]:
        """The service's container environment, on local addresses."""
        var = self.folder / f"var-{service}"
        var.mkdir(exist_ok=True)
        compose_env = {
            key: localize(value, self.addresses())
            for key, value in environment(self.services[service]).items()
        }
        return {
            "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(self.folder),
            "LANG": "C.UTF-8",
            **compose_env,
            "PORTAL_VAR_DIR": str(var),
            "EMAIL_FILE_PATH": str(var / "mail"),
            **TEST_ONLY,
            **extra,
        }

    def command(self, service: str) -> list[str]:
        """The service's command, exactly as the compose file writes it (addresses aside)."""
        return [
            localize(part, self.addresses()) for part in argv(self.services[service]["command"])
        ]

    def run(
        self, service: str, args: list[str] | None = None, *, timeout: float = 300, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        """Run a one-shot service (or ``args`` in its container, as ``docker compose run``)."""
        return subprocess.run(
            args or self.command(service),
            cwd=REPO,
            env=self.env(service, **extra),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self, service: str, **extra: str) -> subprocess.Popen[bytes]:
        """Start a long-running service in its own process group, its output in a log file."""
        log = open(self.folder / f"{service}.log", "wb")  # noqa: SIM115 - closed in stop_all
        proc = subprocess.Popen(
            self.command(service),
            cwd=REPO,
            env=self.env(service, **extra),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[service] = proc
        return proc

    def healthcheck(self, service: str, **extra: str) -> subprocess.CompletedProcess[str]:
        """Run the service's health check command once, in its environment."""
        return subprocess.run(
            healthcheck_argv(self.services[service]),
            cwd=REPO,
            env=self.env(service, **extra),
            capture_output=True,
            text=True,
            timeout=60,
        )

    def wait_healthy(self, service: str, *, within_s: float = 90, **extra: str) -> None:
        deadline = time.monotonic() + within_s
        last = None
        while time.monotonic() < deadline:
            proc = self.processes.get(service)
            if proc is not None and proc.poll() is not None:
                raise AssertionError(f"{service} exited ({proc.returncode}):\n{self.log(service)}")
            last = self.healthcheck(service, **extra)
            if last.returncode == 0:
                return
            time.sleep(1)
        detail = (last.stdout + last.stderr)[-2000:] if last else ""
        raise AssertionError(f"{service} never healthy: {detail}\n{self.log(service)}")

    def log(self, service: str) -> str:
        path = self.folder / f"{service}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop_all(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.processes.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
            if proc.stdout:
                proc.stdout.close()


class Http:
    """A tiny HTTP client for the served portal: cookies, CSRF, token, JSON."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.token: str | None = None

    def request(
        self, method: str, path: str, *, body: Any = None, form: Mapping[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {"Host": f"127.0.0.1:{self.port}"}
        data: bytes | None = None
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if form is not None:
            data = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            content = response.read()
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name] = rest.split(";", 1)[0]
            return response.status, {k.lower(): v for k, v in response.getheaders()}, content
        finally:
            conn.close()

    def json(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        status, _, content = self.request(method, path, body=body)
        return status, json.loads(content) if content else None


def wait_port(port: int, within_s: float = 30) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")
