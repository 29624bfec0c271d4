"""The curses console: screens drawn in a terminal window, the keyboard as the keypad.

CJK characters take two columns; curses handles that once the locale is set (``setlocale``).
Keys: digits and ``.``, Enter = OK, Esc = CANCEL, Backspace = CLEAR, F1–F4, arrows.

curses needs a terminal on both standard input and output: started with either redirected (a
service, ``> file``, a pipe), or where the terminal type is unknown, it would die with a curses
traceback. ``terminal_problem`` says so in plain words first, and ``Console`` refuses with
``NoTerminal`` carrying the same words.
"""

from __future__ import annotations

import asyncio
import contextlib
import curses
import locale
import os
import sys
from collections.abc import AsyncIterator

from drivers.keypad.keys import Key
from ui.machine import Screen
from ui.render import Status, text_lines

CURSES_KEYS = {
    10: Key.OK,
    13: Key.OK,
    curses.KEY_ENTER: Key.OK,
    27: Key.CANCEL,
    curses.KEY_BACKSPACE: Key.CLEAR,
    127: Key.CLEAR,
    8: Key.CLEAR,
    curses.KEY_DC: Key.CLEAR,
    curses.KEY_F1: Key.F1,
    curses.KEY_F2: Key.F2,
    curses.KEY_F3: Key.F3,
    curses.KEY_F4: Key.F4,
    curses.KEY_UP: Key.UP,
    curses.KEY_DOWN: Key.DOWN,
    curses.KEY_LEFT: Key.LEFT,
    curses.KEY_RIGHT: Key.RIGHT,
    ord("."): Key.DOT,
    **{ord(str(d)): Key(str(d)) for d in range(10)},
}


NEEDS_A_TERMINAL = "the console display needs a terminal; use --display text"


class NoTerminal(RuntimeError):
    """The console cannot run here; the message says why and what to use instead."""


def terminal_problem() -> str:
    """ "" when the console can run on this process's standard input and output, else why not."""
    for name, stream in (("standard input", sys.stdin), ("standard output", sys.stdout)):
        try:
            tty = stream is not None and os.isatty(stream.fileno())
        except (OSError, ValueError):  # closed, or not a file at all
            tty = False
        if not tty:
            return f"{NEEDS_A_TERMINAL} ({name} is not a terminal)"
    try:  # what initscr does first: an unset or unknown TERM fails here
        curses.setupterm(os.environ.get("TERM", "unknown"), sys.stdout.fileno())
    except curses.error as exc:
        return f"{NEEDS_A_TERMINAL} ({exc})"
    return ""


class Console:
    def __init__(self) -> None:
        problem = terminal_problem()
        if problem:
            raise NoTerminal(problem)
        locale.setlocale(locale.LC_ALL, "")
        try:
            self.window = curses.initscr()
        except curses.error as exc:  # e.g. TERM unset or unknown
            raise NoTerminal(f"{NEEDS_A_TERMINAL} ({exc})") from None
        curses.noecho()
        curses.cbreak()
        curses.set_escdelay(25)
        self.window.keypad(True)
        self.window.nodelay(True)
        with_colour = curses.has_colors()
        if with_colour:
            curses.start_color()
            curses.init_pair(1, curses.COLOR_WHITE, curses.COLOR_BLUE)
        self.bar = curses.color_pair(1) if with_colour else curses.A_REVERSE

    def close(self) -> None:
        curses.nocbreak()
        self.window.keypad(False)
        curses.echo()
        curses.endwin()

    def draw(self, screen: Screen, status: Status) -> None:
        self.window.erase()
        height, width = self.window.getmaxyx()
        for row, line in enumerate(text_lines(screen, status)[: height - 1]):
            with contextlib.suppress(curses.error):  # the last cell of a small window
                self.window.addstr(row, 0, line[: width - 1], self.bar if row == 0 else 0)
        self.window.refresh()

    async def keys(self) -> AsyncIterator[Key]:
        while True:
            code = self.window.getch()
            if code == -1:
                await asyncio.sleep(0.03)
                continue
            if code == ord("q") - 96:  # Ctrl-Q leaves the demo
                return
            key = CURSES_KEYS.get(code)
            if key is not None:
                yield key
