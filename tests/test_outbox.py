"""The outbox: strictly in order, repeats marked, nothing ever dropped, problems in plain words."""

from __future__ import annotations

import asyncio

from offline_queue import outbox
from terminal.core.lifecycle import State
from terminal.core.orders import Order
from terminal.protocol import messages as m
from tests.net_proxy import Plan, Proxy
from tests.terminal_kit import WANG, journal_view, ledger_view, make_terminal, prepay_order
from tests.wait_kit import until


def test_items_are_owed_in_the_order_they_were_queued(tmp_path):
    from offline_queue.journal import Journal

    j = Journal(tmp_path / "j.db", tmp_path / "j.key")
    orders = [Order(m.Processing.PREPAYMENT, "T0000001", 1, t, 100 * t, WANG) for t in (1, 2, 3)]
    for o in orders:
        j.append(o.txn, "created", o.to_payload())
        j.append(o.txn, "sent")
    # 2 is approved and printed first; then 1 is given up; then 3 is printed.
    for event in ("approved", "printing", "printed"):
        j.append(orders[1].txn, event)
    j.append(orders[0].txn, "unknown")
    j.append(orders[0].txn, "reversal_queued")
    for event in ("approved", "printing", "printed"):
        j.append(orders[2].txn, event)
    items = outbox.pending(j)
    assert [(i.order.trace, i.kind) for i in items] == [
        (2, "completion"),
        (1, "reversal"),
        (3, "completion"),
    ]
    assert not any(i.delivered_before for i in items)
    j.append(orders[1].txn, "delivering")
    first = outbox.pending(j)[0]
    assert first.delivered_before and first.message().mti == "0221"
    j.append(orders[0].txn, "delivering")
    assert outbox.pending(j)[1].message().mti == "0401"
    j.close()


def test_a_refused_item_is_kept_and_blocks_the_ones_behind_it(station, tmp_path):
    async def go():
        t = make_terminal(tmp_path, station.port)
        await t.sign_on("100101", "123456")
        # A payment the station never saw, journalled as printed: its completion gets 25.
        ghost = prepay_order(t, 700)
        for event, payload in (
            ("created", ghost.to_payload()),
            ("sent", {}),
            ("approved", {}),
            ("printing", {}),
            ("printed", {"ok": True}),
        ):
            t.journal.append(ghost.txn, event, payload)
        real_order = prepay_order(t, 1000)
        real = await t.run(real_order)
        assert real.outcome is State.APPROVED
        for _ in range(5):
            result = await t.drain_outbox()
            assert result.delivered == 0 and result.remaining == 2
        assert result.code == "25"  # 原交易不存在: the station never saw it
        # The refused item stays first, with its five failures; the real one waits behind it.
        assert [(i.txn, i.failures, i.code) for i in t.delivery.items()] == [
            (ghost.txn, 5, "25"),
            (real_order.txn, 0, ""),
        ]
        await t.link.close()

    asyncio.run(go())


def test_given_up_payment_is_reversed_once_the_link_is_back(station, tmp_path):
    async def go():
        proxy = Proxy(station.port)
        try:
            t = make_terminal(tmp_path, proxy.port, response_timeout=1, repeats=1)
            await t.sign_on("100101", "123456")
            proxy.arm(Plan(delay_down=3))  # answers come too late for every repeat
            done = await t.run(prepay_order(t, 1000))
            assert done.outcome is State.REVERSAL_QUEUED
            assert done.message == "reversal_hand_back_cash"
            proxy.arm(Plan())
            await until(lambda: proxy.holding == 0, 10, "the late answers passed on")
            stop = asyncio.Event()
            worker = asyncio.create_task(t.delivery.keep_delivering(stop, first_s=0.05, max_s=0.2))
            await until(lambda: not t.delivery.pending(), 10, "the reversal delivered")
            stop.set()
            await worker
            assert t.delivery.pending() == []
            assert journal_view(t) == ledger_view(station.ledger.path) == {}
            await t.link.close()
        finally:
            proxy.stop()

    asyncio.run(go())


def test_cancelled_payment_is_reversed_at_the_station(station, tmp_path):
    async def go():
        t = make_terminal(tmp_path, station.port)
        await t.sign_on("100101", "123456")
        order = prepay_order(t, 1000)
        await t.run(order)
        await t.drain_outbox()
        done = await t.executor.cancel(order.txn)
        assert done.outcome is State.REVERSAL_QUEUED
        await t.drain_outbox()
        assert t.journal.state(order.txn) is State.REVERSED
        assert ledger_view(station.ledger.path) == {}
        await t.link.close()

    asyncio.run(go())


def test_whatever_ends_a_transaction_wakes_the_delivery_worker(station, tmp_path):
    """The worker idles a minute between rounds; a completion owed after a payment and a
    reversal owed after a cancel (or a card resolved) go out at once, not after that minute."""

    async def go():
        t = make_terminal(tmp_path, station.port)
        await t.sign_on("100101", "123456")
        stop = asyncio.Event()
        worker = asyncio.create_task(t.delivery.keep_delivering(stop, 60, 60, idle_s=60))
        try:
            order = prepay_order(t, 1000)
            await t.run(order)
            await until(
                lambda: t.journal.state(order.txn) is State.COMPLETED, 10, "completion sent"
            )
            assert (await t.executor.cancel(order.txn)).outcome is State.REVERSAL_QUEUED
            await until(lambda: t.journal.state(order.txn) is State.REVERSED, 10, "reversal sent")
        finally:
            stop.set()
            await worker
        assert ledger_view(station.ledger.path) == {}
        await t.link.close()

    asyncio.run(go())
