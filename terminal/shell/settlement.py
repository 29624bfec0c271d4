"""Settlement (扎帐): close the batch when terminal and station agree; resolve what differs.

The difference search itself is pure (``terminal.core.settlement``); here are its exchanges with
the station, and the resolution of each difference through the normal machinery: a
transaction the terminal still holds as unknown is repeated, a queued reversal is delivered by
the outbox, and a posting the terminal has no record of (its journal was lost) is adopted from
the station's listing. What cannot be resolved is printed on the slip for the utility to follow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from offline_queue.journal import Journal
from terminal.core.engine import view_from
from terminal.core.lifecycle import FINAL, POSTED, SYSTEM, State
from terminal.core.orders import Order, txn_key
from terminal.core.receipt import SettlementSlip
from terminal.core.settlement import Difference, Entries, find_differences
from terminal.protocol import messages as m
from terminal.protocol.codes import PROCESSING_OF
from terminal.protocol.digest import summarize
from terminal.protocol.records import ListingEntry, Summary
from terminal.shell.delivery import Delivery
from terminal.shell.executor import Executor
from terminal.shell.offline import credit_notes
from terminal.shell.printing import Receipts
from terminal.shell.session import Session, StationDeclined

ROUNDS = 3  # settle, resolve, settle again: at most this often before printing what differs


class NotReadyToSettle(StationDeclined):
    """The batch cannot close yet: messages are still owed, or a transaction is unresolved."""


@dataclass
class SettlementOutcome:
    """How a settlement ended: balanced and closed, or what differs."""

    balanced: bool
    batch: int
    count: int
    total_fen: int
    next_batch: int | None = None
    differences: list[str] = field(default_factory=list)
    bytes_used: int = 0


class Settlement:
    def __init__(
        self,
        journal: Journal,
        session: Session,
        executor: Executor,
        delivery: Delivery,
        receipts: Receipts,
    ) -> None:
        self.journal = journal
        self.session = session
        self.executor = executor
        self.delivery = delivery
        self.receipts = receipts

    def batch_entries(self, batch: int | None = None) -> Entries:
        """What this terminal holds as posted in the batch: trace -> (kind, amount)."""
        batch = self.session.batch if batch is None else batch
        prefix = f"{self.session.terminal_id}/{batch:03d}/"
        posted: Entries = {}
        for txn, state in self.journal.states().items():
            if not txn.startswith(prefix) or state not in POSTED:
                continue
            view = view_from(self.journal.entries(txn))
            if view is not None:
                posted[view.order.trace] = (view.order.kind, view.order.amount_fen)
        return posted

    async def settle(self) -> SettlementOutcome:
        """Deliver what is owed, then settle; raises ``StationDeclined`` when it cannot start."""
        self.session.key()
        drained = await self.delivery.drain()
        if drained.remaining:
            raise NotReadyToSettle("pending_items")
        if any(
            self.journal.state(t) not in FINAL | POSTED for t in self.journal.open_transactions()
        ):
            raise NotReadyToSettle("open_transactions")
        link = self.session.link
        start_bytes = link.bytes_sent + link.bytes_received
        outcome = await self._rounds(self.session.batch)
        outcome.differences += credit_notes(self.journal, outcome.batch)
        outcome.bytes_used = link.bytes_sent + link.bytes_received - start_bytes
        await self.receipts.print_slip(
            SettlementSlip(
                utility=self.receipts.utility,
                terminal_id=self.session.terminal_id,
                agent=self.session.agent_name,
                operator=self.session.operator,
                batch=outcome.batch,
                count=outcome.count,
                total_fen=outcome.total_fen,
                balanced=outcome.balanced,
                differences=tuple(outcome.differences),
                time=datetime.now(UTC),
            )
        )
        return outcome

    async def _rounds(self, batch: int) -> SettlementOutcome:
        differences: list[Difference] = []
        for _round in range(ROUNDS):
            local = self.batch_entries(batch)
            summary, total = summarize((t, k, a) for t, (k, a) in local.items())
            reply = await self.session.request(
                m.SettlementRequest(
                    terminal_id=self.session.terminal_id,
                    batch=batch,
                    trace=self.journal.take_trace(),
                    amount_fen=total,
                    summary=summary,
                )
            )
            if reply.approved:
                assert isinstance(reply, m.SettlementResponse)
                self._close(batch, reply.batch, summary.count, total)
                return SettlementOutcome(
                    True,
                    batch,
                    summary.count,
                    total,
                    reply.batch,
                    [d.describe() for d in differences],
                )
            if not isinstance(reply, m.SettlementResponse) or reply.summary is None:
                raise StationDeclined(reply.response)
            if reply.response != "95":
                raise StationDeclined(reply.response)
            last = max(self.journal.counter("next_trace", 2) - 1, max(local, default=1))
            differences = await find_differences(
                local,
                1,
                last,
                (reply.summary, reply.amount_fen or 0),
                lambda lo, hi: self._digest(batch, lo, hi),
                lambda lo, hi: self._listing(batch, lo, hi),
            )
            if not await self._resolve(batch, differences):
                break
        return SettlementOutcome(
            False, batch, summary.count, total, differences=[d.describe() for d in differences]
        )

    def _close(self, batch: int, next_batch: int, count: int, total: int) -> None:
        self.journal.append(
            SYSTEM,
            "batch_closed",
            {"batch": batch, "next_batch": next_batch, "count": count, "total_fen": total},
        )
        self.session.set_batch(next_batch)

    async def _detail(self, request: m.DetailRequest) -> m.DetailResponse:
        reply = await self.session.request(request)
        if not reply.approved or not isinstance(reply, m.DetailResponse):
            raise StationDeclined(reply.response)
        return reply

    async def _digest(self, batch: int, first: int, last: int) -> tuple[Summary, int]:
        reply = await self._detail(
            m.DetailRequest(
                terminal_id=self.session.terminal_id,
                batch=batch,
                trace=self.journal.take_trace(),
                range=(first, last),
            )
        )
        if reply.summary is None:
            raise StationDeclined(reply.response)
        return reply.summary, reply.amount_fen or 0

    async def _listing(self, batch: int, first: int, last: int) -> tuple[ListingEntry, ...]:
        reply = await self._detail(
            m.DetailRequest(
                processing=m.Processing.DETAIL_LISTING,
                terminal_id=self.session.terminal_id,
                batch=batch,
                trace=self.journal.take_trace(),
                range=(first, last),
            )
        )
        return reply.listing or ()

    async def _resolve(self, batch: int, differences: list[Difference]) -> bool:
        """Resolve what can be resolved; True when anything changed (settle again)."""
        changed = False
        for difference in differences:
            txn = txn_key(self.session.terminal_id, batch, difference.trace)
            state = self.journal.state(txn)
            if difference.mine is not None or difference.station is None:
                continue
            if state is State.NEW:
                entry = difference.station
                order = Order(
                    processing=PROCESSING_OF[entry.kind],
                    terminal_id=self.session.terminal_id,
                    batch=batch,
                    trace=entry.trace,
                    amount_fen=entry.amount_fen,
                )
                self.journal.append(txn, "adopted", order.to_payload())
                changed = True
            elif state in (State.UNKNOWN, State.SENT, State.REVERSAL_QUEUED):
                await self.executor.recover()
                await self.delivery.drain()
                changed = True
        return changed
