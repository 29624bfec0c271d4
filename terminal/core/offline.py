"""Offline collection's rules: when a payment may be taken without the station, and what it is.

Pure (no clock, no I/O): the shell passes the time, the route book's age, the last sign-on and
what is already waiting for upload. The station sets every limit at sign-on (field 54): one
payment (tag 6), the total and the count waiting for upload (8, 9), and how many hours old the
route book (10) and the last sign-on (11) may be. A refusal is a text key and nothing is taken.

A payment taken offline is an ``Order`` of processing 170200 with an offline serial of its own
(the receipt's 离线 number); the station posts it when the outbox uploads it, against the bills
unpaid *then*, so what the customer paid beyond the route book's due becomes credit and the
difference is reported (``became_credit``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

from terminal.core.orders import Order, OrderIds, build
from terminal.core.requests import Customer, Pay, PayFlow
from terminal.protocol import messages as m
from terminal.protocol.records import Amount, MeterKind
from terminal.protocol.routebook import RouteEntry

# Offline payments take cash against bills or as prepayment; a card purchase never goes offline
# (credit for a card is created only by the station).
OFFLINE_FLOWS = frozenset({PayFlow.BILL, PayFlow.PREPAY})


@dataclass(frozen=True)
class OfflineLimits:
    """The station's limits from the last sign-on (0 means "none allowed")."""

    per_payment_fen: int = 0
    total_fen: int = 0
    count: int = 0
    route_book_hours: int = 0
    sign_on_hours: int = 0

    @classmethod
    def from_amounts(cls, amounts: dict[Amount, int]) -> OfflineLimits:
        return cls(
            amounts.get(Amount.OFFLINE_LIMIT, 0),
            amounts.get(Amount.OFFLINE_TOTAL, 0),
            amounts.get(Amount.OFFLINE_COUNT, 0),
            amounts.get(Amount.ROUTE_BOOK_HOURS, 0),
            amounts.get(Amount.SIGN_ON_HOURS, 0),
        )


@dataclass(frozen=True)
class Waiting:
    """Offline payments taken and not yet uploaded: what counts against tags 8 and 9."""

    count: int = 0
    total_fen: int = 0


def book_refusal(
    limits: OfflineLimits, now: datetime, book_taken: datetime | None, signed_on: datetime | None
) -> str | None:
    """Why no offline payment may be taken now at all (a text key), or None."""
    if not (limits.per_payment_fen and limits.count and limits.total_fen):
        return "off_not_allowed"  # a station (or protocol version) that gave no offline limits
    if book_taken is None:
        return "off_no_book"
    if signed_on is None or now - signed_on > timedelta(hours=limits.sign_on_hours):
        return "off_sign_on_old"
    if now - book_taken > timedelta(hours=limits.route_book_hours):
        return "off_book_old"
    return None


def payment_refusal(limits: OfflineLimits, waiting: Waiting, amount_fen: int) -> str | None:
    """Why this payment may not be taken offline (a text key), or None."""
    if amount_fen > limits.per_payment_fen:
        return "off_over_payment_limit"
    if waiting.count + 1 > limits.count:
        return "off_over_count"
    if waiting.total_fen + amount_fen > limits.total_fen:
        return "off_over_total"
    return None


def customer_of(entry: RouteEntry, village: str, paid_offline_fen: int) -> Customer:
    """The route book's customer, less what was already taken from them offline today: a second
    payment of the same customer sees the first."""
    due = max(entry.due_fen - paid_offline_fen, 0)
    carried = max(paid_offline_fen - entry.due_fen, 0)
    return Customer(
        entry.customer_no,
        entry.name,
        village,
        due_fen=due,
        credit_fen=entry.credit_fen + carried,
        arrears_fen=entry.due_fen + entry.credit_fen,
        offline=True,
    )


def flow_refusal(pay: Pay) -> str | None:
    if pay.flow not in OFFLINE_FLOWS or pay.customer is None:
        return "off_card_never"
    return None


def order_for(pay: Pay, ids: OrderIds, serial: int) -> Order:
    """The order of an offline payment: built as any payment is, then made a 170200 with its
    offline serial; the due it was taken against is kept for the receipt and for the credit
    check when the station answers."""
    order = build(pay, ids)
    due = pay.customer.due_fen if pay.customer else 0
    return dataclasses.replace(
        order, processing=m.Processing.OFFLINE_PAYMENT, due_fen=due, offline_serial=serial
    )


def became_credit(order: Order, station_credit_fen: int) -> int:
    """Fen of this payment the station put to credit beyond what the operator told the customer
    (the bill changed meanwhile: paid at the counter, or a credit used); 0 when as expected."""
    expected = max(order.amount_fen - order.due_fen, 0)
    return max(station_credit_fen - expected, 0)


def takes_offline(kind: MeterKind) -> bool:
    return kind is not MeterKind.CARD_PREPAID
