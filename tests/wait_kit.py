"""Waiting for something to happen, with a deadline, instead of sleeping a guessed time.

A fixed sleep either wastes time or, on a slow machine, is too short and makes a test flaky;
polling the condition itself ends the wait the moment it holds and fails plainly when it never
does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

POLL_S = 0.02  # how often the condition is looked at; not how long anything takes


async def until(condition: Callable[[], object], timeout_s: float, what: str) -> None:
    """Return as soon as ``condition()`` is true; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s:g} s")
        await asyncio.sleep(POLL_S)


def wait_until(condition: Callable[[], object], timeout_s: float, what: str) -> None:
    """``until`` for threads and processes outside an event loop."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s:g} s")
        time.sleep(POLL_S)
