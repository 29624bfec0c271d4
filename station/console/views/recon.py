"""Reconciliation (对账): per batch, what the terminal settled against what the station has
posted, differences first with the entries that make them, over a date range and for the
company, one 供电所 or one collection point; and the one-sided entries, which should always be
none."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from station.console import queries
from station.console.db import now_utc, today
from station.console.forms import ReconSearch
from station.console.views.common import agents_of, check_choice, engine, org_choices, user

page = Blueprint("recon", __name__)


@page.route("/recon")
def recon():
    form = ReconSearch(request.args)
    batches: list = []
    with engine().connect() as connection:
        form.org.choices = org_choices(connection, user())
        ok = form.validate()
        ok = check_choice(form.org, form.org.choices) and ok
        if ok:
            first, last = form.days(today())
            agents = agents_of(connection, user(), form.org.data)
            batches = queries.reconciliation(connection, agents, first, last)
    return render_template("recon.html", form=form, batches=batches, searched=ok)


@page.route("/recon/one-sided")
def one_sided():
    before = (now_utc() - current_app.config["ONE_SIDED_AFTER"]).isoformat()
    with engine().connect() as connection:
        found = queries.one_sided(connection, agents_of(connection, user()), before)
    return render_template("one_sided.html", rows=found)
