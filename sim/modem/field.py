"""How real modules misbehave, as fault kinds of the emulated module.

Each is seen in SIM800/M26 users' logs and described in the modules' manuals: echo on after
power-up, a SIM that answers ``+CME ERROR: SIM busy`` (or ``14``, or a bare ``ERROR``) for
seconds, the radio off (``CFUN`` 0), registration searching for a while or denied, a SIM that
wants its PIN, URCs in the middle of a reply, a reply that comes after the driver gave up,
``DATA ACCEPT:<n>`` instead of ``SEND OK`` (``AT+CIPQSEND=1`` left set), under-voltage warnings
and power-downs, received data framed ``IPD<n>:`` or ``+RECEIVE`` then ``IPD<n>:`` (M26), and
bytes delivered one at a time. A mixin of ``ModemEmulator``: the state lives on the emulator,
which the fault campaign sets and clears directly.

| control | effect |
|---|---|
| ``boot S`` | a reset: ``RDY``…, echo on, the SIM busy for S seconds |
| ``sim busy S [text]`` | ``AT+CPIN?`` answers ``+CME ERROR: SIM busy`` (or text) for S seconds |
| ``sim pin`` / ``sim ready`` | the SIM wants its PIN / is back to READY |
| ``cfun 0`` | the radio is off until ``AT+CFUN=1`` |
| ``registration searching S`` / ``registration denied`` | stat 2 for S seconds / stat 3 |
| ``urcs on|off`` | a URC inside every reply |
| ``late-reply S`` | the reply to the next command comes S seconds late |
| ``qsend on|off`` | sends answer ``DATA ACCEPT:<n>`` until the driver sets ``AT+CIPQSEND=0`` |
| ``power warn`` / ``power down`` | ``UNDER-VOLTAGE WARNNING`` / ``… POWER DOWN``, then silent |
| ``connect fail N`` | the next N opens answer ``CONNECT FAIL`` |
| ``bytewise on|off`` | every byte towards the terminal written on its own |
| ``rx-framing receive|ipd|both`` | M26 received-data header |
"""

from __future__ import annotations

import threading
import time

INSIDE_URCS = (
    "Call Ready",
    "SMS Ready",
    '*PSUTTZ: 2026,11,30,5,32,3,"+32",0',
    "DST: 0",
    "+CTZV: 32,0",
    '+CREG: 1,"1A2B","3C4D5E"',
    "+CGREG: 1",
    "+CFUN: 1",
    "+CPIN: READY",
    '+CMTI: "SM",1',
    "UNDER-VOLTAGE WARNNING",
)


class FieldBehaviour:
    """The emulator's field faults; see the module's table."""

    muted: bool
    registered: bool
    qsend: bool
    rx_framing: str
    connect_fail: int

    def _init_field(self) -> None:
        self.sim_busy_until = 0.0
        self.sim_busy_text = "+CME ERROR: SIM busy"
        self.sim_pin = False
        self.cfun = 1
        self.searching_until = 0.0
        self.denied = False
        self.urcs_inside = False
        self._urc_turn = 0
        self.late_next = 0.0
        self.bytewise = False

    def _reply(self, *lines: str) -> None:
        raise NotImplementedError

    def _urc(self, line: str) -> None:
        raise NotImplementedError

    def reboot(self) -> None:
        raise NotImplementedError

    def _close_tcp(self, urc: str | None) -> None:
        raise NotImplementedError

    def field_control(self, words: list[str]) -> bool:
        """Apply one field fault; False when the words are not one."""
        match words:
            case ["boot", seconds]:
                self.reboot()
                self.sim_busy_until = time.monotonic() + float(seconds)
            case ["sim", "busy", seconds, *text]:
                self.sim_busy_until = time.monotonic() + float(seconds)
                self.sim_busy_text = " ".join(text) or "+CME ERROR: SIM busy"
            case ["sim", "pin"]:
                self.sim_pin = True
            case ["sim", "ready"]:
                self.sim_pin, self.sim_busy_until = False, 0.0
            case ["cfun", "0"]:
                self.cfun = 0
            case ["registration", "searching", seconds]:
                self.searching_until = time.monotonic() + float(seconds)
            case ["registration", "denied"]:
                self.denied = True
            case ["urcs", state]:
                self.urcs_inside = state == "on"
            case ["late-reply", seconds]:
                self.late_next = float(seconds)
            case ["qsend", state]:
                self.qsend = state == "on"
            case ["power", "warn"]:
                self._urc("UNDER-VOLTAGE WARNNING")
            case ["power", "down"]:
                self._close_tcp(None)
                self._urc("UNDER-VOLTAGE POWER DOWN")
                self.muted = True
            case ["connect", "fail", count]:
                self.connect_fail = int(count)
            case ["bytewise", state]:
                self.bytewise = state == "on"
            case ["rx-framing", framing] if framing in ("receive", "ipd", "both"):
                self.rx_framing = framing
            case _:
                return False
        return True

    # --- what the module answers while these hold ------------------------------------------

    def _cpin(self) -> tuple[str, ...]:
        if self.cfun == 0:
            return ("+CME ERROR: CFUN state is 0 or 4",)
        if time.monotonic() < self.sim_busy_until:
            return (self.sim_busy_text,)
        if self.sim_pin:
            return ("+CPIN: SIM PIN", "OK")
        return ("+CPIN: READY", "OK")

    def _cfun_on(self) -> None:
        self.cfun = 1
        self._reply("OK")
        self._urc("+CPIN: READY")

    def _reg_stat(self) -> int:
        if self.denied:
            return 3
        if not self.registered or self.cfun == 0 or time.monotonic() < self.searching_until:
            return 2
        return 1

    def _with_urc(self, lines: tuple[str, ...]) -> tuple[str, ...]:
        """A URC inside the reply (after its first line) when ``urcs on``."""
        if not self.urcs_inside or not lines:
            return lines
        urc = INSIDE_URCS[self._urc_turn % len(INSIDE_URCS)]
        self._urc_turn += 1
        return (lines[0], urc, *lines[1:]) if len(lines) > 1 else (urc, *lines)

    def _late(self, handle, text: str) -> bool:
        """Run the command's handling S seconds late when ``late-reply S`` is armed."""
        if not self.late_next:
            return False
        late, self.late_next = self.late_next, 0.0
        threading.Timer(late, handle, args=(text,)).start()
        return True
