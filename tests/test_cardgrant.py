"""The station-signed card grant: layout round-trips, only the card key verifies it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal.protocol.cardgrant import RECORD_SIZE, CardGrant, GrantError, GrantKind, card_key

MASTER = bytes.fromhex("00112233445566778899aabbccddeeff")
SERIAL = bytes.fromhex("8600000000000042")


def grant(**changes):
    fields = dict(
        kind=GrantKind.PURCHASE,
        serial=SERIAL,
        customer_no="0100000123",
        meter_no="000012345678",
        count=7,
        amount_fen=10000,
    )
    fields.update(changes)
    return CardGrant(**fields)


def test_signed_grant_round_trips_and_verifies():
    key = card_key(MASTER, SERIAL)
    signed = grant().signed(key)
    data = signed.to_bytes()
    assert len(data) == RECORD_SIZE
    back = CardGrant.from_bytes(data)
    assert back == signed
    assert back.verify(key)


def test_other_card_key_or_changed_amount_fails():
    key = card_key(MASTER, SERIAL)
    signed = grant().signed(key)
    other = card_key(MASTER, bytes.fromhex("8600000000000043"))
    assert not signed.verify(other)
    forged = CardGrant.from_bytes(signed.to_bytes()[:25] + b"\x7f" + signed.to_bytes()[26:])
    assert not forged.verify(key)


def test_bad_fields_are_grant_errors():
    with pytest.raises(GrantError):
        grant(customer_no="12345").body()
    with pytest.raises(GrantError):
        grant(serial=b"x").body()
    with pytest.raises(GrantError):
        grant().to_bytes()


@given(st.binary(min_size=RECORD_SIZE, max_size=RECORD_SIZE))
def test_any_record_bytes_decode_or_grant_error(data):
    try:
        decoded = CardGrant.from_bytes(data)
    except GrantError:
        return
    assert CardGrant.from_bytes(decoded.to_bytes()) == decoded
