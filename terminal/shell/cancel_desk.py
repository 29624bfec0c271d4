"""The desk's part for cancel (撤销): the payments to pick from, the supervisor's password, and
the cancel itself, carried out by the executor (``terminal.core.cancel`` says what may be
cancelled and what is journalled).

The password is checked here, on the terminal, against the salted hash in the configuration
(``config.supervisor`` says why it lives there), off the event loop because the hash is slow on
purpose; and checked again with the cancel itself, so no cancel is journalled without it.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from config.supervisor import check_password
from terminal.core import cancel
from terminal.core import cancel_requests as cx
from terminal.core.engine import View
from terminal.core.lifecycle import State
from terminal.core.receipt import LOCAL_TZ
from terminal.shell.terminal import Terminal

WRONG_PASSWORD = "wrong_password"


class Cancels:
    def __init__(self, terminal: Terminal, supervisor_hash: str = "") -> None:
        self.terminal = terminal
        self.supervisor_hash = supervisor_hash

    async def handle(
        self, request: cx.FindPayments | cx.CheckSupervisor | cx.CancelPayment
    ) -> cx.PaymentList | cx.SupervisorChecked | cx.Cancelled:
        match request:
            case cx.FindPayments(trace):
                return self.find(trace)
            case cx.CheckSupervisor(password):
                return cx.SupervisorChecked(
                    await self._checks(password), bool(self.supervisor_hash)
                )
            case cx.CancelPayment(txn, password):
                return await self.cancel(txn, password)

    def find(self, trace: int = 0) -> cx.PaymentList:
        """The open batch's approved cash payments, newest first; or the one under ``trace``."""
        session = self.terminal.session
        if trace:
            txns = [t for t in self.terminal.journal.states() if t.endswith(f"/{trace:06d}")]
        else:
            prefix = f"{session.terminal_id}/{session.batch:03d}/"
            txns = [t for t in self.terminal.journal.states() if t.startswith(prefix)]
        items = []
        for txn in txns:
            view = self.terminal.view(txn)
            if view is None or (not trace and not _approved_cash(view)):
                continue
            items.append(self._item(view))
        items.sort(key=lambda item: item.trace, reverse=True)
        return cx.PaymentList(tuple(items), trace, enabled=bool(self.supervisor_hash))

    def _item(self, view: View) -> cx.PaymentItem:
        order = view.order
        when = None
        if view.approved_at is not None:
            when = datetime.fromisoformat(view.approved_at).astimezone(LOCAL_TZ)
        return cx.PaymentItem(
            txn=order.txn,
            trace=order.trace,
            customer_no=order.customer_no or "",
            name=order.name,
            amount_fen=order.amount_fen,
            time=when,
            refusal=cancel.refusal(view, self.terminal.session.batch),
        )

    async def _checks(self, password: str) -> bool:
        if not self.supervisor_hash:
            return False
        return await asyncio.to_thread(check_password, self.supervisor_hash, password)

    async def cancel(self, txn: str, password: str) -> cx.Cancelled:
        if not await self._checks(password):
            return cx.Cancelled(txn, refusal=WRONG_PASSWORD)
        self.terminal.session.key()  # signed on: the operator named on the 撤销 receipt
        finished = await self.terminal.executor.cancel(txn)
        view = self.terminal.view(txn)
        amount = view.order.amount_fen if view else 0
        if finished.message in cancel.REFUSALS or finished.outcome is not State.REVERSAL_QUEUED:
            return cx.Cancelled(txn, amount, refusal=finished.message or cancel.NOT_APPROVED)
        printed = finished.message != "receipt_not_printed"
        return cx.Cancelled(txn, amount, printed=printed, print_reason=finished.print_reason)


def _approved_cash(view: View) -> bool:
    return view.approved_at is not None and view.order.processing in cancel.CASH_KINDS
