"""Monitoring: every terminal's last heartbeat — signal, cell, paper, battery, version, outbox
depth — and today's payments; a terminal silent for longer than ``SILENT_AFTER`` stands out."""

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
    return render_template(
        "monitor.html",
        terminals=found,
        now=now,
        silent_after=limit,
        silent=silent,
        count=sum(v.count_today for v in found),
        total=sum(v.total_today_fen for v in found),
        pending=sum(int(v.status.get("pending") or 0) for v in found),
    )
