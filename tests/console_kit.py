"""The management console on a seeded station database, for tests: the ledger, the app, logged-in
test clients, and payments put straight into the ledger as the station posts them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

from station.console.app import create_app
from station.console.schema import DEMO_PASSWORD
from station.ledger import Ledger
from station.seed import seed_demo

DAY = date(2026, 11, 22)  # the fixed station day of the tests (tests/conftest.py)
ORG_OF = {"admin": "C01", "chengguan": "S01", "qingshan": "S02", "a0001": "P01", "a0003": "P03"}


def station_db(folder: Path) -> Path:
    path = folder / "station.db"
    ledger = Ledger(path)
    seed_demo(ledger, DAY)
    ledger.close()
    return path


def console_app(path: Path, csrf: bool = False, **options):
    app = create_app(str(path), seed_demo=True, secret_key=b"test" * 8, **options)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=csrf)
    return app


def logged_in(app, account: str = "admin"):
    client = app.test_client()
    answer = client.post(
        "/login", data={"org": ORG_OF[account], "account": account, "password": DEMO_PASSWORD}
    )
    assert answer.status_code == 302, answer.data.decode()
    return client


def post_payment(
    ledger: Ledger,
    terminal_id: str,
    trace: int,
    amount_fen: int,
    when: datetime,
    customer_no: str = "0100000123",
    batch: int = 1,
    kind: int = 1,
    confirmed: bool = True,
) -> None:
    """A posted payment as the station stores it (the console reads nothing else)."""
    ledger.add_request(
        (terminal_id, batch, trace),
        "posted",
        kind,
        customer_no,
        amount_fen,
        fingerprint="test",
        confirmed=confirmed,
        time=when.astimezone(UTC).isoformat(),
    )


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'id="csrf_token"[^>]*value="([^"]+)"', html
    )
    assert found, "no CSRF token on the page"
    return found.group(1)
