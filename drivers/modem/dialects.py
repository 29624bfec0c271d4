"""SIMCom SIM800 (``CIP*``) and Quectel M26 (``QI*``): the same jobs in two AT dialects.

Each dialect is data — command texts, their final results, the form of the line that carries
their value, their timeouts, and the URC table — so the driver has one code path. Timeouts
follow the modules' manuals: activating the PDP context may take up to 85 s (SIM800 AT+CIICR)
or 150 s (M26 AT+QIACT), opening TCP up to 75 s, AT+CIPSHUT 65 s, AT+QIDEACT 40 s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from drivers.transport import LinkError

OK = "OK"
ERRORS = ("ERROR", "+CME ERROR", "+CMS ERROR")
IP_LINE = re.compile(r"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$")

# The form of the line each query answers with; nothing else is ever its value.
ICCID = re.compile(r"^(?:\+Q?CCID: ?)?(\d{19,20})F?$")  # SIM800 AT+CCID, M26 AT+QCCID
IMEI = re.compile(r"^(?:\+CGSN: ?)?(\d{15})$")
CREG = re.compile(  # +CREG: <n>,<stat>[,<lac>,<ci>]; the URC has no <n>: +CREG: <stat>[,…]
    r'^\+CREG: ?[0-2],([0-5])(?:,"?([0-9A-Fa-f]{1,4})"?,"?([0-9A-Fa-f]{1,8})"?)?'
)
CPIN = re.compile(r"^\+CPIN: ?([A-Z][A-Z -]*)$")
CSQ = re.compile(r"^\+CSQ: ?(\d{1,2}),(\d{1,2})$")
COPS = re.compile(r'^\+COPS: ?\d(?:,\d,"([^"]*)")?')
RXGET_READ = re.compile(r"^\+CIPRXGET: ?2,(\d{1,5}),(\d{1,5})$")  # <read now>,<still unread>
RXGET_MAX = 1460  # the most one AT+CIPRXGET=2,<n> may ask for (SIM800 manual)
QIRD_READ = re.compile(r"^\+QIRD: ?[^,]*,(?:TCP|UDP),(\d{1,5})$")  # <ip>:<port>,TCP,<read now>
QIRD_MAX = 1500  # the most one AT+QIRD=0,1,0,<len> may ask for (M26 TCP/IP note)


@dataclass(frozen=True)
class Command:
    """One AT command with the finals that end it and how long it may take."""

    text: str
    finals: tuple[str, ...] = (OK,)  # a line starting with one of these ends it, successfully
    errors: tuple[str, ...] = ERRORS  # … or unsuccessfully
    timeout: float = 5.0
    data: bytes | None = None  # sent after the ">" prompt
    answer: re.Pattern[str] | None = None  # the form of the line that carries the value
    ip_final: bool = False  # the reply is a bare IP address line with no OK (CIFSR, QILOCIP)
    link: bool = False  # opens or uses the connection: CLOSED or PDP DEACT ends it at once

    @property
    def distinct(self) -> tuple[str, ...]:
        """Finals no other command shares: a late one is recognised as this command's."""
        return tuple(f for f in (*self.finals, *self.errors) if f not in (OK, *ERRORS))


@dataclass(frozen=True)
class Dialect:
    """The AT commands and replies of one module family (SIM800, M26)."""

    name: str
    chunk: int = 1460
    urcs: dict[str, str] = field(default_factory=dict)  # line prefix -> link event kind
    ccid: str = "AT+CCID"
    receive_modes: tuple[str, ...] = ("push",)  # how received data may reach the host

    def setup(self, apn: str, user: str, password: str, receive: str = "push") -> list[Command]:
        raise NotImplementedError

    def read(self) -> Command:
        """Manual receive: pull up to one chunk of what the module holds."""
        raise NotImplementedError

    def read_progress(self, value: tuple[str, ...] | None, command: str) -> tuple[int, bool]:
        """A read's answer as (bytes it gave, whether to read again)."""
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


SEND_FINALS = ("SEND OK", "DATA ACCEPT:")  # DATA ACCEPT:<n> when AT+CIPQSEND=1


class Sim800(Dialect):
    def setup(self, apn: str, user: str, password: str, receive: str = "push") -> list[Command]:
        # Manual receive (AT+CIPRXGET=1) must be set before the connection starts; push mode
        # sends nothing for it, so firmware without AT+CIPRXGET still comes up.
        manual = [Command("AT+CIPRXGET=1")] if receive == "manual" else []
        return [
            self.deactivate(),
            Command("AT+CIPMUX=0"),
            Command("AT+CIPHEAD=1"),  # received data as +IPD,<n>:<data>
            Command("AT+CIPQSEND=0"),  # the mode we expect: SEND OK after the peer's ACK
            *manual,
            Command(f'AT+CSTT="{apn}","{user}","{password}"'),
        ]

    def read(self) -> Command:
        # The answer line carries the lengths; its n data bytes follow it (``at.RXGET``).
        return Command(f"AT+CIPRXGET=2,{RXGET_MAX}", answer=RXGET_READ, link=True)

    def read_progress(self, value: tuple[str, ...] | None, command: str) -> tuple[int, bool]:
        # The answer says how much is still unread: read until that is 0.
        if value is None:
            raise LinkError(f"{command}: no +CIPRXGET: 2 line in the answer")
        got, left = int(value[0]), int(value[1])
        if not got and left:  # would ask for ever
            raise LinkError(f"{command}: {left} bytes unread, none given")
        return got, left > 0

    def activate(self) -> list[Command]:
        return [
            Command("AT+CIICR", timeout=85, link=True),
            Command("AT+CIFSR", ip_final=True, timeout=10),
        ]

    def open(self, host: str, port: int, timeout: float) -> Command:
        return Command(
            f'AT+CIPSTART="TCP","{host}",{port}',
            finals=("CONNECT OK", "ALREADY CONNECT"),
            errors=(*ERRORS, "CONNECT FAIL", "STATE: PDP DEACT"),
            timeout=timeout,
            link=True,
        )

    def send(self, data: bytes) -> Command:
        return Command(
            f"AT+CIPSEND={len(data)}",
            finals=SEND_FINALS,
            errors=(*ERRORS, "SEND FAIL"),
            data=data,
            timeout=30,
            link=True,
        )

    def close(self) -> Command:
        return Command("AT+CIPCLOSE=1", finals=("CLOSE OK",), timeout=10)

    def deactivate(self) -> Command:
        return Command("AT+CIPSHUT", finals=("SHUT OK",), timeout=65)


