"""Receipts anyone can verify: the station's code in field 37, and the answer to "is it genuine?"
through ``station.receipts.verify_receipt``, an SMS and ``gridpos station verify``."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from station.receipts import sms_reply, verify_receipt
from terminal.protocol import messages as m
from terminal.protocol.codes import PROTOCOL_VERSION
from terminal.protocol.receipt_code import (
    CODE_DIGITS,
    parse_verification,
    receipt_no,
    verification_text,
)
from tests.test_station import WANG, pay


@pytest.fixture
def client(station):
    c = station.client()
    assert c.sign_on(protocol=PROTOCOL_VERSION).approved
    yield c
    c.close()


def paid(client, amount=14000):
    request = pay(client, amount)
    answer = client.request(request)
    assert answer.approved
    return request, answer


def test_an_approved_payment_carries_a_code_that_verifies_with_the_ledger_facts(station, client):
    request, answer = paid(client)
    code = answer.verify_code
    assert code is not None and len(code) == CODE_DIGITS and code.isdigit()
    verdict = verify_receipt(station.ledger, client.terminal_id, request.trace, code)
    assert verdict.genuine
    assert (verdict.customer_no, verdict.amount_fen) == (WANG, 14000)
    assert verdict.receipt_no == f"{request.batch:03d}{request.trace:06d}"
    text = verdict.text()
    for part in ("票据真实", "2026-11-22 10:30", "王秀英", "140.00元", verdict.agent):
        assert part in text, part
    # a repeat of the 0200 gets the same code: the answer is the stored one
    assert client.request(request).verify_code == code


def test_a_forged_receipt_is_refused(station, client):
    request, answer = paid(client)
    code, trace = answer.verify_code, request.trace
    altered = verify_receipt(station.ledger, client.terminal_id, trace, code, amount_fen=41000)
    assert not altered.genuine and altered.reason == "altered"
    assert "不真实" in altered.text()
    wrong = f"{(int(code) + 1) % 10**CODE_DIGITS:0{CODE_DIGITS}d}"
    guessed = verify_receipt(station.ledger, client.terminal_id, trace, wrong)
    assert not guessed.genuine and guessed.reason == "code_mismatch"
    never = verify_receipt(station.ledger, client.terminal_id, trace + 50, code)
    assert not never.genuine and never.reason == "no_such_payment"
    other_terminal = verify_receipt(station.ledger, "T0000002", trace, code)
    assert not other_terminal.genuine


def test_a_reversed_payment_no_longer_verifies(station, client):
    request, answer = paid(client)
    reversal = m.ReversalRequest(
        processing=request.processing,
        terminal_id=request.terminal_id,
        batch=request.batch,
        trace=request.trace,
        amount_fen=request.amount_fen,
        customer_no=request.customer_no,
    )
    assert client.request(reversal).approved
    verdict = verify_receipt(station.ledger, client.terminal_id, request.trace, answer.verify_code)
    assert not verdict.genuine and verdict.reason == "reversed"


def test_a_terminal_that_speaks_an_older_protocol_gets_no_field_37(station):
    old = station.client()
    assert old.sign_on().approved  # no field 24: version 1, whose decoder refuses field 37
    answer = old.request(pay(old, 5000))
    assert answer.approved and answer.verify_code is None
    old.close()


def test_the_qr_text_is_an_sms_the_station_answers(station, client):
    request, answer = paid(client)
    number = receipt_no(request.batch, request.trace)
    text = verification_text(client.terminal_id, number, 14000, answer.verify_code)
    assert "票据真实" in sms_reply(station.ledger, text)
    # typed on a phone: full-width letters, Chinese comma, no amount, trace alone
    typed = f"ｙｚ　{client.terminal_id}，{request.trace}，{answer.verify_code}"
    assert parse_verification(typed) is not None
    assert "票据真实" in sms_reply(station.ledger, typed)
    forged = text.replace(" 14000 ", " 41000 ")
    assert "不真实" in sms_reply(station.ledger, forged)
    assert "YZ" in sms_reply(station.ledger, "hello")
    assert "Genuine" in sms_reply(station.ledger, text, "en")


def test_station_verify_on_the_command_line(station, client, tmp_path):
    request, answer = paid(client)
    args = [sys.executable, "-m", "terminal.app.cli", "station", "verify", "--db"]
    args += [station.ledger.path, client.terminal_id, str(request.trace), answer.verify_code]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "票据真实" in done.stdout and "王秀英" in done.stdout
    forged = subprocess.run([*args[:-1], "0000000000"], capture_output=True, text=True, timeout=60)
    assert forged.returncode == 1 and "不真实" in forged.stdout


def test_an_offline_payment_gets_its_code_in_the_0230_dated_when_the_cash_was_taken(
    station, client
):
    taken = station.now - timedelta(days=2)  # collected offline two days ago, uploaded now
    advice = m.AdviceRequest(
        processing=m.Processing.OFFLINE_PAYMENT,
        terminal_id=client.terminal_id,
        batch=client.batch,
        trace=client.next_trace(),
        amount_fen=3000,
        customer_no=WANG,
        time=taken,
    )
    answer = client.request(advice)
    assert answer.approved and answer.verify_code is not None
    repeat = client.request(m.AdviceRequest(**{**advice.__dict__, "repeat": True}))
    assert repeat.verify_code == answer.verify_code
    verdict = verify_receipt(station.ledger.path, client.terminal_id, advice.trace,
                             answer.verify_code, amount_fen=3000)  # fmt: skip
    assert verdict.genuine and verdict.paid_at == taken
    assert "2026-11-20" in verdict.text()


def test_the_console_says_a_receipt_is_genuine_and_refuses_one_whose_amount_was_changed(
    station, client, tmp_path
):
    from tests.console_kit import console_app, logged_in

    request, answer = paid(client)
    web = logged_in(console_app(tmp_path / "station.db"))  # the running station's own ledger
    form = {"terminal": client.terminal_id, "trace": str(request.trace), "code": answer.verify_code}
    genuine = web.post("/verify", data={**form, "amount": "140.00"}).data.decode()
    assert "票据真实" in genuine and "王秀英" in genuine and "140.00元" in genuine
    forged = web.post("/verify", data={**form, "amount": "410.00"}).data.decode()
    assert "不真实" in forged and "票据真实" not in forged
    wrong = f"{(int(answer.verify_code) + 1) % 10**CODE_DIGITS:0{CODE_DIGITS}d}"
    assert "不真实" in web.post("/verify", data={**form, "code": wrong}).data.decode()
