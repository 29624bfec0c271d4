"""Login and logout: plain errors for an unknown account, a wrong password, the wrong
organisation, a locked account, and "操作异常！" when the database fails."""

from __future__ import annotations

import logging

from flask import Blueprint, redirect, render_template, session, url_for

from station.console import auth
from station.console.db import DbError
from station.console.forms import LoginForm
from station.console.texts import t
from station.console.views.common import engine

page = Blueprint("login", __name__)
log = logging.getLogger("gridpos.console")


@page.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error = ""
    try:
        with engine().connect() as connection:
            orgs = auth.org_tree(connection)
        by_id = {o["org_id"]: o for o in orgs}
        roots = [o["org_id"] for o in orgs if o["parent_id"] is None]
        ordered = [org_id for root in roots for org_id in auth.subtree(orgs, root)]
        form.org.choices = [(org_id, by_id[org_id]["name"]) for org_id in ordered]
        if form.validate_on_submit():
            outcome = auth.log_in(engine(), form.account.data, form.password.data, form.org.data)
            if isinstance(outcome, auth.Refused):
                error = outcome.message
            else:
                session.clear()
                session["account"] = outcome.account
                session.permanent = True
                return redirect(url_for("monitor.monitor"))
    except DbError as exc:
        log.error("login: database fault: %s", exc)
        error = t("db_fault")
    return render_template("login.html", form=form, error=error)


@page.route("/logout", methods=["POST"])
def logout():
    session.clear()
    return redirect(url_for("login.login"))


@page.route("/")
def home():
    return redirect(url_for("monitor.monitor"))
