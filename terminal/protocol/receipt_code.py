"""The receipt verification code (校验码, field 37) and the text a receipt's QR code holds.

The station computes the code; the terminal only prints what it was given. Both sides and
anyone checking a receipt meet in one format, kept here: the QR text is also a valid SMS query,
``YZ <terminal> <receipt no> <amount fen> <code>``, so a customer who scans it can send it on as it
is, and one who types it from the paper may leave the amount out.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

CODE_DIGITS = 10  # typable on a numeric keypad or a phone; forgery odds 1 in 10**10 per try
SMS_WORD = "YZ"  # 验证: the keyword the station's SMS number answers

_SEPARATORS = re.compile(r"[\s,;:|/#-]+")


def mac_text(
    terminal_id: str, batch: int, trace: int, customer_no: str, amount_fen: int, day: date
) -> bytes:
    """What the code is a MAC over: every fact a receipt states that a collector could alter."""
    return f"{terminal_id}|{batch:03d}|{trace:06d}|{customer_no}|{amount_fen}|{day:%Y%m%d}".encode()


def code_for(key: bytes, text: bytes) -> str:
    """HMAC-SHA256 under the station's receipt key, cut to ``CODE_DIGITS`` decimal digits.

    The first 8 bytes of the MAC taken modulo 10**10: the bias this leaves (2**64 is not a
    multiple of 10**10) is below one part in 10**9, so every code is as hard to guess as any other.
    """
    digest = hmac.new(key, text, hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**CODE_DIGITS:0{CODE_DIGITS}d}"


def receipt_no(batch: int, trace: int) -> str:
    """The receipt number as printed: batch (3 digits) and trace (6 digits)."""
    return f"{batch:03d}{trace:06d}"


@dataclass(frozen=True)
class ReceiptClaim:
    """What a receipt (or a customer reading it) says: checked against the station's ledger."""

    terminal_id: str
    trace: int
    code: str
    batch: int | None = None
    amount_fen: int | None = None


def verification_text(terminal_id: str, number: str, amount_fen: int, code: str) -> str:
    """The QR code's content (``number``: the receipt number as printed), and an SMS the
    customer can send as it is."""
    return f"{SMS_WORD} {terminal_id} {number} {amount_fen} {code}"


def parse_verification(text: str) -> ReceiptClaim | None:
    """A claim from an SMS or a scanned QR text; None when it is not one.

    Phones type full-width letters and digits and Chinese punctuation (ＹＺ，…): NFKC folds them.
    The receipt number may be the 9 printed digits or the trace alone.
    """
    words = [w for w in _SEPARATORS.split(unicodedata.normalize("NFKC", text).strip()) if w]
    if words and words[0].upper() == SMS_WORD:
        words = words[1:]
    if len(words) not in (3, 4):
        return None
    terminal_id, number, *rest = words
    code = rest[-1]
    amount = rest[0] if len(rest) == 2 else None
    if not (terminal_id.isascii() and terminal_id.isalnum() and len(terminal_id) == 8):
        return None
    if not (number.isascii() and number.isdigit() and (len(number) == 9 or len(number) <= 6)):
        return None
    if not (code.isdigit() and len(code) == CODE_DIGITS):
        return None
    if amount is not None and not amount.isdigit():
        return None
    batch = int(number[:3]) if len(number) == 9 else None
    trace = int(number[-6:]) if len(number) == 9 else int(number)
    return ReceiptClaim(
        terminal_id.upper(), trace, code, batch, int(amount) if amount is not None else None
    )
