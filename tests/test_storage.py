"""The station's storage: one schema on SQLite and PostgreSQL, its migrations, a SQLite start
that stays fast, and several station processes on one PostgreSQL that never post twice."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from station import schema
from station.ledger import Ledger
from terminal.protocol import messages as m
from tests.station_client import StationClient

WANG = "0100000123"  # postpaid, two unpaid months


def _other(backend: str, request, tmp_path, name: str) -> str:
    if backend == "sqlite":
        return str(tmp_path / f"{name}.db")
    return request.getfixturevalue("postgres").fresh_url()


def _shape(url: str) -> dict[str, object]:
    """Tables, their columns (name, type, nullable), primary keys, and the stamped revision."""
    from sqlalchemy import create_engine, inspect, text

    from station.db import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(url))
    try:
        found = inspect(engine)
        tables = {
            table: (
                [(c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(table)],
                found.get_pk_constraint(table)["constrained_columns"],
            )
            for table in sorted(found.get_table_names())
        }
        with engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()
    return {"tables": tables, "version": version}


def test_head_names_the_newest_revision_file():
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(schema.alembic_config("unused.db"))
    assert scripts.get_current_head() == schema.HEAD
    assert scripts.get_base() == schema.BASELINE


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_alembic_from_nothing_builds_what_a_new_ledger_gets(backend, request, tmp_path):
    new, migrated = (_other(backend, request, tmp_path, name) for name in ("new", "migrated"))
    Ledger(new).close()  # built from tables.SCHEMA and stamped
    schema.upgrade(migrated)  # every revision, by Alembic alone
    Ledger(migrated).close()  # then the start-up pass: tables added to SCHEMA since
    built, upgraded = _shape(new), _shape(migrated)
    assert "requests" in built["tables"] and built["version"] == schema.HEAD
    assert upgraded == built


A_LATER_REVISION = '''"""Agents get a telephone number (as the next change's revision would)."""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("agents", sa.Column("phone", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("agents", "phone")
'''


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_database_at_an_older_revision_is_upgraded_when_a_station_opens_it(
    backend, request, tmp_path, monkeypatch
):
    import shutil

    url = _other(backend, request, tmp_path, "older")
    ledger = Ledger(url)
    with ledger.atomic():
        ledger.add_agent("A0001", "城关镇代收点", 5000, 100)
    ledger.close()
    scripts = tmp_path / "migrations"  # this code's revisions and one more
    shutil.copytree(schema.MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "0002_agent_phone.py").write_text(A_LATER_REVISION, encoding="utf-8")
    monkeypatch.setattr(schema, "MIGRATIONS", scripts)
    monkeypatch.setattr(schema, "HEAD", "0002")
    ledger = Ledger(url)
    try:
        assert schema.version(ledger.db) == "0002"
        ledger.run("UPDATE agents SET phone = ? WHERE agent_id = 'A0001'", "0571-1234567")
        row = ledger.agent("A0001")
        assert (row["phone"], row["available_fen"]) == ("0571-1234567", 5000)  # rows kept
    finally:
        ledger.close()


def test_a_ledger_from_before_migrations_is_stamped_at_the_baseline_and_keeps_its_rows(tmp_path):
    import importlib
    import sqlite3

    baseline = importlib.import_module("station.migrations.versions.0001_baseline")
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:  # as the station wrote it before there were revisions
        old.executescript(baseline.BASELINE)
        old.execute("INSERT INTO agents VALUES ('A0009', '老代收点', 100, 90, 0)")
    ledger = Ledger(path)
    try:
        assert schema.version(ledger.db) == schema.HEAD
        assert ledger.agent("A0009")["available_fen"] == 90
    finally:
        ledger.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_rows_read_alike_on_both_databases(backend, request, tmp_path):
    ledger = Ledger(_other(backend, request, tmp_path, "rows"))
    try:
        with ledger.atomic():
            ledger.add_agent("A0001", "城关镇代收点", 5000, 100)
            ledger.set_param("x", "1")
            ledger.set_param("x", "2")  # the portable upsert replaces
        row = ledger.agent("A0001")
        assert row["name"] == row[1] == "城关镇代收点"
        assert dict(row)["available_fen"] == 5000 and row.keys()[:1] == ["agent_id"]
        assert ledger.param("x") == "2"
        assert [ledger.next_ref() for _ in range(3)] == [1, 2, 3]
        assert ledger.arrears("0000000000") == 0 and isinstance(ledger.arrears("0"), int)
    finally:
        ledger.close()


def test_a_sqlite_station_starts_without_alembic_sqlalchemy_or_psycopg(tmp_path):
    """The demo and the tests start many stations: a SQLite start must not pay for the
    PostgreSQL and migration libraries (about 0.4 s to import)."""
    program = f"""
import json, sys, time
start = time.perf_counter()
from station.ledger import Ledger
Ledger({str(tmp_path / "s.db")!r}).close()
new = time.perf_counter() - start
start = time.perf_counter()
Ledger({str(tmp_path / "s.db")!r}).close()
again = time.perf_counter() - start
heavy = sorted(m for m in ("alembic", "sqlalchemy", "psycopg") if m in sys.modules)
print(json.dumps({{"new_s": new, "again_s": again, "heavy": heavy}}))
"""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    print("SQLite ledger start:", figures)
    assert figures["heavy"] == []
    assert figures["new_s"] < 1.0 and figures["again_s"] < 0.5  # generous: a shared machine


# --- several station processes on one PostgreSQL -------------------------------------------


class StationProcess:
    """``gridpos station`` in a process of its own, on the given database."""

    def __init__(self, url: str, seed: bool) -> None:
        command = [sys.executable, "-m", "terminal.app.cli", "station", "--db", url, "--port", "0"]
        self.proc = subprocess.Popen(
            [*command, *(["--seed-demo"] if seed else [])], stdout=subprocess.PIPE, text=True
        )
        line = ""
        while "listening" not in line:
            line = self.proc.stdout.readline()
            assert line, "the station process ended before it listened"
        self.port = int(line.rsplit(":", 1)[1])

    def client(self, terminal_id: str = "T0000001") -> StationClient:
        return StationClient("127.0.0.1", self.port, terminal_id)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def two_stations(postgres):
    url = postgres.fresh_url()
    first = StationProcess(url, seed=True)
    second = StationProcess(url, seed=False)
    yield url, first, second
    first.stop()
    second.stop()


def _twin(station: StationProcess, signed: StationClient) -> StationClient:
    """A second connection of the same terminal, through another station process."""
    twin = station.client(signed.terminal_id)
    twin.mac_key, twin.batch = signed.mac_key, signed.batch
    return twin


def test_a_repeat_sent_to_two_station_processes_at_once_is_posted_once(two_stations):
    url, first, second = two_stations
    a = first.client()
    assert a.sign_on().approved
    b = _twin(second, a)
    payments = 25
    answers = []
    with ThreadPoolExecutor(2) as pool:
        for _ in range(payments):
            request = m.FinancialRequest(
                processing=m.Processing.PREPAYMENT,
                terminal_id=a.terminal_id,
                batch=a.batch,
                trace=a.next_trace(),
                amount_fen=300,
                customer_no=WANG,
            )
            both = threading.Barrier(2)

            def send(client, request=request, both=both):
                both.wait()
                return client.request(request)

            answers.append([f.result() for f in [pool.submit(send, a), pool.submit(send, b)]])
    a.close()
    b.close()
    assert all(x.approved and x == y for x, y in answers)  # one answer, given twice
    assert len({x.station_ref for x, _ in answers}) == payments
    ledger = Ledger(url)
    try:
        posted = ledger.posted_amounts("T0000001")
        assert len(posted) == payments and sum(posted.values()) == payments * 300
        agent = ledger.agent("A0001")
        assert agent["deposit_fen"] - agent["available_fen"] == payments * 300
    finally:
        ledger.close()


def test_a_payment_and_its_reversal_racing_through_two_processes_leave_nothing_posted(
    two_stations,
):
    """Whichever process wins, the end is the same: the payment undone, or never posted."""
    url, first, second = two_stations
    a = first.client()
    assert a.sign_on().approved
    b = _twin(second, a)
    ledger = Ledger(url)
    before = (ledger.agent("A0001")["available_fen"], ledger.arrears(WANG),
              ledger.customer(WANG)["credit_fen"])  # fmt: skip
    outcomes = set()
    with ThreadPoolExecutor(2) as pool:
        for _ in range(15):
            fields = dict(terminal_id=a.terminal_id, batch=a.batch, trace=a.next_trace(),
                          amount_fen=700, customer_no=WANG, processing=m.Processing.PREPAYMENT)
            both = threading.Barrier(2)

            def send(client, request, both=both):
                both.wait()
                return client.request(request)

            paid = pool.submit(send, a, m.FinancialRequest(**fields))
            undone = pool.submit(send, b, m.ReversalRequest(**fields))  # fmt: skip
            assert undone.result().approved
            outcomes.add(paid.result().response)
    a.close()
    b.close()
    try:
        print("payment answers seen:", sorted(outcomes))
        assert outcomes <= {"00", "40"}  # served then reversed, or refused as already reversed
        assert ledger.posted_amounts("T0000001") == {}
        after = (ledger.agent("A0001")["available_fen"], ledger.arrears(WANG),
                 ledger.customer(WANG)["credit_fen"])  # fmt: skip
        assert after == before
    finally:
        ledger.close()


def test_one_agents_terminals_on_two_processes_never_overdraw_its_limit(two_stations):
    from station.seed import demo_master_key

    url, first, second = two_stations
    ledger = Ledger(url)
    with ledger.atomic():
        ledger.add_terminal("T0000009", "A0001", demo_master_key("T0000009"))
        ledger.run("UPDATE agents SET available_fen = 10000 WHERE agent_id = 'A0001'")
    clients = [first.client("T0000001"), second.client("T0000009")]
    for c in clients:
        assert c.sign_on().approved

    def pay_until_refused(c: StationClient) -> int:
        taken = 0
        for _ in range(40):
            reply = c.request(
                m.FinancialRequest(
                    processing=m.Processing.PREPAYMENT, terminal_id=c.terminal_id,
                    batch=c.batch, trace=c.next_trace(), amount_fen=300, customer_no=WANG,
                )
            )  # fmt: skip
            if reply.response == "51":  # the limit is used up
                return taken
            assert reply.approved, reply.response
            taken += 300
        return taken

    with ThreadPoolExecutor(2) as pool:
        taken = sum(pool.map(pay_until_refused, clients))
    for c in clients:
        c.close()
    try:
        left = ledger.agent("A0001")["available_fen"]
        posted = sum(ledger.posted_amounts("T0000001").values()) + sum(
            ledger.posted_amounts("T0000009").values()
        )
        assert left >= 0 and left < 300  # used up, never below zero
        assert taken == posted == 10000 - left
    finally:
        ledger.close()


def test_a_station_goes_on_after_postgresql_drops_its_connection(postgres):
    """A server restart or failover: the request that meets the break is answered 96 (or
    served, had the break been noticed first), its repeat is served, and it is posted once."""
    from station.db import open_database
    from tests.conftest import RunningStation
    from tests.wait_kit import wait_until

    station = RunningStation(postgres.fresh_url())
    admin = open_database(postgres.url)
    try:
        c = station.client()
        assert c.sign_on().approved
        others = "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend'"
        others += " AND pid <> pg_backend_pid()"
        dropped = [row[0] for row in admin.execute(others).fetchall()]
        assert dropped  # the station's own connection is among them
        for pid in dropped:
            admin.execute("SELECT pg_terminate_backend(?)", (pid,))
        wait_until(lambda: not {r[0] for r in admin.execute(others)} & set(dropped), 10, "gone")
        request = m.FinancialRequest(
            processing=m.Processing.PREPAYMENT, terminal_id=c.terminal_id, batch=c.batch,
            trace=c.next_trace(), amount_fen=500, customer_no=WANG,
        )  # fmt: skip
        first = c.request(request)
        print("after the break:", first.response)
        assert first.response in ("96", "00")
        assert c.request(request).approved  # the terminal's repeat
        assert station.ledger.posted_amounts("T0000001") == {(c.batch, request.trace): 500}
        c.close()
    finally:
        admin.close()
        station.stop()


def test_the_station_bench_on_postgresql_keeps_the_books_of_100_terminals(postgres):
    """``gridpos bench station --db postgresql://...``: 100 terminals at once through two
    station processes; the throughput is printed, never asserted; the books must agree."""
    command = [sys.executable, "-m", "terminal.app.cli", "bench", "station", "--db", postgres.url]
    command += ["--terminals", "100", "--payments", "3", "--stations", "2", "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr[-2000:]  # 1: a timing target missed here
    figures = json.loads(done.stdout)
    print("bench on PostgreSQL:", figures["payments_per_s"], "payments/s")
    assert figures["conditions"]["database"] == "postgresql"
    assert figures["conditions"]["stations"] == 2 and figures["errors"] == []
    assert figures["payments"] == 300 and figures["declined"] == 0
    assert figures["client_total_fen"] == figures["ledger_total_fen"] == 300 * 100
    assert figures["agent_limit_taken_fen"] == 300 * 100
    assert figures["mismatched"] == 0 and figures["targets_met"]["mismatched"] is True
    from station.db import open_database

    admin = open_database(postgres.url)  # the run's schema is dropped: nothing left behind
    try:
        left = admin.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bench%'")
        assert left.fetchall() == []
    finally:
        admin.close()


def test_the_station_on_postgresql_passes_the_whole_conformance_kit(postgres):
    """Every rule of docs/protocol.md the kit checks, with the ledger on PostgreSQL."""
    from terminal.tools import conformance
    from tests.conftest import RunningStation

    station = RunningStation(postgres.fresh_url())
    try:
        outcomes = conformance.run_kit("127.0.0.1", station.port)
    finally:
        station.stop()
    assert len(outcomes) >= 60
    assert {o.rule: o.detail for o in outcomes if not o.ok} == {}
