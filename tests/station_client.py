"""A deliberately plain blocking client for station tests: frames over a loopback socket.

The terminal's own client runs over the transport of ``drivers/``; this one exists so the
station's rules can be tested byte for byte, including bytes no terminal would send.
"""

from __future__ import annotations

import socket

from terminal.protocol import keys, messages
from terminal.protocol.framing import FrameDecoder, frame
from terminal.protocol.messages import Message, SignOnRequest

PASSWORD = "123456"


class StationClient:
    def __init__(self, host: str, port: int, terminal_id: str = "T0000001") -> None:
        from station.seed import demo_master_key

        self.terminal_id = terminal_id
        self.master = demo_master_key(terminal_id)
        self.mac_key: bytes | None = None
        self.batch = 0
        self.trace = 0
        self.sock = socket.create_connection((host, port), timeout=10)
        self.decoder = FrameDecoder()

    def close(self) -> None:
        self.sock.close()

    def next_trace(self) -> int:
        self.trace += 1
        return self.trace

    def send_raw(self, data: bytes) -> bytes | None:
        """Send one framed payload; the answer's payload, or None if the station hung up."""
        self.sock.sendall(frame(data))
        return self.read_frame()

    def read_frame(self) -> bytes | None:
        while True:
            try:
                chunk = self.sock.recv(4096)
            except ConnectionResetError:
                return None
            if not chunk:
                return None
            frames = self.decoder.feed(chunk)
            if frames:
                return frames[0]

    def request(self, message: Message, key: bytes | None = None) -> Message:
        key = key if key is not None else self.mac_key
        answer = self.send_raw(messages.encode(message, key))
        assert answer is not None, "station closed the connection"
        return messages.decode(answer)

    def sign_on(
        self, account: str = "100101", password: str = PASSWORD, protocol: int | None = None
    ) -> Message:
        """Sign on; ``protocol`` is field 24 (None: an old terminal that sends no version)."""
        trace = self.next_trace()
        block = keys.password_block(self.master, password, trace)
        reply = self.request(
            SignOnRequest(
                terminal_id=self.terminal_id,
                trace=trace,
                account=account,
                password=block,
                protocol=protocol,
            ),
            self.master,
        )
        if reply.approved:
            self.mac_key = keys.unwrap_key(self.master, reply.keys)
            self.batch = reply.batch
            self.trace = reply.trace - 1
        return reply
