"""Playing a card into pcscd's vpcd virtual reader over its socket protocol.

vpcd (Debian ``vsmartcard-vpcd``) is a PC/SC reader driver that listens on TCP (35963 for its
first slot, as /etc/reader.conf.d/vpcd sets it; the next port for the second); a virtual card
connects to it, and while connected the card is in the reader. A pcscd of one's own (the tests',
``sim.card.pcscd.start_private_pcscd``) runs vpcd on another port and names it in
``GRIDPOS_VPCD_PORT``, which a slot opened without a port follows.
Every message is a 2-byte big-endian length and a payload: a 1-byte payload is a control (0x00
power off, 0x01 power on, 0x02 reset, 0x04 send the ATR), anything longer is a command APDU,
answered with the response APDU.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from pathlib import Path

from sim.card.card import CardPulled, VirtualCard

log = logging.getLogger("gridpos.sim.card")

DEFAULT_PORT = 35963  # the system pcscd's vpcd (/etc/reader.conf.d/vpcd: 0x8C7B)
PORT_ENV = "GRIDPOS_VPCD_PORT"  # the vpcd port of the pcscd this process and its children use


def vpcd_port() -> int:
    """The first vpcd slot's port: ``GRIDPOS_VPCD_PORT`` when set, else the system's."""
    return int(os.environ.get(PORT_ENV) or DEFAULT_PORT)


# pcscd learns of a removal only by polling the driver (a few times a second). A card that is
# back before the next poll looks as if it never left, while the session that saw it go has
# already marked the reader empty: pcscd then reports "no card" until the next real removal.
# A person cannot swap a card that fast, so a card stays out of the slot at least this long —
# counted per reader, not per ``VpcdSlot``: a new slot object on the same port (the next test)
# must not put a card back sooner than the last one took it out.
MIN_OUT_S = 1.0
_OUT_SINCE: dict[tuple[str, int], float] = {}  # (host, port) -> when its card last left


class SlotUnavailable(OSError):
    """vpcd does not accept the card: pcscd is not running, or the slot holds another card."""


class VpcdSlot:
    """One vpcd reader slot; ``insert`` and ``remove`` a virtual card."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = vpcd_port() if port is None else port
        self.card: VirtualCard | None = None
        self.image_path: Path | None = None
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.removed = threading.Event()
        self.removed.set()

    @property
    def present(self) -> bool:
        return not self.removed.is_set()

    def insert(self, card: VirtualCard, image_path: str | Path | None = None) -> None:
        self.remove()
        out_since = _OUT_SINCE.get((self.host, self.port), 0.0)
        time.sleep(max(0.0, out_since + MIN_OUT_S - time.monotonic()))
        self.card = card
        self.image_path = Path(image_path) if image_path else None
        try:
            sock = socket.create_connection((self.host, self.port), timeout=5)
        except OSError as exc:
            raise SlotUnavailable(
                f"the virtual reader at {self.host}:{self.port} does not take a card ({exc});"
                " is pcscd running, or another card emulator using the slot?"
            ) from None
        sock.settimeout(None)
        self._sock = sock
        self.removed.clear()
        self._thread = threading.Thread(target=self._serve, args=(sock, card), daemon=True)
        self._thread.start()

    def remove(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)
        self._thread = None
        self._mark_out()

    def _mark_out(self) -> None:
        if not self.removed.is_set():
            _OUT_SINCE[(self.host, self.port)] = time.monotonic()
        self.removed.set()

    def _save(self, card: VirtualCard) -> None:
        if self.image_path is not None:
            card.image.save(self.image_path)

    def _serve(self, sock: socket.socket, card: VirtualCard) -> None:
        try:
            while True:
                header = _recv_exact(sock, 2)
                payload = _recv_exact(sock, int.from_bytes(header, "big"))
                if len(payload) == 1:
                    if payload[0] == 0x04:
                        _send(sock, card.image.atr)
                    else:
                        card.reset()
                    continue
                writes = card.writes
                try:
                    answer = card.process(payload)
                except CardPulled as exc:
                    log.info("%s", exc)
                    self._save(card)
                    break
                if card.writes != writes:
                    self._save(card)
                _send(sock, answer)
        except (OSError, ConnectionError):
            pass
        finally:
            with contextlib.suppress(OSError):
                sock.close()
            self._mark_out()


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("vpcd closed the connection")
        data += chunk
    return data


def _send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(len(payload).to_bytes(2, "big") + payload)
