"""The menu machine: keys and replies in, screens and requests out. No I/O.

One declared table, ``KEYS``, says what every key does in every mode; ``REPLIES`` says what each
answer from the shell does. Entry modes share one editor (digits, dot, CLEAR) so a typed amount
behaves the same everywhere. The shell (``ui.app``) carries out ``Do`` requests — sign on, ask the
station, pay, read the card — and feeds the outcome back as a ``Reply``.

Nothing the operator typed is ever acted on without an explicit OK on a screen that says what
will happen; inactivity returns to the idle screen, discarding only unconfirmed input.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from drivers.keypad.keys import Key
from terminal.core.cash import carried, exact
from terminal.core.money import parse_yuan, yuan
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
    BUSY = "busy"  # waiting for the shell
    ASK = "ask"  # no answer: wait again or give up
    RESULT = "result"  # a message; OK returns
    CARD_WAIT = "card_wait"
    READING = "reading"
    CARDSVC = "cardsvc"
    SETTLE = "settle"
    DAYS = "days"
    SETTLE_CONFIRM = "settle_confirm"
    ADMIN = "admin"


class Flow(enum.Enum):
    PAY = "pay"
    QUERY = "query"
    PREPAY = "prepay"
    CARD = "card"
    DIAG = "diag"
    OPEN = "open"
    REISSUE = "reissue"
    METER = "meter"


@dataclass(frozen=True)
class Screen:
    title: str
    lines: tuple[str, ...] = ()
    entry: str | None = None  # "label: value_" when the operator is typing
    hint: str = ""
    mode: str = ""


@dataclass(frozen=True)
class Show:
    screen: Screen


@dataclass(frozen=True)
class Do:
    op: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    """The answer to the engine's question (no reply from the station): wait again?"""

    wait_again: bool


@dataclass(frozen=True)
class Press:
    key: Key


@dataclass(frozen=True)
class Reply:
    op: str
    ok: bool
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Asked:
    """The engine asks the operator (all repeats got no answer)."""

    reason: str


@dataclass(frozen=True)
class Idle:
    """No key for ``ui.idle_timeout_s``."""


Event = Press | Reply | Asked | Idle
Command = Show | Do | Answer

MAIN_MENU = (
    ("1", "m_pay", Flow.PAY),
    ("2", "m_query", Flow.QUERY),
    ("3", "m_prepay", Flow.PREPAY),
    ("4", "m_card", Flow.CARD),
    ("5", "m_cardsvc", "cardsvc"),
    ("6", "m_meter", Flow.METER),
    ("7", "m_stats", "stats"),
    ("8", "m_settle", "settle"),
    ("9", "m_pending", "pending"),
    ("0", "m_admin", "admin"),
)
CARDSVC_MENU = (
    ("1", "c_diag", Flow.DIAG),
    ("2", "c_open", Flow.OPEN),
    ("3", "c_reissue", Flow.REISSUE),
)
SETTLE_MENU = (("1", "s_reconcile", "reconcile"), ("2", "s_settle", "settle"))
ADMIN_MENU = (
    ("1", "a_signon", "signon"),
    ("2", "a_network", "network"),
    ("3", "a_printer", "printer"),
    ("4", "a_journal", "journal"),
    ("5", "a_reprint", "reprint"),
    ("6", "a_language", "language"),
    ("7", "a_lock", "lock"),
)
ENTRY_MODES = {Mode.ACCOUNT, Mode.PASSWORD, Mode.CUSTOMER, Mode.CASH, Mode.READING, Mode.DAYS}
ENTRY_LIMITS = {
    Mode.ACCOUNT: 15,
    Mode.PASSWORD: 12,
    Mode.CUSTOMER: 10,
    Mode.CASH: 9,
    Mode.READING: 9,
    Mode.DAYS: 13,
}

