"""Receipts: layout, the ESC/POS driver against the printer emulator on a real pseudo-terminal."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from drivers.printer.escpos_printer import EscPosPrinter, Paper
from sim.printer.decode import split_receipts, text_lines, to_png
from sim.printer.emulator import PrinterEmulator
from terminal.core.lifecycle import State
from terminal.core.receipt import (
    Receipt,
    ReceiptLine,
    SettlementSlip,
    receipt_lines,
    settlement_lines,
    width,
)
from tests.terminal_kit import WANG, bill_order, make_terminal, prepay_order

RECEIPT = Receipt(
    utility="县供电公司",
    title="电费缴费凭证",
    receipt_no="001000042",
    terminal_id="T0000001",
    agent="城关镇代收点",
    operator="100101",
    customer_no=WANG,
    name="王秀英",
    address="青山乡石门村三组18号",
    time=datetime(2026, 11, 22, 2, 30, tzinfo=UTC),
    amount_fen=14000,
    cash_fen=15000,
    due_fen=13208,
    credit_fen=792,
    months=(ReceiptLine(202609, 132, 6974), ReceiptLine(202610, 118, 6234)),
    station_ref=80123,
    verify_code="0123456789",
)


@pytest.fixture
def emulator(tmp_path):
    printer = PrinterEmulator(tmp_path / "out")
    yield printer
    printer.close()


@pytest.mark.parametrize("paper", [58, 80])
def test_receipt_fits_the_paper_and_says_everything(paper):
    lines = receipt_lines(RECEIPT, paper)
    columns = {58: 32, 80: 48}[paper]
    assert all(width(line) <= columns for line in lines)
    text = "\n".join(lines)
    for part in (
        "县供电公司",
        "001000042",
        "T0000001",
        "城关镇代收点",
        "100101",
        WANG,
        "王秀英",
        "2026-09",
        "132度",
        "69.74元",
        "应缴金额",
        "132.08元",
        "收取现金",
        "150.00元",
        "找零",
        "10.00元",
        "预存余额",
        "7.92元",
        "10:30:00",
        "校验码",
    ):
        assert part in text, part
    assert "\u00a5" not in text and "重打" not in text
    assert "重打" in "\n".join(receipt_lines(Receipt(**{**RECEIPT.__dict__, "reprint": True})))


def test_cjk_counts_two_columns():
    assert width("王秀英") == 6 and width("ab") == 2 and width("１") == 2


def test_settlement_slip():
    slip = SettlementSlip(
        "县供电公司",
        "T0000001",
        "城关镇代收点",
        "100101",
        3,
        42,
        1234500,
        False,
        ("流水000007 主站有终端无 10.00元",),
        RECEIPT.time,
    )
    text = "\n".join(settlement_lines(slip))
    assert "结算单" in text and "12345.00元" in text and "不平" in text and "000007" in text


def test_driver_prints_chinese_through_the_pty(emulator):
    printer = EscPosPrinter("serial", emulator.path, status_timeout=0.5)
    assert printer.paper() is Paper.OK
    result = printer.print_lines(receipt_lines(RECEIPT))
    assert result.ok
    printer.close()
    receipts = emulator.receipts()
    assert len(receipts) == 1
    assert receipts[0] == receipt_lines(RECEIPT)
    raw = bytes(emulator.received)
    assert raw.count(b"\x1c&") == 1 and raw.count(b"\x1c.") == 1  # Chinese mode in and out
    assert raw.index(b"\x1c&") < raw.index("王秀英".encode("gb18030")) < raw.index(b"\x1c.")
    saved = sorted(p.name for p in emulator.saved)
    assert saved == ["receipt-001.png", "receipt-001.txt"]


def test_no_paper_and_no_reply_are_told_apart(emulator):
    printer = EscPosPrinter("serial", emulator.path, status_timeout=0.3)
    emulator.paper_out()
    assert printer.paper() is Paper.OUT
    assert printer.print_lines(["x"]).reason == "printer_no_paper"
    emulator.paper_in()
    emulator.powered = False
    assert printer.paper() is Paper.NO_REPLY
    assert printer.print_lines(["x"]).reason == "printer_no_reply"
    printer.close()


def test_paper_running_out_mid_receipt_marks_it_unprinted(emulator):
    emulator.paper_lines = 5
    printer = EscPosPrinter("serial", emulator.path, status_timeout=0.5)
    result = printer.print_lines(receipt_lines(RECEIPT))
    assert not result.ok and result.reason == "printer_paper_ran_out"
    printer.close()
    assert len(emulator.receipts()[0]) == 5


def test_decoder_turns_a_capture_into_text_and_a_picture(tmp_path):
    capture = (
        b"\x1b@\x1c&"
        + "第一张\n".encode("gb18030")
        + b"\x1c.\x1dV\x00"
        + b"\x1b@\x1c&"
        + "第二张\n".encode("gb18030")
        + b"\x1c.\x1dVA\x03"
    )
    parts = split_receipts(capture)
    assert [text_lines(p) for p in parts] == [["第一张"], ["第二张"]]
    png = to_png(["第一张"], tmp_path / "r.png")
    from PIL import Image

    with Image.open(png) as image:
        assert image.size[0] > 100 and image.getextrema() == (0, 255)


def test_paper_out_leaves_the_payment_done_and_offers_a_reprint(station, emulator, tmp_path):
    async def go():
        printer = EscPosPrinter("serial", emulator.path, status_timeout=0.5)
        t = make_terminal(tmp_path, station.port, printer=printer)
        await t.sign_on("100101", "123456")
        emulator.paper_out()
        order = await bill_order(t, WANG)
        done = await t.run(order)
        assert done.outcome is State.APPROVED and done.message == "receipt_not_printed"
        assert t.journal.last(order.txn, "printed").payload["ok"] is False
        await t.drain_outbox()
        assert t.journal.state(order.txn) is State.COMPLETED  # the money side is unaffected
        emulator.paper_in()
        ok, _ = await t.receipts.reprint(order.txn)
        assert ok
        assert "（重打）" in "\n".join(emulator.receipts()[-1])
        printer.close()
        await t.link.close()

    asyncio.run(go())


def test_prepayment_receipt_prints(station, emulator, tmp_path):
    async def go():
        printer = EscPosPrinter("serial", emulator.path, status_timeout=0.5)
        t = make_terminal(tmp_path, station.port, printer=printer)
        await t.sign_on("100101", "123456")
        done = await t.run(prepay_order(t, 5000, name="王秀英"))
        assert done.outcome is State.APPROVED and done.message == ""
        assert "预存电费凭证" in "\n".join(emulator.receipts()[-1])
        printer.close()
        await t.link.close()

    asyncio.run(go())
