"""The station's SMS inbox: offline uploads that came as binary SMS instead of over GPRS.

An SMS gateway (or, in tests and the demo, the module emulator's sink) hands over the user data
of each SMS received on the station's SMS number; it is one protocol message exactly as a TCP
frame would carry it, MACed like any other (R57). It goes through the same front door as a
frame (``Station.handle``): MAC, repeat store, rules. An SMS has no way back to the terminal, so
the answer is only kept in the repeat store; when the same upload then arrives over GPRS (or
came over GPRS first) it is a repeat and gets that answer — whichever path delivers first
posts, the other posts nothing. Only offline payment advices (0220/0221 170200) are taken this
way: anything else is logged and dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from station.envelope import Station
from terminal.protocol import messages as m
from terminal.protocol.records import CodecError
from terminal.protocol.smspdu import read_submit

log = logging.getLogger("gridpos.station.sms")


@dataclass(frozen=True)
class SmsReceived:
    """What became of one SMS: taken (with the station's answer code) or dropped, and why."""

    taken: bool
    code: str = ""
    why: str = ""


class SmsInbox:
    def __init__(self, station: Station) -> None:
        self.station = station

    def receive(self, sender: str, data: bytes) -> SmsReceived:
        """One SMS's 8-bit user data from ``sender``."""
        try:
            request = m.decode(data)
        except CodecError as exc:
            log.warning("SMS from %s: not a message (%s)", sender, exc)
            return SmsReceived(False, why="undecodable")
        if not (
            isinstance(request, m.AdviceRequest)
            and request.processing == m.Processing.OFFLINE_PAYMENT
        ):
            log.warning("SMS from %s: %s is not an offline upload", sender, type(request).__name__)
            return SmsReceived(False, why="not an offline upload")
        answer = self.station.handle(data)
        if answer is None:
            return SmsReceived(False, why="refused")
        code = m.decode(answer)
        log.info("SMS from %s: %s %s -> %s", sender, request.mti, request.key, code.response)
        return SmsReceived(True, code=getattr(code, "response", ""))

    def receive_submit(self, pdu_hex: str, sender: str = "") -> SmsReceived:
        """An SMS-SUBMIT as the module sent it (the emulator's sink)."""
        try:
            _number, data = read_submit(pdu_hex)
        except CodecError as exc:
            log.warning("SMS PDU from %s dropped: %s", sender, exc)
            return SmsReceived(False, why="bad PDU")
        return self.receive(sender, data)
