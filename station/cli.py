"""``gridpos station``: run the master station (缴费主站) on a SQLite ledger;
``gridpos station verify``: say whether a receipt is genuine (``station.verify_cli``)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="ledger file (SQLite); created if missing (required)")
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
    except Exception as exc:  # sqlite3 errors and OS errors alike: say which file
        print(f"gridpos: {args.db}: cannot open the ledger: {exc}", file=sys.stderr)
        return 2
    if args.updates:
        from station.updates import DIR_PARAM

        ledger.set_param(DIR_PARAM, str(Path(args.updates).resolve()))
    if args.seed_demo:
        from station.seed import seed_demo

        if seed_demo(ledger, datetime.now(UTC).astimezone(STATION_TZ).date()):
            print("demo data created", flush=True)
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
