"""bin/demo as people run it (issue 12): PORT, the banner and notification links follow it,
the worker keeps the warehouse fresh, a rerun works, and Ctrl-C or SIGTERM stops everything
it started (web server, worker, beat), leaving no process behind."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "bin" / "demo"
# What the surrounding test run sets that the demo must not inherit.
DROPPED = {
    "DATABASE_URL",
    "WAREHOUSE_URL",
    "CELERY_BROKER_URL",
    "CACHE_URL",
    "DJANGO_SETTINGS_MODULE",
    "PORTAL_BASE_URL",
    "DEBUG",
    "SECRET_KEY",
    "PII_HASH_KEY",
    "DEMO_KEEP_FRESH_S",
    "CELERY_TASK_ALWAYS_EAGER",
    "EMAIL_BACKEND",
    "EMAIL_FILE_PATH",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def demo_env(var_dir: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED}
    return {**env, "PORTAL_VAR_DIR": str(var_dir), "PORT": str(port), **extra}


def run_quick(var_dir: Path, port: str, *args: str) -> subprocess.CompletedProcess[str]:
    """bin/demo when it stops before seeding (bad arguments, port taken)."""
    env = demo_env(var_dir, 0, PORT=port)
    process = subprocess.Popen(
        [str(DEMO), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:  # it went on to seed and serve: stop all of it
        os.killpg(process.pid, signal.SIGKILL)
        for pid in session_pids(process.pid):
            os.kill(pid, signal.SIGKILL)
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_bad_arguments_and_ports_stop_with_one_readable_line(tmp_path: Path) -> None:
    bad = run_quick(tmp_path, "8000", "--wipe")
    assert bad.returncode == 2
    assert bad.stderr.strip() == "bin/demo: unknown option '--wipe' (use --reset or --no-checks)"
    for port in ("80a", "0", "70000", "127.0.0.1:8000", "-1", " 80"):
        result = run_quick(tmp_path, port)
        assert result.returncode == 2, port
        assert "PORT must be a port number from 1 to 65535" in result.stderr
        assert "Traceback" not in result.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = run_quick(tmp_path, port)
    assert result.returncode == 1
    assert f"port {port} is in use" in result.stderr
    assert not (tmp_path / "portal.sqlite3").exists()  # stopped before touching anything
    helped = run_quick(tmp_path, "8000", "--help")
    assert helped.returncode == 0 and "--reset" in helped.stdout and "PORT" in helped.stdout


# ---------------------------------------------------------------------------------------------
# The real thing: minutes long, so marked slow.
# ---------------------------------------------------------------------------------------------


def session_pids(sid: int) -> set[int]:
    """Live (not zombie) processes of session ``sid``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        state, session = fields[0], int(fields[3])
        if session == sid and state != "Z":
            found.add(int(entry.name))
    return found


