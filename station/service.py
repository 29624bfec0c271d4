"""The station's rules: one request's bytes in, one response's bytes out.

No sockets here (the server carries frames); the clock and the source of fresh keys are given,
so tests can pin them. Every request runs in one ledger transaction: either everything it posts
is committed together with its stored answer, or nothing is and the answer is 96.

The rules an integrator must match are written down in ``docs/protocol.md``; in short:

* a request whose key (terminal, batch, trace) is known gets the stored answer again, posted once;
  the same key with a different request is refused with 94;
* a reversal undoes exactly what its original did, is acknowledged even when the original never
  arrived, and then the original, if it turns up later, is declined with 40;
* cash above what is due becomes prepayment credit;
* settlement compares count, total and digest of the batch and closes it only when they agree.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from station.ledger import Ledger
from station.tariff import bill_fen
from terminal.protocol import keys as keylib
from terminal.protocol import messages as m
from terminal.protocol.cardgrant import CardGrant, GrantKind, card_key
from terminal.protocol.digest import summarize
from terminal.protocol.records import (
    Amount,
    Bill,
    CodecError,
    ListingEntry,
    MeterInfo,
    MeterKind,
    PaymentRecord,
    StationCommand,
    TxnKind,
)

log = logging.getLogger("gridpos.station")

STATION_TZ = timezone(timedelta(hours=8), "CST")  # days for statistics are China's days
BILLS_MAX = 12  # field 55 holds 12 bills
PAYMENTS_MAX = 15  # field 46 holds 15 payments
LISTING_MAX = 28  # field 63 holds 28 entries
LOGIN_ATTEMPTS = 5

RESPONSE_OF: dict[type[m.Message], type[m.Response]] = {
    m.SignOnRequest: m.SignOnResponse,
    m.InquiryRequest: m.InquiryResponse,
    m.FinancialRequest: m.FinancialResponse,
    m.AdviceRequest: m.AdviceResponse,
    m.ReversalRequest: m.ReversalResponse,
    m.SettlementRequest: m.SettlementResponse,
    m.DetailRequest: m.DetailResponse,
    m.HeartbeatRequest: m.HeartbeatResponse,
}

KIND_OF: dict[m.Processing, TxnKind] = {
    m.Processing.BILL_PAYMENT: TxnKind.BILL_PAYMENT,
    m.Processing.PREPAYMENT: TxnKind.PREPAYMENT,
    m.Processing.CARD_PURCHASE: TxnKind.CARD_PURCHASE,
    m.Processing.CARD_REISSUE: TxnKind.CARD_REISSUE,
    m.Processing.CARD_OPEN: TxnKind.CARD_OPEN,
    m.Processing.OFFLINE_PAYMENT: TxnKind.OFFLINE_PAYMENT,
}

# Requests a locked terminal may still make: everything that delivers what it owes.
ALLOWED_WHEN_LOCKED = (
    m.AdviceRequest,
    m.ReversalRequest,
    m.SettlementRequest,
    m.DetailRequest,
    m.HeartbeatRequest,
)


class Declined(Exception):
    """A rule said no: answer with this code, post nothing."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def reply(request: m.Message, code: str, **fields: Any) -> m.Response:
    """The response type of ``request`` with its processing, batch and trace echoed."""
    cls = RESPONSE_OF[type(request)]
    names = {f.name for f in dataclasses.fields(cls)}
    echoed = {
        n: getattr(request, n)
        for n in ("processing", "batch", "trace")
        if n in names and hasattr(request, n)
    }
    return cls(response=code, **{**echoed, **fields})


def fingerprint(request: m.Message) -> str:
    """What makes two requests with one key the same request (the repeat flag does not)."""
    if hasattr(request, "repeat"):
        request = dataclasses.replace(request, repeat=False)
    return hashlib.sha256(m.encode(request, None)).hexdigest()


def password_hash(salt: str, password: str) -> str:
    return hashlib.sha256(f"{salt}:{password}".encode()).hexdigest()


