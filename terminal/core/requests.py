"""What the menu asks of the terminal, and what it gets back: one class per request and per answer.

The menu machine (``ui.machine``) returns these requests; the terminal's desk
(``terminal.shell.desk``) answers each with one of the replies below. Both sides are typed, so a
type checker sees every call, and nothing crosses as a loose dict. Replies carry facts (codes,
fen, counts), never sentences: the menu puts them into the operator's language.

The customer the station described is carried here as one ``Customer`` value: the machine keeps
it between screens and hands it back in ``Pay``; nothing else keeps a copy.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from terminal.core import cancel_requests as cx
from terminal.core.cash import Tender
from terminal.core.routebook_requests import DownloadRouteBook as DownloadRouteBook
from terminal.core.routebook_requests import RouteBookLoaded as RouteBookLoaded
from terminal.protocol.messages import InquiryResponse
from terminal.protocol.records import Amount, Bill, MeterInfo, PaymentRecord
from terminal.protocol.responses import KEY_DROPPED


class Explained(Protocol):
    """A finding that can say itself in the operator's language (card diagnosis)."""

    def text(self, locale: str) -> str: ...


# --- values shared by requests and replies ---------------------------------------------------


@dataclass(frozen=True)
class Customer:
    """A customer as the station described them in one inquiry answer."""

    customer_no: str
    name: str = ""
    address: str = ""
    due_fen: int = 0  # what must be paid now
    credit_fen: int = 0  # prepaid credit carried to coming bills
    arrears_fen: int = 0
    bills: tuple[Bill, ...] = ()  # unpaid bills (payment) or 12 months (history)
    payments: tuple[PaymentRecord, ...] = ()  # recent payments (history only)
    meter: MeterInfo | None = None  # card customers: the meter the card feeds
    offline: bool = False  # from the route book: no link, the payment is taken offline


@dataclass(frozen=True)
class CardInHand:
    """The card in the reader, as read: serial (hex) and purchase count."""

    serial: str
    purchase_count: int = 0


class PayFlow(enum.Enum):
    """What a payment is for; each maps to one processing code (``terminal.core.orders``)."""

    BILL = "bill"  # arrears, cash in hand (also after an on-site meter reading)
    PREPAY = "prepay"  # credit for coming bills or a remote-prepaid meter
    CARD = "card"  # electricity onto the customer's purchase card
    OPEN = "open"  # open a blank card for a new card customer
    REISSUE = "reissue"  # a replacement card, with its fee


class CardPurpose(enum.Enum):
    """What the card in the reader is read for."""

    DIAGNOSE = "diagnose"  # explain every field (电卡诊断)
    BLANK = "blank"  # a blank card to open or reissue onto
    PURCHASE = "purchase"  # a customer's card to buy electricity onto


def customer_of(reply: InquiryResponse) -> Customer:
    """The one conversion from the station's inquiry answer to the customer the menu keeps."""
    amounts = reply.amounts or {}
    return Customer(
        customer_no=reply.customer_no or "",
        name=reply.name or "",
        address=reply.address or "",
        due_fen=amounts.get(Amount.DUE, 0),
        credit_fen=amounts.get(Amount.CREDIT, 0),
        arrears_fen=amounts.get(Amount.ARREARS, 0),
        bills=tuple(reply.bills or ()),
        payments=tuple(reply.payments or ()),
        meter=reply.meter,
    )


# --- requests ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignOn:
    """Sign on with the operator's account and password (sent as a PIN block)."""

    account: str
    password: str


@dataclass(frozen=True)
class Lock:
    """Forget the working key: the next money needs a fresh sign-on."""


@dataclass(frozen=True)
class FindCustomer:
    """Ask the station about a customer: what is due, or the history."""

    customer_no: str
    history: bool = False  # 12 months of bills and recent payments instead of what is due


@dataclass(frozen=True)
class BillReading:
    """抄收一体: a meter reading (tenths of kWh) in, this month's bill out."""

    customer_no: str
    reading: int


