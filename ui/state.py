"""The menu machine's state, its commands, and what every mode looks like.

``State`` holds everything the machine remembers between events — the mode, the flow, the text
being typed, the sign-on, and the ``Job`` being prepared — and the few moves every flow uses:
go to a mode, ask the terminal and wait, show a message, edit the entry. The flows
(``ui.menus``, ``ui.payment``, ``ui.cards``) extend it; ``ui.machine`` puts them together.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from drivers.keypad.keys import Key
from terminal.core.cancel_requests import FindPayments, PaymentItem
from terminal.core.cash import Tender
from terminal.core.money import yuan
from terminal.core.requests import (
    AgentStats,
    CardInHand,
    CardPurpose,
    CheckJournal,
    CheckNetwork,
    CheckPrinter,
    Customer,
    DownloadRouteBook,
    Failed,
    PayFlow,
    Reprint,
    Request,
    ShowPending,
)
from ui import wording
from ui.texts import t


class Mode(enum.Enum):
    IDLE = "idle"
    ACCOUNT = "account"
    PASSWORD = "password"
    LOCKED = "locked"
    MAIN = "main"
    CUSTOMER = "customer"  # entering a customer number
    INFO = "info"  # customer shown, OK to go on
    CASH = "cash"  # entering cash or an amount
    ROUNDUP = "roundup"
    CONFIRM = "confirm"
    BUSY = "busy"  # waiting for the terminal's reply
    ASK = "ask"  # no answer: wait again or give up
    RESULT = "result"  # a message; OK returns
    CARD_WAIT = "card_wait"
    READING = "reading"
    CARDSVC = "cardsvc"
    SETTLE = "settle"
    DAYS = "days"
    SETTLE_CONFIRM = "settle_confirm"
    ADMIN = "admin"
    CANCEL_PICK = "cancel_pick"  # cancel (撤销): pick a payment by trace number or from the list
    SUPERVISOR = "supervisor"  # the supervisor's password
    CANCEL_CONFIRM = "cancel_confirm"
    CARD_GIVE_UP = "card_give_up"  # the pulled card is not coming back: reverse?


class Flow(enum.Enum):
    PAY = "pay"
    QUERY = "query"
    PREPAY = "prepay"
    CARD = "card"
    DIAG = "diag"
    OPEN = "open"
    REISSUE = "reissue"
    METER = "meter"


class Action(enum.Enum):
    """Administration entries that are neither a flow, a submenu nor a request to wait for."""

    SIGN_ON = "signon"
    LANGUAGE = "language"
    LOCK = "lock"


# The payment each flow asks for, and the card it reads.
PAY_FLOW = {
    Flow.PAY: PayFlow.BILL,
    Flow.METER: PayFlow.BILL,
    Flow.PREPAY: PayFlow.PREPAY,
    Flow.CARD: PayFlow.CARD,
    Flow.OPEN: PayFlow.OPEN,
    Flow.REISSUE: PayFlow.REISSUE,
}
CARD_PURPOSE = {
    Flow.DIAG: CardPurpose.DIAGNOSE,
    Flow.OPEN: CardPurpose.BLANK,
    Flow.REISSUE: CardPurpose.BLANK,
    Flow.CARD: CardPurpose.PURCHASE,
}
WRITES_CARD = frozenset({Flow.CARD, Flow.OPEN, Flow.REISSUE})
BILL_FLOWS = frozenset({Flow.PAY, Flow.METER})  # cash against what is due: change, round-up

# A menu entry: digit, text key, and where it leads.
Target = Flow | Mode | Action | Request
Menu = tuple[tuple[str, str, Target], ...]

MAIN_MENU: Menu = (
    ("1", "m_pay", Flow.PAY),
    ("2", "m_query", Flow.QUERY),
    ("3", "m_prepay", Flow.PREPAY),
    ("4", "m_card", Flow.CARD),
    ("5", "m_cardsvc", Mode.CARDSVC),
    ("6", "m_meter", Flow.METER),
    ("7", "m_stats", AgentStats()),
    ("8", "m_settle", Mode.SETTLE),
    ("9", "m_pending", ShowPending()),
    ("0", "m_admin", Mode.ADMIN),
)
CARDSVC_MENU: Menu = (
    ("1", "c_diag", Flow.DIAG),
    ("2", "c_open", Flow.OPEN),
    ("3", "c_reissue", Flow.REISSUE),
)
SETTLE_MENU: Menu = (
    ("1", "s_reconcile", Mode.DAYS),
    ("2", "s_settle", Mode.SETTLE_CONFIRM),
    ("3", "s_cancel", FindPayments()),
)
ADMIN_MENU: Menu = (
    ("1", "a_signon", Action.SIGN_ON),
    ("2", "a_network", CheckNetwork()),
    ("3", "a_printer", CheckPrinter()),
    ("4", "a_journal", CheckJournal()),
    ("5", "a_reprint", Reprint()),
    ("6", "a_language", Action.LANGUAGE),
    ("7", "a_lock", Action.LOCK),
    ("8", "a_routebook", DownloadRouteBook()),
)
MENUS: dict[Mode, tuple[str, Menu]] = {
    Mode.MAIN: ("main", MAIN_MENU),
    Mode.CARDSVC: ("cardsvc", CARDSVC_MENU),
    Mode.SETTLE: ("settle", SETTLE_MENU),
    Mode.ADMIN: ("admin", ADMIN_MENU),
}

ENTRY_LIMITS = {
    Mode.ACCOUNT: 15,
    Mode.PASSWORD: 12,
    Mode.CUSTOMER: 10,
    Mode.CASH: 9,
    Mode.READING: 9,
    Mode.DAYS: 13,
    Mode.CANCEL_PICK: 6,
    Mode.SUPERVISOR: 12,
}
ENTRY_MODES = frozenset(ENTRY_LIMITS)
ENTRY_LABELS = {
    Mode.ACCOUNT: "account",
    Mode.PASSWORD: "password",
    Mode.CUSTOMER: "customer_no",
    Mode.READING: "reading",
    Mode.DAYS: "days",
    Mode.CANCEL_PICK: "trace_no",
    Mode.SUPERVISOR: "supervisor_password",
}
MASKED = frozenset({Mode.PASSWORD, Mode.SUPERVISOR})
# What the keys do on screens whose hint says nothing else.
MODE_HINTS = {
    Mode.CANCEL_PICK: "cancel_pick_keys",
    Mode.SUPERVISOR: "supervisor_keys",
    Mode.CANCEL_CONFIRM: "cancel_confirm_keys",
    Mode.CARD_GIVE_UP: "card_give_up_keys",
}


@dataclass(frozen=True)
class Screen:
    """What the display shows: title, lines, the entry being typed and the hint."""

    title: str
    lines: tuple[str, ...] = ()
    entry: str | None = None  # "label: value_" when the operator is typing
    hint: str = ""
    mode: str = ""


@dataclass(frozen=True)
class Show:
    """Draw this screen."""

    screen: Screen


@dataclass(frozen=True)
class Do:
    """Ask the terminal; the answer comes back as ``Replied(request, reply)``."""

    request: Request


@dataclass(frozen=True)
class Answer:
    """The answer to the engine's question (no reply from the station): wait again?"""

    wait_again: bool


