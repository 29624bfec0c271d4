"""What every conformance check shares: the demo data it expects, the check registry, and the
``Kit`` that holds the signed-on client and what the kit itself has posted in the open batch.

Checks run in the order they are declared, against one fresh demo ledger: later checks rely on
what earlier ones posted (the settlement check settles exactly the kit's own postings). So the
kit keeps its own books — every approved payment, every reversal — and compares the station's
answers with them, the way a terminal would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from terminal.protocol import messages as m
from terminal.protocol.codes import KIND_OF
from terminal.protocol.records import Amount, TxnKind
from terminal.tools.conformance_client import Client, KitError

P = m.Processing
CHINA = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class Demo:
    """The demo ledger the kit expects (the reference station's ``station/seed.py``).

    An integrator loads the same into their station before a run; the kit posts, reverses and
    settles, so the ledger must be fresh each time.
    """

    terminal: str = "T0000001"  # of agent A0001; TMK = demo_master_key(terminal)
    idle_terminal: str = "T0000002"  # known, never signed on during the run (A3)
    unknown_terminal: str = "T9999999"
    operator: str = "100101"  # of agent A0001
    password: str = "123456"
    foreign_operator: str = "200101"  # of agent A0002: 57 on T0000001
    unknown_operator: str = "999999"
    customer: str = "0100000123"  # 王秀英, postpaid, two unpaid months: 69.74 + 62.34 yuan
    customer_name: str = "王秀英"
    customer_due: int = 13208
    customer_reading: int = 234560  # 23456.0 kWh, in 0.1 kWh
    postpaid: tuple[str, ...] = ("0100000001", "0100000002", "0100000003", "0100000004")
    remote: str = "0100000007"  # remote-prepaid, no bills
    card_customer: str = "0100000005"  # card-prepaid with card 5a00000100000005
    card_serial: bytes = bytes.fromhex("5a00000100000005")
    card_count: int = 3  # purchases so far on that card
    cardless: str = "0100000015"  # card-prepaid, no card yet
    unknown_customer: str = "0199999999"
    card_master_key: bytes = bytes.fromhex("47524944504f532d44454d4f2d434d4b")
    reissue_fee: int = 2000
    max_payment: int = 500_000  # the station's limit for one transaction


DEMO = Demo()


class Failed(Exception):
    """A check found the target breaking the contract."""


def expect(condition: object, detail: str) -> None:
    if not condition:
        raise Failed(detail)


# The headings of docs/protocol.md the checks report under, in the document's order.
FRAMING = "Transport and framing"
CODES = "Processing codes (field 3)"
MAC = "Keys and MAC"
SIGN_ON = "Sign-on"
KEYS = REPEATS = "The key, repeats and idempotency"
FINANCIAL = "Financial rules"
REVERSAL = "Reversal (0400, repeat 0401)"
INQUIRY = "Inquiries (0100)"
SETTLEMENT = "Settlement (0500) and details (0320)"
HEARTBEAT = "Heartbeat (0820)"
RECEIPTS = "Receipt verification code (field 37)"
UPDATES = "Software updates (0830 offer, 0100 970000 chunks)"
OFFLINE = "Offline collection"
SECTIONS = (
    FRAMING, CODES, MAC, SIGN_ON, KEYS, FINANCIAL, REVERSAL, INQUIRY, SETTLEMENT, HEARTBEAT,
    RECEIPTS, UPDATES, OFFLINE,
)  # fmt: skip


@dataclass(frozen=True)
class Check:
    section: str  # a heading of docs/protocol.md
    ref: str  # the rule's id in the document (R1, R2, ...: its rule index)
    rule: str  # the check's short name, stable for tests and an integrator's bug reports
    text: str  # the rule in one line
    run: Callable[[Kit], None]


CHECKS: list[Check] = []


def check(
    section: str, ref: str, rule: str, text: str
) -> Callable[[Callable[[Kit], None]], Callable]:
    """Declare a check; order of declaration is order of running."""

    def register(fn: Callable[[Kit], None]) -> Callable[[Kit], None]:
        CHECKS.append(Check(section, ref, rule, text, fn))
        return fn

    return register


@dataclass
class Kit:
    """The signed-on client, and the kit's own books of the open batch."""

    host: str
    port: int
    terminal: str
    master: bytes
    demo: Demo = DEMO
    client: Client | None = None
    posted: dict[int, tuple[TxnKind, int]] = field(default_factory=dict)  # trace -> kind, fen
    sent: dict[int, m.FinancialRequest] = field(default_factory=dict)  # approved, by trace
    keep: dict[str, Any] = field(default_factory=dict)  # what a later check needs

    # --- connections ------------------------------------------------------------------------

    def connect(self, terminal: str | None = None, master: bytes | None = None) -> Client:
        return Client(
            self.host, self.port, terminal or self.terminal, master or self.master
        ).connect()

    @property
    def c(self) -> Client:
        """The kit's signed-on client, reconnected and signed on again when needed."""
        if self.client is None or self.client.sock is None or self.client.mac_key is None:
            self.sign_on()
        assert self.client is not None
        return self.client

    def sign_on(self) -> Any:
        self.drop()
        self.client = self.connect()
        answer = self.client.sign_on(self.demo.operator, self.demo.password)
        if answer.response != "00":
            raise KitError(f"sign-on of the demo operator refused: {answer.response}")
        if self.posted and self.keep.get("batch") not in (None, self.client.batch):
            self.posted.clear()  # a new batch: the kit's books start again
        self.keep["batch"] = self.client.batch
        return answer

    def drop(self) -> None:
        if self.client is not None:
            self.client.close()
        self.client = None

    def need(self, name: str, check: str) -> Any:
        """What an earlier check left for this one; that check's failure stops this one."""
        value = self.keep.get(name)
        if value is None:
            raise Failed(f"needs {check}, which did not complete")
        return value

    # --- requests ---------------------------------------------------------------------------

    def financial(
        self,
        processing: P,
        amount: int,
        customer: str | None,
        *,
        trace: int | None = None,
        batch: int | None = None,
        **extra: Any,
    ) -> m.FinancialRequest:
        """A 0200 of this terminal on a new trace (or the one given), not sent."""
        c = self.c
        return m.FinancialRequest(
            processing=processing,
            terminal_id=c.terminal_id,
            batch=c.batch if batch is None else batch,
            trace=c.next_trace() if trace is None else trace,
            amount_fen=amount,
            customer_no=customer,
            **extra,
        )

    def pay(
        self,
        processing: P,
        amount: int,
        customer: str | None,
        *,
        trace: int | None = None,
        batch: int | None = None,
        **extra: Any,
    ) -> Any:
        """A 0200 on a new trace (or the one given); the kit books it when approved."""
        c = self.c
        request = self.financial(processing, amount, customer, trace=trace, batch=batch, **extra)
        answer = c.ask(request)
        if answer.response == "00" and request.batch == c.batch:
            self.posted[request.trace] = (KIND_OF[processing], amount)
            self.sent[request.trace] = request
        self.keep["last"] = request
        return answer

    @staticmethod
    def completion_of(original: m.FinancialRequest) -> m.AdviceRequest:
        """The 0220 completion advice of ``original``: its key and processing code alone."""
        return m.AdviceRequest(
            processing=original.processing,
            terminal_id=original.terminal_id,
            batch=original.batch,
            trace=original.trace,
        )

    def complete(self, original: m.FinancialRequest) -> Any:
        """Send ``original``'s completion advice; the station's answer."""
        return self.c.ask(self.completion_of(original))

    def reverse(self, original: m.FinancialRequest | m.AdviceRequest, **changes: Any) -> Any:
        """A 0400 naming ``original``'s key and fields (``changes`` to break the rule). The kit's
        books follow the station's answer, as a terminal's would, so that one broken rule does
        not also unbalance the settlement checks."""
        fields: dict[str, Any] = {
            "processing": original.processing,
            "terminal_id": original.terminal_id,
            "batch": original.batch,
            "trace": original.trace,
            "amount_fen": original.amount_fen or 0,
            "customer_no": original.customer_no,
            "card_serial": getattr(original, "card_serial", None),
        }
        fields.update(changes)
        answer = self.c.ask(m.ReversalRequest(**fields))
        if answer.response == "00" and original.batch == self.c.batch:
            self.posted.pop(original.trace, None)  # the station says it is undone: so are the books
        return answer

    def inquire(self, processing: P = P.CUSTOMER, **fields: Any) -> Any:
        c = self.c
        fields.setdefault("batch", c.batch)
        fields.setdefault("trace", c.next_trace())
        return c.ask(m.InquiryRequest(processing=processing, terminal_id=c.terminal_id, **fields))

    def stats(self) -> dict[Amount, int]:
        """The agent's available limit, today's count and total (0100 320000)."""
        answer = self.inquire(P.AGENT_STATS)
        expect(answer.response == "00", f"agent statistics answered {answer.response}")
        expect(answer.amounts is not None, "agent statistics without field 54")
        return dict(answer.amounts)

    def station_day(self) -> int:
        """Today as YYMMDD in China time, from the station's clock in the last 0810."""
        answer = self.c.sign_on_answer
        when = answer.time if answer is not None and answer.time else datetime.now(UTC)
        day = when.astimezone(CHINA).date()
        return (day.year % 100) * 10000 + day.month * 100 + day.day


def code(answer: Any) -> str:
    return str(getattr(answer, "response", "?"))


def expect_code(answer: Any, wanted: str, what: str) -> None:
    expect(code(answer) == wanted, f"{what}: answered {code(answer)}, the document says {wanted}")
