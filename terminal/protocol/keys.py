"""Key delivery at sign-on, and the operator password block.

The terminal master key (TMK) is loaded at deployment and never leaves the terminal. At every
sign-on the station sends a fresh MAC key encrypted under the TMK with its check value; the
terminal decrypts it and refuses it unless the check value matches, so a corrupted or forged key
block can never be put to use.
"""

from __future__ import annotations

from pathlib import Path

from terminal.protocol import sm4
from terminal.protocol.records import KeyBlock


class KeyMaterialError(ValueError):
    """A key file or key block that cannot be used."""


def load_master_key(path: str | Path) -> bytes:
    """Read a TMK file: 32 hex digits (whitespace ignored)."""
    try:
        text = Path(path).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise KeyMaterialError(f"{path}: terminal master key file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyMaterialError(f"{path}: cannot read terminal master key: {exc}") from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != 16:
        raise KeyMaterialError(f"{path}: terminal master key must be 32 hex digits")
    return key


def wrap_key(master: bytes, key: bytes) -> KeyBlock:
    """Station side: encrypt a working key under the TMK, with its check value."""
    return KeyBlock(sm4.encrypt_ecb(master, key), sm4.check_value(key))


def unwrap_key(master: bytes, block: KeyBlock) -> bytes:
    """Terminal side: decrypt a working key and prove it with the check value."""
    if len(block.encrypted) != 16 or len(block.check_value) != 4:
        raise KeyMaterialError("key block has the wrong size")
    key = sm4.decrypt_ecb(master, block.encrypted)
    if sm4.check_value(key) != block.check_value:
        raise KeyMaterialError("working key check value does not match: sign on again")
    return key


PASSWORD_MAX = 12


def password_block(master: bytes, password: str, trace: int) -> bytes:
    """Encrypt the operator password with its length and the request's trace.

    The trace makes the block differ from one login to the next, so a recorded block does not
    match a later request; the station decrypts it and checks the password against its hash.
    """
    raw = password.encode("utf-8")
    if len(raw) > PASSWORD_MAX:
        raise KeyMaterialError(f"password longer than {PASSWORD_MAX} bytes")
    block = bytes([len(raw)]) + trace.to_bytes(3, "big") + raw
    return sm4.encrypt_ecb(master, block.ljust(16, b"\0"))


def open_password_block(master: bytes, block: bytes, trace: int) -> str | None:
    """Station side: the password, or None when the block is not for this trace or malformed."""
    if len(block) != 16:
        return None
    plain = sm4.decrypt_ecb(master, block)
    size = plain[0]
    if size > PASSWORD_MAX or int.from_bytes(plain[1:4], "big") != trace % (1 << 24):
        return None
    try:
        return plain[4 : 4 + size].decode("utf-8")
    except UnicodeDecodeError:
        return None
