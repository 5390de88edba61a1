"""Read docker-compose.yml as Docker Compose would, without Docker (no daemon on CI machines).

``load_compose(env)`` parses the file (YAML merge keys included) and interpolates ``${VAR}``,
``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?error}``, ``${VAR?error}`` and ``$$`` the way
Compose does, raising MissingVariable for a required variable that is not set. The helpers
turn a service into what a test can run: its argv, environment and health check, with the
compose host names (``db:5432``, ``redis:6379``) replaced by local addresses.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
PORTAL_SERVICES = ("migrate", "web", "worker", "beat", "demo")
# Every secret the stack needs, each required by ``${VAR:?…}`` in the file.
SECRETS = (
    "SECRET_KEY",
    "PII_HASH_KEY",
    "POSTGRES_PASSWORD",
    "PORTAL_DB_PASSWORD",
    "WAREHOUSE_LOADER_PASSWORD",
    "WAREHOUSE_READER_PASSWORD",
)

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariable(Exception):
    """A ``${VAR:?message}`` whose variable is unset or empty."""

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        super().__init__(f"required variable {name} is missing a value: {message}")


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """``text`` with every variable substituted from ``env``, as Compose does."""

    def substitute(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        name = match.group("braced") or match.group("plain")
        op, arg = match.group("op"), match.group("arg") or ""
        present, value = name in env, env.get(name, "")
        if op == ":-":
            return value if value else arg
        if op == "-":
            return value if present else arg
        if op == ":?" and not value or op == "?" and not present:
            raise MissingVariable(name, arg)
        return value

    return _VARIABLE.sub(substitute, text)


def _walk(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [_walk(item, env) for item in node]
    if isinstance(node, dict):
        return {key: _walk(value, env) for key, value in node.items()}
    return node


def raw_compose() -> dict[str, Any]:
    """The file as YAML, merge keys resolved, nothing interpolated."""
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def load_compose(env: Mapping[str, str]) -> dict[str, Any]:
    """The file with every variable interpolated from ``env`` (raises MissingVariable)."""
    return _walk(raw_compose(), env)


def sample_secrets() -> dict[str, str]:
    """Values for every secret: random-looking, URL-safe, each different."""
    import secrets

    return {name: secrets.token_hex(24) for name in SECRETS}


def argv(command: str | list[str]) -> list[str]:
    """A service's ``command`` as Compose runs it: a string is split like a shell would."""
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    """A service's environment as strings (mapping or ``KEY=value`` list form)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def healthcheck_argv(service: Mapping[str, Any]) -> list[str]:
    """The health check's command: ``CMD`` runs as is, ``CMD-SHELL`` and strings through sh."""
    test = service["healthcheck"]["test"]
    if isinstance(test, str):
        return ["sh", "-c", test]
    kind, *rest = test
    if kind == "CMD":
        return [str(part) for part in rest]
    if kind == "CMD-SHELL":
        return ["sh", "-c", str(rest[0])]
    raise ValueError(f"unknown healthcheck form {kind!r}")


def depends_on(service: Mapping[str, Any]) -> dict[str, str]:
    """``{service: condition}``; a bare list means ``service_started``."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def localize(text: str, addresses: Mapping[str, str]) -> str:
    """Replace compose host:port pairs (``db:5432``) by local ones (``127.0.0.1:54321``)."""
    for compose_address, local in addresses.items():
        text = text.replace(f"@{compose_address}/", f"@{local}/")
        text = text.replace(f"//{compose_address}/", f"//{local}/")
    return text
