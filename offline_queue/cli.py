"""``gridpos journal verify|show|export``: audit the signed journal on the terminal."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="site configuration file (for the journal paths)")
    parser.add_argument("--db", help="journal file (default: journal.path of the configuration)")
    parser.add_argument("--key", help="journal key file (default: journal.key_file)")
    if parser.prog.endswith("show"):
        parser.add_argument("--txn", help="only this transaction (terminal/batch/trace)")
    if parser.prog.endswith("export"):
        parser.add_argument("--format", choices=("csv", "json"), default="csv")


def _open(args: argparse.Namespace):
    from config.loader import load_config
    from offline_queue.journal import Journal

    config = load_config(args.config) if not (args.db and args.key) else None
    db = args.db or config.journal.path
    key = args.key or config.journal.key_file
    return Journal(db, key, create=False)


def run(args: argparse.Namespace) -> int:
    from offline_queue.journal import JournalError

    try:
        journal = _open(args)
    except JournalError as exc:
        print(f"gridpos: {exc}", file=sys.stderr)
        return 2
    try:
        return {"verify": _verify, "show": _show, "export": _export}[args.subcommand](journal, args)
    finally:
        journal.close()


def _verify(journal, args: argparse.Namespace) -> int:
    verdict = journal.verify()
    if verdict.ok:
        print(f"{journal.path}: intact, {verdict.entries} entries")
        return 0
    print(f"{journal.path}: NOT intact: {verdict.reason} (first bad entry: {verdict.bad_seq})")
    return 1


def _show(journal, args: argparse.Namespace) -> int:
    import json

    for entry in journal.entries(args.txn):
        payload = json.dumps(entry.payload, ensure_ascii=False, sort_keys=True)
        print(f"{entry.seq:>7} {entry.time} {entry.txn:<22} {entry.event:<18} {payload}")
    if args.txn is not None:
        print(f"state: {journal.state(args.txn).value}")
    return 0


def _export(journal, args: argparse.Namespace) -> int:
    import csv
    import json

    rows = (
        {
            "seq": e.seq,
            "txn": e.txn,
            "event": e.event,
            "time": e.time,
            "mac": e.mac,
            "payload": json.dumps(e.payload, ensure_ascii=False, sort_keys=True),
        }
        for e in journal.entries()
    )
    if args.format == "json":
        json.dump(
            [{**r, "payload": json.loads(r["payload"])} for r in rows],
            sys.stdout,
            ensure_ascii=False,
            indent=1,
        )
        print()
        return 0
    writer = csv.DictWriter(sys.stdout, ["seq", "time", "txn", "event", "payload", "mac"])
    writer.writeheader()
    writer.writerows(rows)
    return 0
