"""A SIM800 or M26 GPRS module on a pseudo-terminal, bridging its TCP connection to a target.

The program under test opens the pty's slave path with pyserial exactly as it would open the
module's UART. The emulator answers every AT command the driver uses in the module's dialect,
echoes until ATE0, frames received data as the module does (``+IPD,n:`` / ``+RECEIVE: 0, n``,
or held for ``AT+CIPRXGET=2,<n>`` / ``AT+QIRD`` reads in SIM800 / M26 manual mode),
and models the GPRS link: round-trip time, bandwidth and jitter on the data in both directions
(``sim.modem.network``). After the ``>`` prompt of a send or an SMS the bytes are data, not
commands, as on the module: a program that dies at the prompt leaves the module there, and the
driver must bring it back (``Modem.sync``).

Faults are injected through methods (tests) or text commands (``control``, used by the CLI and
demo scenarios): the link dropped after n bytes either way, ``+PDP: DEACT``, ``CLOSED``,
``SEND FAIL``, no signal, no registration, slow activation, garbage and NUL bytes on the line,
echo on, a reboot, a module that stops answering — and how real modules misbehave in the field
(``sim.modem.field``: SIM busy after a reset, radio off, searching or denied registration, URCs
inside replies, late replies, ``DATA ACCEPT`` mode, power lines, ``CONNECT FAIL``, M26 framings,
bytes one at a time).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass

from sim.modem.field import FieldBehaviour
from sim.modem.network import LinkModel, TcpSide

__all__ = ["LinkModel", "ModemEmulator"]

RDY_LINES = ("RDY", "+CFUN: 1", "+CPIN: READY", "Call Ready", "SMS Ready")
CTRL_Z = 0x1A  # submits the data of a prompt without a length
ESC = 0x1B  # cancels it


@dataclass
class _Prompt:
    """The module sent ``>``: what follows is data, not commands, until the prompt ends.

    With a length (``AT+CIPSEND=<n>``) exactly n bytes are data, whatever they are — the
    binary-safe form the driver uses, where Ctrl-Z and ESC are ordinary bytes. Without one
    (``AT+CIPSEND``, ``AT+CMGS``) the data runs to Ctrl-Z, which submits it; ESC cancels.
    """

    size: int | None
    submit: Callable[[bytes], None]


class ModemEmulator(TcpSide, FieldBehaviour):
    def __init__(
        self,
        target: tuple[str, int],
        dialect: str = "sim800",
        link: LinkModel | None = None,
    ) -> None:
        if dialect not in ("sim800", "m26"):
            raise ValueError(f"unknown dialect {dialect!r}")
        self.dialect = dialect
        self._init_tcp(target, link or LinkModel())
        self._init_field()
        self._master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self._slave = slave
        self._write_lock = threading.Lock()
        self._closed = False  # set under _write_lock by close(): no write after it
        self._stop = threading.Event()
        # module state
        self.echo = True
        self.csq = 21
        self.registered = True
        self.attached = False
        self.active = False
        self.activation_s = 0.0
        self.muted = False
        self.hung = False  # answers nothing, not even AT+CFUN=1,1, until power_cycle()
        self.power_cycles = 0
        self.apn = ""
        self.commands: list[str] = []
        self._prompt: _Prompt | None = None
        self.sms_sent: list[tuple[str, bytes]] = []  # (number, text) of every SMS sent
        self.sms_pdu_mode = False  # AT+CMGF=0: AT+CMGS=<length> takes a PDU in hex
        self.sms_sink: Callable[[str], None] = lambda pdu: None  # every PDU sent, as hex
        self.gprs = True  # "gprs down": registered (SMS goes) but no packet service
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    # --- control -----------------------------------------------------------------------

    def close(self) -> None:
        self._stop.set()
        self._close_tcp(None)
        self._thread.join(5)
        # A late reply's timer, a reboot timer or the link's reader may still want to write.
        # Once the pseudo-terminal is closed its descriptor number is free, and the next file
        # the process opens gets it (a test's SQLite WAL did): a write then would land in that
        # file. So closing and writing take the same lock, and nothing is written after close.
        with self._write_lock:
            self._closed = True
            if self._thread.is_alive():
                return  # its reader still reads the descriptor: leave it open, not reused
            for fd in (self._master, self._slave):
                with contextlib.suppress(OSError):
                    os.close(fd)

    def pdp_deact(self) -> None:
        self.active = False
        self._close_tcp(None)
        self._urc("+PDP: DEACT" if self.dialect == "sim800" else "+PDP DEACT")

    def remote_close(self) -> None:
        self._close_tcp("CLOSED")

    def hang(self) -> None:
        """The firmware hangs: nothing is answered, not even ``AT+CFUN=1,1``, until the power
        is cycled (field reports of SIM800 boards after brown-outs)."""
        self.hung = True

    def power_cycle(self) -> None:
        """The board cut and restored the module's supply (or pulsed its power key)."""
        self.hung = False
        self.power_cycles += 1
        self.reboot()

    def reboot(self) -> None:
        self._close_tcp(None)
        self._prompt = None
        self.active = self.attached = False
        self.echo = True
        self.muted = False
        self.send_fail = 0
        self.cfun, self.qsend = 1, False
        self.rx_manual = False  # AT+CIPRXGET=1 / AT+QINDI=1 is not kept over a reset
        for line in RDY_LINES:
            self._urc(line)

    def garbage(self, data: bytes = b"\x00\x00\xff\xfe+GARBAGE\x00\r\n\x07%$") -> None:
        self._write(data)

    def link_down(self) -> None:
        """Coverage lost: no registration, the context goes, the connection with it."""
        self.registered = False
        self.csq = 99
        if self.active:
            self.pdp_deact()

    def link_up(self) -> None:
        self.registered = True
        self.csq = 21

    def control(self, command: str) -> str:
        """Text control for scripts: returns 'ok ...' or a plain error."""
        words = command.split()
        try:
            match words:
                case ["link", "down"]:
                    self.link_down()
                case ["link", "up"]:
                    self.link_up()
                case ["link", "drop-after", n]:
                    self.drop_down = self.sent_down + int(n)
                case ["link", "drop-after-up", n]:
                    self.drop_up = self.sent_up + int(n)
                case ["link", "late", seconds]:
                    self.late_down = float(seconds)
                case ["link", "duplicate"]:
                    self.duplicate_down = True
                case ["pdp", "deact"]:
                    self.pdp_deact()
                case ["closed"]:
                    self.remote_close()
                case ["send", "fail"]:
                    self.send_fail += 1
                case ["signal", csq]:
                    self.csq = int(csq)
                case ["gprs", ("up" | "down") as state]:
                    self.gprs = state == "up"
                    if not self.gprs:
                        self.attached = False  # detached from the packet domain
                        if self.active:
                            self.pdp_deact()
                case ["registration", ("on" | "off") as state]:
                    self.registered = state == "on"
                case ["slow-activation", seconds]:
                    self.activation_s = float(seconds)
                case ["garbage"]:
                    self.garbage()
                case ["echo", state]:
                    self.echo = state == "on"
                case ["reboot"]:
                    self.reboot()
                case ["mute"]:
                    self.muted = True
                case ["hang"]:
                    self.hang()
                case ["power", "cycle"]:
                    self.power_cycle()
                case _ if self.field_control(words):
                    pass
                case _:
                    return f"unknown modem command: {command}"
        except ValueError:
            return f"bad number in: {command}"
        return f"ok {command}"

    # --- the pty side --------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        with self._write_lock:
            if self._closed:
                return  # closed: the descriptor number may belong to another file by now
            if not self.bytewise:
                os.write(self._master, data)
                return
            for byte in data:  # one byte per write: the reader sees every split
                os.write(self._master, bytes([byte]))
                time.sleep(0.0002)

    def _reply(self, *lines: str) -> None:
        self._write("".join(f"\r\n{line}\r\n" for line in self._with_urc(lines)).encode())

    def _run(self) -> None:
        import select

        buffer = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self._master, 4096)
            except OSError:
                continue
            buffer += chunk
            buffer = self._consume(buffer)

    def _consume(self, buffer: bytes) -> bytes:
        while buffer:
            if self._prompt is not None:
                prompt = self._prompt
                if prompt.size is not None:
                    if len(buffer) < prompt.size:
                        return buffer
                    data, buffer = buffer[: prompt.size], buffer[prompt.size :]
                    self._prompt = None
                    prompt.submit(data)
                    continue
                end = next((i for i, b in enumerate(buffer) if b in (CTRL_Z, ESC)), -1)
                if end < 0:
                    return buffer
                data, mark, buffer = buffer[:end], buffer[end], buffer[end + 1 :]
                self._prompt = None
                if mark == CTRL_Z:
                    prompt.submit(data)
                else:
                    self._reply("OK")  # cancelled: nothing is sent
                continue
            end = buffer.find(b"\r")
            if end < 0:
                return buffer
            line, buffer = buffer[:end], buffer[end + 1 :].lstrip(b"\n")
            # a stray ESC or Ctrl-Z before a command is not part of it (the module looks for AT)
            text = line.decode("ascii", errors="replace").strip(" \t\n\0\x1a\x1b")
            if text:
                self._command(text)
        return buffer

    def _prompt_for(self, size: int | None, submit: Callable[[bytes], None]) -> None:
        self._prompt = _Prompt(size, submit)
        self._write(b"\r\n> ")

    def _command(self, text: str) -> None:
        self.commands.append(text)
        if self.hung or (self.muted and text.upper() != "AT+CFUN=1,1"):
            return
        if self.echo:
            self._write(text.encode() + b"\r")
        if not self._late(self._handle_safely, text):
            self._handle_safely(text)

    def _handle_safely(self, text: str) -> None:
        try:
            self._handle(text)
        except Exception as exc:  # an emulator bug must look like a module error, not a hang
            self._reply("ERROR")
            print(f"modem emulator: {text}: {exc!r}")

    def _handle(self, text: str) -> None:
        up = text.upper()
        ok = self._reply
        if up == "AT":
            ok("OK")
        elif up in ("ATE0", "ATE1"):
            self.echo = up == "ATE1"
            ok("OK")
        elif up == "AT+CPIN?":
            ok(*self._cpin())
        elif up == "AT+CFUN=1":
            self._cfun_on()
        elif up == "AT+CSQ":
            ok(f"+CSQ: {self.csq},0", "OK")
        elif up.startswith("AT+CREG=") or up.startswith("AT+CGREG="):
            ok("OK")
        elif up in ("AT+CREG?", "AT+CGREG?"):
            state = self._reg_stat()
            prefix = up[2:-1]
            ok(f'{prefix}: 2,{state},"1A2B","3C4D5E"', "OK")
        elif up == "AT+COPS?":
            ok('+COPS: 0,0,"CHINA MOBILE"' if self.registered else "+COPS: 0", "OK")
        elif up == "AT+CGSN":
            ok("861234056789012", "OK")
        elif up in ("AT+CCID", "AT+QCCID"):
            ok("89860012345678901234", "OK")
        elif up == "AT+CGATT=1":
            if not (self.registered and self.gprs):
                ok("ERROR")
            else:
                self.attached = True
                ok("OK")
        elif up == "AT+CGATT?":
            ok(f"+CGATT: {int(self.attached)}", "OK")
        elif up == "AT+CFUN=1,1":
            ok("OK")
            threading.Timer(0.05, self.reboot).start()
        elif up in ("AT+CMGF=0", "AT+CMGF=1"):
            self.sms_pdu_mode = up.endswith("0")
            ok("OK")
        elif up.startswith("AT+CMGS=") and self.sms_pdu_mode:
            self._prompt_for(None, self._sms_pdu)
        elif up.startswith("AT+CMGS="):
            number = text.split("=", 1)[1].strip('"')
            self._prompt_for(None, lambda sms: self._sms_sent(number, sms))
        elif self.dialect == "sim800":
            self._sim800(up, text)
        else:
            self._m26(up, text)

    def _sms_pdu(self, pdu: bytes) -> None:
        """A PDU-mode SMS: sent when the module is registered (the circuit domain, not GPRS)."""
        if not self.registered:
            self._reply("+CMS ERROR: 331")  # no network service
            return
        text = pdu.decode("ascii", "replace").strip()
        self.sms_sent.append(("pdu", text.encode()))
        self.sms_sink(text)
        self._reply("+CMGS: 18", "OK")

    def _sms_sent(self, number: str, text: bytes) -> None:
        self.sms_sent.append((number, text))
        self._reply("+CMGS: 17", "OK")

    def _activate(self) -> None:
        if self.activation_s:
            time.sleep(self.activation_s)
        if not (self.registered and self.attached and self.gprs):
            self._reply("ERROR")
            return
        self.active = True
        self._reply("OK")

    def _sim800(self, up: str, text: str) -> None:
        ok = self._reply
        if up == "AT+CIPSHUT":
            self._close_tcp(None)
            self.active = False
            ok("SHUT OK")
        elif up in ("AT+CIPMUX=0", "AT+CIPHEAD=1"):
            ok("OK")
        elif up in ("AT+CIPQSEND=0", "AT+CIPQSEND=1"):
            self.qsend = up.endswith("1")
            ok("OK")
        elif up.startswith("AT+CSTT="):
            self.apn = text.split("=", 1)[1]
            ok("OK")
        elif up == "AT+CIICR":
            self._activate()
        elif up == "AT+CIFSR":
            ok("10.21.83.7") if self.active else ok("ERROR")
        elif up.startswith("AT+CIPRXGET"):
            self._rxget(up)
        elif up.startswith("AT+CIPSTART="):
            self._open(text)
        elif up.startswith("AT+CIPSEND"):
            self._start_send(up)
        elif up == "AT+CIPCLOSE=1":
            self._close_tcp(None)
            ok("CLOSE OK")
        elif up == "AT+CIPSTATUS":
            ok(
                "OK",
                "STATE: "
                + ("CONNECT OK" if self.sock else "IP GPRSACT" if self.active else "IP INITIAL"),
            )
        else:
            ok("ERROR")

    def _m26(self, up: str, text: str) -> None:
        ok = self._reply
        if up == "AT+QIDEACT":
            self._close_tcp(None)
            self.active = False
            ok("DEACT OK")
        elif up in (
            "AT+QIFGCNT=0",
            "AT+QIMUX=0",
            "AT+QIMODE=0",
            "AT+QIDNSIP=0",
            "AT+QIHEAD=1",
            "AT+QIREGAPP",
        ):
            ok("OK")
        elif up.startswith("AT+QICSGP="):
            self.apn = text.split("=", 1)[1]
            ok("OK")
        elif up in ("AT+QINDI=0", "AT+QINDI=1"):
            self.rx_manual = up.endswith("1")
            ok("OK")
        elif up == "AT+QINDI?":
            ok(f"+QINDI: {int(self.rx_manual)}", "OK")
        elif up.startswith("AT+QIRD="):
            self._qird(up)
        elif up == "AT+QIACT":
            self._activate()
        elif up == "AT+QILOCIP":
            ok("10.21.83.8") if self.active else ok("ERROR")
        elif up.startswith("AT+QIOPEN="):
            self._open(text)
        elif up.startswith("AT+QISEND"):
            self._start_send(up)
        elif up == "AT+QICLOSE":
            self._close_tcp(None)
            ok("CLOSE OK")
        else:
            ok("ERROR")

    # --- sends -------------------------------------------------------------------------------

    def _start_send(self, up: str) -> None:
        """``AT+CIPSEND=<n>`` takes n bytes; ``AT+CIPSEND`` takes data up to Ctrl-Z."""
        _, equals, value = up.partition("=")
        size = int(value) if equals else None
        if self.sock is None or (size is not None and not 0 < size <= 1460):
            self._reply("ERROR")
            return
        self._prompt_for(size, self._tcp_send)
