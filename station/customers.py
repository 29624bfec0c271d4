"""The customer a request names, found by number or by card, and what that customer owes.

Inquiries and postings both start here, so a card that no longer counts or a number that does not
exist is refused with the same code whichever request names it.
"""

from __future__ import annotations

from station.answers import Declined
from station.ledger import Ledger, Row
from terminal.protocol.responses import Code


def find(ledger: Ledger, customer_no: str | None, serial: bytes | None) -> Row:
    """The customer of ``customer_no`` or of the card ``serial`` (both must agree if both given)."""
    if serial is not None:
        card = ledger.card(serial)
        if card is None or not card["valid"]:
            raise Declined(Code.INVALID_CARD)
        if customer_no is not None and customer_no != card["customer_no"]:
            raise Declined(Code.CARD_MISMATCH)
        customer_no = card["customer_no"]
    if customer_no is None:
        raise Declined(Code.INVALID)
    customer = ledger.customer(customer_no)
    if customer is None:
        raise Declined(Code.UNKNOWN_CUSTOMER)
    return customer


def due(ledger: Ledger, customer: Row) -> int:
    """What the customer still has to pay: unpaid bills less prepaid credit, never below zero."""
    return max(ledger.arrears(customer["customer_no"]) - customer["credit_fen"], 0)
