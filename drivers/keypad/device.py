"""Reading the keypad's evdev device: grabbed while the program runs, decoded into key presses."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

from drivers.keypad.keys import KeyDecoder, KeyPress, key_map

log = logging.getLogger("gridpos.keypad")


class KeypadError(Exception):
    pass


class Keypad:
    def __init__(
        self,
        path: str,
        grab: bool = True,
        remap: str = "",
        delay_s: float = 0.5,
        interval_s: float = 0.1,
    ) -> None:
        self.path = path
        self.grab = grab
        self.decoder = KeyDecoder(key_map(remap), delay_s, interval_s)
        self._device = None

    def open(self) -> None:
        from evdev import InputDevice

        try:
            self._device = InputDevice(self.path)
            if self.grab:
                self._device.grab()  # keys go to us alone, not to a console behind us
        except OSError as exc:
            raise KeypadError(f"{self.path}: cannot open the keypad: {exc.strerror}") from None

    def close(self) -> None:
        if self._device is not None:
            if self.grab:
                try:
                    self._device.ungrab()
                except OSError:
                    log.debug("ungrab failed", exc_info=True)
            self._device.close()
            self._device = None

    async def presses(self) -> AsyncIterator[KeyPress]:
        """Key presses, with repeats while a key is held, until the device goes away."""
        if self._device is None:
            self.open()
        assert self._device is not None
        queue: asyncio.Queue[KeyPress | None] = asyncio.Queue()

        async def read() -> None:
            try:
                async for event in self._device.async_read_loop():
                    for press in self.decoder.feed(
                        event.type, event.code, event.value, time.monotonic()
                    ):
                        queue.put_nowait(press)
            except OSError as exc:
                log.warning("keypad lost: %s", exc)
            queue.put_nowait(None)

        reader = asyncio.create_task(read())
        try:
            while True:
                try:
                    press = await asyncio.wait_for(queue.get(), self.decoder.interval_s)
                except TimeoutError:
                    for repeat in self.decoder.tick(time.monotonic()):
                        yield repeat
                    continue
                if press is None:
                    return
                yield press
        finally:
            reader.cancel()
