"""``gridpos demo``: the whole world on one machine, and the terminal in it.

Starts the reference station with demo data, the GPRS module emulator bridged to it (with a
GPRS-like link), the printer emulator (receipts as text and PNG in a folder it names), the card
emulator on pcscd's vpcd reader when pcscd and vpcd are present, writes the keys and a
configuration for terminal T0000001, and runs ``gridpos run`` against them as a separate process
— so a power cut is a real kill of the terminal process. The interactive demo also serves the
management console on the station's database (port 8080, or a free one) and prints its address
and a demo login.

``--headless --script FILE`` drives the same stack from a scenario file
(``terminal/tools/scenario.py``). A scenario is written for the demo's data as seeded, so a
scripted run starts from an empty folder unless ``--keep`` is given: run twice, it must pass
twice. The interactive demo keeps its folder (a person comes back to yesterday's books) unless
``--fresh`` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
from pathlib import Path

DEMO_SUPERVISOR_PASSWORD = "888888"  # authorises a cancel (撤销) in the demo


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", default="var/demo", help="folder for ledger, journal, receipts")
    state = parser.add_mutually_exclusive_group()
    state.add_argument(
        "--fresh",
        action="store_true",
        help="start from an empty ledger and journal (the default with --headless --script)",
    )
    state.add_argument(
        "--keep",
        action="store_true",
        help="keep the last run's ledger, journal and cards in --dir (the interactive default)",
    )
    parser.add_argument("--headless", action="store_true", help="no console: run --script")
    parser.add_argument("--script", help="scenario file (with --headless)")
    parser.add_argument("--rtt-ms", type=float, default=300, help="emulated GPRS round trip")
    parser.add_argument("--kbps", type=float, default=40, help="emulated GPRS bandwidth")
    parser.add_argument("--dialect", choices=("sim800", "m26"), default="sim800")
    parser.add_argument("--locale", choices=("zh_CN", "en"), default="zh_CN")


SMS_NUMBER = "+8610659001"  # the demo station's SMS number (offline uploads, R57)


class DemoStack:
    """Station, modem, printer and card emulators, and the files the terminal needs."""

    def __init__(
        self,
        folder: Path,
        fresh: bool = False,
        rtt_ms: float = 300,
        kbps: float = 40,
        dialect: str = "sim800",
        locale: str = "zh_CN",
        idle_timeout_s: int = 300,
        response_s: int = 10,
        receive: str = "push",  # the modem's: push, or manual (read by length)
    ) -> None:
        import shutil

        from config.supervisor import hash_password
        from sim.modem.emulator import LinkModel, ModemEmulator
        from sim.printer.emulator import PrinterEmulator
        from station.seed import DEMO_CARD_ACCESS_KEY, demo_master_key
        from station.server import StationThread

        self.folder = folder.resolve()
        if fresh and self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.receipts = self.folder / "receipts"
        self.station = StationThread(str(self.folder / "station.db"))
        link = LinkModel(rtt_ms / 1000, kbps or None, rtt_ms / 10000, seed=7)
        self.modem = ModemEmulator(("127.0.0.1", self.station.port), dialect, link)
        self.modem.sms_sink = self._sms  # the station's SMS number, reached through the module
        self.sms_taken: list[str] = []  # what the station made of each SMS, in order
        self.printer = PrinterEmulator(self.receipts)
        self.pcscd, self.card_reason = None, ""
        self.slot = None
        self.cards = self.folder / "cards"
        self._start_card()
        (self.folder / "master.key").write_text(demo_master_key("T0000001").hex() + "\n")
        (self.folder / "card-access.key").write_text(DEMO_CARD_ACCESS_KEY.hex() + "\n")
        self.config = self.folder / "demo.toml"
        self.config.write_text(
            f"""# written by gridpos demo
