"""The console's own tables, and the demo organisation and accounts.

The station's tables are untouched: the console adds its own beside them, named ``console_*``.
The organisation tree is company → 供电所 (power supply station) → collection point (代收点);
each agent (the station's ``agents``) belongs to one collection point. Column types are the
common subset of SQLite and PostgreSQL, so the same statements create them on both.
"""

from __future__ import annotations

from sqlalchemy import Engine

from station.console.db import one, run

COMPANY, STATION, POINT = "company", "station", "point"  # organisation kinds
ROLE_OF_KIND = {COMPANY: "company", STATION: "station"}  # an account's role follows its org
AGENT_ROLE = "agent"

TABLES = (
    """CREATE TABLE IF NOT EXISTS console_orgs (
        org_id VARCHAR(20) PRIMARY KEY,
        parent_id VARCHAR(20),
        kind VARCHAR(10) NOT NULL,             -- company, station (供电所), point (代收点)
        name VARCHAR(60) NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS console_agent_orgs (
        agent_id VARCHAR(15) PRIMARY KEY,      -- the station's agents.agent_id
        org_id VARCHAR(20) NOT NULL            -- the collection point it works for
    )""",
    """CREATE TABLE IF NOT EXISTS console_accounts (
        account VARCHAR(30) PRIMARY KEY,
        name VARCHAR(40) NOT NULL,
        org_id VARCHAR(20) NOT NULL,
        role VARCHAR(10) NOT NULL,             -- company, station, agent
        agent_id VARCHAR(15),                  -- the agent an agent account is
        password_hash VARCHAR(200) NOT NULL,   -- argon2id
        failures INTEGER NOT NULL DEFAULT 0,
        locked_until VARCHAR(40)               -- UTC ISO 8601; NULL: not locked
    )""",
    """CREATE TABLE IF NOT EXISTS console_topups (
        topup_id VARCHAR(40) PRIMARY KEY,      -- the form's one-time token: a resubmit is no-op
        agent_id VARCHAR(15) NOT NULL,
        amount_fen BIGINT NOT NULL,
        deposit_after_fen BIGINT NOT NULL,
        available_after_fen BIGINT NOT NULL,
        account VARCHAR(30) NOT NULL,
        note VARCHAR(80) NOT NULL,
        time VARCHAR(40) NOT NULL              -- UTC ISO 8601
    )""",
    """CREATE TABLE IF NOT EXISTS console_commands (
        command_id VARCHAR(40) PRIMARY KEY,
        terminal_id VARCHAR(8) NOT NULL,
        command INTEGER NOT NULL,              -- field 59: 1 lock, 2 unlock, 3 sign on again
        account VARCHAR(30) NOT NULL,
        requested_at VARCHAR(40) NOT NULL,
        confirmed_at VARCHAR(40)               -- the terminal's confirming heartbeat
    )""",
)

DEMO_PASSWORD = "console123"
DEMO_ORGS = (
    ("C01", None, COMPANY, "县供电公司"),
    ("S01", "C01", STATION, "城关供电所"),
    ("S02", "C01", STATION, "青山供电所"),
    ("P01", "S01", POINT, "城关镇代收点"),
    ("P02", "S02", POINT, "青山乡营业厅"),
    ("P03", "S02", POINT, "石门村代收点"),
)
DEMO_AGENT_ORGS = (("A0001", "P01"), ("A0002", "P02"), ("A0003", "P03"))
# (account, name, org, role, agent)
DEMO_ACCOUNTS = (
    ("admin", "公司管理员", "C01", "company", None),
    ("chengguan", "城关供电所", "S01", "station", None),
    ("qingshan", "青山供电所", "S02", "station", None),
    ("a0001", "城关镇代收点", "P01", AGENT_ROLE, "A0001"),
    ("a0003", "石门村电工", "P03", AGENT_ROLE, "A0003"),
)


def create(engine: Engine) -> None:
    with engine.begin() as connection:
        for statement in TABLES:
            run(connection, statement)


def seed_demo(engine: Engine) -> bool:
    """The demo organisation and accounts, once; False when accounts already exist."""
    from station.console.auth import hash_password

    create(engine)
    with engine.begin() as connection:
        if one(connection, "SELECT account FROM console_accounts LIMIT 1") is not None:
            return False
        for org_id, parent, kind, name in DEMO_ORGS:
            run(
                connection,
                "INSERT INTO console_orgs (org_id, parent_id, kind, name)"
                " VALUES (:org_id, :parent, :kind, :name)",
                org_id=org_id,
                parent=parent,
                kind=kind,
                name=name,
            )
        for agent_id, org_id in DEMO_AGENT_ORGS:
            run(
                connection,
                "INSERT INTO console_agent_orgs (agent_id, org_id) VALUES (:agent, :org)",
                agent=agent_id,
                org=org_id,
            )
        hashed = hash_password(DEMO_PASSWORD)
        for account, name, org_id, role, agent_id in DEMO_ACCOUNTS:
            run(
                connection,
                "INSERT INTO console_accounts (account, name, org_id, role, agent_id,"
                " password_hash) VALUES (:account, :name, :org, :role, :agent, :hash)",
                account=account,
                name=name,
                org=org_id,
                role=role,
                agent=agent_id,
                hash=hashed,
            )
    return True
