"""Offline collection on the terminal: the route book downloaded, payments taken without a link,
and what the station made of them when they were uploaded.

Taking a payment offline is journal before effect like every other: the ``offline`` entry (the
order, with its own offline serial) is on disk before the receipt prints, ``printing`` before
the first byte goes to the printer and ``printed`` after; the outbox then owes the station the
upload (0220 170200), worked in order with the rest and repeated until answered. A power cut
anywhere leaves either nothing (no cash was declared taken) or an offline payment the outbox
will upload, whose receipt ``recover`` marks unprinted when the cut came mid-print.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from offline_queue.journal import Journal
from offline_queue.routebook import RouteBook
from terminal.core import offline as rules
from terminal.core.engine import Finished, View, fold, view_from
from terminal.core.lifecycle import State
from terminal.core.money import yuan
from terminal.core.orders import Order
from terminal.core.requests import Customer, Pay, RouteBookLoaded
from terminal.protocol import messages as m
from terminal.protocol.routebook import RouteEntry
from terminal.shell.printing import Receipts
from terminal.shell.session import Session, StationDeclined

SERIAL = "offline_serial"  # journal counter: the last offline serial handed out
OFFLINE = m.Processing.OFFLINE_PAYMENT


class Offline:
    def __init__(
        self,
        journal: Journal,
        session: Session,
        receipts: Receipts,
        owed: Callable[[], None] = lambda: None,
    ) -> None:
        self.journal = journal
        self.session = session
        self.receipts = receipts
        self.book = RouteBook(journal)
        self.owed = owed  # an upload is now owed: wake the delivery worker

    @property
    def limits(self) -> rules.OfflineLimits:
        return rules.OfflineLimits.from_amounts(self.session.offline_amounts)

    # --- before going out --------------------------------------------------------------

    async def download(self, route: int = 0) -> RouteBookLoaded:
        """Every page of the route book, then the book replaced at once (a cut-off download
        leaves the previous book)."""
        entries: list[RouteEntry] = []
        page, last, village = 1, 1, ""
        link = self.session.link
        start = link.bytes_sent + link.bytes_received
        while page <= last:
            reply = await self.session.inquire(m.Processing.ROUTE_BOOK, days=(route, page))
            entries += reply.route_book or ()
            village = village or reply.address or ""
            last = reply.range[1] if reply.range else page
            page += 1
        self.book.replace(entries, village, datetime.now(UTC))
        size = link.bytes_sent + link.bytes_received - start  # both ways, frames and MACs
        return RouteBookLoaded(len(entries), last, size, village)

    # --- with no link ------------------------------------------------------------------

    def _refuse_now(self, now: datetime) -> None:
        taken = self.book.taken()
        refusal = rules.book_refusal(
            self.limits, now, taken[0] if taken else None, self.session.signed_on_at
        )
        if refusal:
            raise StationDeclined(refusal)

    def available(self) -> bool:
        """A route book is on the terminal and the operator signed on (or resumed the last
        sign-on with no link)."""
        session = self.session
        return self.book.taken() is not None and (session.signed_on or session.offline_only)

    def find(self, customer_no: str) -> Customer:
        """The customer from the route book, less what was taken from them offline since it was
        downloaded; a plain refusal (``StationDeclined`` with a text key) otherwise."""
        now = datetime.now(UTC)
        self._refuse_now(now)
        entry = self.book.find(customer_no)
        if entry is None:
            raise StationDeclined("off_not_in_book")
        if not rules.takes_offline(entry.kind):
            raise StationDeclined("off_card_never")
        taken = self.book.taken()
        village = taken[1] if taken else ""
        since = taken[0] if taken else now
        return rules.customer_of(entry, village, self._taken_from(customer_no, since))

    def _offline_views(self) -> list[View]:
        views = []
        for txn, state in self.journal.states().items():
            if state in (State.OFFLINE, State.COMPLETED):
                view = view_from(self.journal.entries(txn))
                if view is not None and view.order.processing is OFFLINE:
                    views.append(view)
        return views

    def _taken_from(self, customer_no: str, since: datetime) -> int:
        return sum(
            v.order.amount_fen
            for v in self._offline_views()
            if v.order.customer_no == customer_no
            and v.approved_at is not None
            and datetime.fromisoformat(v.approved_at) >= since
        )

    def waiting(self) -> rules.Waiting:
        """Offline payments not yet uploaded: what counts against the total and count limits."""
        orders = [v.order for v in self._offline_views() if v.state is State.OFFLINE]
        return rules.Waiting(len(orders), sum(o.amount_fen for o in orders))

    def waiting_count(self) -> int:
        return sum(1 for state in self.journal.states().values() if state is State.OFFLINE)

    async def take(self, pay: Pay) -> tuple[Finished, Order]:
        """Check every limit, journal the payment, print its 离线 receipt."""
        refusal = rules.flow_refusal(pay) or rules.payment_refusal(
            self.limits, self.waiting(), pay.tender.amount_fen
        )
        if refusal:
            raise StationDeclined(refusal)
        self._refuse_now(datetime.now(UTC))
        ids = self.session.ids()
        serial = self.journal.counter(SERIAL, 0) + 1
        self.journal.set_counter(SERIAL, serial)
        order = rules.order_for(pay, ids, serial)
        view = fold(None, self.journal.append(order.txn, "offline", order.to_payload()))
        assert view is not None
        try:
            self.journal.append(order.txn, "printing")
            ok, reason = await self.receipts.print_receipt(view)
            self.journal.append(order.txn, "printed", {"ok": ok, "reason": reason})
        finally:
            self.owed()
        if ok:
            return Finished(State.APPROVED, "00"), order
        return Finished(State.APPROVED, "00", "receipt_not_printed", reason or "no_printer"), order

    def recover(self) -> None:
        """After a power cut: an offline payment whose receipt may have stopped mid-print (or
        never started) is marked unprinted, so the operator is offered a reprint."""
        for txn in self.journal.open_transactions():
            if self.journal.state(txn) is not State.OFFLINE:
                continue
            printing = [e.event for e in self.journal.entries(txn) if e.event.startswith("print")]
            if not printing or printing[-1] == "printing":
                self.journal.append(
                    txn, "printed", {"ok": False, "reason": "restarted while printing"}
                )


def became_credit(journal: Journal, batch: int) -> list[tuple[Order, int]]:
    """Offline payments of ``batch`` of which the station put more to credit than the customer
    was told (the bill changed before the upload), with the fen that did."""
    found = []
    for txn, state in journal.states().items():
        if state is not State.COMPLETED or f"/{batch:03d}/" not in txn:
            continue
        entries = list(journal.entries(txn))
        view = view_from(entries)
        if view is None or view.order.processing is not OFFLINE:
            continue
        answer = next((e.payload for e in entries if e.event == "completed"), {})
        extra = rules.became_credit(view.order, answer.get("amounts", {}).get("CREDIT", 0))
        if extra:
            found.append((view.order, extra))
    return found


def credit_notes(journal: Journal, batch: int) -> list[str]:
    """The settlement slip's lines for ``became_credit``."""
    return [
        f"离线L{order.offline_serial:05d} 户号{order.customer_no} "
        f"{yuan(extra)}元已转预存（账单已变）"
        for order, extra in became_credit(journal, batch)
    ]
