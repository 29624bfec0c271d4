"""Finding what differs between the terminal's batch and the station's, by halving digests.

A balanced batch costs one exchange whatever its size: count, total and an 8-byte digest. On a
mismatch the terminal compares digests of halves of the trace range, recursively, and asks for
a listing only of ranges small enough to list — so the bytes on the air grow with the number
of differences (times the depth of the halving), not with the size of the batch.

When the 0500 carried a sketch of the batch (R46), the station's 95 may already name every
differing trace (field 36, R47); ``named_differences`` checks that answer against the station's
own count, total and digest before the terminal acts on it, and the search is only the fallback.

The search is pure: the shell (``terminal.shell.settlement``) hands in the two questions it may
ask the station, as coroutines, and carries out the exchanges.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from terminal.protocol.digest import summarize
from terminal.protocol.reconcile import Mismatch
from terminal.protocol.records import ListingEntry, Summary, TxnKind

LISTING_MAX = 28  # entries that fit in one 0330 listing


@dataclass(frozen=True)
class Difference:
    """One trace on which terminal and station disagree."""

    trace: int
    mine: tuple[TxnKind, int] | None
    station: ListingEntry | None

    def describe(self) -> str:
        if self.mine is None and self.station is not None:
            return f"流水{self.trace:06d} 主站有终端无 {self.station.amount_fen / 100:.2f}元"
        if self.station is None and self.mine is not None:
            return f"流水{self.trace:06d} 终端有主站无 {self.mine[1] / 100:.2f}元"
        assert self.mine is not None and self.station is not None
        return (
            f"流水{self.trace:06d} 金额不符 终端{self.mine[1] / 100:.2f}元"
            f" 主站{self.station.amount_fen / 100:.2f}元"
        )


Entries = dict[int, tuple[TxnKind, int]]
AskDigest = Callable[[int, int], Awaitable[tuple[Summary, int]]]
AskListing = Callable[[int, int], Awaitable[tuple[ListingEntry, ...]]]


async def find_differences(
    local: Entries,
    first: int,
    last: int,
    station: tuple[Summary, int],
    ask_digest: AskDigest,
    ask_listing: AskListing,
) -> list[Difference]:
    """Halve [first, last] until the differing ranges can be listed; compare the listings."""
    mine = {t: v for t, v in local.items() if first <= t <= last}
    summary, total = summarize((t, k, a) for t, (k, a) in mine.items())
    if (summary, total) == station:
        return []
    if max(station[0].count, len(mine)) <= LISTING_MAX or first >= last:
        listing = {entry.trace: entry for entry in await ask_listing(first, last)}
        differences = []
        for trace in sorted(set(mine) | set(listing)):
            have, theirs = mine.get(trace), listing.get(trace)
            if have is None or theirs is None or have != (theirs.kind, theirs.amount_fen):
                differences.append(Difference(trace, have, theirs))
        return differences
    middle = (first + last) // 2
    left = await ask_digest(first, middle)
    right = await ask_digest(middle + 1, last)
    return [
        *await find_differences(local, first, middle, left, ask_digest, ask_listing),
        *await find_differences(local, middle + 1, last, right, ask_digest, ask_listing),
    ]


def named_differences(
    local: Entries, named: tuple[Mismatch, ...], station: tuple[Summary, int]
) -> list[Difference] | None:
    """The differences a 95 named (field 36), if they are exactly what separates this batch from
    the station's; ``None`` (search instead) when they are not.

    Trusted only when every named trace really differs and this batch, with the station's side
    of each named trace put in its place, has the station's count, total and digest: a wrong or
    incomplete answer cannot pass unless SHA-256 collides on 64 bits.
    """
    rebuilt = dict(local)
    differences: list[Difference] = []
    for item in named:
        theirs = (item.station.kind, item.station.amount_fen) if item.station else None
        if local.get(item.trace) == theirs or any(d.trace == item.trace for d in differences):
            return None  # not a difference (the same on both sides, or nothing on either)
        differences.append(Difference(item.trace, local.get(item.trace), item.station))
        if theirs is None:
            del rebuilt[item.trace]
        else:
            rebuilt[item.trace] = theirs
    if summarize((t, k, a) for t, (k, a) in rebuilt.items()) != station:
        return None
    return differences
