"""A loopback TCP proxy between terminal and station that breaks the link on purpose.

Armed with a plan, it cuts the connection after exactly n bytes in one direction, duplicates
the station's answers, or holds them back; then it disarms, so the terminal's next connection
goes through cleanly. Runs in its own thread and event loop, like the station.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass


@dataclass
class Plan:
    cut_up: int | None = None  # close after forwarding this many bytes terminal -> station
    cut_down: int | None = None  # close after forwarding this many bytes station -> terminal
    duplicate_down: bool = False  # send every answer twice
    delay_down: float = 0.0  # hold answers back this long


class Proxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.plan = Plan()
        self.counts = {"up": 0, "down": 0}
        self.cuts = 0
        self.holding = 0  # answers held back by a delay plan and not yet passed on
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        def main() -> None:
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(
                asyncio.start_server(self._serve, "127.0.0.1", 0)
            )
            self.port = self.server.sockets[0].getsockname()[1]
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=main, daemon=True)
        self.thread.start()
        ready.wait(10)

    def arm(self, plan: Plan) -> None:
        """Apply ``plan`` to the bytes that pass from now on, on whichever connection."""
        self.counts = {"up": 0, "down": 0}
        self.plan = plan

    def stop(self) -> None:
        async def close() -> None:
            self.server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    async def _serve(self, reader, writer) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        done = asyncio.Event()

        async def pump(src, dst, direction: str) -> None:
            try:
                while not done.is_set():
                    data = await src.read(4096)
                    if not data:
                        break
                    plan, counts = self.plan, self.counts
                    limit = plan.cut_up if direction == "up" else plan.cut_down
                    if limit is not None and counts[direction] + len(data) >= limit:
                        part = data[: limit - counts[direction]]
                        if part:
                            dst.write(part)
                            await dst.drain()
                        self.cuts += 1
                        self.plan = Plan()  # disarm: the next connection is clean
                        writer.close()
                        up_writer.close()
                        break
                    counts[direction] += len(data)
                    if direction == "down" and plan.delay_down:
                        self.holding += 1
                        try:
                            await asyncio.sleep(plan.delay_down)
                        finally:
                            self.holding -= 1
                    dst.write(data)
                    if direction == "down" and plan.duplicate_down:
                        dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError, asyncio.CancelledError):
                pass
            finally:
                done.set()

        await asyncio.gather(pump(reader, up_writer, "up"), pump(up_reader, writer, "down"))
        for w in (writer, up_writer):
            w.close()
            with contextlib.suppress(Exception):
                await w.wait_closed()
