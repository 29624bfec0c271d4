"""The terminal's side of the conversation: one request, its one answer, over any transport.

Keeps the connection open between requests (reconnecting costs seconds on GPRS). An answer is
accepted only if it is the response type of the request, carries the request's batch and trace,
and its MAC checks; anything else — a late answer to an earlier request, a duplicate, garbage — is
dropped and the wait goes on. When nothing acceptable arrives in time the caller gets
``LinkTimeout``: for a financial request that means *unknown*, never *failed*.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from drivers.transport import LinkError, LinkTimeout, Transport
from terminal.protocol import messages as m
from terminal.protocol.framing import FrameDecoder, FrameError, frame
from terminal.protocol.records import CodecError

log = logging.getLogger("gridpos.link")

RESPONSE_MTI = {
    "0800": "0810",
    "0100": "0110",
    "0200": "0210",
    "0220": "0230",
    "0221": "0230",
    "0400": "0410",
    "0401": "0410",
    "0500": "0510",
    "0320": "0330",
    "0820": "0830",
}


class StationLink:
    def __init__(
        self,
        transport_factory: Callable[[], Transport],
        host: str,
        port: int,
        connect_timeout: float = 40.0,
        response_timeout: float = 30.0,
    ) -> None:
        self._factory = transport_factory
        self._transport: Transport | None = None
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self.response_timeout = response_timeout
        self._decoder = FrameDecoder()
        self.bytes_sent = 0
        self.bytes_received = 0
        self.round_trips = 0
        # One exchange at a time: the menu, the delivery worker and the heartbeat share the link.
        self._turn = asyncio.Lock()

    @property
    def transport(self) -> Transport | None:
        """The current connection's transport (for the status bar), None before the first."""
        return self._transport

    async def close(self) -> None:
        if self._transport is not None:
            await self._transport.close()
        self._transport = None

    async def _ensure_connected(self) -> Transport:
        if self._transport is None or not self._transport.connected:
            self._transport = self._factory()
            self._decoder = FrameDecoder()
            await self._transport.connect(self.host, self.port, self.connect_timeout)
        return self._transport

    async def exchange(self, request: m.Message, key: bytes | None) -> m.Response:
        """``_exchange`` in turn: an answer read by one caller is never one another waits for."""
        async with self._turn:
            return await self._exchange(request, key)

    async def _exchange(self, request: m.Message, key: bytes | None) -> m.Response:
        """Send ``request`` MACed with ``key``; return the matching answer.

        Raises ``LinkError`` when the request could not be sent or the connection broke, and
        ``LinkTimeout`` when no acceptable answer came in time. Either way the caller must treat a
        money-moving request as possibly posted.
        """
        data = frame(m.encode(request, key))
        transport = await self._ensure_connected()
        try:
            await transport.send(data)
        except LinkError:
            await self.close()
            raise
        self.bytes_sent += len(data)
        self.round_trips += 1
        deadline = time.monotonic() + self.response_timeout
        expected = RESPONSE_MTI[request.mti]
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                await self.close()
                raise LinkTimeout(f"no answer within {self.response_timeout:g} s")
            try:
                chunk = await transport.receive(4096, remaining)
            except LinkError:
                # Timed out or broken: a connection that lost an answer is not trusted again;
                # the repeat goes on a fresh one.
                await self.close()
                raise
            self.bytes_received += len(chunk)
            try:
                payloads = self._decoder.feed(chunk)
            except FrameError as exc:
                await self.close()
                raise LinkError(f"garbled data from the station: {exc}", "link_garbled") from None
            for payload in payloads:
                answer = self._accept(payload, request, expected, key)
                if answer is not None:
                    return answer

    def _accept(
        self, payload: bytes, request: m.Message, expected: str, key: bytes | None
    ) -> m.Response | None:
        try:
            answer = m.decode(payload)
        except CodecError as exc:
            log.warning("dropping an undecodable answer: %s", exc)
            return None
        if not isinstance(answer, m.Response) or answer.mti != expected:
            log.info("dropping %s while waiting for %s", answer.mti, expected)
            return None
        # 0810 carries the next trace the station expects, 0510 the next batch: not echoes.
        late = not isinstance(request, m.SignOnRequest) and getattr(
            answer, "trace", None
        ) != getattr(request, "trace", None)
        if not isinstance(request, (m.SignOnRequest, m.SettlementRequest, m.HeartbeatRequest)):
            late = late or getattr(answer, "batch", None) != getattr(request, "batch", None)
        if late:
            log.info("dropping a late answer for trace %s", getattr(answer, "trace", None))
            return None
        if m.has_mac(payload):
            if key is None or not m.check_mac(payload, key):
                log.warning("dropping an answer whose MAC does not check")
                return None
        elif answer.response not in m.UNMACED_RESPONSES:
            log.warning("dropping an answer without MAC")
            return None
        return answer

    async def exchange_window(
        self, requests: list[m.Message], key: bytes | None
    ) -> tuple[list[m.Response], LinkError | None]:
        """Several requests sent back to back before the first answer, for requests that are safe
        to repeat (update chunks, R52): one round trip for all of them instead of one each.

        Returns the answers of the leading requests that got one, in request order, and the link
        error that ended the wait, if any (then the connection is closed). The station answers a
        connection's frames in order; an answer is matched to its request by type, batch, trace
        and MAC exactly as ``exchange`` does.
        """
        answers: dict[int, m.Response] = {}
        error: LinkError | None = None
        try:
            transport = await self._ensure_connected()
            for request in requests:
                data = frame(m.encode(request, key))
                await transport.send(data)
                self.bytes_sent += len(data)
            self.round_trips += 1
            deadline = time.monotonic() + self.response_timeout
            while len(answers) < len(requests):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise LinkTimeout(f"no answer within {self.response_timeout:g} s")
                chunk = await transport.receive(4096, remaining)
                self.bytes_received += len(chunk)
                for payload in self._decoder.feed(chunk):
                    self._match(payload, requests, answers, key)
        except FrameError as exc:
            error = LinkError(f"garbled data from the station: {exc}")
        except LinkError as exc:
            error = exc
        if error is not None:
            await self.close()
        ordered: list[m.Response] = []
        while len(ordered) in answers:
            ordered.append(answers[len(ordered)])
        return ordered, error

    def _match(
        self,
        payload: bytes,
        requests: list[m.Message],
        answers: dict[int, m.Response],
        key: bytes | None,
    ) -> None:
        """Give ``payload`` to the first request still waiting that it answers."""
        try:
            answer = m.decode(payload)
        except CodecError as exc:
            log.warning("dropping an undecodable answer: %s", exc)
            return
        trace = getattr(answer, "trace", None)
        for index, request in enumerate(requests):
            if index in answers or trace != getattr(request, "trace", None):
                continue
            accepted = self._accept(payload, request, RESPONSE_MTI[request.mti], key)
            if accepted is not None:
                answers[index] = accepted
            return
        log.info("dropping an answer for none of the requests in flight")
