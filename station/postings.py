"""Financial postings: what a bill payment, prepayment, card purchase, reissue or opening, an
offline payment uploaded later, a completion advice and a reversal change in the ledger.

Each posting takes from the agent's available limit and records in a ``Posting`` exactly what it
changed, so that a reversal undoes exactly that and nothing else. The envelope has already
checked the MAC and the repeat store, and stores the answer with the posting's record.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from station import customers, grants, routes
from station.answers import Context, Declined, reply
from station.ledger import Row
from terminal.protocol import messages as m
from terminal.protocol.cardgrant import CardGrant, GrantKind
from terminal.protocol.codes import KIND_OF
from terminal.protocol.records import Amount, MeterKind, TxnKind
from terminal.protocol.responses import Code

Posted = tuple[Row, CardGrant | None]  # the customer posted to, and the grant for the card


@dataclasses.dataclass
class Posting:
    """What one financial request changed, recorded so that a reversal can undo exactly it."""

    effects: dict[str, Any] = dataclasses.field(default_factory=dict)
    customer_no: str | None = None


def financial(
    ctx: Context, request: m.FinancialRequest, terminal: Row, posting: Posting
) -> m.Response:
    """0200: post a payment or a card transaction; the answer carries the new balances."""
    p = m.Processing
    db = ctx.ledger
    if request.amount_fen <= 0 and request.processing != p.CARD_OPEN:
        raise Declined(Code.INVALID_AMOUNT)
    if request.amount_fen > int(db.param("max_payment_fen", "500000")):
        raise Declined(Code.ABOVE_SINGLE_LIMIT)
    post = {
        p.BILL_PAYMENT: _bill_payment,
        p.PREPAYMENT: _prepayment,
        p.CARD_PURCHASE: _card_purchase,
        p.CARD_REISSUE: _card_reissue,
        p.CARD_OPEN: _card_open,
    }.get(request.processing)
    if post is None:
        raise Declined(Code.INVALID)
    customer, grant = post(ctx, request, terminal, posting)
    posting.customer_no = customer["customer_no"]
    customer = customers.find(db, customer["customer_no"], None)
    return reply(
        request,
        Code.APPROVED,
        station_ref=_next_ref(ctx),
        amounts={
            Amount.DUE: customers.due(db, customer),
            Amount.CREDIT: customer["credit_fen"],
            Amount.AGENT_LIMIT: db.agent(terminal["agent_id"])["available_fen"],
        },
        grant=grant,
    )


def _bill_payment(
    ctx: Context, request: m.FinancialRequest, terminal: Row, posting: Posting
) -> Posted:
    customer = customers.find(ctx.ledger, request.customer_no, None)
    if customer["meter_kind"] != MeterKind.POSTPAID:
        raise Declined(Code.WRONG_METER_KIND)
    if customers.due(ctx.ledger, customer) <= 0:
        raise Declined(Code.NOTHING_DUE)
    _take_limit(ctx, terminal, request.amount_fen, posting)
    _settle_bills(ctx, customer, request.amount_fen, posting)
    return customer, None


def _prepayment(
    ctx: Context, request: m.FinancialRequest, terminal: Row, posting: Posting
) -> Posted:
    customer = customers.find(ctx.ledger, request.customer_no, None)
    if customer["meter_kind"] == MeterKind.CARD_PREPAID:
        raise Declined(Code.WRONG_METER_KIND)
    _take_limit(ctx, terminal, request.amount_fen, posting)
    _settle_bills(ctx, customer, request.amount_fen, posting)
    return customer, None


def _card_purchase(
    ctx: Context, request: m.FinancialRequest, terminal: Row, posting: Posting
) -> Posted:
    if request.card_serial is None or request.meter is None:
        raise Declined(Code.INVALID)
    customer = _card_customer(ctx, request, request.card_serial)
    if request.meter.purchase_count != customer["purchase_count"]:
        raise Declined(Code.CARD_MISMATCH)
    _take_limit(ctx, terminal, request.amount_fen, posting)
    count = customer["purchase_count"] + 1
    _set_count(ctx, customer, count, posting)
    grant = grants.sign(
        ctx.ledger, GrantKind.PURCHASE, request.card_serial, customer, count, request.amount_fen
    )
    return customer, grant


def _card_reissue(
    ctx: Context, request: m.FinancialRequest, terminal: Row, posting: Posting
) -> Posted:
    db = ctx.ledger
    if request.card_serial is None:
        raise Declined(Code.INVALID)
    customer = _card_customer(ctx, request, None)
    if request.amount_fen != int(db.param("reissue_fee_fen", "2000") or 0):
        raise Declined(Code.INVALID_AMOUNT)
    if db.card(request.card_serial):
        raise Declined(Code.INVALID_CARD)
    _take_limit(ctx, terminal, request.amount_fen, posting)
    old = db.valid_cards(customer["customer_no"])
    db.invalidate_cards(customer["customer_no"])
    _add_card(ctx, customer, request.card_serial, posting)
    posting.effects["invalidated"] = old
    grant = grants.sign(
        db, GrantKind.REISSUE, request.card_serial, customer, customer["purchase_count"], 0
    )
    return customer, grant


def _card_open(
    ctx: Context, request: m.FinancialRequest, terminal: Row, posting: Posting
) -> Posted:
    db = ctx.ledger
    if request.card_serial is None:
        raise Declined(Code.INVALID)
    customer = _card_customer(ctx, request, None)
    if db.valid_cards(customer["customer_no"]):
        raise Declined(Code.CARD_EXISTS)
    if db.card(request.card_serial):
        raise Declined(Code.INVALID_CARD)
    if request.amount_fen:
        _take_limit(ctx, terminal, request.amount_fen, posting)
    _add_card(ctx, customer, request.card_serial, posting)
    count = customer["purchase_count"] + (1 if request.amount_fen else 0)
    _set_count(ctx, customer, count, posting)
    grant = grants.sign(
        db, GrantKind.OPEN, request.card_serial, customer, count, request.amount_fen
    )
    return customer, grant


def _card_customer(ctx: Context, request: m.FinancialRequest, serial: bytes | None) -> Row:
    customer = customers.find(ctx.ledger, request.customer_no, serial)
    if customer["meter_kind"] != MeterKind.CARD_PREPAID:
        raise Declined(Code.WRONG_METER_KIND)
    return customer


def offline_payment(
    ctx: Context, request: m.AdviceRequest, terminal: Row, posting: Posting
) -> m.Response:
    """0220 offline payment: a bill payment or prepayment taken while the link was down; the
    cash is taken, so it is posted even when the agent's limit no longer covers it.

    It pays what is unpaid *now*, which may differ from the route book the terminal took it
    against (the bill was paid at the counter meanwhile, or a new one came): whatever is left
    becomes credit, and the answer says how much of this payment did (tag 2) so that the
    operator and the settlement slip can say so (R54).
    """
    amount = request.amount_fen or 0
    if amount <= 0:
        raise Declined(Code.INVALID_AMOUNT)
    customer = customers.find(ctx.ledger, request.customer_no, None)
    if customer["meter_kind"] == MeterKind.CARD_PREPAID:
        raise Declined(Code.WRONG_METER_KIND)
    ctx.ledger.change_available(terminal["agent_id"], -amount)
    posting.effects["agent"] = [terminal["agent_id"], amount]
    _settle_bills(ctx, customer, amount, posting)
    posting.customer_no = customer["customer_no"]
    if not routes.speaks_offline(ctx.ledger, request.terminal_id):
        return reply(request, Code.APPROVED)  # an older terminal's 0230 has no field 54
    after = customers.find(ctx.ledger, customer["customer_no"], None)
    return reply(
        request,
        Code.APPROVED,
        amounts={
            Amount.DUE: customers.due(ctx.ledger, after),
            Amount.CREDIT: max(posting.effects["credit"], 0),
        },
    )


def completion(ctx: Context, request: m.AdviceRequest, terminal: Row) -> m.Response:
    """0220 completion: the card was written and read back, or the receipt printed."""
    row = ctx.ledger.request(request.key)
    if row is None or row["kind"] is None:
        return reply(request, Code.ORIGINAL_NOT_FOUND)
    if row["state"] in ("reversed", "void"):
        return reply(request, Code.REVERSED)
    if row["state"] != "posted":
        return reply(request, Code.ORIGINAL_NOT_FOUND)
    ctx.ledger.confirm(request.key)
    return reply(request, Code.APPROVED)


def identity(request: m.FinancialRequest | m.AdviceRequest | m.ReversalRequest) -> dict:
    """The fields a reversal repeats from its original (R31): stored with the original so that
    a reversal naming another customer, card, code or amount cannot undo it."""
    serial = getattr(request, "card_serial", None)
    return {
        "processing": int(request.processing),
        "amount": request.amount_fen or 0,
        "customer_no": request.customer_no,
        "card_serial": serial.hex() if serial else None,
    }


def _names_its_original(row: Row, request: m.ReversalRequest) -> bool:
    original = json.loads(row["effects"] or "{}").get("request")
    if original is None:  # stored before originals were recorded: code and amount only
        return row["kind"] == KIND_OF[request.processing] and (
            row["amount_fen"] == request.amount_fen
        )
    return bool(original == identity(request))


def _in_closed_batch(ctx: Context, request: m.ReversalRequest, terminal: Row) -> bool:
    return request.batch != terminal["batch"] and (
        ctx.ledger.settlement(request.terminal_id, request.batch) is not None
    )


def reversal(ctx: Context, request: m.ReversalRequest, terminal: Row) -> m.Response:
    """0400/0401: undo what the original posted; acknowledged even if it never arrived.

    A posted original of a batch already settled is not undone (78, R33): both sides agreed
    that batch's count, total and digest and the cash was handed over on them, so changing it
    afterwards would make the closed batch disagree with the terminal's and the agent's books.
    """
    db = ctx.ledger
    row = db.request(request.key)
    if row is None:
        # The original never arrived (or not yet): remember the key so it never posts.
        response = reply(request, Code.APPROVED)
        db.add_request(
            request.key,
            "void",
            int(KIND_OF[request.processing]),
            None,
            request.amount_fen,
            effects=json.dumps({"request": identity(request)}),
            reversal=m.encode(response, None),
            time=ctx.now().isoformat(),
        )
        return response
    if row["state"] in ("reversed", "void"):
        return m.decode(row["reversal_response"])
    if row["kind"] is None or not _names_its_original(row, request):
        return reply(request, Code.INVALID)  # an inquiry, or another transaction's fields
    if row["state"] == "posted":
        if row["kind"] == TxnKind.CARD_PURCHASE and row["confirmed"]:
            return reply(request, Code.INVALID)  # written to the card and read back: final
        if _in_closed_batch(ctx, request, terminal):
            return reply(request, Code.BATCH_CLOSED)
        _undo(ctx, json.loads(row["effects"] or "{}"))
    response = reply(request, Code.APPROVED)
    db.mark_reversed(request.key, m.encode(response, None))
    return response


def _take_limit(ctx: Context, terminal: Row, amount: int, posting: Posting) -> None:
    agent = ctx.ledger.agent(terminal["agent_id"])
    if agent["available_fen"] < amount:
        raise Declined(Code.LIMIT_TOO_LOW)
    ctx.ledger.change_available(terminal["agent_id"], -amount)
    posting.effects["agent"] = [terminal["agent_id"], amount]


def _settle_bills(ctx: Context, customer: Row, amount: int, posting: Posting) -> None:
    """Cash plus existing credit pays the oldest bills first; the rest is credit."""
    db = ctx.ledger
    number = customer["customer_no"]
    pool = amount + customer["credit_fen"]
    paid: list[list[int]] = []
    for bill in db.unpaid_bills(number):
        part = min(pool, bill["amount_fen"] - bill["paid_fen"])
        if part <= 0:
            break
        db.change_paid(number, bill["month"], part)
        paid.append([bill["month"], part])
        pool -= part
    db.change_credit(number, pool - customer["credit_fen"])
    posting.effects["customer"] = number
    posting.effects["bills"] = paid
    posting.effects["credit"] = pool - customer["credit_fen"]


def _set_count(ctx: Context, customer: Row, count: int, posting: Posting) -> None:
    ctx.ledger.change_purchase_count(customer["customer_no"], count - customer["purchase_count"])
    posting.effects["customer"] = customer["customer_no"]
    posting.effects["count"] = count - customer["purchase_count"]


def _add_card(ctx: Context, customer: Row, serial: bytes, posting: Posting) -> None:
    ctx.ledger.add_card(serial, customer["customer_no"])
    posting.effects["card"] = serial.hex()


def _next_ref(ctx: Context) -> int:
    return ctx.ledger.next_ref()


def _undo(ctx: Context, effects: dict[str, Any]) -> None:
    """Undo exactly what a posting did, from the record it left."""
    db = ctx.ledger
    number = effects.get("customer")
    if number:
        db.customer(number)  # locked before its bills, in the ledger's lock order
    if "agent" in effects:
        agent_id, amount = effects["agent"]
        db.change_available(agent_id, amount)
    for month, part in effects.get("bills", []):
        db.change_paid(number, month, -part)
    if effects.get("credit"):
        db.change_credit(number, -effects["credit"])
    if effects.get("count"):
        db.change_purchase_count(number, -effects["count"])
    if "card" in effects:
        db.delete_card(effects["card"])
    for serial in effects.get("invalidated", []):
        db.revalidate_card(serial)
