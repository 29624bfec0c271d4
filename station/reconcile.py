"""Decoding a terminal's settlement sketch (0500 field 49) into the differences of a 95 (field 36).

The station adds its own sketch of the batch to the terminal's and decodes the sum: the
fingerprints that differ. Each one either is a posting of the station's (the terminal lacks it, or
holds that trace with another kind or amount) or, read back as trace ‖ kind ‖ amount, is what the
terminal holds and the station does not. A decoded set is trusted only when it accounts for the
terminal's whole claim: the station's batch with its own differing postings taken out and the
terminal's put in must give exactly the count, total and digest of the 0500 (R47). A wrong decode
— more differences than the sketch holds — fails that check and the answer carries no field 36;
the terminal then searches by trace range as before (R43).
"""

from __future__ import annotations

from collections.abc import Sequence

from station.ledger import Row
from terminal.protocol import messages as m
from terminal.protocol.digest import summarize
from terminal.protocol.pinsketch import Sketch
from terminal.protocol.reconcile import Mismatch, fingerprint, sketch_of, transaction_of
from terminal.protocol.records import ListingEntry, TxnKind

_AMOUNT_MAX = 2**32 - 1  # a listing entry's amount is a u32


def differences(request: m.SettlementRequest, rows: Sequence[Row]) -> tuple[Mismatch, ...] | None:
    """Field 36 for a 95: every trace where the terminal's batch differs from ``rows`` (the
    station's postings of the batch), verified against the 0500's figures; ``None`` when the
    request has no sketch or its difference cannot be decoded and verified."""
    if request.sketch is None or request.summary is None:
        return None
    theirs = Sketch.from_bytes(request.sketch)
    ours = {fingerprint(r["trace"], r["kind"], r["amount_fen"]): r for r in rows}
    decoded = (theirs ^ sketch_of(_entries(rows), theirs.capacity)).decode()
    if decoded is None:
        return None
    station_side = {ours[e]["trace"]: ours[e] for e in decoded if e in ours}
    terminal_side: dict[int, tuple[int, TxnKind, int]] = {}
    for element in decoded:
        if element in ours:
            continue
        entry = transaction_of(element)
        if entry is None or entry[0] in terminal_side:
            return None  # not a transaction, or two of the terminal's under one trace
        terminal_side[entry[0]] = entry
    rebuilt = {r["trace"]: (r["trace"], r["kind"], r["amount_fen"]) for r in rows}
    for trace in station_side:
        del rebuilt[trace]
    if any(trace in rebuilt for trace in terminal_side):
        return None  # the terminal would hold a trace twice
    rebuilt.update(terminal_side)
    if summarize(rebuilt.values()) != (request.summary, request.amount_fen):
        return None
    if any(r["amount_fen"] > _AMOUNT_MAX for r in station_side.values()):
        return None  # cannot be written in field 36: let the range search name it
    return tuple(
        Mismatch(trace, _listed(station_side[trace]) if trace in station_side else None)
        for trace in sorted(set(station_side) | set(terminal_side))
    )


def _entries(rows: Sequence[Row]) -> list[tuple[int, int, int]]:
    return [(r["trace"], r["kind"], r["amount_fen"]) for r in rows]


def _listed(row: Row) -> ListingEntry:
    confirmed = bool(row["confirmed"])
    return ListingEntry(row["trace"], TxnKind(row["kind"]), row["amount_fen"], confirmed)
