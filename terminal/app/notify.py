"""Telling systemd how the program is: READY, STATUS and the watchdog's WATCHDOG=1.

The unit is ``Type=notify`` with ``WatchdogSec=``: systemd starts the next program only when
this one says READY, and restarts it when the pings stop. The pings come from a task on the
program's own event loop, not from a thread: a thread would go on pinging while the loop that
reads keys and moves money hangs, which is exactly the failure the watchdog is there to end.

The protocol is a datagram of ``KEY=VALUE`` lines to the socket named in ``NOTIFY_SOCKET``
(``sd_notify(3)``); a few lines here spare the terminal a dependency. Without that variable
(started by hand, in tests, in the demo) every call does nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket

log = logging.getLogger("gridpos.notify")


class Notifier:
    """One service manager connection, taken from the environment at start-up."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.address = _address(env.get("NOTIFY_SOCKET", ""))
        self.watchdog_s = _watchdog_s(env)
        self._sock: socket.socket | None = None

    @property
    def active(self) -> bool:
        return self.address is not None

    def send(self, *lines: str) -> None:
        """Send one notification; a service manager that went away is not the program's problem."""
        if self.address is None:
            return
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto("\n".join(lines).encode(), self.address)
        except OSError as exc:
            log.debug("notify %s failed: %s", lines[0] if lines else "", exc)

    def ready(self, status: str = "") -> None:
        self.send("READY=1", *([f"STATUS={status}"] if status else []))

    def status(self, text: str) -> None:
        self.send(f"STATUS={text}")

    def stopping(self) -> None:
        self.send("STOPPING=1")

    def ping(self) -> None:
        self.send("WATCHDOG=1")

    async def keep_alive(self) -> None:
        """Ping at half the watchdog interval for as long as the event loop runs this task."""
        if self.watchdog_s is None or not self.active:
            return
        interval = self.watchdog_s / 2
        while True:
            self.ping()
            await asyncio.sleep(interval)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _address(name: str) -> str | bytes | None:
    if not name:
        return None
    if name.startswith("@"):  # abstract namespace
        return b"\0" + name[1:].encode()
    if name.startswith("/"):
        return name
    return None  # vsock and other forms are not used on a terminal


def _watchdog_s(env: dict[str, str] | os._Environ[str]) -> float | None:
    """The watchdog interval, if it is meant for this process (``WATCHDOG_PID``)."""
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    pid = env.get("WATCHDOG_PID", "")
    if pid and pid != str(os.getpid()):
        return None
    return usec / 1_000_000 if usec > 0 else None
