"""The GPRS module as the engine's ``Transport``: bring-up, the recovery ladder, data.

``Modem`` (``channel``) runs one command at a time and routes URCs; this module is what the
terminal sees. ``ModemTransport`` brings the link up when needed — waiting, within documented
bounds, for the SIM and the network and saying what it waits for (``ready``) — sends in chunks
of at most 1460 bytes, and turns ``CLOSED``, ``+PDP: DEACT``, a reset banner or a power-down
into a ``LinkError`` for whoever waits, at once. A failed connect climbs a ladder rather than
repeating itself: close the attempt, then shut the context and activate afresh, then restart
the module (``AT+CFUN=1,1``) and wait for its own readiness lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from drivers.modem.channel import Modem, ModemError, ModemTimeout, Reply
from drivers.modem.dialects import CPIN, CREG, Command
from drivers.modem.ready import (
    WAIT_TEXT,
    ModemInfo,
    Waits,
    csq_bars,
    query,
    read_status,
    registered,
    sim_ready,
)
from drivers.transport import LinkError, LinkEvent, LinkState, LinkTimeout

__all__ = [
    "Modem",
    "ModemError",
    "ModemInfo",
    "ModemTimeout",
    "ModemTransport",
    "Reply",
    "Waits",
    "csq_bars",
]

log = logging.getLogger("gridpos.modem")

RESET_AFTER = 3  # consecutive failed connects before the module is restarted
POWER_CYCLE_S = 30  # the board's power cycle command may take this long
DOWN_KINDS = ("reboot", "port_lost", "power_down", "sim_removed")


class ModemTransport:
    """``Transport`` over the module's TCP/IP stack.

    Link events (connecting, up, down and why) go to ``on_event`` as they happen and are not
    kept here: a terminal runs for months, and whoever needs a history (the status bar, a
    test) keeps the little it needs. What the driver is waiting for goes to ``on_status`` as a
    text key of ``WAIT_TEXT`` and the seconds waited so far; ``status_key`` holds the current one
    (None when it waits for nothing), ``low_power`` the module's under-voltage warning.
    """

    def __init__(
        self,
        modem: Modem,
        apn: str = "",
        user: str = "",
        password: str = "",
        link_up_timeout: float = 75,
        on_event: Callable[[LinkEvent], None] | None = None,
        waits: Waits | None = None,
        on_status: Callable[[str | None, int], None] | None = None,
        power_cycle: Sequence[str] = (),
    ) -> None:
        self.modem = modem
        self.power_cycle = tuple(power_cycle)  # the board's command to cycle the module's power
        self.apn = apn
        self.user = user
        self.password = password
        self.link_up_timeout = link_up_timeout
        self.on_event = on_event or (lambda event: None)
        self.on_status = (lambda key, seconds: None) if on_status is None else on_status
        self.waits = waits or Waits()
        self.info = ModemInfo()
        self.active = False  # PDP context up
        self.failures = 0  # connects failed in a row: the rung of the recovery ladder
        self.status_key: str | None = None
        self.status_seconds = 0  # how long the current wait has lasted
        self.low_power = False
        self.fresh = True  # just powered up or reset: the network search may take a minute
        self._connected = False
        self._closed_reason = ""
        self._closed_problem = ""  # the same, as the operator is told (drivers.transport)
        self._wake = asyncio.Event()
        self._puller: asyncio.Task[None] | None = None  # reads manual-mode data (CIPRXGET, QIRD)
        self._rx_more = False
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

    def _status(self, key: str | None, seconds: int = 0) -> None:
        if key is not None and key != self.status_key:
            log.info("modem: %s", WAIT_TEXT.get(key, (key, key))[1])
        self.status_key = key
        self.status_seconds = seconds
        self.on_status(key, seconds)

    def _urc(self, kind: str, line: str) -> None:
        if kind == "closed":
            self._drop("the station closed the connection (CLOSED)", "link_closed")
        elif kind == "pdp_deact":
            self.active = False
            self._drop("GPRS context deactivated by the network (PDP DEACT)", "link_gprs")
        elif kind in DOWN_KINDS:
            self.active = False
            self.fresh = kind != "sim_removed"
            self._drop(f"the modem reset or lost power ({line})", "link_modem_reset", False)
        elif kind == "power_warning":  # a warning: the link stays; the status bar shows it
            self.low_power = True
            self._status("low_power")
        elif kind == "registration":
            log.info("modem: %s", line)
        elif kind == "rx_ready":
            self._pull_soon()

    # --- manual receive (SIM800 AT+CIPRXGET=1, M26 AT+QINDI=1) ------------------------

    def _pull_soon(self) -> None:
        """``+CIPRXGET: 1`` / ``+QIRDI:``: data waits in the module; read it in the queue's turn.

        The module reports once and not again until its buffer has been read empty, so one
        reader runs to cnflength 0; a report that comes while it runs makes it go round once
        more rather than start a second reader. Taken in push mode too: a module left in manual
        mode by an earlier program would otherwise hold the station's answer for ever.
        """
        self._rx_more = True
        if self._puller is None or self._puller.done():
            self._puller = asyncio.get_running_loop().create_task(self._pull())

    async def _pull(self) -> None:
        command = self.modem.dialect.read()
        try:
            while self._rx_more:
                self._rx_more = False
                more = True
                while more:  # the data itself goes to the receive queue as it is read
                    reply = await self.modem.command(command)
                    _, more = self.modem.dialect.read_progress(reply.match(command), command.text)
        except LinkError as exc:  # ERROR, CLOSED or a timeout between reads: a broken link
            if self._connected:
                self._drop(f"receive failed: {exc}")

    def _drop(self, reason: str, problem: str = "", link_only: bool = True) -> None:
        was = self._connected
        self._connected = False
        self._closed_reason, self._closed_problem = reason, problem
        self._wake.set()
        self.modem.abort(ModemError(reason, problem), link_only=link_only)
        if was or not self.active:
            self._event(LinkState.DOWN, reason)

    # --- bring-up ------------------------------------------------------------------------

    async def status(self) -> ModemInfo:
        """SIM, registration, signal, operator, cell, IMEI, ICCID: what the module says now."""
        m, info = self.modem, self.info
        try:
            sim = await query(m, "AT+CPIN?", CPIN)
            info.sim = sim[0].strip() if sim else ""
        except ModemError as exc:
            info.sim = str(exc).split(": ", 1)[-1]
        await m.command("AT+CREG=2")
        creg = await query(m, "AT+CREG?", CREG)
        stat, lac, cell = creg if creg else ("", "", "")
        info.stat, info.registered = stat, stat in ("1", "5")
        if lac and cell:
            info.lac, info.cell = int(lac, 16), int(cell, 16)
        return await read_status(m, info)

    async def ready(self) -> ModemInfo:
        """Attention, SIM, network: each waited for within its bound, the operator told."""
        m, info = self.modem, self.info
        await m.sync()
        info.sim = await sim_ready(m, self.waits, self._status)
        await registered(m, info, self.waits, self._status, self.fresh)
        self.fresh = False
        await read_status(m, info)
        self._status(None)
        return info

    async def bring_up(self) -> ModemInfo:
        """From power-on to an active PDP context, saying plainly which step failed."""
        self._event(LinkState.CONNECTING, "bringing up GPRS")
        m = self.modem
        try:
            info = await self.ready()
        finally:
            self._status(None)
        if info.csq == 99:
            raise ModemError("no signal (CSQ 99)", "link_no_network")
        await m.command(Command("AT+CGATT=1", timeout=self.link_up_timeout))
        apn = self.apn or _default_apn(info.operator)
        for command in m.dialect.setup(apn, self.user, self.password, m.receive):
            await m.command(command)
        reply = None
        for command in m.dialect.activate():
            reply = await m.command(command)
        info.ip = reply.final if reply else ""
        self.active = True
        return info

    # --- Transport ---------------------------------------------------------------------

    async def connect(self, host: str, port: int, timeout: float) -> None:
        if self.failures >= RESET_AFTER:
            await self.reset()
        step = "link_gprs"  # what the operator is told if the step fails without saying more
        try:
            if not self.active:
                await self.bring_up()
            self._drain()
            step = "link_unreachable"
            reply = await self.modem.command(self.modem.dialect.open(host, port, timeout))
            if reply.final.startswith("ALREADY CONNECT"):  # a connection we no longer own
                await self._close_quietly()
                reply = await self.modem.command(self.modem.dialect.open(host, port, timeout))
                if reply.final.startswith("ALREADY CONNECT"):
                    raise ModemError("the module keeps an old connection (ALREADY CONNECT)")
        except ModemError as exc:
            exc.problem = exc.problem or step
            self.failures += 1
            self._event(LinkState.DOWN, str(exc))
            await self._recover(exc)
            raise
        self.failures = 0
        self._connected = True
        self._wake.clear()
        self._event(LinkState.UP, f"connected to {host}:{port}")

    async def _recover(self, exc: ModemError) -> None:
        """One rung of the ladder per failure, so the next try never repeats this one."""
        text = str(exc)
        if self.modem.timeouts_in_a_row >= 2 or self.failures >= RESET_AFTER:
            await self.reset()
        elif "PDP DEACT" in text or self.failures >= 2 or not self.active:
            await self._shut()
        else:  # a CIPSTART/QIOPEN that timed out or failed: close the attempt
            await self._close_quietly()

    async def _close_quietly(self) -> None:
        with contextlib.suppress(LinkError):
            await self.modem.command(self.modem.dialect.close())

    async def _shut(self) -> None:
        """Drop the context; the next connect attaches and activates afresh."""
        self.active = False
        with contextlib.suppress(LinkError):
            await self.modem.command(self.modem.dialect.deactivate())

    async def send(self, data: bytes) -> None:
        if not self._connected:
            raise self._gone("not connected")
        chunk = self.modem.dialect.chunk
        for start in range(0, len(data), chunk):
            try:
                await self.modem.command(self.modem.dialect.send(data[start : start + chunk]))
            except ModemError as exc:
                reason = self._closed_reason if not self._connected else ""
                problem = self._closed_problem if not self._connected else exc.problem
                self._drop(f"send failed: {reason or exc}", problem)
                if "SEND FAIL" in str(exc):  # the connection is no good: close it
                    await self._close_quietly()
                raise LinkError(f"send failed: {reason or exc}", self._closed_problem) from None

    async def receive(self, max_bytes: int = 4096, timeout: float | None = None) -> bytes:
        if not self.modem.data.empty():
            return self.modem.data.get_nowait()
        if not self._connected:
            raise self._gone("not connected")
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
        raise self._gone("connection closed")

    def _gone(self, otherwise: str) -> LinkError:
        """Why the connection is not there: as it went, if it went; else ``otherwise``."""
        return LinkError(self._closed_reason or otherwise, self._closed_problem)

    async def close(self) -> None:
        if self._connected:
            self._connected = False
            await self._close_quietly()
        self._drain()

    def _drain(self) -> None:
        while not self.modem.data.empty():
            self.modem.data.get_nowait()

    async def reset(self) -> None:
        """Restart the module and wait for its own readiness lines, within ``waits.boot_s``;
        if it stays silent and the board can cut its power (``power_cycle``), do that."""
        log.warning("modem: restarting the module (AT+CFUN=1,1)")
        self.active = False
        self._connected = False
        self.fresh = True
        self.modem.booted.clear()
        with contextlib.suppress(LinkError):
            await self.modem.command(Command("AT+CFUN=1,1", timeout=self.waits.reset_s))
        self._status("wait_boot")
        if not await self._booted() and self.power_cycle:
            await self._cycle_power()
            await self._booted()
        self._status(None)
        self.modem.timeouts_in_a_row = 0
        self.failures = 0
        self._event(LinkState.DOWN, "modem reset")

    async def _booted(self) -> bool:
        try:
            await asyncio.wait_for(self.modem.booted.wait(), self.waits.boot_s)
        except TimeoutError:
            return False
        return True

    async def _cycle_power(self) -> None:
        """The ladder's last rung: the board's own command cuts the module's supply or pulses
        its power key (``modem.power_cycle``); the module then boots as from cold."""
        log.warning("modem: silent after AT+CFUN=1,1; cycling its power: %s", self.power_cycle)
        self.modem.booted.clear()
        try:
            process = await asyncio.create_subprocess_exec(
                *self.power_cycle, stdin=asyncio.subprocess.DEVNULL
            )
            code = await asyncio.wait_for(process.wait(), POWER_CYCLE_S)
        except (OSError, TimeoutError) as exc:
            log.error("modem: the power cycle command failed: %s", exc or "timed out")
            return
        if code:
            log.error("modem: the power cycle command exited with %d", code)

    async def send_sms_pdu(self, pdu: str, length: int) -> None:
        """One binary SMS in PDU mode: ``pdu`` in hex (SMSC part first), ``length`` the TPDU's
        octets. Raises ``ModemError`` when the module refuses (+CMS ERROR) or does not answer."""
        await self.modem.command("AT+CMGF=0")
        await self.modem.command(
            Command(f"AT+CMGS={length}", data=pdu.encode("ascii") + b"\x1a", timeout=60)
        )

    async def send_sms(self, number: str, text: str) -> None:
        await self.modem.command("AT+CMGF=1")
        await self.modem.command(
            Command(f'AT+CMGS="{number}"', data=text.encode() + b"\x1a", timeout=60)
        )


def _default_apn(operator: str) -> str:
    """The operator's usual public APN when none is configured."""
    name = operator.upper()
    if "UNICOM" in name or "UNI" in name:
        return "3gnet"
    if "TELECOM" in name or "CT" in name:
        return "ctnet"
    return "CMNET"
