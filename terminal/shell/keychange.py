"""A new terminal master key from the station, taken on without ever losing the key in use.

The station offers a new TMK in an approved 0810 (field 35, encrypted under the old TMK, with its
check value; ``docs/protocol.md`` R49). The terminal proves the new key by its check value,
keeps it in a file beside the old one (``<master key file>.pending``), and signs on again at once
with processing 930000 under the new key. Only when that is approved — the station has switched
— does the new key replace the old one in the key file (an atomic rename).

Whatever is lost on the way, the terminal holds the key the station uses:

* the 930000 or its answer lost: the pending key is tried first at the next sign-on (a 930000 the
  station has already switched for is an ordinary sign-on), then the old key;
* the station has changed its mind (another key scheduled, or none): the 930000 fails its MAC
  (A0), the old key signs on, and the pending key is dropped only then — after the station has
  shown, by approving a sign-on under the old key without offering the same new one, that the old
  key is still the terminal's.
"""

from __future__ import annotations

import logging
from pathlib import Path

from drivers.transport import LinkError
from terminal.protocol import keys as keylib
from terminal.protocol import messages as m
from terminal.protocol import sm4
from terminal.shell.session import Session, StationDeclined

log = logging.getLogger("gridpos.keys")


def pending_path(master_key_file: str | Path) -> Path:
    path = Path(master_key_file)
    return path.with_name(path.name + ".pending")


async def sign_on(session: Session, account: str, password: str) -> m.SignOnResponse:
    """Sign on, taking on a new master key when the station offers or has one waiting."""
    file = session.master_key_file
    staged = _staged(file)
    if staged is not None:
        confirmed = await _confirm(session, account, password, staged)
        if confirmed is not None:
            return confirmed
    reply = await session.sign_on_under(account, password, session.master_key)
    if file is None:
        return reply
    if reply.new_master is not None:
        try:
            new = keylib.unwrap_key(session.master_key, reply.new_master)
        except keylib.KeyMaterialError:
            log.warning("new master key offered with a wrong check value: not taken")
            return reply
        try:
            keylib.save_key_file(pending_path(file), new)
        except OSError as exc:  # the old key goes on working; the station offers again
            log.error("cannot keep the new master key beside the old one: %s", exc)
            return reply
        log.info("new master key offered, check value %s", sm4.check_value(new).hex().upper())
        confirmed = await _confirm(session, account, password, new)
        return confirmed or reply
    if staged is not None:
        log.info("the station kept the old master key: the pending one is dropped")
        pending_path(file).unlink(missing_ok=True)
    return reply


def _staged(file: str | None) -> bytes | None:
    if file is None or not pending_path(file).exists():
        return None
    try:
        return keylib.load_master_key(pending_path(file))
    except keylib.KeyMaterialError:
        return None


async def _confirm(
    session: Session, account: str, password: str, new: bytes
) -> m.SignOnResponse | None:
    """930000 under ``new``: approved means the station switched; then so does the terminal."""
    try:
        reply = await session.sign_on_under(account, password, new, m.Processing.KEY_CHANGE)
    except (LinkError, StationDeclined) as exc:
        log.info("sign-on under the new master key not approved yet (%s)", exc)
        return None
    assert session.master_key_file is not None
    session.master_key = new
    try:
        keylib.save_key_file(session.master_key_file, new)
    except OSError as exc:  # the pending file still holds it: tried first at the next sign-on
        log.error("master key changed but not yet written to its file: %s", exc)
        return reply
    pending_path(session.master_key_file).unlink(missing_ok=True)
    log.info("master key changed, check value %s", sm4.check_value(new).hex().upper())
    return reply
