"""``seed_demo --warehouse``: which role is granted, and one-line refusals (issue 20)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.demo.postgres import display_url, reader_roles

LOADER = "postgresql://warehouse_loader:l0ader@db:5432/warehouse"
READER = "postgresql://warehouse_reader:r3ader@db:5432/warehouse"


def test_the_portals_reader_role_is_granted() -> None:
    assert reader_roles(LOADER, READER) == ["warehouse_reader"]
    assert reader_roles(LOADER, "postgres://warehouse_reader@db/warehouse") == ["warehouse_reader"]


def test_a_loader_that_is_also_the_reader_grants_nothing() -> None:
    assert reader_roles(LOADER, "postgresql://warehouse_loader:x@db:5432/warehouse") == []


@pytest.mark.parametrize(
    ("loader", "reader", "message"),
    [
        ("duckdb:///tmp/x.duckdb", READER, "must be the loader role's URL"),
        ("postgresql://db:5432/warehouse", READER, "must be the loader role's URL"),
        ("postgresql://u:p@db:5432/", READER, "must be the loader role's URL"),
        (LOADER, "duckdb:///var/warehouse.duckdb", "WAREHOUSE_URL must be the portal's reader"),
        (LOADER, "postgresql://db/warehouse", "WAREHOUSE_URL must be the portal's reader"),
        (LOADER, "postgresql://warehouse_reader:r@db:5432/other", "the portal would not see"),
        (LOADER, "postgresql://warehouse_reader:r@db2:5432/warehouse", "the portal would not see"),
    ],
)
def test_urls_that_cannot_work_are_refused(loader: str, reader: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        reader_roles(loader, reader)
    assert "l0ader" not in str(caught.value) and "r3ader" not in str(caught.value)


def test_messages_never_show_a_password() -> None:
    assert display_url(LOADER) == "postgresql://warehouse_loader:***@db:5432/warehouse"
    assert display_url("postgresql://u@h/db") == "postgresql://u@h/db"
    assert "p@ss" not in display_url("postgresql://u:p%40ss@h:1/db")


@pytest.mark.django_db
def test_seed_demo_refuses_a_mismatched_warehouse_in_one_line(settings: Any) -> None:
    settings.WAREHOUSE_URL = "duckdb:///tmp/never.duckdb"
    with pytest.raises(CommandError) as caught:
        call_command("seed_demo", "--warehouse", LOADER, stdout=io.StringIO())
    message = str(caught.value)
    assert message.startswith("--warehouse: WAREHOUSE_URL must be the portal's reader role")
    assert "\n" not in message and "l0ader" not in message


@pytest.mark.django_db
def test_seed_demo_says_postgresql_refused_when_it_cannot_connect(settings: Any) -> None:
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    settings.WAREHOUSE_URL = "postgresql://warehouse_reader:r3ader@127.0.0.1:1/warehouse"
    loader = "postgresql://warehouse_loader:l0ader@127.0.0.1:1/warehouse"
    with pytest.raises(CommandError) as caught:
        call_command("seed_demo", "--warehouse", loader, "--no-checks", stdout=io.StringIO())
    message = str(caught.value)
    assert message.startswith("--warehouse: PostgreSQL refused: ")
    assert "\n" not in message and "l0ader" not in message
