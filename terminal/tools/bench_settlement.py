"""``gridpos bench``, settlement part: bytes and round trips to settle a batch, balanced and with
differences, at two batch sizes; the sketch's CPU cost; and how often the sketch cannot name the
differences, so that the terminal falls back to the range search (measured, not assumed).

Each settlement runs the production terminal (journal, link, ``Settlement``) against the
reference station over loopback. The station's postings are written straight into its ledger and
the terminal's journal is given the same postings less the ``differences`` it "lost" — the usual
real cause: a posting whose answer never reached the terminal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# figure -> target (≤). The search is the first 0500/0510 and whatever it takes to name the
# differences; closing the batch afterwards is one more 0500/0510 without the sketch.
TARGETS = {
    "settlement_balanced_bytes": 300,
    "settlement_sketch_extra_bytes": 99,
    "settlement_1_differences_search_bytes": 200,
    "settlement_1_differences_search_round_trips": 1,
    "settlement_10_differences_search_bytes": 800,
    "settlement_10_differences_search_round_trips": 1,
    "settlement_10x_1_differences_search_bytes": 200,
    "settlement_10x_1_differences_search_round_trips": 1,
    "settlement_10x_10_differences_search_bytes": 800,
    "settlement_10x_10_differences_search_round_trips": 1,
}


def settlement_figures(folder: Path, size: int, rate_trials: int) -> dict[str, object]:
    """Every settlement figure: ``size`` and ten times ``size`` payments, 0, 1 and 10 lost."""
    out: dict[str, object] = {"settlement_batch_size": size}
    for prefix, batch in (("settlement", size), ("settlement_10x", size * 10)):
        for differences in (0, 1, 10):
            name = f"{prefix}_{differences}_differences" if differences else f"{prefix}_balanced"
            figures = settle_once(folder / f"n{batch}-d{differences}", batch, differences)
            out[f"{name}_bytes"] = figures["bytes"]
            if differences:
                out[f"{name}_search_bytes"] = figures["search_bytes"]
                out[f"{name}_search_round_trips"] = figures["search_round_trips"]
                out[f"{name}_found_by"] = figures["found_by"]
    out["settlement_sketch_extra_bytes"] = sketch_extra_bytes()
    out.update(sketch_cpu(size, "sketch"))
    out.update(sketch_cpu(size * 10, "sketch_10x"))
    out["sketch_decode_by_differences"] = decode_rates(rate_trials, size, one_sided=False)
    out["sketch_decode_one_sided"] = decode_rates(rate_trials, size, one_sided=True)
    return out


def settle_once(folder: Path, batch: int, differences: int) -> dict[str, Any]:
    import asyncio

    from drivers.transport import SocketTransport
    from offline_queue.journal import Journal
    from station.seed import demo_master_key
    from station.server import StationThread
    from terminal.core.orders import Order
    from terminal.protocol import messages as m
    from terminal.shell.link import StationLink
    from terminal.shell.terminal import Terminal

    folder.mkdir(parents=True)
    station = StationThread(str(folder / "station.db"))
    try:
        rows = [
            ("T0000001", 1, trace, "x", 1, "0100000123", 1000 + trace, "posted", None, b"", 1,
             None, "2026-11-22T02:00:00+00:00")
            for trace in range(2, batch + 2)
        ]  # fmt: skip
        with station.ledger.atomic() as db:
            db.executemany("INSERT INTO requests VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        journal = Journal(folder / "j.db", folder / "j.key")
        step = max(batch // max(differences, 1), 1)
        missing = set(range(2, batch + 2, step)[:differences])
        journal.db.execute("PRAGMA synchronous=OFF")  # building the fixture, not measuring
        for trace in range(2, batch + 2):
            if trace not in missing:
                order = Order(
                    m.Processing.BILL_PAYMENT, "T0000001", 1, trace, 1000 + trace, "0100000123"
                )
                journal.append(order.txn, "adopted", order.to_payload())
        journal.db.execute("PRAGMA synchronous=FULL")
        journal.set_counter("next_trace", batch + 2)

        async def go() -> dict[str, Any]:
            link = StationLink(SocketTransport, "127.0.0.1", station.port, 5, 10)
            t = Terminal(journal, link, "T0000001", demo_master_key("T0000001"))
            await t.sign_on("100101", "123456")
            before = link.bytes_sent + link.bytes_received
            outcome = await t.settle()
            assert outcome.balanced, outcome.differences
            await link.close()
            return {
                "bytes": link.bytes_sent + link.bytes_received - before,
                "search_bytes": outcome.search_bytes,
                "search_round_trips": outcome.search_round_trips,
                "found_by": outcome.found_by,
            }

        figures = asyncio.run(go())
        journal.close()
    finally:
        station.stop()
    return figures


def sketch_extra_bytes() -> int:
    """What field 49 adds to a 0500: the same request encoded with and without it."""
    from terminal.protocol import messages as m
    from terminal.protocol.reconcile import sketch_of
    from terminal.protocol.records import Summary, TxnKind

    plain = m.SettlementRequest(
        terminal_id="T0000001", batch=1, trace=9, amount_fen=1, summary=Summary(1, bytes(8))
    )
    sketched = m.SettlementRequest(
        **{**plain.__dict__, "sketch": sketch_of([(1, TxnKind.BILL_PAYMENT, 1)]).to_bytes()}
    )
    return len(m.encode(sketched, bytes(16))) - len(m.encode(plain, bytes(16)))


def sketch_cpu(size: int, prefix: str) -> dict[str, float]:
    """The terminal's cost (the sketch of its batch) and the station's (its own sketch of the
    same batch, the sum decoded with ten differences), in milliseconds of this process's CPU
    time on this machine (other processes' load does not count)."""
    import time

    from station.reconcile import differences
    from terminal.protocol import messages as m
    from terminal.protocol.digest import summarize
    from terminal.protocol.reconcile import sketch_of
    from terminal.protocol.records import TxnKind

    entries = [(trace, TxnKind.BILL_PAYMENT, 1000 + trace) for trace in range(1, size + 1)]
    start = time.process_time()
    sketch = sketch_of(entries[10:]).to_bytes()
    terminal_ms = (time.process_time() - start) * 1000
    summary, total = summarize(entries[10:])
    request = m.SettlementRequest(
        terminal_id="T0000001", batch=1, trace=1, amount_fen=total, summary=summary, sketch=sketch
    )
    rows = [{"trace": t, "kind": int(k), "amount_fen": a, "confirmed": 1} for t, k, a in entries]
    start = time.process_time()
    named = differences(request, rows)
    station_ms = (time.process_time() - start) * 1000
    assert named is not None and len(named) == 10
    return {
        f"{prefix}_terminal_cpu_ms": round(terminal_ms, 1),
        f"{prefix}_station_decode_10_cpu_ms": round(station_ms, 1),
    }


def decode_rates(
    trials: int, size: int, one_sided: bool, seed: int = 19
) -> dict[str, dict[str, int]]:
    """Random batches of ``size`` with 9 to 20 differences — a third each missing at the
    terminal, missing at the station and amount changed, or (``one_sided``) only missing on
    either side: how many the sketch named exactly, how many fell back to the range search,
    and how many answers were wrong (must be 0). An amount changed is two fingerprints."""
    import random

    from station.reconcile import differences
    from terminal.core.settlement import named_differences
    from terminal.protocol import messages as m
    from terminal.protocol.digest import summarize
    from terminal.protocol.reconcile import sketch_of
    from terminal.protocol.records import TxnKind

    rng = random.Random(seed)
    kinds = list(TxnKind)
    rates: dict[str, dict[str, int]] = {}
    for count in range(9, 21):
        tally = {"named": 0, "fallback": 0, "wrong": 0, "within_capacity": 0}
        for _ in range(trials):
            traces = rng.sample(range(1, 999_999), size + count)
            shared = {t: (rng.choice(kinds), rng.randint(1, 10**6)) for t in traces[:size]}
            terminal, station = dict(shared), dict(shared)
            fingerprints = 0
            for trace in traces[size:]:
                entry = (rng.choice(kinds), rng.randint(1, 10**6))
                how = rng.randrange(2 if one_sided else 3)
                if how == 0:
                    station[trace] = entry
                elif how == 1:
                    terminal[trace] = entry
                else:
                    terminal[trace], station[trace] = entry, (entry[0], entry[1] + 1)
                fingerprints += 2 if how == 2 else 1
            tally["within_capacity"] += fingerprints <= 10
            mine = [(t, k, a) for t, (k, a) in terminal.items()]
            summary, total = summarize(mine)
            request = m.SettlementRequest(
                terminal_id="T0000001", batch=1, trace=1, amount_fen=total, summary=summary,
                sketch=sketch_of(mine).to_bytes(),
            )  # fmt: skip
            rows = [
                {"trace": t, "kind": int(k), "amount_fen": a, "confirmed": 1}
                for t, (k, a) in station.items()
            ]
            named = differences(request, rows)
            theirs = summarize((t, k, a) for t, (k, a) in station.items())
            found = None if named is None else named_differences(terminal, named, theirs)
            if found is None:
                tally["fallback"] += 1
                continue
            truth = {t for t in set(terminal) | set(station) if terminal.get(t) != station.get(t)}
            tally["named" if {d.trace for d in found} == truth else "wrong"] += 1
        rates[str(count)] = tally
    return rates
