"""The receipt (票据) and the settlement slip as data, and their layout as lines of text.

Layout is pure — a receipt and a paper width in, lines out — so it is tested without a printer
and shared by the ESC/POS driver, the printer emulator's decoder and the screens. Receipts are
always in Chinese. CJK characters take two columns on a thermal printer; ``¥`` (U+00A5) is
never used because many printers' Chinese fonts lack it: amounts end in 元.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from terminal.core.cash import Tender
from terminal.core.money import yuan
from terminal.protocol.messages import Processing
from terminal.protocol.receipt_code import receipt_no, verification_text

if TYPE_CHECKING:
    from terminal.core.engine import View
    from terminal.core.orders import Order

LOCAL_TZ = timezone(timedelta(hours=8), "CST")
COLUMNS = {58: 32, 80: 48}


@dataclass(frozen=True)
class ReceiptLine:
    """One month paid: YYYYMM, kWh, amount in fen."""

    month: int
    kwh: int
    amount_fen: int


@dataclass(frozen=True)
class Receipt:
    """A receipt's content: what the customer takes home, always in Chinese."""

    utility: str
    title: str  # 电费缴费凭证, 购电凭证, …
    receipt_no: str  # terminal/batch/trace
    terminal_id: str
    agent: str
    operator: str
    customer_no: str
    name: str
    address: str
    time: datetime  # UTC; printed in local time
    amount_fen: int  # posted by the station
    cash_fen: int = 0
    due_fen: int = 0
    credit_fen: int | None = None  # prepaid credit after the payment
    months: tuple[ReceiptLine, ...] = ()
    station_ref: int | None = None
    extra: tuple[tuple[str, str], ...] = ()  # e.g. (购电次数, 5)
    reprint: bool = False
    verify_code: str | None = None  # the station's code (field 37); None until it gave one
    notes: tuple[str, ...] = ()  # printed above the closing line (an offline payment's 待确认)

    @property
    def change_fen(self) -> int:
        return Tender(self.amount_fen, self.cash_fen).change_fen

    @property
    def qr_text(self) -> str | None:
        """What the QR code holds: terminal, receipt number, amount and the station's code, in
        the form the station's SMS number answers. None without a code: nothing to verify."""
        if not self.verify_code:
            return None
        return verification_text(
            self.terminal_id, self.receipt_no, self.amount_fen, self.verify_code
        )


@dataclass(frozen=True)
class SettlementSlip:
    """The slip printed when a batch is settled (扎帐), with any differences."""

    utility: str
    terminal_id: str
    agent: str
    operator: str
    batch: int
    count: int
    total_fen: int
    balanced: bool
    differences: tuple[str, ...]
    time: datetime


