"""SIMCom SIM800 (``CIP*``) and Quectel M26 (``QI*``): the same jobs in two AT dialects.

Each dialect is data — command texts, their final results, their timeouts, and the URC table —
so the driver has one code path. Timeouts follow the modules' manuals: activating the PDP
context may take up to 85 s (SIM800 AT+CIICR) or 150 s (M26 AT+QIACT), opening TCP up to 75 s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

OK = "OK"
ERRORS = ("ERROR", "+CME ERROR", "+CMS ERROR")
IP_LINE = re.compile(r"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$")


@dataclass(frozen=True)
class Command:
    """One AT command with the finals that end it and how long it may take."""

    text: str
    finals: tuple[str, ...] = (OK,)  # a line starting with one of these ends it, successfully
    errors: tuple[str, ...] = ERRORS  # … or unsuccessfully
    timeout: float = 5.0
    data: bytes | None = None  # sent after the ">" prompt
    collect: str | None = None  # prefix of information lines that belong to this reply
    ip_final: bool = False  # the reply is a bare IP address line with no OK (CIFSR, QILOCIP)


@dataclass(frozen=True)
class Dialect:
    """The AT commands and replies of one module family (SIM800, M26)."""

    name: str
    chunk: int = 1460
    urcs: dict[str, str] = field(default_factory=dict)  # line prefix -> link event kind
    ccid: str = "AT+CCID"

    # --- the commands of a bring-up and a connection, in the dialect's words ----------

    def setup(self, apn: str, user: str, password: str) -> list[Command]:
        raise NotImplementedError

    def activate(self) -> list[Command]:
        raise NotImplementedError

    def open(self, host: str, port: int, timeout: float) -> Command:
        raise NotImplementedError

    def send(self, data: bytes) -> Command:
        raise NotImplementedError

    def close(self) -> Command:
        raise NotImplementedError

    def deactivate(self) -> Command:
        raise NotImplementedError


class Sim800(Dialect):
    def setup(self, apn: str, user: str, password: str) -> list[Command]:
        return [
            Command("AT+CIPSHUT", finals=("SHUT OK",), timeout=65),
            Command("AT+CIPMUX=0"),
            Command("AT+CIPHEAD=1"),  # received data as +IPD,<n>:<data>
            Command(f'AT+CSTT="{apn}","{user}","{password}"'),
        ]

    def activate(self) -> list[Command]:
        return [Command("AT+CIICR", timeout=85), Command("AT+CIFSR", ip_final=True, timeout=10)]

    def open(self, host: str, port: int, timeout: float) -> Command:
        return Command(
            f'AT+CIPSTART="TCP","{host}",{port}',
            finals=("CONNECT OK", "ALREADY CONNECT"),
            errors=(*ERRORS, "CONNECT FAIL", "STATE: PDP DEACT"),
            timeout=timeout,
        )

    def send(self, data: bytes) -> Command:
        return Command(
            f"AT+CIPSEND={len(data)}",
            finals=("SEND OK",),
            errors=(*ERRORS, "SEND FAIL"),
            data=data,
            timeout=30,
        )

    def close(self) -> Command:
        return Command("AT+CIPCLOSE=1", finals=("CLOSE OK",), timeout=10)

    def deactivate(self) -> Command:
        return Command("AT+CIPSHUT", finals=("SHUT OK",), timeout=65)


class M26(Dialect):
    def setup(self, apn: str, user: str, password: str) -> list[Command]:
        return [
            Command("AT+QIDEACT", finals=("DEACT OK",), timeout=40),
            Command("AT+QIFGCNT=0"),
            Command(f'AT+QICSGP=1,"{apn}","{user}","{password}"'),
            Command("AT+QIMUX=0"),
            Command("AT+QIMODE=0"),
            Command("AT+QIDNSIP=0"),
            Command("AT+QIHEAD=1"),  # received data as +RECEIVE: 0, <n>
            Command("AT+QIREGAPP"),
        ]

    def activate(self) -> list[Command]:
        return [Command("AT+QIACT", timeout=150), Command("AT+QILOCIP", ip_final=True)]

    def open(self, host: str, port: int, timeout: float) -> Command:
        return Command(
            f'AT+QIOPEN="TCP","{host}",{port}',
            finals=("CONNECT OK", "ALREADY CONNECT"),
            errors=(*ERRORS, "CONNECT FAIL"),
            timeout=timeout,
        )

    def send(self, data: bytes) -> Command:
        return Command(
            f"AT+QISEND={len(data)}",
            finals=("SEND OK",),
            errors=(*ERRORS, "SEND FAIL"),
            data=data,
            timeout=30,
        )

    def close(self) -> Command:
        return Command("AT+QICLOSE", finals=("CLOSE OK",), timeout=10)

    def deactivate(self) -> Command:
        return Command("AT+QIDEACT", finals=("DEACT OK",), timeout=40)


COMMON_URCS = {
    "CLOSED": "closed",
    "RDY": "reboot",
    "+CPIN: NOT READY": "sim_removed",
    "UNDER-VOLTAGE": "power",
    "NORMAL POWER DOWN": "power",
    "+CMTI:": "sms",
}

DIALECTS: dict[str, Dialect] = {
    "sim800": Sim800("sim800", urcs={**COMMON_URCS, "+PDP: DEACT": "pdp_deact"}),
    "m26": M26("m26", urcs={**COMMON_URCS, "+PDP DEACT": "pdp_deact"}, ccid="AT+QCCID"),
}
