"""Building a real terminal (journal, link, printer) against a station, for tests."""

from __future__ import annotations

from pathlib import Path

from drivers.printer.escpos_printer import EscPosPrinter
from drivers.transport import SocketTransport
from offline_queue.journal import Journal
from terminal.core.cash import Tender
from terminal.core.orders import Order
from terminal.core.requests import CardInHand, Customer, Pay, PayFlow, customer_of
from terminal.protocol.digest import summarize
from terminal.shell.link import StationLink
from terminal.shell.terminal import Terminal

WANG = "0100000123"


def make_terminal(folder: Path, port: int, terminal_id: str = "T0000001", **kwargs) -> Terminal:
    from station.seed import demo_master_key

    journal = Journal(folder / "journal.db", folder / "journal.key")
    response_timeout = kwargs.pop("response_timeout", 5)
    link = kwargs.pop("link", None) or StationLink(
        SocketTransport, "127.0.0.1", port, connect_timeout=5, response_timeout=response_timeout
    )
    kwargs.setdefault("printer", EscPosPrinter("file", str(folder / "printer.out")))
    return Terminal(journal, link, terminal_id, demo_master_key(terminal_id), **kwargs)


async def bill_order(terminal: Terminal, customer: str = WANG, extra_fen: int = 0) -> Order:
    """An order for everything the customer owes plus ``extra_fen`` carried as credit."""
    info = customer_of(await terminal.session.inquire(customer_no=customer))
    cash = info.due_fen + extra_fen
    return terminal.order(Pay(PayFlow.BILL, Tender(cash, cash, info.due_fen), info))


def prepay_order(terminal: Terminal, fen: int, customer: str = WANG, **customer_fields) -> Order:
    """A prepayment of ``fen`` paid in exact cash."""
    return terminal.order(
        Pay(PayFlow.PREPAY, Tender(fen, fen), Customer(customer, **customer_fields))
    )


async def card_order(terminal: Terminal, card, fen: int) -> Order:
    """Electricity for ``fen`` onto the card read (``CardData``), for the customer it belongs to."""
    info = await terminal.session.inquire(card_serial=card.info.serial)
    in_hand = CardInHand(card.info.serial.hex(), card.purchase_count)
    return terminal.order(Pay(PayFlow.CARD, Tender(fen, fen), customer_of(info), in_hand))


def ledger_view(db_path: Path, terminal_id: str = "T0000001") -> dict[tuple[int, int], int]:
    """The station's posted transactions: (batch, trace) -> amount (``terminal.tools.books``)."""
    from terminal.tools.books import station_posted

    return station_posted(db_path, terminal_id)


def journal_view(terminal: Terminal) -> dict[tuple[int, int], int]:
    """What the terminal holds as posted, over all batches: (batch, trace) -> amount, counted as
    ``terminal.tools.books`` counts it for the scenario runner and the fault campaign."""
    from terminal.tools.books import journal_posted

    return journal_posted(terminal.journal)[0]


def digest_of(entries):
    return summarize(entries)
