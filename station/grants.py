"""The card grant (field 56): the station's authorisation to write credit or a new card onto a
purchase card, MACed under that card's own key.

Credit is created only by the station (design principle 4), so the grant is signed here and
nowhere else, with the card master key the ledger holds.
"""

from __future__ import annotations

from station.ledger import Ledger, Row
from terminal.protocol.cardgrant import CardGrant, GrantKind, card_key

NO_KEY = "00" * 16  # a ledger without a card master key signs grants no card accepts


def sign(
    ledger: Ledger, kind: GrantKind, serial: bytes, customer: Row, count: int, amount_fen: int
) -> CardGrant:
    """The signed grant for card ``serial`` of ``customer``, its purchase ``count`` and amount."""
    master = bytes.fromhex(ledger.param("card_master_key", NO_KEY) or NO_KEY)
    grant = CardGrant(
        kind, serial, customer["customer_no"], customer["meter_no"], count, amount_fen
    )
    return grant.signed(card_key(master, serial))
