"""docker-compose.yml, checked service by service without Docker (issue 20).

Every service's command, environment, dependencies and health check; the secrets it requires;
the Dockerfile it builds. tests/deploy/test_stack.py runs these same commands for real.
"""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from typing import Any

import pytest

from tests.deploy.compose import (
    COMPOSE_FILE,
    PORTAL_SERVICES,
    REPO,
    SECRETS,
    MissingVariable,
    argv,
    depends_on,
    environment,
    healthcheck_argv,
    interpolate,
    load_compose,
    raw_compose,
    sample_secrets,
)

INIT_SCRIPT = "deploy/postgres/10-portal-databases.sh"


@pytest.fixture(scope="module")
def secrets() -> dict[str, str]:
    return sample_secrets()


@pytest.fixture(scope="module")
def services(secrets: dict[str, str]) -> dict[str, Any]:
    return load_compose(secrets)["services"]


def test_the_stack_has_exactly_these_services(services: dict[str, Any]) -> None:
    assert set(services) == {"db", "redis", *PORTAL_SERVICES, "spark"}


@pytest.mark.parametrize("missing", SECRETS)
def test_every_secret_is_required_like_secret_key(missing: str, secrets: dict[str, str]) -> None:
    env = {k: v for k, v in secrets.items() if k != missing}
    with pytest.raises(MissingVariable) as caught:
        load_compose(env)
    assert caught.value.name == missing
    # An empty value is as missing as an unset one (":?", not "?").
    with pytest.raises(MissingVariable):
        load_compose({**env, missing: ""})


def test_no_secret_is_written_in_the_file() -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    for url in re.findall(r"(?:postgresql|redis)://[^\s\"']+", text):
        if "@" in url:  # user:password@host: the password is always a variable
            password = url.split("://", 1)[1].split("@", 1)[0].partition(":")[2]
            assert password.startswith("${") and ":?" in password, url
    for name in SECRETS:
        assert re.search(rf"\$\{{{name}:\?[^}}]+\}}", text), f"{name} is not required"


def test_the_portal_services_share_one_environment(
    services: dict[str, Any], secrets: dict[str, str]
) -> None:
    envs = {name: environment(services[name]) for name in PORTAL_SERVICES}
    web = envs["web"].pop("PORT")
    assert web == "8000"
    first = envs["migrate"]
    for name, env in envs.items():
        assert env == first, f"{name}'s environment differs from migrate's"
    assert first["DEBUG"] == "0"
    assert first["SECRET_KEY"] == secrets["SECRET_KEY"]
    assert first["PII_HASH_KEY"] == secrets["PII_HASH_KEY"]
    assert first["PII_HASH_KEY"] != first["SECRET_KEY"]
    assert first["DATABASE_URL"] == (
        f"postgresql://portal:{secrets['PORTAL_DB_PASSWORD']}@db:5432/portal"
    )
    assert first["WAREHOUSE_URL"] == (
        f"postgresql://warehouse_reader:{secrets['WAREHOUSE_READER_PASSWORD']}@db:5432/warehouse"
    )
    assert first["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    assert first["CACHE_URL"] == "redis://redis:6379/1"
    assert first["QUERY_MAX_CONCURRENT"] == "2"


def test_the_environment_is_accepted_by_the_settings(services: dict[str, Any]) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))},
        **environment(services["web"]),
        "PORTAL_VAR_DIR": os.environ.get("PORTAL_VAR_DIR", "/tmp"),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--fail-level", "WARNING"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_migrations_run_once_in_a_one_shot_service(services: dict[str, Any]) -> None:
    migrate = services["migrate"]
    assert argv(migrate["command"]) == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["restart"] == "no"
    assert depends_on(migrate) == {"db": "service_healthy"}
    for name in ("web", "worker", "beat", "demo"):
        assert depends_on(services[name])["migrate"] == "service_completed_successfully", name
        command = " ".join(argv(services[name]["command"]))
        assert "migrate" not in command and "collectstatic" not in command, name


