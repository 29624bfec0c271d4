"""The printed receipt carries the station's code and a QR code holding it: read back from the
printer emulator, decoded, and checked with the station."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from drivers.printer import qr
from drivers.printer.escpos_printer import EscPosPrinter
from sim.printer.decode import qr_codes, raster_images, split_receipts, text_lines
from sim.printer.emulator import PrinterEmulator
from station.receipts import verify_claim
from terminal.core.lifecycle import State
from terminal.core.receipt import receipt_lines
from terminal.protocol.receipt_code import parse_verification
from tests.terminal_kit import WANG, bill_order, make_terminal
from tests.test_printer import RECEIPT

CODED = RECEIPT
UNCODED = dataclasses.replace(RECEIPT, verify_code=None)


@pytest.fixture
def emulator(tmp_path):
    printer = PrinterEmulator(tmp_path / "out")
    yield printer
    printer.close()


def test_a_receipt_prints_the_code_only_when_the_station_gave_one():
    coded = "\n".join(receipt_lines(CODED))
    assert "校验码" in coded and "0123456789" in coded
    assert CODED.qr_text == "YZ T0000001 001000042 14000 0123456789"
    assert "校验码" not in "\n".join(receipt_lines(UNCODED)) and UNCODED.qr_text is None


def printed(emulator) -> list[bytes]:
    return split_receipts(bytes(emulator.printed))


def zxing_read(dots: list[list[bool]]) -> str:
    """Read a raster image back as a phone would: render it and decode it with zxing-cpp."""
    import zxingcpp
    from PIL import Image

    image = Image.new("L", (len(dots[0]) + 40, len(dots) + 40), 255)
    for y, row in enumerate(dots):
        for x, dark in enumerate(row):
            if dark:
                image.putpixel((x + 20, y + 20), 0)
    found = zxingcpp.read_barcodes(image)
    assert found, "no QR code found in the printed image"
    return found[0].text


def test_native_qr_command_reaches_the_printer_and_decodes(emulator):
    printer = EscPosPrinter("serial", emulator.path, status_timeout=0.5, qr=qr.QR_NATIVE)
    assert printer.print_lines(receipt_lines(CODED), qr=CODED.qr_text).ok
    printer.close()
    (receipt,) = printed(emulator)
    assert text_lines(receipt) == receipt_lines(CODED)  # the QR bytes are not read as text
    assert qr_codes(receipt) == [CODED.qr_text]
    claim = parse_verification(qr_codes(receipt)[0])
    assert claim is not None and claim.code == "0123456789" and claim.amount_fen == 14000


def test_raster_fallback_prints_an_image_a_phone_can_read(emulator):
    printer = EscPosPrinter("serial", emulator.path, status_timeout=0.5, qr=qr.QR_IMAGE)
    assert printer.print_lines(receipt_lines(CODED), qr=CODED.qr_text).ok
    printer.close()
    (receipt,) = printed(emulator)
    assert text_lines(receipt) == receipt_lines(CODED)
    (image,) = raster_images(receipt)
    assert len(image) <= 384  # fits the 384 dots of 58 mm paper
    assert zxing_read(image) == CODED.qr_text


def test_the_printed_receipt_of_a_payment_verifies_at_the_station(station, emulator, tmp_path):
    async def go():
        printer = EscPosPrinter("serial", emulator.path, status_timeout=0.5)
        t = make_terminal(tmp_path, station.port, printer=printer)
        await t.sign_on("100101", "123456")
        order = await bill_order(t, WANG)
        done = await t.run(order)
        assert done.outcome is State.APPROVED and done.message == ""
        printer.close()
        await t.link.close()
        return order

    order = asyncio.run(go())
    receipt = printed(emulator)[-1]
    lines = "\n".join(text_lines(receipt))
    (text,) = qr_codes(receipt)
    claim = parse_verification(text)
    assert claim is not None and claim.code in lines and claim.trace == order.trace
    verdict = verify_claim(station.ledger, claim)
    assert verdict.genuine and verdict.amount_fen == order.amount_fen
    forged = dataclasses.replace(claim, amount_fen=order.amount_fen * 10)
    assert not verify_claim(station.ledger, forged).genuine
