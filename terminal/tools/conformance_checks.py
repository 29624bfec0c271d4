"""Conformance checks, first part: sign-on, keys and MAC, inquiries, processing codes, and the
financial rules; cards are in ``conformance_cards``, repeats and reversals in
``conformance_rules``.

Each check states one rule of ``docs/protocol.md`` and proves it over the wire; where a rule
says "nothing posted", the check reads the agent's available limit before and after instead of
trusting the response code alone.
"""

from __future__ import annotations

import dataclasses
from typing import cast

from terminal.protocol import messages as m
from terminal.protocol.codes import KIND_OF, PROTOCOL_VERSION
from terminal.protocol.records import Amount, MeterKind, TerminalStatus
from terminal.tools.conformance_client import has_mac, mac_of
from terminal.tools.conformance_kit import (
    CODES,
    FINANCIAL,
    INQUIRY,
    KEYS,
    MAC,
    SIGN_ON,
    Kit,
    P,
    check,
    code,
    expect,
    expect_code,
)

# --- sign-on ---------------------------------------------------------------------------------


@check(SIGN_ON, "R9", "signon-unknown-terminal", "an unknown terminal gets A1, without a MAC")
def unknown_terminal(kit: Kit) -> None:
    c = kit.connect(kit.demo.unknown_terminal)
    try:
        exchange = c.exchange(_sign_on_request(kit, c, kit.demo.password), c.master)
    finally:
        c.close()
    expect_code(exchange.answer, "A1", "0800 from an unknown terminal")
    expect(not has_mac(exchange.raw), "A1 answer carries a MAC no terminal could check")


@check(SIGN_ON, "R9", "signon-wrong-tmk", "an 0800 MACed with another TMK gets A0")
def wrong_tmk(kit: Kit) -> None:
    c = kit.connect()
    try:
        answer = c.sign_on(kit.demo.operator, kit.demo.password, master=bytes(16))
    finally:
        c.close()
    expect_code(answer, "A0", "0800 with a wrong MAC")


@check(SIGN_ON, "R9", "signon-unknown-operator", "an unknown operator account gets 56")
def unknown_operator(kit: Kit) -> None:
    _refused_sign_on(kit, kit.demo.unknown_operator, kit.demo.password, "56")


@check(SIGN_ON, "R9", "signon-foreign-operator", "an operator of another agent gets 57")
def foreign_operator(kit: Kit) -> None:
    _refused_sign_on(kit, kit.demo.foreign_operator, kit.demo.password, "57")


@check(SIGN_ON, "R9", "signon-wrong-password", "a wrong password gets 55; the right one then 00")
def wrong_password(kit: Kit) -> None:
    _refused_sign_on(kit, kit.demo.operator, "654321", "55")
    kit.sign_on()


@check(
    SIGN_ON,
    "R11",
    "signon-approved",
    "0810 00: MAC under the TMK, key with check value, 7/11/60/54/43",
)
def approved(kit: Kit) -> None:
    answer = kit.sign_on()  # the client verified the MAC and the key's check value
    expect(answer.time is not None, "0810 without field 7 (the station's clock)")
    expect(answer.name, "0810 without field 43 (the agent's name)")
    amounts = answer.amounts or {}
    expect(Amount.AGENT_LIMIT in amounts, "0810 field 54 without tag 3 (available limit)")
    expect(Amount.OFFLINE_LIMIT in amounts, "0810 field 54 without tag 6 (offline limit)")
    expect(1 <= answer.trace <= 999999, f"0810 field 11 {answer.trace} outside 1..999999")


@check(SIGN_ON, "R11", "signon-next-trace", "0810 field 11 is one past the highest trace ever seen")
def next_trace(kit: Kit) -> None:
    c = kit.c
    high = c.trace + 37
    answer = c.ask(m.HeartbeatRequest(terminal_id=c.terminal_id, trace=high))
    expect_code(answer, "00", "heartbeat")
    again = kit.sign_on()  # its 0800 carries a lower trace than the heartbeat's
    expect(again.trace == high + 1, f"0810 field 11 is {again.trace}, expected {high + 1}:"
           f" one past the heartbeat's trace {high}, the highest seen")  # fmt: skip


