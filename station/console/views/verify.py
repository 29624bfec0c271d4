"""Verifying a receipt (票据校验): is this receipt genuine, and what does the station hold for it?

The answer is the station's own (``station.receipts.verify_receipt``): the code is recomputed
under the station's key from the ledger's record of the payment, and an amount typed from the
receipt must agree with it, so a receipt whose amount was changed is refused.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from station.console.forms import VerifyForm

page = Blueprint("verify", __name__)


def _ledger_target(database: str) -> str:
    """The station's ledger as ``station.ledger.Ledger`` opens it: a file path or a URL."""
    return database.removeprefix("sqlite:///") if database.startswith("sqlite:///") else database


@page.route("/verify", methods=["GET", "POST"])
def verify():
    from station.receipts import verify_receipt

    form = VerifyForm()
    answer = genuine = None
    if form.validate_on_submit():
        amount = form.amount.data
        verdict = verify_receipt(
            _ledger_target(current_app.config["STATION_DB"]),
            form.terminal.data.upper(),
            int(form.trace.data),
            form.code.data,
            amount_fen=None if amount in (None, "") else round(float(amount) * 100),
        )
        answer, genuine = verdict.text(), verdict.genuine
    return render_template("verify.html", form=form, answer=answer, genuine=genuine)
