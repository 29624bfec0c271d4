"""What the module says about itself, and waiting — within bounds — until it is ready.

After power-up or a reset a module is not ready at once: ``+CPIN?`` answers ``ERROR``,
``+CME ERROR: SIM busy`` or ``+CME ERROR: 14`` for seconds; ``+CME ERROR: CFUN state is 0 or 4``
asks for ``AT+CFUN=1``; registration stays ``2`` (searching) for up to a minute. Each wait has
its bound (``Waits``) and reports what it waits for through ``on_wait(key, seconds)`` so the
status bar can say it ("等待SIM卡就绪", "正在搜索网络"). ``SIM PIN``/``SIM PUK`` and registration
``3`` (denied) are plain errors at once: waiting cannot cure them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from drivers.modem.channel import Modem, ModemError
from drivers.modem.dialects import COPS, CPIN, CREG, CSQ, ICCID, IMEI, Command

NETWORK = "link_no_network"  # the problem the operator is told (drivers.transport.PROBLEMS)

# What the operator is told while the driver waits: a text key, zh_CN and en.
WAIT_TEXT = {
    "wait_boot": ("等待模块启动", "waiting for the module to start"),
    "wait_sim": ("等待SIM卡就绪", "waiting for the SIM card"),
    "wait_radio": ("打开射频", "switching the radio on"),
    "wait_network": ("正在搜索网络", "searching for the network"),
}


@dataclass
class Waits:
    """The bounds of each wait, seconds (docs/modem.md lists them)."""

    reset_s: float = 15.0  # AT+CFUN=1,1 itself: its OK (a hung module gives none)
    boot_s: float = 15.0  # after AT+CFUN=1,1: until RDY / Call Ready / SMS Ready
    sim_s: float = 30.0  # +CPIN? not READY (busy, 14, ERROR)
    register_s: float = 90.0  # registration 0/2/4 (searching) after power-up or a reset
    reregister_s: float = 10.0  # … when it was registered since: coverage lost, fail soon
    poll_s: float = 1.0  # between two asks while waiting


@dataclass
class ModemInfo:
    """What diag modem reports: SIM, network, signal, cell and IP."""

    sim: str = ""
    registered: bool = False
    stat: str = ""  # the registration status digit: 1 home, 5 roaming, 2 searching, 3 denied
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


CFUN_OFF = ("CFUN STATE IS 0 OR 4", "+CME ERROR: 21")  # SIM800 text / numeric forms vary


async def query(modem: Modem, text: str, answer, timeout: float = 5.0) -> tuple[str, ...] | None:
    command = Command(text, answer=answer, timeout=timeout)
    return (await modem.command(command)).match(command)


async def sim_ready(modem: Modem, waits: Waits, on_wait: Callable[[str, int], None]) -> str:
    """``+CPIN: READY`` within ``waits.sim_s``, switching the radio on if it is off."""
    start = time.monotonic()
    radio_tried = False
    while True:
        try:
            found = await query(modem, "AT+CPIN?", CPIN)
            state = found[0].strip() if found else "no answer"
        except ModemError as exc:
            state = str(exc).split(": ", 1)[-1]
        upper = state.upper()
        if upper == "READY":
            return "READY"
        if any(k in upper for k in CFUN_OFF) and not radio_tried:
            radio_tried = True
            on_wait("wait_radio", 0)
            await modem.command(Command("AT+CFUN=1", timeout=10))
            continue
        if upper.startswith(("SIM PIN", "SIM PUK", "PH-")):
            raise ModemError(f"SIM card not ready ({state}): it needs its PIN", "link_sim")
        waited = time.monotonic() - start
        if waited >= waits.sim_s:
            raise ModemError(f"SIM card not ready ({state}) after {waits.sim_s:g} s", "link_sim")
        on_wait("wait_sim", int(waited))
        await asyncio.sleep(waits.poll_s)  # the module is asked again; nothing to wait on


async def registered(
    modem: Modem,
    info: ModemInfo,
    waits: Waits,
    on_wait: Callable[[str, int], None],
    fresh: bool = True,
) -> None:
    """Registered (1 home, 5 roaming) within its bound; 3 (denied) fails at once.

    A module fresh from power-up or a reset searches for up to ``waits.register_s``. One that
    was registered since has lost coverage: it is given ``waits.reregister_s``, and none at all
    when it hears no network (CSQ 99) — the operator is better served by "no network" now.
    """
    await modem.command("AT+CREG=2")  # LAC and cell id in the answer
    bound = waits.register_s if fresh else waits.reregister_s
    start = time.monotonic()
    while True:
        found = await query(modem, "AT+CREG?", CREG)
        stat, lac, cell = found if found else ("", "", "")
        info.stat = stat
        info.registered = stat in ("1", "5")
        if lac and cell:
            info.lac, info.cell = int(lac, 16), int(cell, 16)
        if info.registered:
            return
        if stat == "3":
            raise ModemError("not registered on the network: registration denied (3)", NETWORK)
        if not fresh:
            csq = await query(modem, "AT+CSQ", CSQ)
            info.csq = int(csq[0]) if csq else 99
            if info.csq == 99:
                raise ModemError(
                    f"not registered on the network ({stat}): no signal (CSQ 99)", NETWORK
                )
        waited = time.monotonic() - start
        if waited >= bound:
            raise ModemError(
                f"not registered on the network ({stat or 'no answer'}) after {bound:g} s", NETWORK
            )
        on_wait("wait_network", int(waited))
        await asyncio.sleep(waits.poll_s)


async def read_status(modem: Modem, info: ModemInfo) -> ModemInfo:
    """Signal, operator, IMEI and ICCID, each only from a line of its own form."""
    csq = await query(modem, "AT+CSQ", CSQ)
    info.csq = int(csq[0]) if csq else 99
    cops = await query(modem, "AT+COPS?", COPS)
    info.operator = cops[0] if cops else ""
    imei = await query(modem, "AT+CGSN", IMEI)
    info.imei = imei[0] if imei else ""
    iccid = await query(modem, modem.dialect.ccid, ICCID)
    info.iccid = iccid[0] if iccid else ""
    return info
