"""The fault campaign's plan: which faults exist, what each injects, and the seeded plan.

``gridpos faults`` (``terminal.tools.faults``) draws every transaction, fault and point from
``plan(seed, …)``; the modem faults are control commands of the module emulator
(``sim.modem.emulator``, ``sim.modem.field``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

FAULTS = (
    "none",
    "drop_down",
    "drop_up",
    "answer_lost",
    "answer_late",
    "answer_twice",
    "garbage",
    "pdp_deact",
    "closed",
    "send_fail",
    "modem_reboot",
    "power_cut",
    "station_restart",
    "station_crash",
    "station_down",
    "paper_out",
    "card_tear",
    # how real modules misbehave (sim.modem.field)
    "urcs_inside",
    "late_reply",
    "sim_busy",
    "data_accept",
    "power_warning",
    "bytewise",
    "connect_fail",
    # no coverage for the transaction: taken offline against the route book (--offline N)
    "offline_period",
)

# Faults of the link and the module: the modem emulator's control command for each.
MODEM_FAULTS = {
    "drop_down": "link drop-after {point}",
    "drop_up": "link drop-after-up {point}",
    "answer_lost": "link drop-after 0",
    "answer_late": "link late {seconds:g}",
    "answer_twice": "link duplicate",
    "garbage": "garbage",
    "pdp_deact": "pdp deact",
    "closed": "closed",
    "send_fail": "send fail",
    "modem_reboot": "reboot",
    "urcs_inside": "urcs on",
    "late_reply": "late-reply {seconds:g}",
    "sim_busy": "boot {seconds:g}",
    "data_accept": "qsend on",
    "power_warning": "power warn",
    "bytewise": "bytewise on",
    "connect_fail": "connect fail {point}",
}
# Faults timed by the clock: a seed whose plan has none of these repeats exactly.
TIMED = ("answer_late", "station_crash", "late_reply", "sim_busy")


@dataclass(frozen=True)
class Planned:
    number: int
    kind: str  # bill, prepay, card, offline
    customer: str
    amount: int
    fault: str
    point: int  # bytes for drops, journal appends for power cuts, 0/1 before/after for tears


def plan(seed: int, transactions: int, cards: bool) -> list[Planned]:
    rng = random.Random(seed)
    postpaid = [f"01{i:08d}" for i in range(1, 201) if i % 10 not in (5, 7)]
    kinds = ["bill", "prepay", "card"] if cards else ["bill", "prepay"]
    # Offline periods are placed by ``with_offline_periods`` from a stream of their own, so a
    # seed's plan without them is what it always was.
    faults = [f for f in FAULTS if (cards or f != "card_tear") and f != "offline_period"]
    out = []
    for number in range(1, transactions + 1):
        kind = rng.choice(kinds)
        fault = rng.choice(faults)
        if fault == "card_tear" and kind != "card":
            kind = "card"
        point = {
            "drop_down": rng.randint(0, 60),
            "drop_up": rng.randint(0, 60),
            "power_cut": rng.randint(1, 9),
            "card_tear": rng.randint(0, 1),
            "answer_late": rng.randint(500, 4000),  # ms; the terminal waits 2 s
            "station_crash": rng.randint(0, 1500),  # ms into the transaction
            "late_reply": rng.randint(500, 3000),  # ms the module sits on its next reply
            "sim_busy": rng.randint(1000, 4000),  # ms the SIM answers busy after the reset
            "connect_fail": rng.randint(1, 3),  # opens that fail in a row
        }.get(fault, 0)
        customer = rng.choice(postpaid) if kind == "bill" else "0100000123"
        amount = rng.choice((1000, 2000, 5000, 10000))
        out.append(Planned(number, kind, customer, amount, fault, point))
    return out


def with_offline_periods(steps: list[Planned], seed: int, periods: int) -> list[Planned]:
    """``periods`` transactions of the plan made offline: the link is down (no registration) for
    the transaction, and the payment is taken against the route book of T0000001's route
    (customers 1–80, not card-prepaid), then uploaded when coverage returns. Any fault still
    armed (a power cut from an earlier step) strikes during it too."""
    rng = random.Random(f"offline {seed}")
    route = [f"01{i:08d}" for i in range(1, 81) if i % 10 != 5]
    chosen = set(rng.sample(range(len(steps)), min(periods, len(steps))))
    return [
        Planned(
            s.number, "offline", rng.choice(route), rng.choice((1000, 2000, 5000)),
            "offline_period", 0,
        )
        if i in chosen
        else s
        for i, s in enumerate(steps)
    ]  # fmt: skip
