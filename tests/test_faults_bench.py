"""The proving commands themselves: a short fault campaign, the benchmark and the fuzzer.

These run the commands as a user would (a separate process, JSON out) and check what they
report. Timing figures are printed by ``gridpos bench``, never asserted here: only the figures
that do not depend on the machine's speed (bytes, round trips) are held to their targets.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

from terminal.tools import faults


def gridpos(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "terminal.app.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# Seed 120's eight transactions include a power cut, a torn card write and a station restart,
# field faults of the module (bytes one at a time, DATA ACCEPT mode, the station unreachable),
# and no fault timed by the clock (faults.TIMED), so its outcomes repeat exactly.
SEED = 120


def campaign(folder, seed=SEED, transactions=8, *modem: str) -> tuple[int, dict]:
    done = gridpos(
        "faults", "--seed", str(seed), "--transactions", str(transactions), "--json",
        "--dir", str(folder), *modem,
    )  # fmt: skip
    assert done.stdout, done.stderr[-2000:]
    return done.returncode, json.loads(done.stdout)


@pytest.fixture(scope="module")
def short_run(tmp_path_factory, pcscd):
    folder = tmp_path_factory.mktemp("faults")
    return folder, *campaign(folder)


def test_short_campaign_balances_to_the_fen(short_run):
    _, code, report = short_run
    assert code == 0, report
    assert report["card_flows"] is True  # pcscd and vpcd are part of the suite's set-up
    assert report["one_sided"] == report["doubled"] == report["lost"] == 0
    assert report["mismatches"] == []
    assert report["terminal_total_fen"] == report["station_total_fen"] > 0
    assert report["journal_intact"] and report["settlement"]["balanced"]
    assert sum(report["faults"].values()) == 8
    assert set(report["faults"]) <= set(faults.FAULTS)
    assert {"power_cut", "card_tear", "station_restart"} <= set(report["faults"])
    assert report["power_cuts"] >= 1
    # every transaction got to an outcome the operator understands: none failed inside
    assert not [k for k in report["outcomes"] if k.startswith("error")], report["outcomes"]
    assert report["raw_errors"] == 0, report["outcomes"]  # no raw driver error met the operator


def test_a_campaign_through_an_m26_in_manual_receive_mode(tmp_path, pcscd):
    """The other dialect, with data pulled by AT+QIRD: the same faults, the same books."""
    code, report = campaign(tmp_path, 11, 12, "--dialect", "m26", "--receive", "manual")
    assert code == 0, report
    assert report["modem"] == "m26 manual"
    assert 'receive = "manual"' in (tmp_path / "demo.toml").read_text()
    assert report["one_sided"] == report["doubled"] == report["lost"] == 0
    assert report["mismatches"] == [] and report["settlement"]["balanced"]
    assert report["terminal_total_fen"] == report["station_total_fen"] > 0
    assert report["raw_errors"] == 0, report["outcomes"]


def test_the_same_seed_gives_the_same_run(short_run, tmp_path):
    _, _, first = short_run
    code, second = campaign(tmp_path)
    assert code == 0
    for report in (first, second):  # the time taken and the folder differ, nothing else
        report.pop("seconds")
        report.pop("kept_in")
    assert second == first


def test_the_comparison_finds_every_kind_of_disagreement(short_run):
    folder, _, _ = short_run
    station = sqlite3.connect(folder / "station.db")
    posted = "SELECT batch, trace FROM requests WHERE state = 'posted' AND kind IS NOT NULL"
    (batch, trace), (batch2, trace2), *_ = station.execute(posted).fetchall()
    with station:
        station.execute(
            "UPDATE requests SET amount_fen = amount_fen + 1 WHERE batch = ? AND trace = ?",
            (batch, trace),
        )
        station.execute("DELETE FROM requests WHERE batch = ? AND trace = ?", (batch2, trace2))
        station.execute(
            "INSERT INTO requests (terminal_id, batch, trace, kind, state, amount_fen, time)"
            " VALUES ('T0000001', ?, 999998, 1, 'posted', 500, '2026-01-01T00:00:00Z')",
            (batch,),
        )
    station.close()
    found = faults.compare(folder)
    assert found["lost"] == 1 and found["doubled"] == 1
    assert {(m["batch"], m["trace"]) for m in found["mismatches"]} == {
        (batch, trace),
        (batch2, trace2),
        (batch, 999998),
    }
    assert found["terminal_total_fen"] != found["station_total_fen"]


def test_the_seed_has_no_fault_timed_by_the_clock():
    assert not {s.fault for s in faults.plan(SEED, 8, True)} & set(faults.TIMED)
    assert set(faults.MODEM_FAULTS) <= set(faults.FAULTS)


def test_plan_is_a_function_of_the_seed():
    assert faults.plan(7, 30, True) == faults.plan(7, 30, True)
    assert faults.plan(7, 30, True) != faults.plan(8, 30, True)
    assert all(s.fault != "card_tear" and s.kind != "card" for s in faults.plan(7, 60, False))
    tears = [s for s in faults.plan(7, 200, True) if s.fault == "card_tear"]
    assert tears and all(s.kind == "card" for s in tears)


def test_bench_reports_its_figures_and_meets_the_byte_targets():
    done = gridpos("bench", "--quick", "--json")
    assert done.returncode in (0, 1), done.stderr[-2000:]  # 1: a timing target missed here
    figures = json.loads(done.stdout)
    assert figures["conditions"]["gprs_rtt_ms"] == 800
    for key in (
        "link_rtt_ms",
        "confirm_to_print_ms",
        "cold_start_s",
        "peak_rss_mb",
        "journal_append_median_ms",
        "journal_append_p99_ms",
        "verify_100k_s",
    ):
        assert figures[key] > 0, key
    assert 0 < figures["payment_app_bytes"] <= 400
    assert figures["payment_tcpip_estimate_bytes"] > figures["payment_app_bytes"]
    assert figures["payment_round_trips"] == 2
    assert figures["settlement_balanced_bytes"] <= 300
    one, ten = figures["settlement_1_differences_bytes"], figures["settlement_10_differences_bytes"]
    assert figures["settlement_balanced_bytes"] < one < ten
    for batch in ("settlement", "settlement_10x"):  # differences named by the sketch (R47)
        for count, most in ((1, 200), (10, 800)):
            name = f"{batch}_{count}_differences"
            assert figures[f"{name}_search_round_trips"] == 1, name
            assert figures[f"{name}_search_bytes"] <= most, name
    assert figures["settlement_sketch_extra_bytes"] < 100
    for key in ("sketch_decode_by_differences", "sketch_decode_one_sided"):
        assert all(t["wrong"] == 0 for t in figures[key].values())
        assert all(t["named"] == t["within_capacity"] for t in figures[key].values())
    package, chunks = figures["update_package_bytes"], figures["update_chunks"]
    assert package > 300_000 and chunks == -(-package // 960)  # 960 bytes a chunk
    assert figures["update_round_trips"] == -(-chunks // 4)  # four chunks asked at a time
    assert package < figures["update_app_bytes"] < figures["update_wire_bytes"]
    assert figures["update_time_on_gprs_s"] > figures["update_wire_bytes"] * 8 / 40_000
    met = figures["targets_met"]
    for key in ("payment_app_bytes", "payment_round_trips", "settlement_balanced_bytes"):
        assert met[key] is True, key
    assert (done.returncode == 0) == all(met.values())


def test_station_bench_keeps_the_books_with_concurrent_terminals():
    """Small run: the station's throughput is printed, never asserted; the books must agree."""
    done = gridpos("bench", "station", "--terminals", "4", "--payments", "6", "--json")
    assert done.returncode in (0, 1), done.stderr[-2000:]  # 1: a timing target missed here
    figures = json.loads(done.stdout)
    assert figures["conditions"]["terminals"] == 4
    assert figures["errors"] == []
    assert figures["payments"] == 24 and figures["declined"] == 0
    assert figures["client_total_fen"] == figures["ledger_total_fen"] == 24 * 100
    assert figures["agent_limit_taken_fen"] == 24 * 100
    assert figures["mismatched"] == 0 and figures["targets_met"]["mismatched"] is True
    assert 0 < figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]
    assert figures["payments_per_s"] > 0


def test_fuzz_runs_every_target_without_an_unexpected_exception():
    done = gridpos("fuzz", "--seconds", "0.5", "--seed", "3")
    assert done.returncode == 0, done.stdout[-3000:]
    lines = [line for line in done.stdout.splitlines() if " inputs, " in line]
    assert len(lines) >= 6
    for line in lines:
        assert int(line.split()[1]) > 0, line
    assert done.stdout.rstrip().endswith("no unexpected exception")


def test_fuzz_rejects_an_unknown_target():
    done = gridpos("fuzz", "--target", "nope", "--seconds", "0.1")
    assert done.returncode == 2 and "no fuzz target 'nope'" in done.stdout
