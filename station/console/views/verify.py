"""The hook for verifying a receipt's code (票据校验): a form whose answer comes from
``station.receipts.verify_receipt(terminal_id, trace, code)`` when the station has that module,
and "未启用" when it does not."""

from __future__ import annotations

import importlib

from flask import Blueprint, render_template

from station.console.forms import VerifyForm
from station.console.texts import t

page = Blueprint("verify", __name__)


def receipt_verifier():
    """``verify_receipt`` from ``station.receipts``, or None while that module is absent."""
    try:
        module = importlib.import_module("station.receipts")
    except ImportError:
        return None
    return getattr(module, "verify_receipt", None)


@page.route("/verify", methods=["GET", "POST"])
def verify():
    form = VerifyForm()
    verifier = receipt_verifier()
    answer = None
    if verifier is not None and form.validate_on_submit():
        answer = verifier(form.terminal.data.upper(), int(form.trace.data), form.code.data)
    return render_template(
        "verify.html", form=form, enabled=verifier is not None, answer=answer, off=t("verify_off")
    )