Command = Show | Do | Answer


@dataclass
class Limits:
    """The amounts and attempts the menu allows before the station is asked."""

    max_payment_fen: int = 500000
    min_purchase_fen: int = 1000
    max_purchase_fen: int = 200000
    round_up_fen: int = 1000
    reissue_fee_fen: int = 2000
    login_attempts: int = 5


@dataclass
class Job:
    """The transaction being prepared: the one place the customer and the cash are kept.

    ``customer`` starts as the number typed and is replaced by the station's description; it
    goes back to the terminal in ``Pay``. ``tender`` is what the operator confirmed, so the
    confirm and result screens read the same change.
    """

    customer: Customer | None = None
    card: CardInHand | None = None  # the card read for this job
    exact: Tender | None = None  # bill flows: pay what is due, give the rest back
    offer: Tender | None = None  # bill flows: round up, carry the rest to next month
    tender: Tender | None = None  # confirmed
    amount_label: str = "cash"
    txn: str = ""  # a card write that was interrupted: never walk away from it
    payments: tuple[PaymentItem, ...] = ()  # cancel: the list to pick from
    cursor: int = 0  # cancel: the payment marked on the list
    picked: PaymentItem | None = None  # cancel: the payment being cancelled
    supervisor: str = ""  # cancel: the password, kept only until the cancel is sent
    supervisor_failures: int = 0


