"""Receipts anyone can verify: the station's code for each approved payment, and the answer to
"is this receipt genuine?" from the management console, the command line or an SMS.

Collectors have been known to pocket cash and hand over a receipt of their own making, or one
with the amount changed. So the station, not the terminal, gives each approved payment a short
code (field 37 of the 0210, and of the 0230 of an offline payment): an HMAC-SHA256 over terminal,
batch, trace, customer, amount and the China date of the payment, under a key only the station
holds, cut to 10 digits (``terminal.protocol.receipt_code``). A receipt whose amount or customer
was altered no longer matches its code, and a receipt the station never answered has no code
that matches; guessing one succeeds once in 10**10 tries.

The key is the ledger parameter ``receipt_key``: 32 bytes from ``os.urandom``, made by the
station at the first payment it approves (inside that payment's transaction, so two station
processes cannot make two keys), and never sent anywhere. Replacing it makes every earlier
receipt fail verification, so it is backed up with the ledger and never rotated in place.
"""

from __future__ import annotations

import dataclasses
import hmac
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from station.answers import STATION_TZ, spoken
from station.ledger import Ledger, Row
from terminal.protocol import messages as m
from terminal.protocol.codes import RECEIPT_CODES_AND_UPDATES
from terminal.protocol.receipt_code import (
    ReceiptClaim,
    code_for,
    mac_text,
    parse_verification,
    receipt_no,
)

KEY_PARAM = "receipt_key"


def station_key(ledger: Ledger) -> bytes:
    """The receipt key; made on first use (the caller is inside a ledger transaction)."""
    value = ledger.param(KEY_PARAM)
    if value is None:
        value = os.urandom(32).hex()
        ledger.set_param(KEY_PARAM, value)
    return bytes.fromhex(value)


def code_of(
    ledger: Ledger,
    terminal_id: str,
    batch: int,
    trace: int,
    customer_no: str,
    amount_fen: int,
    when: datetime,
) -> str:
    day = when.astimezone(STATION_TZ).date()
    text = mac_text(terminal_id, batch, trace, customer_no, amount_fen, day)
    return code_for(station_key(ledger), text)


def with_code(
    ledger: Ledger, request: Any, response: m.Response, customer_no: str | None, when: datetime
) -> m.Response:
    """An approved 0210 or offline 0230 with its verification code in field 37.

    ``when`` is the time stored with the posting, so the day in the code is the day the ledger
    shows, even for a payment answered a moment before midnight.
    """
    terminal_id, batch, trace = request.key
    if not response.approved or not hasattr(response, "verify_code"):
        return response
    if spoken(ledger, terminal_id) < RECEIPT_CODES_AND_UPDATES:
        return response  # an older terminal's decoder would refuse field 37 (R10)
    amount = request.amount_fen or 0
    code = code_of(ledger, terminal_id, batch, trace, customer_no or "", amount, when)
    return dataclasses.replace(response, verify_code=code)


@dataclass(frozen=True)
class Verdict:
    """The answer about one receipt: genuine with the ledger's facts, or not and why."""

    genuine: bool
    reason: str = ""  # not genuine: no_such_payment, code_mismatch, altered, reversed, bad_query
    terminal_id: str = ""
    receipt_no: str = ""
    customer_no: str = ""
    customer_name: str = ""
    amount_fen: int = 0
    paid_at: datetime | None = None  # UTC
    agent: str = ""

    def text(self, locale: str = "zh_CN") -> str:
        """The reply in plain words (an SMS, the console, the command line)."""
        words = TEXTS[locale if locale in TEXTS else "zh_CN"]
        if not self.genuine:
            return words[self.reason or "code_mismatch"]
        local = (self.paid_at or datetime.now(UTC)).astimezone(STATION_TZ)
        return words["genuine"].format(
            when=local.strftime("%Y-%m-%d %H:%M"),
            agent=self.agent,
            terminal=self.terminal_id,
            number=self.receipt_no,
            customer=self.customer_no,
            name=self.customer_name,
            yuan=f"{self.amount_fen // 100}.{self.amount_fen % 100:02d}",
        )


