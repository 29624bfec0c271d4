"""Changing a terminal's master key (TMK) from the station: offered under the old key, switched
only when the terminal proves it holds the new one.

The utility schedules a new TMK for a terminal (``schedule``). At the terminal's next approved
sign-on (920000, under the old TMK) the 0810 carries it in field 35, encrypted under the old TMK
with its check value. The terminal keeps it beside the old one and signs on again with
processing 930000 under the new key (MAC and password block); that request is checked under the
new key, and its approval is the moment the station switches. Until then the old key stays the
terminal's key, so an answer lost on either side leaves both able to talk: the terminal tries
930000 again at its next sign-on, and a 930000 under the key already switched to is an ordinary
sign-on. A 930000 under a key the station does not hold fails the MAC (A0) and changes nothing.

Field 35 goes only to a terminal for which a change was scheduled and that signed on with
protocol version 3 or later (field 24): an older decoder would refuse the 0810.

The pending key is a station parameter (``new_master_key:<terminal>``), so the change needs no
new column in the terminals table.
"""

from __future__ import annotations

from station.ledger import Ledger, Row
from terminal.protocol import keys as keylib
from terminal.protocol import messages as m
from terminal.protocol import sm4
from terminal.protocol.codes import KEY_CHANGE_VERSION
from terminal.protocol.records import KeyBlock

PARAM = "new_master_key:"


def schedule(ledger: Ledger, terminal_id: str, new_key: bytes) -> bytes:
    """Offer ``new_key`` at the terminal's next sign-on; returns its check value."""
    if len(new_key) != 16 or ledger.terminal(terminal_id) is None:
        raise ValueError("a 16-byte key for a known terminal")
    ledger.set_param(PARAM + terminal_id, new_key.hex())
    return sm4.check_value(new_key)


def pending(ledger: Ledger, terminal_id: str) -> bytes | None:
    value = ledger.param(PARAM + terminal_id)
    return bytes.fromhex(value) if value else None


def master_key_for(ledger: Ledger, request: m.SignOnRequest, terminal: Row) -> bytes:
    """The key a 0800 is checked under: the TMK, or for 930000 the pending key (once switched,
    the pending key is the TMK)."""
    current = bytes.fromhex(terminal["master_key"])
    if request.processing == m.Processing.KEY_CHANGE:
        return pending(ledger, request.terminal_id) or current
    return current


def offer(
    ledger: Ledger, request: m.SignOnRequest, master: bytes, version: int
) -> KeyBlock | None:
    """Field 35 of an approved 0810 to a 920000: the pending key under the current TMK, for a
    terminal that signed on speaking ``version`` (field 24, R10)."""
    new = pending(ledger, request.terminal_id)
    if request.processing != m.Processing.SIGN_ON or new is None:
        return None
    if version < KEY_CHANGE_VERSION:
        return None  # it could not decode the 0810; the change waits for newer software
    return keylib.wrap_key(master, new)


def switch(ledger: Ledger, request: m.SignOnRequest) -> None:
    """An approved 930000: the pending key becomes the terminal's TMK (once)."""
    new = pending(ledger, request.terminal_id)
    if request.processing == m.Processing.KEY_CHANGE and new is not None:
        ledger.set_master_key(request.terminal_id, new)
        ledger.set_param(PARAM + request.terminal_id, "")
