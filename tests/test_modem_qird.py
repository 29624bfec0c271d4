"""M26 manual receive (AT+QINDI=1): the host pulls received data with AT+QIRD.

Quectel's TCP/IP application note for the M26 describes the mode: with ``AT+QINDI=1`` the module
keeps what arrives and says ``+QIRDI: <id>,<sc>,<sid>`` (``+QIRDI: 0,1,0`` for the single
connection of a client); the host reads with ``AT+QIRD=0,1,0,<len>`` (``<len>`` at most 1500),
answered ``+QIRD: <ip>:<port>,TCP,<n>``, the n bytes, ``OK`` — or only ``OK`` once nothing is
left. Unlike the SIM800's ``AT+CIPRXGET=2`` the answer does not say how much is still unread, so
the host reads until a read gives nothing; the module reports again only after that. Field logs
of M95/M26 modules show the same lines (``+QIRDI: 0,1,0`` then ``+QIRD: 116.x.x.x:port,TCP,36``).
"""

from __future__ import annotations

import os
import tty

from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.modem.at import ATReader, Data, Line, Prompt
from sim.modem.emulator import ModemEmulator
from tests.test_modem import EchoServer, run
from tests.test_modem_rxget import (
    M26_OPEN,
    M26_READ,
    NASTY,
    ScriptedModule,
    _read,
    connected,
    qird,
    received,
)
from tests.wait_kit import wait_until

READ = M26_READ
CONNECTED = (M26_OPEN, b"\r\nOK\r\n\r\nCONNECT OK\r\n")
EMPTY = b"\r\nOK\r\n"


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=1500), st.integers(1, 40))
def test_a_qird_answer_is_a_line_and_data_by_length_split_anywhere(payload, step):
    stream = qird(payload) + b"\r\n+QIRDI: 0,1,0\r\n"
    reader, got = ATReader(), []
    for i in range(0, len(stream), step):
        got += reader.feed(stream[i : i + step])
    header = Line(f"+QIRD: 10.0.0.1:9583,TCP,{len(payload)}")
    assert got == [header, Data(0, payload), Line("OK"), Line("+QIRDI: 0,1,0")]


def test_reads_until_a_read_gives_nothing_with_a_urc_between_them():
    payload = (NASTY * 40)[:2000]
    module = ScriptedModule(
        [
            CONNECTED,
            (READ, qird(payload[:1500]) + b"\r\n+CGREG: 1\r\n"),
            (READ, qird(payload[1500:])),
            (READ, EMPTY),
        ]
    )

    async def go():
        modem, link = await connected(module, "m26")
        module.push(b"\r\n+QIRDI: 0,1,0\r\n")
        assert await received(link, len(payload)) == payload
        wait_until(lambda: len(module.commands) == 4, 5, "the read that finds nothing")
        assert link.connected and modem.data.empty()
        modem.stop()

    try:
        run(go())
    finally:
        module.close()
    assert module.commands == [M26_OPEN, READ, READ, READ]


def test_emulator_keeps_data_until_read_and_reports_once():
    echo = EchoServer()
    emulator = ModemEmulator(("127.0.0.1", echo.port), "m26")
    master = os.open(emulator.path, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(master)
    reader, seen = ATReader(), list[object]()

    def say(command: bytes, until: object) -> list:
        mark = len(seen)
        os.write(master, command)
        wait_until(lambda: _read(master, reader, seen) or until in seen[mark:], 10, repr(until))
        return seen[mark:]

    try:
        for command in (b"ATE0", b"AT+QINDI=1", b"AT+CGATT=1", b"AT+QIACT"):
            say(command + b"\r", Line("OK"))
        assert Line("+QINDI: 1") in say(b"AT+QINDI?\r", Line("OK"))
        say(b'AT+QIOPEN="TCP","127.0.0.1",%d\r' % echo.port, Line("CONNECT OK"))
        mark, sent = len(seen), 0
        for part in (NASTY, bytes(1400), bytes(200)):
            say(b"AT+QISEND=%d\r" % len(part), Prompt())
            say(part, Line("SEND OK"))
            sent += len(part)
            wait_until(lambda n=sent: len(emulator.rx_buffer) >= n, 10, "the echo in the module")
        _read(master, reader, seen)
        assert seen[mark:].count(Line("+QIRDI: 0,1,0")) == 1  # once, until read empty
        assert Data(0, NASTY) not in seen  # kept in the module, not pushed
        first = say(b"AT+QIRD=0,1,0,1500\r", Line("OK"))
        host = f"127.0.0.1:{echo.port}"
        assert first[:2] == [Line(f"+QIRD: {host},TCP,1500"), Data(0, (NASTY + bytes(1600))[:1500])]
        rest = say(b"AT+QIRD=0,1,0,1500\r", Line("OK"))
        tail = len(NASTY) + 100
        assert rest[:2] == [Line(f"+QIRD: {host},TCP,{tail}"), Data(0, bytes(tail))]
        assert say(b"AT+QIRD=0,1,0,1500\r", Line("OK")) == [Line("OK")]  # nothing left
        assert Line("ERROR") in say(b"AT+QIRD=0,1,0,1501\r", Line("ERROR"))
    finally:
        os.close(master)
        emulator.close()
        echo.close()
