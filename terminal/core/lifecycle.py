"""The transaction lifecycle: one declared table of states and the journal events that move them.

Every journal append is checked against ``TRANSITIONS``; a transaction's state is the state its
last entry led to, so it can always be derived from the journal alone (DESIGN.md principle 1).
Events name what happened or what is about to happen — ``sent`` is journalled *before* the
request goes on the wire, ``card_writing`` before the card is touched, ``printing`` before the
first byte goes to the printer — so after a crash the state says exactly what may have escaped.

    CREATED → SENT → APPROVED → PRINTED → COMPLETED
                 ↘ DECLINED
                 ↘ UNKNOWN → (repeat) → SENT …
                           → REVERSAL_QUEUED → REVERSED  (operator hands the cash back)
    card:  APPROVED → CARD_WRITING → CARD_WRITTEN → PRINTED …
                                   ↘ CARD_WRITE_FAILED → REVERSAL_QUEUED
    cancel (撤销): COMPLETED → CANCELLING (撤销 receipt) → REVERSAL_QUEUED → REVERSED
"""

from __future__ import annotations

import enum


class State(enum.Enum):
    NEW = "new"  # no entry yet
    CREATED = "created"  # operator confirmed; request built, nothing sent
    SENT = "sent"  # request may be on the wire
    APPROVED = "approved"
    DECLINED = "declined"
    UNKNOWN = "unknown"  # no answer: the station may or may not have posted it
    CARD_WRITING = "card_writing"  # the grant may be on the card
    CARD_WRITTEN = "card_written"  # read back: the card carries the grant
    CARD_WRITE_FAILED = "card_write_failed"  # read back: the card does not carry it
    PRINTING = "printing"  # receipt may be (partly) printed
    PRINTED = "printed"  # receipt done (or marked unprinted for reprint); completion owed
    COMPLETED = "completed"  # the station has the completion advice: final
    REVERSAL_QUEUED = "reversal_queued"  # the outbox owes the station a reversal
    REVERSED = "reversed"  # the station acknowledged the reversal: final
    CANCELLED = "cancelled"  # never sent; nothing to undo: final
    OFFLINE = "offline"  # taken offline; the outbox owes an upload
    ADOPTED = "adopted"  # posted by the station, learnt at settlement: final
    CANCELLING = "cancelling"  # cancel (撤销) confirmed; its receipt may be (partly) printed


S = State

# (state, event) -> next state. Anything not listed is refused by the journal.
TRANSITIONS: dict[tuple[State, str], State] = {
    (S.NEW, "created"): S.CREATED,
    (S.NEW, "offline"): S.OFFLINE,
    (S.NEW, "adopted"): S.ADOPTED,
    (S.CREATED, "sent"): S.SENT,
    (S.CREATED, "cancelled"): S.CANCELLED,
    (S.SENT, "approved"): S.APPROVED,
    (S.SENT, "declined"): S.DECLINED,
    (S.SENT, "unknown"): S.UNKNOWN,
    (S.UNKNOWN, "sent"): S.SENT,  # the same request again, same key
    (S.UNKNOWN, "reversal_queued"): S.REVERSAL_QUEUED,
    (S.APPROVED, "card_writing"): S.CARD_WRITING,
    (S.APPROVED, "printing"): S.PRINTING,
    (S.CARD_WRITING, "card_writing"): S.CARD_WRITING,  # a retry after the card came back
    (S.CARD_WRITING, "card_written"): S.CARD_WRITTEN,
    (S.CARD_WRITING, "card_write_failed"): S.CARD_WRITE_FAILED,
    (S.CARD_WRITE_FAILED, "reversal_queued"): S.REVERSAL_QUEUED,
    (S.CARD_WRITTEN, "printing"): S.PRINTING,
    (S.PRINTING, "printed"): S.PRINTED,
    (S.PRINTED, "printing"): S.PRINTED,  # reprint: the state stays
    (S.PRINTED, "printed"): S.PRINTED,
    (S.PRINTED, "delivering"): S.PRINTED,  # first send of the completion advice
    (S.PRINTED, "completed"): S.COMPLETED,
    (S.COMPLETED, "printing"): S.COMPLETED,  # reprint
    (S.COMPLETED, "printed"): S.COMPLETED,
    (S.COMPLETED, "cancelling"): S.CANCELLING,  # the operator cancels it (撤销), supervised
    (S.CANCELLING, "reversal_queued"): S.REVERSAL_QUEUED,  # the 撤销 receipt is done (or not)
    (S.REVERSAL_QUEUED, "delivering"): S.REVERSAL_QUEUED,  # first send of the reversal
    (S.REVERSAL_QUEUED, "reversed"): S.REVERSED,
    (S.REVERSAL_QUEUED, "printing"): S.REVERSAL_QUEUED,  # reprint of a 撤销 receipt
    (S.REVERSAL_QUEUED, "printed"): S.REVERSAL_QUEUED,
    (S.REVERSED, "printing"): S.REVERSED,  # reprint of a 撤销 receipt
    (S.REVERSED, "printed"): S.REVERSED,
    (S.OFFLINE, "delivering"): S.OFFLINE,
    (S.OFFLINE, "printing"): S.OFFLINE,
    (S.OFFLINE, "printed"): S.OFFLINE,
    (S.OFFLINE, "completed"): S.COMPLETED,
    (S.OFFLINE, "sms_sending"): S.OFFLINE,  # the upload may be on its way as a binary SMS
    (S.OFFLINE, "sms_sent"): S.OFFLINE,  # the module took it (+CMGS); GPRS still confirms it
}

# Nothing more is owed to anyone. (A completed payment can still be cancelled by the operator
# within its batch, which opens it again until the reversal is delivered.) CANCELLING is not
# POSTED either: it is open, so the batch cannot be settled before its reversal is queued.
FINAL = frozenset({S.DECLINED, S.COMPLETED, S.REVERSED, S.CANCELLED, S.ADOPTED})

# States in which the station has (or will have, once the outbox delivers) the money posted.
POSTED = frozenset(
    {
        S.APPROVED,
        S.CARD_WRITING,
        S.CARD_WRITTEN,
        S.PRINTING,
        S.PRINTED,
        S.COMPLETED,
        S.OFFLINE,
        S.ADOPTED,
    }
)

# Outbox: states that owe the station a message, and which.
OWES_REVERSAL = frozenset({S.REVERSAL_QUEUED})
OWES_COMPLETION = frozenset({S.PRINTED})
OWES_UPLOAD = frozenset({S.OFFLINE})

# Entries that are not about one transaction (sign-on, batch closed, …) use this key.
SYSTEM = "-"
SYSTEM_EVENTS = frozenset({"signed_on", "batch_closed", "journal_started", "trace_restored"}) | {
    "station_locked",  # by a heartbeat command: no new payment until unlocked
    "station_unlocked",
}

EVENTS = frozenset(event for _, event in TRANSITIONS) | SYSTEM_EVENTS


class TransitionError(ValueError):
    """An event that the lifecycle does not allow in the transaction's current state."""


def next_state(state: State, event: str) -> State:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise TransitionError(f"event {event!r} is not allowed in state {state.value}") from None


def mermaid() -> str:
    """The table as a Mermaid state diagram, for docs/journal.md."""
    lines = ["stateDiagram-v2"]
    for (state, event), target in TRANSITIONS.items():
        source = "[*]" if state is S.NEW else state.name
        lines.append(f"    {source} --> {target.name}: {event}")
    for state in sorted(FINAL, key=lambda s: s.name):
        lines.append(f"    {state.name} --> [*]")
    return "\n".join(lines)
