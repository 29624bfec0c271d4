"""The transaction engine: events in, commands out, no I/O (DESIGN.md principle 5).

A transaction is an ``Order`` (what the operator confirmed) plus the journal's view of it. Each
``step`` takes the view and one event and returns the commands to carry out, in order; an
``Append`` always comes before the effect it announces, so a crash between any two commands
leaves the journal saying what may have happened. The shell (``terminal.shell``) carries
the commands out and feeds the results back as events.

The same request (same key, same fields) is what a repeat sends; it is rebuilt from the order
in the journal, so it is byte-identical after a restart too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from terminal.core.lifecycle import State, next_state
from terminal.core.orders import CARD_KINDS, Order
from terminal.protocol import messages as m
from terminal.protocol.cardgrant import CardGrant, GrantKind
from terminal.protocol.records import Amount

# --- the journal's view of one transaction -------------------------------------------------


@dataclass(frozen=True)
class View:
    """One transaction as its journal entries tell it: the order, its state and the approval."""

    order: Order
    state: State
    sends: int = 0  # how many times the request went out
    approval: dict[str, Any] | None = None  # payload of the ``approved`` entry
    approved_at: str | None = None  # UTC ISO time of the ``approved`` entry: the receipt's time
    cancel: dict[str, Any] | None = None  # payload of the ``cancelling`` entry (撤销)
    cancelled_at: str | None = None  # UTC ISO time of the ``cancelling`` entry

    @property
    def grant(self) -> CardGrant | None:
        if not self.approval or not self.approval.get("grant"):
            return None
        return CardGrant.from_bytes(bytes.fromhex(self.approval["grant"]))


class JournalEntry(Protocol):
    """What the engine reads of a journal entry (``offline_queue.journal.Entry`` has these)."""

    @property
    def event(self) -> str: ...

    @property
    def payload(self) -> dict[str, Any]: ...

    @property
    def time(self) -> str: ...


# --- commands ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Append:
    """Write this journal entry before anything after it is carried out."""

    event: str
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Send:
    """Put the request on the wire and feed back ``Answered`` or ``NoAnswer``."""

    message: m.Message


@dataclass(frozen=True)
class WriteCard:
    """Write the grant onto the card, read it back, feed back ``CardDone``."""

    grant: CardGrant


@dataclass(frozen=True)
class CheckCard:
    """The card pulled mid-write (or after a restart): read the card in the reader, feed back
    ``CardBack``; its serial and purchase count say whether the write happened."""

    grant: CardGrant


@dataclass(frozen=True)
class Print:
    """Print the receipt and feed back ``Printed``."""

    reprint: bool = False


@dataclass(frozen=True)
class AskOperator:
    """No answer after every repeat: wait again, or give up and hand the cash back."""

    reason: str


@dataclass(frozen=True)
class Finished:
    """The operator's part is over; ``outcome`` is a lifecycle state, ``code`` the station's."""

    outcome: State
    code: str = ""
    message: str = ""
    print_reason: str = ""  # with "receipt_not_printed": why (a text key, e.g. no paper)


Command = Append | Send | WriteCard | CheckCard | Print | AskOperator | Finished


# --- events --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answered:
    """The station answered the request."""

    response: m.Response


@dataclass(frozen=True)
class NoAnswer:
    """No answer: a timeout or a broken link (the outcome is unknown)."""

    reason: str


@dataclass(frozen=True)
class OperatorChoice:
    """The operator's answer to "wait again?" after every repeat failed."""

    wait_again: bool


@dataclass(frozen=True)
class CardDone:
    """The card write (or check) ended: written, not written, or the card was pulled."""

    written: bool | None  # None: the card was pulled, the outcome is not known yet


@dataclass(frozen=True)
class CardBack:
    """The card in the reader when the pulled one was asked for: serial and last grant
    (``serial`` None: no card came, or none that could be read)."""

    serial: bytes | None
    purchase: CardGrant | None = None


@dataclass(frozen=True)
class Printed:
    """The receipt printed, or why not."""

    ok: bool
    reason: str = ""


Event = Answered | NoAnswer | OperatorChoice | CardDone | CardBack | Printed


# --- the rules -------------------------------------------------------------------------------


