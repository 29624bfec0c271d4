"""Offline collection on a real terminal against the real station over loopback: the route book,
payments taken with no link within the station's limits, their 离线 receipts, the upload when
the link returns, and settlement — the books agree to the fen."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta

from terminal.core.cash import Tender
from terminal.core.requests import (
    AgentStats,
    CustomerFound,
    DownloadRouteBook,
    Failed,
    FindCustomer,
    Paid,
    Pay,
    PayFlow,
    RouteBookLoaded,
    Settle,
    Settled,
    ShowPending,
    SignOn,
)
from terminal.shell.desk import Desk
from terminal.tools.books import books_agree
from tests.terminal_kit import make_terminal
from tests.wait_kit import until

NOT_ON_ROUTE = "0100000123"  # 王秀英 is on A0002's route, not on T0000001's


def dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Coverage:
    """Coverage lost and back: the terminal's link pointed at a port nobody listens on."""

    def __init__(self, terminal) -> None:
        self.terminal = terminal
        self.port = terminal.link.port

    async def lose(self) -> None:
        await self.terminal.link.close()
        self.terminal.link.port = dead_port()

    def back(self) -> None:
        self.terminal.link.port = self.port


async def uploaded(terminal) -> None:
    """The link is back: the delivery worker uploads everything owed (woken, not waited for)."""
    terminal.delivery.nudge()
    await until(lambda: not terminal.delivery.pending(), 20, "offline payments uploaded")


async def offline_customers(desk: Desk, station, want: int) -> list:
    """Customers of the route book with something due, found through the desk with no link."""
    numbers = [
        row["customer_no"]
        for row in station.ledger.all(
            "SELECT customer_no FROM customers WHERE meter_kind = 1 ORDER BY customer_no"
        )
    ][:80]
    found = []
    for number in numbers:
        reply = await desk.handle(FindCustomer(number))
        if isinstance(reply, CustomerFound) and 0 < reply.customer.due_fen <= 50_000:
            found.append(reply.customer)
        if len(found) == want:
            break
    return found


def test_a_village_day_offline_then_upload_and_settle(station, tmp_path):
    async def go():
        t = make_terminal(tmp_path, station.port)
        desk = Desk(t)
        coverage = Coverage(t)
        await desk.sign_on("100101", "123456")
        loaded = await desk.handle(DownloadRouteBook())
        assert isinstance(loaded, RouteBookLoaded) and loaded.customers > 60
        await coverage.lose()
        customers = await offline_customers(desk, station, 10)
        assert len(customers) == 10 and all(c.offline for c in customers)
        serials = []
        for c in customers:
            paid = await desk.handle(Pay(PayFlow.BILL, Tender(c.due_fen, c.due_fen, c.due_fen), c))
            assert isinstance(paid, Paid) and paid.printed, paid
            serials.append(paid.offline_serial)
        assert serials == list(range(1, 11))
        assert desk.status("zh_CN").offline == 10
        big = customers[0]
        over = await desk.handle(Pay(PayFlow.PREPAY, Tender(60_000, 60_000), big))
        assert over == Failed(code="off_over_payment_limit")
        assert await desk.handle(FindCustomer(NOT_ON_ROUTE)) == Failed(code="off_not_in_book")
        again = await desk.handle(FindCustomer(big.customer_no))
        assert isinstance(again, CustomerFound) and again.customer.due_fen == 0
        assert not books_agree(t.journal, station.ledger, "T0000001").agree  # all still owed
        coverage.back()
        await uploaded(t)
        settled = await desk.handle(Settle())
        assert isinstance(settled, Settled) and settled.balanced and settled.count == 10
        assert settled.differences == ()
        verdict = books_agree(t.journal, station.ledger, "T0000001")
        assert verdict.agree, verdict.report()
        assert desk.status("zh_CN").offline == 0
        await desk.close()

    asyncio.run(go())
    printed = (tmp_path / "printer.out").read_bytes()
    assert printed.count("电费缴费凭证（离线）".encode("gb18030")) == 10
    assert b"L00010" in printed and "供电公司确认".encode("gb18030") in printed


def test_an_offline_payment_meeting_a_bill_paid_at_the_counter_becomes_credit(station, tmp_path):
    async def go():
        t = make_terminal(tmp_path, station.port)
        desk = Desk(t)
        coverage = Coverage(t)
        await desk.sign_on("100101", "123456")
        await desk.handle(DownloadRouteBook())
        await coverage.lose()
        (customer,) = await offline_customers(desk, station, 1)
        due = customer.due_fen
        paid = await desk.handle(Pay(PayFlow.BILL, Tender(due, due, due), customer))
        assert isinstance(paid, Paid) and paid.offline_serial == 1
        # Meanwhile the customer paid the same bills at the counter (the station's own entry).
        for bill in station.ledger.unpaid_bills(customer.customer_no):
            station.ledger.change_paid(
                customer.customer_no, bill["month"], bill["amount_fen"] - bill["paid_fen"]
            )
        coverage.back()
        await uploaded(t)
        row = station.ledger.customer(customer.customer_no)
        assert row["credit_fen"] == customer.credit_fen + due  # not a fen lost or doubled
        pending = await desk.handle(ShowPending())
        noted = [i for i in pending.items if i.what == "offline_credit"]
        assert [(i.customer_no, i.amount_fen) for i in noted] == [(customer.customer_no, due)]
        settled = await desk.handle(Settle())
        assert settled.balanced and any("已转预存" in d for d in settled.differences)
        assert books_agree(t.journal, station.ledger, "T0000001").agree
        await desk.close()

    asyncio.run(go())
    assert "已转预存".encode("gb18030") in (tmp_path / "printer.out").read_bytes()


