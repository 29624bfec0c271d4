"""The route book on the wire (field 45): the customers of a village, compact, in pages.

Before going where there is no signal, the electrician downloads the customers of a route
(a village or a list the station keeps) so that payments can be taken offline against it. GPRS
is paid by the byte, so a record carries only what an offline payment needs — who, which meter
kind, what is due, the credit, how many months are unpaid, the name — and the village's name
comes once per page in field 44 instead of an address per customer. A village of 300 customers
is about 7 KB; pages are cut so that every framed answer stays within the 1024-byte frame (R1).

Record layout (big-endian): customer number (BCD 5), meter kind (u8), due fen (u32: arrears
less credit, never below 0), credit fen (u32), unpaid months (u8), name length (u8), name
(GB18030, at most 40 bytes).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from terminal.protocol.records import CodecError, MeterKind, bcd, unbcd

# Field 45's largest size: with every other field of a 0110 page at its largest (a route name
# of 80 bytes, the MAC, the length prefix) the frame stays at or below 1024 bytes.
PAGE_BYTES = 880
NAME_BYTES = 40
_FIXED = struct.Struct(">5sBIIBB")


@dataclass(frozen=True)
class RouteEntry:
    """One customer of a route book, as the station saw it when the page was taken."""

    customer_no: str
    kind: MeterKind
    due_fen: int
    credit_fen: int
    unpaid_months: int
    name: str

    def pack(self) -> bytes:
        name = self.name.encode("gb18030")[:NAME_BYTES]
        fixed = _FIXED.pack(
            bcd(int(self.customer_no), 10),
            int(self.kind),
            self.due_fen,
            self.credit_fen,
            min(self.unpaid_months, 255),
            len(name),
        )
        return fixed + name

    @property
    def size(self) -> int:
        return _FIXED.size + len(self.name.encode("gb18030")[:NAME_BYTES])


def pack_entries(entries: tuple[RouteEntry, ...]) -> bytes:
    return b"".join(entry.pack() for entry in entries)


def unpack_entries(data: bytes) -> tuple[RouteEntry, ...]:
    """Records one after another; anything cut short or malformed is a ``CodecError``."""
    entries = []
    offset = 0
    while offset < len(data):
        if len(data) - offset < _FIXED.size:
            raise CodecError("route book record cut short")
        number, kind, due, credit, months, size = _FIXED.unpack_from(data, offset)
        offset += _FIXED.size
        if size > NAME_BYTES or offset + size > len(data):
            raise CodecError("route book name cut short or too long")
        try:
            name = data[offset : offset + size].decode("gb18030")
            entries.append(
                RouteEntry(f"{unbcd(number):010d}", MeterKind(kind), due, credit, months, name)
            )
        except (UnicodeDecodeError, ValueError) as exc:
            raise CodecError(f"bad route book record: {exc}") from None
        offset += size
    return tuple(entries)


def pages(entries: list[RouteEntry], page_bytes: int = PAGE_BYTES) -> list[tuple[RouteEntry, ...]]:
    """Cut the records into pages of at most ``page_bytes``; an empty book is one empty page."""
    out: list[tuple[RouteEntry, ...]] = []
    page: list[RouteEntry] = []
    used = 0
    for entry in entries:
        if page and used + entry.size > page_bytes:
            out.append(tuple(page))
            page, used = [], 0
        page.append(entry)
        used += entry.size
    out.append(tuple(page))
    return out
