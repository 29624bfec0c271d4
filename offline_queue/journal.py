"""The signed, append-only transaction journal.

Each entry carries an HMAC-SHA256 over its own content and the previous entry's MAC, so editing,
deleting, inserting or reordering entries breaks the chain at the first bad one. A cut-off tail
leaves a valid chain, so the head (last sequence number and MAC) is also kept, MACed, in a
separate table written in the same SQLite transaction as the entry: cutting rows without a
matching head is detected, and a matching head cannot be made without the key.

Durability: WAL with ``synchronous=FULL``: when ``append`` returns, the entry survives a power
cut. Every append is checked against the lifecycle table before it is written.

Plain ``sqlite3`` rather than sqlite-utils: the journal needs five SQL statements, and
sqlite-utils (with dateutil, pluggy and click) adds 14 MB to the terminal's resident memory and
80 ms to its start — a third of the memory budget of a small ARM terminal.

Trace and batch numbers live in ``counters``, written (and synced) before a number is used, so
they are never reused; after the journal is lost, sign-on restores them from the station.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from terminal.core.lifecycle import FINAL, SYSTEM, SYSTEM_EVENTS, State, next_state

GENESIS = b"\0" * 32


class JournalError(Exception):
    """The journal cannot be opened or written: the terminal must not take money."""


@dataclass(frozen=True)
class Entry:
    """One signed journal entry as stored."""

    seq: int
    txn: str
    event: str
    payload: dict[str, Any]
    time: str  # UTC, ISO 8601
    mac: str  # hex

    def body(self) -> bytes:
        return canonical(self.seq, self.txn, self.event, self.payload, self.time)


@dataclass(frozen=True)
class Verdict:
    """Result of ``verify``: ``bad_seq`` is the first entry that is not as written."""

    ok: bool
    entries: int
    bad_seq: int | None = None
    reason: str = ""


def canonical(seq: int, txn: str, event: str, payload: dict[str, Any], time: str) -> bytes:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{seq}\x1f{txn}\x1f{event}\x1f{text}\x1f{time}".encode()


def load_or_create_key(path: str | Path, create: bool = True) -> bytes:
    """The journal key: 32 random bytes in hex, created with mode 0600 at first start."""
    path = Path(path)
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        if not create:
            raise JournalError(f"{path}: journal key file not found") from None
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(key.hex() + "\n")
            out.flush()
            os.fsync(out.fileno())
        return key
    except (OSError, UnicodeDecodeError) as exc:
        raise JournalError(f"{path}: cannot read the journal key: {exc}") from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise JournalError(f"{path}: journal key must be 64 hex digits")
    return key


SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY,
    txn TEXT NOT NULL,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    time TEXT NOT NULL,
    mac TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_entries_txn ON entries (txn);
CREATE TABLE IF NOT EXISTS head (id INTEGER PRIMARY KEY, seq INTEGER, mac TEXT, seal TEXT);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER);
"""