def start(order: Order) -> list[Command]:
    """The operator confirmed: journal the order, then send it."""
    return [
        Append("created", order.to_payload()),
        Append("sent", {"attempt": 1}),
        Send(order.request()),
    ]


def step(view: View, event: Event, repeats: int = 2) -> list[Command]:
    """Commands that follow ``event`` for a transaction in ``view``'s state."""
    state = view.state
    if isinstance(event, Answered) and state is State.SENT:
        return _answered(view, event.response)
    if isinstance(event, NoAnswer) and state is State.SENT:
        commands: list[Command] = [Append("unknown", {"reason": event.reason})]
        if view.sends <= repeats:
            return [*commands, *_resend(view)]
        return [*commands, AskOperator(event.reason)]
    if isinstance(event, OperatorChoice) and state is State.UNKNOWN:
        if event.wait_again:
            return _resend(view)
        return [
            Append("reversal_queued", {"why": "operator gave up waiting"}),
            Finished(State.REVERSAL_QUEUED, message="reversal_hand_back_cash"),
        ]
    if isinstance(event, CardDone) and state is State.CARD_WRITING:
        if event.written is None:
            return [Finished(State.CARD_WRITING, message="card_pulled_reinsert")]
        if event.written:
            return [Append("card_written"), Append("printing"), Print()]
        return [
            Append("card_write_failed"),
            Append("reversal_queued", {"why": "card not written"}),
            Finished(State.REVERSAL_QUEUED, message="card_not_written_hand_back_cash"),
        ]
    if isinstance(event, CardBack) and state is State.CARD_WRITING:
        return _card_back(view, event)
    if isinstance(event, Printed) and state is State.CANCELLING:
        return [
            _cancel_queued(event.ok, event.reason),
            Finished(
                State.REVERSAL_QUEUED,
                message="" if event.ok else "receipt_not_printed",
                print_reason="" if event.ok else event.reason or "no_printer",
            ),
        ]
    if isinstance(event, Printed) and state is State.PRINTING:
        return [
            Append("printed", {"ok": event.ok, "reason": event.reason}),
            Finished(
                State.APPROVED,
                "00",
                "" if event.ok else "receipt_not_printed",
                "" if event.ok else event.reason or "no_printer",
            ),
        ]
    raise ValueError(f"{type(event).__name__} does not apply in state {state.value}")


def _card_back(view: View, back: CardBack) -> list[Command]:
    """The pulled card is asked for again (DESIGN.md principle 4). The grant is for one purchase
    count: a card whose count did not move (a blank card still blank, for an open or reissue)
    can still take it, so it is written again; a card that carries it (or a later grant) was
    written before it left. Anything else is reversed."""
    grant = view.grant
    if back.serial is None or grant is None:
        return [Finished(State.CARD_WRITING, message="card_pulled_reinsert")]
    if back.serial != grant.serial:
        return _card_reversed("another card was inserted", "card_other_hand_back_cash")
    count = back.purchase.count if back.purchase else 0
    if back.purchase == grant or count > grant.count:
        return [Append("card_written", {"count": count}), Append("printing"), Print()]
    if grant.kind is GrantKind.PURCHASE:
        unchanged = count == grant.count - 1  # the card's rule: a purchase is its count plus one
    else:
        unchanged = back.purchase is None  # open, reissue: still the blank card it was
    if unchanged:
        return [Append("card_writing", {"again": True, "count": count}), WriteCard(grant)]
    return _card_reversed("the card holds another grant", "card_not_written_hand_back_cash")


def _card_reversed(why: str, message: str) -> list[Command]:
    return [
        Append("card_write_failed", {"why": why}),
        Append("reversal_queued", {"why": why}),
        Finished(State.REVERSAL_QUEUED, message=message),
    ]


def give_up_card(view: View) -> list[Command]:
    """The operator gives up on the pulled card (it is not coming back): reverse the purchase."""
    if view.state is not State.CARD_WRITING:
        return [Finished(view.state)]
    return _card_reversed("the operator gave up on the card", "card_given_up_hand_back_cash")


def _cancel_queued(printed: bool, reason: str) -> Append:
    """The entry that ends a cancel's receipt and puts its reversal in the outbox."""
    why = "cancelled by the operator"
    return Append("reversal_queued", {"why": why, "printed": printed, "reason": reason})


