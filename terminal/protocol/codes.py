"""The protocol's fixed code sets and numbers, beside the message classes that carry them.

Which processing codes move money, the kind each is listed and digested under at settlement,
the protocol versions spoken at sign-on and the longest reconciliation range: facts both the
terminal and the station read, kept here once (``docs/protocol.md`` states them as rules).
"""

from __future__ import annotations

from terminal.protocol.processing import Processing
from terminal.protocol.records import TxnKind

# Field 24 at sign-on: the protocol version this code speaks. A terminal that sends no field 24
# speaks version 1 (the protocol before field 24 existed); the station answers, in the 0810's
# field 24, the version it will speak with this terminal, and only to a terminal that asked.
PROTOCOL_VERSION = 3
PROTOCOL_LEGACY = 1
# Version 3 (the R10 table in docs/protocol.md) adds fields an older decoder refuses, so the
# station sends them only to a terminal that signed on speaking version 3 or later: the receipt
# verification code (field 37 in an approved 0210 and offline 0230), software updates (fields 58
# and 51 in the 0830, processing 970000 with fields 47 and 50), a new master key (field 35 in the
# 0810), offline collection (0100 350000 with the route book in field 45, 0810 field 54 tags
# 8-11, field 54 in the 0230 of an offline payment); and a 0500 carries the settlement sketch
# (field 49, field 36 back) only when both speak 3.
RECEIPT_CODES_AND_UPDATES = 3
KEY_CHANGE_VERSION = 3
OFFLINE_VERSION = 3
SKETCH_VERSION = 3

# A 340000 reconciliation covers at most this many days, first and last included (R38).
RECONCILE_DAYS_MAX = 28

FINANCIAL = frozenset(
    {
        Processing.BILL_PAYMENT,
        Processing.PREPAYMENT,
        Processing.CARD_PURCHASE,
        Processing.CARD_REISSUE,
        Processing.CARD_OPEN,
        Processing.OFFLINE_PAYMENT,
    }
)

# The one map between a financial processing code and the kind settlement lists and digests.
KIND_OF: dict[Processing, TxnKind] = {
    Processing.BILL_PAYMENT: TxnKind.BILL_PAYMENT,
    Processing.PREPAYMENT: TxnKind.PREPAYMENT,
    Processing.CARD_PURCHASE: TxnKind.CARD_PURCHASE,
    Processing.CARD_REISSUE: TxnKind.CARD_REISSUE,
    Processing.CARD_OPEN: TxnKind.CARD_OPEN,
    Processing.OFFLINE_PAYMENT: TxnKind.OFFLINE_PAYMENT,
}
PROCESSING_OF: dict[TxnKind, Processing] = {kind: code for code, kind in KIND_OF.items()}