TEXTS = {
    "zh_CN": {
        "genuine": "票据真实：{when} 由{agent}（终端{terminal}，票据号{number}）"
        "收取户号{customer} {name} {yuan}元，已入账。",
        "no_such_payment": "票据不真实：主站没有这笔缴费。请勿认可此票据，请拨打95598举报。",
        "code_mismatch": "票据不真实：校验码不符。请勿认可此票据，请拨打95598举报。",
        "altered": "票据不真实：票据上的金额与主站记录不符。请拨打95598举报。",
        "reversed": "此笔缴费已冲正（现金已退还），票据作废。",
        "bad_query": "查询格式：YZ 终端号 票据号 校验码，例如 YZ T0000001 001000123 1234567890",
    },
    "en": {
        "genuine": "Genuine: paid on {when} at {agent} (terminal {terminal}, receipt {number}), "
        "customer {customer} {name}, {yuan} yuan, posted.",
        "no_such_payment": "Not genuine: the station has no such payment. Please report it.",
        "code_mismatch": "Not genuine: the verification code does not match. Please report it.",
        "altered": "Not genuine: the amount differs from the station's record. Please report it.",
        "reversed": "This payment was reversed (the cash was handed back); the receipt is void.",
        "bad_query": "Send: YZ terminal receipt-no code, e.g. YZ T0000001 001000123 1234567890",
    },
}


def verify_receipt(
    ledger_or_db: Ledger | str | Path,
    terminal_id: str,
    trace: int,
    code: str,
    *,
    batch: int | None = None,
    amount_fen: int | None = None,
) -> Verdict:
    """Is the receipt of ``terminal_id``/``trace`` with ``code`` genuine?

    The code is recomputed from the ledger's own record of the payment, so the answer states
    what the station holds (when, where, whom, how much), and an amount the receipt claims
    (``amount_fen``, from its QR code) must agree with it. ``ledger_or_db`` is an open ledger or
    the path of a SQLite ledger file, opened for this one question.
    """
    if not isinstance(ledger_or_db, (str, Path)):  # an open ledger, whichever store it is
        return verify_claim(
            ledger_or_db, ReceiptClaim(terminal_id.upper(), trace, code, batch, amount_fen)
        )
    ledger = Ledger(ledger_or_db)
    try:
        return verify_receipt(ledger, terminal_id, trace, code, batch=batch, amount_fen=amount_fen)
    finally:
        ledger.close()


def verify_claim(ledger: Ledger, claim: ReceiptClaim) -> Verdict:
    rows = [
        row
        for row in ledger.by_trace(claim.terminal_id, claim.trace)
        if claim.batch is None or row["batch"] == claim.batch
    ]
    if not rows:
        return Verdict(False, "no_such_payment")
    stored = ledger.param(KEY_PARAM)
    if stored is None:  # no payment was ever given a code: none can match
        return Verdict(False, "code_mismatch")
    key = bytes.fromhex(stored)
    for row in rows:
        if row["state"] not in ("posted", "reversed") or row["fingerprint"] is None:
            continue
        expected = code_for(key, _mac_text(row))
        if not hmac.compare_digest(expected, claim.code):
            continue
        if row["state"] == "reversed":
            return Verdict(False, "reversed")
        if claim.amount_fen is not None and claim.amount_fen != row["amount_fen"]:
            return Verdict(False, "altered")
        return _genuine(ledger, row)
    return Verdict(False, "code_mismatch")


def _mac_text(row: Row) -> bytes:
    day = datetime.fromisoformat(row["time"]).astimezone(STATION_TZ).date()
    return mac_text(
        row["terminal_id"],
        row["batch"],
        row["trace"],
        row["customer_no"] or "",
        row["amount_fen"],
        day,
    )


def _genuine(ledger: Ledger, row: Row) -> Verdict:
    terminal = ledger.terminal(row["terminal_id"])
    agent = ledger.agent(terminal["agent_id"]) if terminal is not None else None
    customer = ledger.customer(row["customer_no"]) if row["customer_no"] else None
    return Verdict(
        True,
        terminal_id=row["terminal_id"],
        receipt_no=receipt_no(row["batch"], row["trace"]),
        customer_no=row["customer_no"] or "",
        customer_name=customer["name"] if customer is not None else "",
        amount_fen=row["amount_fen"],
        paid_at=datetime.fromisoformat(row["time"]).astimezone(UTC),
        agent=agent["name"] if agent is not None else "",
    )


def sms_reply(ledger: Ledger, text: str, locale: str = "zh_CN") -> str:
    """The reply to an SMS such as ``YZ T0000001 001000123 1234567890`` (or a scanned QR text).

    A pure question to the ledger: receiving and sending the SMS belong to the SMS gateway.
    """
    claim = parse_verification(text)
    if claim is None:
        return TEXTS[locale]["bad_query"]
    return verify_claim(ledger, claim).text(locale)
