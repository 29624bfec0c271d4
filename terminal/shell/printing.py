"""Receipts and slips onto paper, off the event loop, and what the printer last said about paper.

A thermal printer over a serial line can take seconds (a status query that times out, paper
running out mid-receipt). The driver's calls block, so they run in a worker thread: the link,
the keypad and the screen go on meanwhile. The journal stays on the event loop's thread — the
SQLite connection belongs to it — so reprints are journalled here, around the thread.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, Protocol, cast

from offline_queue.journal import Journal
from terminal.core.engine import View, view_from
from terminal.core.lifecycle import State
from terminal.core.receipt import (
    ReceiptHeader,
    SettlementSlip,
    receipt_for,
    receipt_lines,
    settlement_lines,
    test_page_lines,
)
from terminal.shell.session import Session

# States whose receipt can be printed again; in CANCELLED only the 撤销 receipt of a cancel.
CANCELLED = frozenset({State.REVERSAL_QUEUED, State.REVERSED})
REPRINTABLE = frozenset({State.PRINTED, State.COMPLETED, State.OFFLINE}) | CANCELLED

# Reasons a print failed that mean "no paper" (the status bar shows it until a print succeeds).
NO_PAPER = frozenset({"printer_no_paper", "printer_paper_ran_out"})


class ReceiptPrinter(Protocol):
    def print_lines(self, lines: list[str], cut: bool = True) -> Any: ...


class QrPrinter(ReceiptPrinter, Protocol):
    """A printer that can also print a QR code below the lines (``drivers.printer``)."""

    def print_lines(self, lines: list[str], cut: bool = True, qr: str | None = None) -> Any: ...


class Receipts:
    def __init__(
        self,
        journal: Journal,
        session: Session,
        printer: ReceiptPrinter | None,
        utility: str = "县供电公司",
        paper_mm: int = 58,
    ) -> None:
        self.journal = journal
        self.session = session
        self.printer = printer
        self.utility = utility
        self.paper_mm = paper_mm
        self.paper: bool | None = True  # as the last print found it; None: unknown

    def header(self) -> ReceiptHeader:
        return ReceiptHeader(self.utility, self.session.agent_name)

    async def print_lines(self, lines: list[str], qr: str | None = None) -> tuple[bool, str]:
        """Print in a worker thread; (ok, reason) with reason a text key when not ok. ``qr``
        goes below the lines on a printer that can print one (the code is printed as text too)."""
        if self.printer is None:
            return False, "no_printer"
        if qr is not None and _prints_qr(self.printer):
            printer = cast(QrPrinter, self.printer)
            result = await asyncio.to_thread(printer.print_lines, lines, True, qr)
        else:
            result = await asyncio.to_thread(self.printer.print_lines, lines)
        ok, reason = bool(result.ok), str(getattr(result, "reason", "") or "")
        self.paper = ok or reason not in NO_PAPER
        return ok, reason

    async def print_receipt(self, view: View, reprint: bool = False) -> tuple[bool, str]:
        """The payment's receipt, or once it was cancelled (撤销) the cancel's receipt."""
        if view.cancelled_at is not None:
            from terminal.core import cancel

            return await self.print_lines(
                cancel.receipt_lines(view, self.header(), self.paper_mm, reprint)
            )
        receipt = receipt_for(view, self.header(), datetime.now(UTC), reprint)
        return await self.print_lines(receipt_lines(receipt, self.paper_mm), receipt.qr_text)

    async def reprint(self, txn: str) -> tuple[bool, str]:
        """Print a receipt again, marked 重打; journalled like the first."""
        view = view_from(self.journal.entries(txn))
        if (
            view is None
            or view.state not in REPRINTABLE
            or (view.state in CANCELLED and view.cancelled_at is None)
        ):
            return False, "nothing_to_reprint"
        self.journal.append(txn, "printing", {"reprint": True})
        ok, reason = await self.print_receipt(view, reprint=True)
        self.journal.append(txn, "printed", {"ok": ok, "reason": reason, "reprint": True})
        return ok, reason

    async def print_slip(self, slip: SettlementSlip) -> tuple[bool, str]:
        return await self.print_lines(settlement_lines(slip, self.paper_mm))

    async def test_page(self) -> tuple[bool, str]:
        return await self.print_lines(test_page_lines(self.paper_mm))


def _prints_qr(printer: ReceiptPrinter) -> bool:
    import inspect

    return "qr" in inspect.signature(printer.print_lines).parameters
