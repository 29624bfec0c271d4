"""The emulated module's network side: the GPRS link model and its one TCP connection.

``LinkModel`` gives each chunk its delay (half the round trip, the time on the wire at the
link's bandwidth, jitter); a ``Pipe`` delivers chunks in order, each no earlier than its delay.
``TcpSide`` is the module's TCP connection to the target — what ``AT+CIPSTART``/``AT+QIOPEN``
open and ``AT+CIPSEND``/``AT+QISEND`` write to — with the link's faults: the connection dropped
after n bytes either way, data held late or delivered twice, ``SEND FAIL`` — and how received
data reaches the terminal: pushed (``+IPD,n:``, ``+RECEIVE``) or, in SIM800 manual mode
(``AT+CIPRXGET=1``), kept in the module until the terminal reads it. It is a base of
``ModemEmulator`` rather than an object of its own because the fault attributes are the
emulator's (the fault campaign sets and clears them directly) and everything it reports goes
out on the emulator's pseudo-terminal, in the dialect's words.
"""

from __future__ import annotations

import contextlib
import queue
import random
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


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


class Pipe(threading.Thread):
    """Delivers chunks in order, each no earlier than its link delay allows."""

    def __init__(
        self, deliver: Callable[[bytes], object], link: LinkModel, rng: random.Random
    ) -> None:
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


