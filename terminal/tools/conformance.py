"""``gridpos conformance HOST:PORT``: does a station keep the contract of ``docs/protocol.md``?

For an integrator who builds a station, or puts one in front of the utility's marketing system:
the kit runs every documented message, rule, repeat, reversal, settlement and error against the
target over TCP and prints PASS or FAIL for each section of the document, with the rule that
failed and what the station answered instead. Exit status 1 on any FAIL.

It needs a **fresh demo ledger** (the kit posts, reverses and settles a batch, and compares the
station's figures with its own books). The demo data is the reference station's
``station/seed.py`` (``gridpos station --seed-demo``); an integrator loads the same:

* agents A0001 (城关镇代收点, available 3,000,000 fen), A0002, A0003; terminals T0000001 (A0001),
  T0000002 (A0002, must not sign on during the run), T0000003; terminal master keys
  ``SHA-256("gridpos demo TMK " + terminal id)[:16]``;
* operators 100101 and 100102 (A0001), 200101 (A0002), 300101 (A0003), password 123456;
* customer 0100000123 王秀英, postpaid, two unpaid months of 69.74 and 62.34 yuan, last reading
  23456.0 kWh; 0100000001 to 0100000004 postpaid with unpaid months; 0100000007 remote-prepaid;
  0100000005 card-prepaid with card 5a00000100000005 at purchase count 3; 0100000015
  card-prepaid without a card; no customer 0199999999;
* parameters: card master key 47524944504f532d44454d4f2d434d4b, reissue fee 2000 fen, largest
  single payment 500,000 fen;
* offline collection (R54-R56, checked on T0000003 with operator 300101): a route of A0003
  whose customers include 0100000141, postpaid with unpaid months.

Built on the protocol package only (``terminal/tools/conformance_client.py``): a client written
from the document, not the terminal's shell.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from terminal.tools import (  # each registers its checks; MODULES gives the running order
    conformance_cards,
    conformance_checks,
    conformance_offline,
    conformance_rules,
    conformance_sketch,
)
from terminal.tools.conformance_client import KitError, demo_master_key
from terminal.tools.conformance_kit import CHECKS, DEMO, SECTIONS, Failed, Kit

# Checks run module by module in this order, and in declaration order within a module: later
# checks build on what earlier ones posted (the meter reading bills a customer already paid).
MODULES = (
    conformance_checks,
    conformance_cards,
    conformance_rules,
    conformance_offline,
    conformance_sketch,
)


@dataclass(frozen=True)
class Outcome:
    section: str
    ref: str
    rule: str
    text: str
    ok: bool
    detail: str = ""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="HOST:PORT", help="the station to check")
    parser.add_argument(
        "--terminal", default=DEMO.terminal, help="terminal id (default: %(default)s)"
    )
    parser.add_argument(
        "--master-key",
        metavar="FILE",
        help="the terminal's master key, 32 hex digits (default: the demo key of --terminal)",
    )
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON")


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    from terminal.protocol.keys import KeyMaterialError, load_master_key

    host, _, port = args.target.rpartition(":")
    if not host or not port.isdigit():
        print(f"gridpos conformance: {args.target}: expected HOST:PORT", file=sys.stderr)
        return 2
    try:
        master = load_master_key(args.master_key) if args.master_key else None
    except KeyMaterialError as exc:
        print(f"gridpos conformance: {exc}", file=sys.stderr)
        return 2
    outcomes = run_kit(host, int(port), args.terminal, master)
    if args.json:
        print(json.dumps(as_json(outcomes), indent=1, ensure_ascii=False))
    else:
        print(report(outcomes))
    return 0 if all(o.ok for o in outcomes) else 1


def run_kit(
    host: str, port: int, terminal: str = DEMO.terminal, master: bytes | None = None
) -> list[Outcome]:
    """Run every check in order against the station at ``host:port``."""
    kit = Kit(host, port, terminal, master or demo_master_key(terminal))
    order = [module.__name__ for module in MODULES]
    outcomes = []
    try:
        for item in sorted(CHECKS, key=lambda c: order.index(c.run.__module__)):
            try:
                item.run(kit)
                outcomes.append(Outcome(item.section, item.ref, item.rule, item.text, True))
            except (Failed, KitError) as exc:
                outcomes.append(
                    Outcome(item.section, item.ref, item.rule, item.text, False, str(exc))
                )
                kit.drop()  # the next check starts on a fresh connection and sign-on
            except Exception as exc:  # a socket error, or an answer the check cannot use
                detail = f"the check could not complete: {exc!r}"
                outcomes.append(
                    Outcome(item.section, item.ref, item.rule, item.text, False, detail)
                )
                kit.drop()
    finally:
        kit.drop()
    return outcomes


def by_section(outcomes: list[Outcome]) -> dict[str, list[Outcome]]:
    grouped: dict[str, list[Outcome]] = {section: [] for section in SECTIONS}
    for outcome in outcomes:
        grouped.setdefault(outcome.section, []).append(outcome)
    return {section: items for section, items in grouped.items() if items}


def report(outcomes: list[Outcome]) -> str:
    lines = []
    for section, items in by_section(outcomes).items():
        failed = [o for o in items if not o.ok]
        refs = " ".join(dict.fromkeys(o.ref for o in items))
        lines.append(f"{'FAIL' if failed else 'PASS'}  {section} ({len(items)} checks: {refs})")
        for o in items:
            if not o.ok:
                lines.append(f"        FAIL {o.ref} {o.rule}: {o.text}")
                lines.append(f"             {o.detail}")
    bad = sum(not o.ok for o in outcomes)
    lines.append("")
    lines.append(
        f"{len(outcomes) - bad} of {len(outcomes)} checks passed"
        + (f"; {bad} failed" if bad else ": the station keeps the contract")
    )
    return "\n".join(lines)


def as_json(outcomes: list[Outcome]) -> dict:
    return {
        "ok": all(o.ok for o in outcomes),
        "sections": {
            section: {
                "ok": all(o.ok for o in items),
                "checks": [
                    {"ref": o.ref, "rule": o.rule, "text": o.text, "ok": o.ok, "detail": o.detail}
                    for o in items
                ],
            }
            for section, items in by_section(outcomes).items()
        },
    }
