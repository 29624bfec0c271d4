"""The curses console refuses, in plain words, to start without a terminal.

``gridpos run --display console > file`` or under a service manager used to die in a curses
traceback; it must say what is wrong and what to use instead, and exit 2 before it opens the
journal, the link or the modem.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys

import pytest

from ui.console import NEEDS_A_TERMINAL

RUN = [sys.executable, "-m", "terminal.app.cli", "run", "--display", "console"]


def run(args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(args, timeout=60, check=False, **kw)


@pytest.fixture
def tty():
    """A pseudo-terminal: (the side a program uses as its terminal, the other side)."""
    controller, terminal = pty.openpty()
    yield terminal
    os.close(terminal)
    os.close(controller)


def test_console_with_output_to_a_file_says_so_and_exits_2(tmp_path, tty):
    out = tmp_path / "screen.txt"
    with open(out, "w") as file:
        done = run([*RUN, "--keys", "stdin"], stdin=tty, stdout=file, stderr=subprocess.PIPE)
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert err == f"gridpos: {NEEDS_A_TERMINAL} (standard output is not a terminal)\n"
    assert out.read_text() == ""


def test_console_without_a_terminal_on_stdin_says_so(tty):
    done = run(RUN, stdin=subprocess.DEVNULL, stdout=tty, stderr=subprocess.PIPE)
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert "standard input is not a terminal" in err and "Traceback" not in err


def test_keyboard_keys_need_a_terminal_too(tmp_path):
    done = run(
        [*RUN[:-2], "--keys", "keyboard", "--display", "text"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert done.returncode == 2 and NEEDS_A_TERMINAL in done.stderr.decode()


PROBE = (
    "import sys; from ui.console import terminal_problem;"
    " print(repr(terminal_problem()), file=sys.stderr)"
)


@pytest.mark.parametrize(
    ("term", "problem"), [("xterm", "''"), ("no-such-terminal", NEEDS_A_TERMINAL)]
)
def test_a_real_terminal_passes_and_an_unknown_terminal_type_does_not(tty, term, problem):
    done = run(
        [sys.executable, "-c", PROBE],
        stdin=tty,
        stdout=tty,
        stderr=subprocess.PIPE,
        env={**os.environ, "TERM": term},
    )
    assert problem in done.stderr.decode(), done.stderr.decode()
