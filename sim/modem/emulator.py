"""A SIM800 or M26 GPRS module on a pseudo-terminal, bridging its TCP connection to a target.

The program under test opens the pty's slave path with pyserial exactly as it would open the
module's UART. The emulator answers every AT command the driver uses in the module's dialect,
echoes until ATE0, frames received data as the module does (``+IPD,n:`` / ``+RECEIVE: 0, n``),
and models the GPRS link: round-trip time, bandwidth and jitter on the data in both directions.

Faults are injected through methods (tests) or text commands (``control``, used by the CLI and
demo scenarios): the link dropped after n bytes either way, ``+PDP: DEACT``, ``CLOSED``,
``SEND FAIL``, no signal, no registration, slow activation, garbage and NUL bytes on the line,
echo on, a reboot, a module that stops answering.
"""

from __future__ import annotations

import contextlib
import os
import queue
import random
import re
import socket
import threading
import time
import tty
from dataclasses import dataclass

RDY_LINES = ("RDY", "+CFUN: 1", "+CPIN: READY", "Call Ready", "SMS Ready")


@dataclass
class LinkModel:
    rtt_s: float = 0.0
    kbps: float | None = None  # None: no bandwidth limit
    jitter_s: float = 0.0
    seed: int = 0

    def delay(self, size: int, rng: random.Random) -> float:
        wire = size * 8 / (self.kbps * 1000) if self.kbps else 0.0
        jitter = rng.uniform(0, self.jitter_s) if self.jitter_s else 0.0
        return self.rtt_s / 2 + wire + jitter


class _Pipe(threading.Thread):
    """Delivers chunks in order, each no earlier than its link delay allows."""

    def __init__(self, deliver, link: LinkModel, rng: random.Random) -> None:
        super().__init__(daemon=True)
        self.deliver = deliver
        self.link = link
        self.rng = rng
        self.queue: queue.Queue = queue.Queue()
        self.last = 0.0
        self.start()

    def put(self, data: bytes) -> None:
        release = max(self.last, time.monotonic() + self.link.delay(len(data), self.rng))
        self.last = release
        self.queue.put((release, data))

    def stop(self) -> None:
        self.queue.put(None)

    def run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            release, data = item
            wait = release - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            with contextlib.suppress(OSError):
                self.deliver(data)


