"""The db container's first start: databases and roles, and what the reader can NOT do (issue 20).

deploy/postgres/10-portal-databases.sh runs against a scratch cluster exactly as the postgres
image runs it (superuser, local socket, the db service's environment from docker-compose.yml);
then each role connects over TCP with its password, as the portal's services do.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from psycopg import errors

from tests.deploy.cluster import Cluster, run_init_scripts
from tests.deploy.compose import environment, load_compose

pytestmark = pytest.mark.integration

# Roles that would open the server's files or programs to the reader.
DANGEROUS_ROLES = (
    "pg_read_server_files",
    "pg_write_server_files",
    "pg_execute_server_program",
    "pg_read_all_data",
    "pg_write_all_data",
)


@pytest.fixture(scope="module")
def loaded(deployed_cluster: Cluster, deploy_secrets: dict[str, str]) -> Iterator[Cluster]:
    """The loader's two tables: one granted to the reader (as the README says), one not."""
    loader = deployed_cluster.url(
        "warehouse_loader", deploy_secrets["WAREHOUSE_LOADER_PASSWORD"], "warehouse"
    )
    with psycopg.connect(loader, autocommit=True) as conn:
        conn.execute("CREATE TABLE marketing_signups (email text, signed_up_at timestamptz)")
        conn.execute("INSERT INTO marketing_signups VALUES ('a@example.com', now())")
        conn.execute("CREATE TABLE finance_salaries (name text, cents bigint)")
        conn.execute("INSERT INTO finance_salaries VALUES ('ceo', 100000000)")
        conn.execute("GRANT SELECT ON marketing_signups TO warehouse_reader")
    yield deployed_cluster


def reader(
    cluster: Cluster, secrets: dict[str, str], database: str = "warehouse"
) -> psycopg.Connection:
    url = cluster.url("warehouse_reader", secrets["WAREHOUSE_READER_PASSWORD"], database)
    return psycopg.connect(url, autocommit=True)


def superuser(cluster: Cluster, database: str = "postgres") -> psycopg.Connection:
    return psycopg.connect(
        host=str(cluster.socket_dir), port=cluster.port, user="postgres", dbname=database,
        autocommit=True,
    )  # fmt: skip


def test_the_reader_reads_a_granted_table(loaded: Cluster, deploy_secrets: dict[str, str]) -> None:
    with reader(loaded, deploy_secrets) as conn:
        assert conn.execute("SELECT count(*) FROM marketing_signups").fetchone() == (1,)


