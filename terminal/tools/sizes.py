"""Measured sizes of the messages the reference station really sends and receives, for
``docs/protocol.md`` and the benchmark; and the field and message tables of that document.

``python -m terminal.tools.sizes`` prints the sizes; ``--markdown`` prints the tables as they
appear in the protocol document, and ``--write docs/protocol.md`` regenerates the size table
there (between its markers, nothing else). Sizes come from a recorded run
(``record_run``): a station on a fresh demo ledger, a client that signs on, pays,
completes, reverses, asks and settles, and every frame measured as it crossed the socket, so
the table cannot show a message the station does not send. ``tests/test_sizes.py`` regenerates
the table and fails when the document differs.

``typical_messages`` (``terminal.tools.samples``): hand-made messages of every type for codec
round trips and fuzzing.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
from typing import Any

from terminal.protocol import messages as m
from terminal.protocol.framing import frame
from terminal.protocol.reconcile import sketch_of
from terminal.protocol.records import (
    Amount,
    MeterInfo,
    MeterKind,
    TerminalStatus,
)
from terminal.tools.conformance_client import Client
from terminal.tools.samples import CUSTOMER, TERMINAL


def _label(message: m.Message) -> str:
    processing = getattr(message, "processing", None)
    name = processing.name.lower().replace("_", " ") if isinstance(processing, m.Processing) else ""
    if getattr(message, "differences", None):
        name += " differences"
    return f"{message.mti} {name}"


DESCRIPTION = (
    "Framed sizes (2-byte length included, MAC included) of the first message of each kind in a\n"
    "recorded run against the reference station on a fresh demo ledger, as measured by\n"
    "`python -m terminal.tools.sizes` (regenerate with `--write docs/protocol.md`): sign-on with\n"
    "the protocol version; customer 0100000123 (a three-character name, a ten-character village\n"
    "address, two unpaid months) asked, paid exactly, completed, then asked for its history; a\n"
    "card purchase; a bill payment reversed; a heartbeat with status and version; the batch's\n"
    "digest and listing; a settlement with the sketch (field 49) that leaves one payment out,\n"
    "answered 95 naming it (field 36); a balanced settlement with the sketch."
)


class _Recorder(Client):
    """A conformance client that notes every frame it sends and receives, with its size."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.frames: list[tuple[m.Message, int]] = []

    def send_frame(self, payload: bytes) -> bytes | None:
        answer = super().send_frame(payload)
        self.frames.append((m.decode(payload), len(frame(payload))))
        if answer is not None:
            self.frames.append((m.decode(answer), len(frame(answer))))
        return answer


def record_run() -> list[tuple[m.Message, int]]:
    """Run the flows against a reference station on a fresh demo ledger; every frame measured."""
    import tempfile
    from pathlib import Path

    from station.seed import demo_card_serial, demo_master_key, demo_purchase_count
    from station.server import StationThread

    with tempfile.TemporaryDirectory() as folder:
        station = StationThread(str(Path(folder) / "sizes.db"))
        try:
            c = _Recorder("127.0.0.1", station.port, TERMINAL, demo_master_key(TERMINAL))
            c.connect()
            try:
                _flows(c, demo_card_serial("0100000005"), demo_purchase_count("0100000005"))
            finally:
                c.close()
        finally:
            station.stop()
    return c.frames


