"""Money formatting and the SM4 conventions everything else builds on."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal.core.money import parse_yuan, yuan
from terminal.protocol import sm4


@pytest.mark.parametrize(
    ("fen", "text"), [(0, "0.00"), (5, "0.05"), (12345, "123.45"), (-250, "-2.50")]
)
def test_yuan(fen, text):
    assert yuan(fen) == text


@given(st.integers(min_value=0, max_value=10**11 - 1))
def test_parse_yuan_inverts_yuan(fen):
    assert parse_yuan(yuan(fen)) == fen


@pytest.mark.parametrize("text", ["", ".5", "1.234", "-3", "1e3", "十"])
def test_parse_yuan_rejects(text):
    with pytest.raises(ValueError):
        parse_yuan(text)


def test_sm4_standard_vector():
    # GB/T 32907-2016 appendix A: key = plaintext = 0123456789abcdeffedcba9876543210
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    assert sm4.encrypt_ecb(key, key).hex() == "681edf34d206965e86b3e94f536e4246"
    assert sm4.decrypt_ecb(key, bytes.fromhex("681edf34d206965e86b3e94f536e4246")) == key


def test_cmac_truncation_and_key_check_value():
    key = bytes(range(16))
    full = sm4.cmac(key, b"abc", size=16)
    assert sm4.cmac(key, b"abc") == full[:8]
    assert sm4.cmac(key, b"abd") != sm4.cmac(key, b"abc")
    assert sm4.check_value(key) == sm4.encrypt_ecb(key, bytes(16))[:4]


def test_diversify_differs_per_card():
    master = bytes(16)
    a = sm4.diversify(master, bytes.fromhex("0000000000000001"))
    b = sm4.diversify(master, bytes.fromhex("0000000000000002"))
    assert a != b and len(a) == 16
    with pytest.raises(ValueError):
        sm4.diversify(master, b"short")
