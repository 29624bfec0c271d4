"""The must-deliver outbox: what the station must still be told, in the order it was owed.

Nothing is stored here that is not in the journal: an item *is* a transaction whose journal state
owes the station a message (a reversal, a completion advice, an offline payment upload). So an
item can never be dropped — it leaves the outbox only when the journal records the station's
acknowledgement — and the outbox survives every crash the journal survives.

Items are worked strictly in order: the first undelivered item blocks the ones behind it, so the
station always learns of a reversal before anything the terminal did later.
"""

from __future__ import annotations

from dataclasses import dataclass

from offline_queue.journal import Journal
from terminal.core.engine import view_from
from terminal.core.lifecycle import OWES_COMPLETION, OWES_REVERSAL, OWES_UPLOAD, SYSTEM, State
from terminal.core.orders import Order
from terminal.protocol import messages as m

# The entry that puts a transaction into the outbox, per kind of item.
QUEUING_EVENT = {"reversal": "reversal_queued", "completion": "printed", "upload": "offline"}
DONE_EVENT = {"reversal": "reversed", "completion": "completed", "upload": "completed"}


@dataclass(frozen=True)
class Item:
    """One message owed to the station: which transaction, what kind, in what order."""

    txn: str
    kind: str  # reversal, completion, upload
    queued_seq: int  # journal sequence of the entry that queued it: the delivery order
    order: Order
    delivered_before: bool  # a first attempt was made: later ones go as repeats (0401/0221)

    def message(self) -> m.Message:
        if self.kind == "reversal":
            return self.order.reversal(repeat=self.delivered_before)
        if self.kind == "completion":
            return self.order.completion(repeat=self.delivered_before)
        return m.AdviceRequest(
            processing=m.Processing.OFFLINE_PAYMENT,
            terminal_id=self.order.terminal_id,
            batch=self.order.batch,
            trace=self.order.trace,
            amount_fen=self.order.amount_fen,
            customer_no=self.order.customer_no,
            repeat=self.delivered_before,
        )


def pending(journal: Journal) -> list[Item]:
    """Every item still owed, oldest first."""
    owed = {
        txn: state
        for txn, state in journal.states().items()
        if state in OWES_REVERSAL | OWES_COMPLETION | OWES_UPLOAD
    }
    if not owed:
        return []
    items = []
    for txn, state in owed.items():
        entries = list(journal.entries(txn))
        view = view_from(entries)
        if view is None or txn == SYSTEM:
            continue
        kind = _kind(state)
        queued = [e for e in entries if e.event == QUEUING_EVENT[kind]]
        tail = entries[entries.index(queued[0]) :] if queued else entries
        items.append(
            Item(
                txn=txn,
                kind=kind,
                queued_seq=queued[0].seq if queued else entries[0].seq,
                order=view.order,
                delivered_before=any(e.event == "delivering" for e in tail),
            )
        )
    return sorted(items, key=lambda item: item.queued_seq)


def _kind(state: State) -> str:
    if state in OWES_REVERSAL:
        return "reversal"
    if state in OWES_COMPLETION:
        return "completion"
    return "upload"
