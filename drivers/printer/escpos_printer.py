"""Printing Chinese lines on an ESC/POS thermal printer, and asking it for paper.

The connection is pyserial for a serial printer, or the device node itself for a USB printer
(``/dev/usb/lp*``) or a plain file. The commands are the six every ESC/POS printer has: ESC @
(reset), FS & / FS . (enter and leave Chinese mode: GB18030 text between them), LF, GS V (cut)
and DLE EOT 4 (paper sensor).

A receipt may end in a QR code (``drivers.printer.qr``): the printer's own ``GS ( k`` command,
or for printers without it a raster image (``qr = "image"`` in the configuration).

python-escpos is not used at run time, by measurement: importing it pulls in Pillow, qrcode,
python-barcode, pyusb and PyYAML and parses its printer database, adding 7–16 MB of resident
memory and up to 0.3 s to every start of a terminal whose whole budget is 40 MB — for six
commands, and its text encoder cannot produce GB18030 anyway.

Paper status is DLE EOT 4 with a real timeout: no reply within it is *no reply* (printer off
or unplugged), which is a different message to the operator from *no paper*.
"""

from __future__ import annotations

import enum
import logging
import time
from dataclasses import dataclass

log = logging.getLogger("gridpos.printer")

CHINESE_ON = b"\x1c\x26"  # FS &
CHINESE_OFF = b"\x1c\x2e"  # FS .
INIT = b"\x1b\x40"  # ESC @
FEED_AND_CUT = b"\n\n\n\x1dV\x01"  # feed past the cutter, GS V 1: partial cut
PAPER_STATUS = b"\x10\x04\x04"  # DLE EOT 4: roll paper sensor status
PAPER_OUT_BITS = 0x60  # bits 5-6: paper end
NEAR_END_BITS = 0x0C  # bits 2-3: paper near end


class Paper(enum.Enum):
    OK = "ok"
    NEAR_END = "near_end"
    OUT = "out"
    NO_REPLY = "no_reply"
    UNKNOWN = "unknown"  # a connection that cannot answer (a file)


@dataclass(frozen=True)
class PrintResult:
    """Whether a print went out, and why not (a text key)."""

    ok: bool
    reason: str = ""  # plain words when not ok


class EscPosPrinter:
    def __init__(
        self,
        connection: str,
        device: str,
        baudrate: int = 9600,
        status_timeout: float = 1.0,
        qr: str = "native",
    ) -> None:
        self.connection = connection
        self.device = device
        self.baudrate = baudrate
        self.status_timeout = status_timeout
        self.qr = qr  # native (GS ( k), image (GS v 0 raster) or off
        self._printer = None

    def warm_up(self) -> None:
        """Open the port ahead of the first receipt."""
        try:
            self._open()
        except OSError as exc:  # a printer that is not there yet is found again at print time
            log.info("printer not ready yet: %s", exc)

    def _open(self):
        if self._printer is None:
            if self.connection == "serial":
                import serial

                try:
                    self._printer = serial.Serial(
                        self.device, self.baudrate, timeout=self.status_timeout
                    )
                except serial.SerialException as exc:
                    raise OSError(str(exc)) from None
            else:
                self._printer = open(self.device, "ab", buffering=0)  # noqa: SIM115
        return self._printer

    def close(self) -> None:
        if self._printer is not None:
            try:
                self._printer.close()
            except OSError:
                log.debug("printer close failed", exc_info=True)
            self._printer = None

    def paper(self) -> Paper:
        if self.connection != "serial":
            return Paper.UNKNOWN
        try:
            port = self._open()
            port.reset_input_buffer()
            port.write(PAPER_STATUS)
            port.flush()
            deadline = time.monotonic() + self.status_timeout
            reply = b""
            while not reply and time.monotonic() < deadline:
                reply = port.read(1)
        except Exception as exc:  # serial errors of every kind: the printer is not answering
            log.warning("printer status failed: %s", exc)
            self.close()
            return Paper.NO_REPLY
        if not reply:
            return Paper.NO_REPLY
        if reply[0] & PAPER_OUT_BITS:
            return Paper.OUT
        if reply[0] & NEAR_END_BITS:
            return Paper.NEAR_END
        return Paper.OK

    def print_lines(self, lines: list[str], cut: bool = True, qr: str | None = None) -> PrintResult:
        """Print, with ``qr`` as a QR code below the lines; not ok when the paper is out before
        or after, or the printer is gone."""
        before = self.paper()
        if before is Paper.OUT:
            return PrintResult(False, "printer_no_paper")
        if before is Paper.NO_REPLY:
            return PrintResult(False, "printer_no_reply")
        try:
            device = self._open()
            body = "\n".join(lines).replace("\u00a5", "\uffe5") + "\n"
            data = INIT + CHINESE_ON + body.encode("gb18030") + CHINESE_OFF
            if qr:
                from drivers.printer.qr import qr_bytes

                data += qr_bytes(qr, self.qr)
            device.write(data + (FEED_AND_CUT if cut else b"\n\n\n"))
            device.flush()
        except Exception as exc:  # device errors of every kind end as "not printed"
            log.warning("printing failed: %s", exc)
            self.close()
            return PrintResult(False, "printer_no_reply")
        after = self.paper()
        if after is Paper.OUT:
            return PrintResult(False, "printer_paper_ran_out")
        if after is Paper.NO_REPLY:
            return PrintResult(False, "printer_no_reply")
        return PrintResult(True)
