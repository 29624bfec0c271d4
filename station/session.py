"""Sign-on (0800) and heartbeat (0820): who may work at a terminal, with which working key, and
what the station wants the terminal to do next.

Neither posts money, so they stay apart from the postings; the envelope checks the MAC before
either runs (sign-on under the terminal master key, the heartbeat under the working key).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

from station import keychange, updates
from station.answers import Context, reply, set_spoken
from station.ledger import Row
from station.routes import offline_limits
from terminal.protocol import keys as keylib
from terminal.protocol import messages as m
from terminal.protocol.codes import OFFLINE_VERSION, PROTOCOL_LEGACY, PROTOCOL_VERSION
from terminal.protocol.records import Amount, StationCommand
from terminal.protocol.responses import Code

LOGIN_ATTEMPTS = 5


def password_hash(salt: str, password: str) -> str:
    return hashlib.sha256(f"{salt}:{password}".encode()).hexdigest()


# The protocol versions (field 24) this station serves; a terminal asking for a later one is
# answered with the latest here, and decides itself whether it can work with it (R10).
SERVED_VERSIONS = range(PROTOCOL_LEGACY, PROTOCOL_VERSION + 1)


def sign_on(ctx: Context, request: m.SignOnRequest, terminal: Row) -> m.Response:
    db = ctx.ledger
    asked = PROTOCOL_LEGACY if request.protocol is None else request.protocol
    if asked < SERVED_VERSIONS.start:
        return reply(request, Code.INVALID)  # a version this station no longer serves
    # Field 24 goes back only to a terminal that sent it: an old terminal's decoder refuses it.
    speaks = None if request.protocol is None else min(asked, SERVED_VERSIONS.stop - 1)
    version = speaks or PROTOCOL_LEGACY  # what the fields of this answer may be
    operator = db.operator(request.account)
    if operator is None:
        return reply(request, Code.UNKNOWN_OPERATOR)
    if operator["agent_id"] != terminal["agent_id"]:
        return reply(request, Code.WRONG_ORGANISATION)
    if operator["locked"]:
        return reply(request, Code.OPERATOR_LOCKED)
    master = keychange.master_key_for(db, request, terminal)  # 930000: the new key (R49)
    password = keylib.open_password_block(master, request.password, request.trace)
    if password is None or password_hash(operator["salt"], password) != operator["password_hash"]:
        failures = operator["failures"] + 1
        locked = failures >= LOGIN_ATTEMPTS
        db.login_failed(request.account, failures, locked)
        return reply(request, Code.OPERATOR_LOCKED if locked else Code.WRONG_PASSWORD)
    db.login_succeeded(request.account)
    keychange.switch(db, request)
    set_spoken(db, request.terminal_id, version)
    mac_key = ctx.new_key()
    db.set_mac_key(request.terminal_id, mac_key)
    agent = db.agent(terminal["agent_id"])
    last = max(terminal["last_trace"], request.trace)
    return reply(
        request,
        Code.APPROVED,
        trace=last % 999999 + 1,
        batch=terminal["batch"],
        time=ctx.now(),
        keys=keylib.wrap_key(master, mac_key),
        amounts={
            Amount.AGENT_LIMIT: agent["available_fen"],
            Amount.OFFLINE_LIMIT: agent["offline_limit_fen"],
            **(offline_limits(db, agent) if version >= OFFLINE_VERSION else {}),  # R55
        },
        name=agent["name"],
        protocol=speaks,
        new_master=keychange.offer(db, request, master, version),
    )


def heartbeat(ctx: Context, request: m.HeartbeatRequest, terminal: Row) -> m.Response:
    """Record the terminal's status; answer with the pending command, repeated in every 0830
    until a heartbeat confirms it carried it out (field 59 in the 0820), so that a lost answer
    cannot lose a lock. The status keeps the confirmation for the management console."""
    status = dataclasses.asdict(request.status) if request.status else None
    confirmed = int(request.command or 0)
    record = {"status": status, "version": request.version, "at": str(ctx.now())}
    if confirmed:
        record["confirmed"] = confirmed
    ctx.ledger.record_status(request.terminal_id, json.dumps(record), confirmed)
    pending = terminal["command"] if terminal["command"] != confirmed else 0
    return reply(
        request,
        Code.APPROVED,
        time=ctx.now(),
        command=StationCommand(pending),
        **updates.offer_for(ctx.ledger, request.terminal_id, request.version),
    )
