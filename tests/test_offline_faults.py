"""The fault campaign with offline periods: transactions taken with no coverage against the
route book, among every other fault (a power cut still armed strikes during them too), then
uploaded — nothing one-sided, doubled or lost, and the batch settles to the fen."""

from __future__ import annotations

import json

from terminal.tools import fault_plan
from tests.test_faults_bench import gridpos

SEED = 120  # the short campaign's seed: its plan repeats exactly (no fault timed by the clock)


def test_offline_periods_leave_nothing_one_sided_doubled_or_lost(tmp_path, pcscd):
    done = gridpos(
        "faults", "--seed", str(SEED), "--transactions", "12", "--offline", "5", "--json",
        "--dir", str(tmp_path / "run"), timeout=600,
    )  # fmt: skip
    assert done.stdout, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert done.returncode == 0, report
    assert report["faults"]["offline_period"] == 5
    assert report["outcomes"].get("offline", 0) >= 1, report["outcomes"]
    assert report["one_sided"] == report["doubled"] == report["lost"] == 0
    assert report["mismatches"] == [] and report["raw_errors"] == 0
    assert report["terminal_total_fen"] == report["station_total_fen"] > 0
    assert report["journal_intact"] and report["settlement"]["balanced"]


def test_offline_periods_leave_the_rest_of_a_seeds_plan_as_it_was():
    plain = fault_plan.plan(SEED, 12, cards=True)
    mixed = fault_plan.with_offline_periods(plain, SEED, 5)
    changed = [i for i, (a, b) in enumerate(zip(plain, mixed, strict=True)) if a != b]
    assert len(changed) == 5 and all(mixed[i].kind == "offline" for i in changed)
    assert "offline_period" not in {s.fault for s in plain}
    assert mixed == fault_plan.with_offline_periods(plain, SEED, 5)  # a function of the seed
