"""The terminal program's shell: the menu machine wired to the engine, the devices and a display.

``Services`` carries out the machine's requests on the real parts — the terminal shell
(journal, station link), the card service, the printer — and turns every outcome, including
failures, into a ``Reply`` the machine can put into words. ``App`` runs the loop: keys, replies,
the engine's questions and inactivity in; screens out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from drivers.keypad.keys import Key
from drivers.transport import LinkError
from terminal.core.lifecycle import POSTED, State
from terminal.core.money import yuan
from terminal.core.receipt import LOCAL_TZ, test_page_lines
from terminal.protocol import messages as m
from terminal.protocol.records import Amount
from terminal.protocol.responses import describe
from terminal.shell.terminal import NotSignedOn, StationDeclined, Terminal
from ui import machine as mc
from ui.render import Status
from ui.texts import t

log = logging.getLogger("gridpos.ui")

PROCESSING = {
    "pay": m.Processing.BILL_PAYMENT,
    "meter": m.Processing.BILL_PAYMENT,
    "prepay": m.Processing.PREPAYMENT,
    "card": m.Processing.CARD_PURCHASE,
    "open": m.Processing.CARD_OPEN,
    "reissue": m.Processing.CARD_REISSUE,
}


class Services:
    def __init__(self, terminal: Terminal, locale: str = "zh_CN") -> None:
        self.terminal = terminal
        self.locale = locale
        self.customer: dict[str, Any] = {}  # the last customer shown, for the receipt
        self.worker: asyncio.Task | None = None
        self.stop = asyncio.Event()
        self.last_txn: str | None = None
        self.paper: bool | None = True

    def t(self, key: str, **values: object) -> str:
        return t(key, self.locale, **values)

    async def run(self, op: str, args: dict[str, Any]) -> mc.Reply:
        handler = getattr(self, f"op_{op}", None)
        if handler is None:
            return mc.Reply(op, False, {"text": f"unknown request {op}"})
        try:
            return await handler(op, **args)
        except StationDeclined as exc:
            return mc.Reply(op, False, {"code": exc.code, "text": describe(exc.code, self.locale)})
        except NotSignedOn:
            return mc.Reply(op, False, {"code": "A3", "text": describe("A3", self.locale)})
        except LinkError as exc:
            return mc.Reply(op, False, {"link": True, "text": str(exc)})

    # --- sign-on and background delivery ------------------------------------------------------

    async def op_sign_on(self, op: str, account: str, password: str) -> mc.Reply:
        reply = await self.terminal.sign_on(account, password)
        await self.terminal.recover()
        self.start_delivery()
        return mc.Reply(op, True, {"agent": reply.name or "", "batch": reply.batch})

    def start_delivery(self) -> None:
        if self.worker is None or self.worker.done():
            self.worker = asyncio.create_task(self.terminal.keep_delivering(self.stop, 2, 60))

    async def op_lock(self, op: str) -> mc.Reply:
        self.terminal.mac_key = None
        return mc.Reply(op, True)

    # --- inquiries ------------------------------------------------------------------------------

    async def op_inquire(self, op: str, customer_no: str, history: bool = False) -> mc.Reply:
        processing = m.Processing.CUSTOMER_HISTORY if history else m.Processing.CUSTOMER
        reply = await self.terminal.inquire(processing, customer_no=customer_no)
        if not reply.approved:
            raise StationDeclined(reply.response)
        return mc.Reply(op, True, self._customer(reply, history))

    def _customer(self, reply: m.InquiryResponse, history: bool) -> dict[str, Any]:
        amounts = reply.amounts or {}
        data: dict[str, Any] = {
            "customer_no": reply.customer_no,
            "name": reply.name or "",
            "address": reply.address or "",
            "due": amounts.get(Amount.DUE, 0),
            "credit": amounts.get(Amount.CREDIT, 0),
            "arrears": amounts.get(Amount.ARREARS, 0),
        }
        if history:
            data["bills"] = [[b.month, b.kwh, b.amount_fen, b.paid_fen] for b in reply.bills or ()]
            data["payments"] = [(str(p.day), p.amount_fen) for p in reply.payments or ()]
        else:
            data["bills"] = [[b.month, b.kwh, b.due_fen] for b in reply.bills or ()]
        self.customer = data
        return data

    async def op_meter_billing(self, op: str, customer_no: str, reading: int) -> mc.Reply:
        reply = await self.terminal.inquire(
            m.Processing.METER_BILLING, customer_no=customer_no, reading=reading
        )
        if not reply.approved:
            raise StationDeclined(reply.response)
        data = self._customer(reply, False)
        latest = (reply.bills or ())[-1:] or ()
        data["kwh"] = latest[0].kwh if latest else 0
        data["billed"] = latest[0].amount_fen if latest else 0
        return mc.Reply(op, True, data)

    # --- money ----------------------------------------------------------------------------------

    async def op_pay(
        self, op: str, flow: str, amount: int, cash: int, customer_no: str | None
    ) -> mc.Reply:
        t_ = self.terminal
        processing = PROCESSING[flow]
        fields: dict[str, Any] = {"customer_no": customer_no, "cash_fen": cash}
        if flow in ("pay", "meter", "prepay"):
            c = self.customer
            fields.update(
                name=c.get("name", ""),
                address=c.get("address", ""),
                due_fen=c.get("due", 0),
                bills=c.get("bills", []) if flow != "prepay" else [],
            )
        else:
            card = await self._card()
            fields["card_serial"] = card.info.serial.hex()
            if flow == "card":
                c = self.customer
                fields.update(
                    customer_no=c["customer_no"],
                    name=c.get("name", ""),
                    address=c.get("address", ""),
                    meter={
                        "kind": c["meter_kind"],
                        "meter_no": c["meter_no"],
                        "purchase_count": card.purchase_count,
                    },
                )
        order = t_.order(processing, amount, **fields)
        self.last_txn = order.txn
        finished = await t_.run(order)
        t_.nudge()
        return self._outcome(op, order.txn, finished)

    def _outcome(self, op: str, txn: str, finished) -> mc.Reply:
        if finished.outcome is State.APPROVED:
            printed = self.terminal.journal.last(txn, "printed")
            ok = bool(printed and printed.payload.get("ok"))
            reason = printed.payload.get("reason", "") if printed else "no_printer"
            self.paper = ok or reason not in ("printer_no_paper", "printer_paper_ran_out")
            return mc.Reply(
                op, True, {"outcome": "approved", "printed": ok, "print_reason": reason, "txn": txn}
            )
        if finished.outcome is State.CARD_WRITING:
            return mc.Reply(op, True, {"outcome": "card_writing", "txn": txn})
        if finished.outcome is State.REVERSAL_QUEUED:
            return mc.Reply(op, True, {"outcome": finished.message, "txn": txn})
        code = finished.code or "96"
        return mc.Reply(op, False, {"code": code, "text": describe(code, self.locale)})

    async def op_resolve_card(self, op: str, txn: str) -> mc.Reply:
        finished = await self.terminal.resolve_card(txn)
        self.terminal.nudge()
        return self._outcome(op, txn, finished)

    # --- cards ---------------------------------------------------------------------------------

    async def _card(self):
        if self.terminal.card is None:
            raise StationDeclined("no_card_reader")
        return await self.terminal.card.read()

    async def op_card_read(self, op: str, flow: str) -> mc.Reply:
        from drivers.card import profile as p
        from drivers.card.diagnosis import diagnose, diagnose_error

        try:
            card = await self._card()
        except p.CardError as exc:
            if flow == "diag":
                return mc.Reply(
                    op, True, {"findings": [f.text(self.locale) for f in diagnose_error(exc)]}
                )
            return mc.Reply(op, False, {"text": diagnose_error(exc)[0].text(self.locale)})
        if flow == "diag":
            return mc.Reply(op, True, {"findings": [f.text(self.locale) for f in diagnose(card)]})
        if flow in ("open", "reissue"):
            if card.info.type != p.CardType.BLANK:
                return mc.Reply(op, False, {"text": self.t("insert_blank")})
            return mc.Reply(op, True, {"serial": card.info.serial.hex()})
        reply = await self.terminal.inquire(card_serial=card.info.serial)
        if not reply.approved:
            raise StationDeclined(reply.response)
        data = self._customer(reply, False)
        data.update(
            serial=card.info.serial.hex().upper(),
            count=card.purchase_count,
            meter_kind=int(reply.meter.kind) if reply.meter else 2,
            meter_no=reply.meter.meter_no if reply.meter else "",
        )
        self.customer = data
        return mc.Reply(op, True, data)

    # --- statistics, settlement, admin -------------------------------------------------------

    async def op_stats(self, op: str) -> mc.Reply:
        reply = await self.terminal.inquire(m.Processing.AGENT_STATS)
        if not reply.approved:
            raise StationDeclined(reply.response)
        a = reply.amounts or {}
        lines = [
            self.t("limit", limit=yuan(a.get(Amount.AGENT_LIMIT, 0))),
            self.t("today", count=a.get(Amount.COUNT, 0), total=yuan(a.get(Amount.TOTAL, 0))),
        ]
        today = datetime.now(LOCAL_TZ).date()
        for txn, state in self.terminal.journal.states().items():
            if state not in POSTED:
                continue
            view = self.terminal.view(txn)
            approved = self.terminal.journal.first(txn, "approved")
            if view is None or approved is None:
                continue
            when = datetime.fromisoformat(approved.time).astimezone(LOCAL_TZ)
            if when.date() == today:
                lines.append(
                    f"{when:%H:%M} {view.order.customer_no or ''} {yuan(view.order.amount_fen)}元"
                )
        return mc.Reply(op, True, {"lines": lines})

    async def op_reconcile(self, op: str, days: tuple[int, int] | None) -> mc.Reply:
        if days is None:
            today = int(datetime.now(LOCAL_TZ).strftime("%y%m%d"))
            days = (today, today)
        reply = await self.terminal.inquire(m.Processing.RECONCILE, days=tuple(days))
        if not reply.approved:
            raise StationDeclined(reply.response)
        a = reply.amounts or {}
        return mc.Reply(
            op,
            True,
            {
                "lines": [
                    f"{days[0]:06d}-{days[1]:06d}",
                    self.t(
                        "reconciled",
                        count=a.get(Amount.COUNT, 0),
                        total=yuan(a.get(Amount.TOTAL, 0)),
                    ),
                ]
            },
        )

    async def op_settle(self, op: str) -> mc.Reply:
        try:
            outcome = await self.terminal.settle()
        except StationDeclined as exc:
            if exc.code in ("pending_items", "open_transactions"):
                return mc.Reply(op, True, {"lines": [self.t("settle_blocked")]})
            raise
        if outcome.balanced:
            lines = [
                self.t(
                    "settled",
                    result=self.t("balanced"),
                    batch=outcome.batch,
                    next=outcome.next_batch,
                    count=outcome.count,
                    total=yuan(outcome.total_fen),
                )
            ]
        else:
            lines = [self.t("unsettled", count=len(outcome.differences))]
        return mc.Reply(op, True, {"lines": lines + outcome.differences})

    async def op_pending(self, op: str) -> mc.Reply:
        lines = self.terminal.outbox_status(self.locale)
        for txn in self.terminal.journal.open_transactions():
            state = self.terminal.journal.state(txn)
            if state in (State.UNKNOWN, State.SENT, State.CARD_WRITING):
                lines.append(f"{txn.split('/', 1)[1]} {state.value}")
        return mc.Reply(op, True, {"lines": lines or [self.t("nothing_pending")]})

    async def op_network(self, op: str) -> mc.Reply:
        start = time.monotonic()
        try:
            reply = await self.terminal.request(
                m.HeartbeatRequest(
                    terminal_id=self.terminal.terminal_id, trace=self.terminal.journal.take_trace()
                )
            )
        except LinkError as exc:
            return mc.Reply(op, True, {"lines": [self.t("network_bad", reason=str(exc))]})
        ms = int((time.monotonic() - start) * 1000)
        lines = (
            [self.t("network_ok", ms=ms)]
            if reply.approved
            else [describe(reply.response, self.locale)]
        )
        return mc.Reply(op, True, {"lines": lines})

    async def op_printer(self, op: str) -> mc.Reply:
        printer = self.terminal.printer
        if printer is None:
            return mc.Reply(
                op, True, {"lines": [self.t("printer_bad", reason=self.t("no_printer"))]}
            )
        result = await asyncio.to_thread(
            printer.print_lines, test_page_lines(self.terminal.paper_mm)
        )
        self.paper = result.ok or result.reason not in ("printer_no_paper", "printer_paper_ran_out")
        if result.ok:
            return mc.Reply(op, True, {"lines": [self.t("printer_ok")]})
        return mc.Reply(op, True, {"lines": [self.t("printer_bad", reason=self.t(result.reason))]})

    async def op_journal(self, op: str) -> mc.Reply:
        verdict = self.terminal.journal.verify()
        if verdict.ok:
            return mc.Reply(op, True, {"lines": [self.t("journal_ok", count=verdict.entries)]})
        return mc.Reply(op, True, {"lines": [self.t("journal_bad", reason=verdict.reason)]})

    async def op_reprint(self, op: str) -> mc.Reply:
        txn = self.last_txn or self._last_printed()
        if txn is None:
            return mc.Reply(op, True, {"lines": [self.t("nothing_to_reprint")]})
        ok, reason = self.terminal.reprint(txn)  # the journal is this thread's
        self.paper = ok or reason not in ("printer_no_paper", "printer_paper_ran_out")
        if ok:
            return mc.Reply(op, True, {"lines": [self.t("reprinted")]})
        return mc.Reply(op, True, {"lines": [self.t("printer_bad", reason=self.t(reason))]})

    def _last_printed(self) -> str | None:
        last = None
        for txn, state in self.terminal.journal.states().items():
            if state in (State.PRINTED, State.COMPLETED):
                last = txn
        return last

    def status(self) -> Status:
        link = self.terminal.link._transport
        bars = getattr(link, "signal_bars", None) if link is not None else None
        return Status(
            bars=bars,
            link_up=bool(link is not None and link.connected),
            pending=len(self.terminal.pending()),
            paper=self.paper,
            time=datetime.now(UTC),
            locale=self.locale,
        )


class App:
    def __init__(
        self,
        services: Services,
        keys: AsyncIterator[Key],
        draw: Callable[[mc.Screen, Status], None],
        limits: mc.Limits,
        idle_timeout_s: float = 120,
        locale: str = "zh_CN",
    ) -> None:
        self.services = services
        self.keys = keys
        self.draw = draw
        self.machine = mc.Machine(locale, limits)
        self.idle_timeout_s = idle_timeout_s
        self.events: asyncio.Queue = asyncio.Queue()
        self.answer: asyncio.Future[bool] | None = None
        self.screen: mc.Screen | None = None
        self._tasks: set[asyncio.Task] = set()
        services.terminal.ask_operator = self._ask

    async def _ask(self, txn: str, reason: str) -> bool:
        self.answer = asyncio.get_running_loop().create_future()
        await self.events.put(mc.Asked(reason))
        return await self.answer

    async def _read_keys(self) -> None:
        async for key in self.keys:
            await self.events.put(mc.Press(key))
        await self.events.put(None)

    async def run(self) -> None:
        reader = asyncio.create_task(self._read_keys())
        self._apply(self.machine.start())
        printer = self.services.terminal.printer
        if printer is not None and hasattr(printer, "warm_up"):
            self._tasks.add(asyncio.create_task(asyncio.to_thread(printer.warm_up)))
        last_key = time.monotonic()
        try:
            while True:
                try:
                    event = await asyncio.wait_for(self.events.get(), 1.0)
                except TimeoutError:
                    if time.monotonic() - last_key > self.idle_timeout_s:
                        last_key = time.monotonic()
                        self._apply(self.machine.handle(mc.Idle()))
                    self._redraw()
                    continue
                if event is None:
                    break
                if isinstance(event, mc.Press):
                    last_key = time.monotonic()
                self._apply(self.machine.handle(event))
        finally:
            reader.cancel()
            self.services.stop.set()
            if self.services.worker is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.services.worker, 5)

    def _apply(self, commands: list) -> None:
        for command in commands:
            if isinstance(command, mc.Show):
                self.screen = command.screen
                self.services.locale = self.machine.locale
                self._redraw()
            elif isinstance(command, mc.Do):
                task = asyncio.create_task(self._do(command))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            elif (
                isinstance(command, mc.Answer)
                and self.answer is not None
                and not self.answer.done()
            ):
                self.answer.set_result(command.wait_again)

    def _redraw(self) -> None:
        if self.screen is not None:
            self.draw(self.screen, self.services.status())

    async def _do(self, command: mc.Do) -> None:
        try:
            reply = await self.services.run(command.op, dict(command.args))
        except Exception as exc:  # a bug must not freeze the terminal: say so and go on
            log.exception("request %s failed", command.op)
            reply = mc.Reply(command.op, False, {"text": f"{type(exc).__name__}: {exc}"})
        await self.events.put(reply)
