"""SM4 primitives shared by the protocol MAC, key delivery and the purchase-card profile.

Thin on purpose: ``cryptography`` does the cipher work; this module fixes the conventions
(8-byte truncated CMAC, 4-byte key check value) in one place so terminal, station and card
emulator cannot drift apart. ``cryptography`` is imported at the first use, not at start-up:
on the terminal's slow core it costs about 8 ms that the first screen does not need.
"""

from __future__ import annotations

BLOCK = 16
MAC_SIZE = 8
KCV_SIZE = 4


def encrypt_ecb(key: bytes, data: bytes) -> bytes:
    """Encrypt whole blocks; used for key delivery and key diversification, never for bulk data."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    _check_blocks(data)
    enc = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    return enc.update(data) + enc.finalize()


def decrypt_ecb(key: bytes, data: bytes) -> bytes:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    _check_blocks(data)
    dec = Cipher(algorithms.SM4(key), modes.ECB()).decryptor()
    return dec.update(data) + dec.finalize()


def cmac(key: bytes, data: bytes, size: int = MAC_SIZE) -> bytes:
    """SM4-CMAC truncated to ``size`` bytes (the leftmost, as NIST SP 800-38B allows)."""
    from cryptography.hazmat.primitives.ciphers import algorithms
    from cryptography.hazmat.primitives.cmac import CMAC

    mac = CMAC(algorithms.SM4(key))
    mac.update(data)
    return mac.finalize()[:size]


def check_value(key: bytes) -> bytes:
    """Key check value: the first 4 bytes of the key encrypting a zero block.

    Lets the terminal prove a delivered key decrypted correctly without revealing it.
    """
    return encrypt_ecb(key, bytes(BLOCK))[:KCV_SIZE]


def diversify(master: bytes, data: bytes) -> bytes:
    """Derive a per-card key: SM4(master, d ‖ ¬d) for an 8-byte ``data`` such as a card serial."""
    if len(data) != 8:
        raise ValueError("diversification data must be 8 bytes")
    return encrypt_ecb(master, data + bytes(b ^ 0xFF for b in data))


def _check_blocks(data: bytes) -> None:
    if len(data) % BLOCK:
        raise ValueError(f"SM4 ECB needs whole {BLOCK}-byte blocks, got {len(data)} bytes")