# The declared table: (mode, key class) -> handler. Key classes: "digit", or a Key name.
KEYS: dict[tuple[Mode, str], str] = {
    (Mode.IDLE, "OK"): "wake",
    **{(m, "digit"): "type" for m in ENTRY_MODES},
    **{(m, "DOT"): "type" for m in (Mode.CASH, Mode.READING)},
    **{(m, "CLEAR"): "erase" for m in ENTRY_MODES},
    (Mode.DAYS, "F1"): "type_dash",
    (Mode.ACCOUNT, "OK"): "account_done",
    (Mode.ACCOUNT, "CANCEL"): "to_idle",
    (Mode.PASSWORD, "OK"): "password_done",
    (Mode.PASSWORD, "CANCEL"): "to_idle",
    (Mode.MAIN, "digit"): "main_choice",
    (Mode.MAIN, "CANCEL"): "to_idle",
    (Mode.CUSTOMER, "OK"): "customer_done",
    (Mode.CUSTOMER, "CANCEL"): "to_main",
    (Mode.INFO, "OK"): "info_done",
    (Mode.INFO, "CANCEL"): "to_main",
    (Mode.CASH, "OK"): "cash_done",
    (Mode.CASH, "CANCEL"): "to_main",
    (Mode.ROUNDUP, "OK"): "roundup_yes",
    (Mode.ROUNDUP, "CANCEL"): "roundup_no",
    (Mode.CONFIRM, "OK"): "confirmed",
    (Mode.CONFIRM, "CANCEL"): "to_main",
    (Mode.ASK, "OK"): "ask_wait",
    (Mode.ASK, "CANCEL"): "ask_give_up",
    (Mode.RESULT, "OK"): "result_done",
    (Mode.RESULT, "CANCEL"): "result_done",
    (Mode.RESULT, "DOWN"): "scroll_down",
    (Mode.RESULT, "UP"): "scroll_up",
    (Mode.CARD_WAIT, "OK"): "card_ready",
    (Mode.CARD_WAIT, "CANCEL"): "to_main",
    (Mode.READING, "OK"): "reading_done",
    (Mode.READING, "CANCEL"): "to_main",
    (Mode.CARDSVC, "digit"): "cardsvc_choice",
    (Mode.CARDSVC, "CANCEL"): "to_main",
    (Mode.SETTLE, "digit"): "settle_choice",
    (Mode.SETTLE, "CANCEL"): "to_main",
    (Mode.DAYS, "OK"): "days_done",
    (Mode.DAYS, "CANCEL"): "to_main",
    (Mode.SETTLE_CONFIRM, "OK"): "settle_go",
    (Mode.SETTLE_CONFIRM, "CANCEL"): "to_main",
    (Mode.ADMIN, "digit"): "admin_choice",
    (Mode.ADMIN, "CANCEL"): "to_main",
    (Mode.LOCKED, "OK"): "stay_locked",
}

# Replies from the shell: op -> handler.
REPLIES: dict[str, str] = {
    "sign_on": "on_sign_on",
    "inquire": "on_inquire",
    "pay": "on_paid",
    "card_read": "on_card_read",
    "resolve_card": "on_paid",
    "meter_billing": "on_meter_billing",
    "stats": "on_lines",
    "reconcile": "on_lines",
    "settle": "on_settled",
    "pending": "on_lines",
    "network": "on_lines",
    "printer": "on_lines",
    "journal": "on_lines",
    "reprint": "on_lines",
    "diagnose": "on_lines",
}


@dataclass
class Limits:
    max_payment_fen: int = 500000
    min_purchase_fen: int = 1000
    max_purchase_fen: int = 200000
    round_up_fen: int = 1000
    reissue_fee_fen: int = 2000
    login_attempts: int = 5


