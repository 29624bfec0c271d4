"""Card diagnosis (电卡诊断): every field of a card, explained in plain words.

Pure: the card's data (or the error reading it) in, findings out. The most useful finding for
an electrician is the comparison of the card's purchase count with the meter's, written back by
the meter in the return file: one more on the card means the last purchase is still waiting to
be loaded into the meter.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.card import profile as p
from terminal.core.money import yuan


@dataclass(frozen=True)
class Finding:
    """One thing the card says, with its meaning in both languages."""

    code: str
    zh: str
    en: str
    problem: bool = False

    def text(self, locale: str = "zh_CN") -> str:
        return self.zh if locale == "zh_CN" else self.en


TYPE_NAMES = {
    p.CardType.BLANK: ("空白卡（未开户）", "blank card (not issued)"),
    p.CardType.USER: ("用户卡", "user card"),
    p.CardType.OPEN: ("开户卡（尚未插表）", "newly opened card (not yet in the meter)"),
    p.CardType.REISSUE: ("补办卡（尚未插表）", "reissued card (not yet in the meter)"),
    p.CardType.CHECK: ("检查卡", "check card"),
    p.CardType.PARAMETER: ("参数卡", "parameter card"),
}

STATUS_TEXT = {
    p.MeterStatus.RELAY_OPEN: ("电表已断电（余额用完），请购电", "supply cut off (no credit): buy"),
    p.MeterStatus.LOW_CREDIT: ("电表余额不足，请及时购电", "credit low: buy soon"),
    p.MeterStatus.COVER_OPENED: ("电表表盖曾被打开，请上报", "meter cover was opened: report it"),
    p.MeterStatus.CARD_REJECTED: ("电表拒绝了此卡（卡与表不符）", "the meter refused this card"),
}

FAULT_TEXT = {
    p.MeterFault.CLOCK: ("电表时钟故障", "meter clock fault"),
    p.MeterFault.MEMORY: ("电表存储故障", "meter memory fault"),
    p.MeterFault.BATTERY: ("电表电池欠压", "meter battery low"),
    p.MeterFault.METERING: ("电表计量故障", "metering fault"),
}


def diagnose_error(error: Exception) -> list[Finding]:
    """Findings for a card that could not be read."""
    text = str(error)
    if "not a purchase card" in text:
        return [
            Finding(
                "unknown_card",
                "不是本系统的购电卡，请换卡",
                "Not a purchase card of this system",
                True,
            )
        ]
    if "left the reader" in text or "no card" in text:
        return [
            Finding("no_card", "未检测到卡片，请插卡", "No card in the reader: insert it", True)
        ]
    return [
        Finding(
            "corrupt_card",
            "卡片数据损坏，无法读取，请持卡到营业厅处理",
            f"Card data corrupt ({text}): take it to the service hall",
            True,
        )
    ]


def diagnose(card: p.CardData) -> list[Finding]:
    out: list[Finding] = []
    zh, en = TYPE_NAMES[card.info.type]
    out.append(Finding("type", f"卡类型：{zh}", f"Card type: {en}"))
    out.append(
        Finding(
            "serial",
            f"卡号：{card.info.serial.hex().upper()}",
            f"Card serial: {card.info.serial.hex().upper()}",
        )
    )
    if card.info.type == p.CardType.BLANK:
        out.append(Finding("blank", "空白卡，可用于开户或补卡", "Blank: can be opened or reissued"))
        return out
    if card.customer is None:
        out.append(Finding("no_customer", "卡上无户号，卡片异常", "No customer on the card", True))
    else:
        out.append(
            Finding(
                "customer",
                f"户号：{card.customer.customer_no}",
                f"Customer: {card.customer.customer_no}",
            )
        )
        out.append(
            Finding("meter", f"表号：{card.customer.meter_no}", f"Meter: {card.customer.meter_no}")
        )
    count = card.purchase_count
    last = card.purchase
    if last is None:
        out.append(Finding("no_purchase", "卡上无购电记录", "No purchase on the card yet"))
    else:
        out.append(
            Finding(
                "purchase",
                f"购电次数：{count}，最近一次 {yuan(last.amount_fen)}元",
                f"Purchases: {count}, last {yuan(last.amount_fen)} yuan",
            )
        )
    if card.info.type in (p.CardType.OPEN, p.CardType.REISSUE):
        out.append(
            Finding(
                "not_in_meter",
                "新卡尚未插入电表，请先插表",
                "New card not yet inserted into the meter: insert it",
                True,
            )
        )
    back = card.meter_return
    if back is None:
        out.append(
            Finding(
                "no_return",
                "电表尚未回写数据（卡未插过表）",
                "The meter has not written back (card never in the meter)",
            )
        )
        return out
    when = back.time.strftime("%Y-%m-%d %H:%M") if back.time else "未知"
    out.append(
        Finding(
            "remaining",
            f"电表剩余金额：{yuan(back.remaining_fen)}元（{when}回写）",
            f"Meter credit: {yuan(back.remaining_fen)} yuan (written {when})",
        )
    )
    out.append(
        Finding(
            "meter_count",
            f"电表购电次数：{back.meter_count}",
            f"Purchases loaded by the meter: {back.meter_count}",
        )
    )
    out.append(_compare_counts(count, back.meter_count))
    for flag, (zh_text, en_text) in STATUS_TEXT.items():
        if back.status & flag:
            out.append(Finding(f"status_{flag.name.lower()}", zh_text, en_text, True))
    for flag, (zh_text, en_text) in FAULT_TEXT.items():
        if back.faults & flag:
            out.append(Finding(f"fault_{flag.name.lower()}", zh_text, en_text, True))
    return out


def _compare_counts(card_count: int, meter_count: int) -> Finding:
    if card_count == meter_count:
        return Finding("loaded", "购电已全部输入电表", "All purchases are loaded into the meter")
    if card_count == meter_count + 1:
        return Finding(
            "not_loaded",
            "最近一次购电尚未输入电表，请将卡插入电表",
            "Last purchase not yet loaded into the meter: insert the card",
            True,
        )
    if card_count > meter_count + 1:
        return Finding(
            "count_gap",
            "卡上购电次数比电表多两次以上，异常，请联系供电公司",
            "Card is two or more purchases ahead of the meter: call the utility",
            True,
        )
    return Finding(
        "stale_card",
        "电表购电次数大于卡片，此卡可能是旧卡（已补卡）",
        "Meter is ahead of the card: this may be an old (replaced) card",
        True,
    )
