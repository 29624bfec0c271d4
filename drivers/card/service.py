"""Card operations the terminal's engine needs, over the reader: write a grant, read a count.

``write_grant`` answers the engine's one question — is the grant on the card? — with True
(written and read back), False (the card refused it or holds something else) or None (the card
left the reader: not known until it comes back). ``card_back`` then reads the card put back —
serial and last grant — and the engine decides: written already, write again, or reverse.
"""

from __future__ import annotations

import asyncio
import logging

from drivers.card import profile as p
from drivers.card.reader import CardReader, CardRemoved
from terminal.protocol.cardgrant import CardGrant

log = logging.getLogger("gridpos.card")


class CardService:
    def __init__(self, reader: CardReader, access_master: bytes, wait_s: float = 30.0) -> None:
        self.reader = reader
        self.access_master = access_master
        self.wait_s = wait_s

    async def read(self) -> p.CardData:
        return await asyncio.to_thread(self._read)

    def _read(self) -> p.CardData:
        session = self.reader.connect()
        try:
            return session.read_all()
        finally:
            session.close()

    async def write_grant(self, grant: CardGrant) -> bool | None:
        return await asyncio.to_thread(self._write_grant, grant)

    def _write_grant(self, grant: CardGrant) -> bool | None:
        try:
            session = self.reader.connect()
        except CardRemoved:
            return None
        try:
            card = session.read_all()
            if card.info.serial != grant.serial:
                log.warning("a different card is in the reader")
                return None
            if card.purchase == grant:
                return True  # already written (a repeat after a restart)
            p.check_grant_fits(card, grant)
            session.authenticate(self.access_master, card.info.serial)
            session.write_grant(grant)
            return session.read_all().purchase == grant
        except CardRemoved as exc:
            log.info("card write interrupted: %s", exc)
            return None
        except p.CardError as exc:
            log.warning("card write refused: %s", exc)
            return False
        finally:
            session.close()

    async def card_back(self) -> tuple[bytes, CardGrant | None] | None:
        """The card put back after a pulled write: its serial and the last grant on it, once a
        card is in the reader; None when none comes within ``wait_s`` or it cannot be read (the
        operator is asked again, and may give up). The engine decides from these what happened.
        """
        return await asyncio.to_thread(self._card_back)

    def _card_back(self) -> tuple[bytes, CardGrant | None] | None:
        if not self.reader.wait_present(self.wait_s):
            log.info("no card in the reader after %.0f s", self.wait_s)
            return None
        try:
            card = self._read()
        except CardRemoved as exc:
            log.info("the card left while being read: %s", exc)
            return None
        except p.CardError as exc:
            log.info("the card in the reader cannot be read: %s", exc)
            return None
        return card.info.serial, card.purchase