class _Database:
    """The journal's SQLite connection: four statements need nothing more than ``sqlite3``."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(str(path))

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def close(self) -> None:
        self.conn.close()


class Journal:
    def __init__(self, path: str | Path, key_file: str | Path, create: bool = True) -> None:
        """Open the journal, creating it and its key at first start unless ``create`` is False
        (the audit commands must never create an empty journal where one is missing)."""
        self.path = Path(path)
        if not create and not self.path.exists():
            raise JournalError(f"{self.path}: journal not found")
        self.key = load_or_create_key(key_file, create)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = _Database(self.path)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.conn.executescript(SCHEMA)
        except Exception as exc:  # sqlite3.DatabaseError for a file that is not a database
            raise JournalError(f"{self.path}: cannot open the journal: {exc}") from None
        self._states: dict[str, State] = {}
        self._head_seq = 0
        self._head_mac = GENESIS
        for entry in self.entries():
            self._track(entry)

    def close(self) -> None:
        self.db.close()

    # --- writing -------------------------------------------------------------------------

    def append(self, txn: str, event: str, payload: dict[str, Any] | None = None) -> Entry:
        """Write one entry durably; refuses an event the lifecycle does not allow."""
        payload = payload or {}
        if txn == SYSTEM:
            if event not in SYSTEM_EVENTS:
                raise JournalError(f"{event!r} is not a system event")
            state = None
        else:
            state = next_state(self.state(txn), event)
        seq = self._head_seq + 1
        time = datetime.now(UTC).isoformat(timespec="milliseconds")
        body = canonical(seq, txn, event, payload, time)
        mac = hmac.new(self.key, self._head_mac + body, hashlib.sha256).digest()
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        conn = self.db.conn
        with conn:
            conn.execute(
                "INSERT INTO entries (seq, txn, event, payload, time, mac) VALUES (?,?,?,?,?,?)",
                (seq, txn, event, text, time, mac.hex()),
            )
            conn.execute(
                "INSERT OR REPLACE INTO head (id, seq, mac, seal) VALUES (1, ?, ?, ?)",
                (seq, mac.hex(), self._seal(seq, mac).hex()),
            )
        self._head_seq, self._head_mac = seq, mac
        if state is not None:
            self._states[txn] = state
        return Entry(seq, txn, event, payload, time, mac.hex())

    def _seal(self, seq: int, mac: bytes) -> bytes:
        return hmac.new(self.key, b"head\x1f%d\x1f" % seq + mac, hashlib.sha256).digest()

    def _track(self, entry: Entry) -> None:
        self._head_seq = entry.seq
        self._head_mac = bytes.fromhex(entry.mac)
        if entry.txn != SYSTEM:
            try:
                self._states[entry.txn] = next_state(self.state(entry.txn), entry.event)
            except ValueError:
                self._states[entry.txn] = State.UNKNOWN  # verify() reports the bad entry

    # --- counters ------------------------------------------------------------------------

    def counter(self, name: str, default: int = 0) -> int:
        row = self.db.execute("SELECT value FROM counters WHERE name = ?", [name]).fetchone()
        return row[0] if row else default

    def set_counter(self, name: str, value: int) -> None:
        with self.db.conn:
            self.db.execute(
                "INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)", [name, value]
            )

    def take_trace(self) -> int:
        """The next trace number, persisted before it is handed out (1..999999, wraps)."""
        trace = self.counter("next_trace", 1)
        self.set_counter("next_trace", trace % 999999 + 1)
        return trace

    # --- reading -------------------------------------------------------------------------

    def state(self, txn: str) -> State:
        return self._states.get(txn, State.NEW)

    def states(self) -> dict[str, State]:
        return dict(self._states)

    def open_transactions(self) -> list[str]:
        """Transactions not in a final state, oldest first."""
        return [txn for txn, state in self._states.items() if state not in FINAL]

    def entries(self, txn: str | None = None) -> Iterator[Entry]:
        sql = "SELECT seq, txn, event, payload, time, mac FROM entries"
        args: list[Any] = []
        if txn is not None:
            sql += " WHERE txn = ?"
            args.append(txn)
        for seq, t, event, payload, time, mac in self.db.execute(sql + " ORDER BY seq", args):
            try:
                data = json.loads(payload)
            except ValueError:
                data = {"unreadable": payload}
            yield Entry(
                seq, t, event, data if isinstance(data, dict) else {"value": data}, time, mac
            )

    def first(self, txn: str, event: str) -> Entry | None:
        for entry in self.entries(txn):
            if entry.event == event:
                return entry
        return None

    def last(self, txn: str, event: str) -> Entry | None:
        found = None
        for entry in self.entries(txn):
            if entry.event == event:
                found = entry
        return found

    @property
    def head_seq(self) -> int:
        return self._head_seq

    # --- checking ------------------------------------------------------------------------

    def verify(self) -> Verdict:
        """Walk the chain; name the first entry that is not as it was written."""
        previous = GENESIS
        expected = 1
        count = 0
        key = self.key
        rows = self.db.execute(
            "SELECT seq, txn, event, payload, time, mac FROM entries ORDER BY seq"
        )
        digest = hmac.digest
        for seq, txn, event, payload, time, mac in rows:
            if seq != expected:
                return Verdict(False, count, expected, f"entry {expected} is missing")
            # The stored payload is the canonical text the MAC was made over.
            body = f"{seq}\x1f{txn}\x1f{event}\x1f{payload}\x1f{time}".encode()
            good = digest(key, previous + body, "sha256")
            if not hmac.compare_digest(good.hex(), str(mac)):
                return Verdict(False, count, seq, f"entry {seq} was altered, moved or inserted")
            previous = good
            expected += 1
            count += 1
        head = self.db.execute("SELECT seq, mac, seal FROM head WHERE id = 1").fetchone()
        if head is None:
            if count:
                return Verdict(False, count, count, "the journal head is missing")
            return Verdict(True, 0)
        seq, mac, seal = head
        try:
            sealed = hmac.compare_digest(self._seal(seq, bytes.fromhex(mac)).hex(), seal)
        except (ValueError, TypeError):
            sealed = False
        if not sealed:
            return Verdict(False, count, count or None, "the journal head was altered")
        if seq > count:
            return Verdict(
                False,
                count,
                count + 1,
                f"entries {count + 1} to {seq} are missing (journal cut off)",
            )
        if seq < count or mac != previous.hex():
            return Verdict(False, count, seq + 1, f"entry {seq + 1} was added after the head")
        return Verdict(True, count)
