"""``gridpos bench``: the speed and size figures, measured on this machine, with their conditions.

Every figure comes from running the production code: the engine, journal, modem driver and
printer driver against the emulators and the reference station over loopback, with the modem
emulator's GPRS link model (800 ms round trip, 40 kbit/s by default).
"""

from __future__ import annotations

import argparse

from terminal.tools.bench_settlement import TARGETS as SETTLEMENT_TARGETS

TARGETS = {
    "payment_app_bytes": 400,
    "payment_round_trips": 2,
    "confirm_to_print_over_rtt_ms": 150,
    "cold_start_s": 1.0,
    "peak_rss_mb": 40,
    "journal_append_median_ms": 5,
    "verify_100k_s": 1.0,
    **SETTLEMENT_TARGETS,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "mode",
        nargs="?",
        choices=("terminal", "station"),
        default="terminal",
        help="terminal (default): the terminal's figures; station: the station's capacity with"
        " many concurrent terminals (terminal/tools/bench_station.py)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--rtt-ms", type=float, default=800)
    parser.add_argument("--kbps", type=float, default=40)
    parser.add_argument(
        "--quick", action="store_true", help="fewer samples (for the test suite); same measurements"
    )
    parser.add_argument(
        "--terminals", type=int, default=50, help="station mode: concurrent terminals (50)"
    )
    parser.add_argument(
        "--payments", type=int, default=100, help="station mode: payments per terminal (100)"
    )
    parser.add_argument(
        "--profile", metavar="FILE", help="station mode: cProfile the station into FILE and show it"
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="station mode: a postgresql:// URL to run on (in a schema of its own, dropped after);"
        " default a temporary SQLite file",
    )
    parser.add_argument(
        "--stations", type=int, default=1, help="station mode: station processes sharing the db (1)"
    )
    parser.add_argument(
        "--agents", type=int, default=1, help="station mode: agents the terminals belong to (1)"
    )


def run(args: argparse.Namespace) -> int:
    from terminal.tools.bench_settlement import settlement_figures

    if args.mode == "station":
        from terminal.tools import bench_station

        return bench_station.run(args)
    import json
    import platform
    import tempfile
    from pathlib import Path

    figures: dict[str, object] = {
        "conditions": {
            "machine": platform.machine(),
            "python": platform.python_version(),
            "cpus": _cpus(),
            "gprs_rtt_ms": args.rtt_ms,
            "gprs_kbps": args.kbps,
        }
    }
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        figures.update(payment_figures(root / "pay", args.rtt_ms, args.kbps))
        figures.update(start_figures(root / "start"))
        figures.update(
            journal_figures(
                root / "journal", 50 if args.quick else 500, 10_000 if args.quick else 100_000
            )
        )
        trials = 3 if args.quick else 20  # random batches per number of differences
        figures.update(settlement_figures(root / "settle", 200 if args.quick else 1000, trials))
        from terminal.tools.bench_update import update_figures

        figures.update(update_figures(root / "update", args.rtt_ms, args.kbps))
    checks = _checks(figures)
    figures["targets_met"] = checks
    if args.json:
        print(json.dumps(figures, indent=1, ensure_ascii=False))
    else:
        _print(figures)
    return 0 if all(checks.values()) else 1


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


# --- one cash payment over the emulated GPRS link ---------------------------------------------


