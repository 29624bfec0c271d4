"""Do the terminal's books agree with the station's? One answer for the faults campaign, the
scenario runner and the tests.

The terminal's side is its journal: every transaction whose state is one of ``POSTED`` (the
station has the money, or will once the outbox delivers), keyed by the batch and trace of the
entry that stated its order (``created``, ``offline`` or ``adopted``). The station's side is
``Ledger.posted_amounts``. Both are keyed by (batch, trace), the wire's idempotency key, and
compared to the fen. The books agree when the two match, nothing is still owed to the station
and no transaction is left open.

This is a tool: it reads the station's ledger, which product code never imports.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from offline_queue import outbox
from offline_queue.journal import Journal
from station.ledger import Ledger
from terminal.core.engine import ORDER_EVENTS  # the events that state a transaction's order
from terminal.core.lifecycle import POSTED

Key = tuple[int, int]  # (batch, trace)


@dataclass(frozen=True)
class Difference:
    """A payment the two sides hold differently: None where a side does not hold it."""

    batch: int
    trace: int
    terminal_fen: int | None
    station_fen: int | None


@dataclass(frozen=True)
class BooksVerdict:
    terminal: dict[Key, int]  # posted according to the journal: key -> fen
    station: dict[Key, int]  # posted according to the ledger
    known: frozenset[Key]  # every key the terminal made, posted or not
    owed: int  # outbox items still to deliver
    open: tuple[str, ...]  # transactions neither final nor posted
    final_states: dict[str, int] = field(default_factory=dict)  # state -> count, for reports

    @property
    def differences(self) -> list[Difference]:
        keys = sorted(set(self.terminal) | set(self.station))
        return [
            Difference(k[0], k[1], self.terminal.get(k), self.station.get(k))
            for k in keys
            if self.terminal.get(k) != self.station.get(k)
        ]

    @property
    def agree(self) -> bool:
        return not self.differences and not self.owed and not self.open

    @property
    def count(self) -> int:
        return len(self.terminal)

    @property
    def total_fen(self) -> int:
        return sum(self.terminal.values())

    @property
    def one_sided(self) -> int:
        """Posted at the station for a transaction the terminal holds as not posted."""
        return sum(1 for k in self.station if k not in self.terminal and k in self.known)

    @property
    def doubled(self) -> int:
        """Posted at the station under a key the terminal never made."""
        return sum(1 for k in self.station if k not in self.known)

    @property
    def lost(self) -> int:
        """Posted in the journal but not at the station."""
        return sum(1 for k in self.terminal if k not in self.station)

    def describe(self) -> str:
        if self.agree:
            return (
                f"books agree: {self.count} payments, {self.total_fen / 100:.2f} yuan on both sides"
            )
        return (
            f"books differ: terminal {self.terminal} station {self.station}; "
            f"{self.owed} items still owed, open {list(self.open)}"
        )


def journal_posted(journal: Journal) -> tuple[dict[Key, int], frozenset[Key], Counter[str]]:
    """(posted key -> fen, every key the journal made, how many transactions in each state).

    A transaction's key and amount are those of the entry that stated its order.
    """
    posted: dict[Key, int] = {}
    known: set[Key] = set()
    states: Counter[str] = Counter()
    for txn, state in journal.states().items():
        stated = next((e for e in journal.entries(txn) if e.event in ORDER_EVENTS), None)
        if stated is None:
            continue
        key = (stated.payload["batch"], stated.payload["trace"])
        known.add(key)
        states[state.value] += 1
        if state in POSTED:
            posted[key] = stated.payload["amount_fen"]
    return posted, frozenset(known), states


def books_agree(journal: Journal, ledger: Ledger, terminal_id: str) -> BooksVerdict:
    """Compare one terminal's journal with the station's ledger, payment by payment."""
    posted, known, states = journal_posted(journal)
    open_ = tuple(t for t in journal.open_transactions() if journal.state(t) not in POSTED)
    return BooksVerdict(
        terminal=posted,
        station=ledger.posted_amounts(terminal_id),
        known=known,
        owed=len(outbox.pending(journal)),
        open=open_,
        final_states=dict(states),
    )


def books_in(folder: Path, terminal_id: str = "T0000001") -> BooksVerdict:
    """``books_agree`` over the demo's files in ``folder``: journal.db (with journal.key) and
    station.db. Both are opened for this question alone, beside the processes that write them,
    and closed again; the station's own connection is never shared with another thread."""
    journal = Journal(folder / "journal.db", folder / "journal.key", create=False)
    ledger = Ledger(folder / "station.db")
    try:
        return books_agree(journal, ledger, terminal_id)
    finally:
        ledger.close()
        journal.close()


def station_posted(path: str | Path, terminal_id: str) -> dict[Key, int]:
    """What the station at ``path`` holds as posted for one terminal: (batch, trace) -> fen."""
    ledger = Ledger(path)
    try:
        return ledger.posted_amounts(terminal_id)
    finally:
        ledger.close()
