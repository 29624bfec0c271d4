"""``gridpos console`` serves the console and says where; the interactive demo starts it on the
demo station's database."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from types import SimpleNamespace

from tests.console_kit import station_db


def test_gridpos_console_prints_its_address_and_serves_the_login_page(tmp_path):
    db = station_db(tmp_path)
    command = [sys.executable, "-m", "terminal.app.cli", "console", "--db", str(db)]
    proc = subprocess.Popen(
        [*command, "--port", "0", "--seed-demo"], stdout=subprocess.PIPE, text=True
    )
    try:
        first = proc.stdout.readline().strip()
        login = proc.stdout.readline()
        assert first.startswith("console: http://127.0.0.1:"), first
        assert "admin" in login and "console123" in login
        with urllib.request.urlopen(first.split(" ", 1)[1] + "login", timeout=10) as answer:
            page = answer.read().decode()
        assert "POS管理系统" in page and "县供电公司" in page
    finally:
        proc.terminate()
        proc.wait(10)


def test_gridpos_console_refuses_a_bad_port(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "terminal.app.cli", "console", "--db", "x.db", "--port", "70000"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "--port 70000" in done.stderr


def test_the_demo_starts_the_console_on_its_station_database(tmp_path):
    from terminal.tools.demo import _start_console

    station_db(tmp_path)
    console = _start_console(SimpleNamespace(folder=tmp_path), port=0)
    try:
        with urllib.request.urlopen(f"{console.url}/login", timeout=10) as answer:
            assert "城关供电所" in answer.read().decode()
    finally:
        console.stop()
