"""Room on the journal's disk: no payment starts unless the journal has room to finish it.

A payment writes several journal entries (created, sent, approved, printing, printed, …); if
the flash card fills up between two of them, the terminal has taken money and cannot say so
durably — the one thing the journal exists to prevent. So the free space is looked at before a
payment starts, against a threshold far above what one payment writes (a few kB): below it the
payment is refused with a plain screen, and nothing was journalled, sent or taken. Payments
already under way go on: they were started with room to spare.

The free space counted is what an unprivileged user may use (``f_bavail``): the service does
not run as root, so blocks reserved for root are no room for the journal.
"""

from __future__ import annotations

import os
from pathlib import Path

# The refusal's code: the desk answers it as a failure, the screen has words for it (ui.texts).
DISK_FULL = "disk_full"
MB = 1024 * 1024


class Space:
    def __init__(self, folder: str | Path, min_free_mb: int) -> None:
        self.folder = Path(folder)
        self.min_free_bytes = min_free_mb * MB

    def free_bytes(self) -> int:
        stat = os.statvfs(self.folder)
        return stat.f_bavail * stat.f_frsize

    def enough(self) -> bool:
        """True when a payment may start (always, with a threshold of 0)."""
        return self.min_free_bytes <= 0 or self.free_bytes() >= self.min_free_bytes
