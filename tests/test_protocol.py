"""The wire codec: every message survives a round trip, and no byte string crashes decode."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal.protocol import keys, messages
from terminal.protocol.cardgrant import CardGrant, GrantKind
from terminal.protocol.digest import summarize
from terminal.protocol.framing import FrameDecoder, FrameError, frame
from terminal.protocol.messages import (
    AdviceRequest,
    DetailResponse,
    FinancialRequest,
    FinancialResponse,
    InquiryResponse,
    Processing,
    ReversalRequest,
    SignOnRequest,
    SignOnResponse,
    check_mac,
    decode,
    encode,
)
from terminal.protocol.records import (
    Amount,
    Bill,
    CodecError,
    ListingEntry,
    MeterInfo,
    MeterKind,
    PaymentRecord,
    TxnKind,
)
from terminal.protocol.responses import BY_CODE, describe
from terminal.tools.samples import typical_messages

KEY = bytes(range(16))
OTHER_KEY = bytes(range(1, 17))


@pytest.mark.parametrize("message", typical_messages(), ids=lambda m: type(m).__name__)
def test_every_typical_message_round_trips(message):
    data = encode(message, KEY)
    assert decode(data) == message
    assert check_mac(data, KEY)
    assert not check_mac(data, OTHER_KEY)


def test_repeat_flag_travels_in_the_message_type():
    original = ReversalRequest(terminal_id="T0000001", batch=1, trace=7, amount_fen=100)
    repeat = ReversalRequest(terminal_id="T0000001", batch=1, trace=7, amount_fen=100, repeat=True)
    assert encode(original, None)[:2] == bytes.fromhex("0400")
    assert encode(repeat, None)[:2] == bytes.fromhex("0401")
    assert decode(encode(repeat, None)).repeat is True
    assert original.key == repeat.key == ("T0000001", 1, 7)
    advice = AdviceRequest(terminal_id="T0000001", batch=1, trace=8, repeat=True)
    assert encode(advice, None)[:2] == bytes.fromhex("0221")


def test_chinese_text_is_gb18030_on_the_wire():
    reply = InquiryResponse(batch=1, trace=1, customer_no="0100000123", name="张三丰", address="")
    data = encode(reply, None)
    assert "张三丰".encode("gb18030") in data
    assert decode(data).name == "张三丰"


def test_a_flipped_bit_breaks_the_mac():
    data = bytearray(
        encode(
            FinancialRequest(
                terminal_id="T0000001", batch=1, trace=2, amount_fen=12345, customer_no="0100000123"
            ),
            KEY,
        )
    )
    data[12] ^= 0x01
    assert not check_mac(bytes(data), KEY)


def test_values_that_do_not_fit_are_refused_before_sending():
    with pytest.raises(CodecError, match="customer_no"):
        encode(FinancialRequest(terminal_id="T0000001", customer_no="123"), None)
    with pytest.raises(CodecError, match="amount_fen"):
        encode(FinancialRequest(terminal_id="T0000001", amount_fen=10**12), None)
    with pytest.raises(CodecError, match="name"):
        encode(InquiryResponse(name="长" * 30), None)


def test_missing_required_field_is_a_codec_error():
    data = encode(FinancialRequest(terminal_id="T0000001", batch=1, trace=2), None)
    # Clear the bit of field 4 (amount) and cut its 6 bytes: the message is now incomplete.
    doc, _ = messages.iso8583.decode(data, messages._SPEC)
    del doc["4"]
    doc.pop("p", None)
    raw, _ = messages.iso8583.encode(doc, messages._SPEC)
    with pytest.raises(CodecError, match="missing amount_fen"):
        decode(bytes(raw))


def test_field_not_allowed_in_a_message_type_is_refused():
    data = encode(InquiryResponse(batch=1, trace=1, customer_no="0100000123"), None)
    doc, _ = messages.iso8583.decode(data, messages._SPEC)
    doc["t"] = "0800"  # a sign-on request has no customer number
    doc.pop("p", None)
    raw, _ = messages.iso8583.encode(doc, messages._SPEC)
    with pytest.raises(CodecError, match="not allowed"):
        decode(bytes(raw))


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_decode_to_a_message_or_a_codec_error(data):
    try:
        message = decode(data)
    except CodecError:
        return
    assert isinstance(message, messages.Message)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_messages_decode_or_fail_cleanly(data):
    message = data.draw(st.sampled_from(typical_messages()))
    raw = bytearray(encode(message, KEY))
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    try:
        decoded = decode(bytes(raw))
    except CodecError:
        return
    assert isinstance(decoded, messages.Message)


@settings(max_examples=100, deadline=None)
@given(
    trace=st.integers(0, 999999),
    batch=st.integers(0, 999),
    amount=st.integers(0, 10**10),
    customer=st.text("0123456789", min_size=10, max_size=10),
    kind=st.sampled_from([Processing.BILL_PAYMENT, Processing.PREPAYMENT]),
)
def test_financial_request_round_trips(trace, batch, amount, customer, kind):
    message = FinancialRequest(
        processing=kind,
        terminal_id="T0000001",
        batch=batch,
        trace=trace,
        amount_fen=amount,
        customer_no=customer,
    )
    assert decode(encode(message, KEY)) == message


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=20))
def test_any_name_is_sent_or_refused_with_a_codec_error(name):
    message = InquiryResponse(batch=1, trace=1, name=name)
    try:
        data = encode(message, None)
    except CodecError:
        return
    assert decode(data).name == name


def test_frames_split_and_joined_anywhere():
    payloads = [b"a", b"bc" * 100, bytes(range(256))]
    stream = b"".join(frame(p) for p in payloads)
    for step in (1, 2, 3, 7, len(stream)):
        decoder = FrameDecoder()
        got = []
        for i in range(0, len(stream), step):
            got += decoder.feed(stream[i : i + step])
        assert got == payloads
        assert decoder.pending == 0


@pytest.mark.parametrize("header", [b"\x00\x00", b"\x04\x01", b"\xff\xff"])
def test_bad_frame_length_means_drop_the_connection(header):
    with pytest.raises(FrameError):
        FrameDecoder().feed(header + b"x")


def test_key_block_is_checked_before_use():
    master = bytes(16)
    block = keys.wrap_key(master, KEY)
    assert keys.unwrap_key(master, block) == KEY
    with pytest.raises(keys.KeyMaterialError, match="check value"):
        keys.unwrap_key(OTHER_KEY, block)


def test_password_block_is_bound_to_its_trace():
    block = keys.password_block(KEY, "8888", trace=42)
    assert keys.open_password_block(KEY, block, 42) == "8888"
    assert keys.open_password_block(KEY, block, 43) is None
    assert keys.password_block(KEY, "8888", trace=43) != block


def test_digest_ignores_order_and_sees_every_change():
    entries = [(1, TxnKind.BILL_PAYMENT, 100), (2, TxnKind.PREPAYMENT, 200)]
    summary, total = summarize(entries)
    assert total == 300 and summary.count == 2
    assert summarize(reversed(entries))[0] == summary
    assert summarize([(1, TxnKind.BILL_PAYMENT, 101), entries[1]])[0] != summary
    assert summarize([(1, TxnKind.PREPAYMENT, 100), entries[1]])[0] != summary


def test_records_refuse_bad_bytes():
    with pytest.raises(CodecError):
        Bill.unpack(bytes.fromhex("2413") + bytes(12))  # month 13
    with pytest.raises(CodecError):
        PaymentRecord.unpack(bytes.fromhex("240231") + bytes(4))  # 31 February
    with pytest.raises(CodecError):
        MeterInfo.unpack(bytes([9]) + bytes(8))  # unknown meter kind
    with pytest.raises(CodecError):
        ListingEntry.unpack(bytes.fromhex("000001") + bytes([99]) + bytes(5))


def test_every_response_code_has_both_languages():
    for code in BY_CODE.values():
        assert code.zh and code.en and code.meaning
    assert describe("51") == "代收额度不足，请先充值保证金"
    assert "Agent limit" in describe("51", "en")
    assert "ZZ" in describe("ZZ")


def test_sign_on_response_carries_keys_and_next_trace():
    block = keys.wrap_key(KEY, OTHER_KEY)
    reply = SignOnResponse(
        trace=101,
        batch=3,
        time=datetime(2026, 11, 22, 8, 0, tzinfo=UTC),
        keys=block,
        amounts={Amount.AGENT_LIMIT: 500000, Amount.OFFLINE_LIMIT: 20000},
        name="城关供电所",
    )
    back = decode(encode(reply, KEY))
    assert back == reply
    assert keys.unwrap_key(KEY, back.keys) == OTHER_KEY
    assert back.amounts[Amount.AGENT_LIMIT] == 500000
    assert (
        decode(
            encode(
                SignOnRequest(
                    terminal_id="T0000001", account="agent01", password=bytes(16), trace=5
                ),
                KEY,
            )
        ).account
        == "agent01"
    )


def test_financial_response_carries_a_grant():
    grant = CardGrant(GrantKind.PURCHASE, bytes(8), "0200000001", "000000000001", 3, 5000)
    reply = FinancialResponse(
        processing=Processing.CARD_PURCHASE,
        batch=1,
        trace=9,
        station_ref=77,
        grant=grant.signed(KEY),
    )
    assert decode(encode(reply, KEY)).grant == grant.signed(KEY)


def test_detail_listing_round_trips_the_biggest_listing():
    entries = tuple(ListingEntry(t, TxnKind.BILL_PAYMENT, t * 10) for t in range(28))
    reply = DetailResponse(
        processing=Processing.DETAIL_LISTING, batch=1, trace=1, range=(0, 27), listing=entries
    )
    assert decode(encode(reply, KEY)).listing == entries


def test_bill_and_payment_records_round_trip():
    bill = Bill(202611, 123, 6540, 0)
    assert Bill.unpack(bill.pack()) == bill and bill.due_fen == 6540
    payment = PaymentRecord(date(2026, 11, 2), 10000)
    assert PaymentRecord.unpack(payment.pack()) == payment
    meter = MeterInfo(MeterKind.CARD_PREPAID, "000012345678", 3)
    assert MeterInfo.unpack(meter.pack()) == meter


def test_protocol_document_shows_the_tables_the_code_generates():
    from pathlib import Path

    from terminal.tools import sizes

    doc = Path(__file__).resolve().parent.parent.joinpath("docs", "protocol.md").read_text()
    for block in (sizes.field_table(), sizes.message_table(), sizes.markdown()):
        assert block in doc


def test_a_cash_payment_stays_within_the_byte_budget():
    from terminal.tools import sizes

    assert sizes.payment_bytes()["total"] <= 400
