"""The card flows of the menu machine: read the card, then diagnose, open, reissue or buy onto it;
and put a card pulled mid-write back (OK), or give up on it, which reverses the purchase.

A mixin over ``State``. The card read is kept in the job beside the customer and goes back to
the terminal in ``Pay``.
"""

from __future__ import annotations

from drivers.keypad.keys import Key
from terminal.core.cancel_requests import GiveUpCardWrite
from terminal.core.cash import Tender
from terminal.core.requests import (
    BlankCard,
    CardDiagnosed,
    CardOwner,
    CardRefused,
    Failed,
    ReadCard,
    ResumeCardWrite,
)
from ui import wording
from ui.state import CARD_PURPOSE, Command, Flow, Mode, State


class Cards(State):
    def card_ready(self, key: Key) -> list[Command]:
        """OK on "insert the card": resume an interrupted write, or read the card for the flow."""
        if self.job.txn:
            return self._busy("writing_card", ResumeCardWrite(self.job.txn))
        if self.flow not in CARD_PURPOSE:
            return [self._show()]
        return self._busy("reading_card", ReadCard(CARD_PURPOSE[self.flow]))

    def card_wait_cancel(self, key: Key) -> list[Command]:
        """CANCEL on "insert the card": back to the menu, unless a write was interrupted — then
        ask first, because giving up on that card reverses the purchase."""
        if not self.job.txn:
            return self.to_main()
        return self._go(Mode.CARD_GIVE_UP, lines=[self.t("card_give_up_ask")])

    def card_give_up(self, key: Key) -> list[Command]:
        return self._busy("busy", GiveUpCardWrite(self.job.txn))

    def card_keep_waiting(self, key: Key) -> list[Command]:
        return self._go(Mode.CARD_WAIT, lines=[self.t("card_pulled_reinsert")])

    def on_diagnosed(self, diagnosed: CardDiagnosed) -> list[Command]:
        return self._message(wording.findings(diagnosed.findings, self.locale))

    def on_blank(self, blank: BlankCard) -> list[Command]:
        """A blank card for a new customer (first purchase next) or a replacement (fee next)."""
        self.job.card = blank.card
        if self.flow is Flow.REISSUE:
            fee = self.limits.reissue_fee_fen
            return self._confirm(Tender(fee, fee))
        self.job.amount_label = "first_purchase"
        return self._go(Mode.CASH, lines=[])

    def on_owner(self, owner: CardOwner) -> list[Command]:
        self.job.customer = owner.customer
        self.job.card = owner.card
        return self._go(Mode.INFO, lines=wording.owner_lines(owner, self.locale))

    def on_refused(self, refused: CardRefused) -> list[Command]:
        """Not a card this flow can use: say what is wrong and wait for another."""
        if self.flow is Flow.DIAG:
            return self._message(wording.findings(refused.findings, self.locale))
        found = wording.findings(refused.findings, self.locale)
        reason = found[0] if found else self.t("insert_blank")
        return self._retry_card(reason)

    def card_failed(self, failed: Failed) -> list[Command]:
        """The card could not be read, or the station did not know it: try again."""
        if failed.needs_sign_on:
            return self._failed(failed)
        return self._retry_card(wording.failure(failed, self.locale))

    def _retry_card(self, reason: str) -> list[Command]:
        insert = "insert_blank" if self.flow in (Flow.OPEN, Flow.REISSUE) else "insert_card"
        return self._go(Mode.CARD_WAIT, lines=[self.t("card_error", reason=reason), self.t(insert)])
