"""Offline collection as a person does it, against the whole headless demo (station, modem
emulator, printer emulator, the terminal as its own process).

The scripts are written by ``terminal.tools.village_day`` from a demo ledger seeded today (an
exact cash amount keeps every payment's screens the same, and the bills depend on the month).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from terminal.tools import village_day
from terminal.tools.scenario import ScenarioError, parse


def play(script: str, folder) -> subprocess.CompletedProcess:
    path = folder / "script.txt"
    path.write_text(script, encoding="utf-8")
    return subprocess.run(
        [
            sys.executable, "-m", "terminal.app.cli", "demo", "--headless",
            "--dir", str(folder / "demo"), "--rtt-ms", "20", "--script", str(path),
        ],
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )


def test_a_village_day_thirty_payments_offline_two_refused_uploaded_and_settled(tmp_path):
    script = village_day.village_day(30)
    assert script.count("expect L000") == 30
    done = play(script, tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "books agree: 30 payments" in done.stdout
    assert done.stdout.count("电费缴费凭证（离线）") == 30  # every receipt says 离线
    assert "超过离线单笔限额" in done.stdout and "该户不在抄收册中" in done.stdout


def test_an_offline_payment_meeting_a_bill_paid_at_the_counter_is_reported(tmp_path):
    done = play(village_day.counter_paid(), tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "books agree: 1 payments" in done.stdout
    assert "已转入预存" in done.stdout and "已转预存（账单已变）" in done.stdout


def test_gprs_lost_but_sms_going_the_upload_reaches_the_station_by_sms_first(tmp_path):
    done = play(village_day.sms_day(), tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert done.stdout.count("SMS 短信到主站: 已入账 00") == 1  # posted by the SMS
    assert "books agree: 1 payments" in done.stdout  # the GPRS upload after it: a repeat


def test_counter_pay_names_a_customer():
    assert parse("counter pay 0100000001\n")[0].arg == "pay 0100000001"
    with pytest.raises(ScenarioError, match="line 1: counter pay CUSTOMER"):
        parse("counter pay 123\n")
