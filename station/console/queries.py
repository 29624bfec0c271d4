"""The SQL of the console's reports, by the station's table and column names.

Every query takes the list of agents the account may see and filters by it. A payment is a row
of the station's ``requests`` in state ``posted`` with a transaction kind; its agent is the
agent its terminal is assigned to. Times are stored as UTC ISO text, so day ranges are passed as
``day_bounds`` strings and compared as text, which holds on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Connection

from station.console.db import Row, day_bounds, local_day, rows
from terminal.protocol import messages as m

PAYMENT_COLUMNS = (
    "SELECT r.time, r.terminal_id, r.batch, r.trace, r.kind, r.customer_no, r.amount_fen,"
    " r.confirmed, t.agent_id, a.name AS agent_name, c.name AS customer_name"
    " FROM requests r JOIN terminals t ON t.terminal_id = r.terminal_id"
    " JOIN agents a ON a.agent_id = t.agent_id"
    " LEFT JOIN customers c ON c.customer_no = r.customer_no"
    " WHERE r.state = 'posted' AND r.kind IS NOT NULL AND t.agent_id IN :agents"
)


@dataclass(frozen=True)
class PaymentFilter:
    first: date
    last: date
    agents: list[str]
    terminal: str | None = None
    customer: str | None = None


def payments(connection: Connection, f: PaymentFilter) -> list[Row]:
    start, end = day_bounds(f.first, f.last)
    sql = PAYMENT_COLUMNS + " AND r.time >= :start AND r.time < :end"
    params: dict = {"agents": f.agents, "start": start, "end": end}
    if f.terminal:
        sql += " AND r.terminal_id = :terminal"
        params["terminal"] = f.terminal
    if f.customer:
        sql += " AND r.customer_no = :customer"
        params["customer"] = f.customer
    return rows(connection, sql + " ORDER BY r.time, r.terminal_id, r.trace", **params)


def totals(found: list[Row]) -> tuple[int, int]:
    return len(found), sum(r["amount_fen"] for r in found)


def agents(connection: Connection, visible: list[str]) -> list[Row]:
    return rows(
        connection,
        "SELECT a.*, o.org_id, o.name AS org_name FROM agents a"
        " LEFT JOIN console_agent_orgs g ON g.agent_id = a.agent_id"
        " LEFT JOIN console_orgs o ON o.org_id = g.org_id"
        " WHERE a.agent_id IN :agents ORDER BY a.agent_id",
        agents=visible,
    )


def topups(connection: Connection, agent_id: str) -> list[Row]:
    return rows(
        connection,
        "SELECT * FROM console_topups WHERE agent_id = :agent ORDER BY time DESC",
        agent=agent_id,
    )


# --- terminals and monitoring --------------------------------------------------------------


@dataclass
class TerminalView:
    """A terminal as the console shows it: assignment, lock, last heartbeat, today's figures."""

    terminal_id: str
    agent_id: str
    agent_name: str
    locked: bool
    command: int
    batch: int
    last_seen: datetime | None = None
    version: str = ""
    status: dict = field(default_factory=dict)
    confirmed: int = 0
    count_today: int = 0
    total_today_fen: int = 0
    unconfirmed: int = 0

    def silent(self, now: datetime, limit: timedelta) -> bool:
        return self.last_seen is None or now - self.last_seen > limit


def terminals(connection: Connection, visible: list[str], today: date) -> list[TerminalView]:
    found = rows(
        connection,
        "SELECT t.terminal_id, t.agent_id, t.locked, t.command, t.batch, t.status,"
        " a.name AS agent_name FROM terminals t JOIN agents a ON a.agent_id = t.agent_id"
        " WHERE t.agent_id IN :agents ORDER BY t.terminal_id",
        agents=visible,
    )
    start, end = day_bounds(today, today)
    figures = {
        r["terminal_id"]: r
        for r in rows(
            connection,
            "SELECT r.terminal_id, count(*) AS n, coalesce(sum(r.amount_fen), 0) AS total,"
            " sum(CASE WHEN r.confirmed = 0 THEN 1 ELSE 0 END) AS unconfirmed"
            " FROM requests r JOIN terminals t ON t.terminal_id = r.terminal_id"
            " WHERE r.state = 'posted' AND r.kind IS NOT NULL AND t.agent_id IN :agents"
            " AND r.time >= :start AND r.time < :end GROUP BY r.terminal_id",
            agents=visible,
            start=start,
            end=end,
        )
    }
    views = []
    for r in found:
        view = TerminalView(
            r["terminal_id"],
            r["agent_id"],
            r["agent_name"],
            bool(r["locked"]),
            int(r["command"] or 0),
            int(r["batch"]),
        )
        _read_status(view, r["status"])
        today_row = figures.get(r["terminal_id"])
        if today_row:
            view.count_today = int(today_row["n"])
            view.total_today_fen = int(today_row["total"])
            view.unconfirmed = int(today_row["unconfirmed"] or 0)
        views.append(view)
    return views


