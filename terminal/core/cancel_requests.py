"""The menu's requests and the terminal's replies for cancel (撤销) and for giving up on a card
pulled mid-write. Part of the vocabulary of ``terminal.core.requests`` (which joins them into
``Request`` and ``Reply``), kept apart so each flow's words sit together.

Facts only: a refusal is a reason code from ``terminal.core.cancel`` ("already", "not_cash",
"offline", "other_batch", "owed", "not_approved", "not_found"), never a sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# --- requests ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GiveUpCardWrite:
    """The pulled card is not coming back: reverse the purchase (answered with ``Paid``)."""

    txn: str


@dataclass(frozen=True)
class FindPayments:
    """Payments to pick one to cancel from: with ``trace`` 0, the open batch's approved cash
    payments, newest first; with a trace number, the payment under it in any batch."""

    trace: int = 0


@dataclass(frozen=True)
class CheckSupervisor:
    """Is this the supervisor's password? (asked before the cancel's confirm screen)."""

    password: str


@dataclass(frozen=True)
class CancelPayment:
    """The operator confirmed the cancel of ``txn``; the supervisor's password goes with it and
    is checked again, so no cancel is journalled without it."""

    txn: str
    password: str


# --- replies ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentItem:
    """One payment on the cancel list: who, how much, when, and why it cannot be cancelled."""

    txn: str
    trace: int
    customer_no: str
    name: str
    amount_fen: int
    time: datetime | None  # local time of the approval
    refusal: str = ""  # "" : it can be cancelled


@dataclass(frozen=True)
class PaymentList:
    """The payments found for ``FindPayments`` (empty: none under that trace number)."""

    items: tuple[PaymentItem, ...]
    trace: int = 0
    enabled: bool = True  # False: no supervisor password is set, cancel is turned off


@dataclass(frozen=True)
class SupervisorChecked:
    """Whether the supervisor's password was right; ``configured`` False: cancel is turned off."""

    ok: bool
    configured: bool = True


@dataclass(frozen=True)
class Cancelled:
    """The cancel ran (reversal queued, 撤销 receipt printed or not), or why it was refused."""

    txn: str
    amount_fen: int = 0
    refusal: str = ""  # a reason code; "wrong_password" when the password did not check
    printed: bool = False
    print_reason: str = ""  # why the 撤销 receipt did not print (a text key)
