"""One order builder for every kind of payment, and the order it builds.

An ``Order`` is everything needed to send, repeat, reverse and print one transaction. It is
journalled once, as the ``created`` entry's payload (``to_payload``), and read back from there
only after a restart: within a run the executor keeps it in memory.

``build`` is the only place a payment's order is put together, whatever the flow: the menu's
``Pay`` request, a card purchase in a test, a fault campaign's worker all come through it.
Settlement adopts a posting the station holds and the journal lost with ``adopted``, which
records only what the station listed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from terminal.core.cash import Tender
from terminal.core.requests import CardInHand, Customer, Pay, PayFlow
from terminal.protocol import messages as m
from terminal.protocol.codes import KIND_OF
from terminal.protocol.records import MeterInfo, MeterKind, TxnKind

CARD_KINDS = frozenset(
    {m.Processing.CARD_PURCHASE, m.Processing.CARD_REISSUE, m.Processing.CARD_OPEN}
)
PROCESSING_OF_FLOW = {
    PayFlow.BILL: m.Processing.BILL_PAYMENT,
    PayFlow.PREPAY: m.Processing.PREPAYMENT,
    PayFlow.CARD: m.Processing.CARD_PURCHASE,
    PayFlow.OPEN: m.Processing.CARD_OPEN,
    PayFlow.REISSUE: m.Processing.CARD_REISSUE,
}


@dataclass(frozen=True)
class OrderIds:
    """Who takes the payment and under which key: terminal, open batch, fresh trace, operator."""

    terminal_id: str
    batch: int
    trace: int
    operator: str = ""


@dataclass(frozen=True)
class Order:
    """Everything needed to send, repeat, reverse and print one transaction."""

    processing: m.Processing
    terminal_id: str
    batch: int
    trace: int
    amount_fen: int  # what the station is asked to post
    customer_no: str | None = None
    cash_fen: int = 0  # what the operator took in hand
    card_serial: str | None = None  # hex
    meter: dict[str, Any] | None = None  # kind, meter_no, purchase_count read from the card
    name: str = ""
    address: str = ""
    due_fen: int = 0  # what was due when the operator confirmed, for the receipt
    bills: list[list[int]] = field(default_factory=list)  # [month, kwh, due_fen] paid now
    operator: str = ""
    offline_serial: int = 0  # taken offline: the receipt's own 离线 number (1, 2, …)

    @property
    def txn(self) -> str:
        return txn_key(self.terminal_id, self.batch, self.trace)

    @property
    def tender(self) -> Tender:
        """The cash the operator confirmed: change is read from here, nowhere else."""
        return Tender(self.amount_fen, self.cash_fen, self.due_fen)

    @property
    def kind(self) -> TxnKind:
        return KIND_OF[self.processing]

    def to_payload(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["processing"] = int(self.processing)
        return data

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Order:
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        values["processing"] = m.Processing(values["processing"])
        return cls(**values)

    def request(self) -> m.FinancialRequest:
        meter = None
        if self.meter is not None:
            meter = MeterInfo(
                MeterKind(self.meter["kind"]), self.meter["meter_no"], self.meter["purchase_count"]
            )
        return m.FinancialRequest(**self._named(), card_serial=self._serial(), meter=meter)

    def reversal(self, repeat: bool) -> m.ReversalRequest:
        return m.ReversalRequest(**self._named(), card_serial=self._serial(), repeat=repeat)

    def completion(self, repeat: bool) -> m.AdviceRequest:
        return m.AdviceRequest(**self._named(), repeat=repeat)

    def _named(self) -> dict:
        """What the request, its reversal and its completion all name: code, key, money, who."""
        return {
            "processing": self.processing,
            "terminal_id": self.terminal_id,
            "batch": self.batch,
            "trace": self.trace,
            "amount_fen": self.amount_fen,
            "customer_no": self.customer_no,
        }

    def _serial(self) -> bytes | None:
        return bytes.fromhex(self.card_serial) if self.card_serial else None


def txn_key(terminal_id: str, batch: int, trace: int) -> str:
    return f"{terminal_id}/{batch:03d}/{trace:06d}"


def build(pay: Pay, ids: OrderIds) -> Order:
    """The order for a confirmed payment of any flow."""
    customer = pay.customer or Customer("")
    tender = pay.tender
    fields: dict[str, Any] = {
        "customer_no": customer.customer_no or None,
        "name": customer.name,
        "address": customer.address,
        "cash_fen": tender.cash_fen,
    }
    if pay.flow is PayFlow.BILL:
        fields["due_fen"] = tender.due_fen
        fields["bills"] = [[b.month, b.kwh, b.due_fen] for b in customer.bills]
    if pay.card is not None:
        fields["card_serial"] = pay.card.serial
    if pay.flow is PayFlow.CARD:
        fields["meter"] = _meter_payload(customer.meter, pay.card)
    return Order(
        processing=PROCESSING_OF_FLOW[pay.flow],
        terminal_id=ids.terminal_id,
        batch=ids.batch,
        trace=ids.trace,
        amount_fen=tender.amount_fen,
        operator=ids.operator,
        **fields,
    )


def _meter_payload(meter: MeterInfo | None, card: CardInHand | None) -> dict[str, Any]:
    """The meter the station named, with the purchase count read from the card itself: the
    station's grant must be the card's next purchase."""
    if meter is None or card is None:
        raise ValueError("a card purchase needs the customer's meter and the card in hand")
    return {
        "kind": int(meter.kind),
        "meter_no": meter.meter_no,
        "purchase_count": card.purchase_count,
    }
