"""Frames on the byte stream: a 2-byte big-endian length, then the message.

``FrameDecoder`` is fed whatever the link delivers — a byte at a time or several frames at once —
and hands back whole frames. A zero or oversized length means the stream cannot be trusted any
more: the only safe thing is to drop the connection, which is what ``FrameError`` tells the caller.
"""

from __future__ import annotations

from terminal.protocol.records import CodecError

MAX_FRAME = 1024  # larger than any message we send; a bigger length is garbage


class FrameError(CodecError):
    """The stream is out of step: close the connection."""


def frame(message: bytes) -> bytes:
    if not 0 < len(message) <= MAX_FRAME:
        raise FrameError(f"message of {len(message)} bytes cannot be framed")
    return len(message).to_bytes(2, "big") + message


class FrameDecoder:
    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self._buffer = bytearray()
        self._max = max_frame

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return the frames now complete, in order."""
        self._buffer += data
        frames: list[bytes] = []
        while len(self._buffer) >= 2:
            size = int.from_bytes(self._buffer[:2], "big")
            if size == 0 or size > self._max:
                raise FrameError(f"frame length {size} outside 1..{self._max}")
            if len(self._buffer) < 2 + size:
                break
            frames.append(bytes(self._buffer[2 : 2 + size]))
            del self._buffer[: 2 + size]
        return frames

    @property
    def pending(self) -> int:
        """Bytes received that do not yet make a whole frame."""
        return len(self._buffer)
