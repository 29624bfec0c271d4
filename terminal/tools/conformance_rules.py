"""Conformance checks, second half: repeats, reversals, settlement, heartbeat, and framing.

These are the rules a station most easily gets subtly wrong: a repeat must return the stored
answer and post once, a reversal must undo exactly its original (and only when it names it
field for field), a closed batch must never change, and a stream out of step must be closed
while a station keeps serving everyone else.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from terminal.protocol import messages as m
from terminal.protocol.codes import KIND_OF
from terminal.protocol.digest import summarize
from terminal.protocol.records import Amount, ListingEntry, Summary, TxnKind
from terminal.tools.conformance_checks import STATUS
from terminal.tools.conformance_kit import (
    FRAMING,
    HEARTBEAT,
    RECEIPTS,
    REPEATS,
    REVERSAL,
    SETTLEMENT,
    UPDATES,
    Kit,
    P,
    check,
    code,
    expect,
    expect_code,
)

# --- repeats ---------------------------------------------------------------------------------


@check(
    REPEATS,
    "R12",
    "repeat-same-answer",
    "a repeat gets the stored answer byte for byte, posted once",
)
def repeat_same_answer(kit: Kit) -> None:
    c = kit.c
    kit.pay(P.PREPAYMENT, 2500, kit.demo.remote)
    original = kit.keep["last"]
    first = c.exchange(original)
    expect_code(first.answer, "00", "0200 prepayment")
    limit = kit.stats()[Amount.AGENT_LIMIT]
    again = c.exchange(original)
    expect_code(again.answer, "00", "repeat of an approved 0200")
    expect(again.raw[:-8] == first.raw[:-8], "the repeat's answer differs from the stored one")
    after = kit.stats()[Amount.AGENT_LIMIT]
    expect(after == limit, f"a repeat was posted again: limit {limit} -> {after}")


@check(REPEATS, "R12", "repeat-declined", "a repeat of a declined payment is declined the same way")
def repeat_declined(kit: Kit) -> None:
    answer = kit.pay(P.PREPAYMENT, 0, kit.demo.remote)
    expect_code(answer, "13", "0200 of 0 fen")
    expect_code(kit.c.ask(kit.keep["last"]), "13", "repeat of a declined 0200")


@check(REPEATS, "R12", "repeat-inquiry", "a repeated inquiry gets the same answer")
def repeat_inquiry(kit: Kit) -> None:
    c = kit.c
    request = m.InquiryRequest(
        terminal_id=c.terminal_id, batch=c.batch, trace=c.next_trace(), customer_no=kit.demo.remote
    )
    first, again = c.exchange(request), c.exchange(request)
    expect_code(first.answer, "00", "0100")
    expect(again.raw[:-8] == first.raw[:-8], "the repeated inquiry's answer differs")


@check(
    REPEATS, "R13", "repeat-different-request", "the same key with another request gets 94, no post"
)
def repeat_different(kit: Kit) -> None:
    kit.pay(P.PREPAYMENT, 1800, kit.demo.remote)
    original = kit.keep["last"]
    limit = kit.stats()[Amount.AGENT_LIMIT]
    changed = dataclasses.replace(original, amount_fen=1900)
    expect_code(kit.c.ask(changed), "94", "the same key with a different amount")
    after = kit.stats()[Amount.AGENT_LIMIT]
    expect(after == limit, f"the different request was posted: limit {limit} -> {after}")


# --- reversal --------------------------------------------------------------------------------


def _pay_postpaid(kit: Kit, customer: str) -> tuple[m.FinancialRequest, int, int]:
    """Pay a postpaid customer's due plus 50 fen; the request, the due and the limit before."""
    due = (kit.inquire(customer_no=customer).amounts or {}).get(Amount.DUE, 0)
    limit = kit.stats()[Amount.AGENT_LIMIT]
    expect_code(kit.pay(P.BILL_PAYMENT, due + 50, customer), "00", "0200 bill payment")
    return kit.keep["last"], due, limit


