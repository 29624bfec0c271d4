"""The station's ledger: terminals, agents, operators, customers, bills, cards, postings.

A SQLite file or a ``postgresql://`` URL (``station.db``; ``station.schema`` builds the tables);
the SQL is written once, in what both understand (``?`` parameters, ``ON CONFLICT`` upserts). A
request is one transaction (``atomic``). Stations sharing one PostgreSQL lock in one order
(``SELECT ... FOR UPDATE``): the terminal, its agent (``lock_terminal``), the customer
(``customer``); a repeat reaching a second process waits on the terminal's row, then finds the
answer stored under its unique key (``docs/storage.md``). ``effects`` records what a posting
changed, so a reversal undoes exactly that. Rules call the methods below and never write SQL.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from station import schema
from station.db import Row, open_database
from station.tables import SCHEMA

Key = tuple[str, int, int]  # (terminal, batch, trace)
BY_KEY = " WHERE terminal_id = ? AND batch = ? AND trace = ?"


class Ledger:
    """One connection to a SQLite file or a PostgreSQL URL; one request at a time on it."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.db = open_database(path)
        schema.prepare(self.db, path, SCHEMA)

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def atomic(self) -> Iterator[Any]:
        """All or nothing; yields the driver's connection, for tools that bulk-load rows."""
        with self.db.transaction():
            yield self.db.conn

    def lock_terminal(self, terminal_id: str) -> Row | None:
        """The terminal's row, then its agent's, locked until the transaction ends (PostgreSQL)."""
        lock = self.db.for_update
        row = self.one("SELECT * FROM terminals WHERE terminal_id = ?" + lock, terminal_id)
        if row is not None and lock:
            self.one("SELECT 1 FROM agents WHERE agent_id = ?" + lock, row["agent_id"])
        return row

    def one(self, sql: str, *args: object) -> Row | None:
        return self.db.execute(sql, args).fetchone()

    def all(self, sql: str, *args: object) -> list[Row]:
        return self.db.execute(sql, args).fetchall()

    def run(self, sql: str, *args: object) -> None:
        self.db.execute(sql, args)

    def _insert(self, table: str, **columns: object) -> None:
        """One row; table and column names come from this module, never from a request."""
        names = ", ".join(columns)
        marks = ", ".join("?" * len(columns))
        self.db.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", tuple(columns.values()))

    # --- parameters -----------------------------------------------------------------------

    def param(self, name: str, default: str | None = None) -> str | None:
        row = self.one("SELECT value FROM params WHERE name = ?", name)
        return row["value"] if row else default

    def set_param(self, name: str, value: str) -> None:
        upsert = " ON CONFLICT (name) DO UPDATE SET value = excluded.value"
        self.run("INSERT INTO params (name, value) VALUES (?, ?)" + upsert, name, value)

    def next_ref(self) -> int:
        """The next station reference (field 37's number), 1 to 9 999 999 999 and round again."""
        if self.db.dialect == "postgresql":
            return int(self.one("SELECT nextval('station_ref')")[0])
        ref = int(self.param("next_ref", "1") or 1)
        self.set_param("next_ref", str(ref % 9_999_999_999 + 1))
        return ref

    def is_empty(self) -> bool:
        return self.one("SELECT 1 FROM agents LIMIT 1") is None

    # --- agents, terminals, operators ------------------------------------------------------

    def add_agent(self, agent_id: str, name: str, deposit: int, offline_limit: int) -> None:
        self._insert(
            "agents",
            agent_id=agent_id,
            name=name,
            deposit_fen=deposit,
            available_fen=deposit,
            offline_limit_fen=offline_limit,
        )

    def agent(self, agent_id: str) -> Row | None:
        return self.one("SELECT * FROM agents WHERE agent_id = ?", agent_id)

    def change_available(self, agent_id: str, delta: int) -> None:
        """Take from (negative) or give back to (positive) the agent's available limit."""
        self.run(
            "UPDATE agents SET available_fen = available_fen + ? WHERE agent_id = ?",
            delta,
            agent_id,
        )

    def add_terminal(self, terminal_id: str, agent_id: str, master_key: bytes) -> None:
        self._insert(
            "terminals", terminal_id=terminal_id, agent_id=agent_id, master_key=master_key.hex()
        )

    def terminal(self, terminal_id: str) -> Row | None:
        return self.one("SELECT * FROM terminals WHERE terminal_id = ?", terminal_id)

    def saw_trace(self, terminal_id: str, trace: int) -> None:
        """Remember the highest trace a terminal used, for sign-on after a lost journal."""
        self.run(
            "UPDATE terminals SET last_trace = ? WHERE terminal_id = ? AND last_trace < ?",
            trace,
            terminal_id,
            trace,
        )

    def set_master_key(self, terminal_id: str, key: bytes) -> None:  # station.keychange
        self.run("UPDATE terminals SET master_key=? WHERE terminal_id=?", key.hex(), terminal_id)

    def set_mac_key(self, terminal_id: str, key: bytes) -> None:
        self.run("UPDATE terminals SET mac_key = ? WHERE terminal_id = ?", key.hex(), terminal_id)

    def record_status(self, terminal_id: str, status: str, confirmed: int = 0) -> None:
        """A heartbeat's status (JSON) arrived; the pending command it confirms is done."""
        self.run(
            "UPDATE terminals SET status = ?, command = CASE WHEN command = ? THEN 0"
            " ELSE command END WHERE terminal_id = ?",
            status,
            confirmed,
            terminal_id,
        )

    def add_operator(self, account: str, agent_id: str, salt: str, password_hash: str) -> None:
        self._insert(
            "operators", account=account, agent_id=agent_id, salt=salt, password_hash=password_hash
        )

    def operator(self, account: str) -> Row | None:
        return self.one("SELECT * FROM operators WHERE account = ?", account)

    def login_failed(self, account: str, failures: int, locked: bool) -> None:
        self.run(
            "UPDATE operators SET failures = ?, locked = ? WHERE account = ?",
            failures,
            int(locked),
            account,
        )

    def login_succeeded(self, account: str) -> None:
        self.run("UPDATE operators SET failures = 0 WHERE account = ?", account)

    # --- customers and bills ---------------------------------------------------------------

    def add_customer(
        self, number: str, name: str, address: str, kind: int, meter_no: str, purchase_count: int
    ) -> None:
        self._insert(
            "customers",
            customer_no=number,
            name=name,
            address=address,
            meter_kind=kind,
            meter_no=meter_no,
            purchase_count=purchase_count,
        )

    def customer(self, number: str) -> Row | None:
        lock = self.db.for_update
        return self.one("SELECT * FROM customers WHERE customer_no = ?" + lock, number)

    def change_credit(self, number: str, delta: int) -> None:
        self.run(
            "UPDATE customers SET credit_fen = credit_fen + ? WHERE customer_no = ?", delta, number
        )

    def change_purchase_count(self, number: str, delta: int) -> None:
        self.run(
            "UPDATE customers SET purchase_count = purchase_count + ? WHERE customer_no = ?",
            delta,
            number,
        )

    def set_reading(self, number: str, reading: int) -> None:
        self.run("UPDATE customers SET last_reading = ? WHERE customer_no = ?", reading, number)

    def advance_reading(self, number: str, tenths_kwh: int) -> None:
        self.run(
            "UPDATE customers SET last_reading = last_reading + ? WHERE customer_no = ?",
            tenths_kwh,
            number,
        )

    def add_bill(self, number: str, month: int, kwh: int, amount: int, paid: int = 0) -> None:
        self._insert(
            "bills", customer_no=number, month=month, kwh=kwh, amount_fen=amount, paid_fen=paid
        )

    def has_bill(self, number: str, month: int) -> bool:
        found = self.one("SELECT 1 FROM bills WHERE customer_no = ? AND month = ?", number, month)
        return found is not None

    def arrears(self, number: str) -> int:
        """What the customer's bills still lack, before any credit."""
        row = self.one(
            "SELECT coalesce(sum(amount_fen - paid_fen), 0) AS due FROM bills"
            " WHERE customer_no = ?",
            number,
        )
        return row["due"]

    def unpaid_bills(self, number: str, limit: int = -1) -> list[Row]:
        """Bills not fully paid, oldest first (all of them unless ``limit``)."""
        sql = "SELECT * FROM bills WHERE customer_no = ? AND paid_fen < amount_fen ORDER BY month"
        if limit < 0:
            return self.all(sql, number)
        return self.all(sql + " LIMIT ?", number, limit)

    def latest_bills(self, number: str, limit: int) -> list[Row]:
        """The ``limit`` latest bills, oldest first."""
        return self.all(
            "SELECT * FROM (SELECT * FROM bills WHERE customer_no = ? ORDER BY month DESC LIMIT ?)"
            " AS latest ORDER BY month",
            number,
            limit,
        )

    def change_paid(self, number: str, month: int, delta: int) -> None:
        self.run(
            "UPDATE bills SET paid_fen = paid_fen + ? WHERE customer_no = ? AND month = ?",
            delta,
            number,
            month,
        )

    # --- cards -----------------------------------------------------------------------------

    def add_card(self, serial: bytes, number: str) -> None:
        self._insert("cards", serial=serial.hex(), customer_no=number)

    def card(self, serial: bytes) -> Row | None:
        return self.one("SELECT * FROM cards WHERE serial = ?", serial.hex())

    def valid_cards(self, number: str) -> list[str]:
        """Serials (hex) of the customer's cards that are still valid."""
        rows = self.all("SELECT serial FROM cards WHERE customer_no = ? AND valid = 1", number)
        return [row["serial"] for row in rows]

    def invalidate_cards(self, number: str) -> None:
        self.run("UPDATE cards SET valid = 0 WHERE customer_no = ?", number)

    def revalidate_card(self, serial: str) -> None:
        self.run("UPDATE cards SET valid = 1 WHERE serial = ?", serial)

    def delete_card(self, serial: str) -> None:
        self.run("DELETE FROM cards WHERE serial = ?", serial)

    # --- requests: the repeat store and what was posted ------------------------------------

    def request(self, key: Key) -> Row | None:
        return self.one("SELECT * FROM requests" + BY_KEY, *key)

    def add_request(
        self,
        key: Key,
        state: str,
        kind: int | None,
        customer_no: str | None,
        amount: int,
        *,
        fingerprint: str | None = None,
        effects: str | None = None,
        response: bytes | None = None,
        reversal: bytes | None = None,
        confirmed: bool = False,
        time: str,
    ) -> None:
        """A keyed request and its answer: ``state`` is answered, posted, declined, or void (a
        reversal whose original never arrived: the key is kept so that it never posts)."""
        terminal_id, batch, trace = key
        self._insert(
            "requests",
            terminal_id=terminal_id,
            batch=batch,
            trace=trace,
            fingerprint=fingerprint,
            kind=kind,
            customer_no=customer_no,
            amount_fen=amount,
            state=state,
            effects=effects,
            response=response,
            confirmed=int(confirmed),
            reversal_response=reversal,
            time=time,
        )

    def mark_reversed(self, key: Key, reversal: bytes) -> None:
        self.run(
            "UPDATE requests SET state = 'reversed', reversal_response = ?" + BY_KEY, reversal, *key
        )

    def confirm(self, key: Key) -> None:
        """The completion advice arrived: the card was written, the receipt printed."""
        self.run("UPDATE requests SET confirmed = 1" + BY_KEY, *key)

    def posted(self, terminal_id: str, batch: int, first: int = 0, last: int = 999999) -> list[Row]:
        """Posted financial requests of one batch within a trace range, by trace."""
        return self.all(
            "SELECT trace, kind, amount_fen, confirmed FROM requests WHERE terminal_id = ?"
            " AND batch = ? AND state = 'posted' AND kind IS NOT NULL AND trace BETWEEN ? AND ?"
            " ORDER BY trace",
            terminal_id,
            batch,
            first,
            last,
        )

    def by_trace(self, terminal_id: str, trace: int) -> list[Row]:
        """Financial requests with this trace in any batch, latest first (traces wrap)."""
        sql = "SELECT * FROM requests WHERE terminal_id = ? AND trace = ? AND kind IS NOT NULL"
        return self.all(sql + " ORDER BY batch DESC", terminal_id, trace)

    def posted_amounts(self, terminal_id: str) -> dict[tuple[int, int], int]:
        """What the station holds as posted for one terminal: (batch, trace) -> amount (fen)."""
        rows = self.all(
            "SELECT batch, trace, amount_fen FROM requests WHERE terminal_id = ?"
            " AND state = 'posted' AND kind IS NOT NULL",
            terminal_id,
        )
        return {(row["batch"], row["trace"]): row["amount_fen"] for row in rows}

    def payments(self, number: str, limit: int) -> list[Row]:
        """A customer's latest posted payments (time, amount_fen), newest first."""
        return self.all(
            "SELECT time, amount_fen FROM requests WHERE customer_no = ? AND state = 'posted'"
            " AND kind IS NOT NULL ORDER BY time DESC LIMIT ?",
            number,
            limit,
        )

    def totals(self, terminal_id: str, start: str, end: str) -> tuple[int, int]:
        """Count and total of a terminal's postings from ``start`` until before ``end`` (UTC)."""
        row = self.one(
            "SELECT count(*) AS n, coalesce(sum(amount_fen), 0) AS total FROM requests"
            " WHERE terminal_id = ? AND state = 'posted' AND kind IS NOT NULL"
            " AND time >= ? AND time < ?",
            terminal_id,
            start,
            end,
        )
        return row["n"], row["total"]

    # --- settlements -----------------------------------------------------------------------

    def settlement(self, terminal_id: str, batch: int) -> bytes | None:
        """The stored answer to a batch's settlement, if it was closed."""
        row = self.one(
            "SELECT response FROM settlements WHERE terminal_id = ? AND batch = ?",
            terminal_id,
            batch,
        )
        return row["response"] if row else None

    def close_batch(
        self, terminal_id: str, batch: int, next_batch: int, response: bytes, time: str
    ) -> None:
        self.run("UPDATE terminals SET batch = ? WHERE terminal_id = ?", next_batch, terminal_id)
        self._insert(
            "settlements", terminal_id=terminal_id, batch=batch, response=response, time=time
        )
