"""``gridpos faults``: a seeded fault campaign over the whole stack, ending in a settlement.

The terminal (``terminal.tools.faults_worker``, the production terminal in its own process) pays
bills, takes prepayments and sells electricity onto the card, through the GPRS module driver and
its emulator, to the reference station, printing on the printer emulator. Before each
transaction the campaign may inject one fault of the fault model at a chosen point: the link
dropped after n bytes either way, the answer lost, late (held 0.5 to 4 s against the terminal's
2 s) or delivered twice, garbage on the serial line, ``+PDP: DEACT``, ``CLOSED``, ``SEND FAIL``,
a module reboot, the module's field behaviour (URCs inside replies, a reply late after the driver
gave up, a reset with the SIM busy for seconds, ``DATA ACCEPT`` mode left set, an under-voltage
warning, bytes one at a time, the station unreachable for 1 to 3 opens), a terminal power cut
after journal append k, a station restart between transactions or a crash 0 to 1.5 s into one,
the station down for a whole transaction, paper out, the card pulled before or after its write
commits. At the end the terminal is power-cycled, recovers, delivers what it owes and settles;
then its journal and the station's ledger are compared. Attempts that ended in an exception the
terminal did not turn into an outcome are counted as ``raw_errors`` (the target is zero).

The plan — every transaction, fault and point — is a function of ``--seed``; outcomes that
depend on nothing but bytes and journal appends repeat exactly with it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from terminal.tools.fault_plan import (  # noqa: F401 - the campaign's tables, re-exported
    FAULTS,
    MODEM_FAULTS,
    TIMED,
    Planned,
    plan,
    with_offline_periods,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--transactions", type=_positive, default=40)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--offline", type=int, default=0, help="this many transactions taken with no coverage"
    )
    parser.add_argument("--dir", help="keep the run's files here (default: a temporary folder)")
    parser.add_argument("--dialect", choices=("sim800", "m26"), default="sim800")
    parser.add_argument(
        "--receive", choices=("push", "manual"), default="push", help="the modem's receive mode"
    )


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


class CampaignError(Exception):
    """The campaign cannot run at all (not a finding about the terminal)."""


class Campaign:
    def __init__(self, folder: Path, dialect: str = "sim800", receive: str = "push") -> None:
        from terminal.tools.demo import DemoStack

        self.stack = DemoStack(
            folder, fresh=True, rtt_ms=20, kbps=0, response_s=2, dialect=dialect, receive=receive
        )
        self.cards = self.stack.slot is not None
        self.proc: subprocess.Popen | None = None
        # What the terminal logs (every process it runs as, power cut after power cut).
        self.terminal_log = open(folder / "terminal.log", "ab")  # noqa: SIM115
        self.log: list[dict] = []
        self.power_cuts = 0  # how often the terminal actually died
        self.crash: threading.Timer | None = None  # a station crash timed into a transaction

    # --- the terminal process -------------------------------------------------------------

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "terminal.tools.faults_worker",
                "--config",
                str(self.stack.config),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.terminal_log,
            text=True,
            encoding="utf-8",
        )

    def ask(self, **request) -> dict:
        """Send one request; an empty answer means the terminal died (a power cut)."""
        assert self.proc is not None and self.proc.stdin and self.proc.stdout
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            return {}
        line = self.proc.stdout.readline()
        return json.loads(line) if line else {}

    def call(self, **request) -> dict:
        """``ask``, and when the terminal died on the way, power it up again (and count it)."""
        answer = self.ask(**request)
        if not answer:
            self.power_cuts += 1
            self.power_cycle()
        return answer

    def power_cycle(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
        self.start()
        for _ in range(5):
            if self.ask(op="sign_on").get("ok"):
                break
            time.sleep(0.5)
        self.ask(op="recover")

    def stop(self) -> None:
        if self.proc is not None:
            try:
                self.proc.stdin.close()
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
            self.proc = None

    # --- faults ---------------------------------------------------------------------------

    def inject(self, step: Planned) -> None:
        s = self.stack
        f = step.fault
        if f in MODEM_FAULTS:
            s.modem.control(MODEM_FAULTS[f].format(point=step.point, seconds=step.point / 1000))
        elif f == "power_cut":
            self.ask(op="die_after", appends=step.point)
        elif f == "offline_period":
            s.modem.control("link down")
        elif f == "station_restart":
            self._restart_station()
        elif f == "station_crash":  # while the transaction is under way
            self.crash = threading.Timer(step.point / 1000, self._restart_station)
            self.crash.start()
        elif f == "station_down":
            s.station.stop()
        elif f == "paper_out":
            s.printer.paper_out()
        elif f == "card_tear" and s.slot is not None and s.slot.card is not None:
            s.slot.card.tear = "before" if step.point == 0 else "after"

    def _restart_station(self) -> None:
        from station.server import StationThread

        port = self.stack.station.port
        self.stack.station.stop()
        self.stack.station = StationThread(str(self.stack.folder / "station.db"), port=port)

    def heal(self, step: Planned) -> dict:
        """Undo the fault's lasting part, as the world does: power back, paper in, card back."""
        s = self.stack
        if self.crash is not None:
            self.crash.join()
            self.crash = None
        s.modem.drop_down = s.modem.drop_up = None
        s.modem.late_down, s.modem.duplicate_down = 0.0, False
        s.modem.urcs_inside = s.modem.bytewise = False
        s.modem.late_next, s.modem.connect_fail = 0.0, 0
        if step.fault == "offline_period":
            s.modem.control("link up")
        if step.fault == "station_down":
            self._restart_station()
        if step.fault == "paper_out":
            s.printer.paper_in()
        if step.kind == "card" and self.cards and not s.slot.present:
            return self._card_back()
        return {}

    def _card_back(self) -> dict:
        """Put the campaign's card back in the reader and let the terminal settle from it."""
        problem = self.stack.card_insert(str(self.card_image))
        answer = self.call(op="resolve_card")
        if problem:
            answer["card_insert"] = problem
        return answer

    # --- the run ----------------------------------------------------------------------------

    def run(self, steps: list[Planned]) -> dict:
        if self.cards:
            from sim.card.cli import make_demo_images

            images = make_demo_images(self.stack.folder / "campaign-cards")
            self.card_image = next(p for p in images if p.name.startswith("user-"))
            problem = self.stack.card_insert(str(self.card_image))
            if problem:
                raise CampaignError(f"the card emulator cannot start: {problem}")
        self.start()
        self.ask(op="sign_on")
        if any(step.kind == "offline" for step in steps):
            self.ask(op="route_book")  # in town, before going out
        outcomes: Counter[str] = Counter()
        for step in steps:
            self.inject(step)
            if step.kind == "card":
                answer = self.call(op="card", amount=step.amount)
            elif step.kind == "offline":
                answer = self.call(op="offline", customer=step.customer, amount=step.amount)
            else:
                answer = self.call(
                    op="pay",
                    kind=step.kind,
                    customer=step.customer,
                    amount=step.amount,
                    extra=step.amount % 700,
                )
            if not answer:  # the terminal died (and is powered up again)
                answer = {"outcome": "power_cut"}
            healed = self.heal(step)
            if healed:
                answer["after_heal"] = healed
            outcomes[_outcome(answer)] += 1
            self.log.append({"step": step.__dict__, "answer": answer})
            self.call(op="drain")
        # The end of the day: power-cycle, recover, deliver everything, settle.
        self.power_cycle()
        if self.cards:  # a card purchase left mid-write is settled from the card itself
            if self.stack.slot.present:
                self.log.append({"end_of_day": self.call(op="resolve_card")})
            else:
                self.log.append({"end_of_day": self._card_back()})
        for _ in range(20):
            if self.call(op="drain").get("remaining", 1) == 0:
                break
            time.sleep(0.5)
        settled: dict = {}
        for _ in range(3):  # a power cut still armed may strike during settlement too
            settled = self.call(op="settle")
            if settled:
                break
        self.stop()
        with open(self.stack.folder / "campaign.jsonl", "w", encoding="utf-8") as out:
            for line in self.log:
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
        return {
            "outcomes": dict(outcomes),
            # attempts that ended in an exception the terminal did not turn into an outcome
            "raw_errors": sum(n for k, n in outcomes.items() if k.startswith("error")),
            "power_cuts": self.power_cuts,
            "settlement": settled,
        }

    def compare(self) -> dict:
        return compare(self.stack.folder)

    def close(self) -> None:
        self.stop()
        self.terminal_log.close()
        self.stack.close()