class Demo:
    """A running bin/demo in its own session, and what it printed."""

    def __init__(self, var_dir: Path, port: int, *args: str, **env: str) -> None:
        self.port = port
        self.log = var_dir.parent / f"demo-{port}.out"
        self.process = subprocess.Popen(
            [str(DEMO), *args],
            cwd=ROOT,
            env=demo_env(var_dir, port, **env),
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, text: str, timeout_s: float = 300) -> None:
        deadline = time.monotonic() + timeout_s
        while text not in self.output():
            assert self.process.poll() is None, self.output()[-3000:]
            assert time.monotonic() < deadline, f"no {text!r} in:\n{self.output()[-3000:]}"
            time.sleep(0.5)

    def get(self, path: str) -> int:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:  # noqa: S310
            return int(r.status)

    def processes(self, timeout_s: float = 60) -> set[int]:
        """Its processes once all have started: bash, web server, worker, beat."""
        deadline = time.monotonic() + timeout_s
        while len(found := session_pids(self.process.pid)) < 4:
            assert self.process.poll() is None, self.output()[-3000:]
            assert time.monotonic() < deadline, found
            time.sleep(0.2)
        return found

    def kill_leftovers(self) -> None:
        for pid in session_pids(self.process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo") / "var"


@pytest.fixture
def demo_runs() -> Iterator[list[Demo]]:
    runs: list[Demo] = []
    yield runs
    for run in runs:  # whatever a failed test left running
        run.kill_leftovers()


def beats_in(demo: Demo) -> set[int]:
    """The celery beat processes of this demo (its session)."""
    found = set()
    for pid in session_pids(demo.process.pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"celery" in cmdline and b" beat " in cmdline:
            found.add(pid)
    return found


def wait_until_gone(pids: set[int], timeout_s: float) -> set[int]:
    deadline = time.monotonic() + timeout_s
    alive = pids
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = {p for p in alive if Path(f"/proc/{p}").exists() and _not_zombie(p)}
    return alive


def _not_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


@pytest.mark.slow
def test_sigterm_stops_the_web_server_worker_and_beat_and_links_follow_port(
    var_dir: Path, demo_runs: list[Demo]
) -> None:
    port = free_port()
    demo = Demo(var_dir, port, DEMO_KEEP_FRESH_S="3")
    demo_runs.append(demo)
    demo.wait_for(f"bin/demo: portal at http://127.0.0.1:{port}/")
    deadline = time.monotonic() + 30
    while True:
        try:
            assert demo.get("/accounts/login/") == 200
            break
        except OSError:
            assert time.monotonic() < deadline, demo.output()[-2000:]
            time.sleep(0.5)
    # The seed's checks opened incidents: their e-mails link to this port.
    mails = "".join(p.read_text(errors="replace") for p in (var_dir / "mail").glob("*"))
    assert f"http://127.0.0.1:{port}/products/ops.inventory_levels" in mails
    assert "http://127.0.0.1:8000" not in mails
    # While the demo runs, the worker keeps the warehouse fresh (every 3 s here).
    celery_log = var_dir / "celery.log"
    refreshed = re.compile(r"Task catalog\.demo_warehouse_refresh\[\S+\] succeeded in \S+: (\d+)")
    deadline = time.monotonic() + 90
    while not (match := refreshed.search(celery_log.read_text(errors="replace"))):
        assert time.monotonic() < deadline, celery_log.read_text()[-3000:]
        time.sleep(1)
    assert int(match.group(1)) > 400_000  # rows written
    # Beat runs on its own, once, supervised: killed, it is logged and started again.
    pidfile = var_dir / "celerybeat.pid"
    first_beat = int(pidfile.read_text())
    assert beats_in(demo) == {first_beat}
    os.kill(first_beat, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while True:
        beats = beats_in(demo)
        if beats and first_beat not in beats:
            break
        assert time.monotonic() < deadline, (var_dir / "beat.log").read_text()[-2000:]
        time.sleep(0.5)
    assert len(beats) == 1
    assert "beat exited with status" in (var_dir / "beat.log").read_text()
    started = demo.processes()

    demo.process.send_signal(signal.SIGTERM)  # to the script alone, as a supervisor would

    assert demo.process.wait(timeout=30) == 143
    assert wait_until_gone(started, 10) == set()
    assert "stopped the web server, the worker and beat" in demo.output()


@pytest.mark.slow
def test_a_rerun_works_and_ctrl_c_stops_everything(var_dir: Path, demo_runs: list[Demo]) -> None:
    port = free_port()
    demo = Demo(var_dir, port, "--no-checks")  # the same var/ as the first run
    demo_runs.append(demo)
    demo.wait_for(f"bin/demo: portal at http://127.0.0.1:{port}/")
    assert "catalog: 23 products published" in demo.output()
    started = demo.processes()

    os.killpg(demo.process.pid, signal.SIGINT)  # what Ctrl-C in its terminal sends

    assert demo.process.wait(timeout=30) == 130
    assert wait_until_gone(started, 10) == set()
