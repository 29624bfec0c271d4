"""A new terminal master key from the station (930000, field 35), on both sides.

The station offers the key under the old one at sign-on and switches only when a sign-on under
the new key arrives; the terminal keeps the new key beside the old until then. Whatever is lost
on the way, the terminal must keep a key the station accepts.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from station import keychange as station_side
from station.seed import demo_master_key
from terminal.protocol import keys as keylib
from terminal.protocol import messages as m
from terminal.protocol import sm4
from terminal.shell.keychange import pending_path
from terminal.shell.session import StationDeclined
from tests.terminal_kit import WANG, make_terminal

OLD = demo_master_key("T0000001")
NEW = bytes.fromhex("8899aabbccddeeff0011223344556677")
OTHER = bytes.fromhex("0f1e2d3c4b5a69788796a5b4c3d2e1f0")


def run_with(station, tmp_path, body, *, key=OLD, with_file=True, folder="t"):
    """Run ``body(terminal)`` on a terminal whose master key file holds ``key``."""
    home = tmp_path / folder
    home.mkdir(exist_ok=True)
    key_file = home / "master.key"
    if with_file:
        keylib.save_key_file(key_file, key)
    terminal = make_terminal(
        home, station.port, master_key_file=str(key_file) if with_file else None
    )
    terminal.session.master_key = key

    async def go():
        try:
            return await body(terminal)
        finally:
            await terminal.link.close()

    try:
        return asyncio.run(go())
    finally:
        terminal.journal.close()


def station_key(station) -> bytes:
    return bytes.fromhex(station.ledger.terminal("T0000001")["master_key"])


def test_the_station_offers_a_key_and_both_sides_switch(station, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    kcv = station_side.schedule(station.ledger, "T0000001", NEW)

    async def body(terminal):
        reply = await terminal.sign_on("100101", "123456")
        assert reply.processing == m.Processing.KEY_CHANGE and reply.approved
        found = await terminal.session.inquire(customer_no=WANG)  # the new working key works
        assert found.approved
        signed = [e.payload for e in terminal.journal.entries() if e.event == "signed_on"]
        return signed

    signed = run_with(station, tmp_path, body)
    assert [s["master_kcv"] for s in signed] == [sm4.check_value(OLD).hex(), kcv.hex()]
    assert keylib.load_master_key(tmp_path / "t/master.key") == NEW
    assert not pending_path(tmp_path / "t/master.key").exists()
    assert station_key(station) == NEW and station_side.pending(station.ledger, "T0000001") is None
    logged = caplog.text.lower()
    assert "master key changed, check value " + kcv.hex() in logged
    assert NEW.hex() not in logged and OLD.hex() not in logged  # only check values are logged

    async def old_key(terminal):
        with pytest.raises(StationDeclined) as refused:
            await terminal.sign_on("100101", "123456")
        return refused.value.code

    assert run_with(station, tmp_path, old_key, folder="old") == "A0"

    async def plain(terminal):
        return await terminal.sign_on("100101", "123456")

    again = run_with(station, tmp_path, plain, key=NEW, folder="t")
    assert again.processing == m.Processing.SIGN_ON and again.new_master is None


def test_a_lost_answer_to_the_switch_is_made_good_at_the_next_sign_on(station, tmp_path):
    """The station switched, the terminal never heard: it still has the old key and the pending
    one; its next sign-on tries the pending key first and finishes the change."""
    station_side.schedule(station.ledger, "T0000001", NEW)

    async def switch_unheard(terminal):  # another path delivers the 930000; its answer is lost
        await terminal.session.sign_on_under("100101", "123456", NEW, m.Processing.KEY_CHANGE)

    run_with(station, tmp_path, switch_unheard, with_file=False, folder="wire")
    assert station_key(station) == NEW
    (tmp_path / "t").mkdir()
    keylib.save_key_file(tmp_path / "t/master.key.pending", NEW)

    async def sign_on(terminal):
        return await terminal.sign_on("100101", "123456")

    reply = run_with(station, tmp_path, sign_on)
    assert reply.approved and reply.processing == m.Processing.KEY_CHANGE
    assert keylib.load_master_key(tmp_path / "t/master.key") == NEW
    assert not pending_path(tmp_path / "t/master.key").exists()


def test_a_pending_key_the_station_does_not_hold_is_dropped_after_the_old_key_works(
    station, tmp_path
):
    (tmp_path / "t").mkdir()
    keylib.save_key_file(tmp_path / "t/master.key.pending", OTHER)  # a change since withdrawn

    async def sign_on(terminal):
        return await terminal.sign_on("100101", "123456")

    reply = run_with(station, tmp_path, sign_on)
    assert reply.approved and reply.processing == m.Processing.SIGN_ON
    assert keylib.load_master_key(tmp_path / "t/master.key") == OLD
    assert not pending_path(tmp_path / "t/master.key").exists()
    assert station_key(station) == OLD

    # Withdrawn for another key: the stale one fails its MAC, the old key signs on, the new one
    # offered is taken on.
    keylib.save_key_file(tmp_path / "t/master.key.pending", OTHER)
    station_side.schedule(station.ledger, "T0000001", NEW)
    reply = run_with(station, tmp_path, sign_on)
    assert reply.processing == m.Processing.KEY_CHANGE
    assert keylib.load_master_key(tmp_path / "t/master.key") == NEW == station_key(station)


def test_a_terminal_that_keeps_no_key_file_stays_on_its_key(station, tmp_path):
    station_side.schedule(station.ledger, "T0000001", NEW)

    async def sign_on(terminal):
        return await terminal.sign_on("100101", "123456")

    reply = run_with(station, tmp_path, sign_on, with_file=False)
    assert reply.approved and reply.new_master is not None  # offered, not taken
    assert station_key(station) == OLD and station_side.pending(station.ledger, "T0000001") == NEW


def test_field_35_round_trips_and_a_wrong_check_value_is_refused():
    block = keylib.wrap_key(OLD, NEW)
    answer = m.SignOnResponse(trace=5, new_master=block, processing=m.Processing.SIGN_ON)
    decoded = m.decode(m.encode(answer, OLD))
    assert isinstance(decoded, m.SignOnResponse) and decoded.new_master == block
    assert keylib.unwrap_key(OLD, block) == NEW
    forged = type(block)(block.encrypted, bytes(4))
    with pytest.raises(keylib.KeyMaterialError):
        keylib.unwrap_key(OLD, forged)


def test_the_station_command_schedules_a_change_and_shows_only_its_check_value(tmp_path, capsys):
    from station.ledger import Ledger
    from terminal.app.cli import main

    db = str(tmp_path / "station.db")
    assert main(["station", "--db", db, "--seed-demo", "--change-master-key", "T0000001"]) == 0
    out = capsys.readouterr().out
    ledger = Ledger(db)
    try:
        new = station_side.pending(ledger, "T0000001")
    finally:
        ledger.close()
    assert new is not None and new.hex() not in out.lower()
    assert f"check value {sm4.check_value(new).hex().upper()}" in out
    assert main(["station", "--db", db, "--change-master-key", "T9999999"]) == 2
