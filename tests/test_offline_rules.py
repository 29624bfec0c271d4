"""Offline collection's rules alone (pure: no clock, no I/O): when a payment may be taken
without the station, the customer the route book gives, and what became credit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from terminal.core import offline as rules
from terminal.core.cash import Tender
from terminal.core.orders import OrderIds
from terminal.core.requests import Pay, PayFlow
from terminal.protocol import messages as m
from terminal.protocol.records import Amount, MeterKind
from terminal.protocol.routebook import RouteEntry

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
LIMITS = rules.OfflineLimits.from_amounts(
    {
        Amount.OFFLINE_LIMIT: 50_000,
        Amount.OFFLINE_TOTAL: 100_000,
        Amount.OFFLINE_COUNT: 3,
        Amount.ROUTE_BOOK_HOURS: 72,
        Amount.SIGN_ON_HOURS: 24,
    }
)
ENTRY = RouteEntry("0100000001", MeterKind.POSTPAID, 37345, 0, 2, "赵军")


def test_the_route_book_and_the_sign_on_must_be_young_enough():
    hours = timedelta(hours=1)
    assert rules.book_refusal(LIMITS, NOW, NOW - 72 * hours, NOW - 24 * hours) is None
    assert rules.book_refusal(LIMITS, NOW, None, NOW) == "off_no_book"
    assert rules.book_refusal(LIMITS, NOW, NOW - 73 * hours, NOW) == "off_book_old"
    assert rules.book_refusal(LIMITS, NOW, NOW, NOW - 25 * hours) == "off_sign_on_old"
    assert rules.book_refusal(LIMITS, NOW, NOW, None) == "off_sign_on_old"
    none = rules.OfflineLimits.from_amounts({Amount.AGENT_LIMIT: 1})  # an older station
    assert rules.book_refusal(none, NOW, NOW, NOW) == "off_not_allowed"


def test_one_payment_the_total_and_the_count_waiting_are_limited():
    assert rules.payment_refusal(LIMITS, rules.Waiting(), 50_000) is None
    assert rules.payment_refusal(LIMITS, rules.Waiting(), 50_001) == "off_over_payment_limit"
    assert rules.payment_refusal(LIMITS, rules.Waiting(2, 60_000), 40_000) is None
    assert rules.payment_refusal(LIMITS, rules.Waiting(2, 60_000), 40_001) == "off_over_total"
    assert rules.payment_refusal(LIMITS, rules.Waiting(3, 3_000), 1_000) == "off_over_count"


def test_the_route_books_customer_less_what_was_taken_offline_since():
    first = rules.customer_of(ENTRY, "城关镇石门村", 0)
    assert first.offline and first.due_fen == 37345 and first.address == "城关镇石门村"
    again = rules.customer_of(ENTRY, "城关镇石门村", 40000)  # paid and rounded up already
    assert again.due_fen == 0 and again.credit_fen == 40000 - 37345
    assert not rules.takes_offline(MeterKind.CARD_PREPAID)
    assert rules.takes_offline(MeterKind.REMOTE_PREPAID)


def test_an_offline_order_is_a_170200_with_its_serial_and_what_became_credit_is_the_surplus():
    customer = rules.customer_of(ENTRY, "城关镇石门村", 0)
    pay = Pay(PayFlow.BILL, Tender(40000, 40000, 37345), customer)
    order = rules.order_for(pay, OrderIds("T0000001", 1, 7, "100101"), 3)
    assert order.processing is m.Processing.OFFLINE_PAYMENT and order.offline_serial == 3
    assert order.due_fen == 37345 and order.amount_fen == 40000
    assert rules.became_credit(order, 40000 - 37345) == 0  # as the customer was told
    assert rules.became_credit(order, 40000) == 37345  # the bill was paid at the counter
    assert rules.flow_refusal(Pay(PayFlow.CARD, Tender(100, 100), customer)) == "off_card_never"