def _resend(view: View) -> list[Command]:
    return [Append("sent", {"attempt": view.sends + 1}), Send(view.order.request())]


def _answered(view: View, response: m.Response) -> list[Command]:
    if not response.approved:
        return [
            Append("declined", {"code": response.response}),
            Finished(State.DECLINED, response.response),
        ]
    payload: dict[str, Any] = {
        "code": response.response,
        "station_ref": getattr(response, "station_ref", None),
        "verify_code": getattr(response, "verify_code", None),
        "amounts": {
            Amount(k).name: v for k, v in (getattr(response, "amounts", None) or {}).items()
        },
    }
    grant = getattr(response, "grant", None)
    if grant is not None:
        payload["grant"] = grant.to_bytes().hex()
    if view.order.processing in CARD_KINDS:
        if grant is None:
            # Approved but nothing to write: the station broke the protocol. Undo it.
            return [
                Append("approved", payload),
                Append("card_writing", {"grant": None}),
                Append("card_write_failed", {"why": "approval without a grant"}),
                Append("reversal_queued", {"why": "approval without a grant"}),
                Finished(State.REVERSAL_QUEUED, message="card_not_written_hand_back_cash"),
            ]
        return [Append("approved", payload), Append("card_writing"), WriteCard(grant)]
    return [Append("approved", payload), Append("printing"), Print()]


def recover(view: View) -> list[Command]:
    """After a restart: carry a transaction that is not final on from where it stopped."""
    state = view.state
    if state is State.CREATED:
        return [Append("cancelled", {"why": "never sent"})]
    if state is State.SENT:
        return [Append("unknown", {"reason": "restarted while waiting"}), *_resend(view)]
    if state is State.UNKNOWN:
        return _resend(view)
    if state is State.APPROVED:
        grant = view.grant
        if view.order.processing in CARD_KINDS and grant is not None:
            return [Append("card_writing"), WriteCard(grant)]
        return [Append("printing"), Print()]
    if state is State.CARD_WRITING:
        grant = view.grant
        if grant is None:
            return [
                Append("card_write_failed", {"why": "no grant"}),
                Append("reversal_queued", {"why": "card not written"}),
            ]
        return [CheckCard(grant)]
    if state is State.CARD_WRITE_FAILED:
        return [Append("reversal_queued", {"why": "card not written"})]
    if state is State.CARD_WRITTEN:
        return [Append("printing"), Print()]
    if state is State.CANCELLING:
        # The 撤销 receipt may have stopped anywhere: mark it unprinted, queue the reversal.
        return [_cancel_queued(False, "restarted while printing")]
    if state is State.PRINTING:
        # The printer may have stopped anywhere: mark it unprinted, offer a reprint.
        return [Append("printed", {"ok": False, "reason": "restarted while printing"})]
    return []  # PRINTED, REVERSAL_QUEUED, OFFLINE: the outbox delivers; final states: nothing


ORDER_EVENTS = frozenset({"created", "offline", "adopted"})


def fold(view: View | None, entry: JournalEntry) -> View | None:
    """The view after one more journal entry (None until an entry states the order).

    The executor folds each entry it appends into the view it holds, so within a run the order
    is never read back from the journal; after a restart ``view_from`` folds them all.
    """
    state = next_state(view.state if view else State.NEW, entry.event)
    if view is None:
        if entry.event not in ORDER_EVENTS:
            return None
        taken = entry.time if entry.event == "offline" else None  # cash taken: the receipt's time
        return View(Order.from_payload(entry.payload), state, approved_at=taken)
    if entry.event == "sent":
        return dataclasses.replace(view, state=state, sends=view.sends + 1)
    if entry.event == "approved":
        return dataclasses.replace(
            view, state=state, approval=entry.payload, approved_at=entry.time
        )
    if entry.event == "cancelling":
        return dataclasses.replace(view, state=state, cancel=entry.payload, cancelled_at=entry.time)
    return dataclasses.replace(view, state=state)


def view_from(entries: Iterable[JournalEntry]) -> View | None:
    """Fold one transaction's journal entries into its view."""
    view = None
    for entry in entries:
        view = fold(view, entry)
    return view
