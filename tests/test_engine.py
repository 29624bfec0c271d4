"""The engine's rules without I/O, and the shell carrying them out against the real station."""

from __future__ import annotations

import asyncio

import pytest

from terminal.core import engine as e
from terminal.core.lifecycle import State
from terminal.core.orders import Order
from terminal.protocol import messages as m
from tests.terminal_kit import WANG, bill_order, journal_view, ledger_view, make_terminal


def order(**kw):
    base = dict(
        processing=m.Processing.BILL_PAYMENT,
        terminal_id="T0000001",
        batch=1,
        trace=5,
        amount_fen=13400,
        customer_no=WANG,
        cash_fen=15000,
    )
    return Order(**{**base, **kw})


def approved(o):
    return m.FinancialResponse(batch=o.batch, trace=o.trace, station_ref=1, amounts={})


def test_start_journals_before_sending():
    commands = e.start(order())
    assert [type(c) for c in commands] == [e.Append, e.Append, e.Send]
    assert commands[1].event == "sent"


def test_no_answer_repeats_the_same_request_then_asks_the_operator():
    o = order()
    view = e.View(o, State.SENT, sends=1)
    first = e.step(view, e.NoAnswer("timeout"), repeats=2)
    assert first[0] == e.Append("unknown", {"reason": "timeout"})
    assert first[-1] == e.Send(o.request())
    last = e.step(e.View(o, State.SENT, sends=3), e.NoAnswer("timeout"), repeats=2)
    assert isinstance(last[-1], e.AskOperator)
    gave_up = e.step(e.View(o, State.UNKNOWN, sends=3), e.OperatorChoice(False))
    assert gave_up[0].event == "reversal_queued"
    assert gave_up[-1].outcome is State.REVERSAL_QUEUED


def test_approval_prints_and_never_before():
    o = order()
    commands = e.step(e.View(o, State.SENT, 1), e.Answered(approved(o)))
    assert [c.event for c in commands if isinstance(c, e.Append)] == ["approved", "printing"]
    assert isinstance(commands[-1], e.Print)
    for state in (State.UNKNOWN, State.SENT, State.CREATED):
        assert not any(isinstance(c, e.Print) for c in e.recover(e.View(o, state, 1)))


def test_decline_is_final():
    o = order()
    declined = m.FinancialResponse(response="51", batch=1, trace=5)
    commands = e.step(e.View(o, State.SENT, 1), e.Answered(declined))
    assert commands[-1] == e.Finished(State.DECLINED, "51")


def test_card_write_failure_queues_a_reversal():
    o = order(processing=m.Processing.CARD_PURCHASE)
    commands = e.step(e.View(o, State.CARD_WRITING, 1), e.CardDone(False))
    assert [c.event for c in commands if isinstance(c, e.Append)] == [
        "card_write_failed",
        "reversal_queued",
    ]


def test_an_event_out_of_place_is_refused():
    with pytest.raises(ValueError):
        e.step(e.View(order(), State.COMPLETED, 1), e.Answered(approved(order())))


def test_order_survives_the_journal_unchanged():
    o = order(bills=[[202609, 132, 7035]], name="王秀英")
    assert Order.from_payload(o.to_payload()) == o


# --- against the real station ---------------------------------------------------------------


def run(coro):
    return asyncio.run(coro)


def test_bill_payment_end_to_end(station, tmp_path):
    async def go():
        t = make_terminal(tmp_path, station.port)
        await t.sign_on("100101", "123456")
        o = await bill_order(t, extra_fen=76)
        done = await t.run(o)
        assert done.outcome is State.APPROVED
        assert t.journal.state(o.txn) is State.PRINTED
        drained = await t.drain_outbox()
        assert (drained.delivered, drained.remaining) == (1, 0)
        assert t.journal.state(o.txn) is State.COMPLETED
        assert journal_view(t) == ledger_view(station.ledger.path)
        out = (tmp_path / "printer.out").read_bytes()
        assert "王秀英".encode("gb18030") in out and "找零".encode("gb18030") in out
        assert t.journal.verify().ok
        await t.link.close()

    run(go())


def test_settlement_balances_and_opens_the_next_batch(station, tmp_path):
    async def go():
        t = make_terminal(tmp_path, station.port)
        await t.sign_on("100101", "123456")
        for customer in (WANG, "0100000001", "0100000002"):
            await t.run(await bill_order(t, customer))
        outcome = await t.settle()
        assert outcome.balanced and outcome.count == 3
        assert outcome.next_batch == 2 and t.session.batch == 2
        assert outcome.bytes_used < 300
        await t.link.close()

    run(go())


def test_settlement_finds_a_payment_the_terminal_lost(station, tmp_path):
    async def go():
        t = make_terminal(tmp_path / "a", station.port)
        await t.sign_on("100101", "123456")
        for index in range(1, 40):
            await t.run(await bill_order(t, f"01{index:08d}"))
        await t.drain_outbox()
        # A second journal for the same terminal: it knows nothing of the 39 payments.
        fresh = make_terminal(tmp_path / "b", station.port)
        await fresh.sign_on("100101", "123456")
        await fresh.run(await bill_order(fresh, WANG))
        outcome = await fresh.settle()
        assert outcome.balanced, outcome.differences
        assert len(outcome.differences) >= 1
        assert journal_view(fresh) == ledger_view(station.ledger.path)
        await t.link.close()
        await fresh.link.close()

    run(go())
