"""A terminal process for the crash tests: run one flow, dying by SIGKILL at a chosen append.

    python -m tests.crash_driver --port P --dir D --flow bill --kill after:3
    python -m tests.crash_driver --port P --dir D --recover

``--kill after:K`` kills the process right after the flow's K-th journal append is on disk;
``before:K`` kills it just before the K-th append is written — after the effect the previous
entry announced (a request sent, a receipt printed) has happened. Sign-on entries do not count.
The production terminal runs unchanged; only ``Journal.append`` is wrapped, in this test process.
The ``card_back`` flow plays the card into vpcd from this process (the card is pulled during the
first write, then put back before the counted appends); ``--recover`` puts it back again.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from offline_queue.journal import Journal
from terminal.core.cash import Tender
from terminal.core.requests import Pay, PayFlow
from tests.terminal_kit import WANG, bill_order, card_order, make_terminal, prepay_order

FLOWS = ("bill", "prepay", "settle", "card", "offline", "sms", "cancel", "card_back")
SMS_NUMBER = "+8610659001"


COUNT = {"n": 0}


def arm(kill: str | None) -> None:
    """Count the flow's appends from here on, and kill at the chosen one."""
    when, number = kill.split(":") if kill else ("never", "0")
    target = int(number)
    original = Journal.append
    count = COUNT

    def append(self, txn, event, payload=None):
        if txn == "-" and event == "signed_on":
            return original(self, txn, event, payload)
        count["n"] += 1
        if when == "before" and count["n"] == target:
            os.kill(os.getpid(), signal.SIGKILL)
        entry = original(self, txn, event, payload)
        if when == "after" and count["n"] == target:
            os.kill(os.getpid(), signal.SIGKILL)
        return entry

    Journal.append = append


def card_service():
    """The production card service on the vpcd reader the test process plays a card into."""
    from drivers.card.reader import CardReader
    from drivers.card.service import CardService
    from station.seed import DEMO_CARD_ACCESS_KEY
    from tests.card_kit import READER

    return CardService(CardReader(READER), DEMO_CARD_ACCESS_KEY, wait_s=3)


def on_the_module(folder: Path, port: int):
    """A terminal on the GPRS module emulator, run in this process (a power cut takes both), its
    SMS written to ``sms.out`` as the module sends them, for the test to hand to the station."""
    from drivers.modem.modem import Modem, ModemTransport
    from drivers.modem.ready import Waits
    from sim.modem.emulator import ModemEmulator
    from terminal.shell.link import StationLink

    emulator = ModemEmulator(("127.0.0.1", port), "sim800")
    out = open(folder / "sms.out", "a", encoding="ascii")  # noqa: SIM115 - lives with the process

    def sink(pdu: str) -> None:
        out.write(pdu + "\n")
        out.flush()

    emulator.sms_sink = sink
    modem = Modem(emulator.path, "sim800")
    modem.start()
    waits = Waits(boot_s=5, sim_s=3, register_s=1, poll_s=0.2)
    transport = ModemTransport(modem, link_up_timeout=10, waits=waits)
    link = StationLink(lambda: transport, "127.0.0.1", port, 5, 5)
    return make_terminal(folder, port, link=link, sms_number=SMS_NUMBER), emulator


def put_card(folder: Path, slot=None):
    """The demo customer's card into this process's vpcd slot, its image kept in ``folder``
    (created at the first insert, then put back as the card last left the reader)."""
    from drivers.card.reader import CardReader
    from sim.card.card import CardImage, VirtualCard
    from sim.card.vpcd import VpcdSlot
    from tests.card_kit import READER

    image = folder / "card.json"
    if not image.exists():
        from tests.test_card import demo_card

        folder.mkdir(parents=True, exist_ok=True)
        demo_card().save(image)
    slot = slot or VpcdSlot()
    card = VirtualCard(CardImage.load(image))
    slot.insert(card, image)
    assert CardReader(READER).wait_present(5)
    return slot, card


async def flow(args) -> dict:
    emulator = None
    if args.flow == "sms":
        Path(args.dir).mkdir(parents=True, exist_ok=True)
        t, emulator = on_the_module(Path(args.dir), args.port)
    else:
        t = make_terminal(Path(args.dir), args.port, card=card_service())
    await t.sign_on("100101", "123456")
    if args.flow == "sms" and emulator is not None:
        # GPRS goes, the module stays registered: the upload goes by SMS (and stays owed).
        await t.offline.download()
        pay = Pay(PayFlow.PREPAY, Tender(5000, 5000), t.offline.find("0100000001"))
        emulator.control("gprs down")
        arm(args.kill)
        await t.offline.take(pay)
        await t.drain_outbox()
    elif args.flow == "bill":
        order = await bill_order(t, WANG, extra_fen=76)
        arm(args.kill)
        await t.run(order)
        await t.drain_outbox()
    elif args.flow == "prepay":
        arm(args.kill)
        await t.run(prepay_order(t, 5000))
        await t.drain_outbox()
    elif args.flow == "card":
        order = await card_order(t, await t.card.read(), 10000)
        arm(args.kill)
        await t.run(order)
        await t.drain_outbox()
    elif args.flow == "offline":
        # Taken against the route book (the link is not used to take it), then uploaded.
        await t.offline.download()
        pay = Pay(PayFlow.PREPAY, Tender(5000, 5000), t.offline.find("0100000001"))
        arm(args.kill)
        await t.offline.take(pay)
        await t.drain_outbox()
    elif args.flow == "cancel":  # a completed prepayment cancelled (撤销)
        order = prepay_order(t, 5000)
        await t.run(order)
        await t.drain_outbox()
        arm(args.kill)
        await t.executor.cancel(order.txn, "100101")
        await t.drain_outbox()
    elif args.flow == "card_back":  # the card pulled before the write commits, then put back
        slot, card = put_card(Path(args.dir))
        card.tear = "before"
        order = await card_order(t, await t.card.read(), 10000)
        await t.run(order)
        put_card(Path(args.dir), slot)
        arm(args.kill)
        await t.executor.resolve_card(order.txn)
        await t.drain_outbox()
    elif args.flow == "settle":
        await t.run(await bill_order(t, WANG))
        await t.drain_outbox()
        arm(args.kill)
        await t.settle()
    await t.link.close()
    if emulator is not None:
        emulator.close()
    return {"appends": COUNT["n"], "batch": t.session.batch}


async def recover(args) -> dict:
    if (Path(args.dir) / "card.json").exists():  # the card_back flow's card, as it was left
        put_card(Path(args.dir))
    t = make_terminal(Path(args.dir), args.port, card=card_service())
    await t.sign_on("100101", "123456")
    results = await t.recover()
    drained = await t.drain_outbox()
    settled = None
    if args.settle:
        outcome = await t.settle()
        settled = {"balanced": outcome.balanced, "differences": outcome.differences}
    await t.link.close()
    return {
        "recovered": [(txn, finished.outcome.value) for txn, finished in results],
        "remaining": drained.remaining,
        "open": t.journal.open_transactions(),
        "states": sorted(state.value for state in t.journal.states().values()),
        "verify": t.journal.verify().ok,
        "settled": settled,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--flow", choices=FLOWS)
    parser.add_argument("--kill")
    parser.add_argument("--recover", action="store_true")
    parser.add_argument("--settle", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(recover(args) if args.recover else flow(args))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
