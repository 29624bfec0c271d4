"""The organisation tree: company, 供电所, collection points, and the agents under each; a
manager adds a 供电所 or a collection point under its own organisation and places an agent
under a collection point it sees."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for

from station.console import queries
from station.console.auth import visible_orgs
from station.console.db import one, rows, run
from station.console.forms import AssignForm, NewOrgForm
from station.console.schema import COMPANY, POINT, STATION
from station.console.views.common import agents_of, check_choice, engine, manager, user

page = Blueprint("orgs", __name__)

CHILD_KIND = {COMPANY: STATION, STATION: POINT}  # what may be added under what
ID_PREFIX = {STATION: "S", POINT: "P"}
KIND_NAME = {COMPANY: "公司", STATION: "供电所", POINT: "代收点"}


@page.route("/orgs")
def orgs():
    return _page(NewOrgForm(formdata=None), AssignForm(formdata=None))


def _page(new: NewOrgForm, assign: AssignForm):
    with engine().connect() as connection:
        tree = visible_orgs(connection, user())
        found = queries.agents(connection, agents_of(connection, user()))
    _choices(new, assign, tree, found)
    by_org: dict[str, list] = {}
    for agent in found:
        by_org.setdefault(agent["org_id"] or "", []).append(agent)
    unplaced = by_org.pop("", [])
    depth = {COMPANY: 0, STATION: 1, POINT: 2}
    return render_template(
        "orgs.html",
        tree=tree,
        by_org=by_org,
        unplaced=unplaced,
        depth=depth,
        kinds=KIND_NAME,
        new=new,
        assign=assign,
    )


def _choices(new: NewOrgForm, assign: AssignForm, tree: list, agents: list) -> None:
    new.parent.choices = [(o["org_id"], o["name"]) for o in tree if o["kind"] in CHILD_KIND]
    assign.point.choices = [(o["org_id"], o["name"]) for o in tree if o["kind"] == POINT]
    assign.agent.choices = [(a["agent_id"], f"{a['agent_id']} {a['name']}") for a in agents]


@page.route("/orgs/new", methods=["POST"])
def new_org():
    manager()
    new, assign = NewOrgForm(), AssignForm(formdata=None)
    with engine().connect() as connection:
        _choices(new, assign, visible_orgs(connection, user()), [])
    if not (new.validate_on_submit() and check_choice(new.parent, new.parent.choices)):
        return _page(new, assign)
    with engine().begin() as connection:
        parent = one(
            connection, "SELECT * FROM console_orgs WHERE org_id = :id", id=new.parent.data
        )
        assert parent is not None
        if one(
            connection,
            "SELECT org_id FROM console_orgs WHERE parent_id = :parent AND name = :name",
            parent=parent["org_id"],
            name=new.name.data,
        ):
            new.name.errors = ["同一上级下已有此名称"]
            return _page(new, assign)
        kind = CHILD_KIND[parent["kind"]]
        taken = {r["org_id"] for r in rows(connection, "SELECT org_id FROM console_orgs")}
        number = 1
        while f"{ID_PREFIX[kind]}{number:02d}" in taken:
            number += 1
        run(
            connection,
            "INSERT INTO console_orgs (org_id, parent_id, kind, name)"
            " VALUES (:id, :parent, :kind, :name)",
            id=f"{ID_PREFIX[kind]}{number:02d}",
            parent=parent["org_id"],
            kind=kind,
            name=new.name.data,
        )
    flash(f"已添加{KIND_NAME[kind]}：{new.name.data}")
    return redirect(url_for("orgs.orgs"))


@page.route("/orgs/assign", methods=["POST"])
def assign_agent():
    manager()
    new, assign = NewOrgForm(formdata=None), AssignForm()
    with engine().connect() as connection:
        found = queries.agents(connection, agents_of(connection, user()))
        _choices(new, assign, visible_orgs(connection, user()), found)
    ok = assign.validate_on_submit()
    ok = check_choice(assign.agent, assign.agent.choices) and ok
    ok = check_choice(assign.point, assign.point.choices) and ok
    if not ok:
        return _page(new, assign)
    with engine().begin() as connection:
        run(connection, "DELETE FROM console_agent_orgs WHERE agent_id = :a", a=assign.agent.data)
        run(
            connection,
            "INSERT INTO console_agent_orgs (agent_id, org_id) VALUES (:a, :o)",
            a=assign.agent.data,
            o=assign.point.data,
        )
    flash(f"代理商 {assign.agent.data} 已归属所选代收点")
    return redirect(url_for("orgs.orgs"))
