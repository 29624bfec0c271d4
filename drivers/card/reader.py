"""The PC/SC card reader through pyscard: which reader, is a card in it, talk to the card.

pyscard is blocking; the terminal's event loop calls it through ``asyncio.to_thread`` so a slow
card never freezes the screen. Every pyscard failure becomes a ``CardError`` (or its subclass
``CardRemoved`` when the card left the reader), with a plain reason.
"""

from __future__ import annotations

import asyncio
import logging
import time

from drivers.card import profile as p
from terminal.protocol.cardgrant import CardGrant

log = logging.getLogger("gridpos.card")


class CardRemoved(p.CardError):
    """The card left the reader (or never was in it)."""


class NoReader(p.CardError):
    """No PC/SC reader (pcscd not running, or no reader attached)."""


def list_readers() -> list[str]:
    try:
        from smartcard.System import readers

        return [str(r) for r in readers()]
    except Exception as exc:  # pyscard raises several unrelated types when pcscd is absent
        raise NoReader(f"no card reader service: {exc}") from None


class CardReader:
    def __init__(self, name_hint: str = "") -> None:
        self.name_hint = name_hint

    def reader_name(self) -> str:
        names = list_readers()
        for name in names:
            if self.name_hint in name:
                return name
        raise NoReader(f"no card reader matching {self.name_hint!r} (found: {names})")

    def present(self) -> bool:
        try:
            self.connect().close()
            return True
        except p.CardError:
            return False

    def connect(self) -> CardSession:
        from smartcard.System import readers

        name = self.reader_name()
        reader = next(r for r in readers() if str(r) == name)
        connection = reader.createConnection()
        try:
            connection.connect()
        except Exception as exc:  # NoCardException, CardConnectionException, …
            raise CardRemoved(f"no card in the reader ({exc.__class__.__name__})") from None
        return CardSession(connection)

    def wait_present(self, timeout: float, poll: float = 0.1) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.present():
                return True
            time.sleep(poll)
        return False

    def wait_absent(self, timeout: float, poll: float = 0.1) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.present():
                return True
            time.sleep(poll)
        return False


class CardSession:
    """One connection to the card in the reader."""

    def __init__(self, connection) -> None:
        self._connection = connection

    def close(self) -> None:
        try:
            self._connection.disconnect()
        except Exception:  # a card already gone cannot be disconnected cleanly
            log.debug("disconnect failed", exc_info=True)

    @property
    def atr(self) -> bytes:
        try:
            return bytes(self._connection.getATR())
        except Exception as exc:  # the card was pulled or reset since the connection was made
            raise CardRemoved(f"the card left the reader ({exc.__class__.__name__})") from None

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        log.debug("card > %s", apdu.hex())
        try:
            data, sw1, sw2 = self._connection.transmit(list(apdu))
        except Exception as exc:  # CardConnectionException and friends: the card is gone
            raise CardRemoved(f"the card left the reader ({exc.__class__.__name__})") from None
        log.debug("card < %s %02X%02X", bytes(data).hex(), sw1, sw2)
        return bytes(data), (sw1 << 8) | sw2

    def _ok(self, apdu: bytes, what: str) -> bytes:
        data, sw = self.transmit(apdu)
        if sw != p.SW_OK:
            raise p.CardError(f"{what}: {p.status_text(sw)}")
        return data

    def read_file(self, fid: int) -> bytes:
        self._ok(p.select(fid), f"select {fid:04X}")
        return self._ok(p.read_binary(0, p.FILE_SIZES[fid]), f"read {fid:04X}")

    def read_all(self) -> p.CardData:
        """Read and parse every file; an unknown or corrupt card is a ``CardError``."""
        if not self.atr.startswith(p.ATR[:4]) or p.HISTORICAL not in self.atr:
            raise p.CardError("not a purchase card of this system")
        info = p.CardInfo.unpack(self.read_file(p.FID_INFO))
        return p.CardData(
            info,
            p.CustomerFile.unpack(self.read_file(p.FID_CUSTOMER)),
            p.parse_grant(self.read_file(p.FID_PURCHASE)),
            p.ReturnFile.unpack(self.read_file(p.FID_RETURN)),
        )

    def authenticate(self, access_master: bytes, serial: bytes) -> None:
        challenge = self._ok(p.get_challenge(), "get challenge")
        key = p.access_key(access_master, serial)
        self._ok(p.external_authenticate(p.cryptogram(key, challenge)), "authenticate")

    def write_grant(self, grant: CardGrant) -> None:
        """UPDATE BINARY of the purchase file; the card checks the grant itself."""
        self._ok(p.select(p.FID_PURCHASE), "select purchase file")
        self._ok(p.update_binary(0, grant.to_bytes()), "write purchase")


async def in_thread(function, *args):
    return await asyncio.to_thread(function, *args)
