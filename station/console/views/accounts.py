"""Console accounts: a manager creates accounts for the organisations it sees and lifts a
lockout. The role follows the organisation: company, 供电所, or — for a collection point — an
agent account, tied to one of the agents placed under that point."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for

from station.console.auth import hash_password, visible_orgs
from station.console.db import one, rows, run
from station.console.forms import AccountForm
from station.console.schema import AGENT_ROLE, POINT, ROLE_OF_KIND
from station.console.views.common import check_choice, engine, manager

page = Blueprint("accounts", __name__)


def _orgs(connection) -> dict[str, dict]:
    return {o["org_id"]: o for o in visible_orgs(connection, manager())}


def _page(form: AccountForm):
    with engine().connect() as connection:
        orgs = _orgs(connection)
        _choices(connection, form, orgs)
        found = rows(
            connection,
            "SELECT account, name, org_id, role, agent_id, failures, locked_until"
            " FROM console_accounts WHERE org_id IN :orgs ORDER BY org_id, account",
            orgs=list(orgs),
        )
    return render_template("accounts.html", accounts=found, orgs=orgs, form=form)


def _choices(connection, form: AccountForm, orgs: dict[str, dict]) -> None:
    form.org.choices = [(org_id, o["name"]) for org_id, o in orgs.items()]
    points = [org_id for org_id, o in orgs.items() if o["kind"] == POINT]
    placed = rows(
        connection,
        "SELECT g.agent_id, a.name FROM console_agent_orgs g JOIN agents a"
        " ON a.agent_id = g.agent_id WHERE g.org_id IN :points ORDER BY g.agent_id",
        points=points,
    )
    form.agent.choices = [("", "—")] + [
        (r["agent_id"], f"{r['agent_id']} {r['name']}") for r in placed
    ]


@page.route("/accounts")
def accounts():
    manager()
    return _page(AccountForm(formdata=None))


@page.route("/accounts/new", methods=["POST"])
def new_account():
    manager()
    form = AccountForm()
    with engine().connect() as connection:
        orgs = _orgs(connection)
        _choices(connection, form, orgs)
        ok = form.validate_on_submit()
        ok = check_choice(form.org, form.org.choices) and ok
        ok = check_choice(form.agent, form.agent.choices) and ok
        if ok:
            ok = _agent_fits(connection, form, orgs[form.org.data])
        if ok and one(
            connection,
            "SELECT account FROM console_accounts WHERE account = :a",
            a=form.account.data,
        ):
            form.account.errors = ["账号已存在"]
            ok = False
    if not ok:
        return _page(form)
    org = orgs[form.org.data]
    with engine().begin() as connection:
        run(
            connection,
            "INSERT INTO console_accounts (account, name, org_id, role, agent_id, password_hash)"
            " VALUES (:account, :name, :org, :role, :agent, :hash)",
            account=form.account.data,
            name=form.name.data,
            org=org["org_id"],
            role=ROLE_OF_KIND.get(org["kind"], AGENT_ROLE),
            agent=form.agent.data or None,
            hash=hash_password(form.password.data),
        )
    flash(f"已创建账号 {form.account.data}")
    return redirect(url_for("accounts.accounts"))


def _agent_fits(connection, form: AccountForm, org: dict) -> bool:
    """A collection point's account is one of its agents; other accounts are no agent."""
    if org["kind"] != POINT:
        if form.agent.data:
            form.agent.errors = ["只有代收点账号可选代理商"]
            return False
        return True
    placed = one(
        connection,
        "SELECT agent_id FROM console_agent_orgs WHERE agent_id = :a AND org_id = :o",
        a=form.agent.data or "",
        o=org["org_id"],
    )
    if placed is None:
        form.agent.errors = ["请选择属于该代收点的代理商"]
        return False
    return True


@page.route("/accounts/<account>/unlock", methods=["POST"])
def unlock(account: str):
    manager()
    with engine().begin() as connection:
        orgs = _orgs(connection)
        row = one(connection, "SELECT org_id FROM console_accounts WHERE account = :a", a=account)
        if row is None or row["org_id"] not in orgs:
            abort(404)
        run(
            connection,
            "UPDATE console_accounts SET failures = 0, locked_until = NULL WHERE account = :a",
            a=account,
        )
    flash(f"账号 {account} 已解锁")
    return redirect(url_for("accounts.accounts"))
