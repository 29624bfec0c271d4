"""The transaction executor: carries out the engine's commands, in order, for one transaction.

An ``Append`` is on disk before the next command runs; an effect (send, card write, print,
question to the operator) becomes the engine's next event. The executor keeps the transaction's
view in memory and folds each entry it appends into it, so within a run the order is never read
back from the journal. After a crash, ``recover()`` rebuilds every open transaction's view from
the journal and carries it on from where it stopped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from drivers.transport import LinkError
from offline_queue.journal import Journal
from terminal.core import cancel as cancelling
from terminal.core import engine as e
from terminal.core.lifecycle import State
from terminal.core.orders import Order
from terminal.protocol.cardgrant import CardGrant
from terminal.shell.printing import Receipts
from terminal.shell.session import Session

OperatorAsk = Callable[[str, str], Awaitable[bool]]


async def give_up(txn: str, reason: str) -> bool:
    """Default operator: after every repeat failed, do not wait again (queue a reversal)."""
    return False


class CardWriter(Protocol):
    """The card service's part the executor needs; both calls run the reader off the loop."""

    async def write_grant(self, grant: CardGrant) -> bool | None: ...

    async def card_back(self) -> tuple[bytes, CardGrant | None] | None:
        """The card in the reader once one comes: (serial, last grant); None if none does."""
        ...


class Executor:
    def __init__(
        self,
        journal: Journal,
        session: Session,
        receipts: Receipts,
        card: CardWriter | None = None,
        repeats: int = 2,
        owed: Callable[[], None] = lambda: None,
    ) -> None:
        self.journal = journal
        self.session = session
        self.receipts = receipts
        self.card = card
        self.repeats = repeats
        self.owed = owed  # called whenever a transaction's part ends: something may now be owed
        self.ask_operator: OperatorAsk = give_up

    def view(self, txn: str) -> e.View | None:
        return e.view_from(self.journal.entries(txn))

    async def run(self, order: Order) -> e.Finished:
        """Carry one confirmed order through to the end of the operator's part."""
        self.session.key()
        return await self._execute(e.View(order, State.NEW), e.start(order))

    async def resolve_card(self, txn: str) -> e.Finished:
        """The card pulled mid-write is back: finish it, write it again, or reverse (another
        card); still absent, the question stays open."""
        view = self.view(txn)
        if view is None or view.state is not State.CARD_WRITING or view.grant is None:
            return e.Finished(view.state if view else State.NEW)
        return await self._execute(view, [e.CheckCard(view.grant)])

    async def give_up_card(self, txn: str) -> e.Finished:
        """The operator gives up on the pulled card: the purchase is reversed."""
        view = self.view(txn)
        if view is None:
            return e.Finished(State.NEW)
        return await self._execute(view, e.give_up_card(view))

    async def cancel(self, txn: str, by: str = "") -> e.Finished:
        """Cancel (撤销) a completed cash payment of the open batch: journal it, print the 撤销
        receipt, queue the reversal. Refused: ``Finished`` in the payment's state, with the
        reason (``terminal.core.cancel``) as its message."""
        view = self.view(txn)
        if view is None:
            return e.Finished(State.NEW, message=cancelling.NOT_FOUND)
        why = cancelling.refusal(view, self.session.batch)
        if why:
            return e.Finished(view.state, message=why)
        return await self._execute(view, cancelling.start(view, by or self.session.operator))

    async def recover(self) -> list[tuple[str, e.Finished]]:
        """Carry every transaction that is not final on from where the journal says it stopped.

        Needs a sign-on when a request must be repeated; without one, such transactions stay
        as they are (and are shown as pending) until the next call.
        """
        results = []
        for txn in self.journal.open_transactions():
            view = self.view(txn)
            if view is None:
                continue
            commands = e.recover(view)
            if not commands:
                continue
            if any(isinstance(c, e.Send) for c in commands) and not self.session.signed_on:
                continue
            results.append((txn, await self._execute(view, commands)))
        return results

    async def _execute(self, view: e.View, commands: list[e.Command]) -> e.Finished:
        """Carry the commands out; however it ends (run, card resolved, cancel, recovery), a
        completion or a reversal may now be owed, so the delivery worker is woken."""
        try:
            return await self._carry_out(view, commands)
        finally:
            self.owed()

    async def _carry_out(self, view: e.View, commands: list[e.Command]) -> e.Finished:
        txn = view.order.txn
        queue = list(commands)
        while queue:
            command = queue.pop(0)
            if isinstance(command, e.Append):
                entry = self.journal.append(txn, command.event, command.payload)
                view = e.fold(view, entry) or view
                continue
            if isinstance(command, e.Finished):
                return command
            event = await self._effect(view, command)
            queue = e.step(view, event, self.repeats) + queue
        return e.Finished(view.state)

    async def _effect(self, view: e.View, command: e.Command) -> e.Event:
        if isinstance(command, e.Send):
            try:
                return e.Answered(await self.session.exchange(command.message))
            except LinkError as exc:
                return e.NoAnswer(str(exc))
        if isinstance(command, e.WriteCard):
            if self.card is None:
                return e.CardDone(None)
            return e.CardDone(await self.card.write_grant(command.grant))
        if isinstance(command, e.CheckCard):
            back = await self.card.card_back() if self.card is not None else None
            return e.CardBack(*back) if back is not None else e.CardBack(None)
        if isinstance(command, e.Print):
            ok, reason = await self.receipts.print_receipt(view, command.reprint)
            return e.Printed(ok, reason)
        if isinstance(command, e.AskOperator):
            return e.OperatorChoice(await self.ask_operator(view.order.txn, command.reason))
        raise TypeError(f"unknown command {command!r}")
