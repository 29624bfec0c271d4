"""Terminals: the agent each is assigned to, lock state, software version, and commands.

Locking is done twice on purpose: the station refuses the terminal's new payments at once
(``terminals.locked``, answer A2), and the command (``terminals.command``, field 59 of the
next heartbeat's answer) makes the terminal itself refuse them with a plain screen, even
offline. The station repeats the command until a heartbeat confirms it; the console's
``console_commands`` journal shows when the confirmation was seen.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for

from station.console import queries
from station.console.db import now_utc, rows, run, today
from station.console.forms import CommandForm
from station.console.texts import t
from station.console.views.common import agents_of, engine, manager, user

page = Blueprint("terminals", __name__)

LOCK, UNLOCK = 1, 2
SUPERSEDED = "superseded"  # confirmed_at of a command replaced before the terminal heard it


@page.route("/terminals")
def terminals():
    with engine().begin() as connection:
        visible = agents_of(connection, user())
        found = queries.terminals(connection, visible, today())
        _note_confirmations(connection, found)
        journal = rows(
            connection,
            "SELECT c.* FROM console_commands c JOIN terminals t ON t.terminal_id = c.terminal_id"
            " WHERE t.agent_id IN :agents ORDER BY c.requested_at DESC LIMIT 20",
            agents=visible,
        )
    return render_template(
        "terminals.html",
        terminals=found,
        journal=journal,
        form=CommandForm(),
        now=now_utc(),
        silent_after=current_app.config["SILENT_AFTER"],
    )


def _note_confirmations(connection, found: list[queries.TerminalView]) -> None:
    """A pending command the station no longer holds, with a heartbeat since it was given, was
    confirmed by the terminal (the station clears a command only on its confirmation)."""
    holding = {v.terminal_id: v for v in found}
    pending = rows(
        connection,
        "SELECT command_id, terminal_id, command, requested_at FROM console_commands"
        " WHERE confirmed_at IS NULL",
    )
    for row in pending:
        view = holding.get(row["terminal_id"])
        if view is None or view.command == row["command"] or view.last_seen is None:
            continue
        if view.last_seen < datetime.fromisoformat(row["requested_at"]):
            continue
        run(
            connection,
            "UPDATE console_commands SET confirmed_at = :at WHERE command_id = :id",
            at=view.last_seen.isoformat(),
            id=row["command_id"],
        )


@page.route("/terminals/<terminal_id>/command", methods=["POST"])
def command(terminal_id: str):
    who = manager()
    form = CommandForm()
    if not form.validate_on_submit():
        flash("；".join(e for errors in form.errors.values() for e in errors))
        return redirect(url_for("terminals.terminals"))
    value = int(form.command.data)
    with engine().begin() as connection:
        if not rows(
            connection,
            "SELECT terminal_id FROM terminals WHERE terminal_id = :id AND agent_id IN :agents",
            id=terminal_id,
            agents=agents_of(connection, who),
        ):
            abort(404)
        # What was confirmed is noted; what is still pending is replaced by this command.
        _note_confirmations(
            connection, queries.terminals(connection, agents_of(connection, who), today())
        )
        run(
            connection,
            "UPDATE console_commands SET confirmed_at = :superseded"
            " WHERE terminal_id = :id AND confirmed_at IS NULL",
            superseded=SUPERSEDED,
            id=terminal_id,
        )
        run(
            connection,
            "INSERT INTO console_commands (command_id, terminal_id, command, account,"
            " requested_at) VALUES (:id, :terminal, :command, :account, :at)",
            id=uuid.uuid4().hex,
            terminal=terminal_id,
            command=value,
            account=who.account,
            at=now_utc().isoformat(),
        )
        if value in (LOCK, UNLOCK):
            run(
                connection,
                "UPDATE terminals SET command = :command, locked = :locked WHERE terminal_id = :id",
                command=value,
                locked=int(value == LOCK),
                id=terminal_id,
            )
        else:
            run(
                connection,
                "UPDATE terminals SET command = :command WHERE terminal_id = :id",
                command=value,
                id=terminal_id,
            )
    flash(t("command_sent", command=t(f"cmd_{value}")))
    return redirect(url_for("terminals.terminals"))
