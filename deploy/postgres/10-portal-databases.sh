#!/usr/bin/env bash
# The database container's first start (mounted into /docker-entrypoint-initdb.d, which the
# postgres image runs once, on an empty data volume, as the superuser POSTGRES_USER):
#
#   PORTAL_DB (portal)            the portal's own database, owned by PORTAL_DB_USER (portal):
#                                 a plain login role, not a superuser; migrations run as it.
#   WAREHOUSE_DB (warehouse)      the warehouse, owned by WAREHOUSE_LOADER (warehouse_loader):
#                                 your pipelines load tables into its public schema as that role.
#   WAREHOUSE_READER              the role the portal queries the warehouse with: LOGIN only,
#   (warehouse_reader)            no superuser, no role memberships (so no pg_read_server_files,
#                                 pg_write_server_files, pg_execute_server_program,
#                                 pg_read_all_data), CONNECT on the warehouse database only,
#                                 USAGE on its public schema, every session read-only. It can
#                                 read a table only once it is granted SELECT on it:
#                                   GRANT SELECT ON <table> TO warehouse_reader;
#                                 (README, "Your first data product"). To make every table the
#                                 loader creates later readable instead, run once as the loader:
#                                   ALTER DEFAULT PRIVILEGES FOR ROLE warehouse_loader
#                                     IN SCHEMA public GRANT SELECT ON TABLES TO warehouse_reader;
#
# Passwords come from PORTAL_DB_PASSWORD, WAREHOUSE_LOADER_PASSWORD and
# WAREHOUSE_READER_PASSWORD (docker-compose.yml passes them from .env). Safe to run again, e.g.
# by hand on an existing volume (README, "Upgrades"): what exists is kept, passwords and the
# reader's restrictions are set again. Tested by tests/deploy/test_postgres_init.py.
set -euo pipefail

PORTAL_DB=${PORTAL_DB:-portal}
PORTAL_DB_USER=${PORTAL_DB_USER:-portal}
WAREHOUSE_DB=${WAREHOUSE_DB:-warehouse}
WAREHOUSE_LOADER=${WAREHOUSE_LOADER:-warehouse_loader}
WAREHOUSE_READER=${WAREHOUSE_READER:-warehouse_reader}
: "${PORTAL_DB_PASSWORD:?set PORTAL_DB_PASSWORD (password of the portal role)}"
: "${WAREHOUSE_LOADER_PASSWORD:?set WAREHOUSE_LOADER_PASSWORD (password of the warehouse loader role)}"
: "${WAREHOUSE_READER_PASSWORD:?set WAREHOUSE_READER_PASSWORD (password of the warehouse reader role)}"

for var in PORTAL_DB PORTAL_DB_USER WAREHOUSE_DB WAREHOUSE_LOADER WAREHOUSE_READER; do
  if ! [[ ${!var} =~ ^[a-z_][a-z0-9_]{0,62}$ ]]; then
    echo "portal init: $var must be a lowercase SQL name (letters, digits, '_'), not '${!var}'" >&2
    exit 1
  fi
done
if [ "$WAREHOUSE_READER" = "$WAREHOUSE_LOADER" ] || [ "$WAREHOUSE_READER" = "$PORTAL_DB_USER" ]; then
  echo "portal init: WAREHOUSE_READER must be a role of its own" >&2
  exit 1
fi
if [ "${POSTGRES_USER:-postgres}" = "$PORTAL_DB_USER" ]; then
  # A volume from an older compose file, where the portal role was the superuser: the script
  # would take the superuser attribute from the role it runs as (README, "Upgrades").
  echo "portal init: run this as a superuser other than $PORTAL_DB_USER (POSTGRES_USER)" >&2
  exit 1
fi
if [ "$PORTAL_DB" = "$WAREHOUSE_DB" ]; then
  echo "portal init: PORTAL_DB and WAREHOUSE_DB must differ" >&2
  exit 1
fi
export PORTAL_DB PORTAL_DB_USER WAREHOUSE_DB WAREHOUSE_LOADER WAREHOUSE_READER

# Names and passwords reach SQL only through psql variables (\getenv, then :"name" quotes an
# identifier and :'value' a literal), never spliced into the text by the shell.
run_psql() {
  psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet --username "${POSTGRES_USER:-postgres}" "$@"
}
vars='
\getenv portal_db PORTAL_DB
\getenv portal_user PORTAL_DB_USER
\getenv portal_password PORTAL_DB_PASSWORD
\getenv warehouse_db WAREHOUSE_DB
\getenv loader WAREHOUSE_LOADER
\getenv loader_password WAREHOUSE_LOADER_PASSWORD
\getenv reader WAREHOUSE_READER
\getenv reader_password WAREHOUSE_READER_PASSWORD
'

run_psql --dbname "${POSTGRES_DB:-${POSTGRES_USER:-postgres}}" <<SQL
$vars
-- Roles: created once; attributes and passwords set on every run.
SELECT format('CREATE ROLE %I', r) FROM unnest(ARRAY[:'portal_user', :'loader', :'reader']) AS r
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) \gexec
ALTER ROLE :"portal_user" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'portal_password';
ALTER ROLE :"loader" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'loader_password';
ALTER ROLE :"reader" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'reader_password';
-- Every session of the reader is read-only, whatever the client asks for.
ALTER ROLE :"reader" SET default_transaction_read_only = on;
-- No role memberships at all: the predefined pg_read_server_files, pg_write_server_files,
-- pg_execute_server_program, pg_read_all_data ... and any group someone added.
SELECT format('REVOKE %I FROM %I', g.rolname, :'reader')
  FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
 WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = :'reader') \gexec

-- Databases: created once, each owned by its role; nobody else may connect.
SELECT format('CREATE DATABASE %I OWNER %I', :'portal_db', :'portal_user')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'portal_db') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'warehouse_db', :'loader')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'warehouse_db') \gexec
ALTER DATABASE :"portal_db" OWNER TO :"portal_user";
ALTER DATABASE :"warehouse_db" OWNER TO :"loader";
REVOKE ALL ON DATABASE :"portal_db" FROM PUBLIC;
REVOKE ALL ON DATABASE :"warehouse_db" FROM PUBLIC;
REVOKE ALL ON DATABASE :"portal_db" FROM :"reader";
GRANT CONNECT ON DATABASE :"warehouse_db" TO :"reader";
SQL

run_psql --dbname "$WAREHOUSE_DB" <<SQL
$vars
-- The warehouse's public schema: the loader creates tables in it; the reader may look them up
-- (USAGE) but reads only the tables it is granted SELECT on, one by one.
ALTER SCHEMA public OWNER TO :"loader";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"reader";
SQL

echo "portal init: databases $PORTAL_DB and $WAREHOUSE_DB; roles $PORTAL_DB_USER, $WAREHOUSE_LOADER, $WAREHOUSE_READER (SELECT only on granted tables)"
