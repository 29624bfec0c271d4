"""The terminal program's loop: keys, replies, the engine's questions and idle time in; screens out.

``App`` feeds the menu machine (``ui.machine``) and carries out what it returns: a screen is
drawn, a request is handed to the desk — the terminal's shell, which answers with a typed reply
(``terminal.core.requests``) — and the reply is fed back. Requests run as tasks, so the loop
keeps reading keys and redrawing while the station, the card or the printer takes its time.
The UI knows the desk only by the small protocol below; the app wiring (``terminal.app.run``)
hands in the real one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

from drivers.keypad.keys import Key
from terminal.core import requests as rq
from ui import machine as mc

log = logging.getLogger("gridpos.ui")


class Desk(Protocol):
    """What the loop needs of the terminal: answers, the status bar, the operator's say."""

    async def handle(self, request: rq.Request) -> rq.Reply: ...

    def status(self, locale: str) -> rq.Status: ...

    def set_operator_question(self, ask: Callable[[str, str], Awaitable[bool]]) -> None: ...

    async def close(self) -> None: ...


Draw = Callable[[mc.Screen, rq.Status], None]


class App:
    def __init__(
        self,
        desk: Desk,
        keys: AsyncIterator[Key],
        draw: Draw,
        limits: mc.Limits,
        idle_timeout_s: float = 120,
        locale: str = "zh_CN",
    ) -> None:
        self.desk = desk
        self.keys = keys
        self.draw = draw
        self.machine = mc.Machine(locale, limits)
        self.idle_timeout_s = idle_timeout_s
        self.events: asyncio.Queue[mc.Event | None] = asyncio.Queue()
        self.answer: asyncio.Future[bool] | None = None
        self.screen: mc.Screen | None = None
        self._tasks: set[asyncio.Task] = set()
        desk.set_operator_question(self._ask)

    async def _ask(self, txn: str, reason: str) -> bool:
        """The engine's question (no answer after every repeat): the operator decides."""
        self.answer = asyncio.get_running_loop().create_future()
        await self.events.put(mc.Asked(reason))
        return await self.answer

    async def _read_keys(self) -> None:
        async for key in self.keys:
            await self.events.put(mc.Press(key))
        await self.events.put(None)

    async def run(self) -> None:
        reader = asyncio.create_task(self._read_keys())
        self._apply(self.machine.start())
        last_key = time.monotonic()
        try:
            while True:
                try:
                    event = await asyncio.wait_for(self.events.get(), 1.0)
                except TimeoutError:
                    if time.monotonic() - last_key > self.idle_timeout_s:
                        last_key = time.monotonic()
                        self._apply(self.machine.handle(mc.Idle()))
                    self._redraw()
                    continue
                if event is None:
                    break
                if isinstance(event, mc.Press):
                    last_key = time.monotonic()
                self._apply(self.machine.handle(event))
        finally:
            reader.cancel()
            await self.desk.close()

    def _apply(self, commands: list[mc.Command]) -> None:
        for command in commands:
            if isinstance(command, mc.Show):
                self.screen = command.screen
                self._redraw()
            elif isinstance(command, mc.Do):
                task = asyncio.create_task(self._do(command.request))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            elif (
                isinstance(command, mc.Answer)
                and self.answer is not None
                and not self.answer.done()
            ):
                self.answer.set_result(command.wait_again)

    def _redraw(self) -> None:
        if self.screen is not None:
            self.draw(self.screen, self.desk.status(self.machine.locale))

    async def _do(self, request: rq.Request) -> None:
        try:
            reply = await self.desk.handle(request)
        except Exception:  # a bug must not freeze the terminal: say so and go on
            log.exception("request %s failed", type(request).__name__)
            reply = rq.Failed(code="96")
        await self.events.put(mc.Replied(request, reply))
