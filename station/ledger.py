"""The station's SQLite ledger: terminals, agents, operators, customers, bills, cards, postings.

The standard library's ``sqlite3`` is used directly rather than sqlite-utils: posting one payment
touches four tables and must be one atomic transaction (``with ledger.atomic():``), which plain
``sqlite3`` expresses most clearly. WAL with ``synchronous=FULL``: a posting the station has
answered survives a station crash.

Every keyed request is a row of ``requests``, unique on (terminal, batch, trace); the stored
response is what a repeat gets back. ``effects`` records exactly what a posting changed, so a
reversal undoes exactly that and nothing else.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS params (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS agents (
    agent_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    deposit_fen INTEGER NOT NULL,          -- 保证金 paid in by the agent
    available_fen INTEGER NOT NULL,        -- what the agent may still collect
    offline_limit_fen INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS terminals (
    terminal_id TEXT PRIMARY KEY,
    agent_id TEXT NOT NULL REFERENCES agents(agent_id),
    master_key TEXT NOT NULL,              -- TMK, hex
    mac_key TEXT,                          -- working key of the current sign-on, hex
    locked INTEGER NOT NULL DEFAULT 0,
    batch INTEGER NOT NULL DEFAULT 1,      -- the open batch
    last_trace INTEGER NOT NULL DEFAULT 0, -- highest trace seen from this terminal
    command INTEGER NOT NULL DEFAULT 0,    -- pending station command for the heartbeat
    status TEXT                            -- last heartbeat status, for the operator console
);
CREATE TABLE IF NOT EXISTS operators (
    account TEXT PRIMARY KEY,
    agent_id TEXT NOT NULL REFERENCES agents(agent_id),
    salt TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    locked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS customers (
    customer_no TEXT PRIMARY KEY,          -- 户号, 10 digits
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    meter_kind INTEGER NOT NULL,           -- 1 postpaid, 2 card prepaid, 3 remote prepaid
    meter_no TEXT NOT NULL,
    credit_fen INTEGER NOT NULL DEFAULT 0, -- prepaid credit carried to coming bills
    purchase_count INTEGER NOT NULL DEFAULT 0,
    last_reading INTEGER NOT NULL DEFAULT 0 -- 0.1 kWh
);
CREATE TABLE IF NOT EXISTS bills (
    customer_no TEXT NOT NULL REFERENCES customers(customer_no),
    month INTEGER NOT NULL,                -- YYYYMM
    kwh INTEGER NOT NULL,
    amount_fen INTEGER NOT NULL,
    paid_fen INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (customer_no, month)
);
CREATE TABLE IF NOT EXISTS cards (
    serial TEXT PRIMARY KEY,               -- hex
    customer_no TEXT NOT NULL REFERENCES customers(customer_no),
    valid INTEGER NOT NULL DEFAULT 1       -- 0 once reissued
);
CREATE TABLE IF NOT EXISTS requests (
    terminal_id TEXT NOT NULL,
    batch INTEGER NOT NULL,
    trace INTEGER NOT NULL,
    fingerprint TEXT,                      -- of the original request; NULL when only reversed
    kind INTEGER,                          -- TxnKind of a financial request, else NULL
    customer_no TEXT,
    amount_fen INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,                   -- answered, posted, declined, reversed, void
    effects TEXT,                          -- JSON: what the posting changed
    response BLOB,                         -- encoded answer (without MAC) for repeats
    confirmed INTEGER NOT NULL DEFAULT 0,  -- completion advice received
    reversal_response BLOB,
    time TEXT NOT NULL,                    -- UTC ISO 8601
    PRIMARY KEY (terminal_id, batch, trace)
);
CREATE TABLE IF NOT EXISTS settlements (
    terminal_id TEXT NOT NULL,
    batch INTEGER NOT NULL,
    response BLOB NOT NULL,
    time TEXT NOT NULL,
    PRIMARY KEY (terminal_id, batch)
);
"""


class Ledger:
    """One SQLite connection; the server handles one request at a time on it."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def atomic(self) -> Iterator[sqlite3.Connection]:
        """All or nothing: a request's changes are committed together or not at all."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def one(self, sql: str, *args: object) -> sqlite3.Row | None:
        return self.db.execute(sql, args).fetchone()

    def all(self, sql: str, *args: object) -> list[sqlite3.Row]:
        return self.db.execute(sql, args).fetchall()

    def run(self, sql: str, *args: object) -> None:
        self.db.execute(sql, args)

    def param(self, name: str, default: str | None = None) -> str | None:
        row = self.one("SELECT value FROM params WHERE name = ?", name)
        return row["value"] if row else default

    def set_param(self, name: str, value: str) -> None:
        self.run("INSERT OR REPLACE INTO params (name, value) VALUES (?, ?)", name, value)

    def posted_amounts(self, terminal_id: str) -> dict[tuple[int, int], int]:
        """What the station holds as posted for one terminal: (batch, trace) -> amount (fen)."""
        rows = self.all(
            "SELECT batch, trace, amount_fen FROM requests WHERE terminal_id = ?"
            " AND state = 'posted' AND kind IS NOT NULL",
            terminal_id,
        )
        return {(row["batch"], row["trace"]): row["amount_fen"] for row in rows}
