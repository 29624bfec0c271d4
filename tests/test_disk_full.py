"""Disk nearly full: the payment is refused before it starts, with words for the operator.

Nothing may be journalled, sent or taken for a payment that the journal might not have room to
finish. The first test sets the threshold above the free space of the test's own disk; the
second fills a real 4 MB file system (tmpfs, root only) until the journal's room runs short,
and shows the payment refused there, then taken once room is made.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest

from terminal.core import requests as rq
from terminal.core.cash import Tender
from terminal.shell.desk import Desk
from terminal.shell.space import DISK_FULL, MB
from tests.terminal_kit import WANG, ledger_view, make_terminal
from ui.wording import failed_lines


def prepay(fen: int = 5000) -> rq.Pay:
    return rq.Pay(rq.PayFlow.PREPAY, Tender(fen, fen), rq.Customer(WANG))


def test_a_payment_is_refused_before_anything_is_written(station, tmp_path):
    free_mb = os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize // MB
    terminal = make_terminal(tmp_path, station.port, min_free_mb=free_mb + 1024)

    async def go() -> rq.Reply:
        desk = Desk(terminal)
        assert isinstance(await desk.handle(rq.SignOn("100101", "123456")), rq.SignedOn)
        head, trace = terminal.journal.head_seq, terminal.journal.counter("next_trace")
        reply = await desk.handle(prepay())
        assert terminal.journal.head_seq == head, "nothing journalled"
        assert terminal.journal.counter("next_trace") == trace, "no trace taken"
        await desk.close()
        await terminal.link.close()
        return reply

    try:
        reply = asyncio.run(go())
    finally:
        terminal.journal.close()
    assert reply == rq.Failed(code=DISK_FULL)
    words = "交易失败：存储空间不足，已暂停收费，未收款。请联系供电公司"
    assert failed_lines(reply, "zh_CN") == [words]
    assert ledger_view(tmp_path / "station.db") == {}, "the station saw no payment"


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB tmpfs: a disk that really fills up."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    folder = tmp_path / "small"
    folder.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=True)


def fill(folder: Path, leave_bytes: int) -> Path:
    """Fill ``folder``'s file system until about ``leave_bytes`` are free."""
    filler = folder / "filler"
    stat = os.statvfs(folder)
    size = stat.f_bavail * stat.f_frsize - leave_bytes
    with open(filler, "wb") as out:
        out.write(b"\0" * max(size, 0))
    return filler


def test_a_full_disk_stops_payments_and_room_made_lets_them_go_on(station, small_disk):
    terminal = make_terminal(small_disk, station.port, min_free_mb=1)

    async def go() -> tuple[rq.Reply, rq.Reply]:
        desk = Desk(terminal)
        await desk.handle(rq.SignOn("100101", "123456"))
        filler = fill(small_disk, leave_bytes=MB // 2)
        refused = await desk.handle(prepay())
        filler.unlink()
        paid = await desk.handle(prepay())
        await desk.close()
        await terminal.link.close()
        return refused, paid

    try:
        refused, paid = asyncio.run(go())
        assert terminal.journal.verify().ok
    finally:
        terminal.journal.close()
    assert refused == rq.Failed(code=DISK_FULL)
    assert isinstance(paid, rq.Paid) and paid.outcome is rq.PayOutcome.APPROVED
    assert list(ledger_view(small_disk.parent / "station.db").values()) == [5000]
