"""Conformance checks, settlement by sketch (R46–R48): the station decodes a 0500's sketch into
exactly the differences, verifies them before it answers, and names none it cannot verify.

They run last: they post a few payments in the batch the earlier checks left open, claim a batch
that differs from it in known ways, and finally settle it balanced with a sketch.
"""

from __future__ import annotations

from typing import Any

from terminal.protocol import messages as m
from terminal.protocol.digest import summarize
from terminal.protocol.reconcile import SKETCH_CAPACITY, Mismatch, sketch_of
from terminal.protocol.records import ListingEntry, TxnKind
from terminal.tools.conformance_kit import SETTLEMENT, Kit, P, check, expect, expect_code

Batch = dict[int, tuple[TxnKind, int]]


def _settle(kit: Kit, claim: Batch, sketched: Batch | None = None) -> Any:
    """0500 claiming ``claim``, with the sketch of ``sketched`` (by default, of the claim)."""
    c = kit.c
    entries = [(t, k, a) for t, (k, a) in claim.items()]
    shown = entries if sketched is None else [(t, k, a) for t, (k, a) in sketched.items()]
    summary, total = summarize(entries)
    request = m.SettlementRequest(
        terminal_id=c.terminal_id,
        batch=c.batch,
        trace=c.next_trace(),
        amount_fen=total,
        summary=summary,
        sketch=sketch_of(shown).to_bytes(),
    )
    return c.ask(request)


def _posted(kit: Kit) -> Batch:
    """The open batch as the kit booked it, with at least three postings of its own."""
    while len(kit.posted) < 3:
        answer = kit.pay(P.PREPAYMENT, 1000 + len(kit.posted), kit.demo.remote)
        expect_code(answer, "00", "0200 prepayment for the sketch checks")
    return dict(kit.posted)


@check(
    SETTLEMENT,
    "R47",
    "settle-sketch-named",
    "0500 with a sketch: the 95 names exactly the traces that differ (field 36)",
)
def sketch_named(kit: Kit) -> None:
    posted = _posted(kit)
    lacked, changed = sorted(posted)[:2]
    extra = 999_990  # a trace the station never saw in this batch
    claim = {t: v for t, v in posted.items() if t != lacked}
    claim[changed] = (posted[changed][0], posted[changed][1] + 1)
    claim[extra] = (TxnKind.BILL_PAYMENT, 4321)
    answer = _settle(kit, claim)
    expect_code(answer, "95", "0500 claiming a batch with three differences")
    want = tuple(
        Mismatch(t, ListingEntry(t, *posted[t]) if t in posted else None)
        for t in sorted((lacked, changed, extra))
    )
    got = tuple(
        Mismatch(d.trace, d.station and ListingEntry(d.trace, d.station.kind, d.station.amount_fen))
        for d in answer.differences or ()
    )  # the kit does not check the confirmed flag: its payments are not completed
    expect(answer.differences is not None, "the 95 names no differences (no field 36)")
    expect(got == want, f"field 36 names {got}, the differences are {want}")


@check(
    SETTLEMENT,
    "R47",
    "settle-sketch-verified",
    "a sketch that does not match its 0500's figures: 95 without field 36",
)
def sketch_verified(kit: Kit) -> None:
    posted = _posted(kit)
    claim = {t: v for t, v in posted.items() if t != min(posted)}
    # The figures say one payment is missing; the sketch says the batch is complete. The sketch
    # decodes (to nothing), and only the check against the figures can tell that is wrong.
    answer = _settle(kit, claim, sketched=posted)
    expect_code(answer, "95", "0500 with the figures of a shorter batch")
    expect(answer.differences is None, f"field 36 {answer.differences} for a sketch that lies")


@check(
    SETTLEMENT,
    "R47",
    "settle-sketch-overflow",
    f"more than {SKETCH_CAPACITY} differing fingerprints: 95 without field 36",
)
def sketch_overflow(kit: Kit) -> None:
    claim = _posted(kit)
    for index in range(SKETCH_CAPACITY + 1):
        claim[999_000 + index] = (TxnKind.BILL_PAYMENT, 100 + index)
    answer = _settle(kit, claim)
    expect_code(answer, "95", f"0500 claiming {SKETCH_CAPACITY + 1} payments more")
    expect(answer.differences is None, "field 36 for more differences than the sketch holds")


@check(
    SETTLEMENT,
    "R46",
    "settle-sketch-malformed",
    "a field 49 that is not whole 8-byte sums closes the connection",
)
def sketch_malformed(kit: Kit) -> None:
    c = kit.c
    good = m.SettlementRequest(
        terminal_id=c.terminal_id, batch=c.batch, trace=c.next_trace(), sketch=b"\xaa" * 16
    )
    data = m.encode(good, c.mac_key)
    data = data.replace(b"\x10" + b"\xaa" * 16, b"\x0c" + b"\xaa" * 12)  # 12 bytes: 1.5 sums
    probe = kit.connect()
    try:
        answer = probe.send_bytes(len(data).to_bytes(2, "big") + data)
    finally:
        probe.close()
    expect(answer is None, "the station answered a 0500 whose field 49 is 12 bytes long")


@check(SETTLEMENT, "R46", "settle-sketch-balanced", "a 0500 that agrees, with its sketch: 00")
def sketch_balanced(kit: Kit) -> None:
    answer = _settle(kit, _posted(kit))
    expect_code(answer, "00", "0500 with the kit's own figures and sketch")
    expect(answer.differences is None, "field 36 in a 00")