def _outcome(answer: dict) -> str:
    """What the operator saw: the final state, or the kind of error the terminal reported."""
    if answer.get("outcome"):
        return answer["outcome"]
    if answer.get("ok"):
        return "done"
    return "error: " + answer.get("error", "?").split(":", 1)[0]


def compare(folder: Path) -> dict:
    """Journal against ledger, payment by payment (batch and trace), to the fen: the verdict of
    ``terminal.tools.books`` as the report's figures, and whether the journal's chain is intact.

    one_sided: posted at the station for a transaction the terminal knows but holds as not
    posted; doubled: posted at the station with a key the terminal never made; lost: posted in
    the journal but not at the station.
    """
    from dataclasses import asdict

    from offline_queue.journal import Journal
    from terminal.tools.books import books_in

    books = books_in(folder)
    journal = Journal(folder / "journal.db", folder / "journal.key", create=False)
    try:
        verified = journal.verify().ok
    finally:
        journal.close()
    return {
        "final_states": books.final_states,
        "one_sided": books.one_sided,
        "doubled": books.doubled,
        "lost": books.lost,
        "terminal_total_fen": books.total_fen,
        "station_total_fen": sum(books.station.values()),
        "still_owed": books.owed,
        "journal_intact": verified,
        "mismatches": [asdict(d) for d in books.differences],
    }


