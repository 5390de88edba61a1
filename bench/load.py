"""Load benchmark: the portal under concurrent users, on the embedded and the production stack.

    python bench/load.py                                   # embedded (SQLite + runserver)
    python bench/load.py --postgres postgresql://portal:portal@127.0.0.1:5432/portal
    python bench/load.py --users 1,8,32,64 --seconds 20 --heavy 3

It starts the stack itself in a scratch folder (migrate, the demo warehouse and catalog, API
tokens), then drives a mix of 70 % search (``GET /v1/catalog/search``), 20 % product pages
(``GET /v1/catalog/products/<id>``) and 10 % governed queries (``POST /v1/query``, a light
aggregate) at each number of concurrent users for a bounded time, and prints throughput,
p50/p95/p99 and errors by status. Then the starvation test: ``--heavy`` users run a governed
query that takes the whole timeout while 8 users search; it prints search p95 beside the
p95 of the same 8 users without heavy queries (the baseline, measured in the same run).

Stacks, as the README runs them:
- embedded: SQLite (WAL), DuckDB warehouse, ``manage.py runserver`` (threaded), DEBUG on, as
  ``bin/demo``;
- ``--postgres DSN``: the portal database on PostgreSQL (a throwaway database next to the
  DSN's), the DuckDB demo warehouse, gunicorn with the production recipe from
  docker-compose.yml (gthread workers), DEBUG off.
API throttles are raised for the run (the bench is one client pretending to be many users).
Each level also prints the load average and, on Linux, where the CPU went while it ran: the
server's processes (the portal, and PostgreSQL on that stack), this client, and everything else
on the machine (other jobs compete for the same cores: compare runs only with ``other`` low).
Targets (issue 13, 2-core machine): PostgreSQL + gunicorn >= 150 requests/s at 32 users with
p95 <= 500 ms and no errors; no errors on the embedded stack at 64 users; search p95 under
300 ms at 8 users with 3 heavy queries running.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SEARCH_TERMS = ("revenue", "orders", "campaign", "latency", "inventory", "signup", "", "email")
LIGHT_SQL = "SELECT count(*) AS n FROM finance.orders_revenue"
HEAVY_SQL = (
    "SELECT count(*) AS pairs FROM product.funnel_events a "
    "JOIN product.funnel_events b ON a.event_id < b.event_id"
)
# gunicorn as docker-compose.yml runs it (keep the two in step).
GUNICORN = [
    "gunicorn", "config.wsgi:application", "--worker-class", "gthread", "--workers", "3",
    "--threads", "8", "--timeout", "120", "--keep-alive", "0",
]  # fmt: skip


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--postgres", metavar="DSN", help="the production stack on PostgreSQL")
    parser.add_argument("--users", default="1,8,32,64", help="concurrency levels")
    parser.add_argument("--seconds", type=float, default=15.0, help="per level")
    parser.add_argument("--heavy", type=int, default=3, help="heavy query users (0: skip)")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


# --- the stack ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg_database(dsn: str) -> tuple[str, str]:
    import psycopg

    name = f"bench_load_{os.getpid()}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlparse(dsn)
    return urlunparse(parts._replace(path=f"/{name}")), name


def _drop_pg_database(dsn: str, name: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Stack:
    """The portal started in a scratch folder; ``url`` serves it, ``tokens`` log users in."""

    def __init__(self, env: dict[str, str], server: list[str], port: int) -> None:
        self.env, self.port = env, port
        self.url = f"127.0.0.1:{port}"
        self.log = open(Path(env["PORTAL_VAR_DIR"]) / "server.log", "wb")  # noqa: SIM115
        self.manage("migrate", "--noinput", "-v0")
        self.manage("seed_demo")
        self.tokens = self._tokens(64)
        self.products = self._products()
        self.server = subprocess.Popen(
            server, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return
            except OSError:
                if self.server.poll() is not None:
                    break
                time.sleep(0.3)
        self.stop()
        raise SystemExit(f"bench/load.py: the server did not start (log: {self.log.name})")

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [PY, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise SystemExit(f"bench/load.py: manage.py {args[0]} failed: {done.stderr[-500:]}")
        return done.stdout

    def _tokens(self, count: int) -> list[str]:
        script = (
            "from accounts.models import User\n"
            "from rest_framework.authtoken.models import Token\n"
            f"for i in range({count}):\n"
            "    u, _ = User.objects.get_or_create(\n"
            "        username=f'load{i}', defaults={'role': 'analyst'})\n"
            "    print(Token.objects.get_or_create(user=u)[0].key)\n"
        )
        return self.manage("shell", "-v", "0", "-c", script).split()

    def _products(self) -> list[str]:
        script = (
            "from catalog.models import DataProduct\n"
            "print(' '.join(DataProduct.objects.filter(status='published')"
            ".values_list('product_id', flat=True)))\n"
        )
        return self.manage("shell", "-v", "0", "-c", script).split()

    def stop(self) -> None:
        if getattr(self, "server", None) is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
        self.log.close()


def start_stack(args: argparse.Namespace, var_dir: str) -> tuple[Stack, str | None]:
    port = _free_port()
    env = {
        **os.environ,
        "PORTAL_VAR_DIR": var_dir,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "API_THROTTLE_USER": "100000/min",
        "API_THROTTLE_ANON": "100000/min",
        "API_THROTTLE_QUERY": "100000/min",
        "QUERY_TIMEOUT_S": "10",
        "QUERY_MAX_PER_USER": "4",
        "LOG_LEVEL": "WARNING",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    pg_name = None
    if args.postgres:
        env["DATABASE_URL"], pg_name = _pg_database(args.postgres)
        env["DEBUG"] = "0"
        env.setdefault("SECRET_KEY", "bench-" + "s" * 50)
        env.setdefault("PII_HASH_KEY", "bench-" + "h" * 40)
        env["QUERY_MAX_CONCURRENT"] = "2"  # per gunicorn process, as docker-compose.yml
        server = [*GUNICORN, "--bind", f"127.0.0.1:{port}"]
        server[0] = str(Path(PY).parent / "gunicorn")
    else:
        env.pop("DATABASE_URL", None)
        env["DEBUG"] = "1"
        server = [PY, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    return Stack(env, server, port), pg_name


# --- the load ----------------------------------------------------------------------------


class Client:
    """One user: a keep-alive connection, a token, and the latencies it saw."""

    def __init__(self, stack: Stack, token: str, rng: random.Random) -> None:
        self.stack, self.token, self.rng = stack, token, rng
        self.conn = http.client.HTTPConnection(stack.url, timeout=120)

    def request(self, method: str, path: str, body: dict[str, str] | None = None) -> int:
        headers = {"Authorization": f"Token {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                response.read()
                return response.status
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.stack.url, timeout=120)
                if attempt:
                    return 0  # connection failed twice: counted as an error
        return 0

    def one(self, kind: str) -> int:
        if kind == "search":
            term = self.rng.choice(SEARCH_TERMS)
            return self.request("GET", f"/v1/catalog/search?q={term}")
        if kind == "product":
            return self.request(
                "GET", f"/v1/catalog/products/{self.rng.choice(self.stack.products)}"
            )
        if kind == "heavy":
            return self.request("POST", "/v1/query", {"sql": HEAVY_SQL})
        return self.request("POST", "/v1/query", {"sql": LIGHT_SQL})


MIX = ["search"] * 7 + ["product"] * 2 + ["query"]


def cpu_seconds(server_pid: int, database: str | None) -> dict[str, float]:
    """CPU seconds used so far per group: server (the portal's processes), postgres (the
    backends serving the bench's database), client (this process), other (everything else on
    the machine, processes that came and went included).

    Linux only (reads /proc); elsewhere empty. Exited processes drop out, so take the
    difference over a period in which the groups' processes keep running.
    """
    proc = Path("/proc")
    if not proc.is_dir():
        return {}
    tick = os.sysconf("SC_CLK_TCK")
    me = os.getpid()
    rows: dict[int, tuple[int, float, str]] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        rows[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick, cmd)

    def serves(pid: int) -> bool:
        while pid > 1:
            if pid == server_pid:
                return True
            pid = rows[pid][0] if pid in rows else 0
        return False

    out: dict[str, float] = {"server": 0.0, "postgres": 0.0, "client": 0.0}
    for pid, (_, used, cmd) in rows.items():
        if pid == me:
            group = "client"
        elif serves(pid):
            group = "server"
        elif database and cmd.startswith("postgres") and f" {database} " in cmd:
            group = "postgres"
        else:
            continue
        out[group] += used
    # Everything else, short-lived processes included: the machine's busy time minus ours.
    busy = [int(v) for v in (proc / "stat").read_text().split("\n", 1)[0].split()[1:9]]
    machine = (sum(busy) - busy[3] - busy[4]) / tick  # all but idle and iowait
    out["other"] = machine - sum(out.values())
    return out


def cpu_note(before: dict[str, float], after: dict[str, float], seconds: float) -> str:
    """``cores used: server 1.52, postgres 0.21, client 0.05, other 0.10; load 2.31``."""
    load = f"load {os.getloadavg()[0]:.2f}"
    if not before or not after:
        return load
    used = ", ".join(
        f"{group} {(after[group] - before[group]) / seconds:.2f}"
        for group in ("server", "postgres", "client", "other")
        if after[group] - before[group] > 0.01 * seconds
    )
    return f"cores used: {used}; {load}"


def drive(
    stack: Stack,
    users: int,
    seconds: float,
    seed: int,
    *,
    kinds: list[str] | None = None,
    by_kind: dict[str, list[float]] | None = None,
) -> tuple[list[float], Counter[int]]:
    """``users`` threads for ``seconds``: latencies (ms) and statuses of their requests (and,
    into ``by_kind`` when given, each kind's latencies)."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def user(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        client = Client(stack, stack.tokens[index % len(stack.tokens)], rng)
        while time.monotonic() < deadline:
            kind = rng.choice(kinds or MIX)
            started = time.perf_counter()
            status = client.one(kind)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                statuses[status] += 1
                if by_kind is not None:
                    by_kind.setdefault(kind, []).append(elapsed)
        client.conn.close()

    threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, statuses


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def report(label: str, latencies: list[float], statuses: Counter[int], seconds: float) -> None:
    errors = {s: n for s, n in statuses.items() if not 200 <= s < 300}
    shown = ", ".join(f"{s or 'conn'}: {n}" for s, n in sorted(errors.items())) or "none"
    print(
        f"   {label:<10} {len(latencies) / seconds:>8.1f} {pct(latencies, 50):>8.1f} "
        f"{pct(latencies, 95):>8.1f} {pct(latencies, 99):>8.1f}   "
        f"{shown}"
    )


def main() -> int:
    args = parse_args()
    levels = [int(u) for u in args.users.split(",") if u.strip()]
    var_dir = tempfile.mkdtemp(prefix="bench-load-")
    pg_name = None
    stack = None
    try:
        stack, pg_name = start_stack(args, var_dir)
        name = "PostgreSQL + gunicorn (gthread 3x8)" if args.postgres else "embedded (runserver)"
        print(f"stack: {name}; {len(stack.products)} products; {args.seconds:g} s per level")
        print("1. mix 70 % search, 20 % product, 10 % query")
        print(f"   {'users':<10} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}   errors")
        print(f"   load average before: {os.getloadavg()[0]:.2f}")
        drive(stack, 4, 3, args.seed)  # warm up (connections, caches)
        for users in levels:
            before = cpu_seconds(stack.server.pid, pg_name)
            kinds: dict[str, list[float]] = {}
            latencies, statuses = drive(stack, users, args.seconds, args.seed, by_kind=kinds)
            after = cpu_seconds(stack.server.pid, pg_name)
            report(str(users), latencies, statuses, args.seconds)
            print(f"   {'':<10} {cpu_note(before, after, args.seconds)}")
            print(
                f"   {'':<10} by kind, p50/p95 ms: "
                + ", ".join(
                    f"{kind} {pct(seen, 50):.0f}/{pct(seen, 95):.0f}"
                    for kind, seen in sorted(kinds.items())
                )
            )
        if args.heavy:
            print(f"2. search p95 at 8 users, without and with {args.heavy} heavy queries")
            base, base_status = drive(stack, 8, args.seconds, args.seed, kinds=["search"])
            report("baseline", base, base_status, args.seconds)
            heavy_done: list[tuple[list[float], Counter[int]]] = []
            heavy = threading.Thread(
                target=lambda: heavy_done.append(
                    drive(stack, args.heavy, args.seconds, args.seed + 1, kinds=["heavy"])
                )
            )
            heavy.start()
            time.sleep(1.0)  # the heavy queries are running
            loaded, loaded_status = drive(stack, 8, args.seconds - 1, args.seed, kinds=["search"])
            heavy.join()
            report("w/ heavy", loaded, loaded_status, args.seconds - 1)
            ratio = pct(loaded, 95) / pct(base, 95)
            statuses = dict(heavy_done[0][1]) if heavy_done else {}
            print(f"   search p95 with/without heavy queries: {ratio:.2f}x; heavy: {statuses}")
    finally:
        if stack is not None:
            stack.stop()
        if pg_name and args.postgres:
            _drop_pg_database(args.postgres, pg_name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
