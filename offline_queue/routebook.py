"""The route book on the terminal: the customers downloaded before going out, and when.

Kept in the journal's SQLite file (its own two tables, not journal entries: the route book is
reference data the station can always send again, not a record of what happened). A download
replaces the whole book in one SQLite transaction, so a download cut off half-way leaves the
previous book, never half of a new one. What was taken offline since is not written here: it is
in the journal, and the shell subtracts it when it looks a customer up.
"""

from __future__ import annotations

from datetime import datetime

from offline_queue.journal import Journal
from terminal.protocol.records import MeterKind
from terminal.protocol.routebook import RouteEntry

SCHEMA = """
CREATE TABLE IF NOT EXISTS route_book (
    customer_no TEXT PRIMARY KEY, kind INTEGER, due_fen INTEGER, credit_fen INTEGER,
    unpaid_months INTEGER, name TEXT
);
CREATE TABLE IF NOT EXISTS route_book_taken (id INTEGER PRIMARY KEY, taken TEXT, village TEXT);
"""


class RouteBook:
    def __init__(self, journal: Journal) -> None:
        self.conn = journal.db.conn
        self.conn.executescript(SCHEMA)

    def replace(self, entries: list[RouteEntry], village: str, taken: datetime) -> None:
        """The new book, all at once, stamped with when it was taken (UTC)."""
        with self.conn:
            self.conn.execute("DELETE FROM route_book")
            self.conn.executemany(
                "INSERT OR REPLACE INTO route_book VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (e.customer_no, int(e.kind), e.due_fen, e.credit_fen, e.unpaid_months, e.name)
                    for e in entries
                ],
            )
            self.conn.execute(
                "INSERT OR REPLACE INTO route_book_taken VALUES (1, ?, ?)",
                (taken.isoformat(), village),
            )

    def find(self, customer_no: str) -> RouteEntry | None:
        row = self.conn.execute(
            "SELECT customer_no, kind, due_fen, credit_fen, unpaid_months, name FROM route_book"
            " WHERE customer_no = ?",
            (customer_no,),
        ).fetchone()
        if row is None:
            return None
        number, kind, due, credit, months, name = row
        return RouteEntry(number, MeterKind(kind), due, credit, months, name)

    def taken(self) -> tuple[datetime, str] | None:
        """When the book was taken and the village it covers; None before the first download."""
        row = self.conn.execute("SELECT taken, village FROM route_book_taken").fetchone()
        return (datetime.fromisoformat(row[0]), row[1]) if row else None

    def size(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM route_book").fetchone()[0])
