"""The station's TCP server: frames in, frames out, one connection per terminal.

A connection whose stream is out of step (zero or oversized length, undecodable message) is
closed, since nothing after that point can be trusted; the other connections go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from station.envelope import Station
from terminal.protocol.framing import FrameDecoder, FrameError, frame

log = logging.getLogger("gridpos.station")

READ_SIZE = 4096
IDLE_TIMEOUT_S = 900  # a terminal's connection with no traffic for this long is dropped


class StationServer:
    def __init__(self, station: Station, host: str = "127.0.0.1", port: int = 0) -> None:
        self.station = station
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    @property
    def connections(self) -> int:
        return len(self._tasks)

    async def start(self) -> int:
        """Listen; returns the port (useful when 0 asked for a free one)."""
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def serve_forever(self) -> None:
        assert self._server is not None
        async with self._server:
            await self._server.serve_forever()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        log.info("connection from %s", peer)
        decoder = FrameDecoder()
        try:
            while True:
                data = await asyncio.wait_for(reader.read(READ_SIZE), IDLE_TIMEOUT_S)
                if not data:
                    break
                for payload in decoder.feed(data):
                    answer = self.station.handle(payload)
                    if answer is None:
                        return
                    writer.write(frame(answer))
                await writer.drain()
        except FrameError as exc:
            log.warning("%s: %s; closing connection", peer, exc)
        except (TimeoutError, ConnectionError) as exc:
            log.info("%s: connection ended: %r", peer, exc)
        except asyncio.CancelledError:
            log.info("%s: closed: the station is stopping", peer)
        except Exception:  # the envelope answers 96 itself; this is a bug in the server: say so
            log.exception("%s: unexpected error, closing connection", peer)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()
            self._tasks.discard(task)
            log.info("connection from %s closed", peer)


class StationThread:
    """The station served from a background thread: for the demo and the fault campaign,
    where it must outlive terminal processes that are killed and restarted."""

    def __init__(
        self, db_path: str, seed: bool = True, host: str = "127.0.0.1", port: int = 0, clock=None
    ) -> None:
        import threading
        from datetime import UTC, datetime

        from station.answers import STATION_TZ
        from station.ledger import Ledger

        self.ledger = Ledger(db_path)
        if seed:
            from station.seed import seed_demo

            seed_demo(self.ledger, datetime.now(UTC).astimezone(STATION_TZ).date())
        station = Station(self.ledger, clock) if clock else Station(self.ledger)
        self.server = StationServer(station, host, port)
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        def main() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self.server.start())
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=main, daemon=True, name="station")
        self.thread.start()
        ready.wait(10)
        self.port = self.server.port
        self.stopped = False

    def sms(self, pdu_hex: str):
        """An SMS arrived on the station's number (the module emulator's sink): taken on the
        station's own thread, as a frame is, so the ledger is never used from two at once."""
        from station.sms_inbox import SmsInbox

        async def take():
            return SmsInbox(self.server.station).receive_submit(pdu_hex)

        return asyncio.run_coroutine_threadsafe(take(), self.loop).result(10)

    def stop(self) -> None:
        """Stop serving and close the ledger; stopping twice does nothing more."""
        if self.stopped:
            return
        self.stopped = True
        asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.ledger.close()
