"""The menu machine alone (pure: no I/O) and the screens it draws."""

from __future__ import annotations

import string

from drivers.keypad.keys import Key
from ui import machine as mc
from ui.render import Status, as_image, as_text, text_lines
from ui.snapshots import CUSTOMER, keys, walk
from ui.texts import TEXTS

OK, CANCEL = mc.Press(Key.OK), mc.Press(Key.CANCEL)


def signed_on() -> mc.Machine:
    m = mc.Machine()
    m.start()
    m.handle(OK)
    keys(m, "100101")
    m.handle(OK)
    keys(m, "123456")
    commands = m.handle(OK)
    assert mc.Do("sign_on", {"account": "100101", "password": "123456"}) in commands
    m.handle(mc.Reply("sign_on", True, {"agent": "城关镇代收点"}))
    assert m.mode is mc.Mode.MAIN
    return m


def test_every_mode_has_a_documented_screen():
    shown = {screen.mode for _, screen in walk()}
    assert {mode.value for mode in mc.Mode} <= shown


def test_every_screen_fits_the_display_and_draws():
    for _, screen in walk():
        for line in text_lines(screen, Status()):
            from terminal.core.receipt import width

            assert width(line) <= 32, line
        assert as_image(screen, Status()).size == (320, 240)


def test_both_languages_for_every_text_with_the_same_placeholders():
    fields = lambda text: {f for _, f, _, _ in string.Formatter().parse(text) if f}  # noqa: E731
    for key, (zh, en) in TEXTS.items():
        assert zh and en, key
        assert fields(zh) == fields(en), key


def test_password_is_never_shown():
    m = mc.Machine()
    m.start()
    m.handle(OK)
    keys(m, "100101")
    m.handle(OK)
    commands = keys(m, "4321")
    assert "4321" not in as_text(commands[-1].screen, Status())
    assert "****" in commands[-1].screen.entry


def test_payment_flow_requests_exactly_what_was_confirmed():
    m = signed_on()
    m.handle(mc.Press(Key.DIGIT_1))
    keys(m, "0100000123")
    assert m.handle(OK)[-1] == mc.Do("inquire", {"customer_no": "0100000123", "history": False})
    m.handle(mc.Reply("inquire", True, dict(CUSTOMER)))
    m.handle(OK)
    keys(m, "150")
    m.handle(OK)  # round-up offer
    m.handle(CANCEL)  # no: exact change
    commands = m.handle(OK)
    assert commands[-1] == mc.Do(
        "pay", {"flow": "pay", "amount": 13208, "cash": 15000, "customer_no": "0100000123"}
    )


def test_cash_short_and_over_limit_are_refused_with_the_reason():
    m = signed_on()
    m.handle(mc.Press(Key.DIGIT_1))
    keys(m, "0100000123")
    m.handle(OK)
    m.handle(mc.Reply("inquire", True, dict(CUSTOMER)))
    m.handle(OK)
    keys(m, "100")
    assert "现金不足：应缴132.08元" in m.handle(OK)[-1].screen.lines
    m.text = ""
    keys(m, "999999")
    assert "金额超过单笔限额5000.00元" in m.handle(OK)[-1].screen.lines
    m.text = "1.234"
    assert "金额格式不对，例如 150 或 150.50" in m.handle(OK)[-1].screen.lines


def test_keys_that_mean_nothing_are_ignored():
    m = signed_on()
    assert m.handle(mc.Press(Key.LEFT)) == []
    assert m.mode is mc.Mode.MAIN


def test_inactivity_returns_to_idle_but_never_during_a_transaction():
    m = signed_on()
    m.handle(mc.Press(Key.DIGIT_1))
    keys(m, "01000")
    m.handle(mc.Idle())
    assert m.mode is mc.Mode.IDLE and m.signed_on  # typed digits dropped, login kept
    m.handle(OK)
    m.handle(mc.Press(Key.DIGIT_3))
    keys(m, "0100000123")
    m.handle(OK)
    assert m.mode is mc.Mode.BUSY
    assert m.handle(mc.Idle()) == []
    assert m.mode is mc.Mode.BUSY


def test_link_failure_on_login_says_so():
    m = mc.Machine()
    m.start()
    m.handle(OK)
    keys(m, "1")
    m.handle(OK)
    keys(m, "2")
    m.handle(OK)
    screen = m.handle(mc.Reply("sign_on", False, {"link": True, "text": "no signal"}))[-1].screen
    assert "无法连接主站：no signal" in screen.lines[0]


def test_english_is_one_key_away():
    m = signed_on()
    m.handle(mc.Press(Key.DIGIT_0))
    m.handle(mc.Press(Key.DIGIT_6))
    assert m.handle(CANCEL)[-1].screen.title == "Main menu"
