"""Conformance checks: card purchase, opening and reissue, and the inquiry rules that change
state or need a calendar (meter reading once a month, the reconciliation range).

The card checks verify the grant's own MAC under the demo card master key, as a card would:
a station that signs grants with the wrong key fails here, not at a customer's meter.
"""

from __future__ import annotations

from terminal.protocol.cardgrant import GrantKind, card_key
from terminal.protocol.records import Amount, MeterInfo, MeterKind
from terminal.tools.conformance_kit import (
    FINANCIAL,
    INQUIRY,
    Kit,
    P,
    check,
    expect,
    expect_code,
)


@check(FINANCIAL, "R22", "card-purchase", "190000: grant for count + 1, MACed with the card key")
def card_purchase(kit: Kit) -> None:
    d = kit.demo
    meter = MeterInfo(MeterKind.CARD_PREPAID, "00" + d.card_customer, d.card_count)
    bare = kit.pay(P.CARD_PURCHASE, 10000, None, card_serial=d.card_serial)
    expect_code(bare, "12", "card purchase without field 48")
    answer = kit.pay(P.CARD_PURCHASE, 10000, None, card_serial=d.card_serial, meter=meter)
    expect_code(answer, "00", "0200 190000")
    kit.keep["card_purchase"] = kit.keep["last"]
    grant = answer.grant
    expect(grant is not None, "approved card purchase without field 56")
    expect(grant.kind == GrantKind.PURCHASE, f"grant kind {grant.kind}")
    expect(grant.serial == d.card_serial and grant.customer_no == d.card_customer, "grant card")
    expect(grant.count == d.card_count + 1, f"grant count {grant.count}, not {d.card_count + 1}")
    expect(grant.amount_fen == 10000, f"grant amount {grant.amount_fen}")
    expect(grant.verify(card_key(d.card_master_key, d.card_serial)), "grant MAC (card key)")
    stale = kit.pay(P.CARD_PURCHASE, 10000, None, card_serial=d.card_serial, meter=meter)
    expect_code(stale, "18", "card purchase with a stale purchase count")


@check(FINANCIAL, "R22", "card-unknown", "a card purchase with an unknown card gets 15")
def card_unknown(kit: Kit) -> None:
    meter = MeterInfo(MeterKind.CARD_PREPAID, "000000000000", 0)
    answer = kit.pay(P.CARD_PURCHASE, 1000, None, card_serial=bytes(8), meter=meter)
    expect_code(answer, "15", "card purchase with an unknown card")


@check(
    FINANCIAL,
    "R24",
    "card-open",
    "210000 amount 0: open grant, count 0; a customer with a card gets 20",
)
def card_open(kit: Kit) -> None:
    d = kit.demo
    serial = bytes.fromhex("5a00000900000015")
    limit = kit.stats()[Amount.AGENT_LIMIT]
    answer = kit.pay(P.CARD_OPEN, 0, d.cardless, card_serial=serial)
    expect_code(answer, "00", "0200 210000 without a first purchase")
    kit.keep["opened_card"] = serial
    grant = answer.grant
    expect(grant is not None and grant.kind == GrantKind.OPEN, "no open-card grant")
    expect(grant.count == 0 and grant.amount_fen == 0, f"grant count {grant.count}")
    after = kit.stats()[Amount.AGENT_LIMIT]
    expect(after == limit, f"opening without a purchase took from the limit: {limit} -> {after}")
    again = kit.pay(P.CARD_OPEN, 0, d.card_customer, card_serial=bytes.fromhex("5a000009000000ff"))
    expect_code(again, "20", "opening a card for a customer who has one")


@check(
    FINANCIAL,
    "R23",
    "card-reissue",
    "200000: fee only (else 13); the count carries over; old card 15",
)
def card_reissue(kit: Kit) -> None:
    d = kit.demo
    serial = bytes.fromhex("5a00000900000005")
    wrong = kit.pay(P.CARD_REISSUE, d.reissue_fee + 1, d.card_customer, card_serial=serial)
    expect_code(wrong, "13", "reissue with an amount other than the fee")
    answer = kit.pay(P.CARD_REISSUE, d.reissue_fee, d.card_customer, card_serial=serial)
    expect_code(answer, "00", "0200 200000")
    grant = answer.grant
    expect(grant is not None and grant.kind == GrantKind.REISSUE, "no reissue grant")
    expect(grant.count == d.card_count + 1, f"reissue grant count {grant.count}")
    expect(grant.amount_fen == 0, f"reissue grant amount {grant.amount_fen}: the fee is no credit")
    expect_code(kit.inquire(card_serial=d.card_serial), "15", "inquiry by the replaced card")


# --- inquiries that need state or a calendar -------------------------------------------------


@check(INQUIRY, "R35", "inquiry-card-and-number", "card and number of two customers 18, neither 12")
def inquiry_card_and_number(kit: Kit) -> None:
    d = kit.demo
    card = kit.need("opened_card", "card-open")  # valid: the demo card was replaced by now
    both = kit.inquire(customer_no=d.remote, card_serial=card)
    expect_code(both, "18", "0100 naming one customer's number and another's card")
    expect_code(kit.inquire(), "12", "0100 without field 61 or field 2")


@check(INQUIRY, "R38", "inquiry-reconcile-range", "340000 over more than 28 days or reversed: 12")
def inquiry_reconcile_range(kit: Kit) -> None:
    from datetime import date, timedelta

    today = kit.station_day()
    last = date(2000 + today // 10000, today // 100 % 100, today % 100)

    def yymmdd(day: date) -> int:
        return (day.year % 100) * 10000 + day.month * 100 + day.day

    inside = kit.inquire(P.RECONCILE, range=(yymmdd(last - timedelta(days=27)), today))
    expect_code(inside, "00", "340000 over 28 days")
    longer = kit.inquire(P.RECONCILE, range=(yymmdd(last - timedelta(days=28)), today))
    expect_code(longer, "12", "340000 over 29 days")
    backwards = kit.inquire(P.RECONCILE, range=(today, yymmdd(last - timedelta(days=1))))
    expect_code(backwards, "12", "340000 with the first day after the last")
    expect_code(kit.inquire(P.RECONCILE), "12", "340000 without field 47")


@check(
    INQUIRY, "R36", "meter-reading-once", "330000 bills the month once; a 2nd reading: no change"
)
def meter_reading_once(kit: Kit) -> None:
    d = kit.demo
    first = kit.inquire(P.METER_BILLING, customer_no=d.customer, reading=d.customer_reading + 1000)
    expect_code(first, "00", "0100 330000")
    month = max((b.month for b in first.bills or ()), default=None)
    billed = [b for b in first.bills or () if b.month == month]
    expect(billed and billed[0].kwh == 100, f"this month's bill {billed}, expected 100 kWh")
    again = kit.inquire(P.METER_BILLING, customer_no=d.customer, reading=d.customer_reading + 3000)
    expect_code(again, "00", "a second 330000 in the same month")
    expect(again.bills == first.bills, "a second reading in the month changed the bills")
    expect(again.amounts == first.amounts, "a second reading in the month changed the amounts")
