"""Baseline: the ledger's tables as they stood when migrations began.

Ledgers made before then are stamped at this revision without running it (``station.schema``);
it runs only to build a database from nothing through Alembic alone. The SQL is frozen here on
purpose: a revision records history, and ``tables.SCHEMA`` moves on.

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

import re

from alembic import op

from station.schema import adapt

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BASELINE = """
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

TABLES = (
    "params", "agents", "terminals", "operators", "customers", "bills", "cards", "requests",
    "settlements",
)  # fmt: skip


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    bare = re.sub(r"--[^\n]*", "", adapt(BASELINE, dialect))  # comments hold semicolons
    for statement in bare.split(";"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.execute(f"DROP TABLE IF EXISTS {table}")
