"""The engine's rules without I/O, and the shell carrying them out against the real station."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from terminal.core import engine as e
from terminal.core.lifecycle import State
from terminal.core.orders import Order
from terminal.protocol import messages as m
from terminal.protocol.cardgrant import CardGrant, GrantKind
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


SERIAL = bytes.fromhex("5a00000000000005")


def writing(count=4):
    """A card purchase whose grant (for purchase ``count``) may or may not be on the card."""
    grant = CardGrant(GrantKind.PURCHASE, SERIAL, WANG, "000100000005", count, 10000, bytes(4))
    o = order(processing=m.Processing.CARD_PURCHASE, card_serial=SERIAL.hex())
    return e.View(o, State.CARD_WRITING, 1, approval={"grant": grant.to_bytes().hex()}), grant


def test_a_card_put_back_is_finished_written_again_or_reversed_by_its_purchase_count():
    view, grant = writing(count=4)
    absent = e.step(view, e.CardBack(None))
    assert absent == [e.Finished(State.CARD_WRITING, message="card_pulled_reinsert")]
    unchanged = e.step(view, e.CardBack(SERIAL, dataclasses.replace(grant, count=3)))
    assert unchanged == [
        e.Append("card_writing", {"again": True, "count": 3}),
        e.WriteCard(grant),
    ]
    first, first_grant = writing(count=1)  # a card's first purchase: its file was empty
    assert e.step(first, e.CardBack(SERIAL, None))[-1] == e.WriteCard(first_grant)
    assert e.step(view, e.CardBack(SERIAL, None))[-1].outcome is State.REVERSAL_QUEUED
    written = e.step(view, e.CardBack(SERIAL, grant))
    assert [c.event for c in written if isinstance(c, e.Append)] == ["card_written", "printing"]
    assert isinstance(written[-1], e.Print)
    other = e.step(view, e.CardBack(bytes(8), grant))
    assert [c.event for c in other if isinstance(c, e.Append)] == [
        "card_write_failed",
        "reversal_queued",
    ]
    assert other[-1].message == "card_other_hand_back_cash"
    foreign_grant = e.step(view, e.CardBack(SERIAL, dataclasses.replace(grant, amount_fen=1)))
    assert foreign_grant[-1].outcome is State.REVERSAL_QUEUED  # same count, not our grant


def test_a_blank_card_put_back_still_blank_is_opened_or_reissued_again():
    view, grant = writing(count=7)  # a reissue carries the customer's count over
    reissue = dataclasses.replace(grant, kind=GrantKind.REISSUE)
    view = dataclasses.replace(view, approval={"grant": reissue.to_bytes().hex()})
    assert e.step(view, e.CardBack(SERIAL, None))[-1] == e.WriteCard(reissue)
    assert isinstance(e.step(view, e.CardBack(SERIAL, reissue))[-1], e.Print)
    other = dataclasses.replace(reissue, count=6)
    assert e.step(view, e.CardBack(SERIAL, other))[-1].outcome is State.REVERSAL_QUEUED


def test_giving_up_on_a_pulled_card_reverses_and_nothing_else_does():
    view, _ = writing()
    gave_up = e.give_up_card(view)
    assert [c.event for c in gave_up if isinstance(c, e.Append)] == [
        "card_write_failed",
        "reversal_queued",
    ]
    assert gave_up[-1] == e.Finished(State.REVERSAL_QUEUED, message="card_given_up_hand_back_cash")
    done = dataclasses.replace(view, state=State.COMPLETED)
    assert e.give_up_card(done) == [e.Finished(State.COMPLETED)]


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
