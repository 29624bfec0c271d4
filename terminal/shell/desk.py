"""The desk: answers the menu's typed requests with the terminal's shell, one handler each.

The menu machine (``ui.machine``) asks with a request class from ``terminal.core.requests``; the
desk carries it out on the real parts — session, executor, delivery, receipts, the card
service — and answers with a reply class holding facts only (codes, fen, counts), which the
menu puts into the operator's words. Every failure, including a broken link, becomes a reply:
the menu must never be left waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from drivers.transport import LinkError, problem_of
from terminal.core import requests as rq
from terminal.core.engine import Finished
from terminal.core.lifecycle import POSTED, State
from terminal.core.receipt import LOCAL_TZ
from terminal.protocol import messages as m
from terminal.protocol.records import Amount
from terminal.shell.cancel_desk import Cancels
from terminal.shell.delivery import DrainResult
from terminal.shell.executor import OperatorAsk
from terminal.shell.offline import became_credit
from terminal.shell.session import NotSignedOn, StationDeclined
from terminal.shell.terminal import Terminal
from terminal.shell.updates import Updater, handle_update_offer

if TYPE_CHECKING:
    from drivers.card.profile import CardData
    from terminal.shell.beat import Heartbeat

log = logging.getLogger("gridpos.desk")

PENDING_STATES = (State.UNKNOWN, State.SENT, State.CARD_WRITING, State.CANCELLING)
HAND_BACK = {
    "reversal_hand_back_cash": "no_answer",
    "card_not_written_hand_back_cash": "card_not_written",
    "card_other_hand_back_cash": "card_other",
    "card_given_up_hand_back_cash": "card_given_up",
}


class Desk:
    def __init__(
        self,
        terminal: Terminal,
        delivery_first_s: float = 2,
        delivery_max_s: float = 60,
        heartbeat: Heartbeat | None = None,
        supervisor_hash: str = "",
    ):
        self.terminal = terminal
        self.cancels = Cancels(terminal, supervisor_hash)  # cancel (撤销): its own handlers
        self.heartbeat = heartbeat  # sent while signed on; None: only "check network" sends one
        if heartbeat is not None:  # its answers bring update offers too
            heartbeat.on_answer = self.heartbeat_answered
        self.beating: asyncio.Task | None = None
        self.session = terminal.session
        self.delivery_first_s = delivery_first_s
        self.delivery_max_s = delivery_max_s
        self.worker: asyncio.Task | None = None
        self.stop = asyncio.Event()
        self.last_txn: str | None = None
        self.updater: Updater | None = None  # software updates, when the app set them up
        self.lost_with: DrainResult | None = None  # the delivery round current when it was lost

    def set_operator_question(self, ask: OperatorAsk) -> None:
        """Who answers "no reply after every repeat: wait again?" (the menu)."""
        self.terminal.executor.ask_operator = ask

    async def handle(self, request: rq.Request) -> rq.Reply:
        try:
            return await self._handle(request)
        except StationDeclined as exc:
            return rq.Failed(code=exc.code)
        except NotSignedOn:
            if self.session.offline_only:  # signed on with no link: the station needs a sign-on
                return rq.Failed(link="offline_signed_on")
            return rq.Failed(code="A3")
        except LinkError as exc:
            return rq.Failed(link=problem_of(exc))

    async def _handle(self, request: rq.Request) -> rq.Reply:
        match request:
            case rq.SignOn(account, password):
                return await self.sign_on(account, password)
            case rq.Lock():
                self.session.lock()
                return rq.Done()
            case rq.FindCustomer(customer_no, history):
                return await self.find_customer(customer_no, history)
            case rq.BillReading(customer_no, reading):
                return await self.bill_reading(customer_no, reading)
            case rq.ReadCard(purpose):
                return await self.read_card(purpose)
            case rq.Pay():
                return await self.pay(request)
            case rq.ResumeCardWrite(txn):
                return self._paid(txn, await self.terminal.executor.resolve_card(txn))
            case rq.cx.GiveUpCardWrite(txn):
                return self._paid(txn, await self.terminal.executor.give_up_card(txn))
            case rq.cx.FindPayments() | rq.cx.CheckSupervisor() | rq.cx.CancelPayment():
                reply = await self.cancels.handle(request)
                if isinstance(reply, rq.cx.Cancelled) and not reply.refusal:
                    self.last_txn = reply.txn  # a reprint prints its 撤销 receipt
                return reply
            case rq.AgentStats():
                return await self.agent_stats()
            case rq.Reconcile(days):
                return await self.reconcile(days)
            case rq.Settle():
                return await self.settle()
            case rq.ShowPending():
                return self.pending()
            case rq.CheckNetwork():
                return await self.check_network()
            case rq.CheckPrinter():
                ok, reason = await self.terminal.receipts.test_page()
                return rq.PrinterChecked(ok, reason)
            case rq.CheckJournal():
                verdict = self.terminal.journal.verify()
                return rq.JournalChecked(verdict.ok, verdict.entries, verdict.reason)
            case rq.Reprint():
                return await self.reprint()
            case rq.DownloadRouteBook(route):
                return await self.terminal.offline.download(route)
        raise TypeError(f"no handler for {request!r}")

    # --- sign-on and background delivery -----------------------------------------------------

    async def sign_on(self, account: str, password: str) -> rq.Reply:
        try:
            reply = await self.session.sign_on(account, password)
        except LinkError:
            # No link: the operator of the last sign-on may resume it for offline payments.
            why = self.session.resume_offline(account, password)
            if why == "55":
                return rq.Failed(code="55")
            if why is not None or not self.terminal.offline.available():
                raise
            await self.terminal.recover()  # what needs no link (receipts cut off mid-print)
            self.start_delivery()
            return rq.SignedOn(self.session.agent_name, self.session.batch)
        await self.terminal.recover()
        self.start_delivery()
        if self.heartbeat is not None and (self.beating is None or self.beating.done()):
            self.beating = asyncio.create_task(self.heartbeat.keep_beating(self.stop))
        if self.updater is not None:
            self.updater.ready()  # this version works: a trial of it ends well
        return rq.SignedOn(reply.name or "", reply.batch or 0)

    def start_delivery(self) -> None:
        if self.worker is None or self.worker.done():
            self.worker = asyncio.create_task(
                self.terminal.delivery.keep_delivering(
                    self.stop, self.delivery_first_s, self.delivery_max_s
                )
            )

    async def close(self) -> None:
        """Stop the delivery worker (what it owes stays in the journal for the next start)."""
        self.stop.set()
        if self.worker is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.worker, 5)
        if self.beating is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.beating, 5)

    # --- customers and cards -------------------------------------------------------------------

    async def find_customer(self, customer_no: str, history: bool) -> rq.Reply:
        processing = m.Processing.CUSTOMER_HISTORY if history else m.Processing.CUSTOMER
        offline = self.terminal.offline
        still_offline = self.session.offline_only or self._still_offline()
        if not history and offline.available() and still_offline:
            # The link was lost and the outbox has not got through since: do not make the
            # villager wait for another round of attempts, take it against the route book.
            return rq.CustomerFound(offline.find(customer_no))
        try:
            reply = await self.session.inquire(processing, customer_no=customer_no)
        except LinkError:
            if history or not offline.available():
                raise
            self.lost_with = self.terminal.delivery.last
            # No link after the normal attempts: offer the payment against the route book.
            return rq.CustomerFound(offline.find(customer_no))
        return rq.CustomerFound(rq.customer_of(reply))

    def _still_offline(self) -> bool:
        """Lost at the last inquiry, and no delivery round since got through without a link
        problem (the delivery worker keeps trying; its first clean round means it is back)."""
        last = self.terminal.delivery.last
        if self.lost_with is not None and last is not self.lost_with and not last.link:
            self.lost_with = None
        return self.lost_with is not None

    async def bill_reading(self, customer_no: str, reading: int) -> rq.Reply:
        reply = await self.session.inquire(
            m.Processing.METER_BILLING, customer_no=customer_no, reading=reading
        )
        latest = (reply.bills or ())[-1:]
        return rq.MeterBilled(
            rq.customer_of(reply),
            kwh=latest[0].kwh if latest else 0,
            billed_fen=latest[0].amount_fen if latest else 0,
        )

    async def _card(self) -> CardData:
        card: Any = self.terminal.card
        if card is None:
            raise StationDeclined("no_card_reader")
        return await card.read()

    async def read_card(self, purpose: rq.CardPurpose) -> rq.Reply:
        from drivers.card import profile as p
        from drivers.card.diagnosis import diagnose, diagnose_error

        try:
            card = await self._card()
        except p.CardError as exc:
            findings = tuple(diagnose_error(exc))
            if purpose is rq.CardPurpose.DIAGNOSE:
                return rq.CardDiagnosed(findings)
            return rq.CardRefused(findings[:1])
        if purpose is rq.CardPurpose.DIAGNOSE:
            return rq.CardDiagnosed(tuple(diagnose(card)))
        in_hand = rq.CardInHand(card.info.serial.hex(), card.purchase_count)
        if purpose is rq.CardPurpose.BLANK:
            if card.info.type != p.CardType.BLANK:
                return rq.CardRefused(need_blank=True)
            return rq.BlankCard(in_hand)
        reply = await self.session.inquire(card_serial=card.info.serial)
        return rq.CardOwner(rq.customer_of(reply), in_hand)

    # --- money ---------------------------------------------------------------------------------

    async def pay(self, pay: rq.Pay) -> rq.Reply:
        if pay.customer is not None and pay.customer.offline:
            finished, taken = await self.terminal.offline.take(pay)
            self.last_txn = taken.txn
            return rq.Paid(
                rq.PayOutcome.APPROVED,
                taken.txn,
                printed=finished.message != "receipt_not_printed",
                print_reason=finished.print_reason,
                offline_serial=taken.offline_serial,
            )
        order = self.terminal.order(pay)
        self.last_txn = order.txn
        return self._paid(order.txn, await self.terminal.run(order))

    def _paid(self, txn: str, finished: Finished) -> rq.Reply:
        if finished.outcome is State.APPROVED:
            printed = finished.message != "receipt_not_printed"
            return rq.Paid(
                rq.PayOutcome.APPROVED, txn, printed=printed, print_reason=finished.print_reason
            )
        if finished.outcome is State.CARD_WRITING:
            return rq.Paid(rq.PayOutcome.CARD_PULLED, txn)
        if finished.outcome is State.REVERSAL_QUEUED:
            why = HAND_BACK.get(finished.message, "no_answer")
            return rq.Paid(rq.PayOutcome.HAND_BACK_CASH, txn, why=why)
        return rq.Failed(code=finished.code or "96")

    # --- statistics, settlement, admin -------------------------------------------------------

    async def agent_stats(self) -> rq.Reply:
        reply = await self.session.inquire(m.Processing.AGENT_STATS)
        amounts = reply.amounts or {}
        return rq.AgentFigures(
            limit_fen=amounts.get(Amount.AGENT_LIMIT, 0),
            count=amounts.get(Amount.COUNT, 0),
            total_fen=amounts.get(Amount.TOTAL, 0),
            today=tuple(self._posted_today()),
        )

    def _posted_today(self) -> list[rq.PostedToday]:
        journal = self.terminal.journal
        today = datetime.now(LOCAL_TZ).date()
        posted = []
        for txn, state in journal.states().items():
            if state not in POSTED:
                continue
            view = self.terminal.view(txn)
            if view is None or view.approved_at is None:
                continue
            when = datetime.fromisoformat(view.approved_at).astimezone(LOCAL_TZ)
            if when.date() == today:
                posted.append(
                    rq.PostedToday(when, view.order.customer_no or "", view.order.amount_fen)
                )
        return posted

    async def reconcile(self, days: tuple[int, int] | None) -> rq.Reply:
        if days is None:
            today = int(datetime.now(LOCAL_TZ).strftime("%y%m%d"))
            days = (today, today)
        reply = await self.session.inquire(m.Processing.RECONCILE, days=days)
        amounts = reply.amounts or {}
        return rq.ReconcileFigures(
            _day(days[0]), _day(days[1]), amounts.get(Amount.COUNT, 0), amounts.get(Amount.TOTAL, 0)
        )

    async def settle(self) -> rq.Reply:
        from terminal.shell.settlement import NotReadyToSettle

        try:
            outcome = await self.terminal.settle()
        except NotReadyToSettle:
            return rq.SettleBlocked()
        return rq.Settled(
            outcome.balanced,
            outcome.batch,
            outcome.next_batch,
            outcome.count,
            outcome.total_fen,
            tuple(outcome.differences),
        )

    def pending(self) -> rq.Reply:
        self.terminal.delivery.nudge()  # the operator asks what waits: try to deliver it now
        items = self.terminal.delivery.items()
        journal = self.terminal.journal
        for txn in journal.open_transactions():
            state = journal.state(txn)
            if state in PENDING_STATES:
                view = self.terminal.view(txn)
                order = view.order if view else None
                items.append(
                    rq.PendingItem(
                        txn,
                        state.value,
                        customer_no=(order.customer_no or "") if order else "",
                        amount_fen=order.amount_fen if order else 0,
                        trace=order.trace if order else 0,
                    )
                )
        for order, extra in became_credit(journal, self.session.batch):
            items.append(
                rq.PendingItem(
                    order.txn, "offline_credit", order.customer_no or "", extra, order.trace
                )
            )
        return rq.Pending(tuple(items))

    async def check_network(self) -> rq.Reply:
        start = time.monotonic()
        try:
            reply = await self.session.request(
                m.HeartbeatRequest(
                    terminal_id=self.session.terminal_id,
                    trace=self.terminal.journal.take_trace(),
                    version=self.updater.running if self.updater is not None else None,
                )
            )
        except LinkError as exc:
            return rq.NetworkChecked(False, link=problem_of(exc))
        ms = int((time.monotonic() - start) * 1000)
        if not reply.approved:
            return rq.NetworkChecked(False, ms, code=reply.response)
        # an offer is noted (a bad signature refused at once); downloading waits for idle time
        await self.heartbeat_answered(reply, budget_bytes=0)
        return rq.NetworkChecked(True, ms)

    async def heartbeat_answered(self, reply: m.Response, budget_bytes: int | None = None) -> bool:
        """What every 0830 is given to: an update offer is noted, downloaded a budget's worth at
        a time (the updater's own budget when None) and installed when no transaction is open.
        True when a new version was switched to: the program should end to be restarted in it."""
        return await handle_update_offer(
            self.updater,
            reply,
            lambda: bool(self.terminal.journal.open_transactions()),
            budget_bytes,
        )

    async def reprint(self) -> rq.Reply:
        txn = self.last_txn or self._last_printed()
        if txn is None:
            return rq.Reprinted(False, "nothing_to_reprint")
        ok, reason = await self.terminal.receipts.reprint(txn)
        return rq.Reprinted(ok, reason)

    def _last_printed(self) -> str | None:
        last = None
        for txn, state in self.terminal.journal.states().items():
            if state in (State.PRINTED, State.COMPLETED):
                last = txn
        return last

    def status(self, locale: str) -> rq.Status:
        """The status bar; a GPRS module adds its signal, what it waits for and low power."""
        transport = self.terminal.link.transport
        waiting = getattr(transport, "status_key", None) or ""
        return rq.Status(
            bars=getattr(transport, "signal_bars", None) if transport is not None else None,
            link_up=bool(transport is not None and transport.connected),
            pending=len(self.terminal.delivery.pending()),
            paper=self.terminal.receipts.paper,
            time=datetime.now(UTC),
            locale=locale,
            waiting=waiting if waiting.startswith("wait_") else "",
            waiting_s=getattr(transport, "status_seconds", 0),
            low_power=bool(getattr(transport, "low_power", False)),
            offline=self.terminal.offline.waiting_count(),
        )


def _day(yymmdd: int) -> date:
    return date(2000 + yymmdd // 10000, yymmdd // 100 % 100, yymmdd % 100)
