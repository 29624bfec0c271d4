"""A software update's lifecycle as a pure state machine: events in, the next state out.

    NONE ─offer─> DOWNLOADING ─all bytes, hash and signature good─> VERIFIED
      │               │ └─withdrawn (25)─> NONE                        │ no transaction open
      │               └─hash or signature bad─> REFUSED                 v
      └─offer with a bad signature─> REFUSED                        INSTALLING (journalled first)
                                                                        │ unpacked, switched
                                                      ROLLED_BACK <─────┤ (unpacking failed)
                                                           ^            v
                                                           └─deadline─ TRIAL ─ready─> CONFIRMED

The shell (``terminal.shell.updates``) journals each state before it does what the state
announces, so after a power cut the last state says what may have happened. Nothing here reads
a clock or a file: the time arrives in the events.

A version once refused or rolled back is not taken again when offered again: a terminal in the
mountains must not spend its GPRS budget downloading, every heartbeat, the same package that did
not work. A newer version is taken as usual.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import datetime


class Stage(enum.Enum):
    NONE = "none"
    DOWNLOADING = "downloading"
    VERIFIED = "verified"
    INSTALLING = "installing"
    TRIAL = "trial"
    CONFIRMED = "confirmed"
    ROLLED_BACK = "rolled_back"
    REFUSED = "refused"


# Where an offer of another version may start a download: nothing under way on the device.
SETTLED = frozenset({Stage.NONE, Stage.CONFIRMED, Stage.ROLLED_BACK, Stage.REFUSED})


@dataclass(frozen=True)
class UpdateState:
    """What the update journal's last line says (hex for the binary offer parts)."""

    stage: Stage = Stage.NONE
    version: str = ""
    size: int = 0
    sha256: str = ""
    signature: str = ""
    previous: str = ""  # the version to go back to, once installing
    deadline: str = ""  # TRIAL: UTC ISO time by which the new version must report ready
    reason: str = ""  # REFUSED, ROLLED_BACK: why

    def to_json(self) -> dict[str, object]:
        return {**dataclasses.asdict(self), "stage": self.stage.value}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> UpdateState:
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in fields}
        values["stage"] = Stage(values.get("stage", "none"))
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Offered:
    """The 0830 offered ``version``; ``signed`` says whether the release key signed the offer."""

    version: str
    size: int
    sha256: str
    signature: str
    signed: bool
    running: str  # the version this program is


@dataclass(frozen=True)
class Downloaded:
    """Every byte is on disk; do they hash to the offer's SHA-256 (signed, so both count)?
    Checked again just before installing: a file changed on disk since is refused then."""

    hash_ok: bool


@dataclass(frozen=True)
class Withdrawn:
    """The station no longer offers the version (25 to a chunk request)."""


@dataclass(frozen=True)
class Installing:
    """No transaction is open: unpack and switch, keeping ``previous`` to go back to."""

    previous: str


@dataclass(frozen=True)
class Switched:
    """``current`` points at the new version; it must report ready by ``deadline``."""

    deadline: datetime


@dataclass(frozen=True)
class InstallFailed:
    reason: str


@dataclass(frozen=True)
class Ready:
    """A program of ``version`` started, recovered and signed on (or tried to)."""

    version: str


@dataclass(frozen=True)
class Checked:
    """The time is ``now``: has a trial run out of time?"""

    now: datetime


Event = Offered | Downloaded | Withdrawn | Installing | Switched | InstallFailed | Ready | Checked


def step(state: UpdateState, event: Event) -> UpdateState:
    """The state after ``event``; the same state when the event changes nothing."""
    match event:
        case Offered():
            return _offered(state, event)
        case Downloaded(hash_ok) if state.stage in (Stage.DOWNLOADING, Stage.VERIFIED):
            if hash_ok:
                return _at(state, Stage.VERIFIED)
            return _at(state, Stage.REFUSED, reason="hash_mismatch")
        case Withdrawn() if state.stage in (Stage.DOWNLOADING, Stage.VERIFIED):
            return UpdateState(reason="withdrawn")
        case Installing(previous) if state.stage is Stage.VERIFIED:
            return _at(state, Stage.INSTALLING, previous=previous)
        case Switched(deadline) if state.stage is Stage.INSTALLING:
            return _at(state, Stage.TRIAL, deadline=deadline.isoformat())
        case InstallFailed(reason) if state.stage is Stage.INSTALLING:
            return _at(state, Stage.ROLLED_BACK, reason=reason)
        case Ready(version) if state.stage is Stage.TRIAL and version == state.version:
            return _at(state, Stage.CONFIRMED)
        case Checked(now) if state.stage is Stage.TRIAL:
            if now >= datetime.fromisoformat(state.deadline):
                return _at(state, Stage.ROLLED_BACK, reason="not_ready_in_time")
            return state
    return state


def _at(state: UpdateState, stage: Stage, **changes: str) -> UpdateState:
    return dataclasses.replace(state, stage=stage, **changes)  # type: ignore[arg-type]


def _offered(state: UpdateState, offer: Offered) -> UpdateState:
    if offer.version == offer.running:
        return state  # already running it
    resigned = state.stage is Stage.REFUSED and state.signature != offer.signature
    if state.version == offer.version and not resigned:
        return state  # under way (resume), installed, or refused / rolled back once: not again
    if state.stage not in SETTLED:
        return state  # one update at a time; a newer offer waits for this one to finish
    taken = UpdateState(Stage.DOWNLOADING, offer.version, offer.size, offer.sha256, offer.signature)
    if not offer.signed:
        return _at(taken, Stage.REFUSED, reason="bad_signature")
    return taken