@check(SIGN_ON, "R10", "signon-version", "field 24 answered with the version spoken; absent if"
       " the 0800 had none")  # fmt: skip
def signon_version(kit: Kit) -> None:
    version = PROTOCOL_VERSION
    c = kit.connect()
    try:
        asked = c.sign_on(kit.demo.operator, kit.demo.password, trace=kit.c.trace + 1,
                          protocol=version)  # fmt: skip
        expect_code(asked, "00", f"0800 with field 24 = {version}")
        spoken = getattr(asked, "protocol", None)
        expect(spoken == version, f"0810 field 24 is {spoken}, the terminal asked {version}")
        old = c.sign_on(kit.demo.operator, kit.demo.password)
        expect_code(old, "00", "0800 without field 24 (an old terminal)")
        expect(getattr(old, "protocol", None) is None, "0810 carries field 24 to an old terminal")
    finally:
        c.close()
    kit.drop()  # that sign-on replaced the kit's working key


# --- keys and MAC ----------------------------------------------------------------------------


@check(MAC, "R6", "mac-missing", "a request without field 64 gets A0")
def mac_missing(kit: Kit) -> None:
    c = kit.c
    answer = c.ask(m.HeartbeatRequest(terminal_id=c.terminal_id, trace=c.next_trace()), None)
    expect_code(answer, "A0", "0820 without a MAC")
    kit.drop()


@check(MAC, "R6", "mac-checked", "a payment with a wrong MAC gets A0 and posts nothing")
def mac_checked(kit: Kit) -> None:
    before = kit.stats()[Amount.AGENT_LIMIT]
    c = kit.c
    request = kit.financial(P.PREPAYMENT, 1000, kit.demo.remote)
    answer = c.ask(request, bytes(range(16)))
    if code(answer) == "00":  # wrongly taken: booked, so that settlement checks stay apart
        kit.posted[request.trace] = (KIND_OF[P.PREPAYMENT], request.amount_fen)
    expect_code(answer, "A0", "0200 with a wrong MAC")
    kit.drop()
    after = kit.stats()[Amount.AGENT_LIMIT]
    expect(after == before, f"a payment with a bad MAC changed the limit {before} -> {after}")


@check(MAC, "R6", "mac-not-signed-on", "a terminal that has not signed on gets A3")
def not_signed_on(kit: Kit) -> None:
    c = kit.connect(kit.demo.idle_terminal, bytes(16))
    c.mac_key = bytes(16)  # any key: the station cannot have one for this terminal
    try:
        answer = c.ask(m.HeartbeatRequest(terminal_id=c.terminal_id, trace=1))
    finally:
        c.close()
    expect_code(answer, "A3", "0820 from a terminal never signed on")


@check(
    MAC, "R6", "mac-on-answers", "every answer after sign-on carries a MAC under the working key"
)
def mac_on_answers(kit: Kit) -> None:
    c = kit.c
    exchange = c.exchange(m.HeartbeatRequest(terminal_id=c.terminal_id, trace=c.next_trace()))
    assert c.mac_key is not None
    expect(has_mac(exchange.raw), "0830 without field 64")
    expect(mac_of(c.mac_key, exchange.raw) == exchange.raw[-8:], "0830 MAC does not verify")


# --- inquiries -------------------------------------------------------------------------------


@check(INQUIRY, "R35", "inquiry-customer", "310000: name, unpaid bills oldest first, due, arrears")
def inquiry_customer(kit: Kit) -> None:
    d = kit.demo
    answer = kit.inquire(customer_no=d.customer)
    expect_code(answer, "00", "0100 310000")
    expect(answer.customer_no == d.customer, f"field 61 is {answer.customer_no}")
    expect(answer.name == d.customer_name, f"field 43 is {answer.name!r}")
    expect(answer.address, "no field 44 (address)")
    bills = answer.bills or ()
    expect(len(bills) == 2, f"{len(bills)} unpaid bills, the demo customer has 2")
    expect(list(bills) == sorted(bills, key=lambda b: b.month), "bills not oldest first")
    due = sum(b.due_fen for b in bills)
    amounts = answer.amounts or {}
    expect(amounts.get(Amount.DUE) == d.customer_due == due, f"tag 1 due {amounts.get(1)}")
    expect(amounts.get(Amount.ARREARS) == due, f"tag 7 arrears {amounts.get(7)}")
    expect(answer.meter and answer.meter.kind == MeterKind.POSTPAID, "field 48 not postpaid")