def test_the_reader_cannot_read_a_table_it_was_not_granted(
    loaded: Cluster, deploy_secrets: dict[str, str]
) -> None:
    with reader(loaded, deploy_secrets) as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute("SELECT * FROM finance_salaries")


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO marketing_signups VALUES ('x@example.com', now())",
        "UPDATE marketing_signups SET email = 'x'",
        "DELETE FROM marketing_signups",
        "TRUNCATE marketing_signups",
        "CREATE TABLE mine (x int)",
        "GRANT SELECT ON finance_salaries TO warehouse_reader",
    ],
)
def test_the_reader_cannot_write_even_after_leaving_read_only_mode(
    loaded: Cluster, deploy_secrets: dict[str, str], statement: str
) -> None:
    with reader(loaded, deploy_secrets) as conn:
        # Sessions start read-only...
        with pytest.raises((errors.ReadOnlySqlTransaction, errors.InsufficientPrivilege)):
            conn.execute(statement)
        # ...and the role's rights refuse the write anyway.
        conn.execute("SET default_transaction_read_only = off")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(statement)
    with superuser(loaded, "warehouse") as conn:
        assert conn.execute("SELECT count(*) FROM marketing_signups").fetchone() == (1,)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT pg_read_binary_file('/etc/passwd')",
        "SELECT pg_ls_dir('/')",
        "SELECT pg_stat_file('/etc/passwd')",
        "SELECT lo_import('/etc/passwd')",
        "SELECT lo_export(1, '/tmp/portal-stolen')",
        "COPY marketing_signups TO PROGRAM 'touch /tmp/portal-owned'",
        "COPY (SELECT 1) TO PROGRAM 'touch /tmp/portal-owned'",
        "COPY marketing_signups FROM PROGRAM 'echo x'",
        "COPY marketing_signups TO '/tmp/portal-stolen'",
        "COPY marketing_signups FROM '/etc/passwd'",
        "CREATE EXTENSION IF NOT EXISTS dblink",
        "SET ROLE warehouse_loader",
        "SET ROLE postgres",
    ],
)
def test_the_reader_has_no_file_or_program_access(
    loaded: Cluster, deploy_secrets: dict[str, str], statement: str
) -> None:
    with reader(loaded, deploy_secrets) as conn:
        conn.execute("SET default_transaction_read_only = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)


def test_the_reader_connects_to_the_warehouse_only(
    loaded: Cluster, deploy_secrets: dict[str, str]
) -> None:
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        reader(loaded, deploy_secrets, database="portal").close()
    portal = loaded.url("portal", deploy_secrets["PORTAL_DB_PASSWORD"], "warehouse")
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(portal).close()
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(loaded.url("warehouse_reader", "wrong", "warehouse")).close()


def test_the_roles_attributes_and_memberships(loaded: Cluster) -> None:
    with superuser(loaded) as conn:
        rows = conn.execute(
            "SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolreplication, "
            "rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = ANY(%s) ORDER BY rolname",
            [["portal", "warehouse_loader", "warehouse_reader"]],
        ).fetchall()
        assert rows == [
            ("portal", False, False, False, False, False, True),
            ("warehouse_loader", False, False, False, False, False, True),
            ("warehouse_reader", False, False, False, False, False, True),
        ]
        for role in DANGEROUS_ROLES:
            member = conn.execute(
                "SELECT pg_has_role('warehouse_reader', %s, 'MEMBER')", [role]
            ).fetchone()
            assert member == (False,), role
        owners: dict[str, str] = dict(
            conn.execute(
                "SELECT datname, pg_get_userbyid(datdba) FROM pg_database "
                "WHERE datname IN ('portal', 'warehouse')"
            ).fetchall()
        )
        assert owners == {"portal": "portal", "warehouse": "warehouse_loader"}


def test_running_the_script_again_keeps_data_and_takes_back_extra_rights(
    loaded: Cluster, deploy_secrets: dict[str, str]
) -> None:
    with superuser(loaded) as conn:
        conn.execute("GRANT pg_read_server_files TO warehouse_reader")
        conn.execute("ALTER ROLE warehouse_reader SUPERUSER")
    db_env = environment(load_compose(deploy_secrets)["services"]["db"])
    run_init_scripts(loaded, db_env)
    with superuser(loaded) as conn:
        assert conn.execute(
            "SELECT pg_has_role('warehouse_reader', 'pg_read_server_files', 'MEMBER'), "
            "rolsuper FROM pg_roles WHERE rolname = 'warehouse_reader'"
        ).fetchone() == (False, False)
    with reader(loaded, deploy_secrets) as conn:
        assert conn.execute("SELECT count(*) FROM marketing_signups").fetchone() == (1,)
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("SELECT pg_read_file('/etc/passwd')")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"WAREHOUSE_READER_PASSWORD": ""}, "set WAREHOUSE_READER_PASSWORD"),
        ({"PORTAL_DB_PASSWORD": ""}, "set PORTAL_DB_PASSWORD"),
        (
            {"WAREHOUSE_READER": "Reader; DROP ROLE postgres"},
            "WAREHOUSE_READER must be a lowercase",
        ),
        ({"WAREHOUSE_READER": "warehouse_loader"}, "must be a role of its own"),
        ({"WAREHOUSE_DB": "portal"}, "must differ"),
        ({"POSTGRES_USER": "portal"}, "run this as a superuser other than portal"),
    ],
)
def test_bad_settings_stop_the_script_with_one_line_before_any_sql(
    loaded: Cluster, deploy_secrets: dict[str, str], change: dict[str, str], message: str
) -> None:
    db_env = {**environment(load_compose(deploy_secrets)["services"]["db"]), **change}
    result = run_init_scripts(loaded, db_env, check=False)
    assert result.returncode != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    with superuser(loaded) as conn:
        assert conn.execute(
            "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'reader%'"
        ).fetchone() == (0,)
