"""The heartbeat carries the station's commands to a real terminal over loopback TCP: a lock is
obeyed (no new payment, said with A2, nothing sent), confirmed, survives a restart of the
terminal, and is lifted by unlock; the station repeats a command until it is confirmed."""

from __future__ import annotations

import asyncio
import json

import pytest

from station.seed import DEMO_PASSWORD
from terminal.core.lifecycle import State
from terminal.protocol.records import StationCommand
from terminal.shell.beat import Heartbeat, battery_percent
from terminal.shell.session import StationDeclined
from tests.terminal_kit import make_terminal, prepay_order


def _command(station, value: int, locked: int | None = None) -> None:
    """What the console does: a pending command, and the station-side lock at once."""
    if locked is None:
        station.ledger.run("UPDATE terminals SET command = ? WHERE terminal_id = 'T0000001'", value)
    else:
        station.ledger.run(
            "UPDATE terminals SET command = ?, locked = ? WHERE terminal_id = 'T0000001'",
            value,
            locked,
        )


def _terminal_row(station):
    return station.ledger.one("SELECT * FROM terminals WHERE terminal_id = 'T0000001'")


def test_lock_is_obeyed_confirmed_kept_over_a_restart_and_lifted(station, tmp_path):
    async def scenario() -> None:
        terminal = make_terminal(tmp_path, station.port)
        await terminal.sign_on("100101", DEMO_PASSWORD)
        beat = Heartbeat(terminal, "9.9.9", period_s=60)
        assert await beat.beat() is StationCommand.NONE
        _command(station, StationCommand.LOCK, locked=1)
        assert await beat.beat() is StationCommand.LOCK
        assert terminal.session.station_locked
        row = _terminal_row(station)
        assert row["command"] == 0, "the confirmation clears the pending command"
        assert json.loads(row["status"])["version"] == "9.9.9"
        sent = terminal.link.round_trips
        with pytest.raises(StationDeclined) as refused:
            prepay_order(terminal, 5000)
        assert refused.value.code == "A2"
        assert terminal.link.round_trips == sent, "a locked terminal sends no payment"
        await terminal.link.close()
        terminal.journal.close()

        again = make_terminal(tmp_path, station.port)  # restarted: the journal keeps the lock
        assert again.session.station_locked
        with pytest.raises(StationDeclined) as refused:
            await again.sign_on("100101", DEMO_PASSWORD)
        assert refused.value.code == "A2", "the station refuses a locked terminal's sign-on"
        _command(station, StationCommand.UNLOCK, locked=0)
        await again.sign_on("100101", DEMO_PASSWORD)
        with pytest.raises(StationDeclined):
            prepay_order(again, 5000)  # still locked here until the heartbeat says otherwise
        assert await Heartbeat(again, "9.9.9", 60).beat() is StationCommand.UNLOCK
        assert not again.session.station_locked
        order = prepay_order(again, 5000)
        finished = await again.run(order)
        assert finished.outcome is State.APPROVED
        await again.link.close()
        again.journal.close()

    asyncio.run(scenario())
    row = _terminal_row(station)
    assert row["command"] == 0
    assert json.loads(row["status"])["confirmed"] == StationCommand.UNLOCK


def test_a_command_is_repeated_until_confirmed(station):
    from terminal.protocol import messages as m

    client = station.client()
    client.sign_on()
    _command(station, StationCommand.SIGN_ON)
    first = client.request(m.HeartbeatRequest(terminal_id="T0000001", trace=client.next_trace()))
    second = client.request(m.HeartbeatRequest(terminal_id="T0000001", trace=client.next_trace()))
    assert first.command == second.command == StationCommand.SIGN_ON
    client.request(
        m.HeartbeatRequest(
            terminal_id="T0000001", trace=client.next_trace(), command=StationCommand.SIGN_ON
        )
    )
    after = client.request(m.HeartbeatRequest(terminal_id="T0000001", trace=client.next_trace()))
    assert after.command == StationCommand.NONE


def test_sign_on_again_is_confirmed_then_the_key_is_forgotten(station, tmp_path):
    async def scenario() -> None:
        terminal = make_terminal(tmp_path, station.port)
        await terminal.sign_on("100101", DEMO_PASSWORD)
        _command(station, StationCommand.SIGN_ON)
        assert await Heartbeat(terminal, "1", 60).beat() is StationCommand.SIGN_ON
        assert not terminal.session.signed_on
        await terminal.link.close()
        terminal.journal.close()

    asyncio.run(scenario())
    assert _terminal_row(station)["command"] == 0


def test_every_answer_goes_to_the_update_handling_and_an_install_asks_for_a_restart(
    station, tmp_path
):
    """The 0830 goes to ``on_answer`` (the desk's update handling); when that says a new version
    was switched to, ``switched`` is set, which ends ``gridpos run`` so the service starts the
    new version through ``gridpos update boot``."""
    answers = []

    async def scenario() -> None:
        terminal = make_terminal(tmp_path, station.port)
        await terminal.sign_on("100101", DEMO_PASSWORD)
        beat = Heartbeat(terminal, "1", 60)

        async def installed(reply) -> bool:
            answers.append(reply)
            return len(answers) == 2  # the second answer brought the last chunk, say

        beat.on_answer = installed
        await beat.beat()
        assert not beat.switched.is_set()
        await beat.beat()
        assert beat.switched.is_set()
        await terminal.link.close()
        terminal.journal.close()

    asyncio.run(scenario())
    assert len(answers) == 2 and all(a.approved for a in answers)


def test_battery_from_sysfs_or_mains(tmp_path):
    assert battery_percent(tmp_path) == 100
    (tmp_path / "BAT0").mkdir()
    (tmp_path / "BAT0" / "capacity").write_text("57\n")
    assert battery_percent(tmp_path) == 57


def test_the_desk_beats_from_sign_on_and_a_locked_terminal_says_so_when_asked_to_pay(
    station, tmp_path
):
    from terminal.core import requests as rq
    from terminal.core.cash import Tender
    from terminal.shell.desk import Desk
    from tests.wait_kit import until

    async def scenario() -> rq.Reply:
        terminal = make_terminal(tmp_path, station.port)
        desk = Desk(terminal, heartbeat=Heartbeat(terminal, "2.0.0", period_s=60))
        _command(station, StationCommand.LOCK)  # pending; the station has not locked it yet
        signed = await desk.handle(rq.SignOn("100101", DEMO_PASSWORD))
        assert isinstance(signed, rq.SignedOn)
        await until(lambda: terminal.session.station_locked, 10, "the lock from the first beat")
        pay = rq.Pay(rq.PayFlow.PREPAY, Tender(5000, 5000), rq.Customer("0100000123"))
        answer = await desk.handle(pay)
        await desk.close()
        await terminal.link.close()
        terminal.journal.close()
        return answer

    answer = asyncio.run(scenario())
    assert answer == rq.Failed(code="A2")  # the menu shows 终端已被主站锁定，请联系供电公司
    assert json.loads(_terminal_row(station)["status"])["version"] == "2.0.0"
