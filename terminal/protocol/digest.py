"""The reconciliation digest both sides compute over a set of posted transactions.

Settlement sends only a count, a total and this digest for the whole batch; when they differ,
the terminal asks for the digest of halves of the trace range, recursively, until ranges are
small enough to list. Traffic then grows with the number of differences, not the batch size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from terminal.protocol.records import Summary, TxnKind

DIGEST_SIZE = 8


def summarize(entries: Iterable[tuple[int, TxnKind, int]]) -> tuple[Summary, int]:
    """Summary (count, digest) and total in fen of posted (trace, kind, amount) entries.

    The digest is SHA-256 over the entries sorted by trace, each as ``trace:kind:amount\\n`` in
    ASCII decimal, truncated to 8 bytes. Order of the input does not matter.
    """
    rows = sorted((int(t), int(k), int(a)) for t, k, a in entries)
    sha = hashlib.sha256()
    total = 0
    for trace, kind, amount in rows:
        sha.update(f"{trace}:{kind}:{amount}\n".encode("ascii"))
        total += amount
    return Summary(len(rows), sha.digest()[:DIGEST_SIZE]), total