def run(args: argparse.Namespace) -> int:
    import tempfile

    folder = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="gridpos-faults-"))
    campaign = Campaign(folder, args.dialect, args.receive)
    try:
        steps = plan(args.seed, args.transactions, campaign.cards)
        if args.offline:
            steps = with_offline_periods(steps, args.seed, args.offline)
        started = time.monotonic()
        try:
            result = campaign.run(steps)
        except CampaignError as exc:
            print(f"gridpos: {exc}", file=sys.stderr)
            return 2
        report = {
            "seed": args.seed,
            "transactions": args.transactions,
            "modem": f"{args.dialect} {args.receive}",
            "plan_digest": hashlib.sha256(
                json.dumps([s.__dict__ for s in steps]).encode()
            ).hexdigest()[:16],
            "card_flows": campaign.cards,
            "faults": dict(Counter(s.fault for s in steps)),
            **result,
            **campaign.compare(),
            "seconds": round(time.monotonic() - started, 1),
        }
    finally:
        campaign.close()
    bad = (
        report["one_sided"]
        or report["doubled"]
        or report["lost"]
        or report["mismatches"]
        or report["terminal_total_fen"] != report["station_total_fen"]
        or not report["journal_intact"]
        or not report["settlement"].get("balanced")
        or report["raw_errors"]
    )
    if bad or args.dir:
        report["kept_in"] = str(folder)  # journal, ledger, campaign.jsonl, terminal.log
    else:
        shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=1, ensure_ascii=False))
    else:
        _print(report)
    return 1 if bad else 0


def _print(r: dict) -> None:
    print(
        f"gridpos faults — seed {r['seed']}, {r['transactions']} transactions, {r['modem']}, plan "
        f"{r['plan_digest']}, card flows {'on' if r['card_flows'] else 'off'}, "
        f"{r['seconds']} s"
    )
    print("faults injected:")
    for name, count in sorted(r["faults"].items()):
        print(f"  {name:<16} {count}")
    print(f"the terminal died {r['power_cuts']} times and recovered each time")
    print(f"raw driver errors the operator met: {r['raw_errors']}")
    print("operator outcomes:")
    for name, count in sorted(r["outcomes"].items()):
        print(f"  {name:<16} {count}")
    print("final states in the journal:")
    for name, count in sorted(r["final_states"].items()):
        print(f"  {name:<16} {count}")
    s = r["settlement"]
    print(
        f"settlement: {'balanced' if s.get('balanced') else 'NOT balanced'} "
        f"({s.get('count')} payments)"
    )
    for key in (
        "one_sided",
        "doubled",
        "lost",
        "terminal_total_fen",
        "station_total_fen",
        "still_owed",
        "journal_intact",
    ):
        print(f"{key} = {r[key]}")
    for mismatch in r["mismatches"]:
        print(f"MISMATCH {mismatch}")
    if "kept_in" in r:
        print(f"the run's files are in {r['kept_in']}")
