"""The ledger's schema on either database: built whole when the database is new, migrated by
Alembic when it is older than this code.

``tables.SCHEMA`` is the schema as it stands now, the one place table and column names are
written. A new database gets it in one transaction and is stamped at the newest revision
(Alembic's own recipe for "an up to date database from scratch"); a database at an older
revision is upgraded by Alembic through ``station/migrations/versions``; a ledger made before
migrations existed has the baseline's tables and is stamped at the baseline first. After that,
every start runs ``SCHEMA`` again, whose ``CREATE TABLE IF NOT EXISTS`` adds the tables appended
to it since: a new table needs no revision, a change to an existing table does (see
``docs/storage.md``).

A SQLite station that is new or already at ``HEAD`` never imports Alembic or SQLAlchemy (a third
of a second each start); ``HEAD`` names the newest revision and a test keeps it in step with the
revision files.
"""

from __future__ import annotations

from pathlib import Path

from station.db import Database, sqlalchemy_url

HEAD = "0001"  # the newest revision in station/migrations/versions
BASELINE = "0001"  # the schema ledgers had before migrations: they are stamped at it
VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL,"
    " CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));"
)
# PostgreSQL alone: station references (``Ledger.next_ref``) from a sequence, so that postings
# of different agents in different processes never wait for one another on one counter row.
POSTGRES_ONLY = "CREATE SEQUENCE IF NOT EXISTS station_ref MINVALUE 1 MAXVALUE 9999999999 CYCLE;"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def adapt(ddl: str, dialect: str) -> str:
    """The portable DDL of ``tables.SCHEMA`` in ``dialect``: PostgreSQL calls BLOB bytea.

    INTEGER stays INTEGER on PostgreSQL (32 bits): the amounts the wire carries (field 54: due,
    credit, the agent's limit) are 32-bit, and sums and counts of 32-bit integers come back as
    Python ints, where sums of BIGINT would come back as Decimals.
    """
    if dialect == "postgresql":
        return ddl.replace(" BLOB", " BYTEA")
    return ddl


def version(db: Database) -> str | None:
    """The revision the database is stamped at, None if it was never stamped."""
    if not db.has_table("alembic_version"):
        return None
    row = db.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


def stamp_sql(revision: str) -> str:
    return f"{VERSION_TABLE} DELETE FROM alembic_version;" + (
        f" INSERT INTO alembic_version (version_num) VALUES ('{revision}');"
    )


def prepare(db: Database, target: str | Path, schema: str) -> None:
    """Bring the database at ``target`` (open as ``db``) to this code's ``schema``."""
    tables = adapt(schema, db.dialect) + (POSTGRES_ONLY if db.dialect == "postgresql" else "")
    with db.schema_lock():
        found = version(db)
        if found is None and not db.has_table("agents"):
            db.script(f"BEGIN; {tables} {stamp_sql(HEAD)} COMMIT;")
            return
        if found is None:
            db.script(f"BEGIN; {stamp_sql(BASELINE)} COMMIT;")
            found = BASELINE
        if found != HEAD:
            upgrade(target)
        db.script(tables)


def alembic_config(target: str | Path):  # -> alembic.config.Config, imported lazily
    """Alembic's configuration for ``target``, without an alembic.ini: the scripts are ours."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = sqlalchemy_url(target)  # attributes: no %-interpolation
    return config


def upgrade(target: str | Path, revision: str = "head") -> None:
    """Alembic's upgrade of the database at ``target`` (its own SQLAlchemy connection)."""
    from alembic import command

    command.upgrade(alembic_config(target), revision)
