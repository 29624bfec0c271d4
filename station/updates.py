"""Software versions the station offers, and the chunks a terminal downloads them in.

The offered versions are files in one directory, named by the ledger parameter ``update_dir``
(``gridpos station --updates DIR`` sets it): ``<version>.pkg``, the package, and beside it
``<version>.sig``, the Ed25519 signature (hex) the release key made over
``terminal.protocol.update_offer.statement``. The station never holds the release key: it
passes on bytes and a signature it cannot forge, and the terminal checks both.

A terminal that speaks protocol version 3 and reports its software version in the 0820 is offered
the newest version in the directory when that is newer than its own (0830 fields 58 and 51).
It then asks for the bytes with 0100 processing 970000 (R51): an answer is a pure function of
version, offset and length, so chunk requests are not kept in the repeat store — a repeat gets
the same bytes again without filling the ledger with copies of the package.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.answers import Context, reply, spoken
from station.ledger import Ledger, Row
from terminal.protocol import messages as m
from terminal.protocol.codes import RECEIPT_CODES_AND_UPDATES
from terminal.protocol.responses import Code
from terminal.protocol.update_offer import CHUNK_MAX, PACKAGE_MAX, UpdateOffer

DIR_PARAM = "update_dir"
_VERSION = re.compile(r"^[0-9A-Za-z.+_-]{1,20}$")


def version_key(version: str) -> tuple[tuple[int, str], ...]:
    """Order of versions: dotted numbers compare as numbers (0.10 after 0.9)."""
    return tuple(
        (int(part), "") if part.isdigit() else (-1, part) for part in re.split(r"[.+_-]", version)
    )


@dataclass(frozen=True)
class Offered:
    version: str
    path: Path
    offer: UpdateOffer


def offered_versions(directory: str | Path) -> list[Offered]:
    """Every signed package in ``directory``, oldest first; unsigned or oversized ones are left
    out (a package the terminal would refuse is not worth its GPRS bytes)."""
    found = []
    for package in Path(directory).glob("*.pkg"):
        version = package.stem
        signature = package.with_suffix(".sig")
        if not _VERSION.match(version) or not signature.is_file():
            continue
        stat = package.stat()
        if stat.st_size > PACKAGE_MAX:
            continue
        digest = _sha256(str(package), stat.st_mtime_ns, stat.st_size)
        sig = bytes.fromhex(signature.read_text().strip())
        found.append(Offered(version, package, UpdateOffer(stat.st_size, digest, sig)))
    return sorted(found, key=lambda o: version_key(o.version))


@functools.lru_cache(maxsize=32)
def _sha256(path: str, mtime_ns: int, size: int) -> bytes:
    """A package's digest, read once per file version (every heartbeat and chunk asks)."""
    return hashlib.sha256(Path(path).read_bytes()).digest()


def _directory(ledger: Ledger) -> str | None:
    return ledger.param(DIR_PARAM)


def offer_for(ledger: Ledger, terminal_id: str, running: str | None) -> dict[str, Any]:
    """The 0830's update fields for a terminal running ``running``: empty when nothing is newer,
    the terminal did not say what it runs, or it speaks a protocol without field 51."""
    directory = _directory(ledger)
    if directory is None or running is None:
        return {}
    if spoken(ledger, terminal_id) < RECEIPT_CODES_AND_UPDATES:
        return {}
    versions = offered_versions(directory)
    if not versions or version_key(versions[-1].version) <= version_key(running):
        return {}
    return {"version": versions[-1].version, "offer": versions[-1].offer}


def chunk(ctx: Context, request: m.InquiryRequest, terminal: Row) -> m.Response:
    """0110 for 970000: ``length`` bytes of the package from ``offset`` (field 47), in field 50.

    A version no longer offered is answered 25 (the terminal drops the download); an offset
    past the end or a length over one frame's worth is 12.
    """
    if request.range is None or request.version is None or not 0 < request.range[1] <= CHUNK_MAX:
        return reply(request, Code.INVALID)
    directory = _directory(ctx.ledger)
    offered = offered_versions(directory) if directory is not None else []
    wanted = next((o for o in offered if o.version == request.version), None)
    if wanted is None:
        return reply(request, Code.ORIGINAL_NOT_FOUND)
    offset, length = request.range
    if offset >= wanted.offer.size:
        return reply(request, Code.INVALID)
    with wanted.path.open("rb") as package:
        package.seek(offset)
        data = package.read(length)
    return reply(request, Code.APPROVED, range=(offset, len(data)), chunk=data)
