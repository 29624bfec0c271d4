"""``python -m ui.snapshots DIR``: a PNG of every screen, for ``docs/screens/``.

Drives the pure menu machine through every flow with the replies the shell would give, and
draws each distinct screen with the framebuffer renderer's picture code (320×240). Nothing here
talks to a device: it is the machine and the renderer, exactly as on the terminal.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from drivers.keypad.keys import Key
from ui import machine as mc
from ui.render import Status, save_png

CUSTOMER = {
    "customer_no": "0100000123",
    "name": "王秀英",
    "address": "青山乡石门村三组18号",
    "due": 13208,
    "credit": 0,
    "arrears": 13208,
    "bills": [[202609, 132, 6974], [202610, 118, 6234]],
}


def keys(machine: mc.Machine, text: str) -> list:
    out = []
    for ch in text:
        out += machine.handle(mc.Press(Key(ch)))
    return out


def walk() -> list[tuple[str, mc.Screen]]:
    """(name, screen) of every screen, in the order an operator meets them."""
    shots: list[tuple[str, mc.Screen]] = []
    m = mc.Machine()

    def snap(name: str, commands: list) -> None:
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
    snap(
        "05-wrong-password",
        m.handle(mc.Reply("sign_on", False, {"code": "55", "text": "密码错误，请重新输入"})),
    )
    m.handle(ok)
    keys(m, "100101")
    m.handle(ok)
    keys(m, "123456")
    m.handle(ok)
    snap("06-main-menu", m.handle(mc.Reply("sign_on", True, {"agent": "城关镇代收点"})))
    snap("07-pay-customer", m.handle(mc.Press(Key.DIGIT_1)))
    keys(m, "0100000123")
    m.handle(ok)
    snap("08-pay-customer-info", m.handle(mc.Reply("inquire", True, dict(CUSTOMER))))
    m.handle(ok)
    keys(m, "150")
    snap("09-pay-cash", [mc.Show(m._show().screen)])
    snap("10-pay-round-up", m.handle(ok))
    snap("11-pay-confirm", m.handle(ok))
    snap("12-pay-sending", m.handle(ok))
    snap("13-no-answer", m.handle(mc.Asked("no answer within 30 s")))
    m.handle(ok)
    snap(
        "14-pay-approved", m.handle(mc.Reply("pay", True, {"outcome": "approved", "printed": True}))
    )
    m.handle(ok)
    m.handle(mc.Press(Key.DIGIT_1))
    keys(m, "123")
    snap("15-bad-customer-number", m.handle(ok))
    m.handle(cancel)
    m.handle(mc.Press(Key.DIGIT_3))
    keys(m, "0100000123")
    m.handle(ok)
    m.handle(mc.Reply("inquire", True, dict(CUSTOMER)))
    m.handle(ok)
    keys(m, "60")
    m.handle(ok)
    m.handle(ok)
    m.handle(mc.Asked("no answer"))
    m.handle(cancel)
    snap(
        "16-reversal-hand-back-cash",
        m.handle(mc.Reply("pay", True, {"outcome": "reversal_hand_back_cash"})),
    )
    m.handle(ok)
    m.handle(mc.Press(Key.DIGIT_2))
    keys(m, "0100000123")
    m.handle(ok)
    history = dict(
        CUSTOMER,
        bills=[[202600 + i, 120, 6500, 6500 if i < 9 else 0] for i in range(1, 11)],
        payments=[("2026-10-05", 6500)],
    )
    snap("17-customer-query", m.handle(mc.Reply("inquire", True, history)))
    m.handle(ok)
    snap("18-card-insert", m.handle(mc.Press(Key.DIGIT_4)))
    m.handle(ok)
    card = dict(
        CUSTOMER,
        customer_no="0100000005",
        name="李建国",
        serial="5A00000100000005",
        count=3,
        meter_kind=2,
        meter_no="000100000005",
    )
    snap("19-card-info", m.handle(mc.Reply("card_read", True, card)))
    m.handle(ok)
    keys(m, "100")
    m.handle(ok)
    m.handle(ok)
    snap(
        "20-card-pulled",
        m.handle(mc.Reply("pay", True, {"outcome": "card_writing", "txn": "T/1/9"})),
    )
    m.handle(ok)
    snap(
        "21-card-written",
        m.handle(mc.Reply("resolve_card", True, {"outcome": "approved", "printed": True})),
    )
    m.handle(ok)
    snap("22-card-service", m.handle(mc.Press(Key.DIGIT_5)))
    m.handle(mc.Press(Key.DIGIT_1))
    m.handle(ok)
    snap(
        "23-card-diagnosis",
        m.handle(
            mc.Reply(
                "card_read",
                True,
                {
                    "findings": [
                        "卡类型：用户卡",
                        "户号：0100000005",
                        "购电次数：4，最近一次 100.00元",
                        "电表购电次数：3",
                        "最近一次购电尚未输入电表，请将卡插入电表",
                    ]
                },
            )
        ),
    )
    m.handle(ok)
    m.handle(mc.Press(Key.DIGIT_6))
    keys(m, "0100000123")
    snap("24-meter-reading", m.handle(ok))
    keys(m, "23606.5")
    m.handle(ok)
    snap(
        "25-meter-billed",
        m.handle(mc.Reply("meter_billing", True, dict(CUSTOMER, kwh=150, billed=7925, due=21133))),
    )
    m.handle(cancel)
    m.handle(mc.Press(Key.DIGIT_7))
    snap(
        "26-statistics",
        m.handle(
            mc.Reply(
                "stats",
                True,
                {
                    "lines": [
                        "可用额度 29860.00元",
                        "今日笔数 2  金额 240.00元",
                        "09:41 0100000123 140.00元",
                        "10:02 0100000005 100.00元",
                    ]
                },
            )
        ),
    )
    m.handle(ok)
    snap("27-settle-menu", m.handle(mc.Press(Key.DIGIT_8)))
    snap("28-reconcile-dates", m.handle(mc.Press(Key.DIGIT_1)))
    m.handle(cancel)
    m.handle(mc.Press(Key.DIGIT_8))
    snap("29-settle-confirm", m.handle(mc.Press(Key.DIGIT_2)))
    m.handle(ok)
    snap(
        "30-settled",
        m.handle(mc.Reply("settle", True, {"lines": ["结算完成（平），批次1→2，2笔 240.00元"]})),
    )
    m.handle(ok)
    m.handle(mc.Press(Key.DIGIT_9))
    snap(
        "31-pending",
        m.handle(
            mc.Reply(
                "pending",
                True,
                {
                    "lines": [
                        "冲正待上送 户号0100000123 60.00元 流水000007（已尝试3次：无法连接主站）"
                    ]
                },
            )
        ),
    )
    m.handle(ok)
    snap("32-admin", m.handle(mc.Press(Key.DIGIT_0)))
    m.handle(mc.Press(Key.DIGIT_2))
    snap(
        "33-network-test", m.handle(mc.Reply("network", True, {"lines": ["网络正常，往返812毫秒"]}))
    )
    m.handle(ok)
    m.handle(mc.Press(Key.DIGIT_0))
    m.handle(mc.Press(Key.DIGIT_6))
    snap("34-english-admin", [mc.Show(m._show().screen)])
    m.handle(mc.Press(Key.DIGIT_6))
    m.handle(mc.Press(Key.DIGIT_7))
    m.failures = m.limits.login_attempts
    m.handle(ok)
    snap("35-login-locked", [mc.Show(m._show().screen)])
    return shots


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    folder = Path(argv[0] if argv else "docs/screens")
    status = Status(
        bars=3, link_up=True, pending=0, paper=True, time=datetime(2026, 11, 22, 1, 41, tzinfo=UTC)
    )
    for name, screen in walk():
        locale = "en" if "english" in name else "zh_CN"
        save_png(screen, Status(**{**status.__dict__, "locale": locale}), folder / f"{name}.png")
        print(folder / f"{name}.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