class Station:
    """Applies the protocol's rules to the ledger, one request at a time."""

    def __init__(
        self,
        ledger: Ledger,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        new_key: Callable[[], bytes] = lambda: os.urandom(16),
    ) -> None:
        self.ledger = ledger
        self.clock = clock
        self.new_key = new_key

    # --- entry point ------------------------------------------------------------------------

    def handle(self, data: bytes) -> bytes | None:
        """The answer to one message, or None when the connection must be closed."""
        try:
            request = m.decode(data)
        except CodecError as exc:
            log.warning("malformed message, closing connection: %s", exc)
            return None
        if isinstance(request, m.Response) or type(request) not in RESPONSE_OF:
            log.warning("%s is not a request, closing connection", type(request).__name__)
            return None
        terminal = self.ledger.one(
            "SELECT * FROM terminals WHERE terminal_id = ?", request.terminal_id
        )
        if terminal is None:
            log.warning("unknown terminal %r", request.terminal_id)
            return m.encode(reply(request, "A1"), None)
        if isinstance(request, m.SignOnRequest):
            key = bytes.fromhex(terminal["master_key"])
        elif terminal["mac_key"] is None:
            return m.encode(reply(request, "A3"), None)
        else:
            key = bytes.fromhex(terminal["mac_key"])
        if not m.check_mac(data, key):
            log.warning("%s: bad MAC on %s", request.terminal_id, request.mti)
            return m.encode(reply(request, "A0"), None)
        try:
            with self.ledger.atomic():
                self.ledger.run(
                    "UPDATE terminals SET last_trace = max(last_trace, ?) WHERE terminal_id = ?",
                    request.trace,
                    request.terminal_id,
                )
                if terminal["locked"] and not isinstance(request, ALLOWED_WHEN_LOCKED):
                    response: m.Response = reply(request, "A2")
                else:
                    response = self._dispatch(request, terminal)
                    if isinstance(request, m.SignOnRequest) and response.approved:
                        key = bytes.fromhex(terminal["master_key"])
        except (sqlite3.Error, CodecError, ValueError, KeyError) as exc:
            log.exception("station error on %s %s: %s", request.mti, request.key, exc)
            response = reply(request, "96")
        log.info("%s %s -> %s", request.mti, request.key or request.terminal_id, response.response)
        return m.encode(response, key)

    def _dispatch(self, request: m.Message, terminal: sqlite3.Row) -> m.Response:
        handler = {
            m.SignOnRequest: self._sign_on,
            m.InquiryRequest: self._keyed,
            m.FinancialRequest: self._keyed,
            m.AdviceRequest: self._advice,
            m.ReversalRequest: self._reversal,
            m.SettlementRequest: self._settlement,
            m.DetailRequest: self._detail,
            m.HeartbeatRequest: self._heartbeat,
        }[type(request)]
        return handler(request, terminal)

    def _now(self) -> datetime:
        return self.clock().astimezone(UTC)

    def _today(self) -> date:
        return self._now().astimezone(STATION_TZ).date()

    # --- sign-on and heartbeat ---------------------------------------------------------------

    def _sign_on(self, request: m.SignOnRequest, terminal: sqlite3.Row) -> m.Response:
        db = self.ledger
        operator = db.one("SELECT * FROM operators WHERE account = ?", request.account)
        if operator is None:
            return reply(request, "56")
        if operator["agent_id"] != terminal["agent_id"]:
            return reply(request, "57")
        if operator["locked"]:
            return reply(request, "58")
        master = bytes.fromhex(terminal["master_key"])
        password = keylib.open_password_block(master, request.password, request.trace)
        if (
            password is None
            or password_hash(operator["salt"], password) != operator["password_hash"]
        ):
            failures = operator["failures"] + 1
            locked = int(failures >= LOGIN_ATTEMPTS)
            db.run(
                "UPDATE operators SET failures = ?, locked = ? WHERE account = ?",
                failures,
                locked,
                request.account,
            )
            return reply(request, "58" if locked else "55")
        db.run("UPDATE operators SET failures = 0 WHERE account = ?", request.account)
        mac_key = self.new_key()
        db.run(
            "UPDATE terminals SET mac_key = ? WHERE terminal_id = ?",
            mac_key.hex(),
            request.terminal_id,
        )
        agent = db.one("SELECT * FROM agents WHERE agent_id = ?", terminal["agent_id"])
        last = max(terminal["last_trace"], request.trace)
        return reply(
            request,
            "00",
            trace=last % 999999 + 1,
            batch=terminal["batch"],
            time=self._now(),
            keys=keylib.wrap_key(master, mac_key),
            amounts={
                Amount.AGENT_LIMIT: agent["available_fen"],
                Amount.OFFLINE_LIMIT: agent["offline_limit_fen"],
            },
            name=agent["name"],
        )

    def _heartbeat(self, request: m.HeartbeatRequest, terminal: sqlite3.Row) -> m.Response:
        status = dataclasses.asdict(request.status) if request.status else None
        self.ledger.run(
            "UPDATE terminals SET status = ?, command = 0 WHERE terminal_id = ?",
            json.dumps({"status": status, "version": request.version, "at": str(self._now())}),
            request.terminal_id,
        )
        return reply(request, "00", time=self._now(), command=StationCommand(terminal["command"]))

    # --- keyed requests: inquiries and financial requests --------------------------------

    def _keyed(self, request: m.Message, terminal: sqlite3.Row) -> m.Response:
        db = self.ledger
        row = db.one(
            "SELECT * FROM requests WHERE terminal_id = ? AND batch = ? AND trace = ?",
            *request.key,
        )
        print_ = fingerprint(request)
        if row is not None:
            if row["state"] in ("void", "reversed"):
                return reply(request, "40")  # reversed: a late or repeated original never posts
            if row["fingerprint"] != print_:
                log.warning("%s: key %s reused for a different request", request.mti, request.key)
                return reply(request, "94")
            log.info("repeat of %s: answering with the original", request.key)
            return m.decode(row["response"])
        if request.batch != terminal["batch"]:
            return reply(request, "77")
        posting = Posting()
        try:
            if isinstance(request, m.InquiryRequest):
                response = self._inquiry(request, terminal)
            else:
                response = self._financial(request, terminal, posting)
        except Declined as declined:
            response = reply(request, declined.code)
            posting = Posting()
        financial = isinstance(request, m.FinancialRequest)
        state = ("posted" if response.approved else "declined") if financial else "answered"
        db.run(
            "INSERT INTO requests (terminal_id, batch, trace, fingerprint, kind, customer_no,"
            " amount_fen, state, effects, response, time) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            *request.key,
            print_,
            int(KIND_OF[request.processing]) if financial else None,
            posting.customer_no or getattr(request, "customer_no", None),
            getattr(request, "amount_fen", 0) if financial else 0,
            state,
            json.dumps(posting.effects) if posting.effects else None,
            m.encode(response, None),
            self._now().isoformat(),
        )
        return response

    # --- inquiries ----------------------------------------------------------------------

    def _inquiry(self, request: m.InquiryRequest, terminal: sqlite3.Row) -> m.Response:
        p = m.Processing
        if request.processing in (p.CUSTOMER, p.CUSTOMER_HISTORY, p.METER_BILLING):
            customer = self._customer(request.customer_no, request.card_serial)
            if request.processing == p.METER_BILLING:
                self._bill_reading(request, customer)
                customer = self._customer(customer["customer_no"], None)
            return self._customer_reply(request, customer)
        if request.processing == p.AGENT_STATS:
            count, total = self._day_totals(terminal["terminal_id"], self._today(), self._today())
            agent = self.ledger.one(
                "SELECT available_fen FROM agents WHERE agent_id = ?", terminal["agent_id"]
            )
            return reply(
                request,
                "00",
                amounts={
                    Amount.AGENT_LIMIT: agent["available_fen"],
                    Amount.COUNT: count,
                    Amount.TOTAL: total,
                },
            )
        if request.processing == p.RECONCILE and request.range is not None:
            first, last = (_yymmdd(v) for v in request.range)
            count, total = self._day_totals(terminal["terminal_id"], first, last)
            return reply(request, "00", amounts={Amount.COUNT: count, Amount.TOTAL: total})
        raise Declined("12")

    def _customer(self, customer_no: str | None, serial: bytes | None) -> sqlite3.Row:
        db = self.ledger
        if serial is not None:
            card = db.one("SELECT * FROM cards WHERE serial = ?", serial.hex())
            if card is None or not card["valid"]:
                raise Declined("15")
            if customer_no is not None and customer_no != card["customer_no"]:
                raise Declined("18")
            customer_no = card["customer_no"]
        if customer_no is None:
            raise Declined("12")
        customer = db.one("SELECT * FROM customers WHERE customer_no = ?", customer_no)
        if customer is None:
            raise Declined("14")
        return customer

    def _customer_reply(self, request: m.InquiryRequest, customer: sqlite3.Row) -> m.Response:
        db = self.ledger
        number = customer["customer_no"]
        arrears = db.one(
            "SELECT coalesce(sum(amount_fen - paid_fen), 0) AS due FROM bills"
            " WHERE customer_no = ?",
            number,
        )["due"]
        credit = customer["credit_fen"]
        amounts = {
            Amount.DUE: max(arrears - credit, 0),
            Amount.CREDIT: credit,
            Amount.ARREARS: arrears,
        }
        if request.processing == m.Processing.CUSTOMER_HISTORY:
            rows = db.all(
                "SELECT * FROM bills WHERE customer_no = ? ORDER BY month DESC LIMIT ?",
                number,
                BILLS_MAX,
            )
            rows.reverse()
            paid = db.all(
                "SELECT time, amount_fen FROM requests WHERE customer_no = ? AND state = 'posted'"
                " AND kind IS NOT NULL ORDER BY time DESC LIMIT ?",
                number,
                PAYMENTS_MAX,
            )
            payments: tuple[PaymentRecord, ...] | None = tuple(
                PaymentRecord(
                    datetime.fromisoformat(r["time"]).astimezone(STATION_TZ).date(),
                    r["amount_fen"],
                )
                for r in paid
            )
        else:
            rows = db.all(
                "SELECT * FROM bills WHERE customer_no = ? AND paid_fen < amount_fen"
                " ORDER BY month LIMIT ?",
                number,
                BILLS_MAX,
            )
            payments = None
        return reply(
            request,
            "00",
            customer_no=number,
            name=customer["name"],
            address=customer["address"],
            meter=MeterInfo(
                MeterKind(customer["meter_kind"]), customer["meter_no"], customer["purchase_count"]
            ),
            amounts=amounts,
            bills=tuple(Bill(r["month"], r["kwh"], r["amount_fen"], r["paid_fen"]) for r in rows),
            payments=payments,
        )

    def _bill_reading(self, request: m.InquiryRequest, customer: sqlite3.Row) -> None:
        """On-site reading (抄收一体): bill this month's consumption once."""
        if customer["meter_kind"] != MeterKind.POSTPAID:
            raise Declined("17")
        if request.reading is None:
            raise Declined("12")
        if request.reading < customer["last_reading"]:
            raise Declined("19")
        today = self._today()
        month = today.year * 100 + today.month
        if self.ledger.one(
            "SELECT 1 FROM bills WHERE customer_no = ? AND month = ?",
            customer["customer_no"],
            month,
        ):
            return  # already billed this month: show the bill, do not bill twice
        kwh = (request.reading - customer["last_reading"]) // 10
        self.ledger.run(
            "INSERT INTO bills (customer_no, month, kwh, amount_fen) VALUES (?, ?, ?, ?)",
            customer["customer_no"],
            month,
            kwh,
            bill_fen(kwh),
        )
        self.ledger.run(
            "UPDATE customers SET last_reading = last_reading + ? WHERE customer_no = ?",
            kwh * 10,
            customer["customer_no"],
        )

    def _day_totals(self, terminal_id: str, first: date, last: date) -> tuple[int, int]:
        start = datetime(first.year, first.month, first.day, tzinfo=STATION_TZ)
        end = datetime(last.year, last.month, last.day, tzinfo=STATION_TZ) + timedelta(days=1)
        row = self.ledger.one(
            "SELECT count(*) AS n, coalesce(sum(amount_fen), 0) AS total FROM requests"
            " WHERE terminal_id = ? AND state = 'posted' AND kind IS NOT NULL"
            " AND time >= ? AND time < ?",
            terminal_id,
            start.astimezone(UTC).isoformat(),
            end.astimezone(UTC).isoformat(),
        )
        return row["n"], row["total"]

    # --- financial ----------------------------------------------------------------------

    def _financial(
        self, request: m.FinancialRequest, terminal: sqlite3.Row, posting: Posting
    ) -> m.Response:
        p = m.Processing
        amount = request.amount_fen
        if amount <= 0 and request.processing != p.CARD_OPEN:
            raise Declined("13")
        if amount > int(self.ledger.param("max_payment_fen", "500000")):
            raise Declined("61")
        if request.processing == p.BILL_PAYMENT:
            customer = self._customer(request.customer_no, None)
            if customer["meter_kind"] != MeterKind.POSTPAID:
                raise Declined("17")
            if self._due(customer) <= 0:
                raise Declined("16")
            self._take_limit(terminal, amount, posting)
            self._settle_bills(customer, amount, posting)
            grant = None
        elif request.processing == p.PREPAYMENT:
            customer = self._customer(request.customer_no, None)
            if customer["meter_kind"] == MeterKind.CARD_PREPAID:
                raise Declined("17")
            self._take_limit(terminal, amount, posting)
            self._settle_bills(customer, amount, posting)
            grant = None
        elif request.processing == p.CARD_PURCHASE:
            customer, grant = self._card_purchase(request, terminal, posting)
        elif request.processing == p.CARD_REISSUE:
            customer, grant = self._card_reissue(request, terminal, posting)
        elif request.processing == p.CARD_OPEN:
            customer, grant = self._card_open(request, terminal, posting)
        else:
            raise Declined("12")
        posting.customer_no = customer["customer_no"]
        customer = self._customer(customer["customer_no"], None)
        agent = self.ledger.one(
            "SELECT available_fen FROM agents WHERE agent_id = ?", terminal["agent_id"]
        )
        return reply(
            request,
            "00",
            station_ref=self._next_ref(),
            amounts={
                Amount.DUE: self._due(customer),
                Amount.CREDIT: customer["credit_fen"],
                Amount.AGENT_LIMIT: agent["available_fen"],
            },
            grant=grant,
        )

    def _due(self, customer: sqlite3.Row) -> int:
        arrears = self.ledger.one(
            "SELECT coalesce(sum(amount_fen - paid_fen), 0) AS due FROM bills"
            " WHERE customer_no = ?",
            customer["customer_no"],
        )["due"]
        return max(arrears - customer["credit_fen"], 0)

    def _take_limit(self, terminal: sqlite3.Row, amount: int, posting: Posting) -> None:
        agent = self.ledger.one(
            "SELECT available_fen FROM agents WHERE agent_id = ?", terminal["agent_id"]
        )
        if agent["available_fen"] < amount:
            raise Declined("51")
        self.ledger.run(
            "UPDATE agents SET available_fen = available_fen - ? WHERE agent_id = ?",
            amount,
            terminal["agent_id"],
        )
        posting.effects["agent"] = [terminal["agent_id"], amount]

    def _settle_bills(self, customer: sqlite3.Row, amount: int, posting: Posting) -> None:
        """Cash plus existing credit pays the oldest bills first; the rest is credit."""
        number = customer["customer_no"]
        pool = amount + customer["credit_fen"]
        paid: list[list[int]] = []
        for bill in self.ledger.all(
            "SELECT month, amount_fen - paid_fen AS due FROM bills"
            " WHERE customer_no = ? AND paid_fen < amount_fen ORDER BY month",
            number,
        ):
            part = min(pool, bill["due"])
            if part <= 0:
                break
            self.ledger.run(
                "UPDATE bills SET paid_fen = paid_fen + ? WHERE customer_no = ? AND month = ?",
                part,
                number,
                bill["month"],
            )
            paid.append([bill["month"], part])
            pool -= part
        self.ledger.run("UPDATE customers SET credit_fen = ? WHERE customer_no = ?", pool, number)
        posting.effects["customer"] = number
        posting.effects["bills"] = paid
        posting.effects["credit"] = pool - customer["credit_fen"]

    def _card_master(self) -> bytes:
        return bytes.fromhex(self.ledger.param("card_master_key", "00" * 16) or "00" * 16)

    def _card_purchase(
        self, request: m.FinancialRequest, terminal: sqlite3.Row, posting: Posting
    ) -> tuple[sqlite3.Row, CardGrant]:
        if request.card_serial is None or request.meter is None:
            raise Declined("12")
        customer = self._customer(request.customer_no, request.card_serial)
        if customer["meter_kind"] != MeterKind.CARD_PREPAID:
            raise Declined("17")
        if request.meter.purchase_count != customer["purchase_count"]:
            raise Declined("18")
        self._take_limit(terminal, request.amount_fen, posting)
        count = customer["purchase_count"] + 1
        self._set_count(customer, count, posting)
        grant = CardGrant(
            GrantKind.PURCHASE,
            request.card_serial,
            customer["customer_no"],
            customer["meter_no"],
            count,
            request.amount_fen,
        )
        return customer, grant.signed(card_key(self._card_master(), request.card_serial))

    def _card_reissue(
        self, request: m.FinancialRequest, terminal: sqlite3.Row, posting: Posting
    ) -> tuple[sqlite3.Row, CardGrant]:
        if request.card_serial is None:
            raise Declined("12")
        customer = self._customer(request.customer_no, None)
        if customer["meter_kind"] != MeterKind.CARD_PREPAID:
            raise Declined("17")
        if request.amount_fen != int(self.ledger.param("reissue_fee_fen", "2000") or 0):
            raise Declined("13")
        if self.ledger.one("SELECT 1 FROM cards WHERE serial = ?", request.card_serial.hex()):
            raise Declined("15")
        self._take_limit(terminal, request.amount_fen, posting)
        old = [
            r["serial"]
            for r in self.ledger.all(
                "SELECT serial FROM cards WHERE customer_no = ? AND valid = 1",
                customer["customer_no"],
            )
        ]
        self.ledger.run("UPDATE cards SET valid = 0 WHERE customer_no = ?", customer["customer_no"])
        self._add_card(customer, request.card_serial, posting)
        posting.effects["invalidated"] = old
        grant = CardGrant(
            GrantKind.REISSUE,
            request.card_serial,
            customer["customer_no"],
            customer["meter_no"],
            customer["purchase_count"],
            0,
        )
        return customer, grant.signed(card_key(self._card_master(), request.card_serial))

    def _card_open(
        self, request: m.FinancialRequest, terminal: sqlite3.Row, posting: Posting
    ) -> tuple[sqlite3.Row, CardGrant]:
        if request.card_serial is None:
            raise Declined("12")
        customer = self._customer(request.customer_no, None)
        if customer["meter_kind"] != MeterKind.CARD_PREPAID:
            raise Declined("17")
        if self.ledger.one(
            "SELECT 1 FROM cards WHERE customer_no = ? AND valid = 1", customer["customer_no"]
        ):
            raise Declined("20")
        if self.ledger.one("SELECT 1 FROM cards WHERE serial = ?", request.card_serial.hex()):
            raise Declined("15")
        if request.amount_fen:
            self._take_limit(terminal, request.amount_fen, posting)
        self._add_card(customer, request.card_serial, posting)
        count = customer["purchase_count"] + (1 if request.amount_fen else 0)
        self._set_count(customer, count, posting)
        grant = CardGrant(
            GrantKind.OPEN,
            request.card_serial,
            customer["customer_no"],
            customer["meter_no"],
            count,
            request.amount_fen,
        )
        return customer, grant.signed(card_key(self._card_master(), request.card_serial))

    def _set_count(self, customer: sqlite3.Row, count: int, posting: Posting) -> None:
        self.ledger.run(
            "UPDATE customers SET purchase_count = ? WHERE customer_no = ?",
            count,
            customer["customer_no"],
        )
        posting.effects["customer"] = customer["customer_no"]
        posting.effects["count"] = count - customer["purchase_count"]

    def _add_card(self, customer: sqlite3.Row, serial: bytes, posting: Posting) -> None:
        self.ledger.run(
            "INSERT INTO cards (serial, customer_no) VALUES (?, ?)",
            serial.hex(),
            customer["customer_no"],
        )
        posting.effects["card"] = serial.hex()

    def _next_ref(self) -> int:
        ref = int(self.ledger.param("next_ref", "1") or 1)
        self.ledger.set_param("next_ref", str(ref % 9_999_999_999 + 1))
        return ref

    def _undo(self, effects: dict[str, Any]) -> None:
        """Undo exactly what a posting did, from the record it left."""
        db = self.ledger
        if "agent" in effects:
            agent_id, amount = effects["agent"]
            db.run(
                "UPDATE agents SET available_fen = available_fen + ? WHERE agent_id = ?",
                amount,
                agent_id,
            )
        number = effects.get("customer")
        for month, part in effects.get("bills", []):
            db.run(
                "UPDATE bills SET paid_fen = paid_fen - ? WHERE customer_no = ? AND month = ?",
                part,
                number,
                month,
            )
        if effects.get("credit"):
            db.run(
                "UPDATE customers SET credit_fen = credit_fen - ? WHERE customer_no = ?",
                effects["credit"],
                number,
            )
        if effects.get("count"):
            db.run(
                "UPDATE customers SET purchase_count = purchase_count - ? WHERE customer_no = ?",
                effects["count"],
                number,
            )
        if "card" in effects:
            db.run("DELETE FROM cards WHERE serial = ?", effects["card"])
        for serial in effects.get("invalidated", []):
            db.run("UPDATE cards SET valid = 1 WHERE serial = ?", serial)

    # --- advice, reversal ----------------------------------------------------------------

    def _advice(self, request: m.AdviceRequest, terminal: sqlite3.Row) -> m.Response:
        if request.processing == m.Processing.OFFLINE_PAYMENT:
            return self._offline_payment(request, terminal)
        row = self.ledger.one(
            "SELECT * FROM requests WHERE terminal_id = ? AND batch = ? AND trace = ?",
            *request.key,
        )
        if row is None or row["kind"] is None:
            return reply(request, "25")
        if row["state"] in ("reversed", "void"):
            return reply(request, "40")
        if row["state"] != "posted":
            return reply(request, "25")
        self.ledger.run(
            "UPDATE requests SET confirmed = 1 WHERE terminal_id = ? AND batch = ? AND trace = ?",
            *request.key,
        )
        return reply(request, "00")

    def _offline_payment(self, request: m.AdviceRequest, terminal: sqlite3.Row) -> m.Response:
        """A bill payment taken while the link was down: the cash is taken, so post it."""
        db = self.ledger
        row = db.one(
            "SELECT * FROM requests WHERE terminal_id = ? AND batch = ? AND trace = ?",
            *request.key,
        )
        print_ = fingerprint(request)
        if row is not None:
            if row["state"] in ("void", "reversed"):
                return reply(request, "40")
            if row["fingerprint"] != print_:
                return reply(request, "94")
            return m.decode(row["response"])
        if request.batch > terminal["batch"]:
            return reply(request, "77")
        posting = Posting()
        amount = request.amount_fen or 0
        try:
            if amount <= 0:
                raise Declined("13")
            customer = self._customer(request.customer_no, None)
            if customer["meter_kind"] != MeterKind.POSTPAID:
                raise Declined("17")
            db.run(
                "UPDATE agents SET available_fen = available_fen - ? WHERE agent_id = ?",
                amount,
                terminal["agent_id"],
            )
            posting.effects["agent"] = [terminal["agent_id"], amount]
            self._settle_bills(customer, amount, posting)
            response = reply(request, "00")
        except Declined as declined:
            response = reply(request, declined.code)
            posting = Posting()
        when = request.time or self._now()
        db.run(
            "INSERT INTO requests (terminal_id, batch, trace, fingerprint, kind, customer_no,"
            " amount_fen, state, effects, response, confirmed, time)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,1,?)",
            *request.key,
            print_,
            int(TxnKind.OFFLINE_PAYMENT),
            request.customer_no,
            amount,
            "posted" if response.approved else "declined",
            json.dumps(posting.effects) if posting.effects else None,
            m.encode(response, None),
            when.astimezone(UTC).isoformat(),
        )
        return response

    def _reversal(self, request: m.ReversalRequest, terminal: sqlite3.Row) -> m.Response:
        db = self.ledger
        row = db.one(
            "SELECT * FROM requests WHERE terminal_id = ? AND batch = ? AND trace = ?",
            *request.key,
        )
        if row is None:
            # The original never arrived (or not yet): remember the key so it never posts.
            response = reply(request, "00")
            db.run(
                "INSERT INTO requests (terminal_id, batch, trace, kind, amount_fen, state,"
                " reversal_response, time) VALUES (?,?,?,?,?,'void',?,?)",
                *request.key,
                int(KIND_OF.get(request.processing, TxnKind.BILL_PAYMENT)),
                request.amount_fen,
                m.encode(response, None),
                self._now().isoformat(),
            )
            return response
        if row["state"] in ("reversed", "void"):
            return m.decode(row["reversal_response"])
        if row["kind"] is None:
            return reply(request, "12")  # an inquiry has nothing to reverse
        if row["state"] == "posted":
            if row["amount_fen"] != request.amount_fen:
                return reply(request, "12")
            if row["kind"] == TxnKind.CARD_PURCHASE and row["confirmed"]:
                return reply(request, "12")  # written to the card and read back: final
            self._undo(json.loads(row["effects"] or "{}"))
        response = reply(request, "00")
        db.run(
            "UPDATE requests SET state = 'reversed', reversal_response = ?"
            " WHERE terminal_id = ? AND batch = ? AND trace = ?",
            m.encode(response, None),
            *request.key,
        )
        return response

    # --- settlement and details ----------------------------------------------------------

    def _posted(self, terminal_id: str, batch: int, first: int = 0, last: int = 999999) -> list:
        return self.ledger.all(
            "SELECT trace, kind, amount_fen, confirmed FROM requests WHERE terminal_id = ?"
            " AND batch = ? AND state = 'posted' AND kind IS NOT NULL AND trace BETWEEN ? AND ?"
            " ORDER BY trace",
            terminal_id,
            batch,
            first,
            last,
        )

    def _settlement(self, request: m.SettlementRequest, terminal: sqlite3.Row) -> m.Response:
        db = self.ledger
        stored = db.one(
            "SELECT response FROM settlements WHERE terminal_id = ? AND batch = ?",
            request.terminal_id,
            request.batch,
        )
        if stored is not None:
            return m.decode(stored["response"])
        if request.batch != terminal["batch"]:
            return reply(request, "77")
        rows = self._posted(request.terminal_id, request.batch)
        summary, total = summarize((r["trace"], r["kind"], r["amount_fen"]) for r in rows)
        if summary != request.summary or total != request.amount_fen:
            return reply(request, "95", amount_fen=total, summary=summary)
        next_batch = terminal["batch"] % 999 + 1
        response = reply(request, "00", batch=next_batch, amount_fen=total, summary=summary)
        db.run(
            "UPDATE terminals SET batch = ? WHERE terminal_id = ?", next_batch, request.terminal_id
        )
        db.run(
            "INSERT INTO settlements (terminal_id, batch, response, time) VALUES (?,?,?,?)",
            request.terminal_id,
            request.batch,
            m.encode(response, None),
            self._now().isoformat(),
        )
        return response

    def _detail(self, request: m.DetailRequest, terminal: sqlite3.Row) -> m.Response:
        first, last = request.range
        rows = self._posted(request.terminal_id, request.batch, first, last)
        if request.processing == m.Processing.DETAIL_DIGEST:
            summary, total = summarize((r["trace"], r["kind"], r["amount_fen"]) for r in rows)
            return reply(request, "00", range=request.range, amount_fen=total, summary=summary)
        if request.processing == m.Processing.DETAIL_LISTING:
            if len(rows) > LISTING_MAX:
                return reply(request, "12", range=request.range)
            listing = tuple(
                ListingEntry(r["trace"], TxnKind(r["kind"]), r["amount_fen"], bool(r["confirmed"]))
                for r in rows
            )
            return reply(request, "00", range=request.range, listing=listing)
        return reply(request, "12")


@dataclasses.dataclass
class Posting:
    """What one financial request changed, recorded so that a reversal can undo exactly it."""

    effects: dict[str, Any] = dataclasses.field(default_factory=dict)
    customer_no: str | None = None


def _yymmdd(value: int) -> date:
    try:
        return date(2000 + value // 10000, value // 100 % 100, value % 100)
    except ValueError:
        raise Declined("12") from None
