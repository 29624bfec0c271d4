"""Protocol messages as dataclasses, and the codec between them and bytes.

Pure, in the manner of h11: nothing here opens a socket. A message is built as a dataclass,
``encode(message, mac_key)`` gives the bytes to frame and send, ``decode(data)`` gives the
message back, and ``check_mac(data, key)`` says whether the sender held the key. The station
chooses the key by the decoded terminal id, so decoding and MAC checking are separate steps.

Attribute names are the field names of ``terminal.protocol.wirespec``; how each value becomes
field text is ``terminal.protocol.fields``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import iso8583

from terminal.protocol import sm4
from terminal.protocol.cardgrant import CardGrant
from terminal.protocol.fields import CONVERTERS, enum_field, number_field
from terminal.protocol.processing import Processing
from terminal.protocol.reconcile import Mismatch
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
)
from terminal.protocol.routebook import RouteEntry
from terminal.protocol.update_offer import UpdateOffer
from terminal.protocol.wirespec import BY_NAME, BY_NUMBER, MAC_SIZE, iso_spec

__all__ = ["CodecError", "Processing", "check_mac", "decode", "encode"]


_processing_number = number_field("processing")


def _processing_from(text: str) -> Processing | int:
    """Field 3 read: a code this side does not know stays a plain number instead of failing the
    decode, so that the station can answer it with 12 on a connection that stays up (an unknown
    code is a wrong request, not a stream out of step)."""
    raw = _processing_number[1](text)
    try:
        return Processing(raw)
    except ValueError:
        return raw


# Field 3's converter is made here, beside its enum; every other field's is in ``fields``.
_CONVERTERS = {
    **CONVERTERS,
    "processing": (enum_field(Processing, *_processing_number)[0], _processing_from),
}

# --- messages -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """Base of all messages. ``MTI`` is the type on the wire; ``REPEAT_MTI`` marks a repeat."""

    MTI: ClassVar[str] = ""
    REPEAT_MTI: ClassVar[str | None] = None

    @property
    def key(self) -> tuple[str, int, int] | None:
        """(terminal, batch, trace): unique for the terminal's lifetime; None if incomplete."""
        terminal = getattr(self, "terminal_id", None)
        batch = getattr(self, "batch", None)
        trace = getattr(self, "trace", None)
        if terminal is None or batch is None or trace is None:
            return None
        return terminal, batch, trace

    @property
    def mti(self) -> str:
        return self.REPEAT_MTI if getattr(self, "repeat", False) and self.REPEAT_MTI else self.MTI


@dataclass(frozen=True)
class Response(Message):
    """What every answer carries: the response code."""

    response: str = "00"

    @property
    def approved(self) -> bool:
        return self.response == "00"


@dataclass(frozen=True)
class SignOnRequest(Message):
    """0800: operator login and terminal sign-on; MACed with the terminal master key."""

    MTI: ClassVar[str] = "0800"
    terminal_id: str = ""
    trace: int = 0
    account: str = ""
    password: bytes = b""
    protocol: int | None = None  # absent: an old terminal, version 1
    processing: Processing = Processing.SIGN_ON


@dataclass(frozen=True)
class SignOnResponse(Response):
    """0810: field 11 is the next trace the station expects; keys, batch and clock follow."""

    MTI: ClassVar[str] = "0810"
    trace: int = 0
    batch: int | None = None
    time: datetime | None = None
    keys: KeyBlock | None = None
    amounts: dict | None = None
    name: str | None = None  # agent (collection point) name, for the idle screen
    protocol: int | None = None  # the version the station speaks, if the terminal sent one
    processing: Processing = Processing.SIGN_ON
    new_master: KeyBlock | None = None  # a key change offered: the new TMK under the old


@dataclass(frozen=True)
class InquiryRequest(Message):
    """0100: ask about a customer, the agent or a date range."""

    MTI: ClassVar[str] = "0100"
    processing: Processing = Processing.CUSTOMER
    terminal_id: str = ""
    batch: int = 0
    trace: int = 0
    customer_no: str | None = None
    card_serial: bytes | None = None
    reading: int | None = None
    range: tuple[int, int] | None = None  # RECONCILE: YYMMDD first and last day
    version: str | None = None  # UPDATE_CHUNK: the version whose bytes are asked for


@dataclass(frozen=True)
class InquiryResponse(Response):
    """0110: the customer, the agent's figures or the range's totals."""

    MTI: ClassVar[str] = "0110"
    processing: Processing = Processing.CUSTOMER
    batch: int = 0
    trace: int = 0
    customer_no: str | None = None
    name: str | None = None
    address: str | None = None
    meter: MeterInfo | None = None
    amounts: dict | None = None
    bills: tuple[Bill, ...] | None = None
    payments: tuple[PaymentRecord, ...] | None = None
    range: tuple[int, int] | None = None  # ROUTE_BOOK: page, last page; UPDATE_CHUNK: offset, size
    chunk: bytes | None = None  # UPDATE_CHUNK: the package bytes at that offset
    route_book: tuple[RouteEntry, ...] | None = None  # ROUTE_BOOK: this page's customers


