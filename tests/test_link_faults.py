"""The link cut at every byte of every exchange, answers duplicated and late.

A loopback proxy sits between the terminal and the real station. For every n across the
request and the answer of a payment (and of its completion advice) the connection is cut after
exactly n bytes; the terminal must end with the station's postings and its own journal equal,
each payment posted once, nothing left open.
"""

from __future__ import annotations

import asyncio

import pytest

from terminal.core.lifecycle import State
from terminal.protocol import messages as m
from terminal.protocol.framing import frame
from terminal.protocol.records import Amount
from tests.net_proxy import Plan, Proxy
from tests.terminal_kit import (
    bill_order,
    journal_view,
    ledger_view,
    make_terminal,
    prepay_order,
)


def framed(message) -> int:
    return len(frame(m.encode(message, bytes(16))))


# The framed sizes of a prepayment and its answer, so that every byte of both is cut once.
PREPAY_REQUEST = framed(
    m.FinancialRequest(
        processing=m.Processing.PREPAYMENT,
        terminal_id="T0000001",
        batch=1,
        trace=1,
        amount_fen=1000,
        customer_no="0100000123",
    )
)
ANSWER = framed(
    m.FinancialResponse(
        processing=m.Processing.PREPAYMENT,
        batch=1,
        trace=1,
        station_ref=1,
        amounts={Amount.DUE: 1, Amount.CREDIT: 1, Amount.AGENT_LIMIT: 1},
    )
)


@pytest.fixture
def proxy(station):
    p = Proxy(station.port)
    yield p
    p.stop()


def postpaid_customers():
    return [f"01{i:08d}" for i in range(1, 201) if i % 10 not in (5, 7) and i != 123]


async def settled_check(t, station):
    for _ in range(3):
        if (await t.drain_outbox()).remaining == 0:
            break
    assert t.journal.open_transactions() == []
    assert t.delivery.pending() == []
    mine, theirs = journal_view(t), ledger_view(station.ledger.path)
    assert mine == theirs
    outcome = await t.settle()
    assert outcome.balanced


def test_prepayment_cut_at_every_byte_in_both_directions(station, proxy, tmp_path):
    async def go():
        t = make_terminal(tmp_path, proxy.port, response_timeout=2)
        await t.sign_on("100101", "123456")
        plans = [Plan(cut_up=n) for n in range(PREPAY_REQUEST + 1)]
        plans += [Plan(cut_down=n) for n in range(ANSWER + 1)]
        for plan in plans:
            proxy.arm(plan)
            order = prepay_order(t, 1000)
            done = await t.run(order)
            assert done.outcome is State.APPROVED, (plan, done)
        assert proxy.cuts == len(plans)  # every plan really cut the link
        await settled_check(t, station)
        await t.link.close()

    asyncio.run(go())


def test_bill_payment_and_completion_cut_at_every_byte(station, proxy, tmp_path):
    async def go():
        t = make_terminal(tmp_path, proxy.port, response_timeout=2)
        await t.sign_on("100101", "123456")
        customers = iter(postpaid_customers())
        for n in range(0, 60, 1):
            order = await bill_order(t, next(customers))
            proxy.arm(Plan(cut_up=n) if n % 2 else Plan(cut_down=n))
            done = await t.run(order)
            assert done.outcome is State.APPROVED
            # the completion advice, cut too
            proxy.arm(Plan(cut_up=n // 2) if n % 3 else Plan(cut_down=n // 2))
            await t.drain_outbox()
        await settled_check(t, station)
        await t.link.close()

    asyncio.run(go())


def test_duplicated_and_late_answers_are_not_taken_for_the_next_one(station, proxy, tmp_path):
    async def go():
        t = make_terminal(tmp_path, proxy.port, response_timeout=1)
        await t.sign_on("100101", "123456")
        proxy.arm(Plan(duplicate_down=True))
        first = await t.run(prepay_order(t, 1000))
        proxy.arm(Plan())
        second = await t.run(prepay_order(t, 2000))
        assert first.outcome is second.outcome is State.APPROVED
        proxy.arm(Plan(delay_down=1.5))  # beyond the response timeout: repeats, then late
        late = await t.run(prepay_order(t, 3000))
        assert late.outcome in (State.APPROVED, State.REVERSAL_QUEUED)
        proxy.arm(Plan())
        await settled_check(t, station)
        await t.link.close()

    asyncio.run(go())


def test_every_link_problem_is_said_in_both_languages():
    """The operator never reads a driver's English: each problem a LinkError can carry has words."""
    from drivers.transport import PROBLEMS, LinkError, LinkTimeout, problem_of
    from ui.texts import TEXTS

    for problem in PROBLEMS:
        zh, en = TEXTS[problem]
        assert zh and en and zh != en and not zh.isascii()
    assert problem_of(LinkError("x")) == "link_dropped"
    assert problem_of(LinkTimeout("x")) == "link_timeout"
    assert problem_of(LinkError("x", "link_sim")) == "link_sim"