@check(INQUIRY, "R35", "inquiry-unknown-customer", "an unknown customer number gets 14")
def inquiry_unknown(kit: Kit) -> None:
    expect_code(kit.inquire(customer_no=kit.demo.unknown_customer), "14", "0100 unknown customer")


@check(INQUIRY, "R35", "inquiry-history", "300000: the last 12 bills")
def inquiry_history(kit: Kit) -> None:
    answer = kit.inquire(P.CUSTOMER_HISTORY, customer_no=kit.demo.customer)
    expect_code(answer, "00", "0100 300000")
    expect(len(answer.bills or ()) == 12, f"{len(answer.bills or ())} bills, expected 12")


@check(INQUIRY, "R35", "inquiry-card", "310000 by card serial (field 2) finds the card's customer")
def inquiry_card(kit: Kit) -> None:
    d = kit.demo
    answer = kit.inquire(card_serial=d.card_serial)
    expect_code(answer, "00", "0100 by card")
    expect(answer.customer_no == d.card_customer, f"field 61 is {answer.customer_no}")
    meter = answer.meter
    expect(meter and meter.kind == MeterKind.CARD_PREPAID, "field 48 not card-prepaid")
    expect(meter and meter.purchase_count == d.card_count, "field 48 purchase count")


@check(
    INQUIRY, "R37", "inquiry-agent-stats", "320000: limit (tag 3), today's count and total (4, 5)"
)
def inquiry_stats(kit: Kit) -> None:
    amounts = kit.stats()
    for tag in (Amount.AGENT_LIMIT, Amount.COUNT, Amount.TOTAL):
        expect(tag in amounts, f"field 54 without tag {int(tag)}")


@check(INQUIRY, "R38", "inquiry-reconcile", "340000: count and total of the days in field 47")
def inquiry_reconcile(kit: Kit) -> None:
    day = kit.station_day()
    answer = kit.inquire(P.RECONCILE, range=(day, day))
    expect_code(answer, "00", "0100 340000")
    amounts = answer.amounts or {}
    expect(Amount.COUNT in amounts and Amount.TOTAL in amounts, "field 54 without tags 4 and 5")


@check(INQUIRY, "R36", "inquiry-reading-low", "330000 with a reading below the last one gets 19")
def inquiry_reading(kit: Kit) -> None:
    answer = kit.inquire(P.METER_BILLING, customer_no=kit.demo.customer, reading=1)
    expect_code(answer, "19", "0100 330000 with a lower reading")


@check(CODES, "R3", "inquiry-financial-code", "0100 with a financial processing code gets 12")
def inquiry_financial_code(kit: Kit) -> None:
    answer = kit.inquire(P.BILL_PAYMENT, customer_no=kit.demo.customer)
    expect_code(answer, "12", "0100 170000")


@check(CODES, "R3", "inquiry-unknown-code", "0100 with an unknown processing code gets 12")
def inquiry_unknown_code(kit: Kit) -> None:
    answer = kit.inquire(cast(P, 123456), customer_no=kit.demo.customer)
    expect_code(answer, "12", "0100 123456")


@check(KEYS, "R15", "inquiry-batch", "0100 naming another batch than the open one gets 77")
def inquiry_batch(kit: Kit) -> None:
    answer = kit.inquire(customer_no=kit.demo.customer, batch=(kit.c.batch + 5) % 1000)
    expect_code(answer, "77", "0100 with a wrong batch")
    kit.drop()


# --- financial rules -------------------------------------------------------------------------


