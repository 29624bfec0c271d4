"""The terminal settles against the reference station with the sketch (R46–R48): differences named
in the first answer when they fit, the range search when they do not or the station is older."""

from __future__ import annotations

import asyncio

from terminal.protocol.codes import SKETCH_VERSION
from tests.terminal_kit import bill_order, journal_view, ledger_view, make_terminal


async def lost_journal(tmp_path, port: int, payments: int):
    """A terminal paid ``payments`` bills, then lost its journal: a fresh one signs on and pays
    one more, so the station holds ``payments`` postings the terminal has no record of."""
    old = make_terminal(tmp_path / "old", port)
    await old.sign_on("100101", "123456")
    for index in range(1, payments + 1):
        await old.run(await bill_order(old, f"01{index:08d}"))
    await old.drain_outbox()
    await old.link.close()
    fresh = make_terminal(tmp_path / "fresh", port)
    await fresh.sign_on("100101", "123456")
    await fresh.run(await bill_order(fresh))
    await fresh.drain_outbox()
    return fresh


def test_lost_payments_are_named_by_the_first_answer_in_one_round_trip(station, tmp_path):
    async def go():
        t = await lost_journal(tmp_path, station.port, 6)
        assert t.session.protocol >= SKETCH_VERSION
        outcome = await t.settle()
        assert outcome.balanced, outcome.differences
        assert (outcome.found_by, outcome.search_round_trips) == ("sketch", 1)
        lost = outcome.count - 1  # every posting but the fresh terminal's own
        assert lost >= 5 and len(outcome.differences) == lost
        assert outcome.search_bytes == 136 + 49 + 1 + 9 * lost  # 0500 + 0510 with field 36
        assert journal_view(t) == ledger_view(station.ledger.path)
        await t.link.close()

    asyncio.run(go())


def test_more_differences_than_the_sketch_holds_fall_back_to_the_range_search(station, tmp_path):
    async def go():
        t = await lost_journal(tmp_path, station.port, 16)
        outcome = await t.settle()
        assert outcome.balanced, outcome.differences
        assert outcome.found_by == "search" and outcome.search_round_trips > 1
        assert len(outcome.differences) == outcome.count - 1 > 10
        assert journal_view(t) == ledger_view(station.ledger.path)
        await t.link.close()

    asyncio.run(go())


def test_a_station_of_an_older_protocol_is_sent_no_sketch(station, tmp_path):
    async def go():
        t = await lost_journal(tmp_path, station.port, 2)
        t.session.protocol = SKETCH_VERSION - 1  # as if the 0810 had agreed version 2
        sent = t.link.bytes_sent
        outcome = await t.settle()
        assert outcome.balanced and outcome.found_by == "search"
        assert len(outcome.differences) == outcome.count - 1
        first_0500 = 55  # framed, without field 49 (docs/protocol.md, measured sizes)
        assert t.link.bytes_sent - sent > first_0500  # the search's 0320s followed
        await t.link.close()

    asyncio.run(go())


def test_a_balanced_batch_costs_the_sketch_only_once(station, tmp_path):
    async def go():
        t = make_terminal(tmp_path, station.port)
        await t.sign_on("100101", "123456")
        await t.run(await bill_order(t))
        await t.drain_outbox()
        outcome = await t.settle()
        assert outcome.balanced and outcome.found_by is None
        assert outcome.bytes_used == 136 + 49  # 0500 with an 81-byte field 49, and the 0510
        await t.link.close()

    asyncio.run(go())
