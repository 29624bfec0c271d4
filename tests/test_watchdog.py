"""The service manager's view: READY once the program is up, WATCHDOG=1 while its loop runs.

The test stands where systemd would: a datagram socket named in ``NOTIFY_SOCKET``, with
``WATCHDOG_USEC`` set. The real ``gridpos run`` (text screens, keys on standard input) must say
READY after its first screen and ping at half the interval; a loop that is blocked must stop
pinging — that is what lets systemd kill and restart a hung terminal.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from terminal.app.notify import Notifier
from tests.wait_kit import wait_until


class Listener:
    """systemd's end of the notify socket: every datagram with the time it came."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.messages: list[tuple[float, str]] = []
        self.closed = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while not self.closed:
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            self.messages.append((time.monotonic(), data.decode()))

    def times(self, line: str) -> list[float]:
        return [at for at, text in list(self.messages) if line in text.splitlines()]

    def close(self) -> None:
        self.closed = True
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def listener(tmp_path):
    found = Listener(tmp_path / "notify.sock")
    yield found
    found.close()


def site_config(folder: Path) -> Path:
    """A terminal that needs no hardware: socket transport (never used before sign-on), printer
    into a file, text screens."""
    (folder / "master.key").write_text("00112233445566778899aabbccddeeff\n")
    site = folder / "site.toml"
    site.write_text(
        f"""
[station]
transport = "socket"
[printer]
connection = "file"
device = "{folder / "printer.out"}"
[journal]
path = "{folder / "journal.db"}"
key_file = "{folder / "journal.key"}"
[keys]
master_key_file = "{folder / "master.key"}"
card_access_key_file = "{folder / "no-card-access.key"}"
"""
    )
    return site


def test_the_program_says_ready_after_its_first_screen_and_pings(tmp_path, listener):
    env = {**os.environ, "NOTIFY_SOCKET": str(listener.path), "WATCHDOG_USEC": "200000"}
    env.pop("WATCHDOG_PID", None)
    program = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "terminal.app.cli",
            "run",
            "--config",
            str(site_config(tmp_path)),
            "--keys",
            "stdin",
            "--display",
            "text",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        wait_until(lambda: listener.times("READY=1"), 30, "READY from the program")
        ready_at = listener.times("READY=1")[0]
        wait_until(
            lambda: len([t for t in listener.times("WATCHDOG=1") if t > ready_at]) >= 5,
            10,
            "five watchdog pings after READY",
        )
        status = next(text for _, text in listener.messages if "READY=1" in text)
        assert "STATUS=journal open, 0 open transaction(s)" in status
    finally:
        out, err = program.communicate(b"", timeout=30)  # end of keys: the program stops
    assert program.returncode == 0, err.decode()
    assert "=== screen" in out.decode()
    assert listener.times("STOPPING=1")


def test_a_blocked_event_loop_stops_the_pings(listener):
    """The pings come from a task on the loop: while the loop is held by a blocking call (what a
    hung driver call would do), none is sent; when it is free again they resume."""
    notifier = Notifier({"NOTIFY_SOCKET": str(listener.path), "WATCHDOG_USEC": "100000"})
    blocked: dict[str, float] = {}

    async def main() -> None:
        pinger = asyncio.create_task(notifier.keep_alive())
        await asyncio.to_thread(
            wait_until, lambda: len(listener.times("WATCHDOG=1")) >= 3, 5, "pings before the block"
        )
        blocked["from"] = time.monotonic()
        threading.Event().wait(1.0)  # the loop is held: the fault under test, not a wait
        blocked["to"] = time.monotonic()
        await asyncio.to_thread(
            wait_until,
            lambda: listener.times("WATCHDOG=1")[-1] > blocked["to"],
            5,
            "pings after the block",
        )
        pinger.cancel()

    asyncio.run(main())
    notifier.close()
    pings = listener.times("WATCHDOG=1")
    during = [t for t in pings if blocked["from"] + 0.06 < t < blocked["to"]]
    assert during == [], "a ping was sent while the loop was blocked"
    before = [t for t in pings if t < blocked["from"]]
    gaps = [b - a for a, b in itertools.pairwise(before)]
    assert gaps and max(gaps) < 0.5, gaps  # every 0.05 s while the loop runs


def test_without_notify_socket_nothing_is_sent_and_nothing_fails():
    notifier = Notifier({})
    assert not notifier.active and notifier.watchdog_s is None
    notifier.ready("x")
    notifier.ping()
    asyncio.run(notifier.keep_alive())  # returns at once: no watchdog asked for


def test_the_watchdog_is_for_this_process_only():
    other = Notifier({"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"})
    mine = Notifier(
        {"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": str(os.getpid())}
    )
    assert other.watchdog_s is None and mine.watchdog_s == 1.0
