"""Agents: deposit (保证金), available limit, offline limit, and top-ups.

A top-up adds to both the deposit and the available limit in one transaction with its journal
row (``console_topups``): either both are written or neither. The form carries a one-time
token that is the journal row's key, so a form sent twice (a double click, a reload) tops up
once.

Offline limits reach a terminal only at sign-on, so changing one also asks each of the agent's
terminals to sign on again (heartbeat command 3), unless another command is still pending.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from sqlalchemy.exc import IntegrityError

from station.console import queries
from station.console.db import now_utc, one, rows, run, yuan
from station.console.forms import LimitForm, TopupForm
from station.console.texts import t
from station.console.views.common import agents_of, engine, manager, user

page = Blueprint("agents", __name__)

SIGN_ON = 3  # heartbeat command (field 59): sign on again, which delivers the new limits


@page.route("/agents")
def agents():
    with engine().connect() as connection:
        found = queries.agents(connection, agents_of(connection, user()))
    return render_template("agents.html", agents=found)


def _visible(connection, agent_id: str) -> None:
    if agent_id not in agents_of(connection, user()):
        abort(404)


@page.route("/agents/<agent_id>", methods=["GET", "POST"])
def agent(agent_id: str):
    form = TopupForm()
    with engine().connect() as connection:
        _visible(connection, agent_id)
    if form.is_submitted():
        manager()
        if form.validate():
            return _top_up(agent_id, form)
    else:
        form.token.data = uuid.uuid4().hex
    return _page(agent_id, form, LimitForm(formdata=None))


def _page(agent_id: str, form: TopupForm, limit: LimitForm):
    with engine().connect() as connection:
        found = queries.agents(connection, [agent_id])
        history = queries.topups(connection, agent_id)
    if limit.offline_limit.data is None:
        limit.offline_limit.data = yuan(found[0]["offline_limit_fen"]).replace(",", "")
    return render_template("agent.html", agent=found[0], history=history, form=form, limit=limit)


@page.route("/agents/<agent_id>/limit", methods=["POST"])
def limit(agent_id: str):
    who = manager()
    form = LimitForm()
    with engine().connect() as connection:
        _visible(connection, agent_id)
    if not form.validate_on_submit():
        topup = TopupForm(formdata=None)
        topup.token.data = uuid.uuid4().hex
        return _page(agent_id, topup, form)
    with engine().begin() as connection:
        run(
            connection,
            "UPDATE agents SET offline_limit_fen = :fen WHERE agent_id = :agent",
            fen=form.fen,
            agent=agent_id,
        )
        asked = rows(
            connection,
            "SELECT terminal_id FROM terminals WHERE agent_id = :agent AND command = 0",
            agent=agent_id,
        )
        for terminal in asked:
            run(
                connection,
                "INSERT INTO console_commands (command_id, terminal_id, command, account,"
                " requested_at) VALUES (:id, :terminal, :command, :account, :at)",
                id=uuid.uuid4().hex,
                terminal=terminal["terminal_id"],
                command=SIGN_ON,
                account=who.account,
                at=now_utc().isoformat(),
            )
            run(
                connection,
                "UPDATE terminals SET command = :command WHERE terminal_id = :id",
                command=SIGN_ON,
                id=terminal["terminal_id"],
            )
    flash(t("limit_done", amount=yuan(form.fen), terminals=len(asked)))
    return redirect(url_for("agents.agent", agent_id=agent_id))


def _top_up(agent_id: str, form: TopupForm):
    fen = form.fen
    try:
        after = _journal_and_add(agent_id, fen, form.token.data, form.note.data or "")
    except IntegrityError:  # two sends of one form at the same moment: the key stops one
        after = None
    if after is None:
        flash(t("topup_repeat"))
    else:
        flash(t("topup_done", amount=yuan(fen), available=yuan(after["available_fen"])))
    return redirect(url_for("agents.agent", agent_id=agent_id))


def _journal_and_add(agent_id: str, fen: int, token: str, note: str):
    """One transaction: the agent's deposit and limit grow and the journal row records it with
    the figures after; None when this form's token was already used (nothing written)."""
    with engine().begin() as connection:
        if one(connection, "SELECT agent_id FROM console_topups WHERE topup_id = :id", id=token):
            return None
        run(
            connection,
            "UPDATE agents SET deposit_fen = deposit_fen + :fen,"
            " available_fen = available_fen + :fen WHERE agent_id = :agent",
            fen=fen,
            agent=agent_id,
        )
        after = one(
            connection,
            "SELECT deposit_fen, available_fen FROM agents WHERE agent_id = :agent",
            agent=agent_id,
        )
        assert after is not None
        run(
            connection,
            "INSERT INTO console_topups (topup_id, agent_id, amount_fen, deposit_after_fen,"
            " available_after_fen, account, note, time) VALUES (:id, :agent, :fen,"
            " :deposit, :available, :account, :note, :time)",
            id=token,
            agent=agent_id,
            fen=fen,
            deposit=after["deposit_fen"],
            available=after["available_fen"],
            account=user().account,
            note=note,
            time=now_utc().isoformat(),
        )
    return after
