"""Payments: search by date range, organisation, agent, terminal and customer, with totals;
the same search as CSV, XLSX, or a printable page."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from station.console import export, queries
from station.console.db import local_time, today
from station.console.forms import PaymentSearch
from station.console.texts import t
from station.console.views.common import agents_of, check_choice, engine, org_choices, user

page = Blueprint("payments", __name__)

PAGE_ROWS = 500  # shown on the page; totals and exports take them all
HEADER = ("时间", "终端", "批次", "流水号", "类型", "户号", "户名", "金额（元）", "代收点")


@page.route("/payments")
def payments():
    form = PaymentSearch(request.args)
    u = user()
    with engine().connect() as connection:
        form.org.choices = org_choices(connection, u)
        visible = agents_of(connection, u)
        form.agent.choices = [("", "全部")] + [
            (a["agent_id"], f"{a['agent_id']} {a['name']}")
            for a in queries.agents(connection, visible)
        ]
        ok = form.validate()
        ok = check_choice(form.org, form.org.choices) and ok
        ok = check_choice(form.agent, form.agent.choices) and ok
        found: list = []
        if ok:
            first, last = form.days(today())
            agents = agents_of(connection, u, form.org.data)
            if form.agent.data:
                agents = [a for a in agents if a == form.agent.data]
            found = queries.payments(
                connection,
                queries.PaymentFilter(
                    first,
                    last,
                    agents,
                    (form.terminal.data or "").upper() or None,
                    form.customer.data or None,
                ),
            )
    count, total = queries.totals(found)
    output = request.args.get("format", "")
    if ok and output in ("csv", "xlsx"):
        body = [_line(r) for r in found]
        body.append(("合计", "", "", "", f"{count}笔", "", "", export.money(total), ""))
        return export.send(output, "payments", HEADER, body)
    template = "payments_print.html" if ok and output == "print" else "payments.html"
    return render_template(
        template,
        form=form,
        rows=found[:PAGE_ROWS],
        more=max(0, len(found) - PAGE_ROWS),
        count=count,
        total=total,
        searched=ok,
        days=form.days(today()) if ok else None,
        query=request.query_string.decode(),
    )


def _line(r) -> tuple:
    return (
        local_time(r["time"]),
        r["terminal_id"],
        r["batch"],
        r["trace"],
        t(f"kind_{r['kind']}"),
        r["customer_no"] or "",
        r["customer_name"] or "",
        export.money(r["amount_fen"]),
        f"{r['agent_id']} {r['agent_name']}",
    )