class ModemEmulator:
    def __init__(
        self,
        target: tuple[str, int],
        dialect: str = "sim800",
        link: LinkModel | None = None,
    ) -> None:
        if dialect not in ("sim800", "m26"):
            raise ValueError(f"unknown dialect {dialect!r}")
        self.target = target
        self.dialect = dialect
        self.link = link or LinkModel()
        self.rng = random.Random(self.link.seed)
        self._master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self._slave = slave
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        # module state
        self.echo = True
        self.csq = 21
        self.registered = True
        self.attached = False
        self.active = False
        self.activation_s = 0.0
        self.send_fail = 0
        self.muted = False
        self.apn = ""
        self.sock: socket.socket | None = None
        self.drop_up: int | None = None
        self.drop_down: int | None = None
        self.late_down = 0.0  # the next data towards the terminal is held this long
        self.duplicate_down = False  # the next data towards the terminal arrives twice
        self.sent_up = 0
        self.sent_down = 0
        self.commands: list[str] = []
        self._up: _Pipe | None = None
        self._down: _Pipe | None = None
        self._pending_send: int | None = None
        self._sms = False
        self.sms_sent: list[tuple[str, bytes]] = []  # (number, text) of every SMS sent
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    # --- control -----------------------------------------------------------------------

    def close(self) -> None:
        self._stop.set()
        self._close_tcp(None)
        self._thread.join(5)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def pdp_deact(self) -> None:
        self.active = False
        self._close_tcp(None)
        self._urc("+PDP: DEACT" if self.dialect == "sim800" else "+PDP DEACT")

    def remote_close(self) -> None:
        self._close_tcp("CLOSED")

    def reboot(self) -> None:
        self._close_tcp(None)
        self.active = self.attached = False
        self.echo = True
        self.muted = False
        self.send_fail = 0
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
                case ["registration", state]:
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
                case _:
                    return f"unknown modem command: {command}"
        except ValueError:
            return f"bad number in: {command}"
        return f"ok {command}"

    # --- the pty side --------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        with self._write_lock:
            os.write(self._master, data)

    def _urc(self, line: str) -> None:
        self._write(f"\r\n{line}\r\n".encode())

    def _reply(self, *lines: str) -> None:
        self._write("".join(f"\r\n{line}\r\n" for line in lines).encode())

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
            if self._pending_send is not None:
                if len(buffer) < self._pending_send:
                    return buffer
                data, buffer = buffer[: self._pending_send], buffer[self._pending_send :]
                self._pending_send = None
                self._tcp_send(data)
                continue
            if self._sms:
                if b"\x1a" not in buffer:
                    return buffer
                text_sent, buffer = buffer.split(b"\x1a", 1)
                self.sms_sent[-1] = (self.sms_sent[-1][0], text_sent)
                self._sms = False
                self._reply("+CMGS: 17", "OK")
                continue
            end = buffer.find(b"\r")
            if end < 0:
                return buffer
            line, buffer = buffer[:end], buffer[end + 1 :].lstrip(b"\n")
            text = line.decode("ascii", errors="replace").strip()
            if text:
                self._command(text)
        return buffer

    def _command(self, text: str) -> None:
        self.commands.append(text)
        if self.muted and text.upper() != "AT+CFUN=1,1":
            return
        if self.echo:
            self._write(text.encode() + b"\r")
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
            ok("+CPIN: READY", "OK")
        elif up == "AT+CSQ":
            ok(f"+CSQ: {self.csq},0", "OK")
        elif up.startswith("AT+CREG=") or up.startswith("AT+CGREG="):
            ok("OK")
        elif up in ("AT+CREG?", "AT+CGREG?"):
            state = 1 if self.registered else 2
            prefix = up[2:-1]
            ok(f'{prefix}: 2,{state},"1A2B","3C4D5E"', "OK")
        elif up == "AT+COPS?":
            ok('+COPS: 0,0,"CHINA MOBILE"' if self.registered else "+COPS: 0", "OK")
        elif up == "AT+CGSN":
            ok("861234056789012", "OK")
        elif up in ("AT+CCID", "AT+QCCID"):
            ok("89860012345678901234", "OK")
        elif up == "AT+CGATT=1":
            if not self.registered:
                ok("ERROR")
            else:
                self.attached = True
                ok("OK")
        elif up == "AT+CGATT?":
            ok(f"+CGATT: {int(self.attached)}", "OK")
        elif up == "AT+CFUN=1,1":
            ok("OK")
            threading.Timer(0.05, self.reboot).start()
        elif up == "AT+CMGF=1":
            ok("OK")
        elif up.startswith("AT+CMGS="):
            self._sms = True
            self.sms_sent.append((text.split("=", 1)[1].strip('"'), b""))
            self._write(b"\r\n> ")
        elif self.dialect == "sim800":
            self._sim800(up, text)
        else:
            self._m26(up, text)

    def _activate(self) -> None:
        if self.activation_s:
            time.sleep(self.activation_s)
        if not (self.registered and self.attached):
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
        elif up.startswith("AT+CSTT="):
            self.apn = text.split("=", 1)[1]
            ok("OK")
        elif up == "AT+CIICR":
            self._activate()
        elif up == "AT+CIFSR":
            ok("10.21.83.7") if self.active else ok("ERROR")
        elif up.startswith("AT+CIPSTART="):
            self._open(text)
        elif up.startswith("AT+CIPSEND="):
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
        elif up == "AT+QIACT":
            self._activate()
        elif up == "AT+QILOCIP":
            ok("10.21.83.8") if self.active else ok("ERROR")
        elif up.startswith("AT+QIOPEN="):
            self._open(text)
        elif up.startswith("AT+QISEND="):
            self._start_send(up)
        elif up == "AT+QICLOSE":
            self._close_tcp(None)
            ok("CLOSE OK")
        else:
            ok("ERROR")

    # --- the TCP side --------------------------------------------------------------------

    def _open(self, text: str) -> None:
        match = re.search(r'"TCP","([^"]+)",(\d+)', text, re.IGNORECASE)
        if not match or not self.active:
            self._reply("ERROR")
            return
        if self.sock is not None:
            self._reply("OK", "ALREADY CONNECT")
            return
        self._reply("OK")
        threading.Thread(target=self._connect, daemon=True).start()

    def _connect(self) -> None:
        time.sleep(self.link.rtt_s)  # the TCP handshake over GPRS
        try:
            sock = socket.create_connection(self.target, timeout=10)
        except OSError:
            self._reply("CONNECT FAIL")
            return
        sock.settimeout(None)
        self.sock = sock
        self.sent_up = self.sent_down = 0
        self._up = _Pipe(sock.sendall, self.link, self.rng)
        self._down = _Pipe(lambda data: self._deliver_down(data, sock), self.link, self.rng)
        self._reply("CONNECT OK")
        threading.Thread(target=self._read_tcp, args=(sock,), daemon=True).start()

    def _start_send(self, up: str) -> None:
        size = int(up.split("=", 1)[1])
        if self.sock is None or not 0 < size <= 1460:
            self._reply("ERROR")
            return
        self._pending_send = size
        self._write(b"\r\n> ")

    def _tcp_send(self, data: bytes) -> None:
        if self.send_fail:
            self.send_fail -= 1
            self._reply("SEND FAIL")
            return
        if self.sock is None or self._up is None:
            self._reply("ERROR")
            return
        if self.drop_up is not None and self.sent_up + len(data) >= self.drop_up:
            part = data[: max(self.drop_up - self.sent_up, 0)]
            if part:
                self._up.put(part)
            self.drop_up = None
            self._reply("SEND OK")
            threading.Timer(self.link.rtt_s + 0.05, self._close_tcp, args=("CLOSED",)).start()
            return
        self.sent_up += len(data)
        self._up.put(data)
        self._reply("SEND OK")

    def _read_tcp(self, sock: socket.socket) -> None:
        while True:
            try:
                data = sock.recv(1460)
            except OSError:
                data = b""
            if not data:
                if self.sock is sock:
                    self._close_tcp("CLOSED")
                return
            if self._down is not None:
                self._down.put(data)

    def _deliver_down(self, data: bytes, sock: socket.socket) -> None:
        if self.late_down:  # held in the network: later data waits behind it, as on TCP
            late, self.late_down = self.late_down, 0.0
            time.sleep(late)
        if self.sock is not sock:
            return  # that connection is closed (perhaps a new one is open): the data is lost
        if self.duplicate_down:
            self.duplicate_down = False
            self.sent_down += len(data)
            self._frame_down(data)
        if self.drop_down is not None and self.sent_down + len(data) >= self.drop_down:
            data = data[: max(self.drop_down - self.sent_down, 0)]
            self.drop_down = None
            if data:
                self._frame_down(data)
            self._close_tcp("CLOSED")
            return
        self.sent_down += len(data)
        self._frame_down(data)

    def _frame_down(self, data: bytes) -> None:
        if self.dialect == "sim800":
            self._write(f"\r\n+IPD,{len(data)}:".encode() + data)
        else:
            self._write(f"\r\n+RECEIVE: 0, {len(data)}\r\n".encode() + data)

    def _close_tcp(self, urc: str | None) -> None:
        sock, self.sock = self.sock, None
        for pipe in (self._up, self._down):
            if pipe is not None:
                pipe.stop()
        self._up = self._down = None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
            if urc:
                self._urc(urc)
