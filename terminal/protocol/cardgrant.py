"""Station-authorised card data: the one record that lets a purchase card carry credit.

Credit is created only by the station (DESIGN.md principle 4). The station signs a grant with
the card's own key, which it derives from the utility's card master key and the card serial;
the terminal only carries the grant from the 0210 answer onto the card, and the card (and the
meter behind it) checks the MAC. The terminal never holds the card master key, so it cannot mint
credit. The same record serves opening, purchase and reissue, so one layout and one MAC rule are
shared by station, terminal, card emulator and meter helper.

Record layout (36 bytes, big-endian integers, numbers as packed BCD)::

    kind        1   1 open, 2 purchase, 3 reissue
    serial      8   card serial the grant is for (binary)
    customer_no 5   户号, 10 digits BCD
    meter_no    6   meter number, 12 digits BCD
    count       2   purchase count after this grant (open: 1 with a first purchase, else 0;
                    reissue: the count carried over from the old card)
    amount_fen  4   credit this grant adds (open: the first purchase, may be 0; reissue: 0)
    reserved    6   zero
    mac         4   SM4-CMAC(card key, the 32 bytes above), leftmost 4 bytes
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

from terminal.protocol import sm4

RECORD_SIZE = 36
_BODY = struct.Struct(">B8s5s6sHI6x")
_MAC_SIZE = 4


class GrantKind(enum.IntEnum):
    OPEN = 1
    PURCHASE = 2
    REISSUE = 3


class GrantError(ValueError):
    """A grant record that is malformed or whose MAC does not verify."""


def card_key(card_master_key: bytes, serial: bytes) -> bytes:
    """The card's own key: the utility's card master key diversified by the card serial."""
    return sm4.diversify(card_master_key, serial)


@dataclass(frozen=True)
class CardGrant:
    """The station's authorisation to write a purchase onto one card (MACed with the card key)."""

    kind: GrantKind
    serial: bytes
    customer_no: str
    meter_no: str
    count: int
    amount_fen: int
    mac: bytes = b""

    def body(self) -> bytes:
        if len(self.serial) != 8:
            raise GrantError("card serial must be 8 bytes")
        return _BODY.pack(
            int(self.kind),
            self.serial,
            _bcd(self.customer_no, 10, "customer number"),
            _bcd(self.meter_no, 12, "meter number"),
            self.count,
            self.amount_fen,
        )

    def signed(self, key: bytes) -> CardGrant:
        """Return this grant with its MAC computed under the card key (station side)."""
        return CardGrant(
            self.kind,
            self.serial,
            self.customer_no,
            self.meter_no,
            self.count,
            self.amount_fen,
            sm4.cmac(key, self.body(), _MAC_SIZE),
        )

    def verify(self, key: bytes) -> bool:
        """True when the MAC was made with ``key`` (card and meter side)."""
        return len(self.mac) == _MAC_SIZE and sm4.cmac(key, self.body(), _MAC_SIZE) == self.mac

    def to_bytes(self) -> bytes:
        if len(self.mac) != _MAC_SIZE:
            raise GrantError("grant is not signed")
        return self.body() + self.mac

    @classmethod
    def from_bytes(cls, data: bytes) -> CardGrant:
        if len(data) != RECORD_SIZE:
            raise GrantError(f"grant record must be {RECORD_SIZE} bytes, got {len(data)}")
        kind, serial, customer, meter, count, amount = _BODY.unpack(data[: _BODY.size])
        try:
            grant_kind = GrantKind(kind)
        except ValueError:
            raise GrantError(f"unknown grant kind {kind}") from None
        return cls(
            grant_kind,
            serial,
            _unbcd(customer, "customer number"),
            _unbcd(meter, "meter number"),
            count,
            amount,
            data[_BODY.size :],
        )


def _bcd(digits: str, width: int, what: str) -> bytes:
    if len(digits) != width or not digits.isascii() or not digits.isdigit():
        raise GrantError(f"{what} must be {width} digits, got {digits!r}")
    return bytes.fromhex(digits)


def _unbcd(data: bytes, what: str) -> str:
    text = data.hex()
    if not text.isdigit():
        raise GrantError(f"{what} is not BCD: {text}")
    return text
