"""Field values: for each message attribute, how a Python value becomes field text and back.

``CONVERTERS`` maps an attribute name (a field name of ``terminal.protocol.wirespec``) to a pair
(to field text, from field text); with field 3's, which ``terminal.protocol.messages`` makes from
``number_field`` and ``enum_field`` beside its ``Processing`` enum, it is the only place where a
Python value becomes field bytes.
Each converter refuses what does not fit — a number too long for its digits, a name over its
GB18030 size, a customer number that is not ten digits — with a ``CodecError`` that names the
field, before anything is sent; and reading refuses what is not well formed, so ``decode``
never hands on a value it could not have encoded.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from terminal.protocol.cardgrant import CardGrant, GrantError
from terminal.protocol.reconcile import Mismatch, check_sketch
from terminal.protocol.records import (
    Bill,
    CodecError,
    KeyBlock,
    ListingEntry,
    MeterInfo,
    PaymentRecord,
    StationCommand,
    Summary,
    TerminalStatus,
    pack_amounts,
    pack_list,
    unpack_amounts,
    unpack_list,
)
from terminal.protocol.routebook import pack_entries, unpack_entries
from terminal.protocol.update_offer import UpdateOffer
from terminal.protocol.wirespec import BY_NAME

Converter = tuple[Callable[[Any], str], Callable[[str], Any]]


def number_field(name: str) -> tuple[Callable[[int], str], Callable[[str], int]]:
    """A packed-BCD number of the field's digits: too big is refused, never cut."""
    digits = BY_NAME[name].digits

    def to_wire(value: int) -> str:
        if not 0 <= value < 10**digits:
            raise CodecError(f"{name}: {value} does not fit in {digits} digits")
        return f"{value:0{digits}d}"

    def from_wire(text: str) -> int:
        if not text.isdigit():
            raise CodecError(f"{name}: not packed BCD: {text}")
        return int(text)

    return to_wire, from_wire


def _hex(pack: Callable[[Any], bytes], unpack: Callable[[bytes], Any]) -> tuple[Callable, Callable]:
    return (lambda value: pack(value).hex()), (lambda text: unpack(bytes.fromhex(text)))


def _time_to(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%y%m%d%H%M%S")


def _time_from(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        raise CodecError(f"time: not YYMMDDhhmmss: {text}") from None


def _customer_to(value: str) -> str:
    if len(value) != 10 or not value.isascii() or not value.isdigit():
        raise CodecError(f"customer_no: must be 10 digits: {value!r}")
    return value


def _customer_from(text: str) -> str:
    if not text.isdigit():
        raise CodecError(f"customer_no: not packed BCD: {text}")
    return text


def _range_to(value: tuple[int, int]) -> str:
    first, last = value
    if not (0 <= first <= 999999 and 0 <= last <= 999999):
        raise CodecError(f"range: {value} out of 6 digits")
    return f"{first:06d}{last:06d}"


def _range_from(text: str) -> tuple[int, int]:
    if not text.isdigit():
        raise CodecError(f"range: not packed BCD: {text}")
    return int(text[:6]), int(text[6:])


def enum_field(cls: type[enum.IntEnum], to: Callable, frm: Callable) -> tuple[Callable, Callable]:
    """An enum carried as a number: a code this side does not know is a ``CodecError``."""

    def from_wire(text: str) -> Any:
        raw = frm(text)
        try:
            return cls(raw)
        except ValueError:
            raise CodecError(f"unknown {cls.__name__} {raw}") from None

    return (lambda value: to(int(value))), from_wire


def _grant_from(data: bytes) -> CardGrant:
    try:
        return CardGrant.from_bytes(data)
    except GrantError as exc:
        raise CodecError(f"grant: {exc}") from None


def _text(name: str) -> tuple[Callable[[str], str], Callable[[str], str]]:
    limit = BY_NAME[name].size

    def to_wire(value: str) -> str:
        try:
            size = len(value.encode("gb18030"))
        except UnicodeEncodeError:
            raise CodecError(f"{name}: not representable in GB18030") from None
        if size > limit:
            raise CodecError(f"{name}: {size} bytes, at most {limit}")
        return value

    return to_wire, str


def _verify_code_to(value: str) -> str:
    digits = BY_NAME["verify_code"].digits
    if len(value) != digits or not value.isascii() or not value.isdigit():
        raise CodecError(f"verify_code: must be {digits} digits: {value!r}")
    return value


def _chunk_to(value: bytes) -> str:
    if len(value) > BY_NAME["chunk"].size:
        raise CodecError(f"chunk: {len(value)} bytes, at most {BY_NAME['chunk'].size}")
    return value.hex()


def _ident(value: Any) -> Any:
    return value


CONVERTERS: dict[str, Converter] = {
    "card_serial": (lambda b: b.hex(), bytes.fromhex),
    "amount_fen": number_field("amount_fen"),
    "time": (_time_to, _time_from),
    "trace": number_field("trace"),
    "protocol": number_field("protocol"),
    "reading": number_field("reading"),
    "verify_code": (_verify_code_to, _customer_from),
    "station_ref": number_field("station_ref"),
    "response": (_ident, _ident),
    "terminal_id": (_ident, _ident),
    "account": (_ident, _ident),
    "name": _text("name"),
    "address": _text("address"),
    "route_book": _hex(pack_entries, unpack_entries),
    "payments": _hex(pack_list, lambda b: unpack_list(PaymentRecord, b)),
    "range": (_range_to, _range_from),
    "meter": _hex(lambda m: m.pack(), MeterInfo.unpack),
    "chunk": (_chunk_to, bytes.fromhex),
    "offer": _hex(lambda o: o.pack(), UpdateOffer.unpack),
    "password": (lambda b: b.hex(), bytes.fromhex),
    "keys": _hex(lambda k: k.pack(), KeyBlock.unpack),
    "new_master": _hex(lambda k: k.pack(), KeyBlock.unpack),
    "amounts": _hex(pack_amounts, unpack_amounts),
    "bills": _hex(pack_list, lambda b: unpack_list(Bill, b)),
    "grant": _hex(lambda g: g.to_bytes(), _grant_from),
    "status": _hex(lambda s: s.pack(), TerminalStatus.unpack),
    "version": (_ident, _ident),
    "command": enum_field(StationCommand, lambda v: f"{v:02x}", lambda t: int(t, 16)),
    "batch": number_field("batch"),
    "customer_no": (_customer_to, _customer_from),
    "summary": _hex(lambda s: s.pack(), Summary.unpack),
    "listing": _hex(pack_list, lambda b: unpack_list(ListingEntry, b)),
    "sketch": _hex(check_sketch, check_sketch),
    "differences": _hex(pack_list, lambda b: unpack_list(Mismatch, b)),
}
