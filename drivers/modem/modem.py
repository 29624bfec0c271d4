"""The GPRS module: one reader owns the port; one command at a time; URCs routed at all times.

The reader is an event-loop callback on the port's file descriptor. It feeds ``ATReader`` and
sorts each event: a URC (from the dialect's prefix table) goes to the link-state handler even in
the middle of a command's reply; a ``>`` prompt releases the data of the command in flight;
data goes to the receive queue; every other line belongs to the command in flight, whose own
finals and errors end it. The reader catches everything: no exception ever leaves it.

``ModemTransport`` is the engine's ``Transport`` over the module's own TCP/IP stack: it brings
the link up when needed, sends in chunks of at most 1460 bytes, turns ``CLOSED`` and
``+PDP: DEACT`` into a ``LinkError`` for whoever waits, and re-activates on the next connect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from drivers.modem.at import ATReader, Data, Prompt
from drivers.modem.dialects import DIALECTS, IP_LINE, Command, Dialect
from drivers.transport import LinkError, LinkEvent, LinkState, LinkTimeout

log = logging.getLogger("gridpos.modem")

ESC = b"\x1b"  # ends a data prompt without sending (a Ctrl-Z terminated one)
FILL = b"\r"  # completes a fixed-length data prompt; an empty line in command mode


class ModemError(LinkError):
    """The module answered with an error, or not at all."""


class ModemTimeout(ModemError, LinkTimeout):
    pass


@dataclass
class Reply:
    """What the module answered to one command: its lines and the final."""

    final: str
    lines: list[str]

    def value(self, prefix: str) -> str | None:
        for line in self.lines:
            if line.startswith(prefix):
                return line[len(prefix) :].strip()
        return None


@dataclass
class ModemInfo:
    """What diag modem reports: SIM, network, signal, cell and IP."""

    sim: str = ""
    registered: bool = False
    csq: int = 99
    operator: str = ""
    lac: int | None = None
    cell: int | None = None
    imei: str = ""
    iccid: str = ""
    ip: str = ""

    @property
    def bars(self) -> int:
        return csq_bars(self.csq)


def csq_bars(csq: int) -> int:
    """Signal bars 0..4 from CSQ (0..31, 99 unknown)."""
    if csq == 99 or csq < 2:
        return 0
    if csq < 10:
        return 1
    if csq < 15:
        return 2
    if csq < 20:
        return 3
    return 4


class Modem:
    def __init__(self, port: str, dialect: str = "sim800", baudrate: int = 115200) -> None:
        import serial

        self.dialect: Dialect = DIALECTS[dialect]
        try:
            self.serial = serial.serial_for_url(port, baudrate=baudrate, timeout=0)
        except (serial.SerialException, ValueError) as exc:
            raise ModemError(f"cannot open the modem port {port}: {exc}") from None
        self._reader = ATReader()
        self._lock = asyncio.Lock()
        self._pending: asyncio.Future[Reply] | None = None
        self._command: Command | None = None
        self._lines: list[str] = []
        self.data: asyncio.Queue[bytes] = asyncio.Queue()
        self.on_urc: Callable[[str, str], None] = lambda kind, line: None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.timeouts_in_a_row = 0

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
            self._fail_pending(ModemError(f"modem port failed: {exc}"))
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
        if isinstance(event, Prompt):
            log.debug("AT < >")
            command = self._command
            if command is not None and command.data is not None:
                self.serial.write(command.data)
                log.debug("AT > [%d bytes of data]", len(command.data))
            return
        line = event.text
        log.debug("AT < %s", line)
        command = self._command
        if command is not None and line == command.text:
            return  # echo
        urc = self._urc(line, command)
        if urc is not None:
            self.on_urc(urc, line)
            return
        if command is None or self._pending is None or self._pending.done():
            return  # nobody asked: garbage or a late reply
        if command.ip_final and IP_LINE.match(line):
            self._finish(Reply(line, [*self._lines, line]))
            return
        for final in command.finals:
            if line.startswith(final):
                self._finish(Reply(line, self._lines))
                return
        for error in command.errors:
            if line.startswith(error):
                self._pending.set_exception(ModemError(f"{command.text}: {line}"))
                return
        self._lines.append(line)

    def _urc(self, line: str, command: Command | None) -> str | None:
        if command is not None and command.collect and line.startswith(command.collect):
            return None
        for prefix, kind in self.dialect.urcs.items():
            if line.startswith(prefix):
                return kind
        if line.startswith(("+CREG:", "+CGREG:")) and (command is None or not command.collect):
            return "registration"
        return None

    def _finish(self, reply: Reply) -> None:
        if self._pending is not None and not self._pending.done():
            self._pending.set_result(reply)

    def _fail_pending(self, error: Exception) -> None:
        if self._pending is not None and not self._pending.done():
            self._pending.set_exception(error)

    # --- commands ------------------------------------------------------------------------

    async def command(self, command: Command | str) -> Reply:
        if isinstance(command, str):
            command = Command(command)
        async with self._lock:
            loop = asyncio.get_running_loop()
            self._pending = loop.create_future()
            self._command = command
            self._lines = []
            log.debug("AT > %s", command.text)
            try:
                self.serial.write(command.text.encode("ascii") + b"\r")
                reply = await asyncio.wait_for(self._pending, command.timeout)
            except TimeoutError:
                self.timeouts_in_a_row += 1
                raise ModemTimeout(
                    f"{command.text}: no answer within {command.timeout:g} s"
                ) from None
            except OSError as exc:
                raise ModemError(f"cannot write to the modem: {exc}") from None
            finally:
                self._command = None
                self._pending = None
            self.timeouts_in_a_row = 0
            return reply

    async def sync(self, tries: int = 5) -> None:
        """Get the module's attention (AT until OK) and turn echo off.

        The module may not be in command mode: a program that died between ``AT+CIPSEND=<n>``
        and its data (a power cut, a SIGKILL) leaves it at the ``>`` prompt, where every byte,
        our ``AT`` included, is data until n bytes have come. So each try starts with ESC, which
        ends a Ctrl-Z terminated prompt (a text SMS, a send without length) and is ignored in
        command mode; if the module still does not answer, the next try first sends as many
        line ends as one send can hold, so a fixed-length prompt is completed (the stale
        connection gets the filler; bring-up shuts that connection anyway) and the rest are
        empty command lines, which the module ignores. The module answers that try only once
        the completed send is through, so it is given longer: an answer that came after its
        try had given up would be taken for the answer to the next command.
        """
        for attempt in range(tries):
            fill = attempt == 1
            await self._write_raw(FILL * self.dialect.chunk + ESC if fill else ESC)
            try:
                await self.command(Command("AT", timeout=5 if fill else 1))
                break
            except ModemError:
                continue
        else:
            raise ModemTimeout("the modem does not answer AT")
        await self.command("ATE0")

    async def _write_raw(self, data: bytes) -> None:
        """Bytes outside any command, under the command lock so no command is cut."""
        async with self._lock:
            try:
                self.serial.write(data)
            except OSError as exc:
                raise ModemError(f"cannot write to the modem: {exc}") from None


class ModemTransport:
    """``Transport`` over the module's TCP/IP stack.

    Link events (connecting, up, down and why) go to ``on_event`` as they happen and are not
    kept here: a terminal runs for months, and whoever needs a history (the status bar, a
    test) keeps the little it needs.
    """

    def __init__(
        self,
        modem: Modem,
        apn: str = "",
        user: str = "",
        password: str = "",
        link_up_timeout: float = 75,
        on_event: Callable[[LinkEvent], None] | None = None,
    ) -> None:
        self.modem = modem
        self.apn = apn
        self.user = user
        self.password = password
        self.link_up_timeout = link_up_timeout
        self.on_event = on_event or (lambda event: None)
        self.info = ModemInfo()
        self.active = False  # PDP context up
        self._connected = False
        self._closed_reason = ""
        self._wake = asyncio.Event()
        modem.on_urc = self._urc

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def signal_bars(self) -> int | None:
        return None if self.info.csq == 99 else self.info.bars

    def _event(self, state: LinkState, reason: str) -> None:
        event = LinkEvent(state, reason)
        log.info("link %s: %s", state.value, reason)
        self.on_event(event)

    def _urc(self, kind: str, line: str) -> None:
        if kind == "closed":
            self._drop("the station closed the connection (CLOSED)")
        elif kind == "pdp_deact":
            self.active = False
            self._drop("GPRS context deactivated by the network (PDP DEACT)")
        elif kind in ("reboot", "port_lost", "power", "sim_removed"):
            self.active = False
            self._drop(f"the modem reset or lost power ({line})")

    def _drop(self, reason: str) -> None:
        was = self._connected
        self._connected = False
        self._closed_reason = reason
        self._wake.set()
        if was or not self.active:
            self._event(LinkState.DOWN, reason)

    # --- bring-up ------------------------------------------------------------------------

    async def status(self) -> ModemInfo:
        """SIM, registration, signal, operator, cell, IMEI, ICCID: what the module says now."""
        m, info = self.modem, self.info
        reply = await m.command(Command("AT+CPIN?", collect="+CPIN:"))
        info.sim = reply.value("+CPIN:") or ""
        csq = (await m.command(Command("AT+CSQ", collect="+CSQ:"))).value("+CSQ:") or "99,99"
        info.csq = int(csq.split(",")[0]) if csq.split(",")[0].isdigit() else 99
        await m.command("AT+CREG=2")
        creg = (await m.command(Command("AT+CREG?", collect="+CREG:"))).value("+CREG:") or ""
        fields = [f.strip().strip('"') for f in creg.split(",")]
        info.registered = len(fields) > 1 and fields[1] in ("1", "5")
        if len(fields) >= 4:
            with contextlib.suppress(ValueError):
                info.lac, info.cell = int(fields[2], 16), int(fields[3], 16)
        cops = (await m.command(Command("AT+COPS?", collect="+COPS:"))).value("+COPS:") or ""
        match = re.search(r'"([^"]*)"', cops)
        info.operator = match.group(1) if match else ""
        imei = await m.command("AT+CGSN")
        info.imei = next((line for line in imei.lines if line.isdigit()), "")
        ccid = await m.command(self.modem.dialect.ccid)
        info.iccid = next((line.split()[-1] for line in ccid.lines if line), "")
        return info

    async def bring_up(self) -> ModemInfo:
        """From power-on to an active PDP context, saying plainly which step failed."""
        self._event(LinkState.CONNECTING, "bringing up GPRS")
        m = self.modem
        await m.sync()
        info = await self.status()
        if info.sim != "READY":
            raise ModemError(f"SIM card not ready ({info.sim or 'no answer'})")
        if info.csq == 99:
            raise ModemError("no signal (CSQ 99)")
        if not info.registered:
            raise ModemError("not registered on the network")
        await m.command(Command("AT+CGATT=1", timeout=self.link_up_timeout))
        apn = self.apn or _default_apn(info.operator)
        for command in m.dialect.setup(apn, self.user, self.password):
            await m.command(command)
        reply = None
        for command in m.dialect.activate():
            reply = await m.command(command)
        info.ip = reply.final if reply else ""
        self.active = True
        return info

    # --- Transport ---------------------------------------------------------------------

    async def connect(self, host: str, port: int, timeout: float) -> None:
        try:
            if not self.active:
                await self.bring_up()
            self._drain()
            await self.modem.command(self.modem.dialect.open(host, port, timeout))
        except ModemError as exc:
            self._event(LinkState.DOWN, str(exc))
            if self.modem.timeouts_in_a_row >= 2:
                await self.reset()
            raise
        self._connected = True
        self._wake.clear()
        self._event(LinkState.UP, f"connected to {host}:{port}")

    async def send(self, data: bytes) -> None:
        if not self._connected:
            raise LinkError(self._closed_reason or "not connected")
        chunk = self.modem.dialect.chunk
        for start in range(0, len(data), chunk):
            try:
                await self.modem.command(self.modem.dialect.send(data[start : start + chunk]))
            except ModemError as exc:
                self._drop(f"send failed: {exc}")
                raise LinkError(f"send failed: {exc}") from None

    async def receive(self, max_bytes: int = 4096, timeout: float | None = None) -> bytes:
        if not self.modem.data.empty():
            return self.modem.data.get_nowait()
        if not self._connected:
            raise LinkError(self._closed_reason or "not connected")
        getter = asyncio.ensure_future(self.modem.data.get())
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            done, _ = await asyncio.wait(
                {getter, waker}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            waker.cancel()
        if getter in done:
            return getter.result()
        getter.cancel()
        if not done:
            raise LinkTimeout(f"no answer within {timeout:g} s")
        raise LinkError(self._closed_reason or "connection closed")

    async def close(self) -> None:
        if self._connected:
            self._connected = False
            with contextlib.suppress(LinkError):
                await self.modem.command(self.modem.dialect.close())
        self._drain()

    def _drain(self) -> None:
        while not self.modem.data.empty():
            self.modem.data.get_nowait()

    async def reset(self) -> None:
        """The module stopped answering: restart it and start the link from scratch."""
        log.warning("modem not answering: resetting it")
        self.active = False
        self._connected = False
        with contextlib.suppress(LinkError):
            await self.modem.command(Command("AT+CFUN=1,1", timeout=15))
        self.modem.timeouts_in_a_row = 0
        self._event(LinkState.DOWN, "modem reset")

    async def send_sms(self, number: str, text: str) -> None:
        await self.modem.command("AT+CMGF=1")
        await self.modem.command(
            Command(
                f'AT+CMGS="{number}"', collect="+CMGS:", data=text.encode() + b"\x1a", timeout=60
            )
        )


def _default_apn(operator: str) -> str:
    """The operator's usual public APN when none is configured."""
    name = operator.upper()
    if "UNICOM" in name or "UNI" in name:
        return "3gnet"
    if "TELECOM" in name or "CT" in name:
        return "ctnet"
    return "CMNET"
