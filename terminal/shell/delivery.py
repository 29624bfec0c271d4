"""The delivery worker: owed messages (completions, reversals, offline uploads) to the station.

Strictly in order, each a repeat-safe message; the first that cannot go stops the round and is
tried again later, never dropped: a terminal that deletes a reversal after three tries leaves the
mismatch to settlement, and that is the practice this worker exists to beat (DESIGN.md, 3).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from drivers.transport import LinkError, problem_of
from offline_queue import outbox
from offline_queue.journal import Journal
from terminal.core.requests import PendingItem
from terminal.protocol import messages as m
from terminal.protocol.records import Amount
from terminal.shell.session import Session
from terminal.shell.sms_path import SmsPath


@dataclass
class DrainResult:
    """One delivery round: how many went, how many wait, and why the first is stuck."""

    delivered: int = 0
    remaining: int = 0
    code: str = ""  # the first remaining item was refused with this response code
    link: str = ""  # or it could not go for this link problem ("not_signed_on" before sign-on)

    @property
    def problem(self) -> str:
        return self.code or self.link


class Delivery:
    def __init__(self, journal: Journal, session: Session) -> None:
        self.journal = journal
        self.session = session
        self.failures: dict[str, int] = {}  # txn -> failed attempts since it was last delivered
        self.last = DrainResult()  # the last round: why the first remaining item is stuck
        self._nudged = asyncio.Event()
        self.second_path: SmsPath | None = None  # binary SMS for uploads (config station.sms)

    def pending(self) -> list[outbox.Item]:
        return outbox.pending(self.journal)

    def items(self) -> list[PendingItem]:
        """What is still owed, with how often delivery failed and why (the pending screen)."""
        return [
            PendingItem(
                txn=item.txn,
                what=item.kind,
                customer_no=item.order.customer_no or "",
                amount_fen=item.order.amount_fen,
                trace=item.order.trace,
                failures=self.failures.get(item.txn, 0),
                code=self.last.code if self.failures.get(item.txn) else "",
                link=self.last.link if self.failures.get(item.txn) else "",
            )
            for item in self.pending()
        ]

    def nudge(self) -> None:
        """Something new is owed (or the link came back): deliver now."""
        self._nudged.set()

    async def drain(self) -> DrainResult:
        """Deliver owed messages strictly in order; stop at the first that cannot go."""
        result = DrainResult()
        for item in self.pending():
            if not self.session.signed_on:
                result.link = "not_signed_on"
                break
            if not item.delivered_before:
                self.journal.append(item.txn, "delivering", {"kind": item.kind})
            try:
                reply = await self.session.exchange(item.message())
            except LinkError as exc:
                result.link = problem_of(exc)
                if self.second_path is not None:  # GPRS failed: uploads may still go by SMS
                    await self.second_path.send_waiting(self.pending())
            else:
                if reply.approved:
                    self.journal.append(item.txn, outbox.DONE_EVENT[item.kind], _done(reply))
                    self.failures.pop(item.txn, None)
                    result.delivered += 1
                    continue
                result.code = reply.response
            self.failures[item.txn] = self.failures.get(item.txn, 0) + 1
            break
        result.remaining = len(self.pending())
        self.last = result
        return result

    async def keep_delivering(
        self,
        stop: asyncio.Event,
        first_s: float = 5.0,
        max_s: float = 600.0,
        idle_s: float = 300.0,
    ) -> None:
        """Background delivery: drain, and on failure wait first_s, doubling up to max_s.

        Never gives up and never drops an item; a newly owed item or ``nudge()`` wakes it.
        """
        wait = first_s
        while not stop.is_set():
            # Cleared before the round, not after: a nudge that comes while the round runs (the
            # link came back as it failed) must start another round, not wait out the back-off.
            self._nudged.clear()
            result = await self.drain()
            if result.remaining == 0:
                wait = first_s
                timeout = idle_s
            else:
                timeout = wait
                wait = min(wait * 2, max_s)
            stopping = asyncio.ensure_future(stop.wait())
            nudged = asyncio.ensure_future(self._nudged.wait())
            await asyncio.wait(
                {stopping, nudged}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            for future in (stopping, nudged):
                future.cancel()


def _done(reply: m.Response) -> dict:
    """The acknowledgement's journal payload: the code, and what an offline payment's answer
    says it became (due after it, the part put to credit)."""
    amounts = getattr(reply, "amounts", None)
    if not amounts:
        return {"code": reply.response}
    return {"code": reply.response, "amounts": {Amount(k).name: v for k, v in amounts.items()}}
