"""The screens of cancel (撤销) and of giving up on a pulled card, for ``ui.snapshots``.

Drives the pure menu machine with the replies the terminal would give, like ``ui.snapshots``
(which adds these after its own, numbered on from ``first``).
"""

from __future__ import annotations

from datetime import datetime

from drivers.keypad.keys import Key
from terminal.core.cancel_requests import Cancelled, PaymentItem, PaymentList, SupervisorChecked
from terminal.core.requests import Paid, PayOutcome, Reply
from ui import machine as mc

PAYMENTS = (
    PaymentItem("T/001/000012", 12, "0100000123", "王秀英", 14000, datetime(2026, 11, 22, 10, 2)),
    PaymentItem("T/001/000011", 11, "0100000001", "张三", 6500, datetime(2026, 11, 22, 9, 50)),
    PaymentItem(
        "T/001/000010", 10, "0100000002", "李四", 8800, datetime(2026, 11, 22, 9, 41), "already"
    ),
)


def _reply(m: mc.Machine, reply: Reply) -> list[mc.Command]:
    assert m.awaiting is not None, "the machine is not waiting for a reply"
    return m.handle(mc.Replied(m.awaiting, reply))


def _keys(m: mc.Machine, digits: str) -> None:
    for digit in digits:
        m.handle(mc.Press(Key(digit)))


def cancel_screens(first: int) -> list[tuple[str, mc.Screen]]:
    shots: list[tuple[str, mc.Screen]] = []

    def snap(name: str, commands: list[mc.Command]) -> None:
        screens = [c.screen for c in commands if isinstance(c, mc.Show)]
        if screens:
            shots.append((f"{first + len(shots)}-{name}", screens[-1]))

    ok, cancel = mc.Press(Key.OK), mc.Press(Key.CANCEL)
    m = mc.Machine()
    m.signed_on = True
    m.start()
    m.handle(ok)
    m.handle(mc.Press(Key.DIGIT_8))
    m.handle(mc.Press(Key.DIGIT_3))
    snap("cancel-list", _reply(m, PaymentList(PAYMENTS)))
    m.handle(mc.Press(Key.DOWN))
    m.handle(mc.Press(Key.DOWN))
    snap("cancel-refused", m.handle(ok))
    m.handle(ok)
    m.handle(mc.Press(Key.DIGIT_8))
    m.handle(mc.Press(Key.DIGIT_3))
    _reply(m, PaymentList(PAYMENTS))
    _keys(m, "12")
    snap("cancel-supervisor", m.handle(ok))
    _keys(m, "888888")
    m.handle(ok)
    snap("cancel-wrong-password", _reply(m, SupervisorChecked(False)))
    _keys(m, "654321")
    m.handle(ok)
    snap("cancel-confirm", _reply(m, SupervisorChecked(True)))
    m.handle(ok)
    snap("cancel-done", _reply(m, Cancelled("T/001/000012", 14000, printed=True)))
    m.handle(ok)
    # A card pulled mid-write that is not coming back.
    m.handle(mc.Press(Key.DIGIT_4))
    m.job.txn = "T/001/000013"
    snap("card-give-up", m.handle(cancel))
    m.handle(ok)
    done = Paid(PayOutcome.HAND_BACK_CASH, "T/001/000013", why="card_given_up")
    snap("card-given-up", _reply(m, done))
    return shots