class State:
    def __init__(self, locale: str = "zh_CN", limits: Limits | None = None) -> None:
        self.locale = locale
        self.limits = limits or Limits()
        self.mode = Mode.IDLE
        self.flow: Flow | None = None
        self.text = ""  # what is being typed
        self.account = ""
        self.signed_on = False
        self.failures = 0
        self.agent = ""
        self.job = Job()
        self.awaiting: Request | None = None  # the request whose reply the machine waits for
        self.lines: list[str] = []
        self.scroll = 0
        self.title = ""
        self.asked_over = ""  # the title the engine's question covered, back once answered
        self.busy_pressed = False  # a key came while busy: the screen says to wait
        self.back_to = Mode.MAIN

    def t(self, key: str, **values: object) -> str:
        return t(key, self.locale, **values)

    # --- screens -------------------------------------------------------------------------

    def _show(self) -> Show:
        m = self.mode
        entry = None
        hint = ""
        lines: tuple[str, ...] = tuple(self.lines)
        title = self.title
        if m is Mode.IDLE:
            title = self.t("app")
            lines = tuple(x for x in (self.agent,) if x)
            hint = self.t("idle_signed" if self.signed_on else "idle")
        elif m is Mode.LOCKED:
            title = self.t("login")
            lines = (self.t("login_locked"),)
        elif m in ENTRY_MODES:
            label = ENTRY_LABELS.get(m, self.job.amount_label)
            shown = "*" * len(self.text) if m in MASKED else self.text
            entry = f"{self.t(label)}: {shown}_"
        elif m in MENUS:
            name, menu = MENUS[m]
            title = self.t(name)
            lines = tuple(f"{digit}. {self.t(label)}" for digit, label, _ in menu)
        elif m in (Mode.INFO, Mode.RESULT, Mode.CARD_WAIT):
            lines = tuple(self.lines[self.scroll : self.scroll + 8])
            hint = self.t("press_any" if m is Mode.RESULT else "ok_to_go_on")
        elif m is Mode.ROUNDUP and self.job.exact is not None:
            hint = self.t("roundup_keys", change=yuan(self.job.exact.change_fen))
        elif m is Mode.SETTLE_CONFIRM:
            lines = (self.t("settle_confirm"),)
            hint = self.t("ok_confirm")
        elif m is Mode.CONFIRM:
            hint = self.t("ok_confirm")
        elif m is Mode.ASK:
            hint = self.t("ask_wait_keys")
        elif m is Mode.BUSY and self.busy_pressed:
            hint = self.t("still_busy")
        if m in MODE_HINTS:
            hint = self.t(MODE_HINTS[m])
        elif m is Mode.CARD_WAIT and self.job.txn:
            hint = self.t("card_back_keys")
        return Show(Screen(title, lines, entry, hint, m.value))

    def _go(
        self, mode: Mode, title: str | None = None, lines: list[str] | None = None, text: str = ""
    ) -> list[Command]:
        self.mode = mode
        self.busy_pressed = False
        if title is not None:
            self.title = title
        if lines is not None:
            self.lines = lines
            self.scroll = 0
        self.text = text
        return [self._show()]

    def _busy(self, message: str, request: Request) -> list[Command]:
        """Show ``message`` and ask the terminal; only the reply to ``request`` is taken."""
        self.awaiting = request
        return [*self._go(Mode.BUSY, lines=[self.t(message)]), Do(request)]

    def _message(self, lines: list[str], title: str | None = None) -> list[Command]:
        return self._go(Mode.RESULT, title or self.title, lines)

    def _failed(self, failed: Failed) -> list[Command]:
        """A request that did not happen. A dropped working key also ends the sign-on, so the
        next OK leads to the login screen rather than into another refusal."""
        if failed.needs_sign_on:
            self.signed_on = False
        return self._message(wording.failed_lines(failed, self.locale))

    def _confirm(self, tender: Tender) -> list[Command]:
        """The one screen that shows all of the payment; OK on it sends exactly ``tender``."""
        self.job.tender = tender
        lines = wording.confirm_lines(self.job.customer, tender, self.locale)
        return self._go(Mode.CONFIRM, self.t("confirm_pay"), lines)

    # --- editing -------------------------------------------------------------------------

    def type(self, key: Key) -> list[Command]:
        if len(self.text) < ENTRY_LIMITS[self.mode]:
            self.text += key.value
        return [self._show()]

    def type_dash(self, key: Key) -> list[Command]:
        if "-" not in self.text and len(self.text) < ENTRY_LIMITS[self.mode]:
            self.text += "-"
        return [self._show()]

    def erase(self, key: Key) -> list[Command]:
        self.text = self.text[:-1]
        return [self._show()]

    # --- leaving a screen ----------------------------------------------------------------

    def to_idle(self, key: Key | None = None) -> list[Command]:
        self.job = Job()
        self.flow = None
        return self._go(Mode.IDLE, lines=[])

    def to_main(self, key: Key | None = None) -> list[Command]:
        self.job = Job()
        self.flow = None
        if not self.signed_on:
            return self._go(Mode.ACCOUNT, self.t("login"), [])
        return self._go(Mode.MAIN, lines=[])

    def result_done(self, key: Key) -> list[Command]:
        back, self.back_to = self.back_to, Mode.MAIN
        if back is Mode.ACCOUNT:
            return self._go(Mode.ACCOUNT, self.t("login"), [])
        return self.to_main()

    def scroll_down(self, key: Key) -> list[Command]:
        self.scroll = min(self.scroll + 4, max(len(self.lines) - 4, 0))
        return [self._show()]

    def scroll_up(self, key: Key) -> list[Command]:
        self.scroll = max(self.scroll - 4, 0)
        return [self._show()]
