"""Named warehouse connections (issue 18): URL templates whose secrets come from the environment.

Pure Python. A connection's URL is stored with ``${NAME}`` where a secret goes
(``postgresql://reader:${FINANCE_WH_PASSWORD}@db:5432/finance``,
``sc://dbc-123.cloud.databricks.com:443/;use_ssl=true;token=${DATABRICKS_TOKEN}``): the database
holds the variable's name, never its value, and the value is read from the environment each
time the connection is opened. ``url_problem`` refuses a template that spells a secret in
clear (a password in the URL's user part, a ``token=``/``password=`` parameter) instead of
naming a variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from urllib.parse import unquote

from .base import WarehouseUnavailable
from .registry import ADAPTERS, url_scheme

REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Parameters that carry a secret in Spark Connect / JDBC-style URLs (``;token=…``, ``?password=``).
SECRET_PARAMS = re.compile(r"(?:^|[;?&])(token|password|secret|access_token)=([^;&]*)", re.I)
DEFAULT_NAME = "default"
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


def references(template: str) -> list[str]:
    """The environment variables ``template`` reads, in order."""
    return REFERENCE.findall(template)


def _only_reference(value: str) -> bool:
    return bool(REFERENCE.fullmatch(unquote(value)))


def url_problem(template: str) -> str | None:
    """Why ``template`` is not an acceptable connection URL, or None."""
    template = template.strip()
    scheme = url_scheme(template)
    if scheme not in ADAPTERS:
        return "the URL must start with duckdb://, postgresql://, sc:// or spark://"
    if scheme in ("postgres", "postgresql"):
        netloc = template.split("://", 1)[1].split("/", 1)[0]
        userinfo = netloc.rpartition("@")[0] if "@" in netloc else ""
        password = userinfo.partition(":")[2] if ":" in userinfo else ""
        if password and not _only_reference(password):
            return "the password must be an environment variable: postgresql://user:${VAR}@host/db"
    for match in SECRET_PARAMS.finditer(template):
        if not _only_reference(match.group(2)):
            return f"{match.group(1)}= must name an environment variable: {match.group(1)}=${{VAR}}"
    return None


def resolve_url(template: str, environ: Mapping[str, str] | None = None) -> str:
    """``template`` with every ``${NAME}`` replaced by the environment's value.

    A missing variable is WarehouseUnavailable naming the variable (never a value).
    """
    env = os.environ if environ is None else environ

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise WarehouseUnavailable(f"environment variable {name} is not set")
        return env[name]

    return REFERENCE.sub(value, template.strip())


def engine_key(template: str) -> str:
    """What identifies the engine behind a connection: its URL template without the database
    part, so two connections to one server (or one DuckDB file) count as one engine."""
    text = template.strip()
    scheme = url_scheme(text)
    if scheme in ("sc", "spark"):
        return ";".join(p for p in text.split(";") if not p.startswith("database="))
    return text
