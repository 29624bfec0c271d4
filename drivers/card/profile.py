"""The purchase-card profile: files, records, APDUs and status words (docs/card-profile.md).

Pure: bytes in, dataclasses out, and every malformed input ends in a ``CardError`` with a plain
reason — never another exception — because a card in a villager's hand may be anything.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from datetime import datetime

from terminal.protocol import sm4
from terminal.protocol.cardgrant import RECORD_SIZE, CardGrant, GrantError, GrantKind

ATR = bytes.fromhex("3B8A800147524944504F532D4331") + b"\x00"  # "GRIDPOS-C1"
HISTORICAL = b"GRIDPOS-C1"

FID_INFO = 0x0001
FID_CUSTOMER = 0x0002
FID_PURCHASE = 0x0003
FID_RETURN = 0x0004
FILE_SIZES = {FID_INFO: 16, FID_CUSTOMER: 11, FID_PURCHASE: RECORD_SIZE, FID_RETURN: 16}

SW_OK = 0x9000


class CardError(Exception):
    """Anything wrong with a card or its answers; ``str`` is a plain reason."""


class CardType(enum.IntEnum):
    BLANK = 0x00  # not yet issued
    USER = 0x01  # user card in service (用户卡)
    OPEN = 0x02  # opened, not yet inserted into the meter (开户卡)
    REISSUE = 0x03  # reissued, not yet inserted into the meter (补卡)
    CHECK = 0x04  # reads the meter's data (检查卡)
    PARAMETER = 0x05  # sets meter parameters (参数卡)


STATUS_WORDS = {
    0x9000: "ok",
    0x6281: "returned data may be corrupt",
    0x6300: "authentication failed",
    0x6700: "wrong length",
    0x6982: "security status not satisfied (authenticate first)",
    0x6983: "authentication blocked",
    0x6984: "no challenge asked",
    0x6986: "no file selected",
    0x6988: "grant MAC does not verify: not issued for this card",
    0x6A80: "grant does not follow the card's purchase count or type",
    0x6A82: "file not found",
    0x6B00: "offset outside the file",
    0x6D00: "instruction not supported",
    0x6E00: "class not supported",
}


def status_text(sw: int) -> str:
    return STATUS_WORDS.get(sw, f"card answered {sw:04X}")


# --- APDUs ---------------------------------------------------------------------------------


def select(fid: int) -> bytes:
    return bytes([0x00, 0xA4, 0x00, 0x00, 0x02]) + fid.to_bytes(2, "big")


def read_binary(offset: int, length: int) -> bytes:
    return bytes([0x00, 0xB0, offset >> 8, offset & 0xFF, length])


def update_binary(offset: int, data: bytes) -> bytes:
    return bytes([0x00, 0xD6, offset >> 8, offset & 0xFF, len(data)]) + data


def get_challenge() -> bytes:
    return bytes([0x00, 0x84, 0x00, 0x00, 0x08])


def external_authenticate(cryptogram: bytes) -> bytes:
    return bytes([0x00, 0x82, 0x00, 0x00, len(cryptogram)]) + cryptogram


def access_key(access_master: bytes, serial: bytes) -> bytes:
    """The key that opens the card for writing: the terminal's access key diversified."""
    return sm4.diversify(access_master, serial)


def cryptogram(key: bytes, challenge: bytes) -> bytes:
    """EXTERNAL AUTHENTICATE data: SM4-ECB(access key, challenge ‖ 8 zero bytes)."""
    if len(challenge) != 8:
        raise CardError("challenge must be 8 bytes")
    return sm4.encrypt_ecb(key, challenge + bytes(8))


@dataclass(frozen=True)
class Command:
    """A parsed command APDU (case 1–3 short APDUs are all this profile uses)."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes
    le: int | None

    @classmethod
    def parse(cls, apdu: bytes) -> Command:
        if len(apdu) < 4:
            raise CardError("APDU shorter than 4 bytes")
        cla, ins, p1, p2 = apdu[:4]
        body = apdu[4:]
        if not body:
            return cls(cla, ins, p1, p2, b"", None)
        if len(body) == 1:
            return cls(cla, ins, p1, p2, b"", body[0] or 256)
        lc = body[0]
        if lc == 0 or len(body) not in (1 + lc, 2 + lc):
            raise CardError("APDU length byte does not match its data")
        le = body[1 + lc] if len(body) == 2 + lc else None
        return cls(cla, ins, p1, p2, bytes(body[1 : 1 + lc]), le)


def split_response(rapdu: bytes) -> tuple[bytes, int]:
    if len(rapdu) < 2:
        raise CardError("card answer shorter than a status word")
    return bytes(rapdu[:-2]), int.from_bytes(rapdu[-2:], "big")


# --- records -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CardInfo:
    """The card's identity file: type, serial, utility and meter binding."""

    type: CardType
    serial: bytes
    version: int = 1

    LAYOUT = struct.Struct(">B8sB6x")

    def pack(self) -> bytes:
        return self.LAYOUT.pack(int(self.type), self.serial, self.version)

    @classmethod
    def unpack(cls, data: bytes) -> CardInfo:
        if len(data) != cls.LAYOUT.size:
            raise CardError("card info file has the wrong size")
        kind, serial, version = cls.LAYOUT.unpack(data)
        try:
            return cls(CardType(kind), serial, version)
        except ValueError:
            raise CardError(f"unknown card type {kind:02X}") from None