@dataclass(frozen=True)
class ReadCard:
    """Read the card in the reader, for the purpose given."""

    purpose: CardPurpose


@dataclass(frozen=True)
class Pay:
    """The operator confirmed this payment on a screen that showed all of it."""

    flow: PayFlow
    tender: Tender
    customer: Customer | None = None  # None: open or reissue a card
    card: CardInHand | None = None  # card flows: the card that was read


@dataclass(frozen=True)
class ResumeCardWrite:
    """The card pulled mid-write is back in the reader: learn whether the write happened."""

    txn: str


@dataclass(frozen=True)
class AgentStats:
    """The agent's available limit and today's collection."""


@dataclass(frozen=True)
class Reconcile:
    """Count and total of a date range (对账)."""

    days: tuple[int, int] | None = None  # (yymmdd, yymmdd); None: today


@dataclass(frozen=True)
class Settle:
    """Close the batch (扎帐): deliver what is owed, then settle with the station."""


@dataclass(frozen=True)
class ShowPending:
    """What is still owed to the station, and what is not yet resolved."""


@dataclass(frozen=True)
class CheckNetwork:
    """A heartbeat to the station, timed."""


@dataclass(frozen=True)
class CheckPrinter:
    """Ask the printer for paper and print a test page."""


@dataclass(frozen=True)
class CheckJournal:
    """Verify the signed journal's chain."""


@dataclass(frozen=True)
class Reprint:
    """Print the last receipt again, marked 重打."""


Request = (
    SignOn
    | Lock
    | FindCustomer
    | BillReading
    | ReadCard
    | Pay
    | ResumeCardWrite
    | AgentStats
    | Reconcile
    | Settle
    | ShowPending
    | CheckNetwork
    | CheckPrinter
    | CheckJournal
    | Reprint
    | DownloadRouteBook
    | cx.GiveUpCardWrite
    | cx.FindPayments
    | cx.CheckSupervisor
    | cx.CancelPayment
)


# --- replies ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failed:
    """The request did not happen. ``code`` is a station response code (or one of the terminal's
    own, see ``terminal.protocol.responses``); ``link`` names a link problem instead."""

    code: str = ""
    link: str = ""

    @property
    def needs_sign_on(self) -> bool:
        return self.code in KEY_DROPPED


@dataclass(frozen=True)
class Done:
    """Nothing to report beyond success (lock)."""


@dataclass(frozen=True)
class SignedOn:
    """Signed on: whose terminal, and the open batch."""

    agent: str
    batch: int


@dataclass(frozen=True)
class CustomerFound:
    """The station described the customer."""

    customer: Customer


@dataclass(frozen=True)
class MeterBilled:
    """The reading was billed: this month's kWh and amount, and the customer as now due."""

    customer: Customer
    kwh: int
    billed_fen: int


@dataclass(frozen=True)
class CardDiagnosed:
    """What each field of the card says, in findings the menu puts into words."""

    findings: tuple[Explained, ...]


@dataclass(frozen=True)
class BlankCard:
    """A blank card is in the reader, ready to be opened or reissued onto."""

    card: CardInHand


@dataclass(frozen=True)
class CardOwner:
    """A customer's purchase card is in the reader: whose, and its purchase count."""

    customer: Customer
    card: CardInHand


@dataclass(frozen=True)
class CardRefused:
    """The card cannot be used for this: what is wrong with it, or that a blank one is needed."""

    findings: tuple[Explained, ...] = ()
    need_blank: bool = False


class PayOutcome(enum.Enum):
    """How a payment ended for the operator."""

    APPROVED = "approved"
    CARD_PULLED = "card_pulled"  # put the same card back: the write is resolved from it
    HAND_BACK_CASH = "hand_back_cash"  # reversal queued: give the cash back