@dataclass(frozen=True)
class FinancialRequest(Message):
    """0200: money moves. A repeat is sent unchanged (same key); the station answers once."""

    MTI: ClassVar[str] = "0200"
    processing: Processing = Processing.BILL_PAYMENT
    terminal_id: str = ""
    batch: int = 0
    trace: int = 0
    amount_fen: int = 0
    customer_no: str | None = None
    card_serial: bytes | None = None
    meter: MeterInfo | None = None  # card purchase: the count read from the card


@dataclass(frozen=True)
class FinancialResponse(Response):
    """0210: approved or declined, with the station's reference and any grant."""

    MTI: ClassVar[str] = "0210"
    processing: Processing = Processing.BILL_PAYMENT
    batch: int = 0
    trace: int = 0
    station_ref: int | None = None
    amounts: dict | None = None
    grant: CardGrant | None = None
    verify_code: str | None = None  # printed on the receipt; anyone can check it (R50)


@dataclass(frozen=True)
class AdviceRequest(Message):
    """0220 (0221 repeat): completion of a transaction, or an offline payment uploaded."""

    MTI: ClassVar[str] = "0220"
    REPEAT_MTI: ClassVar[str | None] = "0221"
    processing: Processing = Processing.BILL_PAYMENT
    terminal_id: str = ""
    batch: int = 0
    trace: int = 0
    amount_fen: int | None = None
    customer_no: str | None = None
    time: datetime | None = None
    repeat: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class AdviceResponse(Response):
    """0230: the advice was taken."""

    MTI: ClassVar[str] = "0230"
    processing: Processing = Processing.BILL_PAYMENT
    batch: int = 0
    trace: int = 0
    verify_code: str | None = None  # an offline payment's receipt code, once posted
    amounts: dict | None = None  # offline payment: due after it, and the part that became credit


@dataclass(frozen=True)
class ReversalRequest(Message):
    """0400 (0401 repeat): undo the transaction with this key, whether or not it arrived."""

    MTI: ClassVar[str] = "0400"
    REPEAT_MTI: ClassVar[str | None] = "0401"
    processing: Processing = Processing.BILL_PAYMENT
    terminal_id: str = ""
    batch: int = 0
    trace: int = 0
    amount_fen: int = 0
    customer_no: str | None = None
    card_serial: bytes | None = None
    repeat: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class ReversalResponse(Response):
    """0410: the reversal was taken."""

    MTI: ClassVar[str] = "0410"
    processing: Processing = Processing.BILL_PAYMENT
    batch: int = 0
    trace: int = 0


@dataclass(frozen=True)
class SettlementRequest(Message):
    """0500: the terminal's count, total and digest of the batch."""

    MTI: ClassVar[str] = "0500"
    terminal_id: str = ""
    batch: int = 0
    trace: int = 0
    amount_fen: int = 0
    summary: Summary | None = None
    sketch: bytes | None = None  # field 49, protocol 3: the batch's sketch (R46)
    processing: Processing = Processing.SETTLEMENT


@dataclass(frozen=True)
class SettlementResponse(Response):
    """0510: 00 balanced (batch closed, next batch given), 95 unbalanced (station's figures)."""

    MTI: ClassVar[str] = "0510"
    batch: int = 0
    trace: int = 0
    amount_fen: int | None = None
    summary: Summary | None = None
    differences: tuple[Mismatch, ...] | None = None  # field 36 on a 95 (R47)
    processing: Processing = Processing.SETTLEMENT


@dataclass(frozen=True)
class DetailRequest(Message):
    """0320: the station's view of a trace range: its digest, or its listing when small."""

    MTI: ClassVar[str] = "0320"
    processing: Processing = Processing.DETAIL_DIGEST
    terminal_id: str = ""
    batch: int = 0
    trace: int = 0
    range: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class DetailResponse(Response):
    """0330: a trace range's digest, or its listing."""

    MTI: ClassVar[str] = "0330"
    processing: Processing = Processing.DETAIL_DIGEST
    batch: int = 0
    trace: int = 0
    range: tuple[int, int] | None = None
    amount_fen: int | None = None
    summary: Summary | None = None
    listing: tuple[ListingEntry, ...] | None = None


