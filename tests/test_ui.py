"""The menu machine alone (pure: no I/O) and the screens it draws."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import get_args

import pytest

from drivers.keypad.keys import Key
from terminal.core.cash import Tender, exact
from terminal.core.requests import (
    AgentFigures,
    AgentStats,
    BillReading,
    BlankCard,
    CardDiagnosed,
    CardInHand,
    CardOwner,
    CardPurpose,
    CardRefused,
    CheckJournal,
    CheckNetwork,
    CheckPrinter,
    Customer,
    CustomerFound,
    Done,
    DownloadRouteBook,
    Failed,
    FindCustomer,
    JournalChecked,
    MeterBilled,
    NetworkChecked,
    Paid,
    Pay,
    PayFlow,
    PayOutcome,
    Pending,
    PendingItem,
    PostedToday,
    PrinterChecked,
    ReadCard,
    Reconcile,
    ReconcileFigures,
    Reply,
    Reprint,
    Reprinted,
    ResumeCardWrite,
    RouteBookLoaded,
    Settle,
    SettleBlocked,
    Settled,
    ShowPending,
    SignedOn,
    SignOn,
)
from terminal.protocol.responses import KEY_DROPPED, describe
from tests.test_cancel import cancel_samples
from ui import machine as mc
from ui import wording
from ui.render import Status, as_image, as_text, text_lines
from ui.snapshots import CARD_OWNER, CUSTOMER, Said, keys, reply, walk
from ui.texts import TEXTS, t

HAN = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")

OK, CANCEL = mc.Press(Key.OK), mc.Press(Key.CANCEL)


def signed_on() -> mc.Machine:
    m = mc.Machine()
    m.start()
    m.handle(OK)
    keys(m, "100101")
    m.handle(OK)
    keys(m, "123456")
    commands = m.handle(OK)
    assert mc.Do(SignOn("100101", "123456")) in commands
    reply(m, SignedOn("城关镇代收点", 1))
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
    assert m.handle(OK)[-1] == mc.Do(FindCustomer("0100000123", history=False))
    reply(m, CustomerFound(CUSTOMER))
    m.handle(OK)
    keys(m, "150")
    m.handle(OK)  # round-up offer
    m.handle(CANCEL)  # no: exact change
    commands = m.handle(OK)
    assert commands[-1] == mc.Do(Pay(PayFlow.BILL, exact(13208, 15000), CUSTOMER))


def test_cash_short_and_over_limit_are_refused_with_the_reason():
    m = signed_on()
    m.handle(mc.Press(Key.DIGIT_1))
    keys(m, "0100000123")
    m.handle(OK)
    reply(m, CustomerFound(CUSTOMER))
    m.handle(OK)
    keys(m, "100")
    assert "现金不足：应缴132.08元" in m.handle(OK)[-1].screen.lines
    m.text = ""
    keys(m, "999999")
    assert "金额超过单笔限额5000.00元" in m.handle(OK)[-1].screen.lines
    m.text = "1.234"
    assert "金额格式不对，例如 150 或 150.50" in m.handle(OK)[-1].screen.lines


def test_a_reconciliation_range_the_station_would_refuse_is_refused_on_the_spot():
    """At most 28 days, first not after last, real calendar days (R38): said before sending."""
    m = signed_on()
    m.handle(mc.Press(Key.DIGIT_8))
    m.handle(mc.Press(Key.DIGIT_1))
    assert m.mode is mc.Mode.DAYS
    for text, why in (
        ("261101-261201", "对账最多28天，且起日不晚于止日，请重新输入"),
        ("261122-261101", "对账最多28天，且起日不晚于止日，请重新输入"),
        ("261131", "日期格式不对，例如 261101-261122"),
    ):
        m.text = text
        commands = m.handle(OK)
        assert not any(isinstance(c, mc.Do) for c in commands), text
        assert commands[-1].screen.lines == (why,), text
    m.text = "261101-261128"  # 28 days, both ends included: allowed
    assert m.handle(OK)[-1] == mc.Do(Reconcile((261101, 261128)))


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
    screen = reply(m, Failed(link="link_no_network"))[-1].screen
    assert "无法连接主站：没有网络信号" in screen.lines[0]  # the driver's English stays in the log


def test_english_is_one_key_away():
    m = signed_on()
    m.handle(mc.Press(Key.DIGIT_0))
    m.handle(mc.Press(Key.DIGIT_6))
    assert m.handle(CANCEL)[-1].screen.title == "Main menu"


# --- typed requests and replies ---------------------------------------------------------------


def pay_customer(m: mc.Machine, digit: Key = Key.DIGIT_1, customer=CUSTOMER) -> None:
    m.handle(mc.Press(digit))
    keys(m, customer.customer_no)
    m.handle(OK)
    reply(m, CustomerFound(customer))
    m.handle(OK)


def test_pay_carries_the_customer_found_and_the_tender_chosen_on_the_round_up_screen():
    m = signed_on()
    pay_customer(m)
    keys(m, "150")
    offer = m.handle(OK)[-1].screen
    assert "实收140.00元，找零10.00元，7.92元转入下月电费" in offer.lines
    confirm = m.handle(OK)[-1].screen  # OK: carry 7.92 to next month
    assert "缴费140.00元  收现金150.00元  找零10.00元" in confirm.lines
    pay = m.handle(OK)[-1]
    assert pay == mc.Do(Pay(PayFlow.BILL, Tender(14000, 15000, 13208), CUSTOMER, None))
    assert pay.request.customer is CUSTOMER  # the station's description, not a copy
    done = reply(m, Paid(PayOutcome.APPROVED, "T/001/000001", printed=True))[-1].screen
    assert done.lines == ("交易成功", "请找零10.00元", "票据已打印")


@dataclass(frozen=True)
class OddChange(Tender):
    """A tender whose change is not cash - amount: only a screen that reads ``change_fen``
    shows 0.50."""

    @property
    def change_fen(self) -> int:
        return 50


def test_change_is_read_from_the_confirmed_tender_not_recomputed():
    m = signed_on()
    m.handle(mc.Press(Key.DIGIT_3))  # prepayment
    keys(m, "0100000123")
    m.handle(OK)
    reply(m, CustomerFound(CUSTOMER))
    m.handle(OK)
    keys(m, "60")
    m.handle(OK)
    odd = OddChange(6000, 10000)
    assert "缴费60.00元  收现金100.00元  找零0.50元" in m._confirm(odd)[-1].screen.lines
    assert m.handle(OK)[-1] == mc.Do(Pay(PayFlow.PREPAY, odd, CUSTOMER))
    lines = reply(m, Paid(PayOutcome.APPROVED, "T/1/2", printed=True))[-1].screen.lines
    assert "请找零0.50元" in lines


@pytest.mark.parametrize("code", sorted(KEY_DROPPED))
def test_a_dropped_working_key_sends_the_operator_back_to_sign_on(code):
    m = signed_on()
    pay_customer(m)
    keys(m, "132.08")
    m.handle(OK)
    m.handle(OK)
    screen = reply(m, Failed(code=code))[-1].screen
    assert screen.lines == (t("declined", text=describe(code)),)
    assert m.handle(OK)[-1].screen.mode == "account"
    keys(m, "100101")
    m.handle(OK)
    keys(m, "123456")
    assert m.handle(OK)[-1] == mc.Do(SignOn("100101", "123456"))


def test_a_refusal_that_keeps_the_key_returns_to_the_main_menu():
    m = signed_on()
    pay_customer(m)
    keys(m, "132.08")
    m.handle(OK)
    m.handle(OK)
    reply(m, Failed(code="51"))
    assert m.handle(OK)[-1].screen.mode == "main"


def test_a_reply_to_another_request_is_ignored():
    m = signed_on()
    m.handle(mc.Press(Key.DIGIT_7))
    assert m.awaiting == AgentStats()
    assert m.handle(mc.Replied(ShowPending(), Pending(()))) == []
    assert m.mode is mc.Mode.BUSY
    m.handle(mc.Replied(AgentStats(), AgentFigures(100, 0, 0, ())))
    assert m.mode is mc.Mode.RESULT
    assert m.handle(mc.Replied(AgentStats(), AgentFigures(100, 0, 0, ()))) == []  # once only


def test_card_flows_read_the_card_for_their_purpose_and_pay_with_it():
    owner = CARD_OWNER
    m = signed_on()
    m.handle(mc.Press(Key.DIGIT_4))
    assert m.handle(OK)[-1] == mc.Do(ReadCard(CardPurpose.PURCHASE))
    assert "卡号5A00000100000005  购电次数3" in reply(m, owner)[-1].screen.lines
    m.handle(OK)
    keys(m, "100")
    m.handle(OK)
    assert m.handle(OK)[-1] == mc.Do(
        Pay(PayFlow.CARD, Tender(10000, 10000), owner.customer, owner.card)
    )

    blank = BlankCard(CardInHand("5a00000100000015"))
    for digit, flow, tender in (
        (Key.DIGIT_2, PayFlow.OPEN, Tender(5000, 5000)),
        (Key.DIGIT_3, PayFlow.REISSUE, Tender(2000, 2000)),  # the reissue fee
    ):
        m = signed_on()
        m.handle(mc.Press(Key.DIGIT_5))
        m.handle(mc.Press(digit))
        keys(m, "0100000015")
        m.handle(OK)
        assert m.handle(OK)[-1] == mc.Do(ReadCard(CardPurpose.BLANK))
        if flow is PayFlow.OPEN:
            assert reply(m, blank)[-1].screen.entry == "首次购电金额（元，可为0）: _"
            keys(m, "50")
            m.handle(OK)
        else:
            assert "缴费20.00元  收现金20.00元  找零0.00元" in reply(m, blank)[-1].screen.lines
        assert m.handle(OK)[-1] == mc.Do(Pay(flow, tender, Customer("0100000015"), blank.card))


def test_meter_reading_bills_then_pays_the_billed_customer():
    m = signed_on()
    m.handle(mc.Press(Key.DIGIT_6))
    keys(m, "0100000123")
    m.handle(OK)
    keys(m, "23606.5")
    assert m.handle(OK)[-1] == mc.Do(BillReading("0100000123", 236065))
    billed = MeterBilled(replace(CUSTOMER, due_fen=21133), kwh=150, billed_fen=7925)
    assert reply(m, billed)[-1].screen.lines == (
        "户名: 王秀英",
        "本月电量150度，电费79.25元",
        "应缴: 211.33元",
    )
    m.handle(OK)
    keys(m, "211.33")
    m.handle(OK)
    assert m.handle(OK)[-1] == mc.Do(Pay(PayFlow.BILL, exact(21133, 21133), billed.customer))


def sample_replies():
    """(request, reply) for every reply type: ASCII data, so any Chinese on an English screen
    comes from the code, not the sample."""
    person = Customer("0100000123", "Wang", "Stone Gate 18", due_fen=13208, arrears_fen=13208)
    card = CardInHand("5a00000100000005", 3)
    said = (Said("x", "Card type: user card"),)
    pay = Pay(PayFlow.BILL, Tender(14000, 15000, 13208), person)
    owed = PendingItem("T/001/000007", "reversal", "0100000123", 6000, 7, 3, link="not connected")
    return [
        (SignOn("1", "2"), Failed(code="55")),
        (pay, Failed(link="not connected")),
        (ReadCard(CardPurpose.PURCHASE), Failed(code="15")),
        (ReadCard(CardPurpose.BLANK), Failed(code="no_card_reader")),
        (AgentStats(), Done()),
        (SignOn("1", "2"), SignedOn("agent", 1)),
        (FindCustomer("0100000123"), CustomerFound(person)),
        (BillReading("0100000123", 10), MeterBilled(person, 150, 7925)),
        (ReadCard(CardPurpose.DIAGNOSE), CardDiagnosed(said)),
        (ReadCard(CardPurpose.BLANK), BlankCard(card)),
        (ReadCard(CardPurpose.PURCHASE), CardOwner(person, card)),
        (ReadCard(CardPurpose.PURCHASE), CardRefused(said)),
        (ReadCard(CardPurpose.BLANK), CardRefused(need_blank=True)),
        (pay, Paid(PayOutcome.APPROVED, "T/1/1")),
        (pay, Paid(PayOutcome.CARD_PULLED, "T/1/1")),
        (ResumeCardWrite("T/1/1"), Paid(PayOutcome.HAND_BACK_CASH, "T/1/1", why="no_answer")),
        (AgentStats(), AgentFigures(2986000, 1, 14000, (PostedToday(datetime.now(), "1", 1),))),
        (Reconcile(None), ReconcileFigures(date(2026, 11, 1), date(2026, 11, 22), 2, 24000)),
        (Settle(), Settled(True, 1, 2, 2, 24000)),
        (Settle(), Settled(False, 1, None, 2, 24000, ("T/001/000007 only here",))),
        (Settle(), SettleBlocked()),
        (ShowPending(), Pending((owed, replace(owed, what="unknown", failures=0)))),
        (ShowPending(), Pending(())),
        (CheckNetwork(), NetworkChecked(True, 812)),
        (CheckNetwork(), NetworkChecked(False, code="A1")),
        (CheckNetwork(), NetworkChecked(False, link="not connected")),
        (CheckPrinter(), PrinterChecked(True)),
        (CheckPrinter(), PrinterChecked(False, "printer_no_paper")),
        (CheckJournal(), JournalChecked(True, 42)),
        (CheckJournal(), JournalChecked(False, reason="entry 7 altered")),
        (Reprint(), Reprinted(True)),
        (Reprint(), Reprinted(False, "nothing_to_reprint")),
        (DownloadRouteBook(), RouteBookLoaded(72, 2, 1800, "Stone Gate")),
        (FindCustomer("0100000123"), CustomerFound(replace(person, offline=True))),
        (FindCustomer("0100000123"), Failed(code="off_not_in_book")),
        (pay, Paid(PayOutcome.APPROVED, "T/1/1", printed=True, offline_serial=3)),
        (ShowPending(), Pending((replace(owed, what="offline_credit", failures=0),))),
        *cancel_samples(),
    ]


def test_every_reply_type_reaches_a_screen_in_both_languages():
    samples = sample_replies()
    assert {type(r) for _, r in samples} == set(get_args(Reply))  # a new reply needs a sample
    for locale in ("zh_CN", "en"):
        for request, answer in samples:
            m = signed_on()
            m.locale = locale
            m.flow = mc.Flow.DIAG if isinstance(answer, CardDiagnosed) else mc.Flow.PAY
            m.job.tender = Tender(14000, 15000, 13208)
            m.mode, m.awaiting = mc.Mode.BUSY, request
            shows = [c for c in m.handle(mc.Replied(request, answer)) if isinstance(c, mc.Show)]
            assert shows, (request, answer)
            screen = shows[-1].screen
            assert screen.mode != "busy", (request, answer)
            words = " ".join((screen.title, *screen.lines, screen.hint))
            assert screen.lines or screen.entry or screen.mode == "main", (answer, screen)
            if locale == "en":
                assert not HAN.search(" ".join(screen.lines)), (answer, screen.lines)
            assert "{" not in words and "state_" not in words, words


def test_pending_lines_say_what_is_owed_in_plain_words():
    """Each kind of owed item in both languages, then the tries and why they failed."""
    expected = {
        "reversal": ("冲正待上送", "reversal to send"),
        "completion": ("交易确认待上送", "completion to send"),
        "upload": ("离线缴费待上传", "offline payment to upload"),
    }
    for kind, (zh, en) in expected.items():
        owed = PendingItem("T/001/000007", kind, "0100000123", 6000, 7)
        assert wording.pending_line(owed, "zh_CN") == f"{zh} 户号0100000123 60.00元 流水000007"
        assert wording.pending_line(owed, "en") == (
            f"{en}: customer 0100000123 60.00 yuan, trace 000007"
        )
    tried = PendingItem("T/001/000007", "reversal", "0100000123", 6000, 7, 3, code="96")
    assert wording.pending_line(tried, "zh_CN") == (
        "冲正待上送 户号0100000123 60.00元 流水000007（已尝试3次：主站系统故障，请稍后再试）"
    )


# --- wrapping: an amount stays with its unit, nothing is lost, no line is too wide ----------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from terminal.core.receipt import fit, width  # noqa: E402

CJK = "找零实收元转入下月电费缴请退还现金度户名地址"
PUNCT = "，。：；、（）"
UNITS = ("元", "度", "kWh", " yuan")
AMOUNTS = st.tuples(
    st.integers(0, 999999), st.integers(0, 99), st.sampled_from(UNITS), st.booleans()
).map(lambda a: f"{a[0]}.{a[1]:02d}{a[2]}" if a[3] else f"{a[0]}{a[2]}")
# Beside an amount: something that ends a number (a Chinese character, punctuation or a space).
BESIDE = st.sampled_from([*CJK, *PUNCT, " ", "  "])
OTHER = st.text(alphabet=CJK + PUNCT + " abcXYZ019.:-=", max_size=12)


def boundaries(lines: list[str], text: str) -> list[tuple[int, int]]:
    """Where each line lies in ``text``; fails unless the lines are the text broken at spaces
    or between characters, with only the spaces at a break left out."""
    spans, pos = [], 0
    for number, line in enumerate(lines):
        if number:
            while pos < len(text) and text[pos].isspace() and not text.startswith(line, pos):
                pos += 1
        assert text.startswith(line, pos), (lines, text)
        spans.append((pos, pos + len(line)))
        pos += len(line)
    assert text[pos:].strip() == "", (lines, text)  # only spaces at the end may go
    return spans


@given(
    st.text(alphabet=CJK + PUNCT + " \u3000abcXYZ0123456789.:-=（）", max_size=120),
    st.integers(2, 48),
)
def test_wrapping_keeps_every_line_within_the_width_and_loses_no_text(text, columns):
    lines = fit(text, columns)
    assert all(width(line) <= columns for line in lines), lines
    boundaries(lines, text)
    if width(text) <= columns:
        assert lines == [text]
    else:
        assert all(line.strip() for line in lines[1:])  # no empty line from a break


@given(
    st.lists(st.tuples(OTHER, BESIDE, AMOUNTS, BESIDE), min_size=1, max_size=6), st.integers(2, 48)
)
def test_an_amount_and_its_unit_stay_on_one_line_when_they_fit(parts, columns):
    text, amounts = "", []
    for other, before, amount, after in parts:
        text += other + before
        amounts.append((len(text), len(text) + len(amount), amount))
        text += amount + after
    lines = fit(text, columns)
    spans = boundaries(lines, text)
    for start, end, amount in amounts:
        if width(amount) <= columns:
            assert any(a <= start and end <= b for a, b in spans), (amount, lines)


def test_the_payment_screens_keep_amounts_whole():
    """The two lines the field saw broken: 找 / 零10.00元 and 7.92 / 元转入下月电费."""
    for text, whole in (
        ("缴费140.00元  收现金150.00元  找零10.00元", ["找零10.00元", "收现金150.00元"]),
        ("实收140.00元，找零10.00元，7.92元转入下月电费", ["7.92元转入下月电费", "找零10.00元"]),
    ):
        screen = mc.Screen("缴费", (text,))
        lines = text_lines(screen, Status())
        assert all(width(line) <= 32 for line in lines)
        for part in whole:
            assert any(part in line for line in lines), lines


def test_status_bar_says_what_the_modem_waits_for_and_low_power_within_the_width():
    """The wait and its seconds replace 在线/离线; paper then the clock give way, never the wait
    or what is owed."""
    from ui.render import COLUMNS, status_line

    now = datetime(2026, 11, 30, 6, 7)
    waiting = Status(bars=2, pending=1, time=now, waiting="wait_network", waiting_s=35)
    line = status_line(waiting)
    assert "正在搜索网络35秒" in line and "待1" in line and "离线" not in line
    assert width(line) <= COLUMNS
    low = status_line(replace(waiting, low_power=True))
    assert "电量低" in low and "待1" in low and width(low) <= COLUMNS
    assert ":" not in low  # the clock gave way before anything the operator must know
    calm = status_line(Status(bars=3, link_up=True, time=now))
    assert calm.startswith("▂▄▆_ 在线") and ":" in calm
    english = status_line(replace(waiting, locale="en", waiting="wait_sim", waiting_s=3))
    assert "waiting for the SIM card 3s" in english