@dataclass(frozen=True)
class Paid:
    """A confirmed payment ran: approved (and whether the receipt printed), or what to do."""

    outcome: PayOutcome
    txn: str
    printed: bool = False
    print_reason: str = ""  # why the receipt did not print (a text key)
    why: str = ""  # HAND_BACK_CASH: "no_answer", "card_not_written", "card_other", "card_given_up"
    offline_serial: int = 0  # taken offline: the receipt's 离线 number; the upload confirms it


@dataclass(frozen=True)
class PostedToday:
    """One payment this terminal posted today, for the statistics screen."""

    time: datetime  # local time of the approval
    customer_no: str
    amount_fen: int


@dataclass(frozen=True)
class AgentFigures:
    """The station's figures for the agent, with this terminal's payments of today."""

    limit_fen: int
    count: int
    total_fen: int
    today: tuple[PostedToday, ...]  # from this terminal's journal


@dataclass(frozen=True)
class ReconcileFigures:
    """The station's count and total for the date range."""

    first: date
    last: date
    count: int
    total_fen: int


@dataclass(frozen=True)
class Settled:
    """The settlement's outcome: the batch closed, or what still differs."""

    balanced: bool
    batch: int
    next_batch: int | None
    count: int
    total_fen: int
    differences: tuple[str, ...] = ()


@dataclass(frozen=True)
class SettleBlocked:
    """Owed messages or open transactions must be cleared before the batch can close."""


@dataclass(frozen=True)
class PendingItem:
    """Something owed to the station (an outbox item) or a transaction not yet resolved."""

    txn: str
    what: str  # "completion", "reversal", "upload", or an open transaction's state value
    customer_no: str = ""
    amount_fen: int = 0
    trace: int = 0
    failures: int = 0  # delivery attempts that failed so far
    code: str = ""  # the last attempt was refused by the station with this response code
    link: str = ""  # or it failed on the link, for this reason


@dataclass(frozen=True)
class Pending:
    """Everything still owed or unresolved, oldest first."""

    items: tuple[PendingItem, ...]


@dataclass(frozen=True)
class NetworkChecked:
    """Whether the station answered the heartbeat, and how fast."""

    ok: bool
    round_trip_ms: int = 0
    code: str = ""  # the station's refusal
    link: str = ""  # the link problem


@dataclass(frozen=True)
class PrinterChecked:
    """Whether the test page printed."""

    ok: bool
    reason: str = ""  # a text key


@dataclass(frozen=True)
class JournalChecked:
    """Whether the journal's chain is intact, over how many entries."""

    ok: bool
    entries: int = 0
    reason: str = ""


@dataclass(frozen=True)
class Reprinted:
    """Whether the receipt printed again."""

    ok: bool
    reason: str = ""  # a text key; "nothing_to_reprint" when there is no receipt


Reply = (
    Failed
    | Done
    | SignedOn
    | CustomerFound
    | MeterBilled
    | CardDiagnosed
    | BlankCard
    | CardOwner
    | CardRefused
    | Paid
    | AgentFigures
    | ReconcileFigures
    | Settled
    | SettleBlocked
    | Pending
    | NetworkChecked
    | PrinterChecked
    | JournalChecked
    | Reprinted
    | RouteBookLoaded
    | cx.PaymentList
    | cx.SupervisorChecked
    | cx.Cancelled
)


@dataclass(frozen=True)
class Status:
    """What the status line shows: signal, link, owed messages, paper, clock, language."""

    bars: int | None = None  # 0..4; None: wired link, no signal to show
    link_up: bool = False
    pending: int = 0  # messages the outbox still owes the station
    paper: bool | None = True  # None: unknown
    time: datetime | None = None  # None: now
    locale: str = "zh_CN"
    waiting: str = ""  # what the link waits for (a modem wait key, e.g. "wait_sim"); "" none
    waiting_s: int = 0  # for how many seconds so far
    low_power: bool = False  # the module warned of under-voltage: charge the battery
    offline: int = 0  # payments taken offline, waiting for upload
