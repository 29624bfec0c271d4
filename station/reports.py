"""Inquiries (0100): a customer and their bills, their history, an on-site meter reading billed
(抄收一体), the agent's figures for today, and reconciliation over a date range (对账).

Inquiries post no money; only the meter reading bills a month, once. The envelope stores each
answer under its key like any other keyed request, so a repeat gets the same answer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from station import customers, routes
from station.answers import STATION_TZ, Context, Declined, reply
from station.ledger import Row
from station.tariff import bill_fen
from terminal.protocol import messages as m
from terminal.protocol.codes import RECONCILE_DAYS_MAX
from terminal.protocol.records import Amount, Bill, MeterInfo, MeterKind, PaymentRecord
from terminal.protocol.responses import Code

BILLS_MAX = 12  # field 55 holds 12 bills
PAYMENTS_MAX = 15  # field 46 holds 15 payments


def inquiry(ctx: Context, request: m.InquiryRequest, terminal: Row) -> m.Response:
    p = m.Processing
    if request.processing in (p.CUSTOMER, p.CUSTOMER_HISTORY, p.METER_BILLING):
        customer = customers.find(ctx.ledger, request.customer_no, request.card_serial)
        if request.processing == p.METER_BILLING:
            _bill_reading(ctx, request, customer)
            customer = customers.find(ctx.ledger, customer["customer_no"], None)
        return _customer_reply(ctx, request, customer)
    if request.processing == p.ROUTE_BOOK:
        return routes.route_book(ctx, request, terminal)
    if request.processing == p.AGENT_STATS:
        count, total = _day_totals(ctx, terminal["terminal_id"], ctx.today(), ctx.today())
        agent = ctx.ledger.agent(terminal["agent_id"])
        return reply(
            request,
            Code.APPROVED,
            amounts={
                Amount.AGENT_LIMIT: agent["available_fen"],
                Amount.COUNT: count,
                Amount.TOTAL: total,
            },
        )
    if request.processing == p.RECONCILE and request.range is not None:
        first, last = (_yymmdd(v) for v in request.range)
        # Bounded so that one inquiry cannot ask the ledger for a terminal's whole history
        # (R38); a longer period is asked for in parts.
        if not 0 <= (last - first).days < RECONCILE_DAYS_MAX:
            raise Declined(Code.INVALID)
        count, total = _day_totals(ctx, terminal["terminal_id"], first, last)
        return reply(request, Code.APPROVED, amounts={Amount.COUNT: count, Amount.TOTAL: total})
    raise Declined(Code.INVALID)


def _customer_reply(ctx: Context, request: m.InquiryRequest, customer: Row) -> m.Response:
    db = ctx.ledger
    number = customer["customer_no"]
    arrears = db.arrears(number)
    credit = customer["credit_fen"]
    amounts = {
        Amount.DUE: max(arrears - credit, 0),
        Amount.CREDIT: credit,
        Amount.ARREARS: arrears,
    }
    payments: tuple[PaymentRecord, ...] | None = None
    if request.processing == m.Processing.CUSTOMER_HISTORY:
        rows = db.latest_bills(number, BILLS_MAX)
        payments = tuple(
            PaymentRecord(
                datetime.fromisoformat(r["time"]).astimezone(STATION_TZ).date(), r["amount_fen"]
            )
            for r in db.payments(number, PAYMENTS_MAX)
        )
    else:
        rows = db.unpaid_bills(number, BILLS_MAX)
    return reply(
        request,
        Code.APPROVED,
        customer_no=number,
        name=customer["name"],
        address=customer["address"],
        meter=MeterInfo(
            MeterKind(customer["meter_kind"]), customer["meter_no"], customer["purchase_count"]
        ),
        amounts=amounts,
        bills=tuple(Bill(r["month"], r["kwh"], r["amount_fen"], r["paid_fen"]) for r in rows),
        payments=payments,
    )


def _bill_reading(ctx: Context, request: m.InquiryRequest, customer: Row) -> None:
    """On-site reading (抄收一体): bill this month's consumption once."""
    if customer["meter_kind"] != MeterKind.POSTPAID:
        raise Declined(Code.WRONG_METER_KIND)
    if request.reading is None:
        raise Declined(Code.INVALID)
    if request.reading < customer["last_reading"]:
        raise Declined(Code.READING_TOO_LOW)
    today = ctx.today()
    month = today.year * 100 + today.month
    number = customer["customer_no"]
    if ctx.ledger.has_bill(number, month):
        return  # already billed this month: show the bill, do not bill twice
    kwh = (request.reading - customer["last_reading"]) // 10
    ctx.ledger.add_bill(number, month, kwh, bill_fen(kwh))
    ctx.ledger.advance_reading(number, kwh * 10)


def _day_totals(ctx: Context, terminal_id: str, first: date, last: date) -> tuple[int, int]:
    """Count and total posted by a terminal from the first to the last day (station days)."""
    start = datetime(first.year, first.month, first.day, tzinfo=STATION_TZ)
    end = datetime(last.year, last.month, last.day, tzinfo=STATION_TZ) + timedelta(days=1)
    return ctx.ledger.totals(
        terminal_id, start.astimezone(UTC).isoformat(), end.astimezone(UTC).isoformat()
    )


def _yymmdd(value: int) -> date:
    try:
        return date(2000 + value // 10000, value // 100 % 100, value % 100)
    except ValueError:
        raise Declined(Code.INVALID) from None
