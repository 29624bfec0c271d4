"""The menu machine: keys and replies in, screens and requests out. No I/O.

One declared table, ``KEYS``, says what every key does in every mode; ``Machine.answer`` says
what each reply does, by its type, so a type checker sees that none is left out. Entry modes
share one editor (digits, dot, CLEAR) so a typed amount behaves the same everywhere. The shell
(``ui.app``) carries out each ``Do(request)`` — sign on, ask the station, pay, read the card —
and feeds the outcome back as ``Replied(request, reply)``; both are the typed classes of
``terminal.core.requests``.

The machine is split by flow: ``ui.state`` (modes, commands, screens, editing), ``ui.menus``
(login, menus, administration, settlement), ``ui.payment`` (customer, cash, confirm, outcome,
meter reading) and ``ui.cards`` (the card flows), each a mixin over the one ``State``; the
sentences are built in ``ui.wording`` from the replies' facts.

Nothing the operator typed is ever acted on without an explicit OK on a screen that says what
will happen; inactivity returns to the idle screen, discarding only unconfirmed input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import assert_never

from drivers.keypad.keys import Key
from terminal.core.cancel_requests import Cancelled, PaymentList, SupervisorChecked
from terminal.core.requests import (
    AgentFigures,
    BlankCard,
    CardDiagnosed,
    CardOwner,
    CardRefused,
    CustomerFound,
    Done,
    Failed,
    JournalChecked,
    MeterBilled,
    NetworkChecked,
    Paid,
    Pending,
    PrinterChecked,
    ReadCard,
    ReconcileFigures,
    Reply,
    Reprinted,
    Request,
    RouteBookLoaded,
    SettleBlocked,
    Settled,
    SignedOn,
    SignOn,
)
from ui import wording
from ui.cancel import Cancelling
from ui.cards import Cards
from ui.menus import Menus
from ui.payment import Payment
from ui.state import (
    ADMIN_MENU,
    CARDSVC_MENU,
    ENTRY_MODES,
    MAIN_MENU,
    SETTLE_MENU,
    Action,
    Answer,
    Command,
    Do,
    Flow,
    Job,
    Limits,
    Mode,
    Screen,
    Show,
)

__all__ = [
    "ADMIN_MENU",
    "CARDSVC_MENU",
    "KEYS",
    "MAIN_MENU",
    "SETTLE_MENU",
    "Action",
    "Answer",
    "Asked",
    "Command",
    "Do",
    "Event",
    "Flow",
    "Idle",
    "Job",
    "Limits",
    "Machine",
    "Mode",
    "Press",
    "Replied",
    "Screen",
    "Show",
]


@dataclass(frozen=True)
class Press:
    """A key was pressed."""

    key: Key


@dataclass(frozen=True)
class Replied:
    """The terminal's answer to ``request``, which is the request of a ``Do`` as it was sent:
    a reply to anything but the request the machine is waiting for is ignored."""

    request: Request
    reply: Reply


@dataclass(frozen=True)
class Asked:
    """The engine asks the operator (all repeats got no answer)."""

    reason: str


@dataclass(frozen=True)
class Idle:
    """No key for ``ui.idle_timeout_s``."""


Event = Press | Replied | Asked | Idle


def key_class(key: Key) -> str:
    """What the key table is keyed by: "digit" for any digit, else the key's name."""
    return "digit" if key.digit is not None else key.name


KEY_CLASSES = frozenset(key_class(key) for key in Key)


class Machine(Menus, Payment, Cards, Cancelling):
    def start(self) -> list[Command]:
        return [self._show()]

    def handle(self, event: Event) -> list[Command]:
        match event:
            case Press(key):
                handler = KEYS.get((self.mode, key_class(key)))
                if handler is None:
                    return []  # a key that means nothing here: ignored, the screen stays
                return handler(self, key)
            case Replied(request, reply):
                if self.awaiting is None or request != self.awaiting:
                    return []  # late, or an answer to something not waited for (lock)
                self.awaiting = None
                return self.answer(request, reply)
            case Asked(reason):
                self.mode = Mode.ASK
                self.asked_over, self.title = self.title, self.t("ask_wait")
                self.lines = [self.t(reason)]
                return [self._show()]
            case Idle():
                if self.mode in (Mode.BUSY, Mode.ASK, Mode.LOCKED, Mode.IDLE) or self.job.txn:
                    return []  # never walk away from a transaction in progress
                return self.to_idle()
            case _:
                assert_never(event)

    def answer(self, request: Request, reply: Reply) -> list[Command]:
        """Every reply the terminal can give, by type; ``assert_never`` makes a new reply type a
        type error until it is handled here."""
        locale = self.locale
        match reply:
            case Failed():
                return self.on_failed(request, reply)
            case Done():
                return self.to_main()
            case SignedOn():
                return self.on_signed_on(reply)
            case CustomerFound():
                return self.on_customer(reply)
            case MeterBilled():
                return self.on_meter_billed(reply)
            case CardDiagnosed():
                return self.on_diagnosed(reply)
            case BlankCard():
                return self.on_blank(reply)
            case CardOwner():
                return self.on_owner(reply)
            case CardRefused():
                return self.on_refused(reply)
            case Paid():
                return self.on_paid(reply)
            case AgentFigures():
                return self._message(wording.figures_lines(reply, locale))
            case ReconcileFigures():
                return self._message(wording.reconcile_lines(reply, locale))
            case Settled():
                return self._message(wording.settled_lines(reply, locale))
            case SettleBlocked():
                return self._message([self.t("settle_blocked")])
            case Pending():
                return self._message(wording.pending_lines(reply, locale))
            case NetworkChecked():
                return self._message(wording.network_lines(reply, locale))
            case PrinterChecked():
                return self._message(wording.printer_lines(reply, locale))
            case JournalChecked():
                return self._message(wording.journal_lines(reply, locale))
            case Reprinted():
                return self._message(wording.reprint_lines(reply, locale))
            case RouteBookLoaded():
                return self._message(wording.route_book_lines(reply, locale))
            case PaymentList():
                return self.on_payments(reply)
            case SupervisorChecked():
                return self.on_supervisor(reply)
            case Cancelled():
                return self.on_cancelled(reply)
            case _:
                assert_never(reply)

    def on_failed(self, request: Request, failed: Failed) -> list[Command]:
        """A refusal means something different at the login and at the card reader."""
        match request:
            case SignOn():
                return self.sign_on_failed(failed)
            case ReadCard():
                return self.card_failed(failed)
            case _:
                return self._failed(failed)


