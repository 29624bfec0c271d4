"""``terminal.tools.books``: the one comparison of a terminal's journal with the station's ledger
that the scenario runner, the fault campaign and the tests all use. Here it is shown every kind
of disagreement on a journal and a ledger written by hand, so each can be told apart."""

from __future__ import annotations

import pytest

from offline_queue.journal import Journal
from station.ledger import Ledger
from terminal.core.orders import Order
from terminal.protocol import messages as m
from terminal.tools.books import Difference, books_agree, books_in

WANG = "0100000123"


def journalled(journal: Journal, trace: int, fen: int, *events: str) -> Order:
    order = Order(m.Processing.PREPAYMENT, "T0000001", 1, trace, fen, WANG)
    journal.append(order.txn, "created", order.to_payload())
    for event in events:
        journal.append(order.txn, event)
    return order


def posted(ledger: Ledger, trace: int, fen: int, terminal_id: str = "T0000001") -> None:
    ledger.run(
        "INSERT INTO requests (terminal_id, batch, trace, kind, state, amount_fen, time)"
        " VALUES (?, 1, ?, 1, 'posted', ?, '2026-11-22T02:30:00Z')",
        terminal_id,
        trace,
        fen,
    )


@pytest.fixture
def books(tmp_path, ledger_url):
    """A journal and a ledger, the ledger once on SQLite and once on PostgreSQL."""
    journal = Journal(tmp_path / "journal.db", tmp_path / "journal.key")
    ledger = Ledger(ledger_url)
    yield journal, ledger
    ledger.close()
    journal.close()


def test_books_that_match_agree_and_count_the_payments(books, tmp_path):
    journal, ledger = books
    journalled(journal, 1, 1000, "sent", "approved", "printing", "printed", "completed")
    journalled(journal, 2, 2500, "sent", "declined")
    posted(ledger, 1, 1000)
    posted(ledger, 1, 9900, terminal_id="T0000002")  # another terminal's books are not ours
    verdict = books_agree(journal, ledger, "T0000001")
    assert verdict.agree and verdict.differences == []
    assert (verdict.count, verdict.total_fen) == (1, 1000)
    assert verdict.final_states == {"completed": 1, "declined": 1}
    assert verdict.describe() == "books agree: 1 payments, 10.00 yuan on both sides"
    journal.close()
    if ledger.db.dialect == "sqlite":
        assert books_in(tmp_path).agree  # the same, from the demo's files


def test_every_kind_of_disagreement_is_named(books):
    journal, ledger = books
    journalled(journal, 1, 1000, "sent", "approved", "printing", "printed", "completed")
    journalled(journal, 2, 2000, "sent", "approved", "printing", "printed", "completed")
    journalled(journal, 3, 3000, "sent", "declined")
    journalled(journal, 4, 4000, "sent", "approved", "printing", "printed")  # owes completion
    unknown = journalled(journal, 5, 5000, "sent", "unknown")  # open: neither final nor posted
    posted(ledger, 1, 1001)  # a fen apart
    # trace 2: posted in the journal, not at the station (lost)
    posted(ledger, 3, 3000)  # posted at the station, declined at the terminal (one-sided)
    posted(ledger, 4, 4000)
    posted(ledger, 7, 700)  # a key the terminal never made (doubled)
    verdict = books_agree(journal, ledger, "T0000001")
    assert not verdict.agree
    assert verdict.differences == [
        Difference(1, 1, 1000, 1001),
        Difference(1, 2, 2000, None),
        Difference(1, 3, None, 3000),
        Difference(1, 7, None, 700),
    ]
    assert (verdict.lost, verdict.one_sided, verdict.doubled) == (1, 1, 1)
    assert verdict.owed == 1  # the completion of trace 4
    assert verdict.open == (unknown.txn,)
    assert "books differ" in verdict.describe()


def test_owed_or_open_alone_is_not_agreement(books):
    journal, ledger = books
    journalled(journal, 1, 1000, "sent", "approved", "printing", "printed")
    posted(ledger, 1, 1000)
    verdict = books_agree(journal, ledger, "T0000001")
    assert verdict.differences == [] and verdict.owed == 1 and not verdict.agree
