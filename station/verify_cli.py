"""``gridpos station verify``: is this receipt genuine? Asked of the station's ledger file.

Exit status 0 when genuine, 1 when not (so a script can act on it), 2 when the question could
not be asked.
"""

from __future__ import annotations

import argparse

HELP = "say whether a receipt (terminal, receipt number or trace, 校验码) is genuine"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="ledger file (SQLite)")
    parser.add_argument("terminal", help="terminal id printed on the receipt, e.g. T0000001")
    parser.add_argument("number", help="receipt number (batch and trace, 9 digits) or the trace")
    parser.add_argument("code", help="the 10-digit verification code (校验码)")
    parser.add_argument("--amount", type=float, help="the amount the receipt shows, in yuan")
    parser.add_argument("--en", action="store_true", help="answer in English")


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from station.receipts import verify_receipt

    if not args.db or not Path(args.db).is_file():
        print(f"gridpos: station verify: no ledger file {args.db!r} (--db)", file=sys.stderr)
        return 2
    number = args.number
    if not number.isdigit() or len(number) not in (9, *range(1, 7)):
        print(f"gridpos: {number!r}: a receipt number has 9 digits", file=sys.stderr)
        return 2
    batch = int(number[:3]) if len(number) == 9 else None
    amount = None if args.amount is None else round(args.amount * 100)
    verdict = verify_receipt(
        args.db, args.terminal, int(number[-6:]), args.code, batch=batch, amount_fen=amount
    )
    print(verdict.text("en" if args.en else "zh_CN"))
    return 0 if verdict.genuine else 1