@check(
    FINANCIAL, "R20", "pay-over-due", "bill payment above the due: bills paid, the rest is credit"
)
def pay_over_due(kit: Kit) -> None:
    d = kit.demo
    before = kit.stats()
    day = kit.station_day()
    counted = (kit.inquire(P.RECONCILE, range=(day, day)).amounts or {}).get(Amount.COUNT, 0)
    answer = kit.pay(P.BILL_PAYMENT, d.customer_due + 92, d.customer)
    expect_code(answer, "00", "0200 170000")
    amounts = answer.amounts or {}
    expect(answer.station_ref is not None, "approved 0210 without field 38")
    expect(amounts.get(Amount.DUE) == 0, f"tag 1 due {amounts.get(Amount.DUE)}, expected 0")
    expect(amounts.get(Amount.CREDIT) == 92, f"tag 2 credit {amounts.get(Amount.CREDIT)}, not 92")
    limit = before[Amount.AGENT_LIMIT] - d.customer_due - 92
    expect(amounts.get(Amount.AGENT_LIMIT) == limit, f"tag 3 limit {amounts.get(3)} not {limit}")
    after = kit.stats()
    expect(after[Amount.COUNT] == before[Amount.COUNT] + 1, "today's count did not grow by 1")
    expect(after[Amount.TOTAL] == before[Amount.TOTAL] + d.customer_due + 92, "today's total")
    again = (kit.inquire(P.RECONCILE, range=(day, day)).amounts or {}).get(Amount.COUNT, 0)
    expect(again == counted + 1, f"340000 of today (China day, R45) counted {counted} -> {again}")
    shown = kit.inquire(customer_no=d.customer)
    expect(not shown.bills, f"{len(shown.bills or ())} bills still unpaid after paying all")


@check(FINANCIAL, "R20", "pay-nothing-due", "bill payment with nothing due gets 16")
def pay_nothing_due(kit: Kit) -> None:
    expect_code(kit.pay(P.BILL_PAYMENT, 100, kit.demo.customer), "16", "0200 nothing due")


@check(FINANCIAL, "R21", "prepay", "prepayment of a remote-prepaid customer becomes credit")
def prepay(kit: Kit) -> None:
    answer = kit.pay(P.PREPAYMENT, 5000, kit.demo.remote)
    expect_code(answer, "00", "0200 180000")
    credit = (answer.amounts or {}).get(Amount.CREDIT)
    expect(credit == 5000, f"tag 2 credit {credit}, expected 5000")


@check(FINANCIAL, "R20", "pay-meter-kind", "payments the meter kind does not allow get 17")
def pay_meter_kind(kit: Kit) -> None:
    d = kit.demo
    expect_code(kit.pay(P.PREPAYMENT, 1000, d.card_customer), "17", "prepayment of a card meter")
    expect_code(kit.pay(P.BILL_PAYMENT, 1000, d.remote), "17", "bill payment of a prepaid meter")


@check(
    FINANCIAL, "R18", "pay-amount", "amount 0 gets 13, above the single limit 61; 1 fen is valid"
)
def pay_amount(kit: Kit) -> None:
    d = kit.demo
    expect_code(kit.pay(P.PREPAYMENT, 0, d.remote), "13", "0200 of 0 fen")
    expect_code(kit.pay(P.PREPAYMENT, d.max_payment + 1, d.remote), "61", "0200 above the limit")
    expect_code(kit.pay(P.PREPAYMENT, 1, d.remote), "00", "0200 of 1 fen (there is no minimum)")


@check(FINANCIAL, "R20", "pay-unknown-customer", "a payment for an unknown customer gets 14")
def pay_unknown(kit: Kit) -> None:
    expect_code(kit.pay(P.PREPAYMENT, 1000, kit.demo.unknown_customer), "14", "0200 unknown")


@check(KEYS, "R15", "pay-batch", "0200 naming another batch than the open one gets 77")
def pay_batch(kit: Kit) -> None:
    answer = kit.pay(P.PREPAYMENT, 1000, kit.demo.remote, batch=(kit.c.batch + 5) % 1000)
    expect_code(answer, "77", "0200 with a wrong batch")
    kit.drop()


@check(CODES, "R3", "pay-non-financial-code", "0200 with a non-financial processing code gets 12")
def pay_non_financial(kit: Kit) -> None:
    before = kit.stats()[Amount.AGENT_LIMIT]
    expect_code(kit.pay(P.CUSTOMER, 1000, kit.demo.remote), "12", "0200 310000")
    expect(kit.stats()[Amount.AGENT_LIMIT] == before, "the limit changed")


