"""The imperative shell around the engine: journal, station link, printer and card reader.

``Terminal`` carries out the engine's commands in order — an ``Append`` is on disk before the
next command runs — and turns what happens (an answer, a timeout, a card read back, a printed
receipt) into the engine's events. It holds nothing that matters only in memory: after a crash,
``recover()`` rebuilds every open transaction from the journal and carries it on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from drivers.transport import LinkError
from offline_queue import outbox
from offline_queue.journal import Journal
from terminal.core import engine as e
from terminal.core.lifecycle import FINAL, POSTED, SYSTEM, State
from terminal.core.orders import Order
from terminal.core.receipt import Receipt, ReceiptLine, receipt_lines
from terminal.protocol import keys as keylib
from terminal.protocol import messages as m
from terminal.protocol.cardgrant import CardGrant
from terminal.protocol.records import Amount, TxnKind
from terminal.protocol.responses import describe
from terminal.shell.link import StationLink

if TYPE_CHECKING:
    from drivers.card.profile import CardData

log = logging.getLogger("gridpos.terminal")

TITLES = {
    m.Processing.BILL_PAYMENT: "电费缴费凭证",
    m.Processing.PREPAYMENT: "预存电费凭证",
    m.Processing.CARD_PURCHASE: "购电凭证",
    m.Processing.CARD_REISSUE: "补卡凭证",
    m.Processing.CARD_OPEN: "开卡凭证",
    m.Processing.OFFLINE_PAYMENT: "电费缴费凭证（离线）",
}

KIND_OF = {
    m.Processing.BILL_PAYMENT: TxnKind.BILL_PAYMENT,
    m.Processing.PREPAYMENT: TxnKind.PREPAYMENT,
    m.Processing.CARD_PURCHASE: TxnKind.CARD_PURCHASE,
    m.Processing.CARD_REISSUE: TxnKind.CARD_REISSUE,
    m.Processing.CARD_OPEN: TxnKind.CARD_OPEN,
    m.Processing.OFFLINE_PAYMENT: TxnKind.OFFLINE_PAYMENT,
}


class ReceiptPrinter(Protocol):
    def print_lines(self, lines: list[str], cut: bool = True) -> Any: ...


class CardWriter(Protocol):
    async def write_grant(self, grant: CardGrant) -> bool | None: ...

    async def carries(self, grant: CardGrant) -> bool | None: ...


class NotSignedOn(Exception):
    """Money cannot move before a successful sign-on."""


class StationDeclined(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class DrainResult:
    delivered: int = 0
    remaining: int = 0
    problem: str = ""  # plain reason the first remaining item is stuck


@dataclass
class SettlementOutcome:
    balanced: bool
    batch: int
    count: int
    total_fen: int
    next_batch: int | None = None
    differences: list[str] = field(default_factory=list)
    bytes_used: int = 0


OperatorAsk = Callable[[str, str], Awaitable[bool]]


async def give_up(txn: str, reason: str) -> bool:
    """Default operator: after every repeat failed, do not wait again (queue a reversal)."""
    return False


class Terminal:
    def __init__(
        self,
        journal: Journal,
        link: StationLink,
        terminal_id: str,
        master_key: bytes,
        *,
        printer: ReceiptPrinter | None = None,
        card: CardWriter | None = None,
        ask_operator: OperatorAsk = give_up,
        repeats: int = 2,
        utility: str = "县供电公司",
        paper_mm: int = 58,
    ) -> None:
        self.journal = journal
        self.link = link
        self.terminal_id = terminal_id
        self.master_key = master_key
        self.printer = printer
        self.card = card
        self.ask_operator = ask_operator
        self.repeats = repeats
        self.utility = utility
        self.paper_mm = paper_mm
        self.mac_key: bytes | None = None
        self.batch = journal.counter("batch", 0)
        self.agent_name = ""
        self.operator = ""
        self.limits: dict[Amount, int] = {}
        self.last_receipt: Receipt | None = None
        self.delivery_failures: dict[str, int] = {}
        self.delivery_problem = ""
        self._nudged = asyncio.Event()

    # --- sign-on and inquiries --------------------------------------------------------------

    @property
    def signed_on(self) -> bool:
        return self.mac_key is not None

    async def sign_on(self, account: str, password: str) -> m.SignOnResponse:
        trace = self.journal.take_trace()
        block = keylib.password_block(self.master_key, password, trace)
        request = m.SignOnRequest(
            terminal_id=self.terminal_id, trace=trace, account=account, password=block
        )
        reply = await self.link.exchange(request, self.master_key)
        if not reply.approved:
            raise StationDeclined(reply.response)
        assert isinstance(reply, m.SignOnResponse) and reply.keys is not None
        self.mac_key = keylib.unwrap_key(self.master_key, reply.keys)
        self.batch = reply.batch or 1
        self.agent_name = reply.name or ""
        self.operator = account
        self.limits = dict(reply.amounts or {})
        local_next = self.journal.counter("next_trace", 1)
        next_trace = max(local_next, reply.trace)
        self.journal.set_counter("next_trace", next_trace)
        self.journal.set_counter("batch", self.batch)
        self.journal.append(
            SYSTEM,
            "signed_on",
            {
                "operator": account,
                "batch": self.batch,
                "next_trace": next_trace,
                "station_time": reply.time.isoformat() if reply.time else None,
            },
        )
        return reply

    def _require_sign_on(self) -> bytes:
        if self.mac_key is None:
            raise NotSignedOn("sign on first")
        return self.mac_key

    async def request(self, message: m.Message) -> m.Response:
        """A non-financial exchange (inquiry, detail, settlement, heartbeat).

        These are safe to repeat (same key, stored answer), so a connection that turns out to
        be dead — GPRS operators drop idle connections silently — is retried once, fresh.
        """
        key = self._require_sign_on()
        try:
            reply = await self.link.exchange(message, key)
        except LinkError as exc:
            log.info("%s failed (%s); once more on a new connection", message.mti, exc)
            reply = await self.link.exchange(message, key)
        if reply.response in ("A0", "A3", "77"):
            self.mac_key = None  # the station wants a fresh sign-on
        return reply

    async def inquire(
        self,
        processing: m.Processing = m.Processing.CUSTOMER,
        *,
        customer_no: str | None = None,
        card_serial: bytes | None = None,
        reading: int | None = None,
        days: tuple[int, int] | None = None,
    ) -> m.InquiryResponse:
        self._require_sign_on()
        request = m.InquiryRequest(
            processing=processing,
            terminal_id=self.terminal_id,
            batch=self.batch,
            trace=self.journal.take_trace(),
            customer_no=customer_no,
            card_serial=card_serial,
            reading=reading,
            range=days,
        )
        reply = await self.request(request)
        assert isinstance(reply, m.InquiryResponse)
        return reply

    # --- transactions -----------------------------------------------------------------------

    def order(self, processing: m.Processing, amount_fen: int, **fields: Any) -> Order:
        """A new order with a fresh, persisted trace number."""
        self._require_sign_on()
        return Order(
            processing=processing,
            terminal_id=self.terminal_id,
            batch=self.batch,
            trace=self.journal.take_trace(),
            amount_fen=amount_fen,
            operator=self.operator,
            **fields,
        )

    def card_purchase_order(
        self, card: CardData, info: m.InquiryResponse, amount_fen: int
    ) -> Order:
        """Electricity onto the card in the reader, for the customer and meter the station named.

        The purchase count comes from the card itself: the station's grant must be the next one.
        """
        return self.order(
            m.Processing.CARD_PURCHASE,
            amount_fen,
            customer_no=info.customer_no,
            card_serial=card.info.serial.hex(),
            name=info.name or "",
            address=info.address or "",
            meter={
                "kind": int(info.meter.kind),
                "meter_no": info.meter.meter_no,
                "purchase_count": card.purchase_count,
            },
            cash_fen=amount_fen,
        )

    def view(self, txn: str) -> e.View | None:
        return e.view_from(list(self.journal.entries(txn)))

    async def run(self, order: Order) -> e.Finished:
        """Carry one confirmed order through to the end of the operator's part."""
        self._require_sign_on()
        return await self._execute(order.txn, e.start(order))

    async def _execute(self, txn: str, commands: list[e.Command]) -> e.Finished:
        queue = list(commands)
        while queue:
            command = queue.pop(0)
            if isinstance(command, e.Append):
                self.journal.append(txn, command.event, command.payload)
                continue
            if isinstance(command, e.Finished):
                return command
            view = self.view(txn)
            assert view is not None
            event = await self._effect(txn, view, command)
            queue = e.step(self.view(txn), event, self.repeats) + queue
        view = self.view(txn)
        return e.Finished(view.state if view else State.NEW)

    async def _effect(self, txn: str, view: e.View, command: e.Command) -> e.Event:
        if isinstance(command, e.Send):
            try:
                reply = await self.link.exchange(command.message, self._require_sign_on())
            except LinkError as exc:
                return e.NoAnswer(str(exc))
            if reply.response in ("A0", "A3", "77"):
                self.mac_key = None
            return e.Answered(reply)
        if isinstance(command, e.WriteCard):
            if self.card is None:
                return e.CardDone(None)
            return e.CardDone(await self.card.write_grant(command.grant))
        if isinstance(command, e.CheckCard):
            return e.CardDone(await self._card_carries(command.grant))
        if isinstance(command, e.Print):
            ok, reason = self._print(view, command.reprint)
            return e.Printed(ok, reason)
        if isinstance(command, e.AskOperator):
            return e.OperatorChoice(await self.ask_operator(txn, command.reason))
        raise TypeError(f"unknown command {command!r}")

    async def _card_carries(self, grant: CardGrant) -> bool | None:
        """Whether the card holds the grant (None: the card is not in the reader)."""
        if self.card is None:
            return None
        return await self.card.carries(grant)

    async def resolve_card(self, txn: str) -> e.Finished:
        """The card pulled mid-write is back: learn from it whether the write happened."""
        view = self.view(txn)
        if view is None or view.state is not State.CARD_WRITING or view.grant is None:
            return e.Finished(view.state if view else State.NEW)
        return await self._execute(txn, [e.CheckCard(view.grant)])

    async def cancel(self, txn: str) -> e.Finished:
        """Cancel (撤销) an approved payment of the open batch; the outbox sends the reversal."""
        view = self.view(txn)
        if view is None:
            return e.Finished(State.NEW, message="cancel_not_possible")
        return await self._execute(txn, e.cancel(view, self.batch))

    # --- receipts ---------------------------------------------------------------------------

    def receipt(self, view: e.View, reprint: bool = False) -> Receipt:
        order = view.order
        amounts = (view.approval or {}).get("amounts", {})
        printed_at = datetime.now(UTC)
        approved = self.journal.first(order.txn, "approved")
        if approved is not None:
            printed_at = datetime.fromisoformat(approved.time)
        extra: tuple[tuple[str, str], ...] = ()
        grant = view.grant
        if grant is not None:
            extra = (("购电次数", str(grant.count)),)
        return Receipt(
            utility=self.utility,
            title=TITLES.get(order.processing, "缴费凭证"),
            receipt_no=f"{order.batch:03d}{order.trace:06d}",
            terminal_id=order.terminal_id,
            agent=self.agent_name,
            operator=order.operator,
            customer_no=order.customer_no or "",
            name=order.name,
            address=order.address,
            time=printed_at,
            amount_fen=order.amount_fen,
            cash_fen=order.cash_fen,
            due_fen=order.due_fen,
            credit_fen=amounts.get("CREDIT"),
            months=tuple(ReceiptLine(*line) for line in order.bills),
            station_ref=(view.approval or {}).get("station_ref"),
            extra=extra,
            reprint=reprint,
            mac_key=self.master_key,
        )

    def _print(self, view: e.View, reprint: bool) -> tuple[bool, str]:
        receipt = self.receipt(view, reprint)
        self.last_receipt = receipt
        if self.printer is None:
            return False, "no_printer"
        result = self.printer.print_lines(receipt_lines(receipt, self.paper_mm))
        return bool(result.ok), str(getattr(result, "reason", ""))

    def reprint(self, txn: str) -> tuple[bool, str]:
        """Print a receipt again, marked 重打; journalled like the first."""
        view = self.view(txn)
        if view is None or view.state not in (State.PRINTED, State.COMPLETED):
            return False, "nothing_to_reprint"
        self.journal.append(txn, "printing", {"reprint": True})
        ok, reason = self._print(view, reprint=True)
        self.journal.append(txn, "printed", {"ok": ok, "reason": reason, "reprint": True})
        return ok, reason

    # --- recovery and outbox ----------------------------------------------------------------

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
            if any(isinstance(c, e.Send) for c in commands) and not self.signed_on:
                continue
            results.append((txn, await self._execute(txn, commands)))
        return results

    def pending(self) -> list[outbox.Item]:
        return outbox.pending(self.journal)

    def outbox_status(self, locale: str = "zh_CN") -> list[str]:
        """What is still owed, in plain words, with how often delivery has failed."""
        lines = []
        for item in outbox.pending(self.journal):
            line = item.describe(locale)
            failures = self.delivery_failures.get(item.txn, 0)
            if failures:
                line += (
                    f"（已尝试{failures}次：{self.delivery_problem}）"
                    if locale == "zh_CN"
                    else f" ({failures} failed tries: {self.delivery_problem})"
                )
            lines.append(line)
        return lines

    async def keep_delivering(
        self, stop, first_s: float = 5.0, max_s: float = 600.0, idle_s: float = 300.0
    ) -> None:
        """Background delivery: drain, and on failure wait first_s, doubling up to max_s.

        Never gives up and never drops an item; a newly owed item or ``nudge()`` wakes it.
        """
        wait = first_s
        while not stop.is_set():
            result = await self.drain_outbox()
            if result.remaining == 0:
                wait = first_s
                timeout = idle_s
            else:
                timeout = wait
                wait = min(wait * 2, max_s)
            self._nudged.clear()
            stopping = asyncio.ensure_future(stop.wait())
            nudged = asyncio.ensure_future(self._nudged.wait())
            await asyncio.wait(
                {stopping, nudged}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            for future in (stopping, nudged):
                future.cancel()

    def nudge(self) -> None:
        """Something new is owed (or the link came back): deliver now."""
        self._nudged.set()

    async def drain_outbox(self) -> DrainResult:
        """Deliver owed messages strictly in order; stop at the first that cannot go."""
        result = DrainResult()
        for item in outbox.pending(self.journal):
            if not self.signed_on:
                result.problem = "not_signed_on"
                break
            if not item.delivered_before:
                self.journal.append(item.txn, "delivering", {"kind": item.kind})
            try:
                reply = await self.link.exchange(item.message(), self._require_sign_on())
            except LinkError as exc:
                result.problem = str(exc)
            else:
                if reply.approved:
                    self.journal.append(
                        item.txn, outbox.DONE_EVENT[item.kind], {"code": reply.response}
                    )
                    self.delivery_failures.pop(item.txn, None)
                    result.delivered += 1
                    continue
                if reply.response in ("A0", "A3", "77"):
                    self.mac_key = None
                result.problem = describe(reply.response)
            self.delivery_failures[item.txn] = self.delivery_failures.get(item.txn, 0) + 1
            self.delivery_problem = result.problem
            break
        result.remaining = len(outbox.pending(self.journal))
        return result

    # --- settlement -----------------------------------------------------------------------

    def batch_entries(self, batch: int | None = None) -> dict[int, tuple[TxnKind, int]]:
        """What this terminal holds as posted in the batch: trace -> (kind, amount)."""
        batch = self.batch if batch is None else batch
        prefix = f"{self.terminal_id}/{batch:03d}/"
        posted: dict[int, tuple[TxnKind, int]] = {}
        for txn, state in self.journal.states().items():
            if not txn.startswith(prefix) or state not in POSTED:
                continue
            view = self.view(txn)
            if view is None:
                continue
            posted[view.order.trace] = (KIND_OF[view.order.processing], view.order.amount_fen)
        return posted

    async def settle(self) -> SettlementOutcome:
        from terminal.shell import settlement

        self._require_sign_on()
        drained = await self.drain_outbox()
        if drained.remaining:
            raise StationDeclined("pending_items")
        if any(
            self.journal.state(t) not in FINAL | POSTED for t in self.journal.open_transactions()
        ):
            raise StationDeclined("open_transactions")
        return await settlement.settle(self)
