"""Cancel (撤销): who may cancel what, its receipt, the menu's screens, and a cancel against the
real station — reversal delivered through the outbox, the agent's limit restored, one 撤销
receipt — with every refusal said plainly and nothing journalled for it."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from datetime import datetime

from config.supervisor import check_password, hash_password
from drivers.keypad.keys import Key
from terminal.core import cancel
from terminal.core import cancel_requests as cx
from terminal.core import engine as e
from terminal.core.lifecycle import State
from terminal.core.orders import Order
from terminal.core.receipt import ReceiptHeader
from terminal.core.requests import Failed, Paid, PayOutcome
from terminal.protocol import messages as m
from terminal.shell.desk import Desk
from tests.terminal_kit import WANG, bill_order, journal_view, ledger_view, make_terminal
from ui import machine as mc

PASSWORD = "246810"
HASH = hash_password(PASSWORD, iterations=1000)  # fast for tests; the real one takes 200 000
OK, CANCEL = mc.Press(Key.OK), mc.Press(Key.CANCEL)


def view(state=State.COMPLETED, batch=1, **order_fields) -> e.View:
    fields = dict(
        processing=m.Processing.BILL_PAYMENT,
        terminal_id="T0000001",
        batch=batch,
        trace=12,
        amount_fen=14000,
        customer_no=WANG,
        cash_fen=15000,
        name="王秀英",
    )
    order = Order(**{**fields, **order_fields})
    return e.View(
        order,
        state,
        1,
        approval={"station_ref": 77},
        approved_at="2026-11-22T02:02:00+00:00",
    )


# --- pure: the rules and the receipt -------------------------------------------------------


def test_only_a_completed_cash_payment_of_the_open_batch_can_be_cancelled():
    assert cancel.refusal(view(), 1) == ""
    assert cancel.refusal(view(processing=m.Processing.PREPAYMENT), 1) == ""
    assert cancel.refusal(view(processing=m.Processing.CARD_PURCHASE), 1) == cancel.NOT_CASH
    assert cancel.refusal(view(processing=m.Processing.OFFLINE_PAYMENT), 1) == cancel.OFFLINE
    assert cancel.refusal(view(State.OFFLINE), 1) == cancel.OFFLINE
    assert cancel.refusal(view(batch=1), 2) == cancel.OTHER_BATCH
    assert cancel.refusal(view(State.PRINTED), 1) == cancel.OWED
    assert cancel.refusal(view(State.DECLINED), 1) == cancel.NOT_APPROVED
    assert cancel.refusal(view(State.REVERSED), 1) == cancel.NOT_APPROVED  # no answer, reversed
    cancelled = dataclasses.replace(
        view(State.REVERSAL_QUEUED), cancelled_at="2026-11-22T03:00:00+00:00"
    )
    assert cancel.refusal(cancelled, 1) == cancel.ALREADY


def test_a_cancel_journals_before_its_receipt_and_queues_the_reversal_after_it():
    v = view()
    assert cancel.start(v, "100101") == [
        e.Append("cancelling", {"by": "100101", "supervisor": True}),
        e.Print(),
    ]
    after = e.step(dataclasses.replace(v, state=State.CANCELLING), e.Printed(False, "no_printer"))
    assert after[0] == e.Append(
        "reversal_queued",
        {"why": "cancelled by the operator", "printed": False, "reason": "no_printer"},
    )
    assert after[-1] == e.Finished(
        State.REVERSAL_QUEUED, message="receipt_not_printed", print_reason="no_printer"
    )
    # A power cut while the 撤销 receipt printed: mark it unprinted, queue the reversal.
    recovered = e.recover(dataclasses.replace(v, state=State.CANCELLING))
    assert [c.event for c in recovered if isinstance(c, e.Append)] == ["reversal_queued"]


def test_the_cancel_receipt_names_the_original_and_the_cash_handed_back():
    v = dataclasses.replace(
        view(State.CANCELLING),
        cancel={"by": "100101"},
        cancelled_at="2026-11-22T03:15:00+00:00",
    )
    lines = cancel.receipt_lines(v, ReceiptHeader("县供电公司", "城关镇代收点"), 58, reprint=True)
    text = "\n".join(lines)
    assert "电费缴费撤销凭证" in text and "【撤销】" in text and "（重打）" in text
    assert "001000012" in text and "王秀英" in text and "140.00元" in text
    assert "2026-11-22 10:02:00" in text and "2026-11-22 11:15:00" in text  # local times
    from terminal.core.receipt import width

    assert all(width(line) <= 32 for line in lines)


def test_the_supervisor_password_is_kept_only_as_a_salted_hash():
    stored = hash_password(PASSWORD, iterations=1000)
    assert PASSWORD not in stored and stored != hash_password(PASSWORD, iterations=1000)
    assert check_password(stored, PASSWORD)
    assert not check_password(stored, "135790") and not check_password(stored, "")
    assert not check_password("", PASSWORD) and not check_password("nonsense", PASSWORD)


# --- pure: the menu ------------------------------------------------------------------------

ITEMS = (
    cx.PaymentItem("T/001/000012", 12, WANG, "王秀英", 14000, datetime(2026, 11, 22, 10, 2)),
    cx.PaymentItem("T/001/000011", 11, "0100000001", "", 6500, None, "already"),
)


def to_cancel_list() -> mc.Machine:
    machine = mc.Machine()
    machine.signed_on = True
    machine.start()
    machine.handle(OK)
    machine.handle(mc.Press(Key.DIGIT_8))
    assert machine.handle(mc.Press(Key.DIGIT_3))[-1] == mc.Do(cx.FindPayments())
    machine.handle(mc.Replied(cx.FindPayments(), cx.PaymentList(ITEMS)))
    assert machine.mode is mc.Mode.CANCEL_PICK
    return machine


def type_keys(machine: mc.Machine, digits: str) -> None:
    for digit in digits:
        machine.handle(mc.Press(Key(digit)))


def test_menu_cancel_asks_the_supervisor_then_shows_what_is_cancelled_then_sends_it():
    machine = to_cancel_list()
    screen = machine._show().screen
    assert screen.lines[0].startswith(">000012 0100000123 140.00")
    assert screen.lines[1].endswith("已撤")
    machine.handle(OK)  # the marked one
    assert machine.mode is mc.Mode.SUPERVISOR
    type_keys(machine, PASSWORD)
    assert "*" * 6 in machine._show().screen.entry
    assert machine.handle(OK)[-1] == mc.Do(cx.CheckSupervisor(PASSWORD))
    shown = machine.handle(mc.Replied(cx.CheckSupervisor(PASSWORD), cx.SupervisorChecked(True)))
    words = " ".join(shown[-1].screen.lines)
    assert "0100000123" in words and "140.00" in words and "2026-11-22 10:02" in words
    assert "退还" in words
    sent = machine.handle(OK)
    assert sent[-1] == mc.Do(cx.CancelPayment("T/001/000012", PASSWORD))
    assert machine.job.supervisor == ""  # forgotten once sent
    done = cx.Cancelled("T/001/000012", 14000, printed=True)
    lines = machine.handle(mc.Replied(cx.CancelPayment("T/001/000012", PASSWORD), done))
    assert "撤销成功，请退还现金140.00元" in lines[-1].screen.lines[0]


def test_menu_cancel_refuses_plainly_and_drops_it_after_three_wrong_passwords():
    machine = to_cancel_list()
    machine.handle(mc.Press(Key.DOWN))
    refused = machine.handle(OK)[-1].screen
    assert refused.mode == "result" and "已撤销" in refused.lines[-1]
    machine = to_cancel_list()
    type_keys(machine, "99")  # not on the list: looked up by trace
    assert machine.handle(OK)[-1] == mc.Do(cx.FindPayments(99))
    other = cx.PaymentItem("T/000/000099", 99, WANG, "", 500, None, "other_batch")
    result = machine.handle(mc.Replied(cx.FindPayments(99), cx.PaymentList((other,), 99)))
    assert "不在当前批次" in result[-1].screen.lines[-1]
    machine = to_cancel_list()
    type_keys(machine, "12")
    machine.handle(OK)
    for _attempt in range(3):
        type_keys(machine, "111111")
        machine.handle(OK)
        shown = machine.handle(
            mc.Replied(cx.CheckSupervisor("111111"), cx.SupervisorChecked(False))
        )
    assert shown[-1].screen.mode == "result" and "次数过多" in shown[-1].screen.lines[0]
    machine = to_cancel_list()
    machine.handle(mc.Replied(cx.FindPayments(), cx.PaymentList(ITEMS)))  # not awaited: ignored
    assert machine.mode is mc.Mode.CANCEL_PICK


def test_menu_gives_up_on_a_pulled_card_only_after_asking():
    machine = mc.Machine()
    machine.signed_on = True
    machine.start()
    machine.handle(OK)
    machine.handle(mc.Press(Key.DIGIT_4))
    machine.job.txn = "T/001/000013"
    machine.mode = mc.Mode.CARD_WAIT
    assert "放弃写卡" in machine._show().screen.hint
    asked = machine.handle(CANCEL)[-1].screen
    assert asked.mode == "card_give_up" and "冲正" in asked.lines[0]
    assert machine.handle(CANCEL)[-1].screen.mode == "card_wait"  # keep waiting
    machine.handle(CANCEL)
    assert machine.handle(OK)[-1] == mc.Do(cx.GiveUpCardWrite("T/001/000013"))
    gave_up = Paid(PayOutcome.HAND_BACK_CASH, "T/001/000013", why="card_given_up")
    shown = machine.handle(mc.Replied(cx.GiveUpCardWrite("T/001/000013"), gave_up))
    assert "已放弃写卡" in shown[-1].screen.lines[0] and machine.job.txn == ""


def cancel_samples():
    """Cancel (撤销) and a pulled card given up: every reply, and every refusal reason."""
    item = cx.PaymentItem("T/001/000012", 12, "0100000123", "Wang", 14000, datetime(2026, 11, 22))
    reasons = ("already", "not_cash", "offline", "other_batch", "owed", "not_approved")
    return [
        (
            cx.FindPayments(),
            cx.PaymentList((item, dataclasses.replace(item, trace=11, refusal="already"))),
        ),
        (cx.FindPayments(), cx.PaymentList(())),
        (cx.FindPayments(), cx.PaymentList((item,), enabled=False)),
        (cx.FindPayments(7), cx.PaymentList((), trace=7)),
        *(
            (cx.FindPayments(12), cx.PaymentList((dataclasses.replace(item, refusal=r),), 12))
            for r in reasons
        ),
        (cx.CheckSupervisor("1"), cx.SupervisorChecked(False)),
        (cx.CheckSupervisor("1"), cx.SupervisorChecked(False, configured=False)),
        (cx.CheckSupervisor("1"), cx.SupervisorChecked(True)),
        (cx.CancelPayment("T/1/1", "1"), cx.Cancelled("T/1/1", 14000, printed=True)),
        (cx.CancelPayment("T/1/1", "1"), cx.Cancelled("T/1/1", 14000, print_reason="no_printer")),
        (cx.CancelPayment("T/1/1", "1"), cx.Cancelled("T/1/1", refusal="wrong_password")),
        (cx.CancelPayment("T/1/1", "1"), cx.Cancelled("T/1/1", refusal="not_found")),
        *(
            (cx.GiveUpCardWrite("T/1/1"), Paid(PayOutcome.HAND_BACK_CASH, "T/1/1", why=why))
            for why in ("card_given_up", "card_other", "card_not_written")
        ),
    ]


# --- against the real station --------------------------------------------------------------


def available(station) -> int:
    with sqlite3.connect(station.ledger.path) as db:
        return db.execute("SELECT available_fen FROM agents WHERE agent_id = 'A0001'").fetchone()[0]


def test_cancel_reverses_at_the_station_restores_the_limit_and_prints_one_cancel_receipt(
    station, tmp_path
):
    async def go():
        t = make_terminal(tmp_path, station.port)
        desk = Desk(t, supervisor_hash=HASH)
        await t.sign_on("100101", "123456")
        before = available(station)
        order = await bill_order(t, WANG, extra_fen=76)
        await t.run(order)
        # Completion still owed: refused, nothing journalled.
        owed = await desk.handle(cx.CancelPayment(order.txn, PASSWORD))
        assert owed == cx.Cancelled(order.txn, order.amount_fen, refusal="owed")
        await t.drain_outbox()
        assert available(station) == before - order.amount_fen
        listed = await desk.handle(cx.FindPayments())
        assert [(i.txn, i.refusal) for i in listed.items] == [(order.txn, "")]
        assert await desk.handle(cx.CheckSupervisor("000000")) == cx.SupervisorChecked(False)
        assert await desk.handle(cx.CheckSupervisor(PASSWORD)) == cx.SupervisorChecked(True)
        wrong = await desk.handle(cx.CancelPayment(order.txn, "000000"))
        assert wrong.refusal == "wrong_password" and t.journal.state(order.txn) is State.COMPLETED
        done = await desk.handle(cx.CancelPayment(order.txn, PASSWORD))
        assert done == cx.Cancelled(order.txn, order.amount_fen, printed=True)
        assert t.journal.state(order.txn) is State.REVERSAL_QUEUED
        again = await desk.handle(cx.CancelPayment(order.txn, PASSWORD))
        assert again.refusal == "already"
        await t.drain_outbox()
        assert t.journal.state(order.txn) is State.REVERSED
        assert available(station) == before
        assert journal_view(t) == ledger_view(station.ledger.path) == {}
        events = [entry.event for entry in t.journal.entries(order.txn)]
        assert events[-4:] == ["cancelling", "reversal_queued", "delivering", "reversed"]
        by_trace = await desk.handle(cx.FindPayments(order.trace))
        assert [i.refusal for i in by_trace.items] == ["already"]
        # The administration menu's reprint prints the 撤销 receipt again, marked 重打.
        from terminal.core.requests import Reprint, Reprinted

        assert await desk.handle(Reprint()) == Reprinted(True, "")
        await t.link.close()
        return order

    order = asyncio.run(go())
    paper = (tmp_path / "printer.out").read_bytes()
    assert paper.count("电费缴费撤销凭证".encode("gb18030")) == 2  # the first and the reprint
    assert paper.count("（重打）".encode("gb18030")) == 1
    assert f"{order.batch:03d}{order.trace:06d}".encode() in paper


def test_cancel_is_off_without_a_supervisor_password_and_needs_a_sign_on(station, tmp_path):
    async def go():
        t = make_terminal(tmp_path, station.port)
        desk = Desk(t)
        assert (await desk.handle(cx.FindPayments())).enabled is False
        assert await desk.handle(cx.CheckSupervisor(PASSWORD)) == cx.SupervisorChecked(
            False, configured=False
        )
        signed_off = Desk(t, supervisor_hash=HASH)
        refused = await signed_off.handle(cx.CancelPayment("T0000001/001/000001", PASSWORD))
        assert refused == Failed(code="A3")
        await t.link.close()

    asyncio.run(go())


def test_a_payment_of_a_settled_batch_is_refused(station, tmp_path):
    async def go():
        t = make_terminal(tmp_path, station.port)
        desk = Desk(t, supervisor_hash=HASH)
        await t.sign_on("100101", "123456")
        order = await bill_order(t, WANG)
        await t.run(order)
        assert (await t.settle()).balanced
        refused = await desk.handle(cx.CancelPayment(order.txn, PASSWORD))
        assert refused.refusal == "other_batch"
        assert (await desk.handle(cx.FindPayments())).items == ()  # the new batch is empty
        assert t.journal.state(order.txn) is State.COMPLETED
        await t.link.close()

    asyncio.run(go())
