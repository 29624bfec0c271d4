"""Shared test fixtures: a reference station on loopback TCP, and a plain client for it."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from tests.station_client import StationClient

OWN_BASETEMP = pytest.StashKey[str]()

# A fixed day for the station: statistics and billing months do not depend on when tests run.
STATION_NOW = datetime(2026, 11, 22, 2, 30, tzinfo=UTC)


class RunningStation:
    """The station's production server in a background thread with its own event loop."""

    def __init__(self, path: str, now: datetime = STATION_NOW) -> None:
        from station.envelope import Station
        from station.ledger import Ledger
        from station.seed import seed_demo
        from station.server import StationServer

        self.now = now
        self.ledger = Ledger(path)
        seed_demo(self.ledger, date(2026, 11, 22))
        self.station = Station(self.ledger, clock=lambda: self.now)
        self.server = StationServer(self.station)
        self.loop = asyncio.new_event_loop()
        started = threading.Event()

        def main() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self.server.start())
            started.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=main, daemon=True)
        self.thread.start()
        started.wait(10)
        self.port = self.server.port

    def client(self, terminal_id: str = "T0000001") -> StationClient:
        return StationClient("127.0.0.1", self.port, terminal_id)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.ledger.close()


@pytest.fixture
def station(tmp_path) -> Iterator[RunningStation]:
    running = RunningStation(str(tmp_path / "station.db"))
    yield running
    running.stop()


def pytest_configure(config) -> None:
    """Give the session folders of its own: temporary files and a pcscd (``tests.card_kit``).

    pytest's default temporary folders are numbered under one folder per user, and each new
    session deletes the oldest: a second test run started on the same machine removed a
    running session's station database mid-test ("no such table"). A folder made for this run
    alone cannot be taken by another. The pcscd must be chosen before anything touches PC/SC.
    """
    from tests.card_kit import point_at_private_pcscd

    if config.option.basetemp is None:
        config.option.basetemp = tempfile.mkdtemp(prefix="gridpos-tests-")
        config.stash[OWN_BASETEMP] = config.option.basetemp
    point_at_private_pcscd()


def pytest_sessionfinish(session, exitstatus) -> None:
    """A clean run leaves nothing behind; a failed one keeps its files to look at."""
    own = session.config.stash.get(OWN_BASETEMP, None)
    if own is not None and exitstatus == 0:
        shutil.rmtree(own, ignore_errors=True)


def pytest_unconfigure(config) -> None:
    from tests.card_kit import forget_private_pcscd

    forget_private_pcscd()


@pytest.fixture(scope="session")
def pcscd():
    """This session's own pcscd with the vpcd virtual reader on a port of its own (skips,
    saying why, when it cannot run here)."""
    from tests.card_kit import start_pcscd

    proc = start_pcscd()
    yield
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def card_slot(pcscd):
    """The first vpcd slot, empty at the start and at the end of the test."""
    from sim.card.vpcd import VpcdSlot

    slot = VpcdSlot()
    yield slot
    slot.remove()


@pytest.fixture(scope="session")
def postgres():
    """This session's own PostgreSQL cluster in a temporary folder (``tests.pg_kit``); skips,
    saying why, only when the server binaries are not installed or cannot be run here."""
    from tests.pg_kit import Cluster, why_not

    reason = why_not()
    if reason:
        pytest.skip(reason)
    cluster = Cluster()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request, tmp_path) -> str:
    """Where a test's ledger lives: a SQLite file, then a fresh schema in ``postgres``."""
    if request.param == "sqlite":
        return str(tmp_path / "station.db")
    return request.getfixturevalue("postgres").fresh_url()