@dataclass(frozen=True)
class CustomerFile:
    """The customer file on the card: who it belongs to."""

    customer_no: str
    meter_no: str

    def pack(self) -> bytes:
        return bytes.fromhex(self.customer_no) + bytes.fromhex(self.meter_no)

    @classmethod
    def unpack(cls, data: bytes) -> CustomerFile | None:
        if len(data) != 11:
            raise CardError("customer file has the wrong size")
        if data == bytes(11) or data == b"\xff" * 11:
            return None
        text = data.hex()
        if not text.isdigit():
            raise CardError("customer file is not BCD: the card is corrupt")
        return cls(text[:10], text[10:])


class MeterStatus(enum.IntFlag):
    NONE = 0
    RELAY_OPEN = 0x01  # supply cut (credit used up)
    LOW_CREDIT = 0x02  # below the alarm level
    COVER_OPENED = 0x04  # terminal cover opened (tamper)
    CARD_REJECTED = 0x08  # the meter refused the last card


class MeterFault(enum.IntFlag):
    NONE = 0
    CLOCK = 0x01
    MEMORY = 0x02
    BATTERY = 0x04
    METERING = 0x08


@dataclass(frozen=True)
class ReturnFile:
    """What the meter wrote back the last time the card was inserted."""

    remaining_fen: int
    meter_count: int  # purchase count the meter has loaded
    status: MeterStatus
    faults: MeterFault
    time: datetime | None

    LAYOUT = struct.Struct(">iHBB5s3x")

    def pack(self) -> bytes:
        stamp = bytes(5) if self.time is None else bytes.fromhex(self.time.strftime("%y%m%d%H%M"))
        return self.LAYOUT.pack(
            self.remaining_fen, self.meter_count, int(self.status), int(self.faults), stamp
        )

    @classmethod
    def unpack(cls, data: bytes) -> ReturnFile | None:
        if len(data) != cls.LAYOUT.size:
            raise CardError("return file has the wrong size")
        if data == bytes(16):
            return None  # never inserted into a meter
        remaining, count, status, faults, stamp = cls.LAYOUT.unpack(data)
        when = None
        if stamp != bytes(5):
            try:
                when = datetime.strptime(stamp.hex(), "%y%m%d%H%M")
            except ValueError:
                raise CardError("return file time is not a date: the card is corrupt") from None
        return cls(remaining, count, MeterStatus(status & 0x0F), MeterFault(faults & 0x0F), when)


def parse_grant(data: bytes) -> CardGrant | None:
    """The purchase file: None when empty (a new card), else the last grant written."""
    if len(data) != RECORD_SIZE:
        raise CardError("purchase file has the wrong size")
    if data == bytes(RECORD_SIZE):
        return None
    try:
        return CardGrant.from_bytes(data)
    except GrantError as exc:
        raise CardError(f"purchase file is corrupt: {exc}") from None


@dataclass(frozen=True)
class CardData:
    """Everything the terminal can read from a card."""

    info: CardInfo
    customer: CustomerFile | None
    purchase: CardGrant | None
    meter_return: ReturnFile | None

    @property
    def purchase_count(self) -> int:
        return self.purchase.count if self.purchase else 0


def check_grant_fits(card: CardData, grant: CardGrant) -> None:
    """The card's own rule for accepting a grant (the emulator enforces the same)."""
    if grant.serial != card.info.serial:
        raise CardError("grant is for another card")
    if grant.kind == GrantKind.PURCHASE:
        if card.info.type not in (CardType.USER, CardType.OPEN, CardType.REISSUE):
            raise CardError("only an issued user card can take a purchase")
        if grant.count != card.purchase_count + 1:
            raise CardError("grant does not follow the card's purchase count")
    elif card.info.type != CardType.BLANK:
        raise CardError("only a blank card can be opened or reissued")
