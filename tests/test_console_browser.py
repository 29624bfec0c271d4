"""The management console in a real headless chromium (Selenium, Debian's chromedriver), served
on a free loopback port over the database of a real station that real terminals talk to.

Covered: login errors; an agent seeing only its own payments; a top-up; a reconciliation with
one injected difference; a terminal locked from the console refusing payments until unlocked;
the MIS intake export. Each saves screenshots of the pages it shows.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from station.console.schema import DEMO_PASSWORD
from station.console.serve import ConsoleServer
from station.seed import DEMO_PASSWORD as OPERATOR_PASSWORD
from terminal.core.lifecycle import State
from terminal.protocol.records import StationCommand
from terminal.shell.beat import Heartbeat
from terminal.shell.session import StationDeclined
from tests.browser_kit import LoopThread, browser, click_and_wait, log_in, shot
from tests.console_kit import post_payment
from tests.terminal_kit import bill_order, make_terminal, prepay_order
from tests.wait_kit import wait_until

NOON = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
DAY = "2026-11-22"


@pytest.fixture
def console(station):
    server = ConsoleServer(str(station.ledger.path), seed_demo=True).start()
    yield server
    server.stop()


@pytest.fixture
def chrome(tmp_path):
    driver = browser(tmp_path)
    yield driver
    driver.quit()


@pytest.fixture
def loop():
    thread = LoopThread()
    yield thread
    thread.stop()


def _by(driver, css: str):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, css)


def _all(driver, css: str):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, css)


def test_login_errors_then_the_monitor(console, chrome, tmp_path):
    log_in(chrome, console.url, "C01", "nobody", "x")
    assert _by(chrome, "#error").text == "账号不存在"
    log_in(chrome, console.url, "C01", "admin", "wrong")
    assert _by(chrome, "#error").text.startswith("密码错误")
    log_in(chrome, console.url, "S02", "admin", DEMO_PASSWORD)
    assert _by(chrome, "#error").text == "账号不属于所选单位"
    shot(chrome, tmp_path, "login-error")
    log_in(chrome, console.url, "C01", "admin", DEMO_PASSWORD)
    assert _by(chrome, "h1").text == "实时监控"
    rows = _all(chrome, "#monitor tr.silent")
    assert len(rows) == 3, "no terminal has sent a heartbeat: all stand out as silent"
    shot(chrome, tmp_path, "monitor-silent")


def test_an_agent_sees_only_its_own_payments(station, console, chrome, tmp_path):
    post_payment(station.ledger, "T0000001", 1, 13_208, NOON)
    post_payment(station.ledger, "T0000002", 1, 50_000, NOON, customer_no="0100000124")
    log_in(chrome, console.url, "P01", "a0001", DEMO_PASSWORD)
    chrome.get(f"{console.url}/payments?start={DAY}&end={DAY}")
    table = _by(chrome, "#payments").text
    assert "T0000001" in table and "T0000002" not in table
    assert _by(chrome, "#count").text == "1" and _by(chrome, "#total").text == "132.08"
    shot(chrome, tmp_path, "payments-agent")
    log_in(chrome, console.url, "C01", "admin", DEMO_PASSWORD)
    chrome.get(f"{console.url}/payments?start={DAY}&end={DAY}")
    assert _by(chrome, "#count").text == "2" and _by(chrome, "#total").text == "632.08"
    shot(chrome, tmp_path, "payments")


def test_a_top_up(station, console, chrome, tmp_path):
    log_in(chrome, console.url, "S01", "chengguan", DEMO_PASSWORD)
    chrome.get(f"{console.url}/agents/A0001")
    assert _by(chrome, "#available").text == "30,000.00"
    _by(chrome, "#amount").send_keys("5000")
    _by(chrome, "#note").send_keys("追加保证金")
    click_and_wait(chrome, _by(chrome, "#do-topup"))
    assert "已充值 5,000.00 元" in _by(chrome, ".flash").text
    assert _by(chrome, "#deposit").text == "35,000.00"
    assert _by(chrome, "#available").text == "35,000.00"
    assert "追加保证金" in _by(chrome, "#topups").text
    shot(chrome, tmp_path, "agent-topup")
    agent = station.ledger.agent("A0001")
    assert (agent["deposit_fen"], agent["available_fen"]) == (3_500_000, 3_500_000)
    chrome.get(f"{console.url}/orgs")
    shot(chrome, tmp_path, "orgs")


def test_reconciliation_shows_one_injected_difference(station, console, chrome, loop, tmp_path):
    terminal = loop.do(make_terminal, tmp_path, station.port)

    async def pay_and_settle():
        await terminal.sign_on("100101", OPERATOR_PASSWORD)
        finished = await terminal.run(await bill_order(terminal))
        assert finished.outcome is State.APPROVED
        outcome = await terminal.settle()
        assert outcome.balanced
        await terminal.link.close()

    loop.call(pay_and_settle())
    loop.do(terminal.journal.close)
    # A posting into the closed batch after it was settled: the one difference to find.
    late = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
    post_payment(station.ledger, "T0000001", 900, 4_200, late, customer_no="0100000124")
    log_in(chrome, console.url, "C01", "admin", DEMO_PASSWORD)
    chrome.get(f"{console.url}/recon?start={DAY}&end={DAY}")
    row = _by(chrome, "#batch-T0000001-1")
    assert "differs" in row.get_attribute("class")
    assert "相差 1 笔 42.00 元" in row.text
    assert "流水号 900" in _by(chrome, "#recon").text
    assert len(_all(chrome, "#recon tr.differs")) == 2  # the batch and its late entry
    shot(chrome, tmp_path, "recon")
    chrome.get(f"{console.url}/recon/one-sided")
    assert "无缴费记录" in _by(chrome, "#payments").text  # every completion arrived
    shot(chrome, tmp_path, "one-sided")


def test_a_terminal_locked_from_the_console_refuses_payments_until_unlocked(
    station, console, chrome, loop, tmp_path
):
    station.now = datetime.now(UTC)  # heartbeats and payments of today: the monitor shows them
    terminal = loop.do(make_terminal, tmp_path, station.port)
    heartbeat = Heartbeat(terminal, "0.1.0", period_s=300)
    loop.call(terminal.sign_on("100101", OPERATOR_PASSWORD))
    assert loop.call(heartbeat.beat()) is StationCommand.NONE
    log_in(chrome, console.url, "C01", "admin", DEMO_PASSWORD)
    chrome.get(f"{console.url}/terminals")
    click_and_wait(chrome, _by(chrome, "#term-T0000001 button.lock"))
    assert "已下发“锁定”" in _by(chrome, ".flash").text
    assert _by(chrome, "#term-T0000001 .state").text == "已锁定"
    assert _by(chrome, "#term-T0000001 .pending").text == "锁定"

    station.now = datetime.now(UTC)  # the station's clock has moved on since the click
    assert loop.call(heartbeat.beat()) is StationCommand.LOCK  # obeyed and confirmed
    sent = terminal.link.round_trips
    with pytest.raises(StationDeclined) as refused:
        loop.do(prepay_order, terminal, 5_000)
    assert refused.value.code == "A2" and terminal.link.round_trips == sent
    chrome.get(f"{console.url}/terminals")
    assert _by(chrome, "#term-T0000001 .pending").text == ""
    assert "待确认" not in _by(chrome, "#commands").text
    shot(chrome, tmp_path, "terminals-locked")

    click_and_wait(chrome, _by(chrome, "#term-T0000001 button.unlock"))
    assert _by(chrome, "#term-T0000001 .state").text == "正常"
    station.now = datetime.now(UTC)
    assert loop.call(heartbeat.beat()) is StationCommand.UNLOCK
    finished = loop.call(terminal.run(loop.do(prepay_order, terminal, 5_000)))
    assert finished.outcome is State.APPROVED
    chrome.get(f"{console.url}/monitor")
    row = _by(chrome, "#mon-T0000001")
    assert "0.1.0" in row.text and "已锁定" not in row.text and "50.00" in row.text
    assert row.get_attribute("class") != "silent" and "失联" not in row.text
    assert "silent" in _by(chrome, "#mon-T0000002").get_attribute("class")
    shot(chrome, tmp_path, "monitor")
    loop.call(terminal.link.close())
    loop.do(terminal.journal.close)


def test_mis_intake_export(station, console, chrome, tmp_path):
    from openpyxl import load_workbook

    post_payment(station.ledger, "T0000001", 1, 13_208, NOON)
    post_payment(station.ledger, "T0000003", 1, 8_000, NOON, customer_no="0100000124")
    log_in(chrome, console.url, "S02", "qingshan", DEMO_PASSWORD)  # 青山供电所: A0002, A0003
    chrome.get(f"{console.url}/intake?start={DAY}&end={DAY}")
    assert _by(chrome, "#count").text == "1" and _by(chrome, "#total").text == "80.00"
    shot(chrome, tmp_path, "intake")
    _by(chrome, "#xlsx").click()
    exported = chrome.downloads / "mis-intake.xlsx"
    wait_until(exported.exists, 20, "the XLSX download")
    wait_until(lambda: not list(chrome.downloads.glob("*.crdownload")), 20, "download end")
    sheet = load_workbook(exported).active
    lines = [[c.value for c in row] for row in sheet.iter_rows()]
    assert lines[0] == ["日期", "单位", "代收点", "笔数", "金额（元）"]
    assert lines[1][:4] == [DAY, "石门村代收点", "A0003 石门村电工", 1]
    assert float(lines[1][4]) == 80.0
    assert lines[-1][0] == "合计" and lines[-1][3] == 1
