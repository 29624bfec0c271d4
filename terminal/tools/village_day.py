"""Scenario scripts for offline collection, written for today's demo ledger.

The demo's bills depend on the month it is seeded in, and an exact cash amount is what keeps a
payment's screens the same (no round-up offer), so the two offline scenarios are written from a
freshly seeded demo ledger rather than kept as fixed files:

* ``village_day``: sign on and download the route book in town, lose the link, take 30 cash
  bill payments offline, have one refused over the limit and one not in the route book, get
  the link back, let the outbox upload, settle; the receipts say 离线 and the books agree;
* ``counter_paid``: an offline payment whose bills the customer pays at the counter before
  the upload: the money becomes credit, and the pending screen and the slip say so;
* ``sms_day``: GPRS lost while the module stays registered: the upload goes by SMS, the station
  posts it, and the GPRS upload when it returns is a repeat.

``python -m terminal.tools.village_day village_day > FILE`` prints one; ``gridpos demo
--headless --script FILE`` plays it.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

LOGIN = ["key OK", "type 100101", "key OK", "type 123456", "key OK", "expect 主菜单"]
DOWNLOAD = ["key 0", "key 8", "expect 抄收册已下载", "key OK"]
SETTLE = ["key 8", "key 2", "key OK", "expect 结算完成", "key OK"]


def route_dues(count: int, limit_fen: int = 50_000) -> list[tuple[str, int]]:
    """The first ``count`` customers of route 1 (T0000001's) with something due within the
    per-payment limit, with their due in fen, as a fresh demo ledger has them today."""
    from station.answers import STATION_TZ
    from station.ledger import Ledger
    from station.routes import routes_of
    from station.seed import seed_demo

    with tempfile.TemporaryDirectory() as folder:
        ledger = Ledger(Path(folder) / "station.db")
        seed_demo(ledger, datetime.now(UTC).astimezone(STATION_TZ).date())
        found = []
        for number in routes_of(ledger, "A0001")[1][1]:
            row = ledger.customer(number)
            if row is None or row["meter_kind"] != 1:
                continue
            due = max(ledger.arrears(number) - row["credit_fen"], 0)
            if 0 < due <= limit_fen:
                found.append((number, due))
        ledger.close()
    return found[:count]


def _offline_bill(number: str, due: int, serial: int) -> list[str]:
    cash = f"{due // 100}.{due % 100:02d}"
    return [
        "key 1",
        f"type {number}",
        "key OK",
        "expect 无信号",
        "key OK",
        f"type {cash}",
        "key OK",
        "expect 确认",
        "key OK",
        f"expect L{serial:05d}",
        "key OK",
    ]


def village_day(payments: int = 30) -> str:
    dues = route_dues(payments + 1)
    steps = ["# Written by terminal.tools.village_day for today's demo ledger.", *LOGIN]
    steps += [*DOWNLOAD, "link down"]
    for serial, (number, due) in enumerate(dues[:payments], 1):
        steps += _offline_bill(number, due, serial)
    over, _ = dues[payments]
    steps += [  # a prepayment above the offline limit of one payment (500.00 yuan)
        "key 3", f"type {over}", "key OK", "expect 无信号", "key OK", "type 600", "key OK",
        "expect 确认", "key OK", "expect 超过离线单笔限额", "key OK",
    ]
    steps += [  # 王秀英 is on another agent's route
        "key 1", "type 0100000123", "key OK", "expect 不在抄收册", "key OK",
    ]
    steps += ["expect-receipt 离线", f"expect-receipt L{payments:05d}", "link up"]
    steps += ["key 9", "key OK", "check books", *SETTLE, "check books"]
    return "\n".join(steps) + "\n"


def counter_paid() -> str:
    (number, due), = route_dues(1)
    steps = ["# Written by terminal.tools.village_day for today's demo ledger.", *LOGIN]
    steps += [*DOWNLOAD, "link down", *_offline_bill(number, due, 1)]
    steps += [f"counter pay {number}", "link up", "key 9", "key OK", "check books"]
    steps += ["key 9", "expect 已转入预存", "key OK", *SETTLE, "expect-receipt 已转预存"]
    return "\n".join(steps) + "\n"


def sms_day() -> str:
    """GPRS lost but the module still registered: the offline payment's upload goes by SMS and
    the station takes it; when GPRS returns the upload is a repeat, posted once."""
    ((number, due),) = route_dues(1)
    steps = ["# Written by terminal.tools.village_day for today's demo ledger.", *LOGIN]
    steps += [*DOWNLOAD, "link gprs-down", *_offline_bill(number, due, 1)]
    steps += ["expect-sms 已入账 00", "link gprs-up", "key 9", "key OK", "check books"]
    return "\n".join(steps) + "\n"


def pay_at_counter(ledger_path: Path, customer_no: str) -> None:
    """The customer pays every unpaid bill at the utility's counter: the station's own entry,
    on its own connection to the ledger (the station's process keeps running)."""
    from station.ledger import Ledger

    ledger = Ledger(ledger_path)
    ledger.db.execute("PRAGMA busy_timeout = 10000")
    with ledger.atomic():
        for bill in ledger.unpaid_bills(customer_no):
            ledger.change_paid(customer_no, bill["month"], bill["amount_fen"] - bill["paid_fen"])
    ledger.close()


def main() -> int:
    which = sys.argv[1] if len(sys.argv) > 1 else "village_day"
    scripts = {"village_day": village_day, "counter_paid": counter_paid, "sms_day": sms_day}
    print(scripts[which](), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
