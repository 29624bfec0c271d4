"""Power cuts at every journal append: the terminal process is SIGKILLed, restarted, recovers.

Enumerated, not sampled: for each flow, every append k the flow makes, killed just after the
entry is on disk and just before it is written (that is, after the effect the previous entry
announced). Afterwards the journal and the station's ledger must hold the same postings, to
the fen, with nothing left open and the journal's chain intact.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import RunningStation
from tests.terminal_kit import journal_view, ledger_view, make_terminal

APPENDS = {
    "bill": 7, "prepay": 7, "settle": 1, "card": 9, "offline": 5, "sms": 6, "cancel": 4,
    "card_back": 6,
}  # fmt: skip
# Flows whose terminal process plays the card itself (it must be put back after the pull).
OWN_CARD = frozenset({"card_back"})


def driver(port, folder, *args, expect_killed=False):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.crash_driver",
            "--port",
            str(port),
            "--dir",
            str(folder),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if expect_killed:
        assert done.returncode == -9, (done.returncode, done.stdout, done.stderr)
        return None
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def card_for(request, tmp_path):
    """For the card flow: the demo customer's card in the vpcd reader, image saved as it changes."""

    def put(flow):
        if flow in OWN_CARD:
            request.getfixturevalue("pcscd")
        if flow != "card":
            return
        request.getfixturevalue("pcscd")
        from sim.card.card import VirtualCard
        from sim.card.vpcd import VpcdSlot
        from tests.test_card import demo_card

        slot = VpcdSlot()
        from drivers.card.reader import CardReader
        from tests.card_kit import READER

        slot.insert(VirtualCard(demo_card()), tmp_path / "card.json")
        request.addfinalizer(slot.remove)
        assert CardReader(READER).wait_present(5)

    return put


@pytest.mark.parametrize("flow", sorted(APPENDS))
def test_flow_makes_the_appends_the_crash_test_enumerates(flow, tmp_path, card_for):
    station = RunningStation(str(tmp_path / "station.db"))
    card_for(flow)
    try:
        assert driver(station.port, tmp_path / "t", "--flow", flow)["appends"] == APPENDS[flow]
    finally:
        station.stop()


def deliver_sms(folder, station) -> None:
    """The SMS the module sent arrive at the station's inbox (before the terminal is back)."""
    from station.sms_inbox import SmsInbox

    sent = folder / "sms.out"
    for pdu in sent.read_text(encoding="ascii").split() if sent.exists() else []:
        assert SmsInbox(station.station).receive_submit(pdu).taken


def assert_card_moved_once(folder, result) -> None:
    from drivers.card import profile as p
    from sim.card.card import CardImage
    from station.seed import demo_purchase_count
    from tests.test_card import CUSTOMER

    image = CardImage.load(folder / "card.json")
    grant = p.parse_grant(image.files[p.FID_PURCHASE])
    assert grant.count == demo_purchase_count(CUSTOMER) + 1, grant
    terminal_states = result["states"]
    assert "reversed" not in terminal_states and terminal_states.count("completed") == 1


CASES = [
    (flow, when, k)
    for flow, count in APPENDS.items()
    for k in range(1, count + 1)
    for when in ("before", "after")
]


@pytest.mark.parametrize(("flow", "when", "k"), CASES, ids=lambda v: str(v))
def test_power_cut_at_every_append_leaves_no_one_sided_entry(flow, when, k, tmp_path, card_for):
    station = RunningStation(str(tmp_path / "station.db"))
    card_for(flow)
    folder = tmp_path / "terminal"
    try:
        driver(station.port, folder, "--flow", flow, "--kill", f"{when}:{k}", expect_killed=True)
        if flow == "sms":
            deliver_sms(folder, station)  # what the module sent before the power went
        result = driver(
            station.port, folder, "--recover", *(["--settle"] if flow == "settle" else [])
        )
        assert result["open"] == [] and result["remaining"] == 0, result
        assert result["verify"] is True
        if flow == "settle":
            assert result["settled"]["balanced"] is True
        if flow == "card_back":  # put back, never reversed: the count moved by exactly one
            assert_card_moved_once(folder, result)
        terminal = make_terminal(folder, station.port)
        mine, theirs = journal_view(terminal), ledger_view(station.ledger.path)
        assert mine == theirs, f"one-sided: terminal {mine} station {theirs}"
        assert sum(mine.values()) == sum(theirs.values())
        terminal.journal.close()
    finally:
        station.stop()