def test_web_runs_gunicorn_with_gthread_workers_as_the_load_benchmark_does(
    services: dict[str, Any],
) -> None:
    web = services["web"]
    assert argv(web["command"]) == [
        "gunicorn", "config.wsgi:application", "--worker-class", "gthread", "--workers", "3",
        "--threads", "8", "--timeout", "120", "--keep-alive", "0",
    ]  # fmt: skip
    bench = runpy.run_path(str(REPO / "bench" / "load.py"), run_name="bench_load")
    assert bench["GUNICORN"] == argv(web["command"])
    assert depends_on(web) == {
        "migrate": "service_completed_successfully",
        "db": "service_healthy",
        "redis": "service_healthy",
    }
    assert web["ports"] == ["8000:8000"]
    # gunicorn binds 0.0.0.0:$PORT when no --bind is given: the published port.
    bind = subprocess.run(
        [sys.executable, "-c", "from gunicorn.config import Config; print(Config().bind)"],
        env={**os.environ, "PORT": environment(web)["PORT"]},
        capture_output=True,
        text=True,
        check=True,
    )
    assert bind.stdout.strip() == "['0.0.0.0:8000']"


def test_web_and_worker_have_health_checks(services: dict[str, Any]) -> None:
    web = healthcheck_argv(services["web"])
    assert web[:2] == ["python", "-c"] and "/healthz" in web[2]
    worker = healthcheck_argv(services["worker"])
    assert worker[:2] == ["sh", "-c"]
    assert argv(worker[2]) == [
        "celery", "-A", "config", "inspect", "ping", "--destination", "celery@$HOSTNAME",
        "--timeout", "10",
    ]  # fmt: skip
    for name in ("web", "worker", "db", "redis"):
        check = services[name]["healthcheck"]
        assert check["interval"] and check["timeout"] and check["retries"], name


def test_worker_and_beat_commands(services: dict[str, Any]) -> None:
    assert argv(services["worker"]["command"]) == [
        "celery", "-A", "config", "worker", "--loglevel=INFO", "--concurrency=4",
    ]  # fmt: skip
    assert argv(services["beat"]["command"]) == [
        "celery",
        "-A",
        "config",
        "beat",
        "--loglevel=INFO",
    ]
    assert depends_on(services["worker"]) == {
        "migrate": "service_completed_successfully",
        "db": "service_healthy",
        "redis": "service_healthy",
    }
    assert depends_on(services["beat"]) == {
        "migrate": "service_completed_successfully",
        "redis": "service_healthy",
    }
    assert "ports" not in services["worker"] and "ports" not in services["beat"]


def test_the_demo_profile_loads_the_warehouse_as_the_loader(
    services: dict[str, Any], secrets: dict[str, str]
) -> None:
    demo = services["demo"]
    assert demo["profiles"] == ["demo"]
    assert argv(demo["command"]) == [
        "python", "manage.py", "seed_demo", "--warehouse",
        f"postgresql://warehouse_loader:{secrets['WAREHOUSE_LOADER_PASSWORD']}@db:5432/warehouse",
    ]  # fmt: skip
    assert demo["restart"] == "no"
    optional = {"demo", "spark"}
    assert all("profiles" not in services[name] for name in services if name not in optional)


