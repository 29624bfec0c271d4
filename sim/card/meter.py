"""A prepaid meter that a card is inserted into: it loads purchases and writes the return file.

The purchase-count rule is the meter's: it loads a grant only when the card's count is its own
plus one, so the same card inserted twice loads once, and a card whose count is the meter's plus
one tells the terminal "last purchase not yet loaded into the meter". An opened or reissued card
is bound to the meter on its first insertion and becomes a user card.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from drivers.card import profile as p
from sim.card.card import CardImage
from terminal.protocol.cardgrant import card_key


@dataclass
class SimMeter:
    meter_no: str
    customer_no: str
    count: int = 0
    remaining_fen: int = 0
    status: p.MeterStatus = p.MeterStatus.NONE
    faults: p.MeterFault = p.MeterFault.NONE

    def insert(self, image: CardImage, card_master: bytes, now: datetime) -> str:
        """Apply the card; returns what the meter's display would say."""
        info = p.CardInfo.unpack(image.files[p.FID_INFO])
        customer = p.CustomerFile.unpack(image.files[p.FID_CUSTOMER])
        if customer is None or customer.meter_no != self.meter_no:
            self.status |= p.MeterStatus.CARD_REJECTED
            return "card not for this meter"
        self.status &= ~p.MeterStatus.CARD_REJECTED
        grant = p.parse_grant(image.files[p.FID_PURCHASE])
        said = "no new purchase"
        if grant is not None and grant.verify(card_key(card_master, info.serial)):
            if info.type in (p.CardType.OPEN, p.CardType.REISSUE):
                image.files[p.FID_INFO] = p.CardInfo(p.CardType.USER, info.serial).pack()
                said = "card bound to meter"
                if info.type == p.CardType.REISSUE:
                    self.count = max(self.count, grant.count)
            if grant.count == self.count + 1:
                self.count += 1
                self.remaining_fen += grant.amount_fen
                said = f"loaded {grant.amount_fen} fen"
        if self.remaining_fen > 0:
            self.status &= ~p.MeterStatus.RELAY_OPEN
        self.status = (
            (self.status | p.MeterStatus.LOW_CREDIT)
            if self.remaining_fen < 1000
            else (self.status & ~p.MeterStatus.LOW_CREDIT)
        )
        image.files[p.FID_RETURN] = p.ReturnFile(
            self.remaining_fen, self.count, self.status, self.faults, now
        ).pack()
        return said
