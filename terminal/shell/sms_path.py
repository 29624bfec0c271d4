"""The second path for offline uploads: binary SMS when GPRS fails but the module can send SMS.

The delivery worker calls ``send_waiting`` when an upload could not go over GPRS. Each upload at
the head of the outbox (in order, stopping at the first item that is not an upload: a reversal
owed earlier must not be overtaken) that has never gone by SMS is sent once, as the 0220 the
outbox would send, MACed under the working key (``terminal.protocol.smspdu``). Journal before
effect: ``sms_sending`` is on disk before ``AT+CMGS`` and ``sms_sent`` after the module took
it. An SMS has no answer, so the upload stays owed until the outbox gets the station's 0230 over
GPRS; that is a repeat the station answers from its repeat store when the SMS arrived first
(R57). After a power cut between the two entries the SMS may or may not have gone: it is not
sent again, GPRS still delivers.
"""

from __future__ import annotations

import logging
from typing import Protocol

from drivers.transport import LinkError
from offline_queue.journal import Journal
from offline_queue.outbox import Item
from terminal.protocol import messages as m
from terminal.protocol.smspdu import submit
from terminal.shell.session import Session

log = logging.getLogger("gridpos.sms")


class SmsModem(Protocol):
    async def send_sms_pdu(self, pdu: str, length: int) -> None: ...


class SmsPath:
    def __init__(self, journal: Journal, session: Session, number: str) -> None:
        self.journal = journal
        self.session = session
        self.number = number

    def _modem(self) -> SmsModem | None:
        transport = self.session.link.transport
        return transport if hasattr(transport, "send_sms_pdu") else None  # type: ignore[return-value]

    def _tried(self, txn: str) -> bool:
        return any(e.event == "sms_sending" for e in self.journal.entries(txn))

    async def send_waiting(self, items: list[Item]) -> int:
        """Send the uploads at the head of ``items`` not sent by SMS before; how many went."""
        modem = self._modem()
        if modem is None or not self.number or not self.session.signed_on:
            return 0
        sent = 0
        for item in items:
            if item.kind != "upload":
                break
            if self._tried(item.txn):
                continue
            message = item.message()
            pdu = submit(self.number, m.encode(message, self.session.key()))
            self.journal.append(item.txn, "sms_sending", {"mti": message.mti})
            try:
                await modem.send_sms_pdu(pdu.hex, pdu.length)
            except LinkError as exc:
                log.info("SMS of %s not sent: %s", item.txn, exc)
                break
            self.journal.append(item.txn, "sms_sent", {"to": self.number})
            sent += 1
        return sent