@check(
    REVERSAL,
    "R27",
    "reversal-undoes",
    "0400 of a posted payment: 00, bills, credit and limit restored",
)
def reversal_undoes(kit: Kit) -> None:
    customer = kit.demo.postpaid[1]
    original, due, limit = _pay_postpaid(kit, customer)
    expect_code(kit.reverse(original), "00", "0400 of a posted payment")
    shown = kit.inquire(customer_no=customer).amounts or {}
    expect(shown.get(Amount.DUE) == due, f"due after reversal {shown.get(1)}, before {due}")
    expect(shown.get(Amount.CREDIT) == 0, f"credit after reversal {shown.get(2)}, not 0")
    after = kit.stats()[Amount.AGENT_LIMIT]
    expect(after == limit, f"limit after reversal {after}, before the payment {limit}")
    kit.keep["reversed"] = original


@check(REVERSAL, "R30", "reversal-repeat", "0401 gets the stored 00 and undoes nothing more")
def reversal_repeat(kit: Kit) -> None:
    original = kit.need("reversed", "reversal-undoes")
    limit = kit.stats()[Amount.AGENT_LIMIT]
    repeat = m.ReversalRequest(
        processing=original.processing,
        terminal_id=original.terminal_id,
        batch=original.batch,
        trace=original.trace,
        amount_fen=original.amount_fen,
        customer_no=original.customer_no,
        repeat=True,
    )
    expect_code(kit.c.ask(repeat), "00", "0401")
    after = kit.stats()[Amount.AGENT_LIMIT]
    expect(after == limit, f"0401 undid more: limit {limit} -> {after}")


@check(
    REPEATS, "R17", "reversed-original-40", "a repeat 0200 or a 0220 of a reversed payment gets 40"
)
def reversed_original(kit: Kit) -> None:
    original = kit.need("reversed", "reversal-undoes")
    c = kit.c
    expect_code(c.ask(original), "40", "repeat of a reversed 0200")
    expect_code(kit.complete(original), "40", "0220 completion of a reversed payment")


@check(
    REVERSAL, "R28", "reversal-unknown-original", "0400 of an unknown key: 00; the late original 40"
)
def reversal_unknown(kit: Kit) -> None:
    c = kit.c
    original = kit.financial(P.PREPAYMENT, 4200, kit.demo.remote)
    expect_code(kit.reverse(original), "00", "0400 whose original never arrived")
    limit = kit.stats()[Amount.AGENT_LIMIT]
    expect_code(c.ask(original), "40", "the original arriving after its reversal")
    after = kit.stats()[Amount.AGENT_LIMIT]
    expect(after == limit, f"the late original was posted: limit {limit} -> {after}")


@check(
    REVERSAL, "R29", "reversal-declined-original", "0400 of a declined payment: 00, nothing undone"
)
def reversal_declined(kit: Kit) -> None:
    kit.pay(P.PREPAYMENT, 0, kit.demo.remote)
    limit = kit.stats()[Amount.AGENT_LIMIT]
    expect_code(kit.reverse(kit.keep["last"]), "00", "0400 of a declined payment")
    expect(kit.stats()[Amount.AGENT_LIMIT] == limit, "reversing a declined payment moved money")


@check(
    REVERSAL, "R31", "reversal-must-match", "0400 naming another amount, customer or code gets 12"
)
def reversal_must_match(kit: Kit) -> None:
    d = kit.demo
    customer = d.postpaid[2]
    original, _, _ = _pay_postpaid(kit, customer)
    limit = kit.stats()[Amount.AGENT_LIMIT]
    wrong: dict[str, dict[str, Any]] = {
        "amount": {"amount_fen": original.amount_fen + 1},
        "customer": {"customer_no": d.postpaid[3]},
        "processing code": {"processing": P.PREPAYMENT},
    }
    failures = []
    for what, change in wrong.items():
        answer = kit.reverse(original, **change)
        if code(answer) != "12":
            failures.append(f"another {what}: {code(answer)}")
    after = kit.stats()[Amount.AGENT_LIMIT]
    expect(not failures, "a reversal that does not match its original was not refused with 12 ("
           + "; ".join(failures) + ")")  # fmt: skip
    expect(after == limit, f"a mismatched reversal undid the original: limit {limit} -> {after}")