Handler = Callable[[Machine, Key], list[Command]]
M = Machine

# The declared table: (mode, key class) -> handler. Key classes: "digit", or a Key name.
KEYS: dict[tuple[Mode, str], Handler] = {
    (Mode.IDLE, "OK"): M.wake,
    **{(m, "digit"): M.type for m in ENTRY_MODES},
    **{(m, "DOT"): M.type for m in (Mode.CASH, Mode.READING)},
    **{(m, "CLEAR"): M.erase for m in ENTRY_MODES},
    (Mode.DAYS, "F1"): M.type_dash,
    (Mode.ACCOUNT, "OK"): M.account_done,
    (Mode.ACCOUNT, "CANCEL"): M.to_idle,
    (Mode.PASSWORD, "OK"): M.password_done,
    (Mode.PASSWORD, "CANCEL"): M.to_idle,
    (Mode.MAIN, "digit"): M.choose,
    (Mode.MAIN, "CANCEL"): M.to_idle,
    (Mode.CUSTOMER, "OK"): M.customer_done,
    (Mode.CUSTOMER, "CANCEL"): M.to_main,
    (Mode.INFO, "OK"): M.info_done,
    (Mode.INFO, "CANCEL"): M.to_main,
    (Mode.CASH, "OK"): M.cash_done,
    (Mode.CASH, "CANCEL"): M.to_main,
    (Mode.ROUNDUP, "OK"): M.roundup_yes,
    (Mode.ROUNDUP, "CANCEL"): M.roundup_no,
    (Mode.CONFIRM, "OK"): M.confirmed,
    (Mode.CONFIRM, "CANCEL"): M.to_main,
    (Mode.ASK, "OK"): M.ask_wait,
    (Mode.ASK, "CANCEL"): M.ask_give_up,
    (Mode.RESULT, "OK"): M.result_done,
    (Mode.RESULT, "CANCEL"): M.result_done,
    (Mode.RESULT, "DOWN"): M.scroll_down,
    (Mode.RESULT, "UP"): M.scroll_up,
    (Mode.CARD_WAIT, "OK"): M.card_ready,
    (Mode.CARD_WAIT, "CANCEL"): M.card_wait_cancel,
    (Mode.CARD_GIVE_UP, "OK"): M.card_give_up,
    (Mode.CARD_GIVE_UP, "CANCEL"): M.card_keep_waiting,
    (Mode.CANCEL_PICK, "OK"): M.pick_done,
    (Mode.CANCEL_PICK, "UP"): M.pick_up,
    (Mode.CANCEL_PICK, "DOWN"): M.pick_down,
    (Mode.CANCEL_PICK, "CANCEL"): M.to_main,
    (Mode.SUPERVISOR, "OK"): M.supervisor_done,
    (Mode.SUPERVISOR, "CANCEL"): M.to_main,
    (Mode.CANCEL_CONFIRM, "OK"): M.cancel_go,
    (Mode.CANCEL_CONFIRM, "CANCEL"): M.to_main,
    (Mode.READING, "OK"): M.reading_done,
    (Mode.READING, "CANCEL"): M.to_main,
    (Mode.CARDSVC, "digit"): M.choose,
    (Mode.CARDSVC, "CANCEL"): M.to_main,
    (Mode.SETTLE, "digit"): M.choose,
    (Mode.SETTLE, "CANCEL"): M.to_main,
    (Mode.DAYS, "OK"): M.days_done,
    (Mode.DAYS, "CANCEL"): M.to_main,
    (Mode.SETTLE_CONFIRM, "OK"): M.settle_go,
    (Mode.SETTLE_CONFIRM, "CANCEL"): M.to_main,
    (Mode.ADMIN, "digit"): M.choose,
    (Mode.ADMIN, "CANCEL"): M.to_main,
    (Mode.LOCKED, "OK"): M.stay_locked,
    # A key while the terminal works (the station, the card, a slow printer) is answered at
    # once: the operator is told it is working, so a stalled printer never looks like a hang.
    **{(Mode.BUSY, cls): M.still_busy for cls in KEY_CLASSES},
}
