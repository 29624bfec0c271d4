"""The one ``gridpos`` command and its subcommands.

Start-up must stay fast on a slow ARM terminal, so the command table below names modules as
strings: only the module of the command actually run is imported. Each such module provides
``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Groups of subcommands: name -> help.
GROUPS: dict[str, str] = {
    "config": "check configuration files",
    "diag": "check the terminal's devices and link, and say plainly what is wrong",
    "journal": "verify, show and export the signed transaction journal",
    "keys": "load the terminal master key",
    "sim": "emulators of the outside world: GPRS module, thermal printer, IC card",
    "update": "software updates offered by the station",
}

# Commands: (group, name) or (name,) -> (module, help). Keep sorted by group.
COMMANDS: dict[tuple[str, ...], tuple[str, str]] = {
    ("config", "check"): ("config.cli", "check a configuration file and report the first problem"),
    ("journal", "backup"): (
        "offline_queue.backup",
        "copy the journal, verify the copy, keep the newest copies (daily, by a timer)",
    ),
    ("config", "supervisor-password"): (
        "config.supervisor",
        "hash the supervisor's cancel (撤销) password for a site file",
    ),
    ("journal", "export"): ("offline_queue.cli", "export the journal as CSV or JSON for audit"),
    ("journal", "show"): ("offline_queue.cli", "show journal entries, or one transaction's"),
    ("journal", "verify"): ("offline_queue.cli", "check that no journal entry was altered or lost"),
    ("keys", "load"): (
        "terminal.app.keys_cli",
        "load the master key from components with check values, or a key-loading file",
    ),
    ("diag", "devices"): ("drivers.discovery_cli", "list the keypad, printer and modem udev finds"),
    ("diag", "modem"): (
        "drivers.modem.cli",
        "check SIM, network, signal and a round trip to the station",
    ),
    ("diag", "printer"): ("drivers.printer.cli", "ask the printer for paper and print a test page"),
    ("diag", "card"): ("drivers.card.cli", "read the card in the reader and explain every field"),
    ("bench",): (
        "terminal.tools.bench",
        "measure bytes, round trips, speed and memory, with targets",
    ),
    ("conformance",): ("terminal.tools.conformance", "check a station against docs/protocol.md"),
    ("console",): ("station.console.cli", "run the management console (POS管理系统), a web app"),
    ("demo",): (
        "terminal.tools.demo",
        "the terminal with station, modem, printer and card emulators",
    ),
    ("faults",): (
        "terminal.tools.faults",
        "a seeded fault campaign over the whole stack, then settle",
    ),
    ("fuzz",): (
        "terminal.tools.fuzz",
        "random and mutated input at every parser; any crash is a bug",
    ),
    ("run",): ("terminal.app.run", "run the terminal program on this device's keypad and display"),
    ("sim", "card"): ("sim.card.cli", "play a purchase-card image into the vpcd virtual reader"),
    ("sim", "modem"): (
        "sim.modem.cli",
        "a GPRS module on a pseudo-terminal, bridged to a TCP target",
    ),
    ("sim", "printer"): ("sim.printer.cli", "a thermal printer on a pseudo-terminal"),
    ("station",): ("station.cli", "run the master station (缴费主站) on SQLite or PostgreSQL"),
    ("update", "boot"): (
        "terminal.app.update_boot",
        "start the terminal program, rolling back a new version that does not get ready",
    ),
}


def build_parser(selected: tuple[str, ...] | None = None) -> argparse.ArgumentParser:
    """Build the parser; only the ``selected`` command's module is imported for its options."""
    parser = argparse.ArgumentParser(
        prog="gridpos",
        description="gridpos: bill collection, prepaid card sales and card/meter service "
        "on a utility's POS terminal.",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more log output (-vv shows every AT command and frame)",
    )
    parser.add_argument("--version", action="version", version=f"gridpos {_version()}")
    top = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    group_parsers: dict[str, argparse._SubParsersAction] = {}
    for path, (module, help_text) in COMMANDS.items():
        if len(path) == 2:
            group, name = path
            if group not in group_parsers:
                gp = top.add_parser(group, help=GROUPS[group], description=GROUPS[group])
                group_parsers[group] = gp.add_subparsers(
                    dest="subcommand", metavar="SUBCOMMAND", required=True
                )
            sub = group_parsers[group].add_parser(name, help=help_text, description=help_text)
        else:
            sub = top.add_parser(path[0], help=help_text, description=help_text)
        sub.set_defaults(_module=module)
        if path == selected:
            importlib.import_module(module).add_arguments(sub)
    return parser


def _selected(argv: list[str]) -> tuple[str, ...] | None:
    words = [a for a in argv if not a.startswith("-")][:2]
    for n in (2, 1):
        if tuple(words[:n]) in COMMANDS:
            return tuple(words[:n])
    return None


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gridpos")
    except PackageNotFoundError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(_selected(argv)).parse_args(argv)
    from terminal.app.logsetup import configure

    configure(args.verbose)
    from config.loader import ConfigError

    try:
        return importlib.import_module(args._module).run(args)
    except ConfigError as exc:
        print(f"gridpos: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
