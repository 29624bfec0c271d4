"""Cancel (撤销) in the menu machine: pick a payment, the supervisor's password, the confirm
screen, the outcome.

A mixin over ``State``. The list comes from the terminal (``FindPayments``), newest first; the
operator marks one with UP/DOWN or types its trace number (any batch: a payment of a closed batch
is found and refused with the reason). Nothing is cancelled before a supervisor's password was
checked and a screen showing the customer, the amount and the time was confirmed; the password
goes back with ``CancelPayment`` (checked again there) and is forgotten with the job.
"""

from __future__ import annotations

from drivers.keypad.keys import Key
from terminal.core.cancel_requests import (
    Cancelled,
    CancelPayment,
    CheckSupervisor,
    FindPayments,
    PaymentItem,
    PaymentList,
    SupervisorChecked,
)
from terminal.core.money import yuan
from ui import wording
from ui.state import Command, Mode, State

SUPERVISOR_ATTEMPTS = 3  # wrong supervisor passwords before the cancel is dropped
LIST_ROWS = 5  # list lines on one screen (each fits the 32 columns of a small display)


class Cancelling(State):
    # --- the list --------------------------------------------------------------------------

    def on_payments(self, found: PaymentList) -> list[Command]:
        if not found.enabled:
            return self._message([self.t("cancel_off")])
        if found.trace:  # looked up by a trace number not on the list
            if not found.items:
                return self._pick([self.t("cancel_no_trace", trace=f"{found.trace:06d}")])
            return self._picked(found.items[0])
        self.job.payments, self.job.cursor = found.items, 0
        if not found.items:
            return self._message([self.t("cancel_none")])
        return self._pick()

    def _pick(self, notes: list[str] | None = None) -> list[Command]:
        items, cursor = self.job.payments, self.job.cursor
        first = max(0, min(cursor - LIST_ROWS // 2, len(items) - LIST_ROWS))
        rows = [
            (">" if i == cursor else " ") + self._row(item)
            for i, item in enumerate(items[first : first + LIST_ROWS], first)
        ]
        return self._go(Mode.CANCEL_PICK, self.t("cancel"), [*(notes or []), *rows], self.text)

    def _row(self, item: PaymentItem) -> str:
        """Trace, customer, amount, and a short mark when it cannot be cancelled."""
        tag = " " + self.t(f"cancel_tag_{item.refusal}") if item.refusal else ""
        return f"{item.trace:06d} {item.customer_no} {yuan(item.amount_fen)}{tag}"

    def pick_down(self, key: Key) -> list[Command]:
        self.job.cursor = min(self.job.cursor + 1, max(len(self.job.payments) - 1, 0))
        return self._pick()

    def pick_up(self, key: Key) -> list[Command]:
        self.job.cursor = max(self.job.cursor - 1, 0)
        return self._pick()

    def pick_done(self, key: Key) -> list[Command]:
        """OK: the trace number typed, or else the payment marked on the list."""
        if self.text:
            trace = int(self.text)
            self.text = ""
            for item in self.job.payments:
                if item.trace == trace:
                    return self._picked(item)
            return self._busy("querying", FindPayments(trace))
        if not self.job.payments:
            return self._pick()
        return self._picked(self.job.payments[self.job.cursor])

    def _picked(self, item: PaymentItem) -> list[Command]:
        if item.refusal:
            return self._message([self._row(item), self.t(f"cancel_refused_{item.refusal}")])
        self.job.picked = item
        return self._go(Mode.SUPERVISOR, self.t("cancel"), [self._row(item)])

    # --- the supervisor --------------------------------------------------------------------

    def supervisor_done(self, key: Key) -> list[Command]:
        if not self.text:
            return [self._show()]
        self.job.supervisor, self.text = self.text, ""
        return self._busy("checking", CheckSupervisor(self.job.supervisor))

    def on_supervisor(self, checked: SupervisorChecked) -> list[Command]:
        if not checked.configured:
            return self._message([self.t("cancel_off")])
        item = self.job.picked
        if checked.ok and item is not None:
            return self._go(
                Mode.CANCEL_CONFIRM, self.t("cancel_confirm"), self._confirm_lines(item)
            )
        self.job.supervisor = ""
        self.job.supervisor_failures += 1
        left = SUPERVISOR_ATTEMPTS - self.job.supervisor_failures
        if left <= 0 or item is None:
            return self._message([self.t("supervisor_refused")])
        return self._go(Mode.SUPERVISOR, lines=[self.t("supervisor_wrong", left=left)])

    def _confirm_lines(self, item: PaymentItem) -> list[str]:
        when = f"{item.time:%Y-%m-%d %H:%M}" if item.time else "-"
        lines = [self.t("cancel_what", trace=f"{item.trace:06d}", customer=item.customer_no)]
        if item.name:
            lines.append(f"{self.t('name')}: {item.name}")
        lines.append(self.t("cancel_amount", amount=yuan(item.amount_fen)))
        lines.append(self.t("cancel_time", time=when))
        lines.append(self.t("cancel_effect", amount=yuan(item.amount_fen)))
        return lines

    def cancel_go(self, key: Key) -> list[Command]:
        item, password = self.job.picked, self.job.supervisor
        if item is None or not password:
            return self.to_main()
        self.job.supervisor = ""
        return self._busy("sending", CancelPayment(item.txn, password))

    # --- the outcome -----------------------------------------------------------------------

    def on_cancelled(self, done: Cancelled) -> list[Command]:
        if done.refusal:
            return self._message([self.t(f"cancel_refused_{done.refusal}")])
        lines = [self.t("cancel_done", amount=yuan(done.amount_fen))]
        if done.printed:
            lines.append(self.t("cancel_receipt_printed"))
        else:
            why = wording.reason(done.print_reason or "no_printer", self.locale)
            lines.append(self.t("receipt_not_printed", reason=why))
        return self._message(lines)
