"""A purchase card's operating system, in software: APDU in, response APDU out.

It keeps the card's files in an image (JSON) and enforces the profile's rules the way a real
card OS would: writing needs an EXTERNAL AUTHENTICATE first; the purchase file accepts only a
grant whose MAC verifies under the card's own key and whose count follows the card's; each
UPDATE BINARY is atomic (anti-tearing), so a card pulled during a write either has the new
record or the old one. ``tear`` makes the next write be pulled before or after it commits.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from drivers.card import profile as p
from terminal.protocol import sm4
from terminal.protocol.cardgrant import RECORD_SIZE, CardGrant, GrantError, GrantKind, card_key


class CardPulled(Exception):
    """The card left the reader in the middle of a command (a torn write)."""


@dataclass
class CardImage:
    files: dict[int, bytes]
    grant_key: bytes  # card's own key for grants: card_key(card master, serial)
    access_key: bytes  # opens the card for writing
    atr: bytes = p.ATR
    corrupt: bool = False  # answer every read with garbage

    @property
    def serial(self) -> bytes:
        return self.files[p.FID_INFO][1:9]

    def to_json(self) -> str:
        return json.dumps(
            {
                "atr": self.atr.hex(),
                "files": {f"{fid:04X}": data.hex() for fid, data in self.files.items()},
                "grant_key": self.grant_key.hex(),
                "access_key": self.access_key.hex(),
                "corrupt": self.corrupt,
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> CardImage:
        try:
            raw = json.loads(text)
            files = {int(fid, 16): bytes.fromhex(data) for fid, data in raw["files"].items()}
            image = cls(
                files,
                bytes.fromhex(raw["grant_key"]),
                bytes.fromhex(raw["access_key"]),
                bytes.fromhex(raw.get("atr", p.ATR.hex())),
                bool(raw.get("corrupt", False)),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not a card image: {exc}") from None
        for fid, size in p.FILE_SIZES.items():
            if len(image.files.get(fid, b"")) != size:
                raise ValueError(f"not a card image: file {fid:04X} must be {size} bytes")
        return image

    def save(self, path: str | Path) -> None:
        path = Path(path)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(self.to_json())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | Path) -> CardImage:
        return cls.from_json(Path(path).read_text())


def blank_image(serial: bytes, card_master: bytes, access_master: bytes) -> CardImage:
    files = {fid: bytes(size) for fid, size in p.FILE_SIZES.items()}
    files[p.FID_INFO] = p.CardInfo(p.CardType.BLANK, serial).pack()
    return CardImage(files, card_key(card_master, serial), p.access_key(access_master, serial))


def user_image(
    serial: bytes,
    customer_no: str,
    meter_no: str,
    count: int,
    card_master: bytes,
    access_master: bytes,
    meter_count: int | None = None,
    remaining_fen: int = 0,
) -> CardImage:
    """A card in service whose last purchase was number ``count`` (issued by the utility)."""
    image = blank_image(serial, card_master, access_master)
    image.files[p.FID_INFO] = p.CardInfo(p.CardType.USER, serial).pack()
    image.files[p.FID_CUSTOMER] = p.CustomerFile(customer_no, meter_no).pack()
    if count:
        grant = CardGrant(GrantKind.PURCHASE, serial, customer_no, meter_no, count, 5000)
        image.files[p.FID_PURCHASE] = grant.signed(image.grant_key).to_bytes()
    image.files[p.FID_RETURN] = p.ReturnFile(
        remaining_fen,
        count if meter_count is None else meter_count,
        p.MeterStatus(0),
        p.MeterFault(0),
        None,
    ).pack()
    return image


@dataclass
class VirtualCard:
    image: CardImage
    tear: str | None = None  # "before" or "after": how the next write is torn
    selected: int | None = None
    challenge: bytes | None = None
    authenticated: bool = False
    writes: int = field(default=0)

    def reset(self) -> None:
        self.selected = None
        self.challenge = None
        self.authenticated = False

    def process(self, apdu: bytes) -> bytes:
        """One command; raises ``CardPulled`` when a torn write ends the session."""
        try:
            cmd = p.Command.parse(apdu)
        except p.CardError:
            return b"\x67\x00"
        if cmd.cla != 0x00:
            return b"\x6e\x00"
        handler = {
            0xA4: self._select,
            0xB0: self._read,
            0xD6: self._update,
            0x84: self._challenge,
            0x82: self._authenticate,
        }.get(cmd.ins)
        if handler is None:
            return b"\x6d\x00"
        return handler(cmd)

    def _select(self, cmd: p.Command) -> bytes:
        if len(cmd.data) != 2:
            return b"\x67\x00"
        fid = int.from_bytes(cmd.data, "big")
        if fid not in self.image.files:
            return b"\x6a\x82"
        self.selected = fid
        return b"\x90\x00"

    def _read(self, cmd: p.Command) -> bytes:
        if self.selected is None:
            return b"\x69\x86"
        data = self.image.files[self.selected]
        offset = (cmd.p1 << 8) | cmd.p2
        length = cmd.le or len(data) - offset
        if offset + length > len(data):
            return b"\x6b\x00"
        chunk = data[offset : offset + length]
        if self.image.corrupt:
            chunk = bytes((b * 37 + 11) & 0xFF for b in chunk)
        return chunk + b"\x90\x00"

    def _challenge(self, cmd: p.Command) -> bytes:
        self.challenge = secrets.token_bytes(8)
        return self.challenge + b"\x90\x00"

    def _authenticate(self, cmd: p.Command) -> bytes:
        if self.challenge is None:
            return b"\x69\x84"
        expected = sm4.encrypt_ecb(self.image.access_key, self.challenge + bytes(8))
        self.challenge = None
        if cmd.data != expected:
            self.authenticated = False
            return b"\x63\x00"
        self.authenticated = True
        return b"\x90\x00"

    def _update(self, cmd: p.Command) -> bytes:
        if not self.authenticated:
            return b"\x69\x82"
        if self.selected is None:
            return b"\x69\x86"
        offset = (cmd.p1 << 8) | cmd.p2
        old = self.image.files[self.selected]
        if offset + len(cmd.data) > len(old):
            return b"\x6b\x00"
        new = old[:offset] + cmd.data + old[offset + len(cmd.data) :]
        changes = {self.selected: new}
        if self.selected == p.FID_PURCHASE:
            answer = self._accept_grant(new, changes)
            if answer != b"\x90\x00":
                return answer
        elif self.selected != p.FID_RETURN:
            return b"\x69\x82"  # info and customer files are written by the card itself
        tear, self.tear = self.tear, None
        if tear == "before":
            raise CardPulled("card pulled before the write committed")
        self.image.files.update(changes)  # atomic: all of it or none of it
        self.writes += 1
        if tear == "after":
            raise CardPulled("card pulled after the write committed")
        return b"\x90\x00"

    def _accept_grant(self, record: bytes, changes: dict[int, bytes]) -> bytes:
        if len(record) != RECORD_SIZE:
            return b"\x67\x00"
        try:
            grant = CardGrant.from_bytes(record)
        except GrantError:
            return b"\x6a\x80"
        if not grant.verify(self.image.grant_key):
            return b"\x69\x88"
        try:
            data = p.CardData(
                p.CardInfo.unpack(self.image.files[p.FID_INFO]),
                None,
                p.parse_grant(self.image.files[p.FID_PURCHASE]),
                None,
            )
            p.check_grant_fits(data, grant)
        except p.CardError:
            return b"\x6a\x80"
        if grant.kind in (GrantKind.OPEN, GrantKind.REISSUE):
            kind = p.CardType.OPEN if grant.kind == GrantKind.OPEN else p.CardType.REISSUE
            changes[p.FID_INFO] = p.CardInfo(kind, grant.serial).pack()
            changes[p.FID_CUSTOMER] = p.CustomerFile(grant.customer_no, grant.meter_no).pack()
        return b"\x90\x00"
