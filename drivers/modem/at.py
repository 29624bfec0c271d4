"""The AT byte stream as events: lines, the ``>`` prompt, length-framed data, URCs.

A pure state machine in the manner of h11: ``ATReader.feed(bytes)`` returns the events now
complete and keeps the rest. It never raises on input — any byte stream is valid input,
garbage becomes lines no one expects — because the reader task that owns the port must never
die of what the line carries.

Binary data is read by length, never by line: after ``+IPD,<n>:`` (SIMCom, AT+CIPHEAD=1)
or ``IPD<n>:`` / ``IPD<n>TCP:`` (Quectel, AT+QIHEAD=1) the next n bytes are data; Quectel may
put a ``+RECEIVE: <id>, <n>`` line first, with or without the IPD header after it. In SIM800
manual receive mode (AT+CIPRXGET=1) the answer line ``+CIPRXGET: 2,<n>,<left>`` to a read is
both a line (the read command's value: how much is still unread) and a data header: the n bytes
after its line end are data; so is the M26's ``+QIRD: <ip>:<port>,TCP,<n>`` answer to
``AT+QIRD`` in its manual mode (AT+QINDI=1). NUL and 0xFF
bytes outside data are dropped; other bytes that are not ASCII become U+FFFD in a line. The
``>`` prompt is recognised at the start of a line without waiting for a line end, since the
module sends none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Line:
    """A complete line from the module."""

    text: str


@dataclass(frozen=True)
class Prompt:
    """The module waits for the data of a send (or an SMS text)."""


@dataclass(frozen=True)
class Data:
    """Received payload bytes, read by the length the module announced."""

    link: int
    payload: bytes


Event = Line | Prompt | Data

IPD = re.compile(rb"\+IPD,(\d{1,5}):")
RECEIVE = re.compile(rb"\+RECEIVE: ?(\d), ?(\d{1,5})\r?\n")
RXGET = re.compile(rb"\+CIPRXGET: ?2,(\d{1,5}),(\d{1,5})\r?\n")  # SIM800 AT+CIPRXGET=2,<n>
QIRD = re.compile(rb"\+QIRD: ?[^,\r\n]{0,64},(?:TCP|UDP),(\d{1,5})\r?\n")  # M26 AT+QIRD
QIPD = re.compile(rb"IPD(\d{1,5})(?:TCP|UDP)?:")  # Quectel with AT+QIHEAD=1
QIPD_START = re.compile(rb"I(?:P(?:D\d{0,5}(?:T(?:C(?:P)?)?|U(?:D(?:P)?)?)?)?)?\Z")
NOISE = b"\0\xff\r\n"  # dropped between lines: NUL and 0xFF are never AT text
MAX_DATA = 4096  # a length above this is garbage, not data
MAX_LINE = 1024


class ATReader:
    def __init__(self) -> None:
        self._buffer = bytearray()
        self._data_left = 0
        self._data_link = 0
        self._data = bytearray()

    def feed(self, chunk: bytes) -> list[Event]:
        events: list[Event] = []
        self._buffer += chunk
        while self._buffer:
            if self._data_left:
                take = bytes(self._buffer[: self._data_left])
                del self._buffer[: len(take)]
                self._data += take
                self._data_left -= len(take)
                if self._data_left == 0:
                    events.append(Data(self._data_link, bytes(self._data)))
                    self._data.clear()
                continue
            # drop NULs and bare line ends between lines
            while self._buffer[:1] and self._buffer[0] in NOISE:
                del self._buffer[:1]
            if not self._buffer:
                break
            if self._buffer[:1] == b">":
                events.append(Prompt())
                del self._buffer[:1]
                if self._buffer[:1] == b" ":
                    del self._buffer[:1]
                continue
            framed = self._data_header(events)
            if framed is None:
                break  # a data header may still be arriving
            if framed:
                continue
            end = self._line_end()
            if end < 0:
                if len(self._buffer) > MAX_LINE:  # a line that never ends: keep the tail only
                    events.append(Line(_text(self._buffer[:MAX_LINE])))
                    del self._buffer[:MAX_LINE]
                    continue
                break
            raw = bytes(self._buffer[:end]).replace(b"\0", b"").replace(b"\xff", b"")
            del self._buffer[: end + 1]
            text = _text(raw).strip()
            if text:
                events.append(Line(text))
        return events

    def _line_end(self) -> int:
        cr = self._buffer.find(b"\r")
        lf = self._buffer.find(b"\n")
        ends = [i for i in (cr, lf) if i >= 0]
        return min(ends) if ends else -1

    def _data_header(self, events: list[Event]) -> bool | None:
        """True when a data header was taken; False when none here; None when one is partial."""
        if self._buffer.startswith(b"+CIPRXGET: 2") or self._buffer.startswith(b"+CIPRXGET:2"):
            match = RXGET.match(self._buffer)
            if match is None:
                if len(self._buffer) < 26 and b"\n" not in self._buffer:
                    return None
                return False
            events.append(Line(_text(match.group(0)).strip()))
            return self._start_data(0, int(match.group(1)), match.end())
        if self._buffer.startswith(b"+QIRD:"):  # not "+QIRDI:", the report that data waits
            match = QIRD.match(self._buffer)
            if match is None:
                if len(self._buffer) < 90 and b"\n" not in self._buffer:
                    return None
                return False
            events.append(Line(_text(match.group(0)).strip()))
            return self._start_data(0, int(match.group(1)), match.end())
        if self._buffer.startswith(b"+IPD"):
            match = IPD.match(self._buffer)
            if match is None:
                if len(self._buffer) < 12 and b"\n" not in self._buffer:
                    return None
                return False
            return self._start_data(0, int(match.group(1)), match.end())
        if self._buffer.startswith(b"+RECEIVE"):
            match = RECEIVE.match(self._buffer)
            if match is None:
                if len(self._buffer) < 22 and b"\n" not in self._buffer:
                    return None
                return False
            end = match.end()
            header = QIPD.match(self._buffer, end)
            rest, size = self._buffer[end:], int(match.group(2))
            if header is None and len(rest) < size and (not rest or QIPD_START.match(rest)):
                return None  # an IPD<n>: header may still be arriving
            if header is not None and int(header.group(1)) == int(match.group(2)):
                end = header.end()
            return self._start_data(int(match.group(1)), int(match.group(2)), end)
        if self._buffer.startswith(b"IPD"):
            match = QIPD.match(self._buffer)
            if match is None:
                if len(self._buffer) < 12 and QIPD_START.match(self._buffer):
                    return None
                return False
            return self._start_data(0, int(match.group(1)), match.end())
        return False

    def _start_data(self, link: int, size: int, header_end: int) -> bool:
        del self._buffer[:header_end]
        if 0 < size <= MAX_DATA:
            self._data_left = size
            self._data_link = link
        return True

    @property
    def in_data(self) -> bool:
        return self._data_left > 0


def _text(raw: bytes | bytearray) -> str:
    return bytes(raw).decode("ascii", errors="replace")
