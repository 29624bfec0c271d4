"""Building a real terminal (journal, link, printer) against a station, for tests."""

from __future__ import annotations

from pathlib import Path

from drivers.printer.escpos_printer import EscPosPrinter
from drivers.transport import SocketTransport
from offline_queue.journal import Journal
from terminal.protocol import messages as m
from terminal.protocol.digest import summarize
from terminal.protocol.records import Amount
from terminal.shell.link import StationLink
from terminal.shell.terminal import Terminal

WANG = "0100000123"


def make_terminal(folder: Path, port: int, terminal_id: str = "T0000001", **kwargs) -> Terminal:
    from station.seed import demo_master_key

    journal = Journal(folder / "journal.db", folder / "journal.key")
    link = StationLink(
        SocketTransport,
        "127.0.0.1",
        port,
        connect_timeout=5,
        response_timeout=kwargs.pop("response_timeout", 5),
    )
    printer = EscPosPrinter("file", str(folder / "printer.out"))
    return Terminal(
        journal, link, terminal_id, demo_master_key(terminal_id), printer=printer, **kwargs
    )


async def bill_order(terminal: Terminal, customer: str = WANG, extra_fen: int = 0):
    """An order for everything the customer owes plus ``extra_fen`` carried as credit."""
    info = await terminal.inquire(customer_no=customer)
    assert info.approved, info.response
    due = info.amounts[Amount.DUE]
    return terminal.order(
        m.Processing.BILL_PAYMENT,
        due + extra_fen,
        customer_no=customer,
        cash_fen=due + extra_fen,
        name=info.name or "",
        address=info.address or "",
        due_fen=due,
        bills=[[b.month, b.kwh, b.due_fen] for b in info.bills or ()],
    )


def ledger_view(db_path: Path, terminal_id: str = "T0000001") -> dict[tuple[int, int], int]:
    """The station's posted transactions: (batch, trace) -> amount."""
    import sqlite3

    db = sqlite3.connect(db_path)
    try:
        rows = db.execute(
            "SELECT batch, trace, amount_fen FROM requests WHERE terminal_id = ?"
            " AND state = 'posted' AND kind IS NOT NULL",
            (terminal_id,),
        ).fetchall()
    finally:
        db.close()
    return {(b, t): a for b, t, a in rows}


def journal_view(terminal: Terminal) -> dict[tuple[int, int], int]:
    """What the terminal holds as posted, over all batches: (batch, trace) -> amount."""
    from terminal.core.lifecycle import POSTED

    posted = {}
    for txn, state in terminal.journal.states().items():
        if state in POSTED:
            view = terminal.view(txn)
            posted[(view.order.batch, view.order.trace)] = view.order.amount_fen
    return posted


def digest_of(entries):
    return summarize(entries)
