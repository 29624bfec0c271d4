"""Purchase cards through the real PC/SC stack: pcscd, the vpcd reader, pyscard, the profile.

The card is the emulator in ``sim/card`` playing an image into vpcd; the terminal side is the
production reader, service, engine and station, over loopback.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.card import profile as p
from drivers.card.diagnosis import diagnose, diagnose_error
from drivers.card.reader import CardReader, CardRemoved
from drivers.card.service import CardService
from sim.card.card import CardImage, VirtualCard, blank_image, user_image
from sim.card.meter import SimMeter
from station.seed import (
    DEMO_CARD_ACCESS_KEY,
    DEMO_CARD_MASTER_KEY,
    demo_card_serial,
    demo_purchase_count,
)
from terminal.core.cash import Tender
from terminal.core.lifecycle import State
from terminal.core.requests import CardInHand, Customer, Pay, PayFlow
from terminal.protocol.cardgrant import CardGrant, GrantKind, card_key
from terminal.shell.session import StationDeclined
from tests.card_kit import READER
from tests.terminal_kit import card_order, journal_view, ledger_view, make_terminal

CUSTOMER = "0100000005"
METER = "000100000005"
SERIAL = demo_card_serial(CUSTOMER)


def demo_card(**kw) -> CardImage:
    return user_image(
        SERIAL,
        CUSTOMER,
        METER,
        demo_purchase_count(CUSTOMER),
        DEMO_CARD_MASTER_KEY,
        DEMO_CARD_ACCESS_KEY,
        **kw,
    )


def insert(slot, image, path=None) -> VirtualCard:
    card = VirtualCard(image)
    slot.insert(card, path)
    assert CardReader(READER).wait_present(5)
    return card


def remove(slot):
    slot.remove()
    assert CardReader(READER).wait_absent(5)


# --- pure: profile, emulator, meter, diagnosis ---------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
def test_any_bytes_parse_or_give_a_card_error(data):
    for parse in (
        p.CardInfo.unpack,
        p.CustomerFile.unpack,
        p.ReturnFile.unpack,
        p.parse_grant,
        p.Command.parse,
        p.split_response,
    ):
        try:
            value = parse(data)
        except p.CardError as exc:
            assert str(exc)  # every refusal says why
        else:
            assert value is None or not isinstance(value, Exception)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=60))
def test_any_apdu_gets_a_status_word_from_the_card(apdu):
    answer = VirtualCard(demo_card()).process(apdu)
    assert len(answer) >= 2


def test_card_refuses_writes_without_authentication_and_forged_grants():
    card = VirtualCard(demo_card())
    count = demo_purchase_count(CUSTOMER)
    grant = CardGrant(GrantKind.PURCHASE, SERIAL, CUSTOMER, METER, count + 1, 10000)
    assert card.process(p.select(p.FID_PURCHASE)) == b"\x90\x00"
    signed = grant.signed(card_key(DEMO_CARD_MASTER_KEY, SERIAL))
    assert card.process(p.update_binary(0, signed.to_bytes()))[-2:] == b"\x69\x82"
    challenge = card.process(p.get_challenge())[:-2]
    key = p.access_key(DEMO_CARD_ACCESS_KEY, SERIAL)
    assert card.process(p.external_authenticate(p.cryptogram(key, challenge))) == b"\x90\x00"
    forged = grant.signed(bytes(16))  # a terminal cannot sign: it has no card master key
    assert card.process(p.update_binary(0, forged.to_bytes())) == b"\x69\x88"
    skipped = CardGrant(GrantKind.PURCHASE, SERIAL, CUSTOMER, METER, count + 2, 1).signed(
        card_key(DEMO_CARD_MASTER_KEY, SERIAL)
    )
    assert card.process(p.update_binary(0, skipped.to_bytes())) == b"\x6a\x80"
    assert card.process(p.update_binary(0, signed.to_bytes())) == b"\x90\x00"


def test_meter_loads_each_purchase_once_and_diagnosis_explains_it():
    count = demo_purchase_count(CUSTOMER)
    image = demo_card(remaining_fen=500)
    grant = CardGrant(GrantKind.PURCHASE, SERIAL, CUSTOMER, METER, count + 1, 10000).signed(
        card_key(DEMO_CARD_MASTER_KEY, SERIAL)
    )
    image.files[p.FID_PURCHASE] = grant.to_bytes()
    data = lambda: p.CardData(  # noqa: E731
        p.CardInfo.unpack(image.files[p.FID_INFO]),
        p.CustomerFile.unpack(image.files[p.FID_CUSTOMER]),
        p.parse_grant(image.files[p.FID_PURCHASE]),
        p.ReturnFile.unpack(image.files[p.FID_RETURN]),
    )
    assert "not_loaded" in {f.code for f in diagnose(data())}
    meter = SimMeter(METER, CUSTOMER, count, 500)
    assert meter.insert(image, DEMO_CARD_MASTER_KEY, datetime(2026, 11, 22, 10, 0)) == (
        "loaded 10000 fen"
    )
    assert meter.insert(image, DEMO_CARD_MASTER_KEY, datetime(2026, 11, 22, 10, 1)) == (
        "no new purchase"
    )
    codes = {f.code for f in diagnose(data())}
    assert "loaded" in codes and "not_loaded" not in codes
    assert meter.remaining_fen == 10500
    texts = [f.zh for f in diagnose(data())]
    assert any("105.00元" in t for t in texts)


def test_diagnosis_of_blank_unknown_and_corrupt_cards():
    blank = blank_image(bytes(8), DEMO_CARD_MASTER_KEY, DEMO_CARD_ACCESS_KEY)
    info = p.CardData(p.CardInfo.unpack(blank.files[p.FID_INFO]), None, None, None)
    assert [f.code for f in diagnose(info)][-1] == "blank"
    assert diagnose_error(p.CardError("not a purchase card of this system"))[0].code == (
        "unknown_card"
    )
    assert diagnose_error(p.CardError("purchase file is corrupt"))[0].code == "corrupt_card"


# --- through pcscd and vpcd ------------------------------------------------------------------


def test_reader_reads_the_card_and_sees_it_leave(card_slot):
    insert(card_slot, demo_card())
    reader = CardReader(READER)
    session = reader.connect()
    data = session.read_all()
    session.close()
    assert data.info.serial == SERIAL and data.customer.customer_no == CUSTOMER
    assert data.purchase_count == demo_purchase_count(CUSTOMER)
    remove(card_slot)
    with pytest.raises(CardRemoved):
        reader.connect()


def test_corrupt_and_foreign_cards_get_a_clear_error(card_slot):
    corrupt = demo_card()
    corrupt.corrupt = True
    insert(card_slot, corrupt)
    with pytest.raises(p.CardError):
        CardReader(READER).connect().read_all()
    remove(card_slot)
    foreign = demo_card()
    foreign.atr = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")
    insert(card_slot, foreign)
    with pytest.raises(p.CardError, match="not a purchase card"):
        CardReader(READER).connect().read_all()


def card_terminal(tmp_path, station, wait_s=3.0):
    card = CardService(CardReader(READER), DEMO_CARD_ACCESS_KEY, wait_s=wait_s)
    return make_terminal(tmp_path, station.port, card=card)


async def purchase(t, amount=10000):
    order = await card_order(t, await t.card.read(), amount)
    return order, await t.run(order)


def test_card_purchase_is_written_read_back_and_loaded_by_the_meter(station, card_slot, tmp_path):
    image_path = tmp_path / "card.json"
    demo_card().save(image_path)
    insert(card_slot, CardImage.load(image_path), image_path)

    async def go():
        t = card_terminal(tmp_path, station)
        await t.sign_on("100101", "123456")
        order, done = await purchase(t)
        assert done.outcome is State.APPROVED, done
        await t.drain_outbox()
        assert t.journal.state(order.txn) is State.COMPLETED
        assert journal_view(t) == ledger_view(station.ledger.path)
        await t.link.close()

    asyncio.run(go())
    image = CardImage.load(image_path)
    grant = p.parse_grant(image.files[p.FID_PURCHASE])
    assert grant.count == demo_purchase_count(CUSTOMER) + 1 and grant.amount_fen == 10000
    receipt = (tmp_path / "printer.out").read_bytes()
    assert "购电凭证".encode("gb18030") in receipt


def entries_of(t, txn) -> list[str]:
    return [entry.event for entry in t.journal.entries(txn)]


@pytest.mark.parametrize("tear", ["before", "after"])
def test_card_pulled_mid_write_and_put_back_finishes_the_purchase_once(
    tear, station, card_slot, tmp_path
):
    """Pulled before the write commits, the card's count did not move: the grant (still valid
    for that count) is written again. Pulled after, the count moved by one: read back. Either
    way the count moves by exactly one, with one receipt, one completion and no reversal."""
    image_path = tmp_path / "card.json"
    demo_card().save(image_path)
    card = insert(card_slot, CardImage.load(image_path), image_path)
    card.tear = tear
    start = demo_purchase_count(CUSTOMER)

    async def go():
        t = card_terminal(tmp_path, station, wait_s=0.5)
        await t.sign_on("100101", "123456")
        order, done = await purchase(t)
        assert done.outcome is State.CARD_WRITING and done.message == "card_pulled_reinsert"
        assert not CardReader(READER).present()
        # Not back yet: the question stays open.
        assert (await t.executor.resolve_card(order.txn)).outcome is State.CARD_WRITING
        insert(card_slot, CardImage.load(image_path), image_path)
        resolved = await t.executor.resolve_card(order.txn)
        assert resolved.outcome is State.APPROVED, resolved
        await t.drain_outbox()
        assert t.journal.state(order.txn) is State.COMPLETED
        events = entries_of(t, order.txn)
        assert events.count("completed") == 1 and "reversal_queued" not in events
        assert events.count("card_writing") == (2 if tear == "before" else 1)  # written again
        assert (
            journal_view(t)
            == ledger_view(station.ledger.path)
            == {(order.batch, order.trace): 10000}
        )
        await t.link.close()

    asyncio.run(go())
    grant = p.parse_grant(CardImage.load(image_path).files[p.FID_PURCHASE])
    assert grant.count == start + 1 and grant.amount_fen == 10000
    receipt = (tmp_path / "printer.out").read_bytes()
    assert receipt.count("购电凭证".encode("gb18030")) == 1


def test_a_reissue_pulled_before_it_commits_is_written_again_onto_the_same_blank_card(
    station, card_slot, tmp_path
):
    new_serial = bytes.fromhex("5b00000000000009")
    image_path = tmp_path / "blank.json"
    blank_image(new_serial, DEMO_CARD_MASTER_KEY, DEMO_CARD_ACCESS_KEY).save(image_path)
    card = insert(card_slot, CardImage.load(image_path), image_path)
    card.tear = "before"

    async def go():
        t = card_terminal(tmp_path, station, wait_s=0.5)
        await t.sign_on("100101", "123456")
        pay = Pay(
            PayFlow.REISSUE, Tender(2000, 2000), Customer(CUSTOMER), CardInHand(new_serial.hex())
        )
        order = t.order(pay)
        assert (await t.run(order)).outcome is State.CARD_WRITING
        insert(card_slot, CardImage.load(image_path), image_path)
        assert (await t.executor.resolve_card(order.txn)).outcome is State.APPROVED
        data = await t.card.read()
        assert data.info.type == p.CardType.REISSUE
        assert data.purchase_count == demo_purchase_count(CUSTOMER)
        await t.drain_outbox()
        assert journal_view(t) == ledger_view(station.ledger.path)
        await t.link.close()

    asyncio.run(go())


def test_a_different_card_put_back_reverses_the_purchase(station, card_slot, tmp_path):
    image_path = tmp_path / "card.json"
    demo_card().save(image_path)
    card = insert(card_slot, CardImage.load(image_path), image_path)
    card.tear = "before"

    async def go():
        t = card_terminal(tmp_path, station, wait_s=0.5)
        await t.sign_on("100101", "123456")
        order, done = await purchase(t)
        assert done.outcome is State.CARD_WRITING
        other = blank_image(bytes.fromhex("5b000000000000aa"), DEMO_CARD_MASTER_KEY, bytes(16))
        insert(card_slot, other)
        resolved = await t.executor.resolve_card(order.txn)
        assert resolved.outcome is State.REVERSAL_QUEUED
        assert resolved.message == "card_other_hand_back_cash"
        await t.drain_outbox()
        assert t.journal.state(order.txn) is State.REVERSED
        assert journal_view(t) == ledger_view(station.ledger.path) == {}
        await t.link.close()

    asyncio.run(go())
    untouched = p.parse_grant(CardImage.load(image_path).files[p.FID_PURCHASE])
    assert untouched is None or untouched.count == demo_purchase_count(CUSTOMER)


def test_operator_giving_up_on_a_pulled_card_reverses_the_purchase(station, card_slot, tmp_path):
    image_path = tmp_path / "card.json"
    demo_card().save(image_path)
    card = insert(card_slot, CardImage.load(image_path), image_path)
    card.tear = "before"

    async def go():
        t = card_terminal(tmp_path, station, wait_s=0.5)
        await t.sign_on("100101", "123456")
        order, done = await purchase(t)
        assert done.outcome is State.CARD_WRITING
        gave_up = await t.executor.give_up_card(order.txn)
        assert gave_up.outcome is State.REVERSAL_QUEUED
        assert gave_up.message == "card_given_up_hand_back_cash"
        await t.drain_outbox()
        assert t.journal.state(order.txn) is State.REVERSED
        assert entries_of(t, order.txn).count("reversed") == 1
        assert journal_view(t) == ledger_view(station.ledger.path) == {}
        await t.link.close()

    asyncio.run(go())


def test_a_card_pulled_mid_write_and_put_straight_back_is_seen_again(card_slot, tmp_path):
    """pcscd must not be left believing the reader empty when the card returns at once."""
    image_path = tmp_path / "card.json"
    demo_card().save(image_path)
    card = insert(card_slot, CardImage.load(image_path), image_path)
    card.tear = "after"
    session = CardReader(READER).connect()
    serial = session.read_all().info.serial
    session.authenticate(DEMO_CARD_ACCESS_KEY, serial)
    session._ok(p.select(p.FID_RETURN), "select")
    with pytest.raises(CardRemoved):
        session._ok(p.update_binary(0, bytes(p.FILE_SIZES[p.FID_RETURN])), "write")
    session.close()
    insert(card_slot, CardImage.load(image_path), image_path)  # asserts the reader sees it
    again = CardReader(READER).connect()
    assert again.read_all().info.serial == serial
    again.close()


def test_reissue_onto_a_blank_card_and_the_meter_binds_it(station, card_slot, tmp_path):
    new_serial = bytes.fromhex("5b00000000000009")
    insert(card_slot, blank_image(new_serial, DEMO_CARD_MASTER_KEY, DEMO_CARD_ACCESS_KEY))

    async def go():
        t = card_terminal(tmp_path, station)
        await t.sign_on("100101", "123456")
        order = t.order(
            Pay(
                PayFlow.REISSUE,
                Tender(2000, 2000),
                Customer(CUSTOMER),
                CardInHand(new_serial.hex()),
            )
        )
        done = await t.run(order)
        assert done.outcome is State.APPROVED
        data = await t.card.read()
        assert data.info.type == p.CardType.REISSUE
        assert data.purchase_count == demo_purchase_count(CUSTOMER)
        assert "not_in_meter" in {f.code for f in diagnose(data)}
        with pytest.raises(StationDeclined) as refused:
            await t.session.inquire(card_serial=SERIAL)
        assert refused.value.code == "15"  # the old card no longer works
        await t.link.close()

    asyncio.run(go())
