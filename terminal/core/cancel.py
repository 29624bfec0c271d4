"""Cancel (撤销): which payments an operator may cancel, what the cancel journals, and its receipt.

A cancel undoes a cash payment the station has confirmed (COMPLETED), in the batch still open,
after a supervisor's password. It is journalled before anything is seen: ``cancelling`` (who,
and that a supervisor agreed) before the 撤销 receipt prints, then ``reversal_queued`` (with the
receipt's outcome) before the outbox sends the 0400 that restores the agent's limit at the
station. A crash between the two is carried on by ``engine.recover``; ``CANCELLING`` is an open
state, so the batch cannot be settled with a cancel half done.

Refused, with a reason the menu puts into words: a payment already cancelled; a card
transaction (the credit is on the card) or an offline payment; one of a batch already closed
(the station refuses to change a settled batch, 78); and one whose completion advice is still
owed or that was never approved (the outbox must say one thing at a time about a payment).
"""

from __future__ import annotations

from datetime import datetime

from terminal.core.engine import Append, Command, Print, View
from terminal.core.lifecycle import State
from terminal.core.money import yuan
from terminal.core.receipt import (
    COLUMNS,
    LOCAL_TZ,
    TITLES,
    ReceiptHeader,
    center,
    fit,
    money,
    pair,
)
from terminal.protocol import messages as m

CASH_KINDS = frozenset({m.Processing.BILL_PAYMENT, m.Processing.PREPAYMENT})

# Why a payment cannot be cancelled (text keys "cancel_refused_<reason>").
ALREADY = "already"
NOT_CASH = "not_cash"
OFFLINE = "offline"
OTHER_BATCH = "other_batch"
OWED = "owed"
NOT_APPROVED = "not_approved"
NOT_FOUND = "not_found"
REFUSALS = frozenset({ALREADY, NOT_CASH, OFFLINE, OTHER_BATCH, OWED, NOT_APPROVED, NOT_FOUND})
CANCEL_STATES = frozenset({State.CANCELLING, State.REVERSAL_QUEUED, State.REVERSED})


def refusal(view: View, open_batch: int) -> str:
    """Why ``view``'s payment cannot be cancelled now; "" when it can."""
    order = view.order
    if view.cancelled_at is not None and view.state in CANCEL_STATES:
        return ALREADY
    if order.processing == m.Processing.OFFLINE_PAYMENT or view.state is State.OFFLINE:
        return OFFLINE
    if order.processing not in CASH_KINDS:
        return NOT_CASH
    if order.batch != open_batch:
        return OTHER_BATCH
    if view.state in (State.PRINTING, State.PRINTED):
        return OWED
    if view.state is not State.COMPLETED:
        return NOT_APPROVED
    return ""


def start(view: View, by: str) -> list[Command]:
    """The supervisor agreed and the operator confirmed: journal the cancel, print its receipt.

    The printer's answer comes back as ``Printed`` in ``CANCELLING``; ``engine.step`` then
    queues the reversal in the entry that records the receipt's outcome.
    """
    return [Append("cancelling", {"by": by, "supervisor": True}), Print()]


# --- the 撤销 receipt ---------------------------------------------------------------------


def receipt_lines(
    view: View, header: ReceiptHeader, paper_mm: int = 58, reprint: bool = False
) -> list[str]:
    """The 撤销 receipt: the original payment named by its receipt number, the cash handed back.

    Always Chinese, like every receipt. The time is the cancel's (from the journal), so a
    reprint shows the same time as the first print.
    """
    order = view.order
    columns = COLUMNS[paper_mm]
    rule = "-" * columns
    title = TITLES.get(order.processing, "缴费凭证").removesuffix("凭证") + "撤销凭证"
    out = [center(header.utility, columns), center(title, columns), center("【撤销】", columns)]
    if reprint:
        out.append(center("（重打）", columns))
    out.append(rule)
    out += pair("原票据号", f"{order.batch:03d}{order.trace:06d}", columns)
    out += pair("终端", order.terminal_id, columns)
    out += pair("代收点", header.agent, columns)
    out += pair("操作员", (view.cancel or {}).get("by", "") or order.operator, columns)
    out.append(rule)
    out += pair("户号", order.customer_no or "", columns)
    out += pair("户名", order.name, columns)
    if order.address:
        out += fit("地址 " + order.address, columns)
    out.append(rule)
    out += pair("撤销金额", money(order.amount_fen), columns)
    out += pair("退还现金", money(order.amount_fen), columns)
    if view.approved_at:
        out += pair("原交易时间", _local(view.approved_at), columns)
    if view.cancelled_at:
        out += pair("撤销时间", _local(view.cancelled_at), columns)
    station_ref = (view.approval or {}).get("station_ref")
    if station_ref is not None:
        out += pair("原主站流水", str(station_ref), columns)
    out.append(rule)
    out += fit(f"原缴费{yuan(order.amount_fen)}元已撤销，冲正由终端上送主站", columns)
    out.append(center("请妥善保管此凭证", columns))
    return out


def _local(utc_iso: str) -> str:
    return datetime.fromisoformat(utc_iso).astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S")
