"""Monitoring: every terminal's last heartbeat — signal, cell, paper, battery, version, outbox
depth — and today's payments, per terminal and per collection point; a terminal silent for
longer than ``SILENT_AFTER`` stands out. The page refreshes itself every 30 seconds (a meta tag:
no script, so an old office browser does it too)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from station.console import queries
from station.console.db import now_utc, today
from station.console.views.common import agents_of, engine, user

page = Blueprint("monitor", __name__)


@page.route("/monitor")
def monitor():
    with engine().connect() as connection:
        found = queries.terminals(connection, agents_of(connection, user()), today())
    now = now_utc()
    limit = current_app.config["SILENT_AFTER"]
    silent = sum(v.silent(now, limit) for v in found)
    by_agent: dict[str, dict] = {}
    for v in found:
        line = by_agent.setdefault(
            v.agent_id,
            {
                "agent_id": v.agent_id,
                "agent_name": v.agent_name,
                "terminals": 0,
                "silent": 0,
                "count": 0,
                "total_fen": 0,
            },
        )
        line["terminals"] += 1
        line["silent"] += v.silent(now, limit)
        line["count"] += v.count_today
        line["total_fen"] += v.total_today_fen
    return render_template(
        "monitor.html",
        by_agent=list(by_agent.values()),
        terminals=found,
        now=now,
        silent_after=limit,
        silent=silent,
        count=sum(v.count_today for v in found),
        total=sum(v.total_today_fen for v in found),
        pending=sum(int(v.status.get("pending") or 0) for v in found),
    )
