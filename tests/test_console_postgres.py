"""The console's SQL on a real PostgreSQL: a throwaway cluster (Debian's ``postgresql``) in a
temporary folder, reached by its Unix socket only, with the station's tables as
``station/ledger.py`` names them. The same searches, top-up, command and reconciliation as on
SQLite must give the same answers."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from station.console.app import create_app
from station.console.schema import DEMO_PASSWORD
from station.ledger import SCHEMA
from terminal.protocol import messages as m
from terminal.protocol.records import Summary

NOON = datetime(2026, 11, 22, 4, 0, tzinfo=UTC).isoformat()
LATE = datetime(2026, 11, 22, 8, 0, tzinfo=UTC).isoformat()
CLOSED = datetime(2026, 11, 22, 6, 0, tzinfo=UTC).isoformat()


def _as_postgres(*command: str) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the ``postgres`` user."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


@pytest.fixture
def postgres_url():
    pytest.importorskip("psycopg")
    if shutil.which("initdb") is None or shutil.which("pg_ctl") is None:
        pytest.skip("PostgreSQL (Debian package postgresql) is not installed")
    # Its own folder under /tmp: the test's folder is private to root, closed to ``postgres``.
    folder = Path(tempfile.mkdtemp(prefix="gridpos-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data, socket = folder / "data", folder
    quiet = {"check": True, "capture_output": True, "timeout": 120}
    subprocess.run(
        _as_postgres("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"),
        **quiet,
    )
    options = f"-k {socket} -c listen_addresses='' -c fsync=off"
    subprocess.run(
        _as_postgres(
            "pg_ctl", "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"
        ),
        **quiet,
    )
    yield f"postgresql+psycopg://postgres@/postgres?host={socket}"
    subprocess.run(_as_postgres("pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop"), **quiet)
    shutil.rmtree(folder, ignore_errors=True)


def _station(url: str) -> None:
    """The station's tables and a little data, as the station would have written them."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    settled = m.SettlementResponse(
        response="00", batch=2, trace=9, amount_fen=10_000, summary=Summary(1, bytes(8))
    )
    with engine.begin() as c:
        without_comments = re.sub(r"--[^\n]*", "", SCHEMA)
        for statement in without_comments.replace("BLOB", "BYTEA").split(";"):
            if statement.strip():
                c.execute(text(statement))
        c.execute(
            text(
                "INSERT INTO agents VALUES ('A0001', '城关镇代收点', 3000000, 3000000, 50000),"
                " ('A0002', '青山乡供电所', 2000000, 2000000, 50000)"
            )
        )
        c.execute(
            text(
                "INSERT INTO terminals (terminal_id, agent_id, master_key) VALUES"
                " ('T0000001', 'A0001', '00'), ('T0000002', 'A0002', '00')"
            )
        )
        c.execute(
            text(
                "INSERT INTO customers (customer_no, name, address, meter_kind, meter_no)"
                " VALUES ('0100000123', '王秀英', '青山乡', 1, '000100000123')"
            )
        )
        for terminal, trace, fen, when in (
            ("T0000001", 1, 10_000, NOON),
            ("T0000001", 2, 4_200, LATE),  # posted after the batch closed: the difference
            ("T0000002", 1, 50_000, NOON),
        ):
            c.execute(
                text(
                    "INSERT INTO requests (terminal_id, batch, trace, kind, customer_no,"
                    " amount_fen, state, confirmed, time) VALUES (:t, 1, :trace, 1,"
                    " '0100000123', :fen, 'posted', 1, :time)"
                ),
                {"t": terminal, "trace": trace, "fen": fen, "time": when},
            )
        c.execute(
            text("INSERT INTO settlements VALUES ('T0000001', 1, :r, :time)"),
            {"r": m.encode(settled, None), "time": CLOSED},
        )
    engine.dispose()


def test_the_console_works_on_postgresql(postgres_url):
    _station(postgres_url)
    app = create_app(postgres_url, seed_demo=True, secret_key=b"pg" * 16)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    client = app.test_client()
    login = {"org": "P01", "account": "a0001", "password": DEMO_PASSWORD}
    assert client.post("/login", data=login).status_code == 302
    own = client.get("/payments?start=2026-11-22").data.decode()
    assert "T0000002" not in own and '<span id="count">2</span>' in own and "142.00" in own

    admin = app.test_client()
    admin.post("/login", data={"org": "C01", "account": "admin", "password": DEMO_PASSWORD})
    token = "ab" * 16
    for _ in range(2):
        admin.post("/agents/A0001", data={"amount": "100", "token": token})
    assert "30,100.00" in admin.get("/agents/A0001").data.decode()
    admin.post("/terminals/T0000001/command", data={"command": "1"})
    assert "已锁定" in admin.get("/terminals").data.decode()
    recon = admin.get("/recon?start=2026-11-22").data.decode()
    assert "相差 1 笔 42.00 元" in recon and "流水号 2" in recon
    exported = admin.get("/intake?start=2026-11-22&format=csv").data.decode("utf-8-sig")
    assert "合计,,,3,642.00" in exported
    app.extensions["console_engine"].dispose()
