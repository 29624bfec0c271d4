"""Hand-made messages of every type, with every optional field somewhere: for codec round trips
(``tests/test_protocol.py``) and the fuzzer (``terminal.tools.fuzz``)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from terminal.protocol import messages as m
from terminal.protocol.cardgrant import CardGrant, GrantKind
from terminal.protocol.reconcile import Mismatch, sketch_of
from terminal.protocol.records import (
    Amount,
    Bill,
    KeyBlock,
    ListingEntry,
    MeterInfo,
    MeterKind,
    PaymentRecord,
    StationCommand,
    Summary,
    TerminalStatus,
    TxnKind,
)
from terminal.protocol.routebook import RouteEntry
from terminal.protocol.update_offer import UpdateOffer

TERMINAL = "T0000001"
_WHEN = datetime(2026, 11, 22, 8, 30, tzinfo=UTC)
CUSTOMER = "0100000123"
_SERIAL = bytes.fromhex("5A00000000000123")
_METER = MeterInfo(MeterKind.POSTPAID, "000011112222", 0)
_CARD_METER = MeterInfo(MeterKind.CARD_PREPAID, "000011113333", 4)
_DIGEST = bytes.fromhex("0123456789abcdef")


def typical_messages() -> list[m.Message]:
    """One typical message of every type, requests before their responses."""
    grant = CardGrant(GrantKind.PURCHASE, _SERIAL, CUSTOMER, "000011113333", 5, 10000)
    bills = (Bill(202609, 132, 7035, 0), Bill(202610, 118, 6289, 0))
    return [
        m.SignOnRequest(terminal_id=TERMINAL, trace=1, account="agent01", password=bytes(16)),
        m.SignOnResponse(
            trace=2,
            batch=12,
            time=_WHEN,
            keys=KeyBlock(bytes(16), bytes(4)),
            amounts={Amount.AGENT_LIMIT: 2_000_000, Amount.OFFLINE_LIMIT: 50_000},
            name="城关镇代收点",
        ),
        m.InquiryRequest(terminal_id=TERMINAL, batch=12, trace=2, customer_no=CUSTOMER),
        m.InquiryResponse(
            batch=12,
            trace=2,
            customer_no=CUSTOMER,
            name="王秀英",
            address="青山乡石门村三组18号",
            meter=_METER,
            amounts={Amount.DUE: 13324, Amount.CREDIT: 0},
            bills=bills,
        ),
        m.InquiryRequest(
            processing=m.Processing.CUSTOMER_HISTORY,
            terminal_id=TERMINAL,
            batch=12,
            trace=3,
            customer_no=CUSTOMER,
        ),
        m.InquiryResponse(
            processing=m.Processing.CUSTOMER_HISTORY,
            batch=12,
            trace=3,
            customer_no=CUSTOMER,
            name="王秀英",
            address="青山乡石门村三组18号",
            meter=_METER,
            amounts={Amount.DUE: 13324, Amount.CREDIT: 0, Amount.ARREARS: 13324},
            bills=tuple(Bill(202600 + month, 120, 6500, 6500) for month in range(1, 13)),
            payments=tuple(PaymentRecord(date(2026, month, 5), 6500) for month in range(1, 11)),
        ),
        m.FinancialRequest(
            terminal_id=TERMINAL, batch=12, trace=4, amount_fen=13400, customer_no=CUSTOMER
        ),
        m.FinancialResponse(
            batch=12,
            trace=4,
            station_ref=80123,
            amounts={Amount.CREDIT: 76, Amount.AGENT_LIMIT: 1_986_600},
            verify_code="0123456789",
        ),
        m.FinancialRequest(
            processing=m.Processing.CARD_PURCHASE,
            terminal_id=TERMINAL,
            batch=12,
            trace=5,
            amount_fen=10000,
            customer_no=CUSTOMER,
            card_serial=_SERIAL,
            meter=_CARD_METER,
        ),
        m.FinancialResponse(
            processing=m.Processing.CARD_PURCHASE,
            batch=12,
            trace=5,
            station_ref=80124,
            amounts={Amount.AGENT_LIMIT: 1_976_600},
            grant=grant.signed(bytes(16)),
        ),
        m.AdviceRequest(
            terminal_id=TERMINAL,
            batch=12,
            trace=4,
            amount_fen=13400,
            customer_no=CUSTOMER,
            time=_WHEN,
        ),
        m.AdviceResponse(batch=12, trace=4),
        m.InquiryResponse(  # a route book page (R54)
            processing=m.Processing.ROUTE_BOOK,
            batch=12,
            trace=5,
            range=(1, 8),
            address="城关镇石门村",
            amounts={Amount.COUNT: 300},
            route_book=tuple(
                RouteEntry(f"01{i:08d}", MeterKind.POSTPAID, 13208, 0, 2, "王秀英")
                for i in range(40)
            ),
        ),
        m.AdviceResponse(  # an offline payment's answer (R56)
            processing=m.Processing.OFFLINE_PAYMENT,
            batch=12,
            trace=6,
            amounts={Amount.DUE: 0, Amount.CREDIT: 76},
        ),
        m.ReversalRequest(
            terminal_id=TERMINAL, batch=12, trace=4, amount_fen=13400, customer_no=CUSTOMER
        ),
        m.ReversalResponse(batch=12, trace=4),
        m.SettlementRequest(
            terminal_id=TERMINAL,
            batch=12,
            trace=40,
            amount_fen=1_234_500,
            summary=Summary(96, _DIGEST),
            sketch=sketch_of([(4, TxnKind.BILL_PAYMENT, 13400)]).to_bytes(),
        ),
        m.SettlementResponse(batch=13, trace=41),
        m.SettlementResponse(
            response="95",
            batch=12,
            trace=40,
            amount_fen=1_221_100,
            summary=Summary(95, _DIGEST),
            differences=(Mismatch(4, None), Mismatch(7, ListingEntry(7, TxnKind.PREPAYMENT, 500))),
        ),
        m.DetailRequest(terminal_id=TERMINAL, batch=12, trace=42, range=(1, 48)),
        m.DetailResponse(
            batch=12, trace=42, range=(1, 48), amount_fen=617_000, summary=Summary(48, _DIGEST)
        ),
        m.DetailResponse(
            processing=m.Processing.DETAIL_LISTING,
            batch=12,
            trace=43,
            range=(1, 6),
            listing=tuple(ListingEntry(t, TxnKind.BILL_PAYMENT, 13400) for t in range(1, 7)),
        ),
        m.HeartbeatRequest(
            terminal_id=TERMINAL,
            trace=44,
            status=TerminalStatus(18, True, 80, 0, 0x1A2B, 0x3C4D5E),
            version="0.1.0",
        ),
        m.HeartbeatResponse(trace=44, time=_WHEN, command=StationCommand.NONE),
        m.HeartbeatResponse(
            trace=45,
            time=_WHEN,
            version="0.2.0",
            offer=UpdateOffer(300_293, bytes(range(32)), bytes(64)),
        ),
        m.InquiryRequest(
            processing=m.Processing.UPDATE_CHUNK,
            terminal_id=TERMINAL,
            batch=12,
            trace=46,
            version="0.2.0",
            range=(960, 960),
        ),
        m.InquiryResponse(
            processing=m.Processing.UPDATE_CHUNK,
            batch=12,
            trace=46,
            range=(960, 960),
            chunk=bytes(range(256)) * 3 + bytes(192),
        ),
    ]
