"""Our ISO 8583 field table: which field carries what, in which encoding and size.

One declared table drives three things: the pyiso8583 spec used to encode and decode, the
value conversion between Python and wire (digits as packed BCD, Chinese text as GB18030), and
the field table in ``docs/protocol.md``. Every field number has one meaning in every message,
so a field never has to be interpreted by message type.

GPRS is paid by the byte, hence packed BCD for numbers, a binary bitmap and MTI, one-byte
length prefixes, and no field that the other side already knows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["num", "ascii", "text", "bin"]


@dataclass(frozen=True)
class FieldDef:
    """One ISO 8583 field as we use it.

    ``size`` is the exact size in bytes for fixed fields and the largest for variable ones
    (``var``), whose length goes before the data in one binary byte.
    """

    number: int
    name: str
    kind: Kind
    size: int
    var: bool
    meaning: str
    length_bytes: int = 1  # a variable field's length prefix: 1 byte, or 2 for one over 255

    @property
    def digits(self) -> int:
        return self.size * 2

    def iso_spec(self) -> dict[str, object]:
        data_enc = {"num": "b", "bin": "b", "ascii": "ascii", "text": "gb18030"}[self.kind]
        return {
            "data_enc": data_enc,
            "len_enc": "b",
            "len_type": self.length_bytes if self.var else 0,
            "max_len": self.size,
            "desc": self.meaning,
        }


FIELDS: tuple[FieldDef, ...] = (
    FieldDef(2, "card_serial", "bin", 8, False, "IC card serial number"),
    FieldDef(3, "processing", "num", 3, False, "processing code: what the message asks for"),
    FieldDef(4, "amount_fen", "num", 6, False, "amount in fen"),
    FieldDef(7, "time", "num", 6, False, "date and time, UTC, YYMMDDhhmmss"),
    FieldDef(11, "trace", "num", 3, False, "trace number: with terminal and batch, the key"),
    FieldDef(24, "protocol", "num", 1, False, "protocol version, sent at sign-on (absent: 1)"),
    FieldDef(30, "reading", "num", 4, False, "meter reading in 0.1 kWh"),
    FieldDef(35, "new_master", "bin", 20, False, "new TMK under the old TMK + check value"),
    FieldDef(36, "differences", "bin", 144, True, "settlement differences: records of 9 bytes"),
    FieldDef(37, "verify_code", "num", 5, False, "receipt verification code, 10 digits"),
    FieldDef(38, "station_ref", "num", 5, False, "station's reference for the transaction"),
    FieldDef(39, "response", "ascii", 2, False, "response code"),
    FieldDef(41, "terminal_id", "ascii", 8, False, "terminal id"),
    FieldDef(42, "account", "ascii", 15, True, "operator (agent) account"),
    FieldDef(43, "name", "text", 40, True, "customer name, GB18030"),
    FieldDef(44, "address", "text", 80, True, "customer address, GB18030"),
    FieldDef(45, "route_book", "bin", 880, True, "route book: customer records", 2),
    FieldDef(46, "payments", "bin", 105, True, "recent payments: records of 7 bytes"),
    FieldDef(47, "range", "num", 6, False, "range: first and last value, 6 digits each"),
    FieldDef(48, "meter", "bin", 9, False, "meter kind, meter number, card purchase count"),
    FieldDef(49, "sketch", "bin", 128, True, "settlement sketch: power sums of 8 bytes"),
    FieldDef(50, "chunk", "bin", 960, True, "update package bytes at an offset", 2),
    FieldDef(51, "offer", "bin", 100, False, "update offer: size, SHA-256, Ed25519 signature"),
    FieldDef(52, "password", "bin", 16, False, "operator password encrypted under the TMK"),
    FieldDef(53, "keys", "bin", 20, False, "MAC key encrypted under the TMK + check value"),
    FieldDef(54, "amounts", "bin", 60, True, "tagged amounts: records of 5 bytes"),
    FieldDef(55, "bills", "bin", 168, True, "monthly bills: records of 14 bytes"),
    FieldDef(56, "grant", "bin", 36, False, "station-signed card grant"),
    FieldDef(57, "status", "bin", 11, False, "terminal status for the heartbeat"),
    FieldDef(58, "version", "ascii", 20, True, "software version"),
    FieldDef(59, "command", "bin", 1, False, "station command to the terminal"),
    FieldDef(60, "batch", "num", 3, False, "batch number"),
    FieldDef(61, "customer_no", "num", 5, False, "customer number (户号), 10 digits"),
    FieldDef(62, "summary", "bin", 12, False, "count (4 bytes) and digest (8 bytes)"),
    FieldDef(63, "listing", "bin", 252, True, "transactions of a range: records of 9 bytes"),
    FieldDef(64, "mac", "bin", 8, False, "SM4-CMAC of everything before it"),
)

BY_NAME: dict[str, FieldDef] = {f.name: f for f in FIELDS}
BY_NUMBER: dict[int, FieldDef] = {f.number: f for f in FIELDS}

MAC_SIZE = 8


def iso_spec() -> dict[str, dict[str, object]]:
    """The pyiso8583 spec: binary MTI (2 bytes BCD) and bitmap, no header, our fields only."""
    spec: dict[str, dict[str, object]] = {
        "h": {"data_enc": "b", "len_enc": "b", "len_type": 0, "max_len": 0, "desc": "none"},
        "t": {"data_enc": "b", "len_enc": "b", "len_type": 0, "max_len": 2, "desc": "MTI"},
        "p": {"data_enc": "b", "len_enc": "b", "len_type": 0, "max_len": 8, "desc": "bitmap"},
    }
    for f in FIELDS:
        spec[str(f.number)] = f.iso_spec()
    return spec
