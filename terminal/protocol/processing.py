"""Field 3, the processing code: what a request asks for (``docs/protocol.md``, processing codes).

Its own module because every layer names these codes and the message classes are long enough;
``terminal.protocol.messages`` re-exports it as ``m.Processing``.
"""

from __future__ import annotations

import enum


class Processing(enum.IntEnum):
    """Field 3: what a request asks for. The answer carries the same code."""

    CUSTOMER = 310000  # customer for payment: unpaid bills, amount due
    CUSTOMER_HISTORY = 300000  # customer query: 12 months of bills, recent payments
    AGENT_STATS = 320000  # agent's available limit, today's count and total
    METER_BILLING = 330000  # meter reading in, this month's bill out (抄收一体)
    RECONCILE = 340000  # count and total of a date range (对账)
    ROUTE_BOOK = 350000  # one page of a route book, for payments taken offline
    BILL_PAYMENT = 170000  # cash against bills; anything over becomes credit
    OFFLINE_PAYMENT = 170200  # a bill payment taken offline, uploaded by advice
    PREPAYMENT = 180000  # cash as credit for coming bills or a remote-prepaid meter
    CARD_PURCHASE = 190000  # electricity onto a purchase card
    CARD_REISSUE = 200000  # reissue charge; grant for the new card
    CARD_OPEN = 210000  # open card for a new card-prepaid customer
    SIGN_ON = 920000
    KEY_CHANGE = 930000  # sign-on under the new master key of field 35: the station switches
    SETTLEMENT = 950000
    DETAIL_DIGEST = 960000  # count, total and digest of a trace range
    DETAIL_LISTING = 960001  # the posted transactions of a (small) trace range
    HEARTBEAT = 990000
    UPDATE_CHUNK = 970000  # bytes of an offered software version (field 47 offset, length)
