"""What every handler of the station shares: the answer to a request, the refusal that posts
nothing, and the station's clock and day.

It sits below ``envelope``, ``session``, ``postings``, ``settlement`` and ``reports`` so that each
of them can build answers without importing any of the others.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from station.ledger import Ledger
from terminal.protocol import messages as m
from terminal.protocol.codes import PROTOCOL_LEGACY
from terminal.protocol.responses import Code

STATION_TZ = timezone(timedelta(hours=8), "CST")  # days for statistics are China's days

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


class Declined(Exception):
    """A rule said no: answer with this code, post nothing."""

    def __init__(self, code: Code) -> None:
        super().__init__(code)
        self.code = code


def reply(request: m.Message, code: Code, **fields: Any) -> m.Response:
    """The response type of ``request`` with its processing, batch and trace echoed."""
    cls = RESPONSE_OF[type(request)]
    names = {f.name for f in dataclasses.fields(cls)}
    echoed = {
        n: getattr(request, n)
        for n in ("processing", "batch", "trace")
        if n in names and hasattr(request, n)
    }
    return cls(response=code, **{**echoed, **fields})


@dataclasses.dataclass
class Context:
    """The ledger, and the clock and source of fresh keys, which tests pin."""

    ledger: Ledger
    clock: Callable[[], datetime]
    new_key: Callable[[], bytes]

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    def today(self) -> date:
        return self.now().astimezone(STATION_TZ).date()


def spoken(ledger: Ledger, terminal_id: str) -> int:
    """The protocol version agreed at the terminal's last sign-on (R10): which fields it knows.

    Kept as a ledger parameter, so it needs no column of its own in any ledger store; a
    terminal that has not signed on since the station started recording it speaks version 1.
    """
    return int(ledger.param(f"protocol.{terminal_id}", str(PROTOCOL_LEGACY)) or PROTOCOL_LEGACY)


def set_spoken(ledger: Ledger, terminal_id: str, version: int) -> None:
    ledger.set_param(f"protocol.{terminal_id}", str(version))
