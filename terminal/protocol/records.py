"""The structured binary fields: amounts, bills, payments, meter, status, summary, listing.

Each is a dataclass with ``pack``/``unpack`` over a fixed ``struct`` layout, so sizes on the wire
are exact and documented in one place. ``unpack`` raises ``CodecError`` for anything malformed:
a station or terminal must never crash on a peer's bad bytes.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from datetime import date
from typing import Any


class CodecError(ValueError):
    """Bytes that are not a valid message of our protocol (the codec's only error)."""


def bcd(value: int, digits: int) -> bytes:
    if value < 0 or value >= 10**digits:
        raise CodecError(f"{value} does not fit in {digits} digits")
    return bytes.fromhex(f"{value:0{digits}d}")


def unbcd(data: bytes) -> int:
    text = data.hex()
    if not text.isdigit():
        raise CodecError(f"not packed BCD: {text}")
    return int(text)


class Amount(enum.IntEnum):
    """Tags of the amounts in field 54; which ones appear depends on the message."""

    DUE = 1  # what the customer must pay now: arrears less prepaid credit, never below 0
    CREDIT = 2  # prepaid credit carried to coming bills
    AGENT_LIMIT = 3  # agent's available limit (保证金/额度) after this transaction
    COUNT = 4  # number of transactions in the period asked for
    TOTAL = 5  # their total in fen
    OFFLINE_LIMIT = 6  # largest single payment the terminal may take offline
    ARREARS = 7  # unpaid bills, before credit
    OFFLINE_TOTAL = 8  # offline payments waiting for upload: largest total
    OFFLINE_COUNT = 9  # offline payments waiting for upload: largest count
    ROUTE_BOOK_HOURS = 10  # a route book older than this many hours takes no offline payment
    SIGN_ON_HOURS = 11  # nor does a terminal whose last sign-on is older than this


_AMOUNT = struct.Struct(">Bi")


def pack_amounts(amounts: dict[Amount, int]) -> bytes:
    return b"".join(_AMOUNT.pack(int(tag), value) for tag, value in sorted(amounts.items()))


def unpack_amounts(data: bytes) -> dict[Amount, int]:
    if len(data) % _AMOUNT.size:
        raise CodecError("amounts field is not a whole number of 5-byte records")
    result: dict[Amount, int] = {}
    for tag, value in _AMOUNT.iter_unpack(data):
        try:
            result[Amount(tag)] = value
        except ValueError:
            raise CodecError(f"unknown amount tag {tag}") from None
    return result


@dataclass(frozen=True)
class Bill:
    """One monthly bill: ``month`` is ``YYYYMM``; ``paid_fen`` < ``amount_fen`` means unpaid."""

    month: int
    kwh: int
    amount_fen: int
    paid_fen: int

    LAYOUT = struct.Struct(">2sIII")

    @property
    def due_fen(self) -> int:
        return self.amount_fen - self.paid_fen

    def pack(self) -> bytes:
        return self.LAYOUT.pack(
            bcd(self.month % 10000, 4), self.kwh, self.amount_fen, self.paid_fen
        )

    @classmethod
    def unpack(cls, data: bytes) -> Bill:
        yymm, kwh, amount, paid = cls.LAYOUT.unpack(data)
        month = 200000 + unbcd(yymm)
        if not 1 <= month % 100 <= 12:
            raise CodecError(f"bad bill month {month}")
        return cls(month, kwh, amount, paid)


@dataclass(frozen=True)
class PaymentRecord:
    """A recent payment shown in the customer query."""

    day: date
    amount_fen: int

    LAYOUT = struct.Struct(">3sI")

    def pack(self) -> bytes:
        yymmdd = (self.day.year % 100) * 10000 + self.day.month * 100 + self.day.day
        return self.LAYOUT.pack(bcd(yymmdd, 6), self.amount_fen)

    @classmethod
    def unpack(cls, data: bytes) -> PaymentRecord:
        raw, amount = cls.LAYOUT.unpack(data)
        value = unbcd(raw)
        try:
            day = date(2000 + value // 10000, value // 100 % 100, value % 100)
        except ValueError:
            raise CodecError(f"bad payment date {value:06d}") from None
        return cls(day, amount)


class MeterKind(enum.IntEnum):
    POSTPAID = 1  # billed monthly, pays arrears
    CARD_PREPAID = 2  # buys electricity onto an IC card
    REMOTE_PREPAID = 3  # prepaid, credit sent to the meter by the station


@dataclass(frozen=True)
class MeterInfo:
    """The meter a card feeds: its kind, number and purchase count."""

    kind: MeterKind
    meter_no: str
    purchase_count: int

    LAYOUT = struct.Struct(">B6sH")

    def pack(self) -> bytes:
        if len(self.meter_no) != 12 or not self.meter_no.isdigit():
            raise CodecError(f"meter number must be 12 digits: {self.meter_no!r}")
        return self.LAYOUT.pack(int(self.kind), bytes.fromhex(self.meter_no), self.purchase_count)

    @classmethod
    def unpack(cls, data: bytes) -> MeterInfo:
        kind, meter, count = cls.LAYOUT.unpack(data)
        try:
            return cls(MeterKind(kind), f"{unbcd(meter):012d}", count)
        except ValueError as exc:
            raise CodecError(f"bad meter field: {exc}") from None


@dataclass(frozen=True)
class TerminalStatus:
    """What the heartbeat tells the station about the terminal."""

    signal: int  # CSQ 0..31, 99 unknown
    paper_ok: bool
    battery_percent: int
    pending: int  # outbox items not yet delivered
    lac: int
    cell_id: int

    LAYOUT = struct.Struct(">BBBHHI")

    def pack(self) -> bytes:
        return self.LAYOUT.pack(
            self.signal,
            int(self.paper_ok),
            self.battery_percent,
            self.pending,
            self.lac,
            self.cell_id,
        )

    @classmethod
    def unpack(cls, data: bytes) -> TerminalStatus:
        signal, paper, battery, pending, lac, cell = cls.LAYOUT.unpack(data)
        return cls(signal, bool(paper), battery, pending, lac, cell)


class StationCommand(enum.IntEnum):
    NONE = 0
    LOCK = 1  # stop taking payments until unlocked
    UNLOCK = 2
    SIGN_ON = 3  # sign on again (new keys or parameters)


@dataclass(frozen=True)
class Summary:
    """Count and digest of a set of posted transactions (see ``terminal.protocol.digest``)."""

    count: int
    digest: bytes

    LAYOUT = struct.Struct(">I8s")

    def pack(self) -> bytes:
        return self.LAYOUT.pack(self.count, self.digest)

    @classmethod
    def unpack(cls, data: bytes) -> Summary:
        count, digest = cls.LAYOUT.unpack(data)
        return cls(count, digest)


class TxnKind(enum.IntEnum):
    """Kinds of posted transaction, as listed and digested in settlement."""

    BILL_PAYMENT = 1
    PREPAYMENT = 2
    CARD_PURCHASE = 3
    CARD_REISSUE = 4
    CARD_OPEN = 5
    OFFLINE_PAYMENT = 6


@dataclass(frozen=True, order=True)
class ListingEntry:
    """One posted transaction in a detail listing: enough to name a difference."""

    trace: int
    kind: TxnKind
    amount_fen: int
    confirmed: bool = True  # card writes: False until the read-back advice arrived

    LAYOUT = struct.Struct(">3sBIB")

    def pack(self) -> bytes:
        return self.LAYOUT.pack(
            bcd(self.trace, 6), int(self.kind), self.amount_fen, int(self.confirmed)
        )

    @classmethod
    def unpack(cls, data: bytes) -> ListingEntry:
        trace, kind, amount, confirmed = cls.LAYOUT.unpack(data)
        try:
            return cls(unbcd(trace), TxnKind(kind), amount, bool(confirmed))
        except ValueError as exc:
            raise CodecError(f"bad listing entry: {exc}") from None


@dataclass(frozen=True)
class KeyBlock:
    """A working key encrypted under the terminal master key, with its check value."""

    encrypted: bytes
    check_value: bytes

    def pack(self) -> bytes:
        return self.encrypted + self.check_value

    @classmethod
    def unpack(cls, data: bytes) -> KeyBlock:
        return cls(data[:16], data[16:])


def pack_list(items: tuple) -> bytes:
    return b"".join(item.pack() for item in items)


def unpack_list(cls: Any, data: bytes) -> tuple:
    """Records of ``cls`` (a record class with ``LAYOUT`` and ``unpack``) from one field."""
    size = cls.LAYOUT.size
    if len(data) % size:
        raise CodecError(f"{cls.__name__} list is not a whole number of {size}-byte records")
    return tuple(cls.unpack(data[i : i + size]) for i in range(0, len(data), size))
