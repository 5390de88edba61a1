"""A scratch PostgreSQL cluster, started the way the postgres image starts its first time.

``scratch_cluster()`` runs ``initdb`` into a temporary folder (as the ``postgres`` OS user when
the tests run as root, since PostgreSQL refuses to run as root), with the image's
authentication (local socket: trust; TCP: scram-sha-256), and serves it on 127.0.0.1 at a free
port. ``run_init_scripts`` then runs deploy/postgres/*.sh against it as the image's entrypoint
does: as the superuser, over the local socket, with the db service's environment. Everything
is stopped and deleted afterwards. No Docker needed.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy.compose import REPO

INIT_DIR = REPO / "deploy" / "postgres"
SUPERUSER = "postgres"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_bindir() -> Path | None:
    """The newest installed PostgreSQL server's bin folder (Debian: /usr/lib/postgresql/N/bin)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


@dataclass(frozen=True)
class Cluster:
    """A running scratch cluster: TCP on 127.0.0.1:``port``, its socket in ``socket_dir``."""

    port: int
    socket_dir: Path
    data_dir: Path
    bindir: Path

    def url(self, user: str, password: str, database: str) -> str:
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{database}"

    def superuser_env(self) -> dict[str, str]:
        """libpq variables for the superuser over the local socket (the entrypoint's way)."""
        return {"PGHOST": str(self.socket_dir), "PGPORT": str(self.port), "PGUSER": SUPERUSER}


def _as_postgres(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


@contextmanager
def scratch_cluster() -> Iterator[Cluster]:
    """Initialise, start, yield, then stop and delete a throwaway cluster (or skip)."""
    bindir = server_bindir()
    if bindir is None or not (bindir / "pg_ctl").exists():
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl); .ci/run installs them")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        pytest.skip("running as root without runuser to start PostgreSQL as postgres")
    base = Path(tempfile.mkdtemp(prefix="portal-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, user="postgres", group="postgres")
    data = base / "data"
    port = free_port()
    log = base / "server.log"
    try:
        subprocess.run(
            _as_postgres(
                [str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER, "-E", "UTF8",
                 "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256"]
            ),
            check=True,
            capture_output=True,
        )  # fmt: skip
        subprocess.run(
            _as_postgres(
                [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
                 "-o", f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
                 "-c max_connections=100",
                 "start"]
            ),
            check=True,
            capture_output=True,
        )  # fmt: skip
        yield Cluster(port=port, socket_dir=base, data_dir=data, bindir=bindir)
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                capture_output=True,
            )
        shutil.rmtree(base, ignore_errors=True)


def stop(cluster: Cluster) -> None:
    """Stop the server (a database outage); ``start`` brings it back."""
    subprocess.run(
        _as_postgres([str(cluster.bindir / "pg_ctl"), "-D", str(cluster.data_dir), "-m", "fast",
                      "-w", "stop"]),
        check=True,
        capture_output=True,
    )  # fmt: skip


def run_init_scripts(
    cluster: Cluster, db_env: Mapping[str, str], *, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run every deploy/postgres/*.sh in order, as the image's entrypoint does on first start."""
    env = {
        "PATH": f"{cluster.bindir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "POSTGRES_USER": SUPERUSER,
        "POSTGRES_DB": SUPERUSER,
        **db_env,
        **cluster.superuser_env(),
    }
    output = []
    result = subprocess.CompletedProcess[str]([], 0, "", "")
    for script in sorted(INIT_DIR.glob("*.sh")):
        result = subprocess.run([str(script)], env=env, capture_output=True, text=True, timeout=120)
        output.append(result.stdout + result.stderr)
        if result.returncode != 0:
            break
    if check and result.returncode != 0:
        raise AssertionError(f"init script failed ({result.returncode}):\n{''.join(output)}")
    return result
