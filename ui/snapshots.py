"""``python -m ui.snapshots DIR``: a PNG of every screen, for ``docs/screens/``.

Drives the pure menu machine through every flow with the replies the shell would give, and
draws each distinct screen with the framebuffer renderer's picture code (320×240). Nothing here
talks to a device: it is the machine and the renderer, exactly as on the terminal.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

from drivers.keypad.keys import Key
from terminal.core.requests import (
    AgentFigures,
    BlankCard,
    CardDiagnosed,
    CardInHand,
    CardOwner,
    Customer,
    CustomerFound,
    Failed,
    MeterBilled,
    NetworkChecked,
    Paid,
    PayOutcome,
    Pending,
    PendingItem,
    PostedToday,
    Reply,
    RouteBookLoaded,
    Settled,
    SignedOn,
)
from terminal.protocol.records import Bill, MeterInfo, MeterKind, PaymentRecord
from ui import machine as mc
from ui.render import Status, save_png
from ui.snapshots_cancel import cancel_screens

CUSTOMER = Customer(
    customer_no="0100000123",
    name="王秀英",
    address="青山乡石门村三组18号",
    due_fen=13208,
    credit_fen=0,
    arrears_fen=13208,
    bills=(Bill(202609, 132, 6974, 0), Bill(202610, 118, 6234, 0)),
)
CARD_OWNER = CardOwner(
    Customer(
        customer_no="0100000005",
        name="李建国",
        address="青山乡石门村一组5号",
        meter=MeterInfo(MeterKind.CARD_PREPAID, "000100000005", 3),
    ),
    CardInHand("5a00000100000005", 3),
)


@dataclass(frozen=True)
class Said:
    """A card finding as the card diagnosis gives it: one text per language."""

    zh: str
    en: str

    def text(self, locale: str) -> str:
        return self.zh if locale == "zh_CN" else self.en


DIAGNOSIS = CardDiagnosed(
    (
        Said("卡类型：用户卡", "Card type: user card"),
        Said("户号：0100000005", "Customer: 0100000005"),
        Said("购电次数：4，最近一次 100.00元", "Purchases: 4, last 100.00 yuan"),
        Said("电表购电次数：3", "Purchases loaded in the meter: 3"),
        Said(
            "最近一次购电尚未输入电表，请将卡插入电表",
            "The last purchase is not in the meter yet: insert the card into the meter",
        ),
    )
)


def keys(machine: mc.Machine, text: str) -> list[mc.Command]:
    out: list[mc.Command] = []
    for ch in text:
        out += machine.handle(mc.Press(Key(ch)))
    return out


def reply(machine: mc.Machine, answer: Reply) -> list[mc.Command]:
    """The terminal answers the request the machine is waiting for."""
    if machine.awaiting is None:
        raise ValueError(f"the machine waits for nothing ({machine.mode}): {answer}")
    return machine.handle(mc.Replied(machine.awaiting, answer))


def walk() -> list[tuple[str, mc.Screen]]:
    """(name, screen) of every screen, in the order an operator meets them."""
    shots: list[tuple[str, mc.Screen]] = []
    m = mc.Machine()

    def snap(name: str, commands: list[mc.Command]) -> None:
        screens = [c.screen for c in commands if isinstance(c, mc.Show)]
        if screens:
            shots.append((name, screens[-1]))

    ok, cancel = mc.Press(Key.OK), mc.Press(Key.CANCEL)
    snap("01-idle", m.start())
    snap("02-login-account", m.handle(ok))
    keys(m, "100101")
    snap("03-login-password", m.handle(ok))
    keys(m, "123456")
    snap("04-signing-on", m.handle(ok))
    snap("05-wrong-password", reply(m, Failed(code="55")))
    m.handle(ok)
    keys(m, "100101")
    m.handle(ok)
    keys(m, "123456")
    m.handle(ok)
    snap("06-main-menu", reply(m, SignedOn("城关镇代收点", 1)))
    snap("07-pay-customer", m.handle(mc.Press(Key.DIGIT_1)))
    keys(m, "0100000123")
    m.handle(ok)
    snap("08-pay-customer-info", reply(m, CustomerFound(CUSTOMER)))
    m.handle(ok)
    keys(m, "150")
    snap("09-pay-cash", [m._show()])
    snap("10-pay-round-up", m.handle(ok))
    snap("11-pay-confirm", m.handle(ok))
    snap("12-pay-sending", m.handle(ok))
    snap("13-no-answer", m.handle(mc.Asked("no answer within 30 s")))
    m.handle(ok)
    snap("14-pay-approved", reply(m, Paid(PayOutcome.APPROVED, "T/001/000001", printed=True)))
    m.handle(ok)
    m.handle(mc.Press(Key.DIGIT_1))
    keys(m, "123")
    snap("15-bad-customer-number", m.handle(ok))
    m.handle(cancel)
    m.handle(mc.Press(Key.DIGIT_3))
    keys(m, "0100000123")
    m.handle(ok)
    reply(m, CustomerFound(CUSTOMER))
    m.handle(ok)
    keys(m, "60")
    m.handle(ok)
    m.handle(ok)
    m.handle(mc.Asked("no answer"))
    m.handle(cancel)
    snap(
        "16-reversal-hand-back-cash",
        reply(m, Paid(PayOutcome.HAND_BACK_CASH, "T/001/000002", why="no_answer")),
    )
    m.handle(ok)
    m.handle(mc.Press(Key.DIGIT_2))
    keys(m, "0100000123")
    m.handle(ok)
    history = replace(
        CUSTOMER,
        bills=tuple(Bill(202600 + i, 120, 6500, 6500 if i < 9 else 0) for i in range(1, 11)),
        payments=(PaymentRecord(date(2026, 10, 5), 6500),),
    )
    snap("17-customer-query", reply(m, CustomerFound(history)))
    m.handle(ok)
    snap("18-card-insert", m.handle(mc.Press(Key.DIGIT_4)))
    m.handle(ok)
    snap("19-card-info", reply(m, CARD_OWNER))
    m.handle(ok)
    keys(m, "100")
    m.handle(ok)
    m.handle(ok)
    snap("20-card-pulled", reply(m, Paid(PayOutcome.CARD_PULLED, "T/001/000009")))
    m.handle(ok)
    snap("21-card-written", reply(m, Paid(PayOutcome.APPROVED, "T/001/000009", printed=True)))
    m.handle(ok)
    snap("22-card-service", m.handle(mc.Press(Key.DIGIT_5)))
    m.handle(mc.Press(Key.DIGIT_1))
    m.handle(ok)
    snap("23-card-diagnosis", reply(m, DIAGNOSIS))
    m.handle(ok)
    m.handle(mc.Press(Key.DIGIT_6))
    keys(m, "0100000123")
    snap("24-meter-reading", m.handle(ok))
    keys(m, "23606.5")
    m.handle(ok)
    billed = MeterBilled(replace(CUSTOMER, due_fen=21133), kwh=150, billed_fen=7925)
    snap("25-meter-billed", reply(m, billed))
    m.handle(cancel)
    m.handle(mc.Press(Key.DIGIT_7))
    today = (
        PostedToday(datetime(2026, 11, 22, 9, 41), "0100000123", 14000),
        PostedToday(datetime(2026, 11, 22, 10, 2), "0100000005", 10000),
    )
    snap("26-statistics", reply(m, AgentFigures(2986000, 2, 24000, today)))
    m.handle(ok)
    snap("27-settle-menu", m.handle(mc.Press(Key.DIGIT_8)))
    snap("28-reconcile-dates", m.handle(mc.Press(Key.DIGIT_1)))
    m.handle(cancel)
    m.handle(mc.Press(Key.DIGIT_8))
    snap("29-settle-confirm", m.handle(mc.Press(Key.DIGIT_2)))
    m.handle(ok)
    snap("30-settled", reply(m, Settled(True, 1, 2, 2, 24000)))
    m.handle(ok)
    m.handle(mc.Press(Key.DIGIT_9))
    owed = PendingItem(
        "T/001/000007",
        "reversal",
        customer_no="0100000123",
        amount_fen=6000,
        trace=7,
        failures=3,
        link="not connected",
    )
    snap("31-pending", reply(m, Pending((owed,))))
    m.handle(ok)
    snap("32-admin", m.handle(mc.Press(Key.DIGIT_0)))
    m.handle(mc.Press(Key.DIGIT_2))
    snap("33-network-test", reply(m, NetworkChecked(True, round_trip_ms=812)))
    m.handle(ok)
    m.handle(mc.Press(Key.DIGIT_0))
    m.handle(mc.Press(Key.DIGIT_6))
    snap("34-english-admin", [m._show()])
    m.handle(mc.Press(Key.DIGIT_6))
    m.handle(mc.Press(Key.DIGIT_7))
    m.failures = m.limits.login_attempts
    m.handle(ok)
    snap("35-login-locked", [m._show()])
    snap("36-open-card-blank", _open_card())
    shots += _offline()
    shots += cancel_screens(41)
    return shots


def _offline() -> list[tuple[str, mc.Screen]]:
    """Offline collection: the route book downloaded in town, then a payment with no link."""
    m = mc.Machine()
    m.signed_on = True
    m.start()
    m.handle(mc.Press(Key.OK))
    m.handle(mc.Press(Key.DIGIT_0))
    m.handle(mc.Press(Key.DIGIT_8))
    shots = [("37-route-book", _shown(reply(m, RouteBookLoaded(72, 2, 1734, "城关镇石门村"))))]
    m.handle(mc.Press(Key.OK))
    m.handle(mc.Press(Key.DIGIT_1))
    keys(m, "0100000001")
    m.handle(mc.Press(Key.OK))
    offline = replace(CUSTOMER, customer_no="0100000001", offline=True, address="城关镇石门村")
    shots.append(("38-offline-offer", _shown(reply(m, CustomerFound(offline)))))
    m.handle(mc.Press(Key.OK))
    keys(m, "132.08")
    m.handle(mc.Press(Key.OK))
    m.handle(mc.Press(Key.OK))
    paid = Paid(PayOutcome.APPROVED, "T/001/000005", printed=True, offline_serial=1)
    shots.append(("39-offline-taken", _shown(reply(m, paid))))
    m.handle(mc.Press(Key.OK))
    m.handle(mc.Press(Key.DIGIT_3))
    keys(m, "0100000001")
    m.handle(mc.Press(Key.OK))
    reply(m, CustomerFound(offline))
    m.handle(mc.Press(Key.OK))
    keys(m, "600")
    m.handle(mc.Press(Key.OK))
    m.handle(mc.Press(Key.OK))
    refused = reply(m, Failed(code="off_over_payment_limit"))
    shots.append(("40-offline-refused", _shown(refused)))
    return shots


def _shown(commands: list[mc.Command]) -> mc.Screen:
    return [c.screen for c in commands if isinstance(c, mc.Show)][-1]


def _open_card() -> list[mc.Command]:
    """Card service, open a card: the blank card read, the first purchase asked for."""
    m = mc.Machine()
    m.signed_on = True
    m.start()
    m.handle(mc.Press(Key.OK))
    m.handle(mc.Press(Key.DIGIT_5))
    m.handle(mc.Press(Key.DIGIT_2))
    keys(m, "0100000015")
    m.handle(mc.Press(Key.OK))
    m.handle(mc.Press(Key.OK))
    return reply(m, BlankCard(CardInHand("5a00000100000015")))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    folder = Path(argv[0] if argv else "docs/screens")
    status = Status(
        bars=3, link_up=True, pending=0, paper=True, time=datetime(2026, 11, 22, 1, 41, tzinfo=UTC)
    )
    for name, screen in walk():
        locale = "en" if "english" in name else "zh_CN"
        shown = Status(**{**status.__dict__, "locale": locale})
        if "offline" in name:  # no coverage, one payment taken offline waiting for upload
            shown = replace(shown, bars=0, link_up=False, pending=1, offline=1)
        save_png(screen, shown, folder / f"{name}.png")
        print(folder / f"{name}.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
