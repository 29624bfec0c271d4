"""The message size table of docs/protocol.md is generated from a recorded run, never by hand.

The table is what an integrator budgets GPRS bytes with, so it must be what the reference
station really sends: the test regenerates it (a station on a fresh demo ledger, the flows run
through a recording client) and fails when the document differs. When a field is added — the
protocol version at sign-on, say — the fix is to rerun the generator, not to edit numbers.
"""

from __future__ import annotations

from pathlib import Path

from terminal.tools import sizes

DOC = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"
REGENERATE = "python -m terminal.tools.sizes --write docs/protocol.md"


def test_the_documented_size_table_is_the_one_a_recorded_run_gives():
    documented = sizes.documented(DOC.read_text(encoding="utf-8"))
    assert documented == sizes.markdown(), f"docs/protocol.md drifted from the code: {REGENERATE}"


def test_the_run_measures_both_directions_of_every_flow():
    labels = dict(sizes.measure())
    for request, response, flow in (
        ("0800", "0810", "sign on"),
        ("0100", "0110", "customer"),
        ("0100", "0110", "customer history"),
        ("0200", "0210", "bill payment"),
        ("0200", "0210", "card purchase"),
        ("0220", "0230", "bill payment"),
        ("0400", "0410", "bill payment"),
        ("0320", "0330", "detail digest"),
        ("0320", "0330", "detail listing"),
        ("0500", "0510", "settlement"),
        ("0820", "0830", "heartbeat"),
    ):
        assert labels[f"{request} {flow}"] > 12 and labels[f"{response} {flow}"] > 12, flow
    pay = sizes.payment_bytes()
    assert pay["total"] == pay["inquiry"] + pay["payment"] + pay["completion"] <= 400


def test_regenerating_touches_only_the_size_table():
    doc = DOC.read_text(encoding="utf-8")
    stale = doc.replace(
        sizes.documented(doc), "| message | bytes |\n|---|---:|\n| 0800 sign on | 1 |"
    )
    fresh = sizes.rewrite(stale)
    assert sizes.documented(fresh) == sizes.markdown()
    start = fresh.index(sizes.SIZES_BEGIN)
    assert fresh[:start] == doc[:start]
    assert fresh[fresh.index(sizes.SIZES_END, start) :] == doc[doc.index(sizes.SIZES_END, start) :]
