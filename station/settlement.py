"""Settlement (0500) and detail upload (0320): close a batch only when the terminal's count, total
and digest agree with what the station posted; on a mismatch, let the terminal narrow it down by
trace range (digest) and list the entries (listing) until the difference is found — or, when the
0500 carries a sketch of the batch, name the differences in the 95 itself (``station.reconcile``).

A closed batch's answer is stored, so a repeated 0500 gets the same answer and closes nothing
twice; a different claim about a closed batch is refused with 78, since nothing can change it.
"""

from __future__ import annotations

from collections.abc import Iterable

from station.answers import Context, reply
from station.ledger import Row
from station.reconcile import differences
from terminal.protocol import messages as m
from terminal.protocol.digest import summarize
from terminal.protocol.records import ListingEntry, Summary, TxnKind
from terminal.protocol.responses import Code

LISTING_MAX = 28  # field 63 holds 28 entries


def _summary(rows: Iterable[Row]) -> tuple[Summary, int]:
    return summarize((r["trace"], r["kind"], r["amount_fen"]) for r in rows)


def settle(ctx: Context, request: m.SettlementRequest, terminal: Row) -> m.Response:
    """0500: close the open batch when both sides agree (R40-R42).

    A closed batch is answered from its own figures, not from its stored answer alone: the same
    claim gets the closing answer again (a repeat after a lost 0510, R41), any other claim 78,
    because a closed batch can no longer be reconciled into balance by this terminal.
    """
    db = ctx.ledger
    rows = db.posted(request.terminal_id, request.batch)
    summary, total = _summary(rows)
    agrees = summary == request.summary and total == request.amount_fen
    if request.batch != terminal["batch"]:
        stored = db.settlement(request.terminal_id, request.batch)
        if stored is None:
            return reply(request, Code.BATCH_MISMATCH)  # never opened, or not open yet
        return m.decode(stored) if agrees else reply(request, Code.BATCH_CLOSED)
    if not agrees:
        found = differences(request, rows)  # decoded from the 0500's sketch, if it has one (R47)
        return reply(
            request, Code.OUT_OF_BALANCE, amount_fen=total, summary=summary, differences=found
        )
    next_batch = terminal["batch"] % 999 + 1
    response = reply(request, Code.APPROVED, batch=next_batch, amount_fen=total, summary=summary)
    db.close_batch(
        request.terminal_id,
        request.batch,
        next_batch,
        m.encode(response, None),
        ctx.now().isoformat(),
    )
    return response


def detail(ctx: Context, request: m.DetailRequest, terminal: Row) -> m.Response:
    first, last = request.range
    rows = ctx.ledger.posted(request.terminal_id, request.batch, first, last)
    if request.processing == m.Processing.DETAIL_DIGEST:
        summary, total = _summary(rows)
        return reply(request, Code.APPROVED, range=request.range, amount_fen=total, summary=summary)
    if request.processing == m.Processing.DETAIL_LISTING:
        if len(rows) > LISTING_MAX:
            return reply(request, Code.INVALID, range=request.range)
        listing = tuple(
            ListingEntry(r["trace"], TxnKind(r["kind"]), r["amount_fen"], bool(r["confirmed"]))
            for r in rows
        )
        return reply(request, Code.APPROVED, range=request.range, listing=listing)
    return reply(request, Code.INVALID)
