"""Settlement: close the batch when terminal and station agree; find what differs when not.

A balanced batch costs one exchange whatever its size: count, total and an 8-byte digest. On a
mismatch the terminal compares digests of halves of the trace range, recursively, and asks for
a listing only of ranges small enough to list — so the bytes on the air grow with the number
of differences (times the depth of the halving), not with the size of the batch.

Each difference is resolved through the normal machinery: a transaction the terminal still
holds as unknown is repeated, a queued reversal is delivered by the outbox, and a posting the
terminal has no record of (its journal was lost) is adopted from the station's listing. What
cannot be resolved is printed on the slip for the utility to follow up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from terminal.core.lifecycle import SYSTEM, State
from terminal.core.orders import Order, txn_key
from terminal.core.receipt import SettlementSlip, settlement_lines
from terminal.protocol import messages as m
from terminal.protocol.digest import summarize
from terminal.protocol.records import ListingEntry, Summary, TxnKind

if TYPE_CHECKING:
    from terminal.shell.terminal import SettlementOutcome, Terminal

LISTING_MAX = 28  # entries that fit in one 0330 listing
PROCESSING_OF = {
    TxnKind.BILL_PAYMENT: m.Processing.BILL_PAYMENT,
    TxnKind.PREPAYMENT: m.Processing.PREPAYMENT,
    TxnKind.CARD_PURCHASE: m.Processing.CARD_PURCHASE,
    TxnKind.CARD_REISSUE: m.Processing.CARD_REISSUE,
    TxnKind.CARD_OPEN: m.Processing.CARD_OPEN,
    TxnKind.OFFLINE_PAYMENT: m.Processing.OFFLINE_PAYMENT,
}


@dataclass(frozen=True)
class Difference:
    trace: int
    mine: tuple[TxnKind, int] | None
    station: ListingEntry | None

    def describe(self) -> str:
        if self.mine is None and self.station is not None:
            return f"流水{self.trace:06d} 主站有终端无 {self.station.amount_fen / 100:.2f}元"
        if self.station is None and self.mine is not None:
            return f"流水{self.trace:06d} 终端有主站无 {self.mine[1] / 100:.2f}元"
        assert self.mine is not None and self.station is not None
        return (
            f"流水{self.trace:06d} 金额不符 终端{self.mine[1] / 100:.2f}元"
            f" 主站{self.station.amount_fen / 100:.2f}元"
        )


Entries = dict[int, tuple[TxnKind, int]]
AskDigest = Callable[[int, int], Awaitable[tuple[Summary, int]]]
AskListing = Callable[[int, int], Awaitable[tuple[ListingEntry, ...]]]


async def find_differences(
    local: Entries,
    first: int,
    last: int,
    station: tuple[Summary, int],
    ask_digest: AskDigest,
    ask_listing: AskListing,
) -> list[Difference]:
    """Halve [first, last] until the differing ranges can be listed; compare the listings."""
    mine = {t: v for t, v in local.items() if first <= t <= last}
    summary, total = summarize((t, k, a) for t, (k, a) in mine.items())
    if (summary, total) == station:
        return []
    if max(station[0].count, len(mine)) <= LISTING_MAX or first >= last:
        listing = {entry.trace: entry for entry in await ask_listing(first, last)}
        differences = []
        for trace in sorted(set(mine) | set(listing)):
            have, theirs = mine.get(trace), listing.get(trace)
            if have is None or theirs is None or have != (theirs.kind, theirs.amount_fen):
                differences.append(Difference(trace, have, theirs))
        return differences
    middle = (first + last) // 2
    left = await ask_digest(first, middle)
    right = await ask_digest(middle + 1, last)
    return [
        *await find_differences(local, first, middle, left, ask_digest, ask_listing),
        *await find_differences(local, middle + 1, last, right, ask_digest, ask_listing),
    ]


async def settle(terminal: Terminal) -> SettlementOutcome:
    from terminal.shell.terminal import SettlementOutcome, StationDeclined

    link = terminal.link
    start_bytes = link.bytes_sent + link.bytes_received
    batch = terminal.batch
    differences: list[Difference] = []
    for _attempt in range(3):
        local = terminal.batch_entries(batch)
        summary, total = summarize((t, k, a) for t, (k, a) in local.items())
        reply = await terminal.request(
            m.SettlementRequest(
                terminal_id=terminal.terminal_id,
                batch=batch,
                trace=terminal.journal.take_trace(),
                amount_fen=total,
                summary=summary,
            )
        )
        if reply.approved:
            assert isinstance(reply, m.SettlementResponse)
            next_batch = reply.batch
            terminal.journal.append(
                SYSTEM,
                "batch_closed",
                {
                    "batch": batch,
                    "next_batch": next_batch,
                    "count": summary.count,
                    "total_fen": total,
                },
            )
            terminal.batch = next_batch
            terminal.journal.set_counter("batch", next_batch)
            outcome = SettlementOutcome(True, batch, summary.count, total, next_batch)
            outcome.differences = [d.describe() for d in differences]
            outcome.bytes_used = link.bytes_sent + link.bytes_received - start_bytes
            _print_slip(terminal, outcome)
            return outcome
        if reply.response != "95" or reply.summary is None:
            raise StationDeclined(reply.response)
        last = max(terminal.journal.counter("next_trace", 2) - 1, max(local, default=1))
        differences = await find_differences(
            local,
            1,
            last,
            (reply.summary, reply.amount_fen or 0),
            lambda lo, hi: _digest(terminal, batch, lo, hi),
            lambda lo, hi: _listing(terminal, batch, lo, hi),
        )
        if not await _resolve(terminal, batch, differences):
            break
    outcome = SettlementOutcome(False, batch, summary.count, total)
    outcome.differences = [d.describe() for d in differences]
    outcome.bytes_used = link.bytes_sent + link.bytes_received - start_bytes
    _print_slip(terminal, outcome)
    return outcome


async def _digest(terminal: Terminal, batch: int, first: int, last: int) -> tuple[Summary, int]:
    from terminal.shell.terminal import StationDeclined

    reply = await terminal.request(
        m.DetailRequest(
            terminal_id=terminal.terminal_id,
            batch=batch,
            trace=terminal.journal.take_trace(),
            range=(first, last),
        )
    )
    if not reply.approved or reply.summary is None:
        raise StationDeclined(reply.response)
    return reply.summary, reply.amount_fen or 0


async def _listing(
    terminal: Terminal, batch: int, first: int, last: int
) -> tuple[ListingEntry, ...]:
    from terminal.shell.terminal import StationDeclined

    reply = await terminal.request(
        m.DetailRequest(
            processing=m.Processing.DETAIL_LISTING,
            terminal_id=terminal.terminal_id,
            batch=batch,
            trace=terminal.journal.take_trace(),
            range=(first, last),
        )
    )
    if not reply.approved:
        raise StationDeclined(reply.response)
    return reply.listing or ()


async def _resolve(terminal: Terminal, batch: int, differences: list[Difference]) -> bool:
    """Resolve what can be resolved; True when anything changed (settle again)."""
    changed = False
    for difference in differences:
        txn = txn_key(terminal.terminal_id, batch, difference.trace)
        state = terminal.journal.state(txn)
        if difference.mine is None and difference.station is not None:
            if state is State.NEW:
                entry = difference.station
                order = Order(
                    processing=PROCESSING_OF[entry.kind],
                    terminal_id=terminal.terminal_id,
                    batch=batch,
                    trace=entry.trace,
                    amount_fen=entry.amount_fen,
                )
                terminal.journal.append(txn, "adopted", order.to_payload())
                changed = True
            elif state in (State.UNKNOWN, State.SENT, State.REVERSAL_QUEUED):
                await terminal.recover()
                await terminal.drain_outbox()
                changed = True
    return changed


def _print_slip(terminal: Terminal, outcome: SettlementOutcome) -> None:
    if terminal.printer is None:
        return
    slip = SettlementSlip(
        utility=terminal.utility,
        terminal_id=terminal.terminal_id,
        agent=terminal.agent_name,
        operator=terminal.operator,
        batch=outcome.batch,
        count=outcome.count,
        total_fen=outcome.total_fen,
        balanced=outcome.balanced,
        differences=tuple(outcome.differences),
        time=datetime.now(UTC),
    )
    terminal.printer.print_lines(settlement_lines(slip, terminal.paper_mm))