class TcpSide:
    """The module's TCP connection through the link model, and the link's faults."""

    dialect: str
    active: bool  # the PDP context: no connection opens without it

    def _init_tcp(self, target: tuple[str, int], link: LinkModel) -> None:
        self.target = target
        self.link = link
        self.rng = random.Random(link.seed)
        self.sock: socket.socket | None = None
        self.send_fail = 0  # the next n sends answer SEND FAIL
        self.connect_fail = 0  # the next n opens answer CONNECT FAIL
        self.qsend = False  # AT+CIPQSEND=1: DATA ACCEPT:<n> instead of SEND OK
        self.rx_framing = "receive"  # M26: "+RECEIVE: 0, n" line, "IPDn:" header, or both
        self.drop_up: int | None = None  # byte count towards the station at which it drops
        self.drop_down: int | None = None  # … towards the terminal
        self.late_down = 0.0  # the next data towards the terminal is held this long
        self.duplicate_down = False  # the next data towards the terminal arrives twice
        self.rx_manual = False  # AT+CIPRXGET=1 / AT+QINDI=1: data waits until the host reads it
        self.rx_buffer = bytearray()
        self._rx_reported = False  # "+CIPRXGET: 1" / "+QIRDI" sent; not again until read empty
        self._rx_lock = threading.Lock()  # the link's thread fills, the pty's thread reads
        self.sent_up = 0
        self.sent_down = 0
        self._up: Pipe | None = None
        self._down: Pipe | None = None

    # --- the pty side, provided by the emulator ----------------------------------------------

    def _write(self, data: bytes) -> None:
        raise NotImplementedError

    def _urc(self, line: str) -> None:
        self._write(f"\r\n{line}\r\n".encode())

    def _reply(self, *lines: str) -> None:
        self._write("".join(f"\r\n{line}\r\n" for line in lines).encode())

    # --- the connection ----------------------------------------------------------------------

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
        if self.connect_fail:
            self.connect_fail -= 1
            self._reply("CONNECT FAIL")
            return
        try:
            sock = socket.create_connection(self.target, timeout=10)
        except OSError:
            self._reply("CONNECT FAIL")
            return
        sock.settimeout(None)
        self.sock = sock
        self.sent_up = self.sent_down = 0
        self._up = Pipe(sock.sendall, self.link, self.rng)
        self._down = Pipe(lambda data: self._deliver_down(data, sock), self.link, self.rng)
        self._reply("CONNECT OK")
        threading.Thread(target=self._read_tcp, args=(sock,), daemon=True).start()

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
            self._reply(self._sent(len(data)))
            threading.Timer(self.link.rtt_s + 0.05, self._close_tcp, args=("CLOSED",)).start()
            return
        self.sent_up += len(data)
        self._up.put(data)
        self._reply(self._sent(len(data)))

    def _sent(self, size: int) -> str:
        return f"DATA ACCEPT:{size}" if self.qsend else "SEND OK"

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
        if self.rx_manual:
            with self._rx_lock:
                self.rx_buffer += data
                report, self._rx_reported = not self._rx_reported, True
            if report:
                self._urc("+CIPRXGET: 1" if self.dialect == "sim800" else "+QIRDI: 0,1,0")
            return
        if self.dialect == "sim800":
            self._write(f"\r\n+IPD,{len(data)}:".encode() + data)
        else:
            line = f"\r\n+RECEIVE: 0, {len(data)}\r\n" if self.rx_framing != "ipd" else "\r\n"
            header = f"IPD{len(data)}:" if self.rx_framing != "receive" else ""
            self._write((line + header).encode() + data)

    def _rxget(self, up: str) -> None:
        """``AT+CIPRXGET``, SIM800 manual receive, as its AT manual describes it.

        ``=1``/``=0`` switch the mode, only before a connection starts; ``?`` reports it.
        ``=2,<n>`` answers ``+CIPRXGET: 2,<read>,<left>``, the read bytes as they are on the
        next line, then ``OK``; ``=3,<n>`` the same in hex (at most 730); ``=4`` answers
        ``+CIPRXGET: 4,<left>``. Reads need the mode on and the connection open, else ERROR.
        """
        if up == "AT+CIPRXGET?":
            self._reply(f"+CIPRXGET: {int(self.rx_manual)}", "OK")
            return
        mode, _, size = up.partition("=")[2].partition(",")
        if mode in ("0", "1") and not size:
            if self.sock is not None:
                self._reply("ERROR")
            else:
                self.rx_manual = mode == "1"
                self._reply("OK")
            return
        if not self.rx_manual or self.sock is None:
            self._reply("ERROR")
        elif mode == "4" and not size:
            self._reply(f"+CIPRXGET: 4,{len(self.rx_buffer)}", "OK")
        elif mode in ("2", "3") and size.isdigit() and 0 < int(size) <= (1460, 730)[mode == "3"]:
            with self._rx_lock:
                read = bytes(self.rx_buffer[: int(size)])
                del self.rx_buffer[: len(read)]
                left = len(self.rx_buffer)
                self._rx_reported = self._rx_reported and left > 0
            body = read if mode == "2" else read.hex().upper().encode()
            head = f"\r\n+CIPRXGET: {mode},{len(read)},{left}\r\n".encode()
            self._write(head + body + b"\r\nOK\r\n")
        else:
            self._reply("ERROR")

    def _qird(self, up: str) -> None:
        """``AT+QIRD=0,1,0,<len>``, M26 manual receive (after ``AT+QINDI=1``), as Quectel's TCP/IP
        note describes it: ``+QIRD: <ip>:<port>,TCP,<n>``, the n bytes, ``OK``; only ``OK`` when
        nothing is left. ``<len>`` is 1..1500; without the mode or a connection: ERROR."""
        parts = up.partition("=")[2].split(",")
        size = parts[3] if len(parts) == 4 and parts[:3] == ["0", "1", "0"] else ""
        if not self.rx_manual or self.sock is None or not size.isdigit():
            self._reply("ERROR")
            return
        if not 0 < int(size) <= 1500:
            self._reply("ERROR")
            return
        with self._rx_lock:
            read = bytes(self.rx_buffer[: int(size)])
            del self.rx_buffer[: len(read)]
            self._rx_reported = self._rx_reported and bool(self.rx_buffer)
        if not read:
            self._reply("OK")
            return
        host, port = self.target
        head = f"\r\n+QIRD: {host}:{port},TCP,{len(read)}\r\n".encode()
        self._write(head + read + b"\r\nOK\r\n")

    def _close_tcp(self, urc: str | None) -> None:
        with self._rx_lock:  # what the host had not read goes with the connection
            self.rx_buffer.clear()
            self._rx_reported = False
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
