"""The receipt (票据) and the settlement slip as data, and their layout as lines of text.

Layout is pure — a receipt and a paper width in, lines out — so it is tested without a printer
and shared by the ESC/POS driver, the printer emulator's decoder and the screens. Receipts are
always in Chinese. CJK characters take two columns on a thermal printer; ``¥`` (U+00A5) is
never used because many printers' Chinese fonts lack it: amounts end in 元.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from terminal.core.money import yuan

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
    mac_key: bytes = field(default=b"", repr=False)

    @property
    def change_fen(self) -> int:
        return max(self.cash_fen - self.amount_fen, 0)

    @property
    def check_code(self) -> str:
        """A short verification code the utility can check a receipt against."""
        text = f"{self.receipt_no}|{self.customer_no}|{self.amount_fen}|{self.station_ref}"
        digest = hashlib.sha256(self.mac_key + text.encode()).hexdigest()
        return digest[:8].upper()


@dataclass(frozen=True)
class SettlementSlip:
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


def fit(text: str, columns: int) -> list[str]:
    """Break ``text`` into lines of at most ``columns`` printed columns."""
    lines, current, used = [], "", 0
    for ch in text:
        w = width(ch)
        if used + w > columns:
            lines.append(current)
            current, used = "", 0
        current += ch
        used += w
    if current or not lines:
        lines.append(current)
    return lines


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
    out += pair("校验码", receipt.check_code, columns)
    out.append(rule)
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
