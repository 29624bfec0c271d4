"""The heartbeat (0820): a few bytes on the open connection, every ``period_s`` while the terminal
is signed on, so that the management console sees it alive (signal, cell, paper, battery, outbox
depth, software version) and the station can reach it with a command.

The station repeats a command in every answer until a heartbeat confirms it was carried out
(field 59 in the 0820), so the terminal obeys first and confirms right after, on the same
connection; a confirmation lost on the way only means the command comes again, and carrying out
lock or unlock twice changes nothing. The one exception is "sign on again": it forgets the
working key, so it is confirmed first, while the key still works.

The station lock is kept in the journal's counters, so a terminal restarted while locked stays
locked until the station unlocks it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from drivers.transport import LinkError
from terminal.protocol import messages as m
from terminal.protocol.records import StationCommand, TerminalStatus

if TYPE_CHECKING:
    from terminal.shell.terminal import Terminal

log = logging.getLogger("gridpos.heartbeat")

POWER_SUPPLY = Path("/sys/class/power_supply")
MAINS_PERCENT = 100  # a counter terminal without a battery reports itself full


def battery_percent(root: Path = POWER_SUPPLY) -> int:
    """The first battery's charge as Linux reports it, or ``MAINS_PERCENT`` without one."""
    for capacity in sorted(root.glob("BAT*/capacity")):
        with contextlib.suppress(OSError, ValueError):
            return max(0, min(100, int(capacity.read_text().strip())))
    return MAINS_PERCENT


class Heartbeat:
    def __init__(self, terminal: Terminal, version: str, period_s: float) -> None:
        self.terminal = terminal
        self.version = version
        self.period_s = period_s
        self.beats = 0  # answered heartbeats, for the tests and the bench
        # Given every approved 0830 besides its command (the desk's update handling); True when
        # a new version was switched to and the program should end to be started in it.
        self.on_answer: Callable[[m.Response], Awaitable[bool]] | None = None
        self.switched = asyncio.Event()  # set when an update was installed: time to restart

    def status(self) -> TerminalStatus:
        """What the terminal knows of itself now; a socket link has no signal or cell."""
        transport = self.terminal.link.transport
        info = getattr(transport, "info", None)
        paper = self.terminal.receipts.paper
        return TerminalStatus(
            signal=getattr(info, "csq", 99),
            paper_ok=paper is not False,
            battery_percent=battery_percent(),
            pending=min(len(self.terminal.delivery.pending()), 0xFFFF),
            lac=getattr(info, "lac", None) or 0,
            cell_id=getattr(info, "cell", None) or 0,
        )

    def _request(self, command: StationCommand | None = None) -> m.HeartbeatRequest:
        return m.HeartbeatRequest(
            terminal_id=self.terminal.terminal_id,
            trace=self.terminal.journal.take_trace(),
            status=self.status(),
            version=self.version,
            command=command,
        )

    async def beat(self) -> StationCommand:
        """One heartbeat; a command in the answer is carried out and confirmed. Returns it."""
        session = self.terminal.session
        reply = await session.request(self._request())
        if not reply.approved or not isinstance(reply, m.HeartbeatResponse):
            log.info("heartbeat answered %s", reply.response)
            return StationCommand.NONE
        self.beats += 1
        if self.on_answer is not None and await self.on_answer(reply):
            self.switched.set()
            log.warning("a new software version is installed: restarting into it")
        command = reply.command
        if command is StationCommand.NONE:
            return command
        log.info("station command %s", command.name)
        if command is StationCommand.SIGN_ON:
            await session.request(self._request(command))
            session.lock()  # the operator signs on again and gets fresh parameters and limits
            return command
        if command in (StationCommand.LOCK, StationCommand.UNLOCK):
            session.set_station_lock(command is StationCommand.LOCK)
        await session.request(self._request(command))
        return command

    async def keep_beating(self, stop: asyncio.Event) -> None:
        """Beat at once (a terminal just signed on learns of an unlock without waiting), then
        every ``period_s`` while signed on, until ``stop``. A failed beat waits for the next
        period: the delivery worker, not the heartbeat, is what reconnects in a hurry."""
        while not stop.is_set():
            if self.terminal.session.signed_on:
                try:
                    await self.beat()
                except LinkError as exc:
                    log.info("heartbeat not delivered: %s", exc)
                except Exception:  # the heartbeat must never take the terminal down
                    log.exception("heartbeat failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.period_s)
