"""The app loop with the real desk and terminal: a stalled printer holds up neither keypad nor link.

The printer here really stalls: its device is a FIFO nobody reads yet, so the driver's ``open``
blocks in the operating system, as a wedged USB printer's does. Printing runs in a worker
thread, so while the receipt waits the loop must still answer keys and the station link must
still carry requests.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Callable

from drivers.keypad.keys import Key
from drivers.printer.escpos_printer import EscPosPrinter
from terminal.core import requests as rq
from terminal.core.lifecycle import State
from terminal.shell.desk import Desk
from tests.terminal_kit import make_terminal
from tests.wait_kit import until
from ui.app import App
from ui.machine import Limits, Screen
from ui.render import as_text

DEADLINE_S = 20


class Screens:
    """Every screen the app draws, and a way to wait for one that shows something."""

    def __init__(self) -> None:
        self.drawn: list[str] = []
        self.changed = asyncio.Event()

    def draw(self, screen: Screen, status: rq.Status) -> None:
        self.drawn.append(as_text(screen, status))
        self.changed.set()

    async def wait_for(self, test: Callable[[str], bool], since: int = 0) -> str:
        async with asyncio.timeout(DEADLINE_S):
            while True:
                for text in self.drawn[since:]:
                    if test(text):
                        return text
                since = len(self.drawn)
                self.changed.clear()
                await self.changed.wait()


async def keys_from(queue: asyncio.Queue[Key | None]) -> AsyncIterator[Key]:
    while (key := await queue.get()) is not None:
        yield key


def press(queue: asyncio.Queue[Key | None], *keys: str) -> None:
    for name in keys:
        for ch in name if name.isdigit() else [name]:
            queue.put_nowait(Key(ch) if ch.isdigit() else Key[ch])


async def until_state(terminal, state: State) -> None:
    """Some transaction reaches ``state``; the journal is read on this loop's thread."""
    await until(
        lambda: state in terminal.journal.states().values(), DEADLINE_S, f"a txn in {state}"
    )


def release_later(fifo, after_s: float) -> threading.Event:
    """A watchdog: if printing blocks the event loop itself, no asyncio timeout can fire; this
    thread opens the printer's far end after ``after_s`` so the test fails instead of hanging."""
    done = threading.Event()

    def watch() -> None:
        if not done.wait(after_s):
            fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
            done.wait()
            os.close(fd)

    threading.Thread(target=watch, daemon=True).start()
    return done


def test_keypad_and_link_answer_while_the_printer_is_stalled(station, tmp_path):
    fifo = tmp_path / "printer"
    os.mkfifo(fifo)
    watchdog = release_later(fifo, 2 * DEADLINE_S)

    async def go() -> None:
        terminal = make_terminal(tmp_path, station.port, printer=EscPosPrinter("file", str(fifo)))
        desk = Desk(terminal)
        screens = Screens()
        queue: asyncio.Queue[Key | None] = asyncio.Queue()
        app = App(desk, keys_from(queue), screens.draw, Limits())
        running = asyncio.create_task(app.run())
        press(queue, "OK", "100101", "OK", "123456", "OK")
        await screens.wait_for(lambda s: "主菜单" in s)
        press(queue, "3", "0100000123", "OK")
        await screens.wait_for(lambda s: "户名" in s)
        press(queue, "OK", "50", "OK")
        await screens.wait_for(lambda s: "确认" in s and "50.00" in s)
        press(queue, "OK")

        await until_state(terminal, State.PRINTING)  # approved; the printer's open() now blocks
        mark = len(screens.drawn)
        press(queue, "CANCEL")
        busy = await screens.wait_for(lambda s: "请稍候" in s, since=mark)
        assert "交易成功" not in busy
        network = await desk.handle(rq.CheckNetwork())  # the link is not held up either
        assert isinstance(network, rq.NetworkChecked) and network.ok
        # Still printing: nothing has come back from the printer's thread.
        assert State.PRINTING in terminal.journal.states().values()

        reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # the printer comes back
        try:
            await screens.wait_for(lambda s: "交易成功" in s, since=mark)
            received = os.read(reader, 65536)  # the driver keeps the device open: no EOF
            assert "预存电费凭证".encode("gb18030") in received
        finally:
            os.close(reader)
        queue.put_nowait(None)
        await running
        await terminal.link.close()
        terminal.journal.close()

    try:
        asyncio.run(go())
    finally:
        watchdog.set()


def test_settling_with_something_still_owed_is_answered_settle_blocked(station, tmp_path):
    """A completion the station refuses stays owed; the desk says settlement must wait."""
    from tests.terminal_kit import prepay_order

    async def go() -> None:
        terminal = make_terminal(tmp_path, station.port)
        desk = Desk(terminal)
        assert isinstance(await desk.handle(rq.SignOn("100101", "123456")), rq.SignedOn)
        ghost = prepay_order(terminal, 700)  # journalled as printed; the station never saw it
        for event, payload in (
            ("created", ghost.to_payload()),
            ("sent", {}),
            ("approved", {}),
            ("printing", {}),
            ("printed", {"ok": True}),
        ):
            terminal.journal.append(ghost.txn, event, payload)
        assert await desk.handle(rq.Settle()) == rq.SettleBlocked()
        assert terminal.journal.state(ghost.txn) is State.PRINTED  # still owed, never dropped
        await desk.close()
        await terminal.link.close()
        terminal.journal.close()

    asyncio.run(go())
