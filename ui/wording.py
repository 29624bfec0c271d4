"""The terminal's answers put into the operator's words: typed facts in, screen lines out.

The shell replies with facts (codes, fen, counts, text keys), never sentences, so that the
language switch on the admin menu reaches every screen and each sentence is written once, in
``ui.texts``. Every function here is pure: a reply and a locale in, lines out.
"""

from __future__ import annotations

from collections.abc import Iterable

from terminal.core.cash import Tender
from terminal.core.money import yuan
from terminal.core.requests import (
    AgentFigures,
    CardOwner,
    Customer,
    Explained,
    Failed,
    JournalChecked,
    MeterBilled,
    NetworkChecked,
    Paid,
    Pending,
    PendingItem,
    PrinterChecked,
    ReconcileFigures,
    Reprinted,
    RouteBookLoaded,
    Settled,
)
from terminal.protocol.responses import describe
from ui.texts import TEXTS, t

OWED = ("reversal", "completion", "upload")  # outbox items; any other ``what`` is an open state
NOTED = ("offline_credit",)  # reported facts, worded like the outbox items


def money(fen: int, locale: str) -> str:
    return t("yuan", locale, amount=yuan(fen))


def month(yyyymm: int) -> str:
    return f"{yyyymm // 100}-{yyyymm % 100:02d}"


def labelled(key: str, value: str, locale: str) -> str:
    return f"{t(key, locale)}: {value}"


def reason(key: str, locale: str) -> str:
    """A reason the shell gave as a text key is said in words; anything else is shown as it came
    (a driver's own message)."""
    return t(key, locale)


def failure(failed: Failed, locale: str) -> str:
    """Why a request did not happen: the link problem, the terminal's own refusal (a text key,
    such as no card reader), or the station's answer in words."""
    if failed.link:
        return reason(failed.link, locale)
    if failed.code in TEXTS:
        return t(failed.code, locale)
    return describe(failed.code, locale)


def failed_lines(failed: Failed, locale: str) -> list[str]:
    if failed.link:
        return [t("no_station", locale, reason=failure(failed, locale))]
    return [t("declined", locale, text=failure(failed, locale))]


# --- customers ----------------------------------------------------------------------------------


def due_lines(c: Customer, locale: str) -> list[str]:
    """Name, address, the unpaid bills and what is due: the screen before taking cash."""
    lines = [labelled("name", c.name, locale), labelled("address", c.address, locale)]
    for bill in c.bills:
        lines.append(
            t("bill_due", locale, month=month(bill.month), kwh=bill.kwh, amount=yuan(bill.due_fen))
        )
    lines.append(
        f"{labelled('due', money(c.due_fen, locale), locale)}  "
        f"{labelled('credit', money(c.credit_fen, locale), locale)}"
    )
    return lines


def history_lines(c: Customer, locale: str) -> list[str]:
    """The customer query: twelve months of bills, paid or not, and recent payments."""
    lines = [
        labelled("name", c.name, locale),
        labelled("address", c.address, locale),
        f"{labelled('arrears', money(c.arrears_fen, locale), locale)}  "
        f"{labelled('credit', money(c.credit_fen, locale), locale)}",
    ]
    for bill in c.bills:
        state = t("paid" if bill.paid_fen >= bill.amount_fen else "unpaid", locale)
        lines.append(
            t(
                "bill_line",
                locale,
                month=month(bill.month),
                kwh=bill.kwh,
                amount=yuan(bill.amount_fen),
                state=state,
            )
        )
    if c.payments:
        lines.append(t("payments", locale) + ":")
        lines += [
            t("payment_line", locale, day=str(p.day), amount=yuan(p.amount_fen)) for p in c.payments
        ]
    return lines


def meter_lines(billed: MeterBilled, locale: str) -> list[str]:
    c = billed.customer
    return [
        labelled("name", c.name, locale),
        t("billed", locale, kwh=billed.kwh, amount=yuan(billed.billed_fen)),
        labelled("due", money(c.due_fen, locale), locale),
    ]


def owner_lines(owner: CardOwner, locale: str) -> list[str]:
    c = owner.customer
    return [
        f"{c.customer_no} {c.name}",
        labelled("address", c.address, locale),
        t("card_info", locale, serial=owner.card.serial.upper(), count=owner.card.purchase_count),
    ]


def findings(found: Iterable[Explained], locale: str) -> list[str]:
    return [f.text(locale) for f in found]


# --- money --------------------------------------------------------------------------------------


def roundup_line(offer: Tender, locale: str) -> str:
    return t(
        "roundup",
        locale,
        amount=yuan(offer.amount_fen),
        change=yuan(offer.change_fen),
        credit=yuan(offer.credit_fen),
    )


def confirm_lines(customer: Customer | None, tender: Tender, locale: str) -> list[str]:
    who = f"{customer.customer_no} {customer.name}" if customer else ""
    pay = t(
        "pay_line",
        locale,
        amount=yuan(tender.amount_fen),
        cash=yuan(tender.cash_fen),
        change=yuan(tender.change_fen),
    )
    return [who, pay]


