"""The conformance kit's client: a terminal written from ``docs/protocol.md`` and nothing else.

It frames, MACs and signs on exactly as the document says, using only the protocol package's
codec and SM4 primitives, never the terminal's shell: an integrator's station is judged by
the contract, not by how our terminal happens to behave. It checks every answer's MAC itself
(SM4-CMAC over everything before field 64) rather than trusting the codec's helper, so a
mutated station cannot pass because the kit shares its code.
"""

from __future__ import annotations

import hashlib
import socket
from dataclasses import dataclass, field
from typing import Any

from terminal.protocol import keys, sm4
from terminal.protocol import messages as m
from terminal.protocol.framing import FrameDecoder, frame

MAC_SIZE = 8
TIMEOUT_S = 10.0
UNMACED = frozenset({"A0", "A1", "A3"})


class KitError(Exception):
    """The target broke the contract in a way that stops the current check."""


def demo_master_key(terminal_id: str) -> bytes:
    """The demo terminal master key: SHA-256 of ``gridpos demo TMK <id>``, first 16 bytes.

    Written out here (not imported from the station) because an integrator loads the same
    keys into their own station; ``tests/test_conformance.py`` holds it equal to the seed's.
    """
    return hashlib.sha256(f"gridpos demo TMK {terminal_id}".encode()).digest()[:16]


def mac_of(key: bytes, data: bytes) -> bytes:
    return sm4.cmac(key, data[:-MAC_SIZE], MAC_SIZE)


def has_mac(data: bytes) -> bool:
    return len(data) >= 10 + MAC_SIZE and bool(data[9] & 0x01)


@dataclass
class Exchange:
    """One request and its answer, raw and decoded, for checks that look at bytes."""

    sent: bytes
    raw: bytes
    answer: Any


@dataclass
class Client:
    """One connection of one terminal: its keys, batch and next trace."""

    host: str
    port: int
    terminal_id: str
    master: bytes
    mac_key: bytes | None = None
    batch: int = 0
    trace: int = 0
    sign_on_answer: Any = None
    sock: socket.socket | None = field(default=None, repr=False)
    decoder: FrameDecoder = field(default_factory=FrameDecoder, repr=False)

    def connect(self) -> Client:
        self.sock = socket.create_connection((self.host, self.port), timeout=TIMEOUT_S)
        self.decoder = FrameDecoder()
        return self

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def next_trace(self) -> int:
        self.trace = self.trace % 999999 + 1
        return self.trace

    # --- bytes ------------------------------------------------------------------------------

    def send_frame(self, payload: bytes) -> bytes | None:
        """Send one framed payload; the answer's payload, or None if the target hung up."""
        return self.send_bytes(frame(payload))

    def send_bytes(self, data: bytes) -> bytes | None:
        assert self.sock is not None, "not connected"
        try:
            self.sock.sendall(data)
        except OSError:
            return None
        return self.read_frame()

    def read_frame(self) -> bytes | None:
        assert self.sock is not None
        while True:
            try:
                chunk = self.sock.recv(4096)
            except (ConnectionResetError, TimeoutError, OSError):
                return None
            if not chunk:
                return None
            frames = self.decoder.feed(chunk)
            if frames:
                return frames[0]

    def hung_up(self) -> bool:
        """True when the target closed the connection (read gives end of stream)."""
        return self.read_frame() is None

    # --- messages ---------------------------------------------------------------------------

    def exchange(self, message: m.Message, key: bytes | bool | None = True) -> Exchange:
        """Send ``message`` MACed with the working key (or ``key``; None for no MAC) and check
        the answer's MAC: under the TMK for 0810, the working key otherwise."""
        use = self.mac_key if key is True else key
        sent = m.encode(message, use if isinstance(use, bytes) else None)
        raw = self.send_frame(sent)
        if raw is None:
            raise KitError(f"{message.mti}: the target closed the connection instead of answering")
        try:
            answer = m.decode(raw)
        except m.CodecError as exc:
            raise KitError(f"{message.mti}: the answer does not decode: {exc}") from None
        self._check_answer_mac(message, raw, answer)
        return Exchange(sent, raw, answer)

    def ask(self, message: m.Message, key: bytes | bool | None = True) -> Any:
        return self.exchange(message, key).answer

    def _check_answer_mac(self, message: m.Message, raw: bytes, answer: Any) -> None:
        code = getattr(answer, "response", "")
        if code in UNMACED:
            return
        check = self.master if isinstance(message, m.SignOnRequest) else self.mac_key
        if check is None:
            return
        if not has_mac(raw):
            raise KitError(f"{answer.mti} {code}: answer carries no MAC (field 64)")
        if mac_of(check, raw) != raw[-MAC_SIZE:]:
            raise KitError(f"{answer.mti} {code}: answer's MAC does not verify")

    def sign_on(
        self,
        account: str,
        password: str,
        trace: int | None = None,
        master: bytes | None = None,
        protocol: int | None = None,
    ) -> Any:
        """0800 with the password block (length, 3-byte trace, password, zero-filled, one SM4
        block under the TMK), MACed with the TMK. On 00 the working key is unwrapped and its
        check value proved; batch and next trace are taken from the answer."""
        trace = self.next_trace() if trace is None else trace
        tmk = master or self.master
        block = keys.password_block(tmk, password, trace)
        version: dict[str, Any] = {} if protocol is None else {"protocol": protocol}  # field 24
        request = m.SignOnRequest(
            terminal_id=self.terminal_id, trace=trace, account=account, password=block, **version
        )
        answer = self.ask(request, tmk)
        if answer.response == "00":
            if answer.keys is None or answer.batch is None:
                raise KitError("0810 00 without field 53 (keys) or field 60 (batch)")
            try:
                self.mac_key = keys.unwrap_key(self.master, answer.keys)
            except keys.KeyMaterialError as exc:
                raise KitError(f"0810: {exc}") from None
            self.batch = answer.batch
            self.trace = answer.trace - 1
            self.sign_on_answer = answer
        return answer