@dataclass(frozen=True)
class HeartbeatRequest(Message):
    """0820: the terminal is alive, with its signal, paper and outbox."""

    MTI: ClassVar[str] = "0820"
    terminal_id: str = ""
    trace: int = 0
    status: TerminalStatus | None = None
    version: str | None = None
    processing: Processing = Processing.HEARTBEAT
    command: StationCommand | None = None  # a station command carried out: the confirmation


@dataclass(frozen=True)
class HeartbeatResponse(Response):
    """0830: the station's answer, with any command for the terminal."""

    MTI: ClassVar[str] = "0830"
    trace: int = 0
    time: datetime | None = None
    command: StationCommand = StationCommand.NONE
    processing: Processing = Processing.HEARTBEAT
    version: str | None = None  # a software version on offer, with its offer in field 51
    offer: UpdateOffer | None = None


MESSAGE_TYPES: tuple[type[Message], ...] = (
    SignOnRequest,
    SignOnResponse,
    InquiryRequest,
    InquiryResponse,
    FinancialRequest,
    FinancialResponse,
    AdviceRequest,
    AdviceResponse,
    ReversalRequest,
    ReversalResponse,
    SettlementRequest,
    SettlementResponse,
    DetailRequest,
    DetailResponse,
    HeartbeatRequest,
    HeartbeatResponse,
)

BY_MTI: dict[str, type[Message]] = {}
for _cls in MESSAGE_TYPES:
    BY_MTI[_cls.MTI] = _cls
    if _cls.REPEAT_MTI:
        BY_MTI[_cls.REPEAT_MTI] = _cls

# Responses the station may send without a MAC: the terminal cannot check one it has no key
# for. Accepting them unverified lets an attacker only make the terminal sign on again.
UNMACED_RESPONSES = frozenset({"A0", "A1", "A3"})

# --- codec --------------------------------------------------------------------------------

_SPEC = iso_spec()


def _wire_fields(cls: type[Message]) -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(cls) if f.name in BY_NAME]


def encode(message: Message, mac_key: bytes | None) -> bytes:
    """Encode ``message``; with a key, field 64 carries the MAC over everything before it."""
    doc: dict[str, str] = {"t": message.mti}
    for f in _wire_fields(type(message)):
        value = getattr(message, f.name)
        if value is None:
            continue
        to_wire = _CONVERTERS[f.name][0]
        doc[str(BY_NAME[f.name].number)] = to_wire(value)
    if mac_key is not None:
        doc["64"] = "00" * MAC_SIZE
    try:
        raw, _ = iso8583.encode(doc, _SPEC)
    except iso8583.EncodeError as exc:
        raise CodecError(f"cannot encode {type(message).__name__}: {exc}") from None
    data = bytes(raw)
    if mac_key is not None:
        data = data[:-MAC_SIZE] + sm4.cmac(mac_key, data[:-MAC_SIZE], MAC_SIZE)
    return data


def decode(data: bytes) -> Message:
    """Decode one message (without its length prefix). Raises only ``CodecError``."""
    try:
        doc, _ = iso8583.decode(bytes(data), _SPEC)
    except (iso8583.DecodeError, KeyError, ValueError, IndexError, TypeError) as exc:
        raise CodecError(f"malformed message: {exc}") from None
    mti = doc.get("t", "")
    cls = BY_MTI.get(mti)
    if cls is None:
        raise CodecError(f"unknown message type {mti!r}")
    allowed = {BY_NAME[f.name].number: f for f in _wire_fields(cls)}
    values: dict[str, Any] = {}
    for key, text in doc.items():
        if key in ("t", "p", "h"):
            continue
        number = int(key)
        if number == 64:
            continue
        if number not in allowed:
            raise CodecError(f"{mti}: field {number} ({BY_NUMBER[number].name}) not allowed")
        name = allowed[number].name
        try:
            values[name] = _CONVERTERS[name][1](text)
        except (ValueError, TypeError, OverflowError) as exc:
            if isinstance(exc, CodecError):
                raise
            raise CodecError(f"{mti}: field {number} ({name}): {exc}") from None
    missing = [f.name for f in allowed.values() if f.default is not None and f.name not in values]
    if missing:
        raise CodecError(f"{mti}: missing {', '.join(missing)}")
    if cls.REPEAT_MTI:
        values["repeat"] = mti == cls.REPEAT_MTI
    return cls(**values)


def has_mac(data: bytes) -> bool:
    """True when the bitmap announces field 64."""
    return len(data) >= 10 and bool(data[9] & 0x01)


def check_mac(data: bytes, key: bytes) -> bool:
    """True when ``data`` ends in a MAC that ``key`` made over everything before it."""
    if not has_mac(data) or len(data) < 10 + MAC_SIZE:
        return False
    return sm4.cmac(key, data[:-MAC_SIZE], MAC_SIZE) == data[-MAC_SIZE:]
