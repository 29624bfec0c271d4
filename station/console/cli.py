"""``gridpos console``: the management console (POS管理系统) on the station's database."""

from __future__ import annotations

import argparse
import contextlib


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", required=True, help="the station's database: a SQLite file or a database URL"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="port; 0 picks a free one")
    parser.add_argument(
        "--seed-demo",
        action="store_true",
        help="create the demo organisation tree and accounts if there are none",
    )


def run(args: argparse.Namespace) -> int:
    import sys

    from station.console.db import DbError
    from station.console.schema import DEMO_PASSWORD

    if not 0 <= args.port <= 65535:
        print(f"gridpos: --port {args.port}: must be 0..65535", file=sys.stderr)
        return 2
    try:
        from station.console.serve import ConsoleServer

        console = ConsoleServer(args.db, args.host, args.port, seed_demo=args.seed_demo)
    except DbError as exc:
        print(f"gridpos: {args.db}: cannot open the database: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"gridpos: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(f"console: {console.url}/", flush=True)
    if args.seed_demo:
        print(f"  demo login: 县供电公司 / admin / {DEMO_PASSWORD}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        console.server.serve_forever()
    return 0