def payment_figures(folder, rtt_ms: float, kbps: float) -> dict[str, object]:
    import asyncio
    import time

    from drivers.modem.modem import Modem, ModemTransport
    from drivers.printer.escpos_printer import EscPosPrinter
    from offline_queue.journal import Journal
    from sim.modem.emulator import LinkModel, ModemEmulator
    from sim.printer.emulator import PrinterEmulator
    from station.seed import demo_master_key
    from station.server import StationThread
    from terminal.core.cash import Tender
    from terminal.core.requests import Pay, PayFlow, customer_of
    from terminal.protocol import messages as m
    from terminal.shell.link import StationLink
    from terminal.shell.terminal import Terminal

    folder.mkdir(parents=True)
    station = StationThread(str(folder / "station.db"))
    modem_emu = ModemEmulator(
        ("127.0.0.1", station.port), "sim800", LinkModel(rtt_ms / 1000, kbps, 0.0)
    )
    printer_emu = PrinterEmulator()
    result: dict[str, object] = {}

    async def go() -> None:
        modem = Modem(modem_emu.path, "sim800")
        modem.start()
        transport = ModemTransport(modem, link_up_timeout=30)
        link = StationLink(lambda: transport, "127.0.0.1", station.port, 30, 30)
        journal = Journal(folder / "j.db", folder / "j.key")
        printer = EscPosPrinter("serial", printer_emu.path, status_timeout=1.0)
        printer.warm_up()  # as the terminal does right after its first screen
        t = Terminal(journal, link, "T0000001", demo_master_key("T0000001"), printer=printer)
        await t.sign_on("100101", "123456")
        # the link's own round trip: the median of a few heartbeats on the open connection
        rtts = []
        for _ in range(5):
            start = time.monotonic()
            heartbeat = m.HeartbeatRequest(terminal_id="T0000001", trace=journal.take_trace())
            await t.session.request(heartbeat)
            rtts.append(time.monotonic() - start)
        link_rtt = sorted(rtts)[len(rtts) // 2]
        sent0, recv0, trips0 = link.bytes_sent, link.bytes_received, link.round_trips
        info = customer_of(await t.session.inquire(customer_no="0100000123"))
        due = info.due_fen
        order = t.order(Pay(PayFlow.BILL, Tender(due, due, due), info))
        printer_emu.first_print_at = None
        confirm = time.monotonic()
        await t.run(order)
        first_print = printer_emu.first_print_at or time.monotonic()
        trips = link.round_trips - trips0
        await t.drain_outbox()  # the completion, sent after the receipt
        app_bytes = link.bytes_sent - sent0 + link.bytes_received - recv0
        messages = 6
        result.update(
            payment_app_bytes=app_bytes,
            payment_tcpip_estimate_bytes=app_bytes + messages * 40 + messages * 40,
            payment_round_trips=trips,
            link_rtt_ms=round(link_rtt * 1000),
            confirm_to_print_ms=round((first_print - confirm) * 1000),
        )
        result["confirm_to_print_over_rtt_ms"] = (
            result["confirm_to_print_ms"] - result["link_rtt_ms"]
        )
        await link.close()
        modem.stop()
        printer.close()
        journal.close()

    try:
        asyncio.run(go())
    finally:
        modem_emu.close()
        printer_emu.close()
        station.stop()
    return result


# --- cold start and memory --------------------------------------------------------------------


def start_figures(folder) -> dict[str, object]:
    """Process start to the first screen, and the terminal process's peak RSS through a payment."""
    import subprocess
    import sys
    import time

    from terminal.tools.demo import DemoStack

    stack = DemoStack(folder, rtt_ms=50, kbps=0)
    try:
        start = time.monotonic()
        proc = subprocess.Popen(
            stack.terminal_command("stdin", "text"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        assert proc.stdout is not None and proc.stdin is not None
        for line in proc.stdout:
            if line.startswith("=== end"):
                break
        cold = time.monotonic() - start
        script = [
            "key OK",
            "type 100101",
            "key OK",
            "type 123456",
            "key OK",
            "key 3",
            "type 0100000123",
            "key OK",
        ]
        for line in script:
            proc.stdin.write(line + "\n")
            proc.stdin.flush()
            time.sleep(0.3)
        for line in ("key OK", "type 20", "key OK", "key OK"):
            proc.stdin.write(line + "\n")
            proc.stdin.flush()
            time.sleep(0.3)
        time.sleep(2)
        rss = _peak_rss_kb(proc.pid)
        proc.stdin.close()
        proc.wait(20)
        del sys
    finally:
        stack.close()
    return {"cold_start_s": round(cold, 3), "peak_rss_mb": round(rss / 1024, 1)}


def _peak_rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


# --- the journal ------------------------------------------------------------------------------


def journal_figures(folder, appends: int, verify_entries: int) -> dict[str, object]:
    import hashlib
    import hmac
    import json
    import statistics
    import time

    from offline_queue.journal import GENESIS, Journal, canonical

    folder.mkdir(parents=True)
    journal = Journal(folder / "j.db", folder / "j.key")
    payload = {"amount_fen": 13400, "customer_no": "0100000123", "batch": 1, "trace": 1}
    times = []
    for i in range(appends):
        start = time.perf_counter()
        journal.append(f"T0000001/001/{i:06d}", "created", payload)
        times.append(time.perf_counter() - start)
    times.sort()
    journal.close()
    # A big journal for verify, written in bulk with the same MAC chain (fsync per entry would
    # only make building it slow, not verifying it).
    big = Journal(folder / "big.db", folder / "j.key")
    previous, rows = GENESIS, []
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    for seq in range(1, verify_entries + 1):
        stamp = "2026-11-22T02:30:00.000+00:00"
        body = canonical(seq, f"T0000001/001/{seq:06d}", "created", payload, stamp)
        previous = hmac.new(big.key, previous + body, hashlib.sha256).digest()
        rows.append((seq, f"T0000001/001/{seq:06d}", "created", text, stamp, previous.hex()))
    with big.db.conn:
        big.db.conn.executemany("INSERT INTO entries VALUES (?,?,?,?,?,?)", rows)
        big.db.conn.execute(
            "INSERT INTO head VALUES (1, ?, ?, ?)",
            (verify_entries, previous.hex(), big._seal(verify_entries, previous).hex()),
        )
    start = time.perf_counter()
    verdict = big.verify()
    elapsed = time.perf_counter() - start
    big.close()
    assert verdict.ok
    return {
        "journal_append_median_ms": round(statistics.median(times) * 1000, 2),
        "journal_append_p99_ms": round(times[int(len(times) * 0.99) - 1] * 1000, 2),
        "verify_entries": verify_entries,
        "verify_100k_s": round(elapsed * 100_000 / verify_entries, 3),
    }


def _checks(f: dict[str, object]) -> dict[str, bool]:
    checks = {}
    for key, target in TARGETS.items():
        if key in f:
            value = f[key]
            checks[key] = value <= target  # type: ignore[operator]
    if "settlement_10_differences_bytes" in f and "settlement_1_differences_bytes" in f:
        one, ten = f["settlement_1_differences_bytes"], f["settlement_10_differences_bytes"]
        larger = f.get("settlement_10x_1_differences_bytes", one)
        checks["settlement_grows_with_differences"] = (
            ten < 12 * one and larger < 2 * one  # type: ignore[operator]
        )
    return checks


def _print(f: dict[str, object]) -> None:
    c = f["conditions"]
    print(
        f"gridpos bench — {c['machine']}, Python {c['python']}, {c['cpus']} CPUs; "
        f"GPRS link {c['gprs_rtt_ms']:g} ms round trip, {c['gprs_kbps']:g} kbit/s"
    )
    units = {"bytes": "bytes", "_ms": "ms", "_s": "s", "_mb": "MB", "trips": ""}
    for key, value in f.items():
        if key in ("conditions", "targets_met") or key.startswith("sketch_decode"):
            continue
        target = TARGETS.get(key)
        unit = next((u for suffix, u in units.items() if key.endswith(suffix)), "")
        line = f"  {key:<48} {value!s:>8} {unit}"
        if target is not None:
            met = f["targets_met"].get(key)  # type: ignore[union-attr]
            line += f"   target ≤ {target} {'ok' if met else 'MISSED'}"
        print(line)
    for key, what in (
        ("sketch_decode_by_differences", "missing either side or amount changed"),
        ("sketch_decode_one_sided", "missing either side"),
    ):
        rates = f.get(key)
        if not isinstance(rates, dict):
            continue
        print(f"  sketch with 9..20 random differences ({what}):")
        print("    differences  named  fallback  wrong  within capacity (≤ 10 fingerprints)")
        for count, tally in rates.items():
            print(
                f"    {count:>11}  {tally['named']:>5}  {tally['fallback']:>8}  {tally['wrong']:>5}"
                f"  {tally['within_capacity']:>5}"
            )
    extra = f["targets_met"].get("settlement_grows_with_differences")  # type: ignore[union-attr]
    if extra is not None:
        print(
            f"  settlement bytes grow with differences, not batch size: "
            f"{'ok' if extra else 'MISSED'}"
        )
