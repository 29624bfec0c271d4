"""Key delivery at sign-on, the operator password block, and the master key's file.

The terminal master key (TMK) is loaded at deployment (``gridpos keys load``: components with
check values) and never leaves the terminal. At every
sign-on the station sends a fresh MAC key encrypted under the TMK with its check value; the
terminal decrypts it and refuses it unless the check value matches, so a corrupted or forged key
block can never be put to use.
"""

from __future__ import annotations

import os
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


def save_key_file(path: str | Path, key: bytes, uid: int = -1, gid: int = -1) -> None:
    """Write a key file as ``load_master_key`` reads it: mode 0600 from its first byte, owned by
    ``uid``/``gid`` (-1 keeps the writer's), synced, then renamed over the old one, so a power
    cut leaves the old key or the new one, never half of either."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.new")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchown(fd, uid, gid)
        os.write(fd, key.hex().encode("ascii") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def combine_components(components: list[bytes]) -> bytes:
    """The key the components make (XOR, as bank terminals load keys: no one holder knows it)."""
    if len(components) < 2 or any(len(c) != 16 for c in components):
        raise KeyMaterialError("a key is loaded as two or more components of 32 hex digits")
    key = bytes(16)
    for component in components:
        key = bytes(a ^ b for a, b in zip(key, component, strict=True))
    if key == bytes(16) or len(set(components)) < len(components):
        raise KeyMaterialError("the components cancel out or repeat: not a key")
    return key


def check_value_matches(key: bytes, typed: str) -> bool:
    """True when ``typed`` (6 or 8 hex digits, as printed on a key envelope) is the key's check
    value (``sm4.check_value``)."""
    text = "".join(typed.split()).lower()
    if len(text) not in (6, 8) or any(c not in "0123456789abcdef" for c in text):
        return False
    return sm4.check_value(key).hex().startswith(text)


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
