"""Log output: to the systemd journal with priorities when run as a service, rate-limited always.

A terminal in the mountains writes to a small flash card for years. A modem that fails the same
way every second must not fill it, nor push the one line that matters out of the journal's
rotation, so each message (by logger and format string) is let through at most ``burst`` times
per ``interval_s``; when the window ends one line says how many were held back. journald has a
rate limit of its own (``LogRateLimit*`` in the unit), which drops the unit's lines
indiscriminately; this one drops only the repeats.

Under systemd (``JOURNAL_STREAM`` names our standard error) each line starts with the syslog
priority (``<3>`` for an error, ``sd-daemon(3)``), so ``journalctl -p err`` finds the errors, and
carries no timestamp of its own: the journal adds one.
"""

from __future__ import annotations

import logging
import os
import sys
import time

_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


class RateLimit(logging.Filter):
    """Lets each message through ``burst`` times per ``interval_s``; counts the rest."""

    def __init__(self, burst: int = 10, interval_s: float = 60.0, clock=time.monotonic) -> None:
        super().__init__()
        self.burst = burst
        self.interval_s = interval_s
        self.clock = clock
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        now = self.clock()
        start, count = self._windows.get(key, (now, 0))
        if now - start >= self.interval_s:
            held = count - self.burst
            if held > 0:
                record.msg = f"{record.msg} [{held} more like this held back]"
            start, count = now, 0
        self._windows[key] = (start, count + 1)
        if len(self._windows) > 1000:  # messages with variable text must not grow this forever
            self._windows.clear()
        return count < self.burst


class JournalFormatter(logging.Formatter):
    """``<priority>logger: message``, the form journald reads from a service's standard error."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record).replace("\n", "\n ")
        return f"<{_PRIORITY.get(record.levelno, 6)}>{record.name}: {text}"


def under_journal() -> bool:
    """True when standard error is the journal stream systemd gave this service."""
    stream = os.environ.get("JOURNAL_STREAM", "")
    if not stream:
        return False
    try:
        info = os.fstat(sys.stderr.fileno())
    except (OSError, ValueError):
        return False
    return stream == f"{info.st_dev}:{info.st_ino}"


def configure(verbosity: int) -> None:
    """Set up the root logger for one run of the ``gridpos`` command (as ``basicConfig`` does:
    nothing when the root logger has handlers already, as under a test runner)."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler()
    if under_journal():
        handler.setFormatter(JournalFormatter("%(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    handler.addFilter(RateLimit())
    root.addHandler(handler)
    root.setLevel([logging.WARNING, logging.INFO, logging.DEBUG][min(verbosity, 2)])
