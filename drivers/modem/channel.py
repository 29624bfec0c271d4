"""The module's command channel: one reader owns the port; one command at a time.

The reader is an event-loop callback on the port's file descriptor. It feeds ``ATReader`` and
sorts each event: a ``>`` prompt releases the data of the command in flight; data goes to the
receive queue; every line goes to the ``Exchange`` of the command in flight (``replies``),
which says whether it is a URC — routed to ``on_urc`` even in the middle of a reply — or part
of the reply. The reader catches everything: no exception ever leaves it.

After a command timed out or was cut short, the channel is *dirty*: its late reply may still
come. The next command is then preceded by a resync (``AT``, then a short quiet window in which
whatever else arrives is dropped), and a command that timed out owes its distinct finals: the
next such line is taken as its. A debt never feeds itself: a command that timed out after one of
its lines went to a debt owes nothing more, and a command cut short by the link owes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from drivers.modem.at import ATReader, Data, Prompt
from drivers.modem.dialects import DIALECTS, Command, Dialect
from drivers.modem.replies import Exchange, Owed, Reply, urc_kind
from drivers.transport import LinkError, LinkTimeout

log = logging.getLogger("gridpos.modem")

ESC = b"\x1b"  # ends a data prompt without sending (a Ctrl-Z terminated one)
FILL = b"\r"  # completes a fixed-length data prompt; an empty line in command mode
QUIET_S = 0.3  # after a resync's OK, what else comes in this window is a late reply: dropped
RESYNC_S = 2.0  # how long the resync's AT may take


class ModemError(LinkError):
    """The module answered with an error, or not at all."""


class ModemTimeout(ModemError, LinkTimeout):
    pass


NO_MODEM = "link_no_modem"  # the problem the operator is told (drivers.transport.PROBLEMS)


__all__ = ["Modem", "ModemError", "ModemTimeout", "Reply"]


class Modem:
    def __init__(
        self, port: str, dialect: str = "sim800", baudrate: int = 115200, receive: str = "push"
    ) -> None:
        import serial

        self.dialect: Dialect = DIALECTS[dialect]
        if receive not in self.dialect.receive_modes:
            modes = ", ".join(self.dialect.receive_modes)
            raise ModemError(f"{dialect} receives data only as: {modes}, not {receive!r}")
        self.receive = receive  # "push": +IPD,<n>: pushed; "manual": pulled with AT+CIPRXGET
        try:
            self.serial = serial.serial_for_url(port, baudrate=baudrate, timeout=0)
        except (serial.SerialException, ValueError) as exc:
            raise ModemError(f"cannot open the modem port {port}: {exc}", NO_MODEM) from None
        self._reader = ATReader()
        self._lock = asyncio.Lock()
        self._exchange: Exchange | None = None
        self._pending: asyncio.Future[Reply] | None = None
        self._owed: list[Owed] = []
        self.dirty = False  # a reply may still be on its way: resync before the next command
        self.data: asyncio.Queue[bytes] = asyncio.Queue()
        self.on_urc: Callable[[str, str], None] = lambda kind, line: None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.timeouts_in_a_row = 0
        self.booted = asyncio.Event()  # RDY / Call Ready / SMS Ready seen since it was cleared
        self.late: list[str] = []  # the last late replies dropped (for the log and tests)

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.serial.fileno(), self._readable)

    def stop(self) -> None:
        if self._loop is not None:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self.serial.fileno())
        with contextlib.suppress(Exception):
            self.serial.close()

    # --- the reader ----------------------------------------------------------------------

    def _readable(self) -> None:
        try:
            chunk = self.serial.read(4096)
        except Exception as exc:  # the port went away: a USB modem unplugged or reset
            log.warning("modem port read failed: %s", exc)
            self.abort(ModemError(f"modem port failed: {exc}", NO_MODEM))
            self.on_urc("port_lost", str(exc))
            return
        if chunk:
            self.feed(chunk)

    def feed(self, chunk: bytes) -> None:
        """Sort received bytes into replies, URCs and data; never raises."""
        try:
            for event in self._reader.feed(chunk):
                self._dispatch(event)
        except Exception:  # a bug here must not kill the reader: log it and go on
            log.exception("modem reader: unexpected error (ignored)")

    def _dispatch(self, event) -> None:
        if isinstance(event, Data):
            log.debug("AT < [%d bytes of data]", len(event.payload))
            self.data.put_nowait(event.payload)
            return
        exchange = self._exchange
        if isinstance(event, Prompt):
            log.debug("AT < >")
            data = exchange.command.data if exchange is not None else None
            if exchange is not None and data is not None and not exchange.data_sent:
                self.serial.write(data)
                exchange.data_sent = True
                log.debug("AT > [%d bytes of data]", len(data))
            return
        line = event.text
        log.debug("AT < %s", line)
        if exchange is None:
            kind = urc_kind(line, self.dialect.urcs)
            if kind is None:
                self._pay_owed(line)
                self._dropped(line)
        else:
            kind = exchange.feed(line, time.monotonic())
            while exchange.dropped:
                self._dropped(exchange.dropped.pop(0))
            self._settle(exchange)
        if kind is not None:
            self._on_urc(kind, line)

    def _pay_owed(self, line: str) -> None:
        """A late final that came between commands settles what its command owed."""
        for owed in self._owed:
            if any(line.startswith(final) for final in owed.lines):
                self._owed.remove(owed)
                return

    def _dropped(self, line: str) -> None:
        log.info("modem: dropped a line no command asked for: %r", line)
        self.late = [*self.late[-19:], line]

    def _on_urc(self, kind: str, line: str) -> None:
        if kind in ("reboot", "ready"):
            self.booted.set()
            # A module that restarted owes nothing from before: a late final still owed to a
            # command that gave up would otherwise take the next command's (a send's SEND OK
            # after a long loss of coverage, which then waited out its whole timeout).
            self._owed.clear()
        if kind == "info":
            return
        self.on_urc(kind, line)

    def _settle(self, exchange: Exchange) -> None:
        pending = self._pending
        if pending is None or pending.done() or not exchange.done:
            return
        if exchange.error is not None:
            pending.set_exception(ModemError(exchange.error))
        elif exchange.reply is not None:
            pending.set_result(exchange.reply)

    def abort(self, error: LinkError, link_only: bool = False) -> None:
        """End the command in flight at once (the link or the module went away)."""
        exchange, pending = self._exchange, self._pending
        if exchange is None or pending is None or pending.done():
            return
        if link_only and not exchange.command.link:
            return
        pending.set_exception(error)

    # --- commands ------------------------------------------------------------------------

    async def command(self, command: Command | str) -> Reply:
        if isinstance(command, str):
            command = Command(command)
        async with self._lock:
            if self.dirty:
                await self._resync()
            return await self._run(command)

    async def _run(self, command: Command) -> Reply:
        loop = asyncio.get_running_loop()
        now = time.monotonic()
        self._owed = [o for o in self._owed if o.until >= now]
        exchange = Exchange(command, self.dialect.urcs, self._owed)
        self._pending = pending = loop.create_future()
        self._exchange = exchange
        log.debug("AT > %s", command.text)
        try:
            self.serial.write(command.text.encode("ascii") + b"\r")
            reply = await asyncio.wait_for(pending, command.timeout)
        except TimeoutError:
            self.timeouts_in_a_row += 1
            # A line this command waited for may have been taken as an older command's debt (a
            # debt whose line never came, say): then owing this one's too would take the next
            # command's, and so on for ever. The debt is settled by this timeout instead.
            self._gave_up(command, owe=not exchange.took_owed)
            raise ModemTimeout(f"{command.text}: no answer within {command.timeout:g} s") from None
        except OSError as exc:
            raise ModemError(f"cannot write to the modem: {exc}", NO_MODEM) from None
        except LinkError:
            if not exchange.done:
                # Cut short by the link going away (PDP DEACT, CLOSED): the connection it used
                # is gone, so a late final comes at once if at all, and the resync's quiet
                # window drops it. Owing it for the command's whole bound instead let it take
                # the next send's SEND OK after coverage came back, which then timed out and
                # owed again, send after send.
                self._gave_up(command, owe=False)
            raise
        finally:
            self._exchange = None
            self._pending = None
        self.timeouts_in_a_row = 0
        return reply

    def _gave_up(self, command: Command, owe: bool = True) -> None:
        self.dirty = True
        if owe and command.distinct:
            until = time.monotonic() + 2 * max(command.timeout, 5.0)
            self._owed.append(Owed(command.distinct, until))

    async def _resync(self) -> None:
        """After a command gave up: AT, then a quiet window; late replies in it are dropped."""
        self.dirty = False
        with contextlib.suppress(ModemError):
            await self._run(Command("AT", timeout=RESYNC_S))
            await asyncio.sleep(QUIET_S)  # a quiet window by design, not a wait for an event

    async def sync(self, tries: int = 5) -> None:
        """Get the module's attention (AT until OK) and turn echo off.

        The module may not be in command mode: a program that died between ``AT+CIPSEND=<n>``
        and its data (a power cut, a SIGKILL) leaves it at the ``>`` prompt, where every byte,
        our ``AT`` included, is data until n bytes have come. So each try starts with ESC, which
        ends a Ctrl-Z terminated prompt (a text SMS, a send without length) and is ignored in
        command mode; if the module still does not answer, the next try first sends as many
        line ends as one send can hold, so a fixed-length prompt is completed (the stale
        connection gets the filler; bring-up shuts that connection anyway) and the rest are
        empty command lines, which the module ignores. A try that gave up leaves the channel
        dirty, so its late OK is dropped before the next command.
        """
        for attempt in range(tries):
            fill = attempt == 1
            await self._write_raw(FILL * self.dialect.chunk + ESC if fill else ESC)
            async with self._lock:
                try:
                    await self._run(Command("AT", timeout=5 if fill else 1))
                except ModemError:
                    continue
                if attempt:  # an earlier try's OK may still come: let it pass
                    await asyncio.sleep(QUIET_S)
                self.dirty = False
                break
        else:
            raise ModemTimeout("the modem does not answer AT", NO_MODEM)
        await self.command("ATE0")

    async def _write_raw(self, data: bytes) -> None:
        """Bytes outside any command, under the command lock so no command is cut."""
        async with self._lock:
            try:
                self.serial.write(data)
            except OSError as exc:
                raise ModemError(f"cannot write to the modem: {exc}", NO_MODEM) from None
