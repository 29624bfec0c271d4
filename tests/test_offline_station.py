"""The station's side of offline collection: route books (0100 350000), the offline limits of
sign-on (field 54 tags 6, 8–11), and offline payments (0220 170200) that meet a changed bill."""

from __future__ import annotations

import pytest

from terminal.protocol import messages as m
from terminal.protocol.codes import PROTOCOL_VERSION
from terminal.protocol.framing import frame
from terminal.protocol.records import Amount, MeterKind
from terminal.protocol.routebook import RouteEntry, pack_entries, pages, unpack_entries

WANG = "0100000123"  # two unpaid months, 132.08 yuan, on no demo route
ON_ROUTE = "0100000001"


@pytest.fixture
def client(station):
    c = station.client()
    assert c.sign_on(protocol=PROTOCOL_VERSION).approved
    yield c
    c.close()


def book_page(client, route: int, page: int) -> m.InquiryResponse:
    request = m.InquiryRequest(
        processing=m.Processing.ROUTE_BOOK,
        terminal_id=client.terminal_id,
        batch=client.batch,
        trace=client.next_trace(),
        range=(route, page),
    )
    reply = client.request(request)
    assert isinstance(reply, m.InquiryResponse)
    return reply


def test_sign_on_gives_every_offline_limit_and_the_params_table_changes_them(station):
    c = station.client()
    old = c.sign_on().amounts  # a terminal before version 3: its decoder knows tags 1-7 only
    assert max(old) == Amount.OFFLINE_LIMIT
    amounts = c.sign_on(protocol=PROTOCOL_VERSION).amounts
    assert amounts[Amount.OFFLINE_LIMIT] == 50_000  # agents.offline_limit_fen of A0001
    assert amounts[Amount.OFFLINE_TOTAL] == 1_000_000
    assert amounts[Amount.OFFLINE_COUNT] == 100
    assert amounts[Amount.ROUTE_BOOK_HOURS] == 72
    assert amounts[Amount.SIGN_ON_HOURS] == 24
    station.ledger.set_param("offline_count_limit", "5")
    assert c.sign_on(protocol=PROTOCOL_VERSION).amounts[Amount.OFFLINE_COUNT] == 5
    c.close()


def test_a_route_book_comes_in_pages_that_fit_the_frame_and_match_the_ledger(station, client):
    first = book_page(client, 0, 1)
    assert first.approved and first.range is not None
    assert first.range[0] == 1
    last = first.range[1]
    entries = list(first.route_book or ())
    for number in range(2, last + 1):
        reply = book_page(client, 0, number)
        assert reply.range == (number, last)
        entries += reply.route_book or ()
    assert len(entries) == first.amounts[Amount.COUNT] > 60
    assert all(e.kind is not MeterKind.CARD_PREPAID for e in entries)
    one = next(e for e in entries if e.customer_no == ON_ROUTE)
    arrears = station.ledger.one(
        "SELECT sum(amount_fen - paid_fen) AS due FROM bills WHERE customer_no = ?", ON_ROUTE
    )["due"]
    assert one.due_fen == arrears and one.unpaid_months >= 1 and one.name
    assert first.address == "城关镇石门村"
    assert len(frame(m.encode(first, client.mac_key))) <= 1024


def test_a_route_of_another_agent_or_a_page_past_the_last_is_refused(client):
    assert book_page(client, 2, 1).response == "14"  # route 2 is A0002's
    assert book_page(client, 1, 99).response == "12"


def test_a_village_of_300_customers_is_a_few_kilobytes():
    names = ["王秀英", "李建国", "张明", "刘春梅", "陈大山"]
    village = [
        RouteEntry(f"02{i:08d}", MeterKind.POSTPAID, 13208 + i, 0, 2, names[i % 5])
        for i in range(300)
    ]
    data = pack_entries(tuple(village))
    assert unpack_entries(data) == tuple(village)
    cut = pages(village)
    framed = sum(len(pack_entries(page)) + 130 for page in cut)  # every other field at its most
    assert len(data) < 7_000 and framed < 8_000, (len(data), framed, len(cut))


def offline(client, customer: str, amount: int, trace: int | None = None) -> m.AdviceRequest:
    return m.AdviceRequest(
        processing=m.Processing.OFFLINE_PAYMENT,
        terminal_id=client.terminal_id,
        batch=client.batch,
        trace=trace or client.next_trace(),
        amount_fen=amount,
        customer_no=customer,
    )


def test_offline_payment_against_a_bill_paid_at_the_counter_becomes_credit(station, client):
    paid = client.request(
        m.FinancialRequest(
            processing=m.Processing.BILL_PAYMENT,
            terminal_id=client.terminal_id,
            batch=client.batch,
            trace=client.next_trace(),
            amount_fen=13208,
            customer_no=WANG,
        )
    )
    assert paid.approved
    advice = offline(client, WANG, 13208)
    answer = client.request(advice)
    assert answer.approved and answer.amounts == {Amount.DUE: 0, Amount.CREDIT: 13208}
    again = client.request(m.AdviceRequest(**{**advice.__dict__, "repeat": True}))
    assert again.amounts == answer.amounts  # a repeat: the same answer, posted once
    credit = station.ledger.one("SELECT credit_fen FROM customers WHERE customer_no = ?", WANG)
    assert credit["credit_fen"] == 13208


def test_offline_payment_as_the_route_book_said_leaves_no_credit(client):
    answer = client.request(offline(client, WANG, 13208))
    assert answer.amounts == {Amount.DUE: 0, Amount.CREDIT: 0}


def test_an_older_terminals_offline_answer_has_no_field_54(station):
    c = station.client()
    assert c.sign_on(protocol=2).approved
    assert client_offline_answer(c).amounts is None
    c.close()


def client_offline_answer(c) -> m.Response:
    return c.request(offline(c, WANG, 100))


def test_offline_prepayment_of_a_remote_prepaid_customer_is_posted_a_card_one_is_not(client):
    assert client.request(offline(client, "0100000007", 5000)).amounts[Amount.CREDIT] == 5000
    assert client.request(offline(client, "0100000005", 5000)).response == "17"
