"""A thermal printer on a pseudo-terminal: the program opens the pty's slave like a serial port.

It answers DLE EOT 4 (paper sensor) with the real bit layout, can run out of paper after n
lines (and then prints nothing more and says so when asked), can be switched off (no answers
at all), and keeps everything it received, split into receipts at each cut.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
import tty
from pathlib import Path

from sim.printer.decode import (
    QR_COMMAND,
    RASTER,
    graphics_length,
    printed_codes,
    split_receipts,
    text_lines,
    to_png,
)

STATUS_QUERY = b"\x10\x04"
PAPER_OK = 0x12  # fixed bits 1 and 4 set
PAPER_OUT = 0x12 | 0x60
NEAR_END = 0x12 | 0x0C


class PrinterEmulator:
    def __init__(self, out_dir: str | Path | None = None, paper_lines: int | None = None) -> None:
        self.out_dir = Path(out_dir) if out_dir else None
        self.paper_lines = paper_lines  # lines of paper left; None: endless roll
        self.powered = True
        self.received = bytearray()
        self.printed = bytearray()  # what actually reached paper
        self.saved: list[Path] = []
        self.first_print_at: float | None = None  # when the first byte to print arrived
        self._master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self._slave = slave  # kept open so the pty does not hang up between the program's opens
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    # --- control, from tests and demo scripts ------------------------------------------

    def paper_out(self) -> None:
        with self._lock:
            self.paper_lines = 0

    def paper_in(self) -> None:
        with self._lock:
            self.paper_lines = None

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        if self._thread.is_alive():
            # Its thread still reads and writes the pseudo-terminal: closing the descriptor now
            # would hand its number to the next file opened, and the thread to that file.
            return
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    @property
    def out_of_paper(self) -> bool:
        return self.paper_lines is not None and self.paper_lines <= 0

    def receipts(self) -> list[list[str]]:
        """What reached the paper, receipt by receipt, as text lines."""
        with self._lock:
            data = bytes(self.printed)
        return [text_lines(part) for part in split_receipts(data)]

    # --- the printer ---------------------------------------------------------------------

    def _run(self) -> None:
        pending = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self._master, 4096)
            except OSError:
                continue
            if not chunk:
                continue
            pending = self._consume(pending + chunk)

    def _consume(self, data: bytes) -> bytes:
        """Handle complete commands; return an unfinished tail to wait for."""
        with self._lock:
            self.received += data
            i = 0
            while i < len(data):
                if data.startswith(STATUS_QUERY, i):
                    if i + 2 >= len(data):
                        return data[i:]
                    if self.powered:
                        status = PAPER_OUT if self.out_of_paper else PAPER_OK
                        os.write(self._master, bytes([status]))
                    i += 3
                    continue
                graphics = graphics_length(data, i)
                partial = len(data) - i < 3 and any(
                    p.startswith(data[i:]) for p in (QR_COMMAND, RASTER)
                )
                if graphics is None or partial:
                    return data[i:]  # a QR code or an image not all here yet
                if graphics:  # printed whole: its bytes are dots, not text or commands
                    if not self.out_of_paper and self.powered:
                        self.printed += data[i : i + graphics]
                    i += graphics
                    continue
                if data.startswith(b"\x1dV", i):
                    if i + 2 >= len(data):
                        return data[i:]
                    size = 4 if data[i + 2] in (65, 66) else 3
                    if self.powered:
                        self.printed += data[i : i + size]
                        self._save_receipt()
                    i += size
                    continue
                byte = data[i : i + 1]
                if self.first_print_at is None:
                    self.first_print_at = time.monotonic()
                if not self.out_of_paper and self.powered:
                    self.printed += byte
                    if byte == b"\n" and self.paper_lines is not None:
                        self.paper_lines -= 1
                i += 1
        return b""

    def _save_receipt(self) -> None:
        if self.out_dir is None:
            return
        parts = split_receipts(bytes(self.printed))
        if not parts:
            return
        number = len(self.saved) // 2 + 1
        self.out_dir.mkdir(parents=True, exist_ok=True)
        lines = text_lines(parts[-1])
        text_path = self.out_dir / f"receipt-{number:03d}.txt"
        text_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        png_path = to_png(
            lines, self.out_dir / f"receipt-{number:03d}.png", images=printed_codes(parts[-1])
        )
        self.saved += [text_path, png_path]
