"""Log lines for the journal: priorities it understands, and repeats held back, not the news."""

from __future__ import annotations

import logging

from terminal.app.logsetup import JournalFormatter, RateLimit


def record(
    msg: str, level: int = logging.WARNING, name: str = "gridpos.modem"
) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, (), None)


def test_a_repeated_message_is_held_back_and_counted_when_its_window_ends():
    now = [0.0]
    limit = RateLimit(burst=3, interval_s=60, clock=lambda: now[0])
    passed = [limit.filter(record("no answer from the module")) for _ in range(10)]
    assert passed == [True] * 3 + [False] * 7
    assert limit.filter(record("another message"))  # other messages are not held back
    now[0] = 61
    late = record("no answer from the module")
    assert limit.filter(late)
    assert late.getMessage() == "no answer from the module [7 more like this held back]"


def test_journal_lines_carry_the_syslog_priority_and_no_timestamp():
    formatter = JournalFormatter("%(message)s")
    assert formatter.format(record("paper out", logging.ERROR)) == "<3>gridpos.modem: paper out"
    assert formatter.format(record("signed on", logging.INFO)).startswith("<6>")
    assert formatter.format(record("two\nlines")) == "<4>gridpos.modem: two\n lines"
