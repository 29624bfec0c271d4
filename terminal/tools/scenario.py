"""Scenario files: a person at the terminal, written down, replayed against the whole stack.

One step per line; ``#`` starts a comment::

    key OK                 a key: a digit, ., OK, CANCEL, CLEAR, F1-F4, UP, DOWN, LEFT, RIGHT
    type 0100000123        several digit keys (and . and - for dates)
    card insert IMAGE      a card image from the demo's cards folder, or a path
    card remove
    card tear before|after the next card write is pulled before / after it commits
    link down | link up    coverage lost / back
    link gprs-down|gprs-up GPRS lost / back while the module stays registered (SMS still go)
    link drop-after N      cut the connection after N more bytes towards the terminal
    paper out | paper in
    power-cut              kill the terminal process (SIGKILL) and start it again
    wait S                 let S seconds pass (idle timeouts, retry back-off): a sleep on purpose
    expect TEXT            the current screen shows TEXT (waits up to 20 s)
    expect-receipt TEXT    a printed receipt shows TEXT
    expect-sms TEXT        an SMS reached the station's number and what became of it shows TEXT
    check books            journal and ledger hold the same payments, nothing left to deliver
    counter pay CUSTOMER   the customer pays every unpaid bill at the utility's counter (the
                           station's own entry, not through this terminal)

``parse`` names the line of any malformed step; ``Runner.run`` prints every screen and receipt as
text and returns non-zero, naming the line, when an expectation fails.

The runner waits for what it waits for — the screen a key brings, the screen or receipt an
expectation names, the books to agree — and never sleeps a guessed time: a fixed pause is too
long on a fast machine and too short on a slow one. Only ``wait S`` sleeps, because there the
passing of time is the point.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

KEY_NAMES = {"OK", "CANCEL", "CLEAR", "F1", "F2", "F3", "F4", "UP", "DOWN", "LEFT", "RIGHT", "."}
EXPECT_TIMEOUT_S = 20.0  # a failing expectation costs this long
# A key normally brings a new screen at once; one that changes nothing (a key the screen ignores)
# brings none, and the runner goes on after this long.
KEY_SCREEN_S = 2.0
# Receipts and the books have no event to wait on: they are looked at again on every new screen
# and at least this often.
POLL_S = 0.1
BOOKS_TIMEOUT_S = 40.0  # the outbox's retries back off up to timeouts.retry_max_s


class ScenarioError(ValueError):
    pass


@dataclass(frozen=True)
class Step:
    line: int
    verb: str
    arg: str = ""


def parse(text: str) -> list[Step]:
    steps = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = (
            raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("expect") else raw.strip()
        )
        if not line or line.startswith("#"):
            continue
        verb, _, arg = line.partition(" ")
        arg = arg.strip()
        if verb == "key":
            if not (arg in KEY_NAMES or (len(arg) == 1 and arg in "0123456789")):
                raise ScenarioError(f"line {number}: unknown key {arg!r}")
        elif verb == "type":
            if not arg or any(ch not in "0123456789.-" for ch in arg):
                raise ScenarioError(f"line {number}: type takes digits, . and -: {arg!r}")
        elif verb == "card":
            words = arg.split()
            if (
                not words
                or words[0] not in ("insert", "remove", "tear")
                or (words[0] == "insert" and len(words) != 2)
                or (words[0] == "tear" and words[1:] not in (["before"], ["after"]))
            ):
                raise ScenarioError(
                    f"line {number}: card insert IMAGE | card remove | card tear before|after"
                )
        elif verb == "link":
            words = arg.split()
            if words not in (["down"], ["up"], ["gprs-down"], ["gprs-up"]) and not (
                len(words) == 2
                and words[0] == "drop-after"
                and words[1].isascii()
                and words[1].isdigit()
            ):
                raise ScenarioError(
                    f"line {number}: link down | link up | link gprs-down | link gprs-up"
                    " | link drop-after N"
                )
        elif verb == "paper":
            if arg not in ("out", "in"):
                raise ScenarioError(f"line {number}: paper out | paper in")
        elif verb == "wait":
            try:
                if not 0 <= float(arg) <= 600:
                    raise ValueError
            except ValueError:
                raise ScenarioError(f"line {number}: wait takes seconds (0-600)") from None
        elif verb in ("expect", "expect-receipt", "expect-sms"):
            if not arg:
                raise ScenarioError(f"line {number}: {verb} needs the text to look for")
        elif verb == "counter":
            words = arg.split()
            if len(words) != 2 or words[0] != "pay" or not (
                len(words[1]) == 10 and words[1].isascii() and words[1].isdigit()
            ):
                raise ScenarioError(f"line {number}: counter pay CUSTOMER (10 digits)")
        elif verb == "power-cut" or (verb == "check" and arg == "books"):
            if verb == "power-cut" and arg:
                raise ScenarioError(f"line {number}: power-cut takes nothing")
        else:
            raise ScenarioError(f"line {number}: unknown step {verb!r}")
        steps.append(Step(number, verb, arg))
    return steps


class Runner:
    """Plays steps against a ``terminal.tools.demo.DemoStack``; the terminal is a child process."""

    def __init__(self, stack, out=None) -> None:
        self.stack = stack
        self.out = out or sys.stdout
        self.proc: subprocess.Popen | None = None
        self.screens: queue.Queue[str] = queue.Queue()
        self.current = ""
        self.receipts_seen = 0

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    # --- the terminal process -------------------------------------------------------------

    def start_terminal(self) -> None:
        self.proc = subprocess.Popen(
            self.stack.terminal_command("stdin", "text"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        threading.Thread(target=self._read_screens, args=(self.proc,), daemon=True).start()

    def _read_screens(self, proc: subprocess.Popen) -> None:
        lines: list[str] = []
        for line in proc.stdout:
            line = line.rstrip("\n")
            if line.startswith("=== screen"):
                lines = []
            elif line == "=== end":
                self.screens.put("\n".join(lines))
            else:
                lines.append(line)

    def _show(self, screen: str) -> None:
        self.current = screen
        self.say(screen)
        self.say("-" * 32)

    def _drain_screens(self) -> None:
        while True:
            try:
                self._show(self.screens.get_nowait())
            except queue.Empty:
                return

    def _next_screen(self, timeout_s: float) -> bool:
        """Wait for the terminal's next screen, at most ``timeout_s``; whether one came."""
        try:
            self._show(self.screens.get(timeout=max(timeout_s, 0.0)))
        except queue.Empty:
            return False
        return True

    def _send(self, text: str) -> None:
        """Press keys as a person does: the next key once the screen has answered this one."""
        assert self.proc is not None and self.proc.stdin is not None
        self._drain_screens()
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        self._next_screen(KEY_SCREEN_S)

    def stop_terminal(self, kill: bool = False) -> None:
        if self.proc is None:
            return
        if kill:
            self.proc.send_signal(signal.SIGKILL)
        else:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.proc = None

    # --- steps -------------------------------------------------------------------------------

    def run(self, steps: list[Step]) -> int:
        self.start_terminal()
        try:
            for step in steps:
                self._drain_screens()
                self._receipts()
                self.say(f">>> {step.line}: {step.verb} {step.arg}".rstrip())
                problem = self.step(step)
                if problem:
                    self._drain_screens()
                    self.say(f"FAILED at line {step.line}: {problem}")
                    return 1
            self._drain_screens()
            self._receipts()
            return 0
        finally:
            self.stop_terminal()

    def step(self, step: Step) -> str:
        s = self.stack
        verb, arg = step.verb, step.arg
        if verb == "key":
            self._send(f"key {arg}")
        elif verb == "type":
            self._send(f"type {arg}")
        elif verb == "card":
            words = arg.split()
            if words[0] == "insert":
                return s.card_insert(words[1])
            if words[0] == "remove":
                s.card_remove()
            elif s.slot is not None and s.slot.card is not None:
                s.slot.card.tear = words[1]
        elif verb == "link":
            words = arg.split()
            if words[0].startswith("gprs-"):  # registered, but no packet service: SMS still go
                s.modem.control("gprs " + words[0].removeprefix("gprs-"))
            else:
                s.modem.control("link " + " ".join(words))
        elif verb == "paper":
            s.printer.paper_out() if arg == "out" else s.printer.paper_in()
        elif verb == "power-cut":
            self.stop_terminal(kill=True)
            self.current = ""
            self.start_terminal()
        elif verb == "wait":
            time.sleep(float(arg))  # the script asks for time to pass: nothing to wait for
        elif verb == "expect":
            return self._expect(
                lambda: _shows(self.current, arg), f"no screen showed {arg!r}", EXPECT_TIMEOUT_S
            )
        elif verb == "expect-receipt":
            return self._expect(
                lambda: any(_shows(text, arg) for text in self._receipt_texts()),
                f"no receipt showed {arg!r}",
                POLL_S,
            )
        elif verb == "expect-sms":
            return self._expect(
                lambda: any(arg in said for said in self.stack.sms_taken),
                f"no SMS at the station showed {arg!r}",
                POLL_S,
            )
        elif verb == "check":
            return self._check_books()
        elif verb == "counter":
            from terminal.tools.village_day import pay_at_counter

            pay_at_counter(self.stack.folder / "station.db", arg.split()[1])
        return ""

    def _expect(self, condition, failure: str, tick_s: float) -> str:
        """Wait until ``condition()`` holds, looked at on every new screen (one by one, so a
        screen that shows briefly counts) and at least every ``tick_s``; fail after
        ``EXPECT_TIMEOUT_S``."""
        deadline = time.monotonic() + EXPECT_TIMEOUT_S
        self._drain_screens()
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return failure + f"; the screen is:\n{self.current}"
            self._next_screen(min(remaining, tick_s))
        return ""

    def _receipt_texts(self) -> list[str]:
        return ["\n".join(lines) for lines in self.stack.printer.receipts()]

    def _receipts(self) -> None:
        texts = self._receipt_texts()
        for text in texts[self.receipts_seen :]:
            self.say("~~~ receipt ~~~\n" + text + "\n~~~~~~~~~~~~~~~")
        self.receipts_seen = len(texts)

    def _check_books(self) -> str:
        """Journal and ledger agree (``terminal.tools.books``), once the terminal's outbox has
        delivered everything; looked at on every new screen and every ``POLL_S``."""
        from terminal.tools.books import books_in

        deadline = time.monotonic() + BOOKS_TIMEOUT_S
        while True:
            verdict = books_in(self.stack.folder)
            if verdict.agree:
                self.say(verdict.describe())
                return ""
            if time.monotonic() > deadline:
                return verdict.describe()
            self._next_screen(POLL_S)


def _shows(text: str, wanted: str) -> bool:
    """Whether ``wanted`` is on the screen, across line wraps and column padding."""
    flat = " ".join(text.split())
    return wanted in text or wanted in text.replace("\n", "") or " ".join(wanted.split()) in flat
