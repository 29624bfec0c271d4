"""Set reconciliation at settlement: the fingerprint of a posted transaction, the sketch of a
batch the terminal sends in its 0500 (field 49), and the differences the station answers in the
0510 (field 36).

Why a fingerprint that is the record itself rather than a hash of it: trace (20 bits: at most
999999), kind (4 bits) and amount (40 bits: field 4's twelve digits) fit exactly in the 64 bits
of a sketch element. So the fingerprint has no collisions, it is never 0 (trace 0 is refused,
R2), and the station reads back from each decoded element the very transaction the terminal
holds — which lets it rebuild the terminal's batch and check it against the count, total and
SHA-256 digest of the 0500 before it answers (R47). The sketch itself is ``pinsketch``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from terminal.protocol.records import CodecError, ListingEntry, TxnKind, bcd, unbcd

if TYPE_CHECKING:
    from terminal.protocol.pinsketch import Sketch

# The sketch's capacity: how many differing fingerprints one 0500 can have decoded (an amount
# that differs counts twice: the terminal's and the station's). 10 keeps a balanced settlement's
# extra cost at 81 bytes and one difference within 200 bytes; see docs/protocol.md, R46.
SKETCH_CAPACITY = 10
SKETCH_CAPACITY_MAX = 16  # field 49 holds at most 16 power sums (128 bytes)

_TRACE_SHIFT, _KIND_SHIFT = 44, 40
_AMOUNT_MASK = (1 << _KIND_SHIFT) - 1


def fingerprint(trace: int, kind: int, amount_fen: int) -> int:
    """The 64-bit sketch element of one posted transaction: trace ‖ kind ‖ amount."""
    if not (0 < trace <= 999_999 and 0 < kind < 16 and 0 <= amount_fen <= _AMOUNT_MASK):
        raise ValueError(f"no fingerprint for trace {trace} kind {kind} amount {amount_fen}")
    return trace << _TRACE_SHIFT | kind << _KIND_SHIFT | amount_fen


def transaction_of(element: int) -> tuple[int, TxnKind, int] | None:
    """(trace, kind, amount) of a fingerprint; ``None`` when it cannot be one."""
    trace, kind = element >> _TRACE_SHIFT, element >> _KIND_SHIFT & 0xF
    if not 0 < trace <= 999_999:
        return None
    try:
        return trace, TxnKind(kind), element & _AMOUNT_MASK
    except ValueError:
        return None


def sketch_of(entries: Iterable[tuple[int, int, int]], capacity: int = SKETCH_CAPACITY) -> Sketch:
    """The sketch of posted (trace, kind, amount) entries."""
    from terminal.protocol.pinsketch import Sketch  # at the first settlement, not at start-up

    return Sketch.of((fingerprint(t, k, a) for t, k, a in entries), capacity)


@dataclass(frozen=True)
class Mismatch:
    """Field 36: one trace on which the two sides differ, and what the station holds there.

    ``station`` is ``None`` when the station has nothing posted under the trace; the terminal's
    side needs no bytes, it is the terminal's own entry under the same trace (or none).
    """

    trace: int
    station: ListingEntry | None

    LAYOUT = struct.Struct(">3sBIB")  # the listing entry's 9 bytes; kind 0: nothing posted

    def pack(self) -> bytes:
        if self.station is None:
            return self.LAYOUT.pack(bcd(self.trace, 6), 0, 0, 0)
        return self.station.pack()

    @classmethod
    def unpack(cls, data: bytes) -> Mismatch:
        trace, kind, amount, confirmed = cls.LAYOUT.unpack(data)
        if kind == 0:
            if amount or confirmed:
                raise CodecError("difference: nothing posted, yet an amount")
            return cls(unbcd(trace), None)
        entry = ListingEntry.unpack(data)
        return cls(entry.trace, entry)


def check_sketch(data: bytes) -> bytes:
    """Field 49 as sent: 1 to 16 power sums of 8 bytes."""
    if not data or len(data) % 8 or len(data) > 8 * SKETCH_CAPACITY_MAX:
        raise CodecError(f"sketch: {len(data)} bytes, not 8 to {8 * SKETCH_CAPACITY_MAX} by 8")
    return data
