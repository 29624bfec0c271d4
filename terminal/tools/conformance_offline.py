"""Conformance checks of offline collection (``docs/protocol.md``, R54–R56), on terminal T0000003.

They sign on with protocol version 3 on a terminal of their own (agent A0003, operator 300101),
so that what they post never enters the kit's books of T0000001's batch. The demo ledger gives
A0003 a route (route 3) whose first customer, 0100000141, is postpaid with unpaid months.
"""

from __future__ import annotations

from terminal.protocol import messages as m
from terminal.protocol.codes import OFFLINE_VERSION
from terminal.protocol.framing import frame
from terminal.protocol.records import Amount
from terminal.tools.conformance_client import Client, demo_master_key
from terminal.tools.conformance_kit import OFFLINE, Kit, check, expect

TERMINAL, OPERATOR, ON_ROUTE = "T0000003", "300101", "0100000141"
P = m.Processing


def _signed_on(kit: Kit, protocol: int | None = OFFLINE_VERSION) -> tuple[Client, m.Message]:
    c = kit.connect(TERMINAL, demo_master_key(TERMINAL))
    answer = c.sign_on(OPERATOR, kit.demo.password, protocol=protocol)
    expect(answer.response == "00", f"sign-on of {OPERATOR} on {TERMINAL}: {answer.response}")
    return c, answer


def _page(c: Client, route: int, page: int) -> m.Message:
    return c.ask(
        m.InquiryRequest(
            processing=P.ROUTE_BOOK,
            terminal_id=c.terminal_id,
            batch=c.batch,
            trace=c.next_trace(),
            range=(route, page),
        )
    )


@check(OFFLINE, "R54", "route-book", "0100 350000 pages a route's customers within the frame")
def route_book(kit: Kit) -> None:
    c, _ = _signed_on(kit)
    try:
        first = _page(c, 0, 1)
        expect(first.response == "00", f"route book page 1 answered {first.response}")
        expect(first.range is not None and first.range[0] == 1, f"field 47 is {first.range}")
        last = first.range[1]
        entries = list(first.route_book or ())
        for number in range(2, last + 1):
            entries += _page(c, 0, number).route_book or ()
        count = (first.amounts or {}).get(Amount.COUNT)
        expect(len(entries) == count, f"{len(entries)} customers in the pages, tag 4 says {count}")
        expect(any(e.customer_no == ON_ROUTE for e in entries), f"{ON_ROUTE} not in the book")
        size = len(frame(m.encode(first, c.mac_key)))
        expect(size <= 1024, f"a route book page of {size} bytes framed")
        past = _page(c, 0, last + 1).response
        expect(past == "12", f"a page past the last answered {past}, expected 12")
    finally:
        c.close()


@check(OFFLINE, "R55", "offline-limits", "0810 tags 6, 8-11 from version 3; none above 7 before")
def offline_limits(kit: Kit) -> None:
    c, answer = _signed_on(kit)
    try:
        tags = set(answer.amounts or {})
        wanted = {Amount.OFFLINE_LIMIT, *range(Amount.OFFLINE_TOTAL, Amount.SIGN_ON_HOURS + 1)}
        expect(wanted <= tags, f"0810 of version 3 carries tags {sorted(tags)}")
        old = c.sign_on(OPERATOR, kit.demo.password)
        beyond = [t for t in (old.amounts or {}) if t > Amount.ARREARS]
        expect(not beyond, f"0810 to a version-1 terminal carries tags {beyond}")
    finally:
        c.close()


@check(OFFLINE, "R56", "offline-changed-bill", "an offline payment of a bill paid since becomes"
       " credit, said in the 0230's tag 2")  # fmt: skip
def offline_changed_bill(kit: Kit) -> None:
    c, _ = _signed_on(kit)
    try:
        info = c.ask(
            m.InquiryRequest(
                terminal_id=c.terminal_id, batch=c.batch, trace=c.next_trace(), customer_no=ON_ROUTE
            )
        )
        due = (info.amounts or {}).get(Amount.DUE, 0)
        expect(info.response == "00" and due > 0, f"{ON_ROUTE}: {info.response}, due {due}")
        paid = c.ask(
            m.FinancialRequest(
                processing=P.BILL_PAYMENT, terminal_id=c.terminal_id, batch=c.batch,
                trace=c.next_trace(), amount_fen=due, customer_no=ON_ROUTE,
            )
        )  # fmt: skip
        expect(paid.response == "00", f"the bill paid first answered {paid.response}")
        advice = m.AdviceRequest(
            processing=P.OFFLINE_PAYMENT, terminal_id=c.terminal_id, batch=c.batch,
            trace=c.next_trace(), amount_fen=due, customer_no=ON_ROUTE,
        )  # fmt: skip
        answer = c.ask(advice)
        expect(answer.response == "00", f"0220 offline answered {answer.response}")
        credit = (answer.amounts or {}).get(Amount.CREDIT)
        expect(credit == due, f"0230 tag 2 is {credit}: all {due} fen should have become credit")
    finally:
        c.close()
