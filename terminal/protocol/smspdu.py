"""Binary SMS in PDU mode (3GPP TS 23.040): the second path for offline uploads.

When GPRS fails but the module can still send SMS (common in the mountains: the circuit domain
reaches further than the packet domain), an offline payment's 0220 — exactly the bytes the
outbox would put on the TCP connection, MACed with the working key, without the 2-byte frame
length — goes as the 8-bit user data of one SMS-SUBMIT to the station's SMS number. The station
hands the user data to the same front door as a TCP frame (``station.sms_inbox``), so the
repeat store makes whichever path arrives second a harmless repeat (R12, R57).

Pure: ``submit`` gives the PDU for ``AT+CMGS=<length>`` (PDU mode, ``AT+CMGF=0``) and
``read_submit`` reads one back (the emulator's sink, tests).
"""

from __future__ import annotations

from dataclasses import dataclass

from terminal.protocol.records import CodecError

USER_DATA_MAX = 140  # octets of 8-bit user data in one SMS
_SUBMIT = 0x01  # TP-MTI submit, no validity period, no user data header
_DCS_8BIT = 0x04
_INTERNATIONAL, _UNKNOWN = 0x91, 0x81


@dataclass(frozen=True)
class Pdu:
    """What ``AT+CMGS`` takes in PDU mode: the hex text and the TPDU's length in octets (the
    SMSC part, one zero octet for "the SIM's default", is not counted)."""

    hex: str
    length: int


def _semi_octets(digits: str) -> bytes:
    padded = digits + ("F" if len(digits) % 2 else "")
    return bytes.fromhex("".join(padded[i + 1] + padded[i] for i in range(0, len(padded), 2)))


def _digits(data: bytes, count: int) -> str:
    text = "".join(f"{b & 0x0F:X}{b >> 4:X}" for b in data)
    return text[:count]


def submit(number: str, data: bytes) -> Pdu:
    """An SMS-SUBMIT of ``data`` (8-bit) to ``number`` (``+`` and digits)."""
    digits = number.removeprefix("+")
    if not digits.isdigit() or not 1 <= len(digits) <= 20:
        raise CodecError(f"SMS number must be digits: {number!r}")
    if len(data) > USER_DATA_MAX:
        raise CodecError(f"SMS user data of {len(data)} octets, at most {USER_DATA_MAX}")
    kind = _INTERNATIONAL if number.startswith("+") else _UNKNOWN
    tpdu = (
        bytes([_SUBMIT, 0x00, len(digits), kind])
        + _semi_octets(digits)
        + bytes([0x00, _DCS_8BIT, len(data)])
        + data
    )
    return Pdu("00" + tpdu.hex().upper(), len(tpdu))


def read_submit(pdu_hex: str) -> tuple[str, bytes]:
    """(destination number, user data) of an SMS-SUBMIT in PDU mode; ``CodecError`` if it is
    not one this module could have written (8-bit data, no validity period, no header)."""
    try:
        raw = bytes.fromhex(pdu_hex)
        smsc = raw[0]
        tpdu = raw[1 + smsc :]
        first, _mr, count, kind = tpdu[:4]
        size = (count + 1) // 2
        number = _digits(tpdu[4 : 4 + size], count)
        _pid, dcs, length = tpdu[4 + size : 7 + size]
        data = tpdu[7 + size : 7 + size + length]
    except (ValueError, IndexError) as exc:
        raise CodecError(f"not an SMS-SUBMIT PDU: {exc}") from None
    if first & 0x03 != _SUBMIT or dcs != _DCS_8BIT or len(data) != length:
        raise CodecError("not an 8-bit SMS-SUBMIT of this protocol")
    return ("+" if kind == _INTERNATIONAL else "") + number, data
