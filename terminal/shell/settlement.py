"""Settlement (扎帐): close the batch when terminal and station agree; resolve what differs.

The 0500 carries a sketch of the batch when the station speaks protocol 3 (R46), so a 95 usually
names the differences itself (R47), checked before use; the difference search by trace range
(pure, ``terminal.core.settlement``) is the fallback. Here are the exchanges with
the station, and the resolution of each difference through the normal machinery: a
transaction the terminal still holds as unknown is repeated, a queued reversal is delivered by
the outbox, and a posting the terminal has no record of (its journal was lost) is adopted from
the station's listing. What cannot be resolved is printed on the slip for the utility to follow.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

from offline_queue.journal import Journal
from terminal.core.engine import view_from
from terminal.core.lifecycle import FINAL, POSTED, SYSTEM, State
from terminal.core.orders import Order, txn_key
from terminal.core.receipt import SettlementSlip
from terminal.core.settlement import Difference, Entries, find_differences, named_differences
from terminal.protocol import messages as m
from terminal.protocol.codes import PROCESSING_OF, SKETCH_VERSION
from terminal.protocol.digest import summarize
from terminal.protocol.reconcile import sketch_of
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
    # Finding the differences (the first 0500 and whatever it took to name them): how, with
    # how many round trips and bytes. "sketch": named by the 95 itself; "search": by range.
    found_by: str | None = None
    search_round_trips: int = 0
    search_bytes: int = 0


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
        station: tuple[Summary, int] | None = None  # the station's figures, after a 95
        search: tuple[str, int, int] | None = None
        link = self.session.link
        for _round in range(ROUNDS):
            local = self.batch_entries(batch)
            entries = [(t, k, a) for t, (k, a) in local.items()]
            summary, total = summarize(entries)
            # The sketch rides along unless the station's figures are already known to agree. It
            # is computed off the event loop: a large batch on a slow core takes seconds, and the
            # keypad and the link must go on answering meanwhile.
            sketch = None
            if self.session.protocol >= SKETCH_VERSION and station != (summary, total):
                sketch = (await asyncio.to_thread(sketch_of, entries)).to_bytes()
            start = (link.round_trips, link.bytes_sent + link.bytes_received)
            reply = await self.session.request(
                m.SettlementRequest(
                    terminal_id=self.session.terminal_id,
                    batch=batch,
                    trace=self.journal.take_trace(),
                    amount_fen=total,
                    summary=summary,
                    sketch=sketch,
                )
            )
            if reply.approved:
                assert isinstance(reply, m.SettlementResponse)
                self._close(batch, reply.batch, summary.count, total)
                return self._outcome(
                    True, batch, summary.count, total, differences, search, reply.batch
                )
            if not isinstance(reply, m.SettlementResponse) or reply.summary is None:
                raise StationDeclined(reply.response)
            if reply.response != "95":
                raise StationDeclined(reply.response)
            station = (reply.summary, reply.amount_fen or 0)
            named = None
            if reply.differences is not None:
                named = named_differences(local, reply.differences, station)
            if named is not None:
                differences, how = named, "sketch"
            else:
                last = max(self.journal.counter("next_trace", 2) - 1, max(local, default=1))
                differences = await find_differences(
                    local,
                    1,
                    last,
                    station,
                    lambda lo, hi: self._digest(batch, lo, hi),
                    lambda lo, hi: self._listing(batch, lo, hi),
                )
                how = "search"
            if search is None:
                search = (
                    how,
                    link.round_trips - start[0],
                    link.bytes_sent + link.bytes_received - start[1],
                )
            if not await self._resolve(batch, differences):
                break
        return self._outcome(False, batch, summary.count, total, differences, search)

    @staticmethod
    def _outcome(
        balanced: bool,
        batch: int,
        count: int,
        total: int,
        differences: list[Difference],
        search: tuple[str, int, int] | None,
        next_batch: int | None = None,
    ) -> SettlementOutcome:
        how, trips, size = search or (None, 0, 0)
        return SettlementOutcome(
            balanced,
            batch,
            count,
            total,
            next_batch,
            [d.describe() for d in differences],
            found_by=how,
            search_round_trips=trips,
            search_bytes=size,
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