@check(REVERSAL, "R31", "reversal-of-inquiry", "0400 naming an inquiry's key gets 12")
def reversal_of_inquiry(kit: Kit) -> None:
    c = kit.c
    trace = c.next_trace()
    expect_code(kit.inquire(customer_no=kit.demo.remote, trace=trace), "00", "0100")
    inquiry_key = kit.financial(P.PREPAYMENT, 100, kit.demo.remote, trace=trace)
    expect_code(kit.reverse(inquiry_key), "12", "0400 of an inquiry")


@check(
    REVERSAL, "R32", "reversal-confirmed-card", "0400 of a card purchase confirmed by 0220 gets 12"
)
def reversal_confirmed_card(kit: Kit) -> None:
    purchase = kit.need("card_purchase", "card-purchase")
    expect_code(kit.complete(purchase), "00", "0220 completion of the card purchase")
    expect_code(kit.reverse(purchase), "12", "0400 of a confirmed card purchase")
    kit.posted[purchase.trace] = (KIND_OF[P.CARD_PURCHASE], purchase.amount_fen)


# --- settlement ------------------------------------------------------------------------------


def _claim(kit: Kit) -> tuple[Summary, int]:
    return summarize((t, kind, amount) for t, (kind, amount) in kit.posted.items())


def _settle(kit: Kit, summary: Summary, total: int, batch: int | None = None):
    c = kit.c
    return c.exchange(
        m.SettlementRequest(
            terminal_id=c.terminal_id,
            batch=c.batch if batch is None else batch,
            trace=c.next_trace(),
            amount_fen=total,
            summary=summary,
        )
    )


@check(
    SETTLEMENT, "R40", "settle-unbalanced", "0500 that disagrees: 95 with the station's own figures"
)
def settle_unbalanced(kit: Kit) -> None:
    summary, total = _claim(kit)
    answer = _settle(kit, Summary(summary.count + 1, summary.digest), total + 1).answer
    expect_code(answer, "95", "0500 with a wrong count and total")
    expect(answer.summary == summary, f"95 carries {answer.summary}, the kit posted {summary}")
    expect(answer.amount_fen == total, f"95 carries total {answer.amount_fen}, kit's {total}")


@check(SETTLEMENT, "R43", "detail-digest", "0320 960000: digest of a range; 960001: its listing")
def detail(kit: Kit) -> None:
    c = kit.c
    summary, total = _claim(kit)
    ask = m.DetailRequest(
        terminal_id=c.terminal_id, batch=c.batch, trace=c.next_trace(), range=(1, 999999)
    )
    answer = c.ask(ask)
    expect_code(answer, "00", "0320 960000")
    expect(answer.summary == summary and answer.amount_fen == total, "the range's digest differs")
    first = sorted(kit.posted)[:5]
    expect(first, "the batch the kit posted to is no longer open")
    listing = c.ask(
        dataclasses.replace(
            ask, processing=P.DETAIL_LISTING, trace=c.next_trace(), range=(first[0], first[-1])
        )
    )
    expect_code(listing, "00", "0320 960001")
    got = [(e.trace, e.kind, e.amount_fen) for e in listing.listing or ()]
    want = [(t, *kit.posted[t]) for t in first]
    expect(got == want, f"listing {got} differs from the kit's {want}")
    expect(all(isinstance(e, ListingEntry) for e in listing.listing or ()), "listing entries")


