"""One request's bytes in, one response's bytes out: the station's front door.

No sockets here (the server carries frames). In order: decode (an undecodable message or a
response closes the connection), find the terminal (A1), check the MAC under the right key (A3,
A0), refuse a locked terminal what it may not do (A2), answer a repeat from the repeat store, then
hand the request to the module whose job it is. Every request runs in one ledger transaction:
either everything it posts is committed together with its stored answer, or nothing is and the
answer is 96.

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
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from station import keychange, postings, receipts, reports, session, settlement, updates
from station.answers import RESPONSE_OF, Context, Declined, reply
from station.ledger import Ledger, Row
from terminal.protocol import messages as m
from terminal.protocol.codes import FINANCIAL, KIND_OF
from terminal.protocol.records import CodecError
from terminal.protocol.responses import Code

log = logging.getLogger("gridpos.station")

# Requests a locked terminal may still make: everything that delivers what it owes.
ALLOWED_WHEN_LOCKED = (
    m.AdviceRequest,
    m.ReversalRequest,
    m.SettlementRequest,
    m.DetailRequest,
    m.HeartbeatRequest,
)

P = m.Processing
# The processing codes (field 3) each request may carry; any other is answered 12 (R3). A
# reversal repeats its original's code, so it takes the online financial codes only.
PROCESSING_FOR: dict[type[m.Message], frozenset[int]] = {
    m.SignOnRequest: frozenset({P.SIGN_ON, P.KEY_CHANGE}),
    m.InquiryRequest: frozenset(
        {P.CUSTOMER, P.CUSTOMER_HISTORY, P.AGENT_STATS, P.METER_BILLING, P.RECONCILE}
        | {P.UPDATE_CHUNK}
        | {P.ROUTE_BOOK}
    ),
    m.FinancialRequest: FINANCIAL - {P.OFFLINE_PAYMENT},
    m.AdviceRequest: FINANCIAL,
    m.ReversalRequest: FINANCIAL - {P.OFFLINE_PAYMENT},
    m.SettlementRequest: frozenset({P.SETTLEMENT}),
    m.DetailRequest: frozenset({P.DETAIL_DIGEST, P.DETAIL_LISTING}),
    m.HeartbeatRequest: frozenset({P.HEARTBEAT}),
}
TRACE_FIRST, TRACE_LAST = 1, 999999  # field 11's range (R2); 0 is never a trace

Handler = Callable[[Context, Any, Row], m.Response]
Keyed = Callable[[Context, Any, Row, postings.Posting], m.Response]


def fingerprint(request: m.Message) -> str:
    """What makes two requests with one key the same request (the repeat flag does not)."""
    if hasattr(request, "repeat"):
        request = dataclasses.replace(request, repeat=False)
    return hashlib.sha256(m.encode(request, None)).hexdigest()


def _invalid(ctx: Context, request: Any, terminal: Row, _: postings.Posting) -> m.Response:
    raise Declined(Code.INVALID)


def _inquiry(
    ctx: Context, request: m.InquiryRequest, terminal: Row, _: postings.Posting
) -> m.Response:
    return reports.inquiry(ctx, request, terminal)  # posts nothing: its record stays empty


class Station:
    """Applies the protocol's rules to the ledger, one request at a time."""

    def __init__(
        self,
        ledger: Ledger,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        new_key: Callable[[], bytes] = lambda: os.urandom(16),
    ) -> None:
        self.ledger = ledger
        self.context = Context(ledger, clock, new_key)

    def handle(self, data: bytes) -> bytes | None:
        """The answer to one message, or None when the connection must be closed.

        Only a stream out of step (a message that does not decode, or a response) closes the
        connection; every request that decodes gets an answer, 96 when the station itself failed,
        since a terminal that gets no answer repeats the request until it does.
        """
        try:
            request = m.decode(data)
        except CodecError as exc:
            log.warning("malformed message, closing connection: %s", exc)
            return None
        if isinstance(request, m.Response) or type(request) not in RESPONSE_OF:
            log.warning("%s is not a request, closing connection", type(request).__name__)
            return None
        key: bytes | None = None
        try:
            terminal = self.ledger.terminal(request.terminal_id)
            if terminal is None:
                log.warning("unknown terminal %r", request.terminal_id)
                return m.encode(reply(request, Code.UNKNOWN_TERMINAL), None)
            if isinstance(request, m.SignOnRequest):
                key = keychange.master_key_for(self.ledger, request, terminal)
            elif terminal["mac_key"] is None:
                return m.encode(reply(request, Code.NOT_SIGNED_ON), None)
            else:
                key = bytes.fromhex(terminal["mac_key"])
            if not m.check_mac(data, key):
                log.warning("%s: bad MAC on %s", request.terminal_id, request.mti)
                return m.encode(reply(request, Code.MAC_ERROR), None)
            with self.ledger.atomic():
                terminal = self.ledger.lock_terminal(request.terminal_id) or terminal
                response = self._checked(request, terminal)
                answer = m.encode(response, key)  # inside: an answer that cannot go posts nothing
        except Exception as exc:  # the last line: any failure answers 96 (R5)
            log.exception("station error on %s %s: %s", request.mti, request.key, exc)
            response = reply(request, Code.SYSTEM_ERROR)
            answer = m.encode(response, key)
        log.info("%s %s -> %s", request.mti, request.key or request.terminal_id, response.response)
        return answer

    def _checked(self, request: m.Message, terminal: Row) -> m.Response:
        """The rules every request meets before its handler: trace range, lock, processing."""
        trace = getattr(request, "trace", 0)
        if not TRACE_FIRST <= trace <= TRACE_LAST:
            log.warning("%s: trace %s outside %s-%s", request.mti, trace, TRACE_FIRST, TRACE_LAST)
            return reply(request, Code.INVALID)
        self.ledger.saw_trace(request.terminal_id, trace)
        if terminal["locked"] and not isinstance(request, ALLOWED_WHEN_LOCKED):
            return reply(request, Code.TERMINAL_LOCKED)
        if getattr(request, "processing", None) not in PROCESSING_FOR[type(request)]:
            if isinstance(request, (m.InquiryRequest, m.FinancialRequest)):
                return self._keyed(request, terminal, _invalid)  # stored like any decline
            return reply(request, Code.INVALID)
        return self._dispatch(request, terminal)

    def _dispatch(self, request: m.Message, terminal: Row) -> m.Response:
        if isinstance(request, m.InquiryRequest) and request.processing == P.UPDATE_CHUNK:
            return updates.chunk(self.context, request, terminal)  # the same bytes every time
        if isinstance(request, m.InquiryRequest):
            return self._keyed(request, terminal, _inquiry)
        if isinstance(request, m.FinancialRequest):
            return self._keyed(request, terminal, postings.financial)
        if isinstance(request, m.AdviceRequest):
            if request.processing == m.Processing.OFFLINE_PAYMENT:
                return self._keyed(request, terminal, postings.offline_payment)
            return postings.completion(self.context, request, terminal)
        handler: Handler = {
            m.SignOnRequest: session.sign_on,
            m.ReversalRequest: postings.reversal,
            m.SettlementRequest: settlement.settle,
            m.DetailRequest: settlement.detail,
            m.HeartbeatRequest: session.heartbeat,
        }[type(request)]
        return handler(self.context, request, terminal)

    # --- the repeat store ---------------------------------------------------------------------

    def _keyed(self, request: Any, terminal: Row, handler: Keyed) -> m.Response:
        """Inquiries, financial requests and offline payments: stored under their key with the
        answer, so that a repeat gets the same answer and is never posted twice."""
        row = self.ledger.request(request.key)
        print_ = fingerprint(request)
        if row is not None:
            if row["state"] in ("void", "reversed"):
                return reply(request, Code.REVERSED)  # a late or repeated original never posts
            if row["fingerprint"] != print_:
                log.warning("%s: key %s reused for a different request", request.mti, request.key)
                return reply(request, Code.KEY_REUSED)
            log.info("repeat of %s: answering with the original", request.key)
            return m.decode(row["response"])
        offline = isinstance(request, m.AdviceRequest)
        # An offline payment may come from a batch closed since; everything else only from the
        # open batch.
        if (request.batch > terminal["batch"]) if offline else (request.batch != terminal["batch"]):
            return reply(request, Code.BATCH_MISMATCH)
        posting = postings.Posting()
        try:
            response = handler(self.context, request, terminal, posting)
        except Declined as declined:
            response = reply(request, declined.code)
            posting = postings.Posting()
        financial = not isinstance(request, m.InquiryRequest)
        when = (offline and request.time) or self.context.now()
        kind = KIND_OF.get(request.processing) if financial else None
        customer_no = posting.customer_no or request.customer_no
        if kind is not None:
            # What a reversal must name again, field for field (R31).
            posting.effects["request"] = postings.identity(request)
            response = receipts.with_code(self.ledger, request, response, customer_no, when)
        self.ledger.add_request(
            request.key,
            ("posted" if response.approved else "declined") if financial else "answered",
            None if kind is None else int(kind),
            customer_no,
            (request.amount_fen or 0) if financial else 0,
            fingerprint=print_,
            effects=json.dumps(posting.effects) if posting.effects else None,
            response=m.encode(response, None),
            confirmed=offline,  # the cash of an offline payment is taken: nothing to complete
            time=when.astimezone(UTC).isoformat(),
        )
        return response