class Machine:
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
        self.job: dict[str, Any] = {}  # the transaction being prepared
        self.lines: list[str] = []
        self.scroll = 0
        self.title = ""
        self.back_to = Mode.MAIN

    def t(self, key: str, **values: object) -> str:
        return t(key, self.locale, **values)

    # --- entry point ---------------------------------------------------------------------

    def start(self) -> list[Command]:
        return [self._show()]

    def handle(self, event: Event) -> list[Command]:
        if isinstance(event, Press):
            cls = "digit" if event.key.digit is not None else event.key.name
            name = KEYS.get((self.mode, cls))
            if name is None:
                return []  # a key that means nothing here: ignored, the screen stays
            return getattr(self, name)(event.key)
        if isinstance(event, Reply):
            name = REPLIES.get(event.op)
            if name is None or self.mode not in (Mode.BUSY, Mode.CARD_WAIT):
                return []
            return getattr(self, name)(event)
        if isinstance(event, Asked):
            self.mode = Mode.ASK
            self.title = self.t("ask_wait")
            self.lines = [event.reason]
            return [self._show()]
        if isinstance(event, Idle):
            if self.mode in (Mode.BUSY, Mode.ASK, Mode.LOCKED, Mode.IDLE) or self.job.get("txn"):
                return []  # never walk away from a transaction in progress
            return self.to_idle(None)
        return []

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
            label = {
                Mode.ACCOUNT: "account",
                Mode.PASSWORD: "password",
                Mode.CUSTOMER: "customer_no",
                Mode.READING: "reading",
                Mode.DAYS: "days",
            }.get(m, self.job.get("amount_label", "cash"))
            shown = "*" * len(self.text) if m is Mode.PASSWORD else self.text
            entry = f"{self.t(label)}: {shown}_"
        elif m is Mode.MAIN:
            title = self.t("main")
            lines = tuple(f"{k}. {self.t(label)}" for k, label, _ in MAIN_MENU)
        elif m is Mode.CARDSVC:
            title = self.t("cardsvc")
            lines = tuple(f"{k}. {self.t(label)}" for k, label, _ in CARDSVC_MENU)
        elif m is Mode.SETTLE:
            title = self.t("settle")
            lines = tuple(f"{k}. {self.t(label)}" for k, label, _ in SETTLE_MENU)
        elif m is Mode.ADMIN:
            title = self.t("admin")
            lines = tuple(f"{k}. {self.t(label)}" for k, label, _ in ADMIN_MENU)
        elif m in (Mode.INFO, Mode.RESULT, Mode.CARD_WAIT):
            lines = tuple(self.lines[self.scroll : self.scroll + 8])
            hint = self.t("ok_to_go_on") if m is Mode.INFO else self.t("press_any")
            if m is Mode.CARD_WAIT:
                hint = self.t("ok_to_go_on")
        elif m is Mode.ROUNDUP:
            hint = self.t("roundup_keys", change=yuan(self.job["exact"].change_fen))
        elif m in (Mode.CONFIRM, Mode.SETTLE_CONFIRM):
            hint = self.t("ok_confirm")
        elif m is Mode.ASK:
            hint = self.t("ask_wait_keys")
        return Show(Screen(title, lines, entry, hint, m.value))

    def _go(
        self, mode: Mode, title: str | None = None, lines: list[str] | None = None, text: str = ""
    ) -> list[Command]:
        self.mode = mode
        if title is not None:
            self.title = title
        if lines is not None:
            self.lines = lines
            self.scroll = 0
        self.text = text
        return [self._show()]

    def _busy(self, message: str, op: str, **args: Any) -> list[Command]:
        return [*self._go(Mode.BUSY, lines=[self.t(message)]), Do(op, args)]

    def _message(self, lines: list[str], title: str | None = None) -> list[Command]:
        return self._go(Mode.RESULT, title or self.title, lines)

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

    # --- idle, login, menus -----------------------------------------------------------------

    def to_idle(self, key: Key | None) -> list[Command]:
        self.job = {}
        self.flow = None
        return self._go(Mode.IDLE, lines=[])

    def to_main(self, key: Key | None) -> list[Command]:
        self.job = {}
        self.flow = None
        if not self.signed_on:
            return self._go(Mode.ACCOUNT, self.t("login"), [])
        return self._go(Mode.MAIN, lines=[])

    def wake(self, key: Key) -> list[Command]:
        if self.failures >= self.limits.login_attempts:
            return self._go(Mode.LOCKED)
        if self.signed_on:
            return self._go(Mode.MAIN, lines=[])
        return self._go(Mode.ACCOUNT, self.t("login"), [])

    def stay_locked(self, key: Key) -> list[Command]:
        return [self._show()]

    def account_done(self, key: Key) -> list[Command]:
        if not self.text:
            return [self._show()]
        self.account = self.text
        return self._go(Mode.PASSWORD, self.t("login"), [])

    def password_done(self, key: Key) -> list[Command]:
        password, self.text = self.text, ""
        return self._busy("signing_on", "sign_on", account=self.account, password=password)

    def on_sign_on(self, reply: Reply) -> list[Command]:
        if reply.ok:
            self.signed_on = True
            self.failures = 0
            self.agent = reply.data.get("agent", "")
            return self._go(Mode.MAIN, lines=[])
        if reply.data.get("link"):
            return self._message([self.t("no_station", reason=reply.data["text"])], self.t("login"))
        if reply.data.get("code") in ("55", "58"):
            self.failures += 1
        if self.failures >= self.limits.login_attempts or reply.data.get("code") == "58":
            self.failures = max(self.failures, self.limits.login_attempts)
            return self._go(Mode.LOCKED)
        self.back_to = Mode.ACCOUNT
        return self._message([reply.data.get("text", "")], self.t("login"))

    def main_choice(self, key: Key) -> list[Command]:
        for digit, label, target in MAIN_MENU:
            if digit == key.value:
                return self._start(target, self.t(label))
        return [self._show()]

    def cardsvc_choice(self, key: Key) -> list[Command]:
        for digit, label, target in CARDSVC_MENU:
            if digit == key.value:
                return self._start(target, self.t(label))
        return [self._show()]

    def settle_choice(self, key: Key) -> list[Command]:
        if key.value == "1":
            return self._go(Mode.DAYS, self.t("s_reconcile"), [])
        if key.value == "2":
            return self._go(Mode.SETTLE_CONFIRM, self.t("s_settle"), [self.t("settle_confirm")])
        return [self._show()]

    def admin_choice(self, key: Key) -> list[Command]:
        ops = {d: op for d, _, op in ADMIN_MENU}
        op = ops.get(key.value)
        if op is None:
            return [self._show()]
        self.title = self.t(dict((d, label) for d, label, _ in ADMIN_MENU)[key.value])
        if op == "language":
            self.locale = "en" if self.locale == "zh_CN" else "zh_CN"
            return self._go(Mode.ADMIN, lines=[])
        if op == "lock":
            self.signed_on = False
            return [*self.to_idle(None), Do("lock")]
        if op == "signon":
            self.signed_on = False
            return self._go(Mode.ACCOUNT, self.t("login"), [])
        return self._busy("busy", op)

    def _start(self, target: Flow | str, title: str) -> list[Command]:
        self.job = {}
        self.title = title
        if isinstance(target, str):
            if target == "cardsvc":
                return self._go(Mode.CARDSVC, lines=[])
            if target == "settle":
                return self._go(Mode.SETTLE, lines=[])
            if target == "admin":
                return self._go(Mode.ADMIN, lines=[])
            return self._busy("busy", target)  # stats, pending
        self.flow = target
        if target in (Flow.CARD, Flow.DIAG):
            return self._go(Mode.CARD_WAIT, lines=[self.t("insert_card")])
        return self._go(Mode.CUSTOMER, lines=[])

    # --- customer, cash, confirm ------------------------------------------------------------

    def customer_done(self, key: Key) -> list[Command]:
        number = self.text
        if len(number) != 10:
            return [*self._go(Mode.CUSTOMER, lines=[self.t("bad_customer_no")], text="")]
        self.job["customer_no"] = number
        if self.flow is Flow.METER:
            return self._go(Mode.READING, lines=[])
        if self.flow in (Flow.OPEN, Flow.REISSUE):
            return self._go(Mode.CARD_WAIT, lines=[self.t("insert_blank")])
        history = self.flow is Flow.QUERY
        return self._busy("querying", "inquire", customer_no=number, history=history)

    def on_inquire(self, reply: Reply) -> list[Command]:
        if not reply.ok:
            return self._failed(reply)
        d = reply.data
        self.job.update(d)
        lines = [f"{self.t('name')}: {d['name']}", f"{self.t('address')}: {d['address']}"]
        if self.flow is Flow.QUERY:
            lines.append(
                f"{self.t('arrears')}: {yuan(d['arrears'])}元  "
                f"{self.t('credit')}: {yuan(d['credit'])}元"
            )
            for month, kwh, amount, paid in d["bills"]:
                state = self.t("paid") if paid >= amount else self.t("unpaid")
                lines.append(
                    self.t(
                        "bill_line",
                        month=f"{month // 100}-{month % 100:02d}",
                        kwh=kwh,
                        amount=yuan(amount),
                        state=state,
                    )
                )
            if d.get("payments"):
                lines.append(self.t("payments") + ":")
                lines += [f"{day} {yuan(amount)}元" for day, amount in d["payments"]]
            return self._message(lines)
        for month, kwh, due in d["bills"]:
            lines.append(f"{month // 100}-{month % 100:02d} {kwh}度 {yuan(due)}元")
        lines.append(
            f"{self.t('due')}: {yuan(d['due'])}元  {self.t('credit')}: {yuan(d['credit'])}元"
        )
        if self.flow is Flow.PAY and d["due"] <= 0:
            return self._message([*lines, self.t("no_arrears")])
        return self._go(Mode.INFO, lines=lines)

    def info_done(self, key: Key) -> list[Command]:
        self.job["amount_label"] = "cash" if self.flow in (Flow.PAY, Flow.METER) else "amount"
        if self.flow is Flow.OPEN:
            self.job["amount_label"] = "first_purchase"
        return self._go(Mode.CASH, lines=[self.lines[0]] if self.lines else [])

    def cash_done(self, key: Key) -> list[Command]:
        try:
            fen = parse_yuan(self.text)
        except ValueError:
            return self._go(Mode.CASH, lines=[self.t("bad_amount")])
        lim = self.limits
        if fen > lim.max_payment_fen:
            return self._go(
                Mode.CASH, lines=[self.t("over_limit", limit=yuan(lim.max_payment_fen))]
            )
        if self.flow in (Flow.PAY, Flow.METER):
            due = self.job["due"]
            if fen < due:
                return self._go(Mode.CASH, lines=[self.t("cash_short", due=yuan(due))])
            self.job["exact"] = exact(due, fen)
            offer = carried(due, fen, lim.round_up_fen)
            if offer is not None:
                self.job["offer"] = offer
                return self._go(
                    Mode.ROUNDUP,
                    lines=[
                        self.t(
                            "roundup",
                            amount=yuan(offer.amount_fen),
                            change=yuan(offer.change_fen),
                            credit=yuan(offer.credit_fen),
                        )
                    ],
                )
            return self._confirm(self.job["exact"].amount_fen, fen)
        if self.flow is Flow.OPEN:
            if fen and fen < lim.min_purchase_fen:
                return self._go(
                    Mode.CASH, lines=[self.t("below_min", minimum=yuan(lim.min_purchase_fen))]
                )
            return self._confirm(fen, fen)
        if fen < lim.min_purchase_fen:
            return self._go(
                Mode.CASH, lines=[self.t("below_min", minimum=yuan(lim.min_purchase_fen))]
            )
        if self.flow is Flow.CARD and fen > lim.max_purchase_fen:
            return self._go(
                Mode.CASH, lines=[self.t("over_limit", limit=yuan(lim.max_purchase_fen))]
            )
        return self._confirm(fen, fen)

    def roundup_yes(self, key: Key) -> list[Command]:
        offer = self.job["offer"]
        return self._confirm(offer.amount_fen, offer.cash_fen)

    def roundup_no(self, key: Key) -> list[Command]:
        ex = self.job["exact"]
        return self._confirm(ex.amount_fen, ex.cash_fen)

    def _confirm(self, amount: int, cash: int) -> list[Command]:
        self.job["amount"] = amount
        self.job["cash"] = cash
        line = self.t(
            "pay_line", amount=yuan(amount), cash=yuan(cash), change=yuan(max(cash - amount, 0))
        )
        who = self.job.get("name", "")
        return self._go(
            Mode.CONFIRM, self.t("confirm_pay"), [f"{self.job.get('customer_no', '')} {who}", line]
        )

    def confirmed(self, key: Key) -> list[Command]:
        j = self.job
        return self._busy(
            "writing_card" if self.flow in (Flow.CARD, Flow.OPEN, Flow.REISSUE) else "sending",
            "pay",
            flow=self.flow.value,
            amount=j["amount"],
            cash=j["cash"],
            customer_no=j.get("customer_no"),
        )

    def on_paid(self, reply: Reply) -> list[Command]:
        d = reply.data
        outcome = d.get("outcome")
        cash = yuan(self.job.get("cash", 0))
        if outcome == "approved":
            lines = [self.t("approved")]
            change = self.job.get("cash", 0) - self.job.get("amount", 0)
            if change > 0:
                lines.append(self.t("give_change", change=yuan(change)))
            if self.flow in (Flow.CARD, Flow.OPEN, Flow.REISSUE):
                lines.append(self.t("card_done"))
            if d.get("printed"):
                lines.append(self.t("receipt_printed"))
            else:
                reason = self.t(d.get("print_reason") or "no_printer")
                lines.append(self.t("receipt_not_printed", reason=reason))
            return self._message(lines)
        if outcome == "card_writing":
            self.job["txn"] = d.get("txn")
            return self._go(Mode.CARD_WAIT, lines=[self.t("card_pulled_reinsert")])
        if outcome in ("reversal_hand_back_cash", "card_not_written_hand_back_cash"):
            return self._message([self.t(outcome, cash=cash)])
        return self._failed(reply)

    def ask_wait(self, key: Key) -> list[Command]:
        self.mode = Mode.BUSY
        self.lines = [self.t("sending")]
        return [self._show(), Answer(True)]

    def ask_give_up(self, key: Key) -> list[Command]:
        self.mode = Mode.BUSY
        self.lines = [self.t("busy")]
        return [self._show(), Answer(False)]

    def result_done(self, key: Key) -> list[Command]:
        back, self.back_to = self.back_to, Mode.MAIN
        if back is Mode.ACCOUNT:
            return self._go(Mode.ACCOUNT, self.t("login"), [])
        return self.to_main(None)

    def scroll_down(self, key: Key) -> list[Command]:
        self.scroll = min(self.scroll + 4, max(len(self.lines) - 4, 0))
        return [self._show()]

    def scroll_up(self, key: Key) -> list[Command]:
        self.scroll = max(self.scroll - 4, 0)
        return [self._show()]

    def _failed(self, reply: Reply) -> list[Command]:
        text = reply.data.get("text", "")
        if reply.data.get("link"):
            return self._message([self.t("no_station", reason=text)])
        if reply.data.get("code") in ("A0", "A3", "77"):
            self.signed_on = False
        return self._message([self.t("declined", text=text)])

    # --- cards ------------------------------------------------------------------------------

    def card_ready(self, key: Key) -> list[Command]:
        if self.job.get("txn"):
            return [
                *self._go(Mode.BUSY, lines=[self.t("writing_card")]),
                Do("resolve_card", {"txn": self.job["txn"]}),
            ]
        return self._busy("reading_card", "card_read", flow=self.flow.value if self.flow else "")

    def on_card_read(self, reply: Reply) -> list[Command]:
        if not reply.ok:
            return self._go(
                Mode.CARD_WAIT,
                lines=[self.t("card_error", reason=reply.data["text"]), self.t("insert_card")],
            )
        d = reply.data
        if self.flow is Flow.DIAG:
            return self._message(d["findings"])
        if self.flow is Flow.REISSUE:
            self.job["due"] = 0
            return self._confirm(self.limits.reissue_fee_fen, self.limits.reissue_fee_fen)
        if self.flow is Flow.OPEN:
            self.job["amount_label"] = "first_purchase"
            return self._go(Mode.CASH, lines=[])
        self.job.update(d)
        lines = [
            f"{d['customer_no']} {d['name']}",
            f"{self.t('address')}: {d['address']}",
            self.t("card_info", serial=d["serial"], count=d["count"]),
        ]
        return self._go(Mode.INFO, lines=lines)

    # --- meter reading ------------------------------------------------------------------------

    def reading_done(self, key: Key) -> list[Command]:
        try:
            whole, _, tenth = self.text.partition(".")
            if not whole.isdigit() or (tenth and (len(tenth) > 1 or not tenth.isdigit())):
                raise ValueError
            reading = int(whole) * 10 + int(tenth or 0)
        except ValueError:
            return self._go(Mode.READING, lines=[self.t("bad_reading")])
        return self._busy(
            "querying", "meter_billing", customer_no=self.job["customer_no"], reading=reading
        )

    def on_meter_billing(self, reply: Reply) -> list[Command]:
        if not reply.ok:
            return self._failed(reply)
        d = reply.data
        self.job.update(d)
        lines = [
            f"{self.t('name')}: {d['name']}",
            self.t("billed", kwh=d["kwh"], amount=yuan(d["billed"])),
            f"{self.t('due')}: {yuan(d['due'])}元",
        ]
        if d["due"] <= 0:
            return self._message([*lines, self.t("no_arrears")])
        return self._go(Mode.INFO, lines=lines)

    # --- statistics, settlement, admin ----------------------------------------------------------

    def on_lines(self, reply: Reply) -> list[Command]:
        if not reply.ok:
            return self._failed(reply)
        return self._message(list(reply.data.get("lines", [])))

    def days_done(self, key: Key) -> list[Command]:
        text = self.text
        if not text:
            return self._busy("querying", "reconcile", days=None)
        first, _, last = text.partition("-")
        if not (
            len(first) == 6
            and first.isdigit()
            and (not last or (len(last) == 6 and last.isdigit()))
        ):
            return self._go(Mode.DAYS, lines=[self.t("bad_days")])
        return self._busy("querying", "reconcile", days=(int(first), int(last or first)))

    def settle_go(self, key: Key) -> list[Command]:
        return self._busy("sending", "settle")

    def on_settled(self, reply: Reply) -> list[Command]:
        return self._message(list(reply.data.get("lines", [])))
