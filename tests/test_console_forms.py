"""Every form of the management console: bad input gets a clear message and writes nothing;
login errors are plain; roles see and change only their own organisation's data."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from station.console.schema import DEMO_PASSWORD
from tests.console_kit import console_app, csrf_token, logged_in, post_payment, station_db

TOKEN = "0123456789abcdef0123456789abcdef"
NOON = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)  # 12:00 station time


@pytest.fixture
def db(tmp_path):
    return station_db(tmp_path)


@pytest.fixture
def app(db):
    return console_app(db)


def _sql(db, query: str, *args):
    with sqlite3.connect(db) as connection:
        return connection.execute(query, args).fetchall()


def _login(app, org: str, account: str, password: str) -> str:
    answer = app.test_client().post(
        "/login", data={"org": org, "account": account, "password": password}
    )
    return answer.data.decode()


# --- login ---------------------------------------------------------------------------------


def test_login_errors_are_plain(app, db):
    assert "账号不存在" in _login(app, "C01", "nobody", "x")
    assert "密码错误（还可再试4次）" in _login(app, "C01", "admin", "wrong")
    assert "账号不属于所选单位" in _login(app, "S01", "admin", DEMO_PASSWORD)
    assert "必填" in _login(app, "C01", "admin", "")  # an empty form is not a wrong password
    assert _sql(db, "SELECT failures FROM console_accounts WHERE account = 'admin'") == [(1,)]


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(app):
    for _ in range(4):
        assert "密码错误" in _login(app, "C01", "qingshan", "guess")
    assert "账号已锁定" in _login(app, "C01", "qingshan", "guess")
    assert "账号已锁定" in _login(app, "S02", "qingshan", DEMO_PASSWORD)


def test_a_database_fault_at_login_says_operation_failed(app, db):
    _sql(db, "DROP TABLE console_accounts")
    assert "操作异常！" in _login(app, "C01", "admin", DEMO_PASSWORD)


def test_pages_need_a_login(app):
    answer = app.test_client().get("/payments")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/login")


def test_a_post_without_csrf_token_is_refused_and_writes_nothing(db):
    app = console_app(db, csrf=True)
    client = app.test_client()
    page = client.get("/login").data.decode()
    client.post(
        "/login",
        data={
            "org": "C01",
            "account": "admin",
            "password": DEMO_PASSWORD,
            "csrf_token": csrf_token(page),
        },
    )
    answer = client.post("/agents/A0001", data={"amount": "100", "token": TOKEN})
    assert answer.status_code == 400 and "提交无效" in answer.data.decode()
    assert _sql(db, "SELECT count(*) FROM console_topups") == [(0,)]


# --- top-ups -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "note", "token", "message"),
    [
        ("", "", TOKEN, "必填"),
        ("abc", "", TOKEN, "金额格式不对"),
        ("-5", "", TOKEN, "金额格式不对"),
        ("0", "", TOKEN, "金额必须大于0"),
        ("1.234", "", TOKEN, "金额格式不对"),
        ("2000000", "", TOKEN, "单笔充值不能超过"),
        ("100", "长" * 41, TOKEN, "备注最多40字"),
        ("100", "", "", "提交无效"),
    ],
)
def test_bad_top_up_says_why_and_writes_nothing(app, db, amount, note, token, message):
    before = _sql(db, "SELECT deposit_fen, available_fen FROM agents WHERE agent_id = 'A0001'")
    page = logged_in(app).post(
        "/agents/A0001", data={"amount": amount, "note": note, "token": token}
    )
    assert message in page.data.decode()
    assert _sql(db, "SELECT deposit_fen, available_fen FROM agents WHERE agent_id = 'A0001'") == (
        before
    )
    assert _sql(db, "SELECT count(*) FROM console_topups") == [(0,)]


def test_a_top_up_is_journalled_and_a_resubmit_does_not_double_it(app, db):
    client = logged_in(app, "chengguan")
    for _ in range(2):
        client.post("/agents/A0001", data={"amount": "1,200.50", "note": "季度", "token": TOKEN})
    assert _sql(db, "SELECT deposit_fen, available_fen FROM agents WHERE agent_id = 'A0001'") == [
        (3_000_000 + 120_050, 3_000_000 + 120_050)
    ]
    journal = _sql(db, "SELECT agent_id, amount_fen, account, note FROM console_topups")
    assert journal == [("A0001", 120_050, "chengguan", "季度")]
    page = client.get("/agents/A0001").data.decode()
    assert "31,200.50" in page and "1,200.50" in page


def test_an_agent_may_not_top_up_nor_see_another_agent(app, db):
    client = logged_in(app, "a0001")
    assert client.post("/agents/A0001", data={"amount": "100", "token": TOKEN}).status_code == 403
    assert client.get("/agents/A0002").status_code == 404
    assert "A0002" not in client.get("/agents").data.decode()
    assert _sql(db, "SELECT count(*) FROM console_topups") == [(0,)]


def test_a_station_account_may_not_top_up_another_stations_agent(app, db):
    client = logged_in(app, "chengguan")  # 城关供电所: A0001 only
    assert client.post("/agents/A0002", data={"amount": "100", "token": TOKEN}).status_code == 404
    assert _sql(db, "SELECT count(*) FROM console_topups") == [(0,)]


# --- searches ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2026-13-01", "日期格式为 年-月-日"),
        ("start=2026-11-22&end=2026-11-01", "截止日期不能早于起始日期"),
        ("start=2024-01-01&end=2026-11-22", "查询期间最长一年"),
        ("terminal=T1", "终端号为8位字母或数字"),
        ("customer=12ab", "户号为10位数字"),
        ("org=NOPE", "无此选项"),
        ("agent=A0009", "无此选项"),
    ],
)
def test_bad_payment_search_says_why_and_shows_no_result(app, query, message):
    page = logged_in(app).get(f"/payments?{query}").data.decode()
    assert message in page
    assert 'id="payments"' not in page


def test_bad_intake_and_reconciliation_ranges_say_why(app):
    client = logged_in(app)
    assert (
        "截止日期不能早于起始日期"
        in client.get("/intake?start=2026-11-22&end=2026-11-01").data.decode()
    )
    assert "日期格式" in client.get("/recon?end=22/11/2026").data.decode()
    assert "无此选项" in logged_in(app, "a0001").get("/intake?org=S02").data.decode()


def test_an_agent_sees_only_its_own_payments(app, db):
    from station.ledger import Ledger

    ledger = Ledger(db)
    post_payment(ledger, "T0000001", 1, 10_000, NOON)  # A0001
    post_payment(ledger, "T0000002", 1, 20_000, NOON)  # A0002
    ledger.close()
    everything = logged_in(app).get("/payments?start=2026-11-22").data.decode()
    assert "T0000001" in everything and "T0000002" in everything
    own = logged_in(app, "a0001").get("/payments?start=2026-11-22").data.decode()
    assert "T0000001" in own and "T0000002" not in own and "100.00" in own
    other = logged_in(app, "a0001").get("/payments?start=2026-11-22&terminal=T0000002")
    assert "T0000002" not in other.data.decode().split('id="payments"')[1]


# --- terminal commands and the verify hook --------------------------------------------------


def test_a_bad_terminal_command_says_why_and_changes_nothing(app, db):
    client = logged_in(app)
    answer = client.post("/terminals/T0000001/command", data={"command": "9"})
    assert "无此指令" in client.get(answer.headers["Location"]).data.decode()
    assert _sql(db, "SELECT locked, command FROM terminals WHERE terminal_id = 'T0000001'") == [
        (0, 0)
    ]
    assert client.post("/terminals/T9999999/command", data={"command": "1"}).status_code == 404
    agent = logged_in(app, "a0001")
    assert agent.post("/terminals/T0000001/command", data={"command": "1"}).status_code == 403
    assert _sql(db, "SELECT count(*) FROM console_commands") == [(0,)]


def test_the_verify_form_refuses_bad_input_with_plain_messages(app):
    client = logged_in(app)
    assert "票据校验" in client.get("/verify").data.decode()
    bad = client.post(
        "/verify", data={"terminal": "T1", "trace": "x", "code": "!", "amount": "1.234"}
    ).data.decode()
    messages = ("终端号为8位", "流水号为1到6位数字", "校验码为4到20位", "金额为元，最多两位小数")
    for message in messages:
        assert message in bad, message
    assert 'id="answer"' not in bad  # nothing was looked up


# --- monitoring and MIS intake ---------------------------------------------------------------


def test_a_terminal_silent_too_long_stands_out_and_a_live_one_does_not(app, db):
    import json

    now = datetime.now(UTC)
    status = {
        "status": {
            "signal": 21,
            "paper_ok": False,
            "battery_percent": 64,
            "pending": 3,
            "lac": 4660,
            "cell_id": 1234,
        },
        "version": "0.3.0",
        "at": str(now),
    }
    _sql(db, "UPDATE terminals SET status = ? WHERE terminal_id = 'T0000001'", json.dumps(status))
    page = logged_in(app).get("/monitor").data.decode()
    live = page.split('id="mon-T0000001"')[1].split("</tr>")[0]
    assert not live.startswith(' class="silent"') and "失联" not in live
    assert "0.3.0" in live and "缺纸" in live and "64%" in live and "4660/1234" in live
    assert 'id="mon-T0000002" class="silent"' in page and "2 台终端超过 15 分钟无心跳" in page


def test_mis_intake_detail_prints_and_exports(app, db):
    from station.ledger import Ledger

    ledger = Ledger(db)
    post_payment(ledger, "T0000001", 1, 10_000, NOON)
    post_payment(ledger, "T0000002", 1, 20_050, NOON)
    ledger.close()
    client = logged_in(app)
    summary = client.get("/intake?start=2026-11-22&format=csv").data.decode("utf-8-sig")
    assert summary.splitlines()[-1] == "合计,,,2,300.50"
    detail = client.get("/intake?start=2026-11-22&detail=1&format=csv").data.decode("utf-8-sig")
    assert len(detail.splitlines()) == 3 and "0100000123" in detail
    printed = client.get("/intake?start=2026-11-22&detail=1&format=print").data.decode()
    assert "MIS 进账汇总" in printed and "明细" in printed and "T0000002" in printed


# --- offline limits --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [("", "必填"), ("abc", "金额格式不对"), ("-1", "金额格式不对"), ("200000", "不能超过")],
)
def test_a_bad_offline_limit_says_why_and_writes_nothing(app, db, value, message):
    page = logged_in(app).post("/agents/A0001/limit", data={"offline_limit": value})
    assert message in page.data.decode()
    assert _sql(db, "SELECT offline_limit_fen FROM agents WHERE agent_id = 'A0001'") == [(50_000,)]
    assert _sql(db, "SELECT count(*) FROM console_commands") == [(0,)]
    assert _sql(db, "SELECT command FROM terminals WHERE agent_id = 'A0001'") == [(0,)]


def test_a_new_offline_limit_asks_the_agents_terminals_to_sign_on_again(app, db):
    client = logged_in(app, "chengguan")
    answer = client.post("/agents/A0001/limit", data={"offline_limit": "800"})
    assert "已通知 1 台终端重新签到" in client.get(answer.headers["Location"]).data.decode()
    assert _sql(db, "SELECT offline_limit_fen FROM agents WHERE agent_id = 'A0001'") == [(80_000,)]
    assert _sql(db, "SELECT terminal_id, command FROM terminals WHERE command != 0") == [
        ("T0000001", 3)
    ]
    assert _sql(db, "SELECT terminal_id, command FROM console_commands") == [("T0000001", 3)]
    assert (
        logged_in(app, "a0001").post("/agents/A0001/limit", data={"offline_limit": "1"}).status_code
        == 403
    )


def test_a_pending_lock_is_not_replaced_by_a_limit_change(app, db):
    client = logged_in(app)
    client.post("/terminals/T0000001/command", data={"command": "1"})
    client.post("/agents/A0001/limit", data={"offline_limit": "600"})
    assert _sql(db, "SELECT locked, command FROM terminals WHERE terminal_id = 'T0000001'") == [
        (1, 1)
    ]


# --- the organisation tree ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parent", "name", "message"),
    [
        ("S01", "", "必填"),
        ("S01", "长" * 31, "名称最多30字"),
        ("S01", "城关镇代收点", "同一上级下已有此名称"),
        ("S02", "别人的所", "无此选项"),  # another 供电所
        ("P01", "点下之点", "无此选项"),  # nothing goes under a collection point
        ("", "无上级", "必填"),
    ],
)
def test_a_bad_new_organisation_says_why_and_writes_nothing(app, db, parent, name, message):
    before = _sql(db, "SELECT count(*) FROM console_orgs")
    page = logged_in(app, "chengguan").post("/orgs/new", data={"parent": parent, "name": name})
    assert message in page.data.decode()
    assert _sql(db, "SELECT count(*) FROM console_orgs") == before


@pytest.mark.parametrize(
    ("agent", "point", "message"),
    [("", "P01", "必填"), ("A0002", "P01", "无此选项"), ("A0001", "P02", "无此选项")],
)
def test_a_bad_agent_placement_says_why_and_writes_nothing(app, db, agent, point, message):
    page = logged_in(app, "chengguan").post("/orgs/assign", data={"agent": agent, "point": point})
    assert message in page.data.decode()
    assert _sql(db, "SELECT agent_id, org_id FROM console_agent_orgs ORDER BY agent_id") == [
        ("A0001", "P01"),
        ("A0002", "P02"),
        ("A0003", "P03"),
    ]


def test_a_new_station_and_point_and_an_agent_moved_under_it(app, db):
    client = logged_in(app)
    client.post("/orgs/new", data={"parent": "C01", "name": "新华供电所"})
    client.post("/orgs/new", data={"parent": "S03", "name": "新华村代收点"})
    assert _sql(
        db, "SELECT org_id, parent_id, kind FROM console_orgs WHERE org_id IN ('P04', 'S03')"
    ) == [
        ("P04", "S03", "point"),
        ("S03", "C01", "station"),
    ]
    client.post("/orgs/assign", data={"agent": "A0003", "point": "P04"})
    assert "A0003" not in logged_in(app, "qingshan").get("/agents").data.decode()
    tree = client.get("/orgs").data.decode()
    assert tree.index("新华供电所") < tree.index("新华村代收点") < tree.index("A0003")
    assert (
        logged_in(app, "a0001").post("/orgs/new", data={"parent": "P01", "name": "x"}).status_code
        == 403
    )


# --- accounts --------------------------------------------------------------------------------

GOOD_ACCOUNT = {"org": "P01", "agent": "A0001", "account": "zhang3", "name": "张三"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"account": "Zh"}, "账号为3到30位小写字母、数字或下划线"),
        ({"account": "a0001"}, "账号已存在"),
        ({"name": ""}, "必填"),
        ({"password": "short1"}, "密码至少8位，须含字母和数字"),
        ({"password": "onlyletters"}, "密码至少8位，须含字母和数字"),
        ({"org": "P02", "agent": "A0002"}, "无此选项"),  # another 供电所's point
        ({"agent": ""}, "请选择属于该代收点的代理商"),
        ({"org": "S01", "agent": "A0001"}, "只有代收点账号可选代理商"),
    ],
)
def test_a_bad_new_account_says_why_and_writes_nothing(app, db, changes, message):
    data = {**GOOD_ACCOUNT, "password": "zhang3pass", **changes}
    page = logged_in(app, "chengguan").post("/accounts/new", data=data)
    assert message in page.data.decode()
    assert _sql(db, "SELECT count(*) FROM console_accounts") == [(5,)]


def test_a_new_agent_account_logs_in_and_sees_its_agent_only(app, db):
    manager = logged_in(app, "chengguan")
    manager.post("/accounts/new", data={**GOOD_ACCOUNT, "password": "zhang3pass"})
    assert _sql(db, "SELECT role, agent_id FROM console_accounts WHERE account = 'zhang3'") == [
        ("agent", "A0001")
    ]
    client = app.test_client()
    login = {"org": "P01", "account": "zhang3", "password": "zhang3pass"}
    assert client.post("/login", data=login).status_code == 302
    assert "A0002" not in client.get("/agents").data.decode()
    assert client.get("/accounts").status_code == 403


def test_a_manager_lifts_a_lockout_of_its_own_accounts_only(app, db):
    for _ in range(5):
        _login(app, "P01", "a0001", "guess")
    assert "账号已锁定" in _login(app, "P01", "a0001", DEMO_PASSWORD)
    assert logged_in(app, "qingshan").post("/accounts/a0001/unlock").status_code == 404
    logged_in(app, "chengguan").post("/accounts/a0001/unlock")
    assert _sql(db, "SELECT failures, locked_until FROM console_accounts WHERE account = 'a0001'")[
        0
    ] == (0, None)
    logged_in(app, "a0001")  # logs in again


def test_reconciliation_by_organisation(app, db):
    from station.ledger import Ledger

    ledger = Ledger(db)
    post_payment(ledger, "T0000001", 1, 10_000, NOON)
    post_payment(ledger, "T0000002", 1, 20_000, NOON)
    ledger.close()
    client = logged_in(app)
    s01 = client.get("/recon?start=2026-11-22&org=S01").data.decode()
    assert "batch-T0000001-1" in s01 and "batch-T0000002-1" not in s01 and "未结算" in s01
    s02 = client.get("/recon?start=2026-11-22&org=S02").data.decode()
    assert "batch-T0000002-1" in s02 and "batch-T0000001-1" not in s02
    refused = logged_in(app, "chengguan").get("/recon?start=2026-11-22&org=S02").data.decode()
    assert "无此选项" in refused and 'id="recon"' not in refused


def test_the_monitor_sums_today_per_collection_point_and_refreshes_itself(app, db):
    from station.ledger import Ledger

    ledger = Ledger(db)
    post_payment(ledger, "T0000003", 7, 8_000, datetime.now(UTC), customer_no="0100000124")
    ledger.close()
    page = logged_in(app, "qingshan").get("/monitor").data.decode()
    assert '<meta http-equiv="refresh" content="30">' in page
    by_agent = page.split('id="by-agent"')[1]
    assert "A0003 石门村电工" in by_agent and "80.00" in by_agent and "A0001" not in by_agent
    assert '<b id="today-count">1</b>' in page


def test_a_command_replaced_before_the_terminal_heard_it_is_marked_so(app, db):
    client = logged_in(app)
    client.post("/terminals/T0000001/command", data={"command": "1"})
    client.post("/terminals/T0000001/command", data={"command": "2"})
    journal = _sql(db, "SELECT command, confirmed_at FROM console_commands ORDER BY requested_at")
    assert journal == [(1, "superseded"), (2, None)]
    page = client.get("/terminals").data.decode()
    assert "已被后续指令取代" in page and "待确认" in page
