"""Scenario files: a person at the terminal, written down, replayed against the whole stack.

One step per line; ``#`` starts a comment::

    key OK                 a key: a digit, ., OK, CANCEL, CLEAR, F1-F4, UP, DOWN, LEFT, RIGHT
    type 0100000123        several digit keys (and . and - for dates)
    card insert IMAGE      a card image from the demo's cards folder, or a path
    card remove
    card tear before|after the next card write is pulled before / after it commits
    link down | link up    coverage lost / back
    link drop-after N      cut the connection after N more bytes towards the terminal
    paper out | paper in
    power-cut              kill the terminal process (SIGKILL) and start it again
    wait S                 seconds
    expect TEXT            the current screen shows TEXT (waits up to 20 s)
    expect-receipt TEXT    a printed receipt shows TEXT
    check books            journal and ledger hold the same payments, nothing left to deliver

``parse`` names the line of any malformed step; ``Runner.run`` prints every screen and receipt as
text and returns non-zero, naming the line, when an expectation fails.
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
            if words not in (["down"], ["up"]) and not (
                len(words) == 2
                and words[0] == "drop-after"
                and words[1].isascii()
                and words[1].isdigit()
            ):
                raise ScenarioError(f"line {number}: link down | link up | link drop-after N")
        elif verb == "paper":
            if arg not in ("out", "in"):
                raise ScenarioError(f"line {number}: paper out | paper in")
        elif verb == "wait":
            try:
                if not 0 <= float(arg) <= 600:
                    raise ValueError
            except ValueError:
                raise ScenarioError(f"line {number}: wait takes seconds (0-600)") from None
        elif verb in ("expect", "expect-receipt"):
            if not arg:
                raise ScenarioError(f"line {number}: {verb} needs the text to look for")
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

    def _drain_screens(self) -> None:
        while True:
            try:
                self.current = self.screens.get_nowait()
            except queue.Empty:
                return
            self.say(self.current)
            self.say("-" * 32)

    def _send(self, text: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        time.sleep(0.05)  # let a person's pace through: one screen per key

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
            s.modem.control("link " + " ".join(words))
        elif verb == "paper":
            s.printer.paper_out() if arg == "out" else s.printer.paper_in()
        elif verb == "power-cut":
            self.stop_terminal(kill=True)
            self.current = ""
            self.start_terminal()
        elif verb == "wait":
            time.sleep(float(arg))
        elif verb == "expect":
            return self._expect(lambda: _shows(self.current, arg), f"no screen showed {arg!r}")
        elif verb == "expect-receipt":
            return self._expect(
                lambda: any(_shows(text, arg) for text in self._receipt_texts()),
                f"no receipt showed {arg!r}",
            )
        elif verb == "check":
            return self._check_books()
        return ""

    def _expect(self, condition, failure: str) -> str:
        deadline = time.monotonic() + EXPECT_TIMEOUT_S
        while time.monotonic() < deadline:
            self._drain_screens()
            if condition():
                return ""
            time.sleep(0.05)
        return failure + f"; the screen is:\n{self.current}"

    def _receipt_texts(self) -> list[str]:
        return ["\n".join(lines) for lines in self.stack.printer.receipts()]

    def _receipts(self) -> None:
        texts = self._receipt_texts()
        for text in texts[self.receipts_seen :]:
            self.say("~~~ receipt ~~~\n" + text + "\n~~~~~~~~~~~~~~~")
        self.receipts_seen = len(texts)

    def _check_books(self) -> str:
        """Journal and ledger agree, once the terminal's outbox has delivered everything."""
        from offline_queue import outbox
        from offline_queue.journal import Journal
        from terminal.core.lifecycle import POSTED

        deadline = time.monotonic() + 40
        while True:
            journal = Journal(
                self.stack.folder / "journal.db", self.stack.folder / "journal.key", create=False
            )
            try:
                owed = outbox.pending(journal)
                mine = {}
                for txn, state in journal.states().items():
                    if state in POSTED:
                        created = journal.first(txn, "created") or journal.first(txn, "adopted")
                        if created is not None:
                            mine[(created.payload["batch"], created.payload["trace"])] = (
                                created.payload["amount_fen"]
                            )
                open_ = [t for t in journal.open_transactions() if journal.state(t) not in POSTED]
            finally:
                journal.close()
            import sqlite3

            db = sqlite3.connect(self.stack.station.ledger.path)
            try:
                rows = db.execute(
                    "SELECT batch, trace, amount_fen FROM requests WHERE terminal_id = 'T0000001'"
                    " AND state = 'posted' AND kind IS NOT NULL"
                ).fetchall()
            finally:
                db.close()
            theirs = {(b, t): a for b, t, a in rows}
            if mine == theirs and not owed and not open_:
                self.say(
                    f"books agree: {len(mine)} payments, "
                    f"{sum(mine.values()) / 100:.2f} yuan on both sides"
                )
                return ""
            if time.monotonic() > deadline:
                return (
                    f"books differ: terminal {mine} station {theirs}; "
                    f"{len(owed)} items still owed, open {open_}"
                )
            time.sleep(0.5)


def _shows(text: str, wanted: str) -> bool:
    """Whether ``wanted`` is on the screen, across line wraps and column padding."""
    flat = " ".join(text.split())
    return wanted in text or wanted in text.replace("\n", "") or " ".join(wanted.split()) in flat
