"""``gridpos diag card``: read the card in the reader and explain it (电卡诊断)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reader", default="", help="part of the reader's name (default: first)")
    parser.add_argument("--locale", choices=("zh_CN", "en"), default="zh_CN")


def run(args: argparse.Namespace) -> int:
    from drivers.card import profile as p
    from drivers.card.diagnosis import diagnose, diagnose_error
    from drivers.card.reader import CardReader

    reader = CardReader(args.reader)
    try:
        session = reader.connect()
        try:
            findings = diagnose(session.read_all())
        finally:
            session.close()
    except p.CardError as exc:
        findings = diagnose_error(exc)
    for finding in findings:
        print(("! " if finding.problem else "  ") + finding.text(args.locale))
    return 1 if any(f.code in ("no_card", "unknown_card", "corrupt_card") for f in findings) else 0