[terminal]
id = "T0000001"
agent_id = "A0001"
supervisor_password = "{hash_password(DEMO_SUPERVISOR_PASSWORD)}"
[station]
host = "127.0.0.1"
port = {self.station.port}
transport = "modem"
sms_number = "{SMS_NUMBER}"
[modem]
port = "{self.modem.path}"
dialect = "{dialect}"
receive = "{receive}"
[printer]
connection = "serial"
device = "{self.printer.path}"
[card]
reader = "Virtual PCD 00 00"
[ui]
locale = "{locale}"
idle_timeout_s = {idle_timeout_s}
[journal]
path = "{self.folder / "journal.db"}"
key_file = "{self.folder / "journal.key"}"
[update]
dir = "{self.folder / "update"}"
[keys]
master_key_file = "{self.folder / "master.key"}"
card_access_key_file = "{self.folder / "card-access.key"}"
[timeouts]
link_up_s = 30
connect_s = 15
response_s = {response_s}
repeats = 2
heartbeat_s = 30
retry_first_s = 2
retry_max_s = 30
""",
            encoding="utf-8",
        )

    def _start_card(self) -> None:
        from sim.card.cli import make_demo_images
        from sim.card.pcscd import ensure_pcscd

        if not (self.cards / "blank.json").exists():
            make_demo_images(self.cards)
        self.pcscd, self.card_reason = ensure_pcscd()
        if not self.card_reason:
            from sim.card.vpcd import VpcdSlot

            self.slot = VpcdSlot()

    def card_insert(self, name: str) -> str:
        from sim.card.card import CardImage, VirtualCard

        if self.slot is None:
            return f"no card reader: {self.card_reason}"
        path = Path(name) if os.sep in name else self.cards / name
        if not path.exists():
            return f"no card image {path}"
        from sim.card.vpcd import SlotUnavailable

        try:
            self.slot.insert(VirtualCard(CardImage.load(path)), path)
        except SlotUnavailable as exc:
            return str(exc)
        from drivers.card.reader import CardReader
        from sim.card.pcscd import READER

        if not CardReader(READER).wait_present(5):  # as long as a person takes to look up
            return "the reader did not see the card"
        return ""

    def card_remove(self) -> None:
        if self.slot is not None:
            self.slot.remove()
            from drivers.card.reader import CardReader
            from sim.card.pcscd import READER

            CardReader(READER).wait_absent(5)

    def _sms(self, pdu: str) -> None:
        """An SMS the module sent to the station's number: the station takes it, and a
        scripted run shows what became of it."""
        taken = self.station.sms(pdu)
        said = f"SMS 短信到主站: {'已入账 ' + taken.code if taken.taken else taken.why}"
        self.sms_taken.append(said)
        print(f"~~~ {said} ~~~", flush=True)

    def terminal_command(self, keys: str, display: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "terminal.app.cli",
            "run",
            "--config",
            str(self.config),
            "--keys",
            keys,
            "--display",
            display,
        ]

    def close(self) -> None:
        self.card_remove()
        self.modem.close()
        self.printer.close()
        self.station.stop()
        if self.pcscd is not None:
            self.pcscd.terminate()


def run(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    if args.headless:
        if not args.script:
            print("gridpos: --headless needs --script FILE", file=sys.stderr)
            return 2
        from terminal.tools.scenario import ScenarioError, parse

        try:
            steps = parse(Path(args.script).read_text(encoding="utf-8"))
        except (OSError, ScenarioError) as exc:
            print(f"gridpos: {args.script}: {exc}", file=sys.stderr)
            return 2
    fresh = args.fresh or (args.headless and not args.keep)
    # Scripted runs wait less for a silent station, so a scenario that cuts the link is quick.
    stack = DemoStack(
        folder,
        fresh,
        args.rtt_ms,
        args.kbps,
        args.dialect,
        args.locale,
        response_s=3 if args.headless else 10,
    )
    try:
        if args.headless:
            from terminal.tools.scenario import Runner

            return Runner(stack).run(steps)
        return _interactive(stack)
    finally:
        stack.close()


def _start_console(stack: DemoStack, port: int = 8080):
    """The management console on the demo station's database, on ``port`` if it is free."""
    from station.console.serve import ConsoleServer

    database = str(stack.folder / "station.db")
    try:
        return ConsoleServer(database, port=port, seed_demo=True).start()
    except OSError:
        return ConsoleServer(database, port=0, seed_demo=True).start()


def _interactive(stack: DemoStack) -> int:
    from station.console.schema import DEMO_PASSWORD

    stack.card_insert("user-0100000005.json")
    console = _start_console(stack)
    print(f"""gridpos demo — everything in {stack.folder}
  console: {console.url}/  (单位 县供电公司, account admin, password {DEMO_PASSWORD})
  station: 127.0.0.1:{stack.station.port}   modem: {stack.modem.path}
  printer: {stack.printer.path}
  card: {"demo user card 0100000005 in the virtual reader" if stack.slot else stack.card_reason}
  receipts: {stack.receipts}

  Log in with operator 100101, password 123456. Keys: digits, Enter = OK, Esc = CANCEL,
  Backspace = CLEAR, arrows. Try 1 (bill payment) with customer 0100000123. Ctrl-Q quits.
  A cancel (撤销, menu 8-3) asks for the supervisor password {DEMO_SUPERVISOR_PASSWORD}.
  Press Enter to start.""")
    with contextlib.suppress(EOFError):
        input()
    try:
        done = subprocess.run(stack.terminal_command("keyboard", "console"), check=False)
    finally:
        console.stop()
    print(f"receipts are in {stack.receipts}")
    return done.returncode