@check(
    SETTLEMENT,
    "R40",
    "settle-balanced",
    "0500 that agrees: 00, the next batch; its repeat the same",
)
def settle_balanced(kit: Kit) -> None:
    summary, total = _claim(kit)
    batch = kit.c.batch
    first = _settle(kit, summary, total)
    expect_code(first.answer, "00", "0500 with the kit's own figures")
    expect(first.answer.batch == batch % 999 + 1, f"next batch {first.answer.batch}")
    again = _settle(kit, summary, total, batch)
    expect_code(again.answer, "00", "repeat of the balanced 0500")
    expect(again.answer.batch == first.answer.batch, "the repeat names another next batch")
    kit.keep.update(closed=batch, claim=(summary, total), next_batch=first.answer.batch)
    prepaid = [t for t, (kind, _) in kit.posted.items() if kind == KIND_OF[P.PREPAYMENT]]
    kit.keep["closed_payment"] = kit.sent.get(max(prepaid)) if prepaid else None


@check(
    SETTLEMENT, "R41", "settle-closed-batch", "0500 of a closed batch with other figures gets 78"
)
def settle_closed(kit: Kit) -> None:
    closed = kit.need("closed", "settle-balanced")
    summary, total = kit.keep["claim"]
    answer = _settle(kit, Summary(summary.count + 1, bytes(8)), total + 500, closed).answer
    expect_code(answer, "78", "a different claim about a closed batch")


@check(SETTLEMENT, "R42", "settle-not-open", "0500 of a batch that was never opened gets 77")
def settle_not_open(kit: Kit) -> None:
    batch = (kit.c.batch + 500) % 999 + 1
    expect_code(_settle(kit, Summary(0, bytes(8)), 0, batch).answer, "77", "0500 of batch")


@check(SETTLEMENT, "R15", "new-batch", "0200 of the closed batch gets 77; sign-on gives the next")
def new_batch(kit: Kit) -> None:
    closed = kit.need("closed", "settle-balanced")
    answer = kit.pay(P.PREPAYMENT, 1000, kit.demo.remote, batch=closed)
    expect_code(answer, "77", "0200 naming the closed batch")
    signed = kit.sign_on()
    expect(signed.batch == kit.keep["next_batch"], f"0810 batch {signed.batch}")


@check(
    REVERSAL,
    "R33",
    "settled-batch-final",
    "0400 of a settled payment gets 78; the closed batch keeps its figures",
)
def settled_final(kit: Kit) -> None:
    closed = kit.need("closed", "settle-balanced")
    summary, total = kit.keep["claim"]
    c = kit.c
    original = kit.need("closed_payment", "a payment of the closed batch")
    expect_code(kit.reverse(original), "78", "0400 of a posted payment of a closed batch")
    digest = c.ask(
        m.DetailRequest(terminal_id=c.terminal_id, batch=closed, trace=c.next_trace(),
                        range=(1, 999999))
    )  # fmt: skip
    expect_code(digest, "00", "0320 of the closed batch")
    expect(digest.summary == summary and digest.amount_fen == total,
           "the closed batch's figures changed after a reversal")  # fmt: skip
    expect_code(_settle(kit, summary, total, closed).answer, "00", "repeat of the closing 0500")


# --- heartbeat and framing -------------------------------------------------------------------


@check(HEARTBEAT, "R44", "heartbeat", "0820 with status and version: 0830 00, time, command 0")
def heartbeat(kit: Kit) -> None:
    c = kit.c
    answer = c.ask(
        m.HeartbeatRequest(
            terminal_id=c.terminal_id, trace=c.next_trace(), status=STATUS, version="conformance"
        )
    )
    expect_code(answer, "00", "0820")
    expect(answer.time is not None, "0830 without field 7")
    expect(int(answer.command) == 0, f"0830 command {answer.command}, none was given")


def _closes(kit: Kit, data: bytes, what: str) -> None:
    c = kit.connect()
    try:
        expect(c.send_bytes(data) is None, f"{what}: the station answered instead of closing")
    finally:
        c.close()


