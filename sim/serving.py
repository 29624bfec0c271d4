"""How an emulator's command line keeps serving: commands on standard input while there is one,
then until SIGTERM or SIGINT.

An emulator started under nohup, by a service manager or with ``</dev/null`` sees its standard
input closed at once. That must not stop it: the commands only inject faults; serving the pty
or the reader is its job. SIGTERM (what a service manager sends) is turned into the same
``KeyboardInterrupt`` as Ctrl-C, so each command line cleans up in one ``except``/``finally``.
"""

from __future__ import annotations

import signal

STDIN_CLOSED = "standard input closed; serving until SIGTERM or SIGINT"


def stop_on_sigterm() -> None:
    """Make SIGTERM interrupt the main thread as Ctrl-C does."""

    def interrupt(signum, frame) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def serve_until_stopped() -> None:
    """Standard input is at its end: say so, and return only by SIGTERM or SIGINT."""
    print(STDIN_CLOSED, flush=True)
    while True:
        signal.pause()
