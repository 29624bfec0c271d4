"""Card operations the terminal's engine needs, over the reader: write a grant, read a count.

``write_grant`` answers the engine's one question — is the grant on the card? — with True
(written and read back), False (the card refused it or holds something else) or None (the card
left the reader: not known until it comes back, when ``purchase_count`` settles it).
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

    async def carries(self, grant: CardGrant) -> bool | None:
        """Whether the card ``grant`` is for holds it, once that card is in the reader.

        True when the purchase file is the grant (or a later one), False when it is not,
        None when that card does not come within ``wait_s``.
        """
        return await asyncio.to_thread(self._carries, grant)

    def _carries(self, grant: CardGrant) -> bool | None:
        if not self.reader.wait_present(self.wait_s):
            log.info("no card in the reader after %.0f s", self.wait_s)
            return None
        try:
            card = self._read()
        except CardRemoved as exc:
            log.info("the card left while being read: %s", exc)
            return None
        except p.CardError as exc:
            log.info("the card's purchase data cannot be read: %s", exc)
            return False  # unreadable purchase data: the grant is not on it
        if card.info.serial != grant.serial:
            log.info("a different card is in the reader")
            return None
        return card.purchase == grant or card.purchase_count > grant.count