@check(FRAMING, "R1", "frame-zero-length", "a frame length of 0 closes the connection")
def frame_zero(kit: Kit) -> None:
    _closes(kit, b"\x00\x00" + bytes(20), "length 0")


@check(FRAMING, "R1", "frame-oversized", "a frame length above 1024 closes the connection")
def frame_oversized(kit: Kit) -> None:
    _closes(kit, (1025).to_bytes(2, "big") + bytes(1025), "length 1025")


@check(FRAMING, "R1", "frame-garbage", "a well-framed message that does not decode closes it")
def frame_garbage(kit: Kit) -> None:
    _closes(kit, (12).to_bytes(2, "big") + b"\x99\x99" + bytes(10), "garbage")


@check(FRAMING, "R1", "frame-response", "a response sent to the station closes the connection")
def frame_response(kit: Kit) -> None:
    data = m.encode(m.HeartbeatResponse(trace=1), None)
    _closes(kit, len(data).to_bytes(2, "big") + data, "an 0830 sent to the station")


@check(
    FRAMING, "R1", "frame-split", "a frame delivered a byte at a time is answered; station still up"
)
def frame_split(kit: Kit) -> None:
    c = kit.c
    data = m.encode(m.HeartbeatRequest(terminal_id=c.terminal_id, trace=c.next_trace()), c.mac_key)
    framed = len(data).to_bytes(2, "big") + data
    assert c.sock is not None
    for byte in framed[:-1]:
        c.sock.sendall(bytes([byte]))
    raw = c.send_bytes(framed[-1:])
    expect(raw is not None, "no answer to a frame sent byte by byte")
    expect_code(m.decode(raw or b""), "00", "0820 sent byte by byte")


@check(UPDATES, "R52", "update-chunk-refused", "970000 for a version not offered → 25; no"
       " version or a length over 960 → 12")  # fmt: skip
def update_chunk_refused(kit: Kit) -> None:
    expect_code(
        kit.inquire(P.UPDATE_CHUNK, version="0.0.0-none", range=(0, 960)), "25", "a version not"
        " offered"
    )  # fmt: skip
    expect_code(kit.inquire(P.UPDATE_CHUNK, range=(0, 960)), "12", "970000 without field 58")
    expect_code(
        kit.inquire(P.UPDATE_CHUNK, version="0.0.0-none", range=(0, 961)), "12", "length 961"
    )


@check(RECEIPTS, "R50", "receipt-code", "an approved 0210 to a version-3 terminal carries a"
       " 10-digit code in field 37, the same on repeat")  # fmt: skip
def receipt_code(kit: Kit) -> None:
    # Its payment, on a connection of its own, goes into the kit's books like any other: the
    # settlement checks after it settle exactly what the kit posted.
    d = kit.demo
    c = kit.connect()
    try:
        signed = c.sign_on(d.operator, d.password, trace=kit.c.trace + 1, protocol=3)
        expect_code(signed, "00", "0800 with field 24 = 3")
        pay = m.FinancialRequest(processing=P.PREPAYMENT, terminal_id=c.terminal_id,
                                 batch=c.batch, trace=c.next_trace(), amount_fen=1000,
                                 customer_no=d.remote)  # fmt: skip
        answer = c.ask(pay)
        expect_code(answer, "00", "0200 180000")
        if pay.batch == kit.c.batch:
            kit.posted[pay.trace] = (TxnKind.PREPAYMENT, pay.amount_fen)
        code_ = getattr(answer, "verify_code", None)
        expect(code_ is not None and len(code_) == 10 and code_.isdigit(),
               f"approved 0210 to a version-3 terminal: field 37 is {code_!r}")  # fmt: skip
        again = getattr(c.ask(pay), "verify_code", None)
        expect(again == code_, f"the repeat's field 37 is {again!r}, the original's {code_!r}")
    finally:
        c.close()
    kit.drop()  # that sign-on replaced the kit's working key