def test_the_limits_of_sign_on_refuse_plainly_and_take_nothing(station, tmp_path):
    station.ledger.set_param("offline_count_limit", "2")

    async def go():
        t = make_terminal(tmp_path, station.port)
        desk = Desk(t)
        coverage = Coverage(t)
        await desk.sign_on("100101", "123456")
        await coverage.lose()
        no_book = await desk.handle(FindCustomer("0100000001"))
        assert isinstance(no_book, Failed) and no_book.link  # no route book: a link failure
        coverage.back()
        await desk.handle(DownloadRouteBook())
        await coverage.lose()
        customers = await offline_customers(desk, station, 3)
        for c in customers[:2]:
            assert isinstance(await desk.handle(Pay(PayFlow.PREPAY, Tender(1000, 1000), c)), Paid)
        third = await desk.handle(Pay(PayFlow.PREPAY, Tender(1000, 1000), customers[2]))
        assert third == Failed(code="off_over_count")
        t.session.signed_on_at = datetime.now(UTC) - timedelta(hours=25)
        assert await desk.handle(FindCustomer("0100000001")) == Failed(code="off_sign_on_old")
        t.session.signed_on_at = datetime.now(UTC)
        taken = t.offline.book.taken()
        t.offline.book.replace([], "", taken[0] - timedelta(hours=73))
        assert await desk.handle(FindCustomer("0100000001")) == Failed(code="off_book_old")
        assert t.offline.waiting().count == 2  # the refusals took nothing
        await desk.close()

    asyncio.run(go())


def test_a_power_cut_between_journal_and_receipt_marks_the_receipt_unprinted(station, tmp_path):
    from terminal.core.lifecycle import State

    async def go():
        t = make_terminal(tmp_path, station.port)
        desk = Desk(t)
        await desk.sign_on("100101", "123456")
        await desk.handle(DownloadRouteBook())
        coverage = Coverage(t)
        await coverage.lose()
        (customer,) = await offline_customers(desk, station, 1)
        pay = Pay(PayFlow.PREPAY, Tender(1500, 1500), customer)
        from terminal.core.offline import order_for

        order = order_for(pay, t.session.ids(), 1)
        t.journal.append(order.txn, "offline", order.to_payload())  # the power went here
        await desk.close()
        t.journal.close()
        t2 = make_terminal(tmp_path, station.port)
        await t2.sign_on("100101", "123456")
        await t2.recover()
        events = [e.event for e in t2.journal.entries(order.txn)]
        assert events[:2] == ["offline", "printed"]
        assert (await t2.drain_outbox()).remaining == 0
        assert t2.journal.state(order.txn) is State.COMPLETED
        assert books_agree(t2.journal, station.ledger, "T0000001").agree

    asyncio.run(go())


def test_switched_off_in_the_village_the_operator_signs_on_again_offline(station, tmp_path):
    """A restart with no link: the last sign-on's operator and password resume it for offline
    payments (within its age); a wrong password is 55; once the link is back, an online sign-on
    uploads what was taken."""
    from terminal.core.requests import SignedOn

    async def go():
        t = make_terminal(tmp_path, station.port)
        await Desk(t).sign_on("100101", "123456")
        await t.offline.download()
        await t.link.close()
        t.journal.close()  # the battery is changed in the village
        t2 = make_terminal(tmp_path, station.port)
        desk = Desk(t2)
        coverage = Coverage(t2)
        await coverage.lose()
        assert await desk.handle(SignOn("100101", "654321")) == Failed(code="55")
        other = await desk.handle(SignOn("100102", "123456"))
        assert isinstance(other, Failed) and other.link  # not the operator of the last sign-on
        resumed = await desk.handle(SignOn("100101", "123456"))
        assert isinstance(resumed, SignedOn) and resumed.agent == "城关镇代收点"
        (customer,) = await offline_customers(desk, station, 1)
        paid = await desk.handle(Pay(PayFlow.PREPAY, Tender(3000, 3000), customer))
        assert isinstance(paid, Paid) and paid.offline_serial == 1
        stats = await desk.handle(AgentStats())
        assert stats == Failed(link="offline_signed_on")  # online work needs a real sign-on
        old = datetime.now(UTC) - timedelta(hours=25)
        t2.session.signed_on_at = old
        assert await desk.handle(FindCustomer(customer.customer_no)) == Failed(
            code="off_sign_on_old"
        )
        coverage.back()
        assert isinstance(await desk.handle(SignOn("100101", "123456")), SignedOn)
        await uploaded(t2)
        assert books_agree(t2.journal, station.ledger, "T0000001").agree
        await desk.close()

    asyncio.run(go())
