"""``gridpos sim printer``: a thermal printer on a pseudo-terminal.

Prints ``printer on /dev/pts/N`` (open that path as the printer's serial device), then saves
every receipt it prints as text and PNG into ``--out``. Commands on standard input: ``paper
out``, ``paper in``, ``power off``, ``power on``, ``quit``.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="receipts", help="folder for received receipts")
    parser.add_argument(
        "--paper-out-after", type=int, metavar="N", help="run out of paper after N printed lines"
    )


def run(args: argparse.Namespace) -> int:
    import sys

    from sim.printer.emulator import PrinterEmulator

    printer = PrinterEmulator(args.out, args.paper_out_after)
    print(f"printer on {printer.path}", flush=True)
    try:
        for line in sys.stdin:
            command = " ".join(line.split())
            if command == "quit":
                break
            if command == "paper out":
                printer.paper_out()
            elif command == "paper in":
                printer.paper_in()
            elif command == "power off":
                printer.powered = False
            elif command == "power on":
                printer.powered = True
            elif command:
                print(f"unknown command: {command}", flush=True)
                continue
            print(f"ok {command}", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        printer.close()
    return 0
