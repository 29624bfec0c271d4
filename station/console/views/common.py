"""What every page needs: the engine, the signed-in user, the agents it may see, a manager's
check, and the date-range choices shared by the search forms."""

from __future__ import annotations

from flask import abort, current_app, g
from sqlalchemy import Connection, Engine

from station.console.auth import User, visible_agents, visible_orgs


def engine() -> Engine:
    return current_app.extensions["console_engine"]


def user() -> User:
    return g.user


def manager() -> User:
    """The user, if it may change things (company, 供电所); otherwise 403."""
    if not g.user.manages:
        abort(403)
    return g.user


def org_choices(connection: Connection, u: User) -> list[tuple[str, str]]:
    indent = {"company": "", "station": "　", "point": "　　"}
    return [("", "全部")] + [
        (o["org_id"], indent.get(o["kind"], "") + o["name"]) for o in visible_orgs(connection, u)
    ]


def check_choice(field, choices: list[tuple[str, str]]) -> bool:
    """A select's value must be one offered to this account (another org's id is refused)."""
    if field.data and field.data not in {value for value, _ in choices}:
        field.errors = [*field.errors, "无此选项"]
        return False
    return True


def agents_of(connection: Connection, u: User, org_id: str | None = None) -> list[str]:
    return visible_agents(connection, u, org_id or None)
