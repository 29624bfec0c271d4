"""Measured sizes of typical messages, for ``docs/protocol.md`` and the benchmark.

``python -m terminal.tools.sizes`` prints the table; ``--markdown`` prints it as it appears in the
protocol document (a test checks the two agree, so the document cannot drift from the codec).
A "typical" message carries what the station or terminal really sends in the common case: a
customer with a Chinese name and address and two unpaid months, a MAC on everything that
moves money.
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime

from terminal.protocol import messages as m
from terminal.protocol.cardgrant import CardGrant, GrantKind
from terminal.protocol.framing import frame
from terminal.protocol.records import (
    Amount,
    Bill,
    KeyBlock,
    ListingEntry,
    MeterInfo,
    MeterKind,
    PaymentRecord,
    StationCommand,
    Summary,
    TerminalStatus,
    TxnKind,
)

_T = "T0000001"
_WHEN = datetime(2026, 11, 22, 8, 30, tzinfo=UTC)
_CUSTOMER = "0100000123"
_SERIAL = bytes.fromhex("5A00000000000123")
_METER = MeterInfo(MeterKind.POSTPAID, "000011112222", 0)
_CARD_METER = MeterInfo(MeterKind.CARD_PREPAID, "000011113333", 4)
_DIGEST = bytes.fromhex("0123456789abcdef")


def typical_messages() -> list[m.Message]:
    """One typical message of every type, requests before their responses."""
    grant = CardGrant(GrantKind.PURCHASE, _SERIAL, _CUSTOMER, "000011113333", 5, 10000)
    bills = (Bill(202609, 132, 7035, 0), Bill(202610, 118, 6289, 0))
    return [
        m.SignOnRequest(terminal_id=_T, trace=1, account="agent01", password=bytes(16)),
        m.SignOnResponse(
            trace=2,
            batch=12,
            time=_WHEN,
            keys=KeyBlock(bytes(16), bytes(4)),
            amounts={Amount.AGENT_LIMIT: 2_000_000, Amount.OFFLINE_LIMIT: 50_000},
            name="城关镇代收点",
        ),
        m.InquiryRequest(terminal_id=_T, batch=12, trace=2, customer_no=_CUSTOMER),
        m.InquiryResponse(
            batch=12,
            trace=2,
            customer_no=_CUSTOMER,
            name="王秀英",
            address="青山乡石门村三组18号",
            meter=_METER,
            amounts={Amount.DUE: 13324, Amount.CREDIT: 0},
            bills=bills,
        ),
        m.InquiryRequest(
            processing=m.Processing.CUSTOMER_HISTORY,
            terminal_id=_T,
            batch=12,
            trace=3,
            customer_no=_CUSTOMER,
        ),
        m.InquiryResponse(
            processing=m.Processing.CUSTOMER_HISTORY,
            batch=12,
            trace=3,
            customer_no=_CUSTOMER,
            name="王秀英",
            address="青山乡石门村三组18号",
            meter=_METER,
            amounts={Amount.DUE: 13324, Amount.CREDIT: 0, Amount.ARREARS: 13324},
            bills=tuple(Bill(202600 + month, 120, 6500, 6500) for month in range(1, 13)),
            payments=tuple(PaymentRecord(date(2026, month, 5), 6500) for month in range(1, 11)),
        ),
        m.FinancialRequest(
            terminal_id=_T, batch=12, trace=4, amount_fen=13400, customer_no=_CUSTOMER
        ),
        m.FinancialResponse(
            batch=12,
            trace=4,
            station_ref=80123,
            amounts={Amount.CREDIT: 76, Amount.AGENT_LIMIT: 1_986_600},
        ),
        m.FinancialRequest(
            processing=m.Processing.CARD_PURCHASE,
            terminal_id=_T,
            batch=12,
            trace=5,
            amount_fen=10000,
            customer_no=_CUSTOMER,
            card_serial=_SERIAL,
            meter=_CARD_METER,
        ),
        m.FinancialResponse(
            processing=m.Processing.CARD_PURCHASE,
            batch=12,
            trace=5,
            station_ref=80124,
            amounts={Amount.AGENT_LIMIT: 1_976_600},
            grant=grant.signed(bytes(16)),
        ),
        m.AdviceRequest(
            terminal_id=_T,
            batch=12,
            trace=4,
            amount_fen=13400,
            customer_no=_CUSTOMER,
            time=_WHEN,
        ),
        m.AdviceResponse(batch=12, trace=4),
        m.ReversalRequest(
            terminal_id=_T, batch=12, trace=4, amount_fen=13400, customer_no=_CUSTOMER
        ),
        m.ReversalResponse(batch=12, trace=4),
        m.SettlementRequest(
            terminal_id=_T, batch=12, trace=40, amount_fen=1_234_500, summary=Summary(96, _DIGEST)
        ),
        m.SettlementResponse(batch=13, trace=41),
        m.DetailRequest(terminal_id=_T, batch=12, trace=42, range=(1, 48)),
        m.DetailResponse(
            batch=12, trace=42, range=(1, 48), amount_fen=617_000, summary=Summary(48, _DIGEST)
        ),
        m.DetailResponse(
            processing=m.Processing.DETAIL_LISTING,
            batch=12,
            trace=43,
            range=(1, 6),
            listing=tuple(ListingEntry(t, TxnKind.BILL_PAYMENT, 13400) for t in range(1, 7)),
        ),
        m.HeartbeatRequest(
            terminal_id=_T,
            trace=44,
            status=TerminalStatus(18, True, 80, 0, 0x1A2B, 0x3C4D5E),
            version="0.1.0",
        ),
        m.HeartbeatResponse(trace=44, time=_WHEN, command=StationCommand.NONE),
    ]


def _label(message: m.Message) -> str:
    processing = getattr(message, "processing", None)
    name = processing.name.lower().replace("_", " ") if processing is not None else ""
    return f"{message.mti} {name}"


def measure() -> list[tuple[str, int]]:
    """(label, framed size in bytes with MAC) of every typical message."""
    return [(_label(msg), len(frame(m.encode(msg, bytes(16))))) for msg in typical_messages()]


def payment_bytes() -> dict[str, int]:
    """Application bytes of one cash bill payment: inquiry, payment, completion, both ways."""
    sizes = dict(measure())
    parts = {
        "inquiry": sizes["0100 customer"] + sizes["0110 customer"],
        "payment": sizes["0200 bill payment"] + sizes["0210 bill payment"],
        "completion": sizes["0220 bill payment"] + sizes["0230 bill payment"],
    }
    parts["total"] = sum(parts.values())
    return parts


_ENCODING = {
    "num": "packed BCD",
    "bin": "binary",
    "ascii": "ASCII",
    "text": "GB18030",
}


def field_table() -> str:
    """The field table of docs/protocol.md, from ``terminal.protocol.wirespec``."""
    from terminal.protocol.wirespec import FIELDS

    lines = ["| field | name | encoding | bytes | meaning |", "|---:|---|---|---|---|"]
    for f in FIELDS:
        size = f"1 + up to {f.size}" if f.var else str(f.size)
        lines.append(f"| {f.number} | {f.name} | {_ENCODING[f.kind]} | {size} | {f.meaning} |")
    return "\n".join(lines)


def message_table() -> str:
    """Which fields each message carries: M mandatory, C conditional (see the text)."""
    import dataclasses

    from terminal.protocol.wirespec import BY_NAME

    lines = ["| MTI | message | fields (M mandatory, C conditional) |", "|---|---|---|"]
    for cls in m.MESSAGE_TYPES:
        parts = []
        wire = [f for f in dataclasses.fields(cls) if f.name in BY_NAME]
        for f in sorted(wire, key=lambda f: BY_NAME[f.name].number):
            flag = "C" if f.default is None else "M"
            parts.append(f"{BY_NAME[f.name].number} {f.name} {flag}")
        mti = cls.MTI + (f"/{cls.REPEAT_MTI}" if cls.REPEAT_MTI else "")
        lines.append(f"| {mti} | {cls.__name__} | {', '.join(parts)}, 64 mac |")
    return "\n".join(lines)


def markdown() -> str:
    lines = ["| message | bytes |", "|---|---:|"]
    lines += [f"| {label} | {size} |" for label, size in measure()]
    pay = payment_bytes()
    lines.append("")
    lines.append(
        f"One cash bill payment: inquiry {pay['inquiry']} + payment {pay['payment']} + "
        f"completion {pay['completion']} = **{pay['total']} bytes** of application data."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m terminal.tools.sizes", description=__doc__)
    parser.add_argument("--markdown", action="store_true", help="print the tables for the docs")
    args = parser.parse_args(argv)
    if args.markdown:
        print(field_table(), message_table(), markdown(), sep="\n\n")
        return 0
    for label, size in measure():
        print(f"{label:<28} {size:>4} bytes")
    for part, size in payment_bytes().items():
        print(f"payment {part:<20} {size:>4} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
