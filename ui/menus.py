"""Login, the menus, and the administration and settlement entries of the menu machine.

A mixin over ``State``: the handlers read and write the machine's one state, and the key table
in ``ui.machine`` names them directly.
"""

from __future__ import annotations

from datetime import date

from drivers.keypad.keys import Key
from terminal.core.requests import (
    Failed,
    Lock,
    Reconcile,
    Settle,
    SignedOn,
    SignOn,
)
from terminal.protocol.codes import RECONCILE_DAYS_MAX
from terminal.protocol.responses import Code
from ui import wording
from ui.state import MENUS, Action, Command, Do, Flow, Job, Mode, State, Target

# Sign-on refusals that count towards locking the terminal: a guessed password, a locked account.
COUNTED = frozenset({Code.WRONG_PASSWORD, Code.OPERATOR_LOCKED})


class Menus(State):
    # --- idle and login ------------------------------------------------------------------

    def wake(self, key: Key) -> list[Command]:
        if self.failures >= self.limits.login_attempts:
            return self._go(Mode.LOCKED)
        if self.signed_on:
            return self._go(Mode.MAIN, lines=[])
        return self._go(Mode.ACCOUNT, self.t("login"), [])

    def stay_locked(self, key: Key) -> list[Command]:
        return [self._show()]

    def still_busy(self, key: Key) -> list[Command]:
        """Nothing to do but wait: say so, and that the card must stay and the power on."""
        self.busy_pressed = True
        return [self._show()]

    def account_done(self, key: Key) -> list[Command]:
        if not self.text:
            return [self._show()]
        self.account = self.text
        return self._go(Mode.PASSWORD, self.t("login"), [])

    def password_done(self, key: Key) -> list[Command]:
        password, self.text = self.text, ""
        return self._busy("signing_on", SignOn(self.account, password))

    def on_signed_on(self, reply: SignedOn) -> list[Command]:
        self.signed_on = True
        self.failures = 0
        self.agent = reply.agent
        return self._go(Mode.MAIN, lines=[])

    def sign_on_failed(self, failed: Failed) -> list[Command]:
        """Wrong password or account: say why and ask again; too many, or a locked account,
        locks the terminal. A link problem does not count against the operator."""
        if failed.link:
            return self._message(wording.failed_lines(failed, self.locale), self.t("login"))
        if failed.code in COUNTED:
            self.failures += 1
        if self.failures >= self.limits.login_attempts or failed.code == Code.OPERATOR_LOCKED:
            self.failures = max(self.failures, self.limits.login_attempts)
            return self._go(Mode.LOCKED)
        self.back_to = Mode.ACCOUNT
        return self._message([wording.failure(failed, self.locale)], self.t("login"))

    # --- menus ---------------------------------------------------------------------------

    def choose(self, key: Key) -> list[Command]:
        """A digit on any menu: the entry it names, if there is one."""
        _, menu = MENUS[self.mode]
        for digit, label, target in menu:
            if digit == key.value:
                return self._start(target, self.t(label))
        return [self._show()]

    def _start(self, target: Target, title: str) -> list[Command]:
        self.job = Job()
        self.title = title
        match target:
            case Flow():
                self.flow = target
                if target in (Flow.CARD, Flow.DIAG):
                    return self._go(Mode.CARD_WAIT, lines=[self.t("insert_card")])
                return self._go(Mode.CUSTOMER, lines=[])
            case Mode():
                return self._go(target, lines=[])
            case Action.LANGUAGE:
                self.locale = "en" if self.locale == "zh_CN" else "zh_CN"
                return self._go(Mode.ADMIN, lines=[])
            case Action.LOCK:
                self.signed_on = False
                return [*self.to_idle(), Do(Lock())]
            case Action.SIGN_ON:
                self.signed_on = False
                return self._go(Mode.ACCOUNT, self.t("login"), [])
            case _:
                return self._busy("busy", target)

    # --- settlement ----------------------------------------------------------------------

    def days_done(self, key: Key) -> list[Command]:
        text = self.text
        if not text:
            return self._busy("querying", Reconcile(None))
        first, _, last = text.partition("-")
        if not (
            len(first) == 6
            and first.isdigit()
            and (not last or (len(last) == 6 and last.isdigit()))
        ):
            return self._go(Mode.DAYS, lines=[self.t("bad_days")])
        days = (int(first), int(last or first))
        span = days_between(*days)
        if span is None:
            return self._go(Mode.DAYS, lines=[self.t("bad_days")])
        if not 0 <= span < RECONCILE_DAYS_MAX:
            return self._go(Mode.DAYS, lines=[self.t("days_too_long", n=RECONCILE_DAYS_MAX)])
        return self._busy("querying", Reconcile(days))

    def settle_go(self, key: Key) -> list[Command]:
        return self._busy("sending", Settle())


def days_between(first: int, last: int) -> int | None:
    """Days from ``first`` to ``last`` (both yymmdd); None when either is not a calendar day."""
    try:
        start = date(2000 + first // 10000, first // 100 % 100, first % 100)
        end = date(2000 + last // 10000, last // 100 % 100, last % 100)
    except ValueError:
        return None
    return (end - start).days
