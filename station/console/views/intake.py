"""MIS 进账: the daily intake by station day and collection point that goes into the
marketing system, with the detail of one day; printable and exportable."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from station.console import export, queries
from station.console.db import today
from station.console.forms import IntakeSearch
from station.console.views.common import agents_of, check_choice, engine, org_choices, user
from station.console.views.payments import HEADER, _line

page = Blueprint("intake", __name__)

SUMMARY_HEADER = ("日期", "单位", "代收点", "笔数", "金额（元）")


@page.route("/intake")
def intake():
    form = IntakeSearch(request.args)
    u = user()
    lines: list = []
    detail: list = []
    with engine().connect() as connection:
        form.org.choices = org_choices(connection, u)
        ok = form.validate()
        ok = check_choice(form.org, form.org.choices) and ok
        if ok:
            first, last = form.days(today())
            agents = agents_of(connection, u, form.org.data)
            lines = queries.intake(connection, agents, first, last)
            if request.args.get("detail"):
                detail = queries.payments(connection, queries.PaymentFilter(first, last, agents))
    count = sum(x.count for x in lines)
    total = sum(x.total_fen for x in lines)
    output = request.args.get("format", "")
    if ok and output in ("csv", "xlsx"):
        if detail:
            return export.send(output, "mis-intake-detail", HEADER, [_line(r) for r in detail])
        body = [
            (
                x.day.isoformat(),
                x.org_name,
                f"{x.agent_id} {x.agent_name}",
                x.count,
                export.money(x.total_fen),
            )
            for x in lines
        ]
        body.append(("合计", "", "", count, export.money(total)))
        return export.send(output, "mis-intake", SUMMARY_HEADER, body)
    template = "intake_print.html" if ok and output == "print" else "intake.html"
    return render_template(
        template,
        form=form,
        lines=lines,
        detail=detail,
        count=count,
        total=total,
        searched=ok,
        days=form.days(today()) if ok else None,
        query=request.query_string.decode(),
    )