def approved_lines(paid: Paid, tender: Tender, card_written: bool, locale: str) -> list[str]:
    # Taken offline: nothing is approved yet, the receipt says it will be confirmed.
    lines = [t("off_taken", locale, serial=paid.offline_serial)] if paid.offline_serial else []
    lines = lines or [t("approved", locale)]
    if tender.change_fen > 0:
        lines.append(t("give_change", locale, change=yuan(tender.change_fen)))
    if card_written:
        lines.append(t("card_done", locale))
    if paid.printed:
        lines.append(t("receipt_printed", locale))
    else:
        why = reason(paid.print_reason or "no_printer", locale)
        lines.append(t("receipt_not_printed", locale, reason=why))
    return lines


HAND_BACK_TEXTS = {
    "card_not_written": "card_not_written_hand_back_cash",
    "card_other": "card_other_hand_back_cash",
    "card_given_up": "card_given_up_hand_back_cash",
}


def hand_back_lines(paid: Paid, tender: Tender, locale: str) -> list[str]:
    key = HAND_BACK_TEXTS.get(paid.why, "reversal_hand_back_cash")
    return [t(key, locale, cash=yuan(tender.cash_fen))]


# --- statistics, settlement, pending, checks ----------------------------------------------------


def figures_lines(figures: AgentFigures, locale: str) -> list[str]:
    lines = [
        t("limit", locale, limit=yuan(figures.limit_fen)),
        t("today", locale, count=figures.count, total=yuan(figures.total_fen)),
    ]
    for posted in figures.today:
        lines.append(
            t(
                "posted_line",
                locale,
                time=f"{posted.time:%H:%M}",
                customer=posted.customer_no,
                amount=yuan(posted.amount_fen),
            )
        )
    return lines


def reconcile_lines(figures: ReconcileFigures, locale: str) -> list[str]:
    return [
        f"{figures.first:%y%m%d}-{figures.last:%y%m%d}",
        t("reconciled", locale, count=figures.count, total=yuan(figures.total_fen)),
    ]


def settled_lines(settled: Settled, locale: str) -> list[str]:
    if settled.balanced:
        head = t(
            "settled",
            locale,
            result=t("balanced", locale),
            batch=settled.batch,
            next=settled.next_batch,
            count=settled.count,
            total=yuan(settled.total_fen),
        )
    else:
        head = t("unsettled", locale, count=len(settled.differences))
    return [head, *settled.differences]


def pending_line(item: PendingItem, locale: str) -> str:
    """One owed message (with its failed tries) or one transaction still unresolved."""
    if item.what not in OWED + NOTED:
        state = t(f"state_{item.what}", locale)
        if state == f"state_{item.what}":
            state = item.what  # a state without words of its own is shown by name
        return t("pending_open", locale, txn=item.txn.split("/", 1)[-1], state=state)
    line = t(
        f"pending_{item.what}",
        locale,
        customer=item.customer_no,
        amount=yuan(item.amount_fen),
        trace=f"{item.trace:06d}",
    )
    if item.failures:
        problem = describe(item.code, locale) if item.code else reason(item.link, locale)
        line += t("pending_tries", locale, n=item.failures, problem=problem)
    return line


def pending_lines(pending: Pending, locale: str) -> list[str]:
    return [pending_line(i, locale) for i in pending.items] or [t("nothing_pending", locale)]


def network_lines(checked: NetworkChecked, locale: str) -> list[str]:
    if checked.ok:
        return [t("network_ok", locale, ms=checked.round_trip_ms)]
    if checked.link:
        return [t("network_bad", locale, reason=reason(checked.link, locale))]
    return [describe(checked.code, locale)]


def printer_lines(checked: PrinterChecked, locale: str) -> list[str]:
    if checked.ok:
        return [t("printer_ok", locale)]
    return [t("printer_bad", locale, reason=reason(checked.reason or "no_printer", locale))]


def journal_lines(checked: JournalChecked, locale: str) -> list[str]:
    if checked.ok:
        return [t("journal_ok", locale, count=checked.entries)]
    return [t("journal_bad", locale, reason=reason(checked.reason, locale))]


def reprint_lines(done: Reprinted, locale: str) -> list[str]:
    if done.ok:
        return [t("reprinted", locale)]
    if done.reason == "nothing_to_reprint":
        return [t("nothing_to_reprint", locale)]
    return [t("printer_bad", locale, reason=reason(done.reason or "no_printer", locale))]


def route_book_lines(loaded: RouteBookLoaded, locale: str) -> list[str]:
    return [
        t(
            "routebook_loaded",
            locale,
            village=loaded.route,
            customers=loaded.customers,
            pages=loaded.pages,
            bytes=loaded.bytes,
        )
    ]
