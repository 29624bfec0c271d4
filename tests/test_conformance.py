"""The conformance kit against the reference station, and against stations with one rule broken.

The kit is only worth something if it passes a station that keeps the contract and fails one
that does not, naming the rule. So each mutation below breaks exactly one rule of the reference
station in this test process (the station runs in a thread here, so patching its module is
patching the station under test) and the kit must report that rule as FAIL while most other
checks still pass: a kit that failed everything would name nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

import pytest

from terminal.tools import conformance
from terminal.tools.conformance_client import demo_master_key


def failed(outcomes: list[conformance.Outcome]) -> dict[str, str]:
    return {o.rule: o.detail for o in outcomes if not o.ok}


def test_the_reference_station_passes_every_check(station):
    outcomes = conformance.run_kit("127.0.0.1", station.port)
    assert len(outcomes) >= 60
    assert failed(outcomes) == {}
    sections = conformance.by_section(outcomes)
    assert set(sections) == set(conformance.SECTIONS)


def test_the_command_prints_every_section_and_exits_0_on_a_conforming_station(station):
    done = subprocess.run(
        [sys.executable, "-m", "terminal.app.cli", "conformance", f"127.0.0.1:{station.port}",
         "--json"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["ok"] is True
    assert list(report["sections"]) == list(conformance.SECTIONS)


def test_a_bad_target_is_a_usage_error():
    done = subprocess.run(
        [sys.executable, "-m", "terminal.app.cli", "conformance", "no-port-here"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "HOST:PORT" in done.stderr


def test_the_kit_uses_the_demo_keys_the_seed_loads():
    from station.seed import demo_master_key as seeded

    for terminal in ("T0000001", "T0000002", "T0000003"):
        assert demo_master_key(terminal) == seeded(terminal)


# --- mutated stations: one rule broken at a time ----------------------------------------------


def no_repeat_store(monkeypatch) -> None:
    """Every request looks new to the repeat store: a repeat is taken for a different request."""
    import os

    from station import envelope

    monkeypatch.setattr(envelope, "fingerprint", lambda request: os.urandom(8).hex())


def mac_not_checked(monkeypatch) -> None:
    """The station accepts any MAC (the kit checks answers with its own CMAC, not this one)."""
    from terminal.protocol import messages

    monkeypatch.setattr(messages, "check_mac", lambda data, key: True)


def reversal_not_undoing(monkeypatch) -> None:
    """A reversal is acknowledged but the posting stays."""
    from station import postings

    monkeypatch.setattr(postings, "_undo", lambda ctx, effects: None)


def settlement_always_balanced(monkeypatch) -> None:
    """0500 is closed with the station's own figures whatever the terminal claims."""
    import dataclasses

    from station import settlement
    from terminal.protocol.digest import summarize

    real = settlement.settle

    def settle(ctx, request, terminal):
        rows = ctx.ledger.posted(request.terminal_id, request.batch)
        summary, total = summarize((r["trace"], r["kind"], r["amount_fen"]) for r in rows)
        agreed = dataclasses.replace(request, summary=summary, amount_fen=total)
        return real(ctx, agreed, terminal)

    monkeypatch.setattr(settlement, "settle", settle)


def limit_not_enforced(monkeypatch) -> None:
    """Payments are taken from the agent's limit even when it is short."""
    from station import postings

    def take(ctx, terminal, amount, posting):
        ctx.ledger.change_available(terminal["agent_id"], -amount)
        posting.effects["agent"] = [terminal["agent_id"], amount]

    monkeypatch.setattr(postings, "_take_limit", take)


def no_credit(monkeypatch) -> None:
    """Cash above the due is swallowed instead of becoming prepaid credit."""
    from station.ledger import Ledger

    monkeypatch.setattr(Ledger, "change_credit", lambda self, number, delta: None)


def sketch_answer_drops_a_difference(monkeypatch) -> None:
    """The 95 names the differences the sketch decoded, less the last one."""
    from station import settlement

    real = settlement.differences

    def differences(request, rows):
        found = real(request, rows)
        return found[:-1] if found else found

    monkeypatch.setattr(settlement, "differences", differences)


def sketch_answer_unverified(monkeypatch) -> None:
    """The station trusts whatever the sketch decodes to, without the 0500's figures."""
    from station import reconcile

    class Agrees:
        def __eq__(self, other: object) -> bool:
            return True

    monkeypatch.setattr(reconcile, "summarize", lambda entries: Agrees())


def sketch_of_any_length(monkeypatch) -> None:
    """The decoder takes a field 49 of any length (the kit's own client shares it)."""
    from terminal.protocol import messages

    monkeypatch.setitem(messages._CONVERTERS, "sketch", (bytes.hex, bytes.fromhex))


# mutation -> (how, the check that must fail, its rule id in docs/protocol.md, its section)
MUTATIONS: dict[str, tuple[Callable, str, str, str]] = {
    "repeat store off": (
        no_repeat_store, "repeat-same-answer", "R12", "The key, repeats and idempotency",
    ),
    "MAC not checked": (mac_not_checked, "mac-checked", "R6", "Keys and MAC"),
    "reversal not undoing": (
        reversal_not_undoing, "reversal-undoes", "R27", "Reversal (0400, repeat 0401)",
    ),
    "settlement always balanced": (
        settlement_always_balanced, "settle-unbalanced", "R40",
        "Settlement (0500) and details (0320)",
    ),
    "agent limit not enforced": (limit_not_enforced, "agent-limit", "R19", "Financial rules"),
    "over-due cash not credited": (no_credit, "pay-over-due", "R20", "Financial rules"),
    "sketch answer drops a difference": (
        sketch_answer_drops_a_difference, "settle-sketch-named", "R47",
        "Settlement (0500) and details (0320)",
    ),
    "sketch of any length": (
        sketch_of_any_length, "settle-sketch-malformed", "R46",
        "Settlement (0500) and details (0320)",
    ),
    "sketch answer unverified": (
        sketch_answer_unverified, "settle-sketch-verified", "R47",
        "Settlement (0500) and details (0320)",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_a_station_with_one_rule_broken_fails_naming_that_rule(name, station, monkeypatch):
    mutate, rule, ref, section = MUTATIONS[name]
    mutate(monkeypatch)
    outcomes = conformance.run_kit("127.0.0.1", station.port)
    broken = failed(outcomes)
    assert rule in broken, f"{name}: the kit did not fail {rule}; it failed {sorted(broken)}"
    assert not all(o.ok for o in conformance.by_section(outcomes)[section])
    assert len(outcomes) - len(broken) >= 50, f"{name}: too much failed to name one rule: {broken}"
    text = conformance.report(outcomes)
    assert f"FAIL  {section}" in text and f"FAIL {ref} {rule}:" in text
