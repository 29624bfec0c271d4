"""Paying: the customer number, the station's answer, the cash, the round-up offer, the confirm
screen and the outcome; and the meter reading that bills on site before the same payment.

A mixin over ``State``. The customer the station described and the tender the operator
confirmed are kept in the job and nowhere else; ``confirmed`` hands both back in ``Pay``.
"""

from __future__ import annotations

from typing import assert_never

from drivers.keypad.keys import Key
from terminal.core.cash import Tender, carried, exact
from terminal.core.money import parse_yuan, yuan
from terminal.core.requests import (
    BillReading,
    Customer,
    CustomerFound,
    FindCustomer,
    MeterBilled,
    Paid,
    Pay,
    PayOutcome,
)
from ui import wording
from ui.state import BILL_FLOWS, PAY_FLOW, WRITES_CARD, Answer, Command, Flow, Mode, State


class Payment(State):
    # --- the customer --------------------------------------------------------------------

    def customer_done(self, key: Key) -> list[Command]:
        number = self.text
        if len(number) != 10:
            return self._go(Mode.CUSTOMER, lines=[self.t("bad_customer_no")])
        self.job.customer = Customer(number)  # the station's description replaces it
        if self.flow is Flow.METER:
            return self._go(Mode.READING, lines=[])
        if self.flow in (Flow.OPEN, Flow.REISSUE):
            return self._go(Mode.CARD_WAIT, lines=[self.t("insert_blank")])
        return self._busy("querying", FindCustomer(number, history=self.flow is Flow.QUERY))

    def on_customer(self, found: CustomerFound) -> list[Command]:
        c = found.customer
        self.job.customer = c
        if self.flow is Flow.QUERY:
            return self._message(wording.history_lines(c, self.locale))
        lines = wording.due_lines(c, self.locale)
        if self.flow is Flow.PAY and c.due_fen <= 0:
            return self._message([*lines, self.t("no_arrears")])
        if c.offline:
            lines = [self.t("off_offer"), *lines]
        return self._go(Mode.INFO, lines=lines)

    def reading_done(self, key: Key) -> list[Command]:
        whole, _, tenth = self.text.partition(".")
        if not whole.isdigit() or (tenth and (len(tenth) > 1 or not tenth.isdigit())):
            return self._go(Mode.READING, lines=[self.t("bad_reading")])
        reading = int(whole) * 10 + int(tenth or 0)
        number = self.job.customer.customer_no if self.job.customer else ""
        return self._busy("querying", BillReading(number, reading))

    def on_meter_billed(self, billed: MeterBilled) -> list[Command]:
        self.job.customer = billed.customer
        lines = wording.meter_lines(billed, self.locale)
        if billed.customer.due_fen <= 0:
            return self._message([*lines, self.t("no_arrears")])
        return self._go(Mode.INFO, lines=lines)

    # --- the cash ------------------------------------------------------------------------

    def info_done(self, key: Key) -> list[Command]:
        if self.flow is Flow.OPEN:
            self.job.amount_label = "first_purchase"
        else:
            self.job.amount_label = "cash" if self.flow in BILL_FLOWS else "amount"
        return self._go(Mode.CASH, lines=self.lines[:1])

    def cash_done(self, key: Key) -> list[Command]:
        try:
            fen = parse_yuan(self.text)
        except ValueError:
            return self._go(Mode.CASH, lines=[self.t("bad_amount")])
        lim = self.limits
        if fen > lim.max_payment_fen:
            return self._refuse("over_limit", limit=yuan(lim.max_payment_fen))
        if self.flow in BILL_FLOWS:
            due = self.job.customer.due_fen if self.job.customer else 0
            if fen < due:
                return self._refuse("cash_short", due=yuan(due))
            self.job.exact = exact(due, fen)
            self.job.offer = carried(due, fen, lim.round_up_fen)
            if self.job.offer is not None:
                return self._go(
                    Mode.ROUNDUP, lines=[wording.roundup_line(self.job.offer, self.locale)]
                )
            return self._confirm(self.job.exact)
        if fen < lim.min_purchase_fen and not (self.flow is Flow.OPEN and fen == 0):
            return self._refuse("below_min", minimum=yuan(lim.min_purchase_fen))
        if self.flow is Flow.CARD and fen > lim.max_purchase_fen:
            return self._refuse("over_limit", limit=yuan(lim.max_purchase_fen))
        return self._confirm(Tender(fen, fen))

    def _refuse(self, key: str, **values: object) -> list[Command]:
        return self._go(Mode.CASH, lines=[self.t(key, **values)])

    def roundup_yes(self, key: Key) -> list[Command]:
        return self._confirm(self.job.offer) if self.job.offer else [self._show()]

    def roundup_no(self, key: Key) -> list[Command]:
        return self._confirm(self.job.exact) if self.job.exact else [self._show()]

    # --- the payment ---------------------------------------------------------------------

    def confirmed(self, key: Key) -> list[Command]:
        flow, tender = self.flow, self.job.tender
        if flow not in PAY_FLOW or tender is None:
            return [self._show()]
        card = self.job.card if flow in WRITES_CARD else None
        request = Pay(PAY_FLOW[flow], tender, self.job.customer, card)
        return self._busy("writing_card" if flow in WRITES_CARD else "sending", request)

    def on_paid(self, paid: Paid) -> list[Command]:
        tender = self.job.tender or Tender(0, 0)
        match paid.outcome:
            case PayOutcome.APPROVED:
                self.job.txn = ""
                written = self.flow in WRITES_CARD
                return self._message(wording.approved_lines(paid, tender, written, self.locale))
            case PayOutcome.CARD_PULLED:
                self.job.txn = paid.txn
                return self._go(Mode.CARD_WAIT, lines=[self.t("card_pulled_reinsert")])
            case PayOutcome.HAND_BACK_CASH:
                self.job.txn = ""
                return self._message(wording.hand_back_lines(paid, tender, self.locale))
            case _:
                assert_never(paid.outcome)

    def ask_wait(self, key: Key) -> list[Command]:
        return [*self._go(Mode.BUSY, self.asked_over, [self.t("sending")]), Answer(True)]

    def ask_give_up(self, key: Key) -> list[Command]:
        return [*self._go(Mode.BUSY, self.asked_over, [self.t("busy")]), Answer(False)]