class M26(Dialect):
    def setup(self, apn: str, user: str, password: str, receive: str = "push") -> list[Command]:
        # Manual receive (AT+QINDI=1): the module keeps data, says "+QIRDI: 0,1,0", and the host
        # reads it with AT+QIRD; push mode sends nothing for it.
        manual = [Command("AT+QINDI=1")] if receive == "manual" else []
        return [
            self.deactivate(),
            Command("AT+QIFGCNT=0"),
            Command(f'AT+QICSGP=1,"{apn}","{user}","{password}"'),
            Command("AT+QIMUX=0"),
            Command("AT+QIMODE=0"),
            Command("AT+QIDNSIP=0"),
            Command("AT+QIHEAD=1"),  # received data with a length header (IPD<n>: / +RECEIVE)
            *manual,
            Command("AT+QIREGAPP"),
        ]

    def read(self) -> Command:
        # The answer is "+QIRD: <ip>:<port>,TCP,<n>", the n bytes (``at.QIRD``), OK; or only OK
        # when nothing is left. It does not say how much is still unread.
        return Command(f"AT+QIRD=0,1,0,{QIRD_MAX}", answer=QIRD_READ, link=True)

    def read_progress(self, value: tuple[str, ...] | None, command: str) -> tuple[int, bool]:
        # Read until a read gives nothing: the module reports "+QIRDI" again only after that.
        got = int(value[0]) if value is not None else 0
        return got, got > 0

    def activate(self) -> list[Command]:
        return [Command("AT+QIACT", timeout=150, link=True), Command("AT+QILOCIP", ip_final=True)]

    def open(self, host: str, port: int, timeout: float) -> Command:
        return Command(
            f'AT+QIOPEN="TCP","{host}",{port}',
            finals=("CONNECT OK", "ALREADY CONNECT"),
            errors=(*ERRORS, "CONNECT FAIL"),
            timeout=timeout,
            link=True,
        )

    def send(self, data: bytes) -> Command:
        return Command(
            f"AT+QISEND={len(data)}",
            finals=SEND_FINALS,
            errors=(*ERRORS, "SEND FAIL"),
            data=data,
            timeout=30,
            link=True,
        )

    def close(self) -> Command:
        return Command("AT+QICLOSE", finals=("CLOSE OK",), timeout=10)

    def deactivate(self) -> Command:
        return Command("AT+QIDEACT", finals=("DEACT OK",), timeout=40)


# Lines the module sends on its own. "info" is noted and dropped; "ready" is a readiness line
# after power-up; the others end or mark the link.
COMMON_URCS = {
    "CLOSED": "closed",
    "RDY": "reboot",
    "+CPIN: NOT READY": "sim_removed",
    "UNDER-VOLTAGE WARNNING": "power_warning",  # SIMCom's spelling
    "UNDER-VOLTAGE WARNING": "power_warning",
    "OVER-VOLTAGE WARNNING": "power_warning",
    "OVER-VOLTAGE WARNING": "power_warning",
    "UNDER-VOLTAGE POWER DOWN": "power_down",
    "OVER-VOLTAGE POWER DOWN": "power_down",
    "NORMAL POWER DOWN": "power_down",
    "+CMTI:": "sms",
    "Call Ready": "ready",
    "SMS Ready": "ready",
    "+CPIN: READY": "info",
    "+CFUN:": "info",
    "*PSUTTZ": "info",
    "DST:": "info",
    "+CTZV": "info",
    "+CIEV": "info",
    "+QNITZ": "info",
    "RECV FROM:": "info",
}

DIALECTS: dict[str, Dialect] = {
    "sim800": Sim800(
        "sim800",
        # "+CIPRXGET: 1" (and "+CIPRXGET: 1,<ip>:<port>" with AT+CIPSRIP=1): data is waiting
        urcs={**COMMON_URCS, "+PDP: DEACT": "pdp_deact", "+CIPRXGET: 1": "rx_ready"},
        receive_modes=("push", "manual"),
    ),
    "m26": M26(
        "m26",
        # "+QIRDI: <id>,<sc>,<sid>" after AT+QINDI=1: data is waiting in the module
        urcs={**COMMON_URCS, "+PDP DEACT": "pdp_deact", "+QIRDI:": "rx_ready"},
        ccid="AT+QCCID",
        receive_modes=("push", "manual"),
    ),
}
