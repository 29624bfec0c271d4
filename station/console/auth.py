"""Accounts: argon2id password hashes, lockout after repeated failures, and what each role sees.

A company account sees every agent; a 供电所 account the agents of the collection points under
it; an agent account only itself. Every page asks ``visible_agents`` and filters its SQL by the
answer, so no page can show another organisation's data by a forgotten condition.

Hashing uses argon2-cffi with the OWASP minimum for argon2id (19 MiB, 2 passes, 1 lane): strong
enough for a console reached from an office network, quick enough for a small server.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine

from station.console.db import now_utc, one, rows, run
from station.console.schema import AGENT_ROLE, COMPANY, STATION
from station.console.texts import t

ATTEMPTS = 5  # wrong passwords in a row before the account is locked
LOCK_MINUTES = 15

_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@dataclass(frozen=True)
class User:
    account: str
    name: str
    role: str  # company, station, agent
    org_id: str
    agent_id: str | None

    @property
    def manages(self) -> bool:
        """Company and 供电所 accounts change things; an agent only looks."""
        return self.role in (COMPANY, STATION)


@dataclass(frozen=True)
class Refused:
    message: str


def log_in(engine: Engine, account: str, password: str, org_id: str) -> User | Refused:
    """Check an account, its organisation and its password; count failures and lock."""
    with engine.begin() as connection:
        row = one(connection, "SELECT * FROM console_accounts WHERE account = :a", a=account)
        if row is None:
            return Refused(t("no_account"))
        now = now_utc()
        if row["locked_until"] and datetime.fromisoformat(row["locked_until"]) > now:
            return Refused(t("locked", times=ATTEMPTS, minutes=LOCK_MINUTES))
        try:
            good = _hasher.verify(row["password_hash"], password)
        except (VerificationError, InvalidHashError):
            good = False
        if not good:
            failures = row["failures"] + 1
            locked = failures >= ATTEMPTS
            until = (now + timedelta(minutes=LOCK_MINUTES)).isoformat() if locked else None
            run(
                connection,
                "UPDATE console_accounts SET failures = :f, locked_until = :u WHERE account = :a",
                f=0 if locked else failures,
                u=until,
                a=account,
            )
            if locked:
                return Refused(t("locked", times=ATTEMPTS, minutes=LOCK_MINUTES))
            return Refused(t("wrong_password", left=ATTEMPTS - failures))
        if row["org_id"] != org_id:
            return Refused(t("wrong_org"))
        run(
            connection,
            "UPDATE console_accounts SET failures = 0, locked_until = NULL WHERE account = :a",
            a=account,
        )
    return user_of(row)


def user_of(row) -> User:
    return User(row["account"], row["name"], row["role"], row["org_id"], row["agent_id"])


def load_user(connection: Connection, account: str) -> User | None:
    row = one(connection, "SELECT * FROM console_accounts WHERE account = :a", a=account)
    return user_of(row) if row else None


def org_tree(connection: Connection) -> list[dict]:
    return rows(connection, "SELECT * FROM console_orgs ORDER BY org_id")


def subtree(orgs: list[dict], root: str) -> list[str]:
    """``root`` and every organisation under it, in tree order (each parent before its
    children, children by id)."""
    children: dict[str | None, list[str]] = {}
    for org in orgs:
        children.setdefault(org["parent_id"], []).append(org["org_id"])
    found, todo = [], [root]
    while todo:
        org_id = todo.pop()
        found.append(org_id)
        todo.extend(sorted(children.get(org_id, []), reverse=True))
    return found


def visible_orgs(connection: Connection, user: User) -> list[dict]:
    """The user's organisation and everything under it, in tree order."""
    orgs = org_tree(connection)
    by_id = {o["org_id"]: o for o in orgs}
    return [by_id[org_id] for org_id in subtree(orgs, user.org_id) if org_id in by_id]


def visible_agents(connection: Connection, user: User, org_id: str | None = None) -> list[str]:
    """The agents whose data ``user`` may see, narrowed to ``org_id``'s subtree if given."""
    if user.role == AGENT_ROLE:
        agents = [user.agent_id] if user.agent_id else []
    elif user.role == COMPANY:
        agents = [r["agent_id"] for r in rows(connection, "SELECT agent_id FROM agents")]
    else:
        under = subtree(org_tree(connection), user.org_id)
        agents = [
            r["agent_id"]
            for r in rows(
                connection,
                "SELECT agent_id FROM console_agent_orgs WHERE org_id IN :orgs",
                orgs=under,
            )
        ]
    if org_id:
        narrowed = subtree(org_tree(connection), org_id)
        mapped = rows(
            connection,
            "SELECT agent_id FROM console_agent_orgs WHERE org_id IN :orgs",
            orgs=narrowed,
        )
        inside = {r["agent_id"] for r in mapped}
        agents = [a for a in agents if a in inside]
    return sorted(agents)
