"""The organisation tree: company, 供电所, collection points, and the agents under each."""

from __future__ import annotations

from flask import Blueprint, render_template

from station.console import queries
from station.console.auth import visible_orgs
from station.console.views.common import agents_of, engine, user

page = Blueprint("orgs", __name__)


@page.route("/orgs")
def orgs():
    with engine().connect() as connection:
        tree = visible_orgs(connection, user())
        found = queries.agents(connection, agents_of(connection, user()))
    by_org: dict[str, list] = {}
    for agent in found:
        by_org.setdefault(agent["org_id"] or "", []).append(agent)
    depth = {"company": 0, "station": 1, "point": 2}
    return render_template("orgs.html", tree=tree, by_org=by_org, depth=depth)
