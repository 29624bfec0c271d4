"""The byte pipe to the station, whatever carries it: the GPRS module's TCP stack or a socket.

The engine sees only this interface. Every failure is a ``LinkError`` carrying a plain reason
for the log and a ``problem``: a text key the operator's screen says in words in their language
(``problem_of``); ``LinkTimeout`` says that nothing came back in time — which, for a request
already sent, means the outcome is unknown, not that it failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
from dataclasses import dataclass
from typing import Protocol


class LinkState(enum.Enum):
    DOWN = "down"
    CONNECTING = "connecting"
    UP = "up"


@dataclass(frozen=True)
class LinkEvent:
    """A change of the link's state, with the reason in plain words."""

    state: LinkState
    reason: str


class LinkError(Exception):
    """The link failed; ``str(error)`` says how for the log, ``problem`` what the operator is told.

    ``problem`` is one of ``PROBLEMS`` or empty, in which case ``problem_of`` gives the general
    one; a layer that knows better (the step of a connect that failed) may fill it in.
    """

    def __init__(self, message: str = "", problem: str = "") -> None:
        super().__init__(message)
        self.problem = problem


class LinkTimeout(LinkError, TimeoutError):
    """Nothing arrived in time."""


# What went wrong, as the operator can act on it; the words are the UI's (ui/texts.py).
PROBLEMS = (
    "link_dropped",  # the connection dropped
    "link_timeout",  # the station did not answer in time
    "link_no_modem",  # the GPRS module does not answer, or its port is gone
    "link_sim",  # the SIM card is not ready or wants its PIN
    "link_no_network",  # not registered, or no signal
    "link_gprs",  # GPRS attach or activation failed, or the network dropped the context
    "link_unreachable",  # the station's address cannot be reached
    "link_closed",  # the station closed the connection
    "link_modem_reset",  # the module restarted or lost power
    "link_garbled",  # what came from the station is not a message
)


def problem_of(error: LinkError) -> str:
    """The text key for the operator: the error's own, else the general one for its kind."""
    if error.problem:
        return error.problem
    return "link_timeout" if isinstance(error, LinkTimeout) else "link_dropped"


class Transport(Protocol):
    async def connect(self, host: str, port: int, timeout: float) -> None: ...

    async def send(self, data: bytes) -> None: ...

    async def receive(self, max_bytes: int = 4096, timeout: float | None = None) -> bytes: ...

    async def close(self) -> None: ...

    @property
    def connected(self) -> bool: ...


class SocketTransport:
    """A plain TCP socket: terminals with Ethernet, Wi-Fi or a PPP link, and the tests."""

    def __init__(self) -> None:
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    @property
    def connected(self) -> bool:
        return self._writer is not None and not self._writer.is_closing()

    async def connect(self, host: str, port: int, timeout: float) -> None:
        await self.close()
        try:
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_connection(host, port), timeout
            )
        except TimeoutError:
            raise LinkTimeout(
                f"no connection to {host}:{port} within {timeout:g} s", "link_unreachable"
            ) from None
        except OSError as exc:
            raise LinkError(
                f"cannot connect to {host}:{port}: {exc.strerror or exc}", "link_unreachable"
            ) from None

    async def send(self, data: bytes) -> None:
        if self._writer is None:
            raise LinkError("not connected")
        try:
            self._writer.write(data)
            await self._writer.drain()
        except OSError as exc:
            await self.close()
            raise LinkError(f"connection lost while sending: {exc}") from None

    async def receive(self, max_bytes: int = 4096, timeout: float | None = None) -> bytes:
        if self._reader is None:
            raise LinkError("not connected")
        try:
            data = await asyncio.wait_for(self._reader.read(max_bytes), timeout)
        except TimeoutError:
            raise LinkTimeout(f"no answer within {timeout:g} s") from None
        except OSError as exc:
            await self.close()
            raise LinkError(f"connection lost while receiving: {exc}") from None
        if not data:
            await self.close()
            raise LinkError("the station closed the connection", "link_closed")
        return data

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, asyncio.CancelledError):
                await writer.wait_closed()
