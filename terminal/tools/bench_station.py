"""``gridpos bench station``: how many payments per second the reference station takes.

N terminals (default 50) connect over loopback to the production station server, each in its
own thread with its own TCP connection: sign on, then pay a prepayment, wait for the answer,
pay the next, for a fixed count. The station runs in a process of its own, as in production,
on a fresh demo ledger with the bench's terminals added (agent B0001, terminals B0000001…,
operator 900001). The figures: payments per second from the first payment to the last
answer, latency percentiles as each terminal saw them, and the books: every payment a client
saw approved must be in the ledger with its amount, and nothing else (0 mismatched).

``--profile FILE`` runs the station under cProfile and prints where its time went; that is how
``docs/performance.md`` says what bounds the figure.

``--db postgresql://...`` runs on PostgreSQL instead, in a schema made for the run and dropped
after it; ``--stations N`` starts N station processes on the one database and deals the
terminals out among them, as a county's stations behind one PostgreSQL (``docs/storage.md``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TARGETS = {"payments_per_s": 1000, "p99_ms": 50}
AGENT = "B0001"
OPERATOR, PASSWORD = "900001", "123456"
AMOUNT_FEN = 100


@dataclass
class Terminal:
    """One bench terminal: what it sent and saw."""

    terminal_id: str
    customer: str
    operator: str = OPERATOR
    latencies: list[float] = field(default_factory=list)
    approved: dict[tuple[int, int], int] = field(default_factory=dict)  # (batch, trace) -> fen
    declined: int = 0
    error: str | None = None


def run(args: argparse.Namespace) -> int:
    import json

    figures = bench(
        args.terminals, args.payments, args.profile, getattr(args, "db", None),
        getattr(args, "stations", 1), getattr(args, "agents", 1),
    )  # fmt: skip
    if args.json:
        print(json.dumps(figures, indent=1, ensure_ascii=False))
    else:
        _print(figures)
    return 0 if all(figures["targets_met"].values()) else 1


def bench(
    terminals: int,
    payments: int,
    profile: str | None = None,
    db: str | None = None,
    stations: int = 1,
    agents: int = 1,
) -> dict[str, Any]:
    """Run the bench; figures as a dict (see ``docs/performance.md``, ``docs/storage.md``)."""
    import platform
    import tempfile

    with tempfile.TemporaryDirectory() as folder, _ledger_for_run(db, folder) as target:
        clients = [Terminal(*ids) for ids in prepare(target, terminals, agents)]
        elapsed = _run_stations(target, clients, payments, profile, stations)
        books = compare(target, clients)
    latencies = sorted(x for c in clients for x in c.latencies)
    done = sum(len(c.approved) for c in clients)
    figures: dict[str, Any] = {
        "conditions": {
            "machine": platform.machine(),
            "python": platform.python_version(),
            "cpus": len(os.sched_getaffinity(0)),
            "terminals": terminals,
            "payments_per_terminal": payments,
            "station": (
                f"{stations} separate process(es), "
                + ("PostgreSQL, a schema of its own" if db else "SQLite WAL synchronous=FULL")
            ),
            "stations": stations,
            "agents": agents,
            "database": "postgresql" if db else "sqlite",
        },
        "payments": done,
        "declined": sum(c.declined for c in clients),
        "errors": [c.error for c in clients if c.error],
        "seconds": round(elapsed, 3),
        "payments_per_s": round(done / elapsed, 1) if elapsed else 0.0,
        "p50_ms": _ms(latencies, 0.50),
        "p99_ms": _ms(latencies, 0.99),
        "max_ms": round(latencies[-1] * 1000, 2) if latencies else 0.0,
        **books,
    }
    if profile:
        figures["profile"] = profile
    figures["targets_met"] = {
        "payments_per_s": figures["payments_per_s"] >= TARGETS["payments_per_s"],
        "p99_ms": figures["p99_ms"] <= TARGETS["p99_ms"],
        "mismatched": books["mismatched"] == 0 and not figures["errors"],
    }
    return figures


@contextlib.contextmanager
def _ledger_for_run(db: str | None, folder: str) -> Iterator[str]:
    """Where this run's ledger lives: a SQLite file in ``folder``, or a new schema in the
    PostgreSQL database ``db`` (dropped at the end, so runs never see each other's rows)."""
    if not db:
        yield str(Path(folder) / "station.db")
        return
    from station.db import is_postgres, open_database, with_search_path

    if not is_postgres(db):
        raise SystemExit(f"gridpos: --db {db}: expected a postgresql:// URL")
    name = f"bench_{os.getpid()}_{int(time.time())}"
    admin = open_database(db)
    try:
        admin.execute(f"CREATE SCHEMA {name}")
        yield with_search_path(db, name)
    finally:
        admin.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        admin.close()


def _run_stations(
    target: str, clients: list[Terminal], payments: int, profile: str | None, stations: int
) -> float:
    """Start the station processes on ``target``, drive the terminals through them (dealt out
    in turn), stop them; the seconds from the first payment to the last answer."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    running = []
    try:
        for n in range(max(stations, 1)):
            ours, theirs = context.Pipe()
            profile_n = f"{profile}.{n}" if profile and n else profile
            process = context.Process(target=serve, args=(target, theirs, profile_n), daemon=True)
            process.start()
            running.append((process, ours))
        ports = []
        for _process, ours in running:
            if not ours.poll(60):
                raise RuntimeError("a station process did not start within 60 s")
            ports.append(ours.recv())
        return _drive(ports, clients, payments)
    finally:
        for _process, ours in running:
            ours.send("stop")
        for process, _ours in running:
            process.join(30)
            if process.is_alive():
                process.kill()


def agent_ids(agents: int) -> list[str]:
    """The bench's agents: B0001 (the only one unless ``--agents``), B0002, ..."""
    return [AGENT] + [f"B{n:04d}" for n in range(2, agents + 1)]


def prepare(path: str, terminals: int, agents: int = 1) -> list[tuple[str, str, str]]:
    """A fresh demo ledger plus the bench's agents, one operator each, and its terminals dealt
    out among the agents in turn; (terminal, customer, operator) for each terminal."""
    import hashlib
    from datetime import UTC, datetime

    from station.answers import STATION_TZ
    from station.ledger import Ledger
    from station.seed import CUSTOMERS, customer_no, demo_master_key, seed_demo
    from station.session import password_hash

    ledger = Ledger(path)
    try:
        seed_demo(ledger, datetime.now(UTC).astimezone(STATION_TZ).date())
        customers = [customer_no(i) for i in range(1, CUSTOMERS + 1) if i % 10 != 5]  # no card
        ids = []
        with ledger.atomic():
            operators = []
            for n, agent in enumerate(agent_ids(agents)):
                ledger.add_agent(agent, "压测代收点", 2_000_000_000, 0)  # field 54 holds an i32
                operator = str(int(OPERATOR) + n)
                salt = hashlib.sha256(operator.encode()).hexdigest()[:16]
                ledger.add_operator(operator, agent, salt, password_hash(salt, PASSWORD))
                operators.append((agent, operator))
            for n in range(1, terminals + 1):
                terminal_id = f"B{n:07d}"
                agent, operator = operators[n % len(operators)]
                ledger.add_terminal(terminal_id, agent, demo_master_key(terminal_id))
                ids.append((terminal_id, customers[n % len(customers)], operator))
    finally:
        ledger.close()
    return ids


def serve(path: str, conn: Any, profile: str | None) -> None:
    """The station process: the production server on ``path`` until the parent says stop."""
    import asyncio
    import cProfile

    from station.envelope import Station
    from station.ledger import Ledger
    from station.server import StationServer

    ledger = Ledger(path)
    server = StationServer(Station(ledger))

    async def main() -> None:
        conn.send(await server.start())
        stop = asyncio.Event()
        asyncio.get_running_loop().add_reader(conn.fileno(), stop.set)
        await stop.wait()
        await server.close()

    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    try:
        asyncio.run(main())
    finally:
        if profiler and profile:
            profiler.disable()
            profiler.dump_stats(profile)
        ledger.close()


def _drive(ports: list[int], clients: list[Terminal], payments: int) -> float:
    """Sign every terminal on, release them together, return the seconds until the last answer."""
    from station.seed import demo_master_key

    ready = threading.Barrier(len(clients) + 1)

    def work(t: Terminal, port: int) -> None:
        from terminal.protocol import messages as m
        from terminal.tools.conformance_client import Client

        c = Client("127.0.0.1", port, t.terminal_id, demo_master_key(t.terminal_id))
        try:
            c.connect()
            signed = c.sign_on(t.operator, PASSWORD)
            if signed.response != "00":
                t.error = f"{t.terminal_id}: sign-on answered {signed.response}"
        except Exception as exc:  # reported in the figures, never hidden
            t.error = f"{t.terminal_id}: {exc!r}"
        ready.wait()
        if t.error:
            c.close()
            return
        try:
            for _ in range(payments):
                request = m.FinancialRequest(
                    processing=m.Processing.PREPAYMENT,
                    terminal_id=t.terminal_id,
                    batch=c.batch,
                    trace=c.next_trace(),
                    amount_fen=AMOUNT_FEN,
                    customer_no=t.customer,
                )
                start = time.perf_counter()
                answer = c.ask(request)
                t.latencies.append(time.perf_counter() - start)
                if answer.response == "00":
                    t.approved[(request.batch, request.trace)] = request.amount_fen
                else:
                    t.declined += 1
        except Exception as exc:
            t.error = f"{t.terminal_id}: {exc!r}"
        finally:
            c.close()

    threads = [
        threading.Thread(target=work, args=(t, ports[n % len(ports)]), daemon=True)
        for n, t in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    ready.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def compare(path: str, clients: list[Terminal]) -> dict[str, int]:
    """The ledger against what the clients saw approved: every key, every amount."""
    from station.ledger import Ledger

    ledger = Ledger(path)
    try:
        mismatched = 0
        ledger_total = 0
        for t in clients:
            posted = ledger.posted_amounts(t.terminal_id)
            ledger_total += sum(posted.values())
            keys = set(posted) | set(t.approved)
            mismatched += sum(posted.get(k) != t.approved.get(k) for k in keys)
        taken = 0
        for agent_id in {ledger.terminal(t.terminal_id)["agent_id"] for t in clients}:
            agent = ledger.agent(agent_id)
            taken += agent["deposit_fen"] - agent["available_fen"]
    finally:
        ledger.close()
    client_total = sum(sum(t.approved.values()) for t in clients)
    return {
        "client_total_fen": client_total,
        "ledger_total_fen": ledger_total,
        "agent_limit_taken_fen": taken,
        "mismatched": mismatched + (ledger_total != client_total) + (taken != client_total),
    }


def _ms(sorted_seconds: list[float], q: float) -> float:
    if not sorted_seconds:
        return 0.0
    index = min(len(sorted_seconds) - 1, int(q * len(sorted_seconds)))
    return round(sorted_seconds[index] * 1000, 2)


def _print(f: dict[str, Any]) -> None:
    c = f["conditions"]
    print(
        f"gridpos bench station — {c['machine']}, Python {c['python']}, {c['cpus']} CPUs; "
        f"{c['terminals']} terminals × {c['payments_per_terminal']} prepayments over loopback"
    )
    met = f["targets_met"]
    rows = [
        ("payments approved", f["payments"], ""),
        ("declined", f["declined"], ""),
        ("seconds", f["seconds"], ""),
        ("payments per second", f["payments_per_s"], f"target ≥ {TARGETS['payments_per_s']}"),
        ("latency p50 (ms)", f["p50_ms"], ""),
        ("latency p99 (ms)", f["p99_ms"], f"target ≤ {TARGETS['p99_ms']}"),
        ("latency max (ms)", f["max_ms"], ""),
        ("total sent (fen)", f["client_total_fen"], ""),
        ("total in the ledger (fen)", f["ledger_total_fen"], ""),
        ("agent limit taken (fen)", f["agent_limit_taken_fen"], ""),
        ("mismatched", f["mismatched"], "target 0"),
    ]
    keys = {"payments per second": "payments_per_s", "latency p99 (ms)": "p99_ms"}
    for label, value, target in rows:
        verdict = ""
        if target:
            ok = met.get(keys.get(label, "mismatched"))
            verdict = f"   {target} {'ok' if ok else 'MISSED'}"
        print(f"  {label:<28} {value!s:>12}{verdict}")
    for error in f["errors"]:
        print(f"  error: {error}")
    if f.get("profile"):
        print_profile(f["profile"])


def print_profile(path: str, top: int = 25) -> None:
    import pstats

    print(f"\nstation profile ({path}), by own time:")
    pstats.Stats(path).sort_stats("tottime").print_stats(top)
