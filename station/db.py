"""Connections to the station's database: SQLite (the embedded default) or PostgreSQL.

The ledger writes its SQL once, in the subset both databases understand, with ``?`` for
parameters; this module is the only place that knows which database is behind it. It opens the
connection, turns ``?`` into psycopg's ``%s``, gives PostgreSQL rows that read like
``sqlite3.Row`` (by name and by position), frames transactions and says how a row is locked.

The drivers are used directly (``sqlite3``, ``psycopg``) rather than through SQLAlchemy's engine:
a request is a dozen short statements and the SQL text stays readable in ``ledger.py``.
SQLAlchemy is used where it earns its keep, under Alembic for migrations (``station.schema``).
psycopg is imported only for a PostgreSQL target: a SQLite station starts without loading it.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

POSTGRES_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")


def is_postgres(target: str | Path) -> bool:
    """A PostgreSQL URL (``postgresql://user@host/db``); anything else is a SQLite file."""
    return str(target).startswith(POSTGRES_SCHEMES)


def libpq_url(target: str) -> str:
    """The URL as libpq reads it (SQLAlchemy's ``+psycopg`` driver suffix taken off)."""
    return target.replace("postgresql+psycopg://", "postgresql://", 1)


def shown(target: str | Path) -> str:
    """The target as it may be printed or logged: a URL's password replaced by ``***``."""
    import re

    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", str(target))


def with_search_path(url: str, schema: str) -> str:
    """The URL with libpq's ``options`` set so that its tables live in ``schema``."""
    from urllib.parse import quote

    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options={quote(f'-csearch_path={schema}', safe='')}"


def sqlalchemy_url(target: str | Path) -> str:
    """The same database as SQLAlchemy names it, for Alembic."""
    text = str(target)
    if is_postgres(text):
        return "postgresql+psycopg://" + libpq_url(text).split("://", 1)[1]
    return f"sqlite:///{Path(text).resolve()}"


class PgRow(tuple):
    """A PostgreSQL row read like ``sqlite3.Row``: ``row["name"]``, ``row[0]``, ``keys()``."""

    _index: dict[str, int]

    def __new__(cls, values: Sequence[Any], index: dict[str, int]) -> PgRow:
        row = super().__new__(cls, values)
        row._index = index
        return row

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


Row = sqlite3.Row | PgRow


@functools.lru_cache(maxsize=512)
def _pyformat(sql: str) -> str:
    """``?`` parameters as psycopg's ``%s`` (a literal ``%`` doubled); the ledger's SQL has no
    ``?`` inside string literals."""
    return sql.replace("%", "%%").replace("?", "%s")


class Database:
    """One connection. ``dialect`` is ``sqlite`` or ``postgresql``; ``for_update`` is what
    follows a SELECT that must lock the rows it reads until the transaction ends."""

    dialect = "sqlite"
    for_update = ""

    def __init__(self, path: str | Path) -> None:
        self.conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA foreign_keys=ON")

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self.conn.execute(sql, args)

    def script(self, ddl: str) -> None:
        """Several statements without parameters (a schema)."""
        self.conn.executescript(ddl)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE: the write lock is taken at the start, so two stations on one file
        take turns instead of failing halfway through a request."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def has_table(self, name: str) -> bool:
        found = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).fetchone()
        return found is not None

    @contextlib.contextmanager
    def schema_lock(self) -> Iterator[None]:
        """Only one process prepares the schema at a time (SQLite: the file's write lock is
        taken by each statement; nothing more is needed for CREATE ... IF NOT EXISTS)."""
        yield

    def close(self) -> None:
        self.conn.close()


class PostgresDatabase(Database):
    """A psycopg 3 connection in autocommit; ``transaction()`` frames a request's statements.

    A connection the server dropped (a restart, a failover, an administrator) is opened again
    before the next statement outside a transaction: the request that met the break is
    answered 96 and repeated by its terminal, and the station goes on without a restart.
    """

    dialect = "postgresql"
    for_update = " FOR UPDATE"
    SCHEMA_LOCK_KEY = 0x67726964  # any fixed number shared by every station process

    def __init__(self, url: str) -> None:
        self.url = libpq_url(url)
        self.in_transaction = False
        self.conn = self._connect()

    def _connect(self) -> Any:
        import psycopg

        return psycopg.connect(self.url, autocommit=True, row_factory=_pg_rows)

    def _live(self) -> Any:
        if self.conn.broken and not self.in_transaction:
            self.conn.close()
            self.conn = self._connect()
        return self.conn

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self._live().execute(_pyformat(sql), tuple(args))

    def script(self, ddl: str) -> None:
        self.conn.execute(ddl)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        outer = self.in_transaction  # a nested transaction is a savepoint of the outer one
        with self._live().transaction():
            self.in_transaction = True
            try:
                yield
            finally:
                self.in_transaction = outer

    def has_table(self, name: str) -> bool:
        row = self.conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()
        return bool(row[0])

    @contextlib.contextmanager
    def schema_lock(self) -> Iterator[None]:
        """Station processes starting together on one database build or upgrade it once."""
        self.conn.execute("SELECT pg_advisory_lock(%s)", (self.SCHEMA_LOCK_KEY,))
        try:
            yield
        finally:
            self.conn.execute("SELECT pg_advisory_unlock(%s)", (self.SCHEMA_LOCK_KEY,))


def _pg_rows(cursor: Any) -> Any:
    """psycopg row factory: ``PgRow`` with the cursor's column names."""
    names = [column.name for column in cursor.description or ()]
    index = {name: i for i, name in enumerate(names)}
    return lambda values: PgRow(values, index)


def open_database(target: str | Path) -> Database:
    """A connection to ``target``: a PostgreSQL URL or a SQLite file (created if missing)."""
    if is_postgres(target):
        return PostgresDatabase(str(target))
    return Database(target)