def _read_status(view: TerminalView, stored: str | None) -> None:
    """The last heartbeat, as the station's ``terminals.status`` JSON keeps it."""
    if not stored:
        return
    try:
        record = json.loads(stored)
        view.last_seen = datetime.fromisoformat(record["at"].replace(" ", "T"))
    except (ValueError, KeyError, TypeError, AttributeError):
        return
    view.version = record.get("version") or ""
    view.status = record.get("status") or {}
    view.confirmed = int(record.get("confirmed") or 0)


# --- reconciliation -----------------------------------------------------------------------


@dataclass
class BatchRecon:
    """One batch: what the terminal settled (the closing 0510) against what is posted now."""

    terminal_id: str
    batch: int
    posted_count: int
    posted_fen: int
    settled_at: str | None = None
    settled_count: int | None = None
    settled_fen: int | None = None
    late: list[Row] = field(default_factory=list)  # posted after the batch was closed

    @property
    def closed(self) -> bool:
        return self.settled_at is not None

    @property
    def differs(self) -> bool:
        return self.closed and (
            self.settled_count != self.posted_count or self.settled_fen != self.posted_fen
        )


def reconciliation(
    connection: Connection, visible: list[str], first: date, last: date
) -> list[BatchRecon]:
    """Batches with a posting or a settlement in the days; differences first."""
    start, end = day_bounds(first, last)
    posted = rows(
        connection,
        "SELECT r.terminal_id, r.batch, r.trace, r.kind, r.amount_fen, r.time, r.customer_no"
        " FROM requests r JOIN terminals t ON t.terminal_id = r.terminal_id"
        " WHERE r.state = 'posted' AND r.kind IS NOT NULL AND t.agent_id IN :agents"
        " AND (r.terminal_id, r.batch) IN (SELECT r2.terminal_id, r2.batch FROM requests r2"
        "  WHERE r2.time >= :start AND r2.time < :end"
        "  UNION SELECT s.terminal_id, s.batch FROM settlements s"
        "  WHERE s.time >= :start AND s.time < :end)"
        " ORDER BY r.terminal_id, r.batch, r.trace",
        agents=visible,
        start=start,
        end=end,
    )
    batches: dict[tuple[str, int], BatchRecon] = {}
    for r in posted:
        key = (r["terminal_id"], int(r["batch"]))
        b = batches.setdefault(key, BatchRecon(key[0], key[1], 0, 0))
        b.posted_count += 1
        b.posted_fen += int(r["amount_fen"])
    settled = rows(
        connection,
        "SELECT s.terminal_id, s.batch, s.response, s.time FROM settlements s"
        " JOIN terminals t ON t.terminal_id = s.terminal_id WHERE t.agent_id IN :agents"
        " AND s.time >= :start AND s.time < :end",
        agents=visible,
        start=start,
        end=end,
    )
    for s in settled:
        key = (s["terminal_id"], int(s["batch"]))
        b = batches.setdefault(key, BatchRecon(key[0], key[1], 0, 0))
        answer = m.decode(bytes(s["response"]))
        b.settled_at = s["time"]
        b.settled_fen = getattr(answer, "amount_fen", None) or 0
        summary = getattr(answer, "summary", None)
        b.settled_count = summary.count if summary else 0
    for r in posted:
        b = batches[(r["terminal_id"], int(r["batch"]))]
        if b.settled_at and str(r["time"]) > str(b.settled_at):
            b.late.append(r)
    return sorted(batches.values(), key=lambda b: (not b.differs, b.terminal_id, b.batch))


def one_sided(connection: Connection, visible: list[str], before: str) -> list[Row]:
    """Posted payments whose completion never came (card written or receipt printed unknown):
    the terminal still owes a completion or a reversal. The goal is that this list is empty."""
    return rows(
        connection,
        PAYMENT_COLUMNS + " AND r.confirmed = 0 AND r.time < :before ORDER BY r.time",
        agents=visible,
        before=before,
    )


# --- MIS 进账 -------------------------------------------------------------------------------


@dataclass
class IntakeLine:
    day: date
    org_name: str
    agent_id: str
    agent_name: str
    count: int = 0
    total_fen: int = 0


def intake(connection: Connection, visible: list[str], first: date, last: date) -> list[IntakeLine]:
    """The daily intake handed to the marketing system: per station day and collection point."""
    found = payments(connection, PaymentFilter(first, last, visible))
    orgs = {
        r["agent_id"]: r["name"]
        for r in rows(
            connection,
            "SELECT g.agent_id, o.name FROM console_agent_orgs g"
            " JOIN console_orgs o ON o.org_id = g.org_id",
        )
    }
    lines: dict[tuple[date, str], IntakeLine] = {}
    for r in found:
        day = local_day(r["time"])
        line = lines.setdefault(
            (day, r["agent_id"]),
            IntakeLine(day, orgs.get(r["agent_id"], ""), r["agent_id"], r["agent_name"]),
        )
        line.count += 1
        line.total_fen += int(r["amount_fen"])
    return [lines[k] for k in sorted(lines)]