@check(KEYS, "R2", "trace-range", "trace 0 is outside 1..999999: refused (12), nothing posted")
def trace_zero(kit: Kit) -> None:
    before = kit.stats()[Amount.AGENT_LIMIT]
    answer = kit.pay(P.PREPAYMENT, 1000, kit.demo.remote, trace=0)  # booked if approved
    expect_code(answer, "12", "0200 with trace 0")
    expect(kit.stats()[Amount.AGENT_LIMIT] == before, "a payment with trace 0 was posted")
    c = kit.c
    expect_code(c.ask(m.HeartbeatRequest(terminal_id=c.terminal_id, trace=0)), "12", "0820 trace 0")


@check(FINANCIAL, "R19", "agent-limit", "a payment above the agent's available limit gets 51")
def agent_limit(kit: Kit) -> None:
    d = kit.demo
    start = kit.stats()[Amount.AGENT_LIMIT]
    taken = []
    answer = None
    for _ in range(start // d.max_payment + 2):
        left = kit.stats()[Amount.AGENT_LIMIT]
        answer = kit.pay(P.PREPAYMENT, min(d.max_payment, max(left, 1)), d.remote)
        if code(answer) != "00":
            break
        taken.append(kit.keep["last"])
    refused = code(answer)
    for original in taken:
        expect_code(kit.reverse(original), "00", "reversal of a limit-filling payment")
    expect(refused == "51", f"a payment beyond the available limit answered {refused}, not 51")
    back = kit.stats()[Amount.AGENT_LIMIT]
    expect(back == start, f"limit after reversing every payment is {back}, was {start}")


@check(
    FINANCIAL, "R26", "completion", "0220 of a posted payment gets 00, its 0221 00, unknown key 25"
)
def completion(kit: Kit) -> None:
    c = kit.c
    kit.pay(P.PREPAYMENT, 1200, kit.demo.remote)
    advice = kit.completion_of(kit.keep["last"])
    expect_code(c.ask(advice), "00", "0220 completion")
    expect_code(c.ask(dataclasses.replace(advice, repeat=True)), "00", "0221")
    unknown = m.AdviceRequest(
        processing=P.PREPAYMENT, terminal_id=c.terminal_id, batch=c.batch, trace=c.next_trace()
    )
    expect_code(c.ask(unknown), "25", "0220 for an unknown key")
    expect_code(kit.pay(P.PREPAYMENT, 0, kit.demo.remote), "13", "0200 of 0 fen")
    declined = kit.keep["last"]
    of_declined = dataclasses.replace(unknown, trace=declined.trace)
    expect_code(c.ask(of_declined), "25", "0220 for a declined payment")


@check(
    FINANCIAL, "R25", "offline-payment", "0220 170200 posts an offline payment, even past the limit"
)
def offline_payment(kit: Kit) -> None:
    c = kit.c
    before = kit.stats()[Amount.AGENT_LIMIT]
    customer = kit.demo.postpaid[0]
    advice = m.AdviceRequest(
        processing=P.OFFLINE_PAYMENT,
        terminal_id=c.terminal_id,
        batch=c.batch,
        trace=c.next_trace(),
        amount_fen=3000,
        customer_no=customer,
        time=c.sign_on_answer.time,
    )
    expect_code(c.ask(advice), "00", "0220 offline payment")
    kit.posted[advice.trace] = (KIND_OF[P.OFFLINE_PAYMENT], 3000)
    after = kit.stats()[Amount.AGENT_LIMIT]
    expect(after == before - 3000, f"limit {before} -> {after} after an offline payment of 3000")


# --- helpers ---------------------------------------------------------------------------------


def _sign_on_request(kit: Kit, c, password: str) -> m.SignOnRequest:
    from terminal.protocol import keys

    trace = 1
    return m.SignOnRequest(
        terminal_id=c.terminal_id,
        trace=trace,
        account=kit.demo.operator,
        password=keys.password_block(c.master, password, trace),
    )


def _refused_sign_on(kit: Kit, account: str, password: str, wanted: str) -> None:
    c = kit.connect()
    try:
        answer = c.sign_on(account, password, trace=kit.c.trace + 1)
    finally:
        c.close()
    expect_code(answer, wanted, f"0800 of {account}")


STATUS = TerminalStatus(18, True, 80, 0, 0x1A2B, 0x3C4D5E)
