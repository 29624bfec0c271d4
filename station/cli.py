"""``gridpos station``: run the master station (缴费主站) on a SQLite or PostgreSQL ledger;
``gridpos station verify``: say whether a receipt is genuine (``station.verify_cli``)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        help="ledger (required): a SQLite file (created if missing) or a"
        " postgresql://user@host/db URL; its schema is built or migrated at start"
        " (docs/storage.md)",
    )
    parser.add_argument(
        "--migrate", action="store_true", help="only build or migrate the schema, then exit"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port", type=int, default=9583, help="port to listen on; 0 picks a free one"
    )
    parser.add_argument(
        "--seed-demo",
        action="store_true",
        help="fill an empty ledger with the demo agents, terminals and ~200 customers",
    )
    parser.add_argument(
        "--change-master-key",
        metavar="TERMINAL",
        help="schedule a new random master key for TERMINAL (taken at its next sign-on), then exit",
    )
    parser.add_argument(
        "--updates", help="directory of offered software versions (<version>.pkg and .sig)"
    )
    from station import verify_cli

    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    verify_cli.add_arguments(actions.add_parser("verify", help=verify_cli.HELP))


def run(args: argparse.Namespace) -> int:
    import asyncio
    import logging
    import sys
    from datetime import UTC, datetime
    from pathlib import Path

    from station.answers import STATION_TZ
    from station.db import shown
    from station.envelope import Station
    from station.ledger import Ledger
    from station.server import StationServer

    if getattr(args, "action", None) == "verify":
        from station import verify_cli

        return verify_cli.run(args)
    if not args.db:
        print("gridpos: station: --db is required", file=sys.stderr)
        return 2
    if not 0 <= args.port <= 65535:
        print(f"gridpos: --port {args.port}: must be 0..65535", file=sys.stderr)
        return 2
    try:
        ledger = Ledger(args.db)
    except Exception as exc:  # database errors and OS errors alike: say which ledger
        print(f"gridpos: {shown(args.db)}: cannot open the ledger: {exc}", file=sys.stderr)
        return 2
    if args.migrate:
        from station.schema import version

        print(f"ledger schema at revision {version(ledger.db)}", flush=True)
        ledger.close()
        return 0
    if args.updates:
        from station.updates import DIR_PARAM

        ledger.set_param(DIR_PARAM, str(Path(args.updates).resolve()))
    if args.seed_demo:
        from station.seed import seed_demo

        if seed_demo(ledger, datetime.now(UTC).astimezone(STATION_TZ).date()):
            print("demo data created", flush=True)
    if args.change_master_key:
        return _change_master_key(ledger, args.change_master_key)
    server = StationServer(Station(ledger), args.host, args.port)

    async def serve() -> None:
        port = await server.start()
        print(f"station listening on {args.host}:{port}", flush=True)
        await server.serve_forever()

    logging.getLogger("gridpos.station").setLevel(logging.INFO)
    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"gridpos: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    finally:
        ledger.close()
    return 0


def _change_master_key(ledger, terminal_id: str) -> int:
    """Schedule a key change (docs/protocol.md R49); only its check value is shown."""
    import os
    import sys

    from station.keychange import schedule

    try:
        kcv = schedule(ledger, terminal_id, os.urandom(16))
    except ValueError:
        print(f"gridpos: {terminal_id}: no such terminal", file=sys.stderr)
        return 2
    finally:
        ledger.close()
    print(f"{terminal_id}: new master key scheduled, check value {kcv.hex().upper()}")
    return 0