def _flows(c: _Recorder, serial: bytes, count: int) -> None:
    """The requests carry the fields the terminal's orders put in (``terminal/core/orders.py``):
    completions and reversals repeat the amount and the customer."""
    p = m.Processing
    from terminal.protocol.codes import PROTOCOL_VERSION as version
    from terminal.protocol.digest import summarize

    signed = c.sign_on("100101", "123456", protocol=version)
    _expect(signed, "sign-on")

    def ask(message: m.Message) -> Any:
        return _expect(c.ask(message), type(message).__name__)

    key: dict[str, Any] = {"terminal_id": TERMINAL, "batch": c.batch}
    found = ask(m.InquiryRequest(**key, trace=c.next_trace(), customer_no=CUSTOMER))
    due = found.amounts[Amount.DUE]
    pay = m.FinancialRequest(**key, trace=c.next_trace(), amount_fen=due, customer_no=CUSTOMER)
    ask(pay)
    ask(m.AdviceRequest(**key, trace=pay.trace, processing=pay.processing,
                        amount_fen=pay.amount_fen, customer_no=CUSTOMER))  # fmt: skip
    ask(m.InquiryRequest(**key, trace=c.next_trace(), processing=p.CUSTOMER_HISTORY,
                         customer_no=CUSTOMER))  # fmt: skip
    meter = MeterInfo(MeterKind.CARD_PREPAID, "000100000005", count)
    card = m.FinancialRequest(**key, trace=c.next_trace(), processing=p.CARD_PURCHASE,
                              amount_fen=10000, customer_no="0100000005", card_serial=serial,
                              meter=meter)  # fmt: skip
    ask(card)
    ask(m.AdviceRequest(**key, trace=card.trace, processing=card.processing,
                        amount_fen=card.amount_fen, customer_no=card.customer_no))  # fmt: skip
    other = "0100000001"
    owed = ask(m.InquiryRequest(**key, trace=c.next_trace(), customer_no=other)).amounts
    undo = m.FinancialRequest(**key, trace=c.next_trace(), amount_fen=owed[Amount.DUE],
                              customer_no=other)  # fmt: skip
    ask(undo)
    ask(m.ReversalRequest(**key, trace=undo.trace, amount_fen=undo.amount_fen,
                          customer_no=other))  # fmt: skip
    status = TerminalStatus(18, True, 80, 0, 0x1A2B, 0x3C4D5E)
    beat = m.HeartbeatRequest(terminal_id=TERMINAL, trace=c.next_trace(), status=status)
    ask(dataclasses.replace(beat, version="0.1.0"))
    last = c.trace
    digest = ask(m.DetailRequest(**key, trace=c.next_trace(), range=(1, last)))
    listing = ask(m.DetailRequest(**key, trace=c.next_trace(), processing=p.DETAIL_LISTING,
                                  range=(1, last))).listing  # fmt: skip
    posted = [(e.trace, e.kind, e.amount_fen) for e in listing]
    short = posted[1:]  # the terminal lost its first payment: the 95 names it
    summary, total = summarize(short)
    unbalanced = c.ask(
        m.SettlementRequest(
            **key,
            trace=c.next_trace(),
            amount_fen=total,
            summary=summary,
            sketch=sketch_of(short).to_bytes(),
        )
    )
    if getattr(unbalanced, "differences", None) is None:
        raise RuntimeError("recorded run: the 95 named no difference")
    ask(
        m.SettlementRequest(
            **key,
            trace=c.next_trace(),
            amount_fen=digest.amount_fen,
            summary=digest.summary,
            sketch=sketch_of(posted).to_bytes(),
        )
    )


def _expect(answer: Any, what: str) -> Any:
    if getattr(answer, "response", None) != "00":
        raise RuntimeError(f"recorded run: {what} answered {getattr(answer, 'response', '?')}")
    return answer


@functools.cache
def recorded() -> tuple[tuple[str, int], ...]:
    """(label, framed size) of every message of a recorded run against the reference station,
    in the order first seen; ``record_run`` is the run itself."""
    sizes: dict[str, int] = {}
    for message, size in record_run():
        sizes.setdefault(_label(message), size)
    return tuple(sizes.items())


def measure() -> list[tuple[str, int]]:
    """(label, framed size in bytes with MAC) of each message type the station sent or got."""
    return list(recorded())


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
        size = f"{f.length_bytes} + up to {f.size}" if f.var else str(f.size)
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


SIZES_BEGIN = "<!-- generated: sizes -->"
SIZES_END = "<!-- end -->"


def markdown() -> str:
    """The size table of docs/protocol.md: framed sizes measured in a recorded run."""
    lines = [DESCRIPTION, "", "| message | bytes |", "|---|---:|"]
    lines += [f"| {label} | {size} |" for label, size in measure()]
    pay = payment_bytes()
    lines.append("")
    lines.append(
        f"One cash bill payment: inquiry {pay['inquiry']} + payment {pay['payment']} + "
        f"completion {pay['completion']} = **{pay['total']} bytes** of application data."
    )
    return "\n".join(lines)


def documented(doc: str) -> str:
    """The size table as it stands in ``doc`` (the text between the sizes markers)."""
    start = doc.index(SIZES_BEGIN) + len(SIZES_BEGIN)
    return doc[start : doc.index(SIZES_END, start)].strip("\n")


def rewrite(doc: str) -> str:
    """``doc`` with the size table between its markers regenerated; nothing else touched."""
    start = doc.index(SIZES_BEGIN) + len(SIZES_BEGIN)
    end = doc.index(SIZES_END, start)
    return doc[:start] + "\n" + markdown() + "\n" + doc[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m terminal.tools.sizes", description=__doc__)
    parser.add_argument("--markdown", action="store_true", help="print the tables for the docs")
    parser.add_argument(
        "--write",
        metavar="DOC",
        help="regenerate the size table between its markers in DOC (docs/protocol.md)",
    )
    args = parser.parse_args(argv)
    if args.write:
        from pathlib import Path

        path = Path(args.write)
        path.write_text(rewrite(path.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"{path}: size table regenerated")
        return 0
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
