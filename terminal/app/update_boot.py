"""``gridpos update boot -- COMMAND...``: start the terminal program through the update trial.

The service's unit runs this instead of the program itself. With no update installed it simply
becomes COMMAND. With a new version on trial it runs COMMAND in the version's folder (``current``),
restarts it if it dies, and when the version does not report ready in time stops it, switches
back to the previous version and starts that (``terminal.shell.update_trial.supervise``): a
version that cannot even import its own modules is rolled back by this code, not by its own.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="site configuration file (over config/default.toml)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the program and its arguments")


def run(args: argparse.Namespace) -> int:
    import os
    import sys

    from config.loader import load_config
    from terminal.core.update_state import Stage
    from terminal.shell.update_store import UpdateStore
    from terminal.shell.update_trial import Trial, supervise

    command = [word for word in args.command if word != "--"] or [
        sys.executable,
        "-m",
        "terminal.app.cli",
        "run",
        *(["--config", args.config] if args.config else []),
    ]
    store = UpdateStore(load_config(args.config).update.dir)
    if Trial(store).check().stage is Stage.TRIAL:
        state, process = supervise(store, command)
        if process is not None:
            return process.wait()
        print(f"gridpos: update {state.version} rolled back: {state.reason}", file=sys.stderr)
    current = store.root / "current"
    if current.is_dir():
        os.chdir(current)
    os.execvp(command[0], command)
    return 127  # not reached: exec replaced this process
