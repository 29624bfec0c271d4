"""The outbox: strictly in order, repeats marked, nothing ever dropped, problems in plain words."""

from __future__ import annotations

import asyncio

from offline_queue import outbox
from terminal.core.lifecycle import State
from terminal.core.orders import Order
from terminal.protocol import messages as m
from tests.net_proxy import Plan, Proxy
from tests.terminal_kit import WANG, journal_view, ledger_view, make_terminal


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
    assert "冲正待上送" in outbox.pending(j)[1].describe()
    j.close()


def test_a_refused_item_is_kept_and_blocks_the_ones_behind_it(station, tmp_path):
    async def go():
        t = make_terminal(tmp_path, station.port)
        await t.sign_on("100101", "123456")
        # A payment the station never saw, journalled as printed: its completion gets 25.
        ghost = t.order(m.Processing.PREPAYMENT, 700, customer_no=WANG)
        for event, payload in (
            ("created", ghost.to_payload()),
            ("sent", {}),
            ("approved", {}),
            ("printing", {}),
            ("printed", {"ok": True}),
        ):
            t.journal.append(ghost.txn, event, payload)
        real = await t.run(t.order(m.Processing.PREPAYMENT, 1000, customer_no=WANG))
        assert real.outcome is State.APPROVED
        for _ in range(5):
            result = await t.drain_outbox()
            assert result.delivered == 0 and result.remaining == 2
        assert "原交易不存在" in result.problem
        status = t.outbox_status()
        assert len(status) == 2 and "已尝试5次" in status[0]
        assert [i.txn for i in t.pending()] == [ghost.txn, t.pending()[1].txn]
        await t.link.close()

    asyncio.run(go())


def test_given_up_payment_is_reversed_once_the_link_is_back(station, tmp_path):
    async def go():
        proxy = Proxy(station.port)
        try:
            t = make_terminal(tmp_path, proxy.port, response_timeout=1, repeats=1)
            await t.sign_on("100101", "123456")
            proxy.arm(Plan(delay_down=3))  # answers come too late for every repeat
            done = await t.run(t.order(m.Processing.PREPAYMENT, 1000, customer_no=WANG))
            assert done.outcome is State.REVERSAL_QUEUED
            assert done.message == "reversal_hand_back_cash"
            proxy.arm(Plan())
            await asyncio.sleep(3.5)  # let the late answers drain away
            stop = asyncio.Event()
            worker = asyncio.create_task(t.keep_delivering(stop, first_s=0.05, max_s=0.2))
            for _ in range(100):
                if not t.pending():
                    break
                await asyncio.sleep(0.05)
            stop.set()
            await worker
            assert t.pending() == []
            assert journal_view(t) == ledger_view(station.ledger.path) == {}
            await t.link.close()
        finally:
            proxy.stop()

    asyncio.run(go())


def test_cancelled_payment_is_reversed_at_the_station(station, tmp_path):
    async def go():
        t = make_terminal(tmp_path, station.port)
        await t.sign_on("100101", "123456")
        order = t.order(m.Processing.PREPAYMENT, 1000, customer_no=WANG)
        await t.run(order)
        await t.drain_outbox()
        done = await t.cancel(order.txn)
        assert done.outcome is State.REVERSAL_QUEUED
        await t.drain_outbox()
        assert t.journal.state(order.txn) is State.REVERSED
        assert ledger_view(station.ledger.path) == {}
        await t.link.close()

    asyncio.run(go())
