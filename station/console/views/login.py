"""Login and logout: plain errors for an unknown account, a wrong password, the wrong
organisation, a locked account, and "操作异常！" when the database fails."""

from __future__ import annotations

import logging

from flask import Blueprint, redirect, render_template, session, url_for

from station.console import auth
from station.console.db import DbError, rows
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
            orgs = rows(connection, "SELECT org_id, name FROM console_orgs ORDER BY org_id")
        form.org.choices = [(o["org_id"], o["name"]) for o in orgs]
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
