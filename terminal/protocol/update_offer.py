"""A software update as the protocol carries it: the offer in the 0830 (field 51) and the chunk
exchange (processing 970000, field 47 offset and length, field 50 bytes).

The offer is 100 bytes: the package size (4 bytes), its SHA-256 (32) and an Ed25519 signature
(64) over ``statement(version, size, sha256)``. The signature binds the version name to the
bytes, so a station (or anyone on the link) cannot relabel an old signed package as a new one,
nor offer bytes the release key never signed. The private half of the key stays with whoever
builds releases; the terminal holds only the public half, in a file of its package.

Ed25519 comes from ``cryptography`` (already used for SM4), imported when a signature is checked
so that a terminal that is never offered an update never loads it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from terminal.protocol.records import CodecError
from terminal.protocol.wirespec import BY_NAME

OFFER_SIZE = 100
CHUNK_MAX = BY_NAME["chunk"].size  # bytes of package in one 0110 (field 50)
CHUNK_WINDOW = 4  # 970000 requests a terminal may send before the first answer (R52)
PACKAGE_MAX = 999_999  # field 47 carries the offset in 6 digits
_HEAD = struct.Struct(">I32s64s")
_DOMAIN = b"GRIDPOS-UPDATE-1|"


def statement(version: str, size: int, sha256: bytes) -> bytes:
    """The bytes the release key signs: what is offered is exactly this version's package."""
    return _DOMAIN + version.encode("ascii") + b"|" + size.to_bytes(4, "big") + sha256


@dataclass(frozen=True)
class UpdateOffer:
    """Field 51: which bytes make up the offered version, and the release key's word for it."""

    size: int
    sha256: bytes
    signature: bytes

    def pack(self) -> bytes:
        return _HEAD.pack(self.size, self.sha256, self.signature)

    @classmethod
    def unpack(cls, data: bytes) -> UpdateOffer:
        if len(data) != OFFER_SIZE:
            raise CodecError(f"offer: {len(data)} bytes, not {OFFER_SIZE}")
        size, digest, signature = _HEAD.unpack(data)
        return cls(size, digest, signature)

    def signed_by(self, public_key: bytes, version: str) -> bool:
        """True when the release key behind ``public_key`` (32 raw bytes) signed this offer."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            key = Ed25519PublicKey.from_public_bytes(public_key)
            key.verify(self.signature, statement(version, self.size, self.sha256))
        except (InvalidSignature, ValueError):
            return False
        return True


def read_public_key(text: str) -> bytes:
    """The 32-byte Ed25519 public key from a key file: hex on the first line not a comment."""
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key = bytes.fromhex(line)
            if len(key) != 32:
                raise ValueError(f"an Ed25519 public key is 32 bytes, this is {len(key)}")
            return key
    raise ValueError("no key in the key file")