def test_the_spark_profile_runs_a_spark_connect_server_from_pyspark_and_debian(
    services: dict[str, Any],
) -> None:
    spark = services["spark"]
    assert spark["profiles"] == ["spark"]
    assert spark["build"] == {"context": ".", "dockerfile": "deploy/spark/Dockerfile"}
    command = argv(spark["command"])
    assert command[:3] == [
        "spark-submit", "--class", "org.apache.spark.sql.connect.service.SparkConnectServer"
    ]  # fmt: skip
    conf = dict(command[i + 1].split("=", 1) for i, part in enumerate(command) if part == "--conf")
    assert conf["spark.connect.grpc.binding.port"] == "15002"
    # Its tables and their catalog outlive the container: both in the volume.
    assert conf["spark.sql.catalogImplementation"] == "hive"
    assert conf["spark.sql.warehouse.dir"].startswith("/var/lib/spark/")
    assert "databaseName=/var/lib/spark/" in conf["spark.hadoop.javax.jdo.option.ConnectionURL"]
    assert spark["volumes"] == ["sparkdata:/var/lib/spark"]
    assert "sparkdata" in raw_compose()["volumes"]
    # No login on Spark Connect: reachable from the host's loopback only.
    assert spark["ports"] == ["127.0.0.1:15002:15002"]
    probe = healthcheck_argv(spark)
    assert probe[:2] == ["python", "-c"] and "15002" in probe[2]
    assert not depends_on(spark)
    # Nothing of the portal's waits for it: Spark is one optional warehouse among others.
    assert all("spark" not in depends_on(services[name]) for name in PORTAL_SERVICES)
    dockerfile = (REPO / "deploy" / "spark" / "Dockerfile").read_text(encoding="utf-8")
    assert "apt-get install -y --no-install-recommends openjdk-17-jre-headless" in dockerfile
    install = "pip install --no-cache-dir --require-hashes --no-deps -r /tmp/spark-requirements.txt"
    assert install in dockerfile
    assert "COPY deploy/spark/requirements.txt /tmp/spark-requirements.txt" in dockerfile
    assert not re.search(r"\b(curl|wget|ADD\s+https?:)", dockerfile)
    assert "USER spark" in dockerfile


def test_the_portal_image_carries_the_spark_client_only_when_asked(
    secrets: dict[str, str],
) -> None:
    build = load_compose(secrets)["x-portal"]["build"]
    assert build == {"context": ".", "args": {"PORTAL_EXTRAS": ""}}
    asked = load_compose({**secrets, "PORTAL_EXTRAS": "spark"})["x-portal"]["build"]
    assert asked["args"] == {"PORTAL_EXTRAS": "spark"}
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert 'ARG PORTAL_EXTRAS=""' in dockerfile
    assert (
        "spark) pip install --no-cache-dir --require-hashes -r requirements/spark.txt ;;"
        in dockerfile
    )
    # Any other value stops the build instead of building an image without what was asked.
    assert re.search(r"\*\) echo \"PORTAL_EXTRAS must be empty or spark.*exit 1", dockerfile)


def test_the_database_container_runs_the_init_script_on_its_first_start(
    services: dict[str, Any], secrets: dict[str, str]
) -> None:
    db = services["db"]
    assert db["image"].startswith("postgres:")
    assert f"./{INIT_SCRIPT}:/docker-entrypoint-initdb.d/10-portal-databases.sh:ro" in db["volumes"]
    script = REPO / INIT_SCRIPT
    assert script.exists() and os.access(script, os.X_OK)
    required = set(re.findall(r'^: "\$\{([A-Z_]+):\?', script.read_text(), re.M))
    env = environment(db)
    assert required == set(env) - {"POSTGRES_PASSWORD"}
    assert {env[name] for name in required} == {secrets[name] for name in required}
    # Healthy only once the real server listens on TCP, i.e. after the init script finished.
    assert healthcheck_argv(db) == ["pg_isready", "-h", "127.0.0.1", "-U", "portal", "-d", "portal"]


def test_the_image_installs_the_lock_and_builds_static_files() -> None:
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install --no-cache-dir --require-hashes -r requirements/base.txt" in dockerfile
    assert re.search(r"^RUN .*\n(?:.*\\\n)*.*manage\.py collectstatic --noinput", dockerfile, re.M)
    assert "USER portal" in dockerfile
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.M)
    assert cmd is not None
    import json

    assert json.loads(cmd.group(1)) == argv(raw_compose()["services"]["web"]["command"])
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", ".git", "var", ".env"} <= set(ignored)


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("${A:-x}", {}, "x"),
        ("${A:-x}", {"A": ""}, "x"),
        ("${A-x}", {"A": ""}, ""),
        ("${A}", {"A": "v"}, "v"),
        ("$A/$$B", {"A": "v"}, "v/$B"),
        ("${A:?need A}", {"A": "v"}, "v"),
    ],
)
def test_interpolation_follows_compose(text: str, env: dict[str, str], expected: str) -> None:
    assert interpolate(text, env) == expected
