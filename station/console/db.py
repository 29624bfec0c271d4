"""The console's one door to the database: an engine on the station's database URL, and the
conversions every page needs (station days to UTC bounds, fen to yuan).

SQLAlchemy Core ``text()`` with named parameters is used rather than an ORM: the station owns
its tables and their names, and the console only reads them (and writes the few columns a
manager changes), so plain SQL that runs on both SQLite and PostgreSQL is the honest form.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError

from station.answers import STATION_TZ

DbError = SQLAlchemyError  # what a failed query raises; pages show "操作异常！"
Row = Mapping[str, Any]


def database_url(where: str) -> str:
    """A URL as given (``postgresql://…``, ``sqlite:///…``), or a bare path as SQLite."""
    return where if "://" in where else f"sqlite:///{where}"


def make_engine(where: str) -> Engine:
    url = database_url(where)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record) -> None:  # the station's own settings
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=15000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        yield connection


def rows(connection: Connection, sql: str, **params: Any) -> list[Row]:
    """All rows of a query as mappings; list parameters expand (``IN :agents``)."""
    statement = text(sql)
    expanding = [bindparam(k, expanding=True) for k, v in params.items() if isinstance(v, list)]
    if expanding:
        statement = statement.bindparams(*expanding)
    return [dict(r) for r in connection.execute(statement, params).mappings()]


def one(connection: Connection, sql: str, **params: Any) -> Row | None:
    found = rows(connection, sql, **params)
    return found[0] if found else None


def run(connection: Connection, sql: str, **params: Any) -> int:
    """A write; returns the number of rows it changed."""
    return connection.execute(text(sql), params).rowcount


def now_utc() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return now_utc().astimezone(STATION_TZ).date()


def day_bounds(first: date, last: date) -> tuple[str, str]:
    """The station's days ``first``..``last`` (China time) as UTC ISO bounds [start, end), in
    the form the station stores its times, so that text comparison is time comparison."""
    start = datetime.combine(first, time(0), STATION_TZ).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), STATION_TZ).astimezone(UTC)
    return start.isoformat(), end.isoformat()


def local_time(stored: str | None) -> str:
    """A stored UTC time shown in the station's time zone, to the second."""
    if not stored:
        return ""
    try:
        when = datetime.fromisoformat(str(stored).replace(" ", "T"))
    except ValueError:
        return str(stored)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(STATION_TZ).strftime("%Y-%m-%d %H:%M:%S")


def local_day(stored: str) -> date:
    when = datetime.fromisoformat(str(stored).replace(" ", "T"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(STATION_TZ).date()


def yuan(fen: int | None) -> str:
    """Integer fen as yuan with two decimals (money is never a float)."""
    value = Decimal(int(fen or 0)) / 100
    return f"{value:,.2f}"
