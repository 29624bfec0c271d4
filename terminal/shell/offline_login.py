"""Signing on with no link: the operator of the last sign-on resumes it, for offline payments.

A terminal switched off in the village (a battery changed) cannot reach the station to sign on
again, yet the station's limits allow payments until the last sign-on is ``sign_on_hours`` old
(R55). So each online sign-on leaves in its journal entry what an offline one needs: the
station's offline limits, the agent's name and a salted PBKDF2 verifier of the password, keyed
with the terminal master key (an exported journal alone cannot be used to guess the password,
which is often six digits, without the key file, readable only by the program's user). With
no link, the same operator with the same password resumes that sign-on — its limits, its time
(the age is counted from the online sign-on, not from now), its batch — and may take payments
against the route book; nothing needs the working key then, and uploads wait for the next
online sign-on. Any other operator, a wrong password or too old a sign-on: not resumed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from offline_queue.journal import Journal
from terminal.core.lifecycle import SYSTEM
from terminal.protocol.records import Amount

ITERATIONS = 20_000  # about 30 ms on a small ARM terminal, once per login


def _derive(password: str, salt: bytes, key: bytes) -> bytes:
    keyed = hmac.new(key, b"offline sign-on\x1f" + salt, hashlib.sha256).digest()
    return hashlib.pbkdf2_hmac("sha256", password.encode(), keyed, ITERATIONS)


def credentials(
    password: str, amounts: dict[Amount, int], agent: str, key: bytes
) -> dict[str, Any]:
    """The part of the ``signed_on`` entry that lets this sign-on be resumed offline."""
    salt = secrets.token_bytes(16)
    return {
        "offline_limits": {Amount(tag).name: value for tag, value in amounts.items()},
        "agent": agent,
        "salt": salt.hex(),
        "verifier": _derive(password, salt, key).hex(),
    }


def last_sign_on(journal: Journal) -> tuple[dict[str, Any], datetime] | None:
    found = None
    for entry in journal.entries(SYSTEM):
        if entry.event == "signed_on":
            found = entry
    if found is None:
        return None
    return found.payload, datetime.fromisoformat(found.time)


def resume(
    journal: Journal, account: str, password: str, now: datetime, key: bytes
) -> str | dict[str, Any]:
    """The stored sign-on when ``account`` and ``password`` may resume it; else why not: "55"
    (the password does not match), "no_offline_sign_on" (another operator, none stored, or too
    old)."""
    last = last_sign_on(journal)
    if last is None or last[0].get("operator") != account or "verifier" not in last[0]:
        return "no_offline_sign_on"
    payload, when = last
    limits = {Amount[name]: value for name, value in payload.get("offline_limits", {}).items()}
    if now.astimezone(UTC) - when > timedelta(hours=limits.get(Amount.SIGN_ON_HOURS, 0)):
        return "no_offline_sign_on"
    derived = _derive(password, bytes.fromhex(payload["salt"]), key)
    if not hmac.compare_digest(derived.hex(), payload["verifier"]):
        return "55"
    return {**payload, "limits": limits, "at": when}
