"""``gridpos sim modem``: a GPRS module on a pseudo-terminal, bridged to the station.

Prints ``modem on /dev/pts/N``. Fault commands on standard input, one per line: ``link down``,
``link up``, ``link drop-after N`` (station-to-terminal bytes), ``link drop-after-up N``,
``link late S``, ``link duplicate``,
``pdp deact``, ``closed``, ``send fail``, ``signal CSQ``, ``registration on|off``,
``slow-activation S``, ``garbage``, ``echo on|off``, ``reboot``, ``mute``, ``quit``.

When standard input closes (``</dev/null``, nohup, a service manager) the module goes on serving
until SIGTERM or SIGINT: the commands are a way to inject faults, not what keeps it alive.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", required=True, help="HOST:PORT the module's TCP goes to")
    parser.add_argument("--dialect", choices=("sim800", "m26"), default="sim800")
    parser.add_argument("--rtt-ms", type=float, default=0, help="round-trip time of the link")
    parser.add_argument("--kbps", type=float, default=0, help="bandwidth (0: unlimited)")
    parser.add_argument("--jitter-ms", type=float, default=0)
    parser.add_argument("--seed", type=int, default=0, help="for the jitter")


def run(args: argparse.Namespace) -> int:
    import sys

    from sim.modem.emulator import LinkModel, ModemEmulator
    from sim.serving import serve_until_stopped, stop_on_sigterm

    host, _, port = args.target.rpartition(":")
    if not host or not port.isdigit():
        print(f"gridpos: --target {args.target}: must be HOST:PORT", file=sys.stderr)
        return 2
    link = LinkModel(args.rtt_ms / 1000, args.kbps or None, args.jitter_ms / 1000, args.seed)
    modem = ModemEmulator((host, int(port)), args.dialect, link)
    print(f"modem on {modem.path}", flush=True)
    stop_on_sigterm()
    try:
        for line in sys.stdin:
            command = " ".join(line.split())
            if command == "quit":
                return 0
            if command:
                print(modem.control(command), flush=True)
        serve_until_stopped()
    except KeyboardInterrupt:
        pass
    finally:
        modem.close()
    return 0
