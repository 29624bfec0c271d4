"""Money is integer fen everywhere; yuan with two decimals only where a person reads it."""

from __future__ import annotations

import re

_AMOUNT = re.compile(r"(\d{1,9})(?:\.(\d{1,2}))?")


def yuan(fen: int) -> str:
    """``12345`` → ``"123.45"``; negative amounts keep their sign."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def parse_yuan(text: str) -> int:
    """Parse an amount typed on the keypad (``"50"``, ``"50.5"``, ``"50.05"``) into fen.

    Raises ``ValueError`` with a short reason for anything else, so the screen can say it.
    """
    match = _AMOUNT.fullmatch(text.strip())
    if not match:
        raise ValueError(f"not an amount: {text!r}")
    whole, cents = match.group(1), (match.group(2) or "").ljust(2, "0")
    return int(whole) * 100 + int(cents)