def width(text: str) -> int:
    """Printed columns: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


# Line breaking, as Chinese screens and receipts need it. Where a line may break, best first:
# 3 at a space (dropped at the break), after full-width punctuation or before an opening
# bracket; 2 around a run of Latin letters and digits, so before a number or after an amount;
# 1 between two Chinese characters, which may split a word (找/零). The best kind of break that
# still fills half the line is taken. A number with its unit (10.00元, 120度, 3kWh, 5 yuan) is
# one unbreakable piece, as is a Latin word; only a piece wider than the whole line is cut. A
# line never starts with closing punctuation nor ends with an opening bracket.
_WIDE_UNITS = ("元", "度")  # glued to the number before them; kWh is Latin and glued anyway
_SPACED_UNITS = (" yuan", " kWh")  # the English texts' units, after one space
_NO_START = set("，。、：；！？）》」』,.:;!?)]%")
_NO_END = set("（《「『([")
_BREAK_AFTER = set("，。、：；！？）》」』")


def _pieces(text: str) -> list[str]:
    """Unbreakable pieces: a run of spaces, a Latin run (with the unit after a number), one CJK."""
    pieces, i, n = [], 0, len(text)
    while i < n:
        j = i + 1
        if text[i].isspace():
            while j < n and text[j].isspace():
                j += 1
        elif width(text[i]) == 1:
            while j < n and not text[j].isspace() and width(text[j]) == 1:
                j += 1
            if text[j - 1].isdigit():
                if j < n and text[j] in _WIDE_UNITS:
                    j += 1
                else:
                    for unit in _SPACED_UNITS:
                        end = j + len(unit)
                        if text.startswith(unit, j) and (end == n or not _latin(text[end])):
                            j = end
                            break
        pieces.append(text[i:j])
        i = j
    return pieces


def _latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _break_kind(before: str, after: str) -> int:
    """How good a break between two pieces is: 0 not allowed, 1 weak, 2 good, 3 best."""
    if after.isspace():
        return 3  # the space itself is dropped at the break
    if before.isspace() or after[0] in _NO_START or before[-1] in _NO_END:
        return 0
    if before[-1] in _BREAK_AFTER or after[0] in _NO_END:
        return 3
    if width(before[-1]) == 1 or width(after[0]) == 1 or before[-1] in _WIDE_UNITS:
        return 2
    return 1


def fit(text: str, columns: int) -> list[str]:
    """Break ``text`` into lines of at most ``columns`` printed columns, at the best places.

    Nothing is lost but the spaces a line breaks at; a text that fits is returned as it is.
    """
    if width(text) <= columns:
        return [text]
    pieces = _pieces(text)
    lines: list[str] = []
    start = 0
    while start < len(pieces):
        if lines:
            while start < len(pieces) and pieces[start].isspace():
                start += 1
            if start == len(pieces):
                break
        breaks: dict[int, tuple[int, int, int]] = {}  # kind -> the last (end, next, width)
        used, k = 0, start
        while k < len(pieces):
            if k > start and (kind := _break_kind(pieces[k - 1], pieces[k])):
                breaks[kind] = (k, k + 1 if pieces[k].isspace() else k, used)
            if used + width(pieces[k]) > columns:
                break
            used += width(pieces[k])
            k += 1
        if k == len(pieces):
            lines.append("".join(pieces[start:]))
            break
        found = [breaks[kind] for kind in (3, 2, 1) if kind in breaks]
        chosen = next((b for b in found if 2 * b[2] >= columns), None)
        if chosen is None and found:
            chosen = max(found, key=lambda b: b[2])
        elif chosen is None and k == start:  # one piece wider than the line: cut it
            head, rest = _cut(pieces[k], columns)
            pieces[k : k + 1] = [head, rest] if rest else [head]
            chosen = (k + 1, k + 1, 0)
        elif chosen is None:  # no allowed break fits: break before the piece that overflows
            chosen = (k, k, used)
        end, following, _ = chosen
        lines.append("".join(pieces[start:end]))
        start = following
    return lines


def _cut(piece: str, columns: int) -> tuple[str, str]:
    """The longest head of ``piece`` that fits (at least one character), and the rest.

    Only a piece wider than the line comes here, so a head of one character is the only way a
    line can come out too wide: a character wider than the whole line.
    """
    used = 0
    for i, ch in enumerate(piece):
        used += width(ch)
        if used > columns:
            return piece[: max(i, 1)], piece[max(i, 1) :]
    return piece, ""


def pair(label: str, value: str, columns: int) -> list[str]:
    """Label on the left, value on the right; on two lines when they do not fit on one."""
    gap = columns - width(label) - width(value)
    if gap >= 1:
        return [label + " " * gap + value]
    return [
        *fit(label, columns),
        *(" " * max(columns - width(v), 0) + v for v in fit(value, columns)),
    ]


def center(text: str, columns: int) -> str:
    pad = max(columns - width(text), 0) // 2
    return " " * pad + text


def money(fen: int) -> str:
    return f"{yuan(fen)}元"


def receipt_lines(receipt: Receipt, paper_mm: int = 58) -> list[str]:
    columns = COLUMNS[paper_mm]
    rule = "-" * columns
    local = receipt.time.astimezone(LOCAL_TZ)
    out = [center(receipt.utility, columns), center(receipt.title, columns)]
    if receipt.reprint:
        out.append(center("（重打）", columns))
    out.append(rule)
    out += pair("票据号", receipt.receipt_no, columns)
    out += pair("终端", receipt.terminal_id, columns)
    out += pair("代收点", receipt.agent, columns)
    out += pair("操作员", receipt.operator, columns)
    out.append(rule)
    out += pair("户号", receipt.customer_no, columns)
    out += pair("户名", receipt.name, columns)
    out += fit("地址 " + receipt.address, columns)
    if receipt.months:
        out.append(rule)
        out += pair("月份  电量", "金额", columns)
        for line in receipt.months:
            label = f"{line.month // 100}-{line.month % 100:02d} {line.kwh}度"
            out += pair(label, money(line.amount_fen), columns)
    out.append(rule)
    for label, value in receipt.extra:
        out += pair(label, value, columns)
    if receipt.due_fen:
        out += pair("应缴金额", money(receipt.due_fen), columns)
    out += pair("实收金额", money(receipt.amount_fen), columns)
    if receipt.cash_fen:
        out += pair("收取现金", money(receipt.cash_fen), columns)
        out += pair("找零", money(receipt.change_fen), columns)
    if receipt.credit_fen is not None:
        out += pair("预存余额（结转下月）", money(receipt.credit_fen), columns)
    if receipt.station_ref is not None:
        out += pair("主站流水", str(receipt.station_ref), columns)
    out += pair("时间", local.strftime("%Y-%m-%d %H:%M:%S"), columns)
    if receipt.verify_code:
        out += pair("校验码", receipt.verify_code, columns)
        out += fit("凭校验码可查验真伪（扫码或短信）", columns)
    out.append(rule)
    for note in receipt.notes:
        out += fit(note, columns)
    out.append(center("请妥善保管此凭证", columns))
    return out


def settlement_lines(slip: SettlementSlip, paper_mm: int = 58) -> list[str]:
    columns = COLUMNS[paper_mm]
    rule = "-" * columns
    local = slip.time.astimezone(LOCAL_TZ)
    out = [center(slip.utility, columns), center("结算单", columns), rule]
    out += pair("终端", slip.terminal_id, columns)
    out += pair("代收点", slip.agent, columns)
    out += pair("操作员", slip.operator, columns)
    out += pair("批次号", f"{slip.batch:03d}", columns)
    out += pair("笔数", str(slip.count), columns)
    out += pair("金额合计", money(slip.total_fen), columns)
    out += pair("对账结果", "平" if slip.balanced else "不平", columns)
    for difference in slip.differences:
        out += fit(difference, columns)
    out += pair("时间", local.strftime("%Y-%m-%d %H:%M:%S"), columns)
    out.append(rule)
    return out


def test_page_lines(paper_mm: int = 58) -> list[str]:
    columns = COLUMNS[paper_mm]
    return [
        center("打印机测试页", columns),
        "-" * columns,
        "中文：供电公司电费缴费凭证",
        "English: ABC abc 0123456789",
        "金额：123.45元 ￥",
        "=" * columns,
        ("1234567890" * 5)[:columns],
    ]


# --- a transaction's receipt ------------------------------------------------------------------

TITLES = {
    Processing.BILL_PAYMENT: "电费缴费凭证",
    Processing.PREPAYMENT: "预存电费凭证",
    Processing.CARD_PURCHASE: "购电凭证",
    Processing.CARD_REISSUE: "补卡凭证",
    Processing.CARD_OPEN: "开卡凭证",
    Processing.OFFLINE_PAYMENT: "电费缴费凭证（离线）",
}


@dataclass(frozen=True)
class ReceiptHeader:
    """What a receipt says beyond the transaction: whose utility and collection point."""

    utility: str
    agent: str


def receipt_for(
    view: View, header: ReceiptHeader, printed_at: datetime, reprint: bool = False
) -> Receipt:
    """The receipt of one transaction: a function of its journal view and the station's answer.

    The time printed is the approval's, so a reprint shows the same time as the first print;
    ``printed_at`` is used only for a transaction the station never answered for.
    """
    order = view.order
    approval = view.approval or {}
    amounts = approval.get("amounts", {})
    grant = view.grant
    return Receipt(
        utility=header.utility,
        title=TITLES.get(order.processing, "缴费凭证"),
        receipt_no=receipt_no(order.batch, order.trace),
        terminal_id=order.terminal_id,
        agent=header.agent,
        operator=order.operator,
        customer_no=order.customer_no or "",
        name=order.name,
        address=order.address,
        time=datetime.fromisoformat(view.approved_at) if view.approved_at else printed_at,
        amount_fen=order.amount_fen,
        cash_fen=order.cash_fen,
        due_fen=order.due_fen,
        credit_fen=amounts.get("CREDIT"),
        months=tuple(ReceiptLine(*line) for line in order.bills),
        station_ref=approval.get("station_ref"),
        extra=(("购电次数", str(grant.count)),) if grant is not None else offline_extra(order),
        reprint=reprint,
        verify_code=approval.get("verify_code"),
        notes=OFFLINE_NOTES if order.offline_serial else (),
    )


# An offline payment's receipt: its own serial, and that the station has yet to confirm it.
OFFLINE_NOTES = ("离线收费：本笔缴费将在联网后上传供电公司确认，如有差额转入预存。",)


def offline_extra(order: Order) -> tuple[tuple[str, str], ...]:
    return (("离线序号", f"L{order.offline_serial:05d}"),) if order.offline_serial else ()
