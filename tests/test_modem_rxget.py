"""SIM800 manual receive (AT+CIPRXGET=1): the host pulls received data by length.

Some SIM800 firmware and boards lose bytes when the module pushes data (``+IPD,<n>:``) at high
rates; in manual mode the module keeps the data, says ``+CIPRXGET: 1`` once, and the host reads
it with ``AT+CIPRXGET=2,<n>`` until nothing is left. Transcripts from the SIM800 AT manual: the
reader alone, a module scripted byte for byte on a real pseudo-terminal (a URC between reads,
ERROR, CLOSED), the emulator's answers to raw commands, the driver against the emulator in both
modes, and a real message between the terminal and the station in manual mode.
"""

from __future__ import annotations

import os
import select
import threading
import tty

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.modem.at import ATReader, Data, Line, Prompt
from drivers.modem.modem import Modem, ModemTransport, Waits
from drivers.transport import LinkError, LinkState
from sim.modem.emulator import LinkModel, ModemEmulator
from tests.test_modem import EchoServer, LinkEvents, exchange, run
from tests.wait_kit import wait_until

NASTY = b"\r\nOK\r\n\x00+CIPRXGET: 1\r\nCLOSED\r\nERROR\r\n\xff> +IPD,3:"  # data, not lines
READ = "AT+CIPRXGET=2,1460"


def rxget(data: bytes, left: int) -> bytes:
    """The module's answer to ``AT+CIPRXGET=2,<n>`` (SIM800 AT manual, single connection)."""
    return b"\r\n+CIPRXGET: 2,%d,%d\r\n" % (len(data), left) + data + b"\r\nOK\r\n"


# --- the reader -------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=1460), st.integers(1, 40))
def test_a_read_answer_is_a_line_and_data_by_length_split_anywhere(payload, step):
    stream = rxget(payload, 7) + b"\r\n+CIPRXGET: 1\r\n"
    reader, got = ATReader(), []
    for i in range(0, len(stream), step):
        got += reader.feed(stream[i : i + step])
    header = Line(f"+CIPRXGET: 2,{len(payload)},7")
    assert got == [header, Data(0, payload), Line("OK"), Line("+CIPRXGET: 1")]


# --- a module scripted byte for byte on a pseudo-terminal -------------------------------------


class ScriptedModule:
    """A module on a real pty answering each expected command with the manual's bytes.

    A command out of turn is answered ERROR, as a module answers a read with nothing to
    read; ``commands`` is what the driver sent, for the transcript to be checked.
    """

    def __init__(self, script: list[tuple[str, bytes]]) -> None:
        self.script = list(script)
        self.commands: list[str] = []
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        """Read and answer until ``close``; never touch the descriptor after it (see there)."""
        buffer = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                return
            buffer += chunk
            while b"\r" in buffer:
                line, buffer = buffer.split(b"\r", 1)
                self._answer(line.decode().strip())

    def _answer(self, command: str) -> None:
        self.commands.append(command)
        if self.script and self.script[0][0] == command:
            os.write(self.master, self.script.pop(0)[1])
        else:
            os.write(self.master, b"\r\nERROR\r\n")

    def push(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> None:
        """Stop the thread before closing: a closed descriptor's number goes to the next file
        the process opens, and a thread still reading and answering on it wrote "ERROR" into a
        later test's SQLite WAL, wiping that station's tables."""
        self._stop.set()
        self._thread.join(5)
        assert not self._thread.is_alive(), "the scripted module did not stop"
        for fd in (self.master, self.slave):
            os.close(fd)


OPEN = 'AT+CIPSTART="TCP","10.0.0.1",9583'
CONNECTED = (OPEN, b"\r\nOK\r\n\r\nCONNECT OK\r\n")
M26_OPEN = 'AT+QIOPEN="TCP","10.0.0.1",9583'
M26_READ = "AT+QIRD=0,1,0,1500"


def qird(data: bytes) -> bytes:
    """The M26's answer to ``AT+QIRD=0,1,0,<len>`` when data was waiting (its TCP/IP note)."""
    return b"\r\n+QIRD: 10.0.0.1:9583,TCP,%d\r\n" % len(data) + data + b"\r\nOK\r\n"


# Manual receive in each dialect: the connection, the report that data waits, the read command
# and the module's answer to a read that leaves more behind.
MANUAL = {
    "sim800": (CONNECTED, b"\r\n+CIPRXGET: 1\r\n", READ, lambda data: rxget(data, 20)),
    "m26": ((M26_OPEN, CONNECTED[1]), b"\r\n+QIRDI: 0,1,0\r\n", M26_READ, qird),
}


async def connected(
    module: ScriptedModule, dialect: str = "sim800"
) -> tuple[Modem, ModemTransport]:
    modem = Modem(module.path, dialect, receive="manual")
    modem.start()
    link = ModemTransport(modem, on_event=LinkEvents(), waits=Waits(poll_s=0.2))
    link.active = True  # the context is up: this transcript starts at the connection
    await link.connect("10.0.0.1", 9583, 5)
    return modem, link


async def received(link: ModemTransport, size: int) -> bytes:
    got = b""
    while len(got) < size:
        got += await link.receive(4096, 5)
    return got


def test_two_reads_with_a_urc_between_them_and_a_binary_payload():
    payload = (NASTY * 40)[:1500]
    module = ScriptedModule(
        [
            CONNECTED,
            (READ, rxget(payload[:1460], 40) + b'\r\n+CREG: 1,"1A2B","3C4D5E"\r\n'),
            (READ, rxget(payload[1460:], 0)),
        ]
    )

    async def go():
        modem, link = await connected(module)
        module.push(b"\r\n+CIPRXGET: 1\r\n")
        assert await received(link, len(payload)) == payload
        assert link.connected and modem.data.empty()
        modem.stop()

    try:
        run(go())
    finally:
        module.close()
    assert module.commands == [OPEN, READ, READ]  # read until nothing was left, not once more


@pytest.mark.parametrize("how", ["error", "closed"])
@pytest.mark.parametrize("dialect", list(MANUAL))
def test_a_read_answered_error_or_closed_between_reads_is_a_broken_link(dialect, how):
    connect, report, read, answer = MANUAL[dialect]
    first = answer(b"0123456789")
    script = [connect, (read, first + b"\r\nCLOSED\r\n" if how == "closed" else first)]
    module = ScriptedModule(script)  # the second read is answered ERROR

    async def go():
        modem, link = await connected(module, dialect)
        module.push(report)
        assert await link.receive(4096, 5) == b"0123456789"  # what came whole is kept
        with pytest.raises(LinkError):
            await link.receive(4096, 5)
        events = link.on_event
        assert isinstance(events, LinkEvents)
        down = [e for e in events.seen if e.state is LinkState.DOWN]
        assert down and ("CLOSED" if how == "closed" else "receive failed") in down[-1].reason
        modem.stop()

    try:
        run(go())
    finally:
        module.close()


# --- the emulator's answers to raw commands ---------------------------------------------------


def test_emulator_keeps_data_until_read_reports_once_and_answers_by_length():
    echo = EchoServer()
    emulator = ModemEmulator(("127.0.0.1", echo.port), "sim800")
    master = os.open(emulator.path, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(master)
    reader, seen = ATReader(), list[object]()

    def say(command: bytes, until: object) -> list:
        """Send one command (or data) and return what came until ``until`` did."""
        mark = len(seen)
        os.write(master, command)
        wait_until(lambda: _read(master, reader, seen) or until in seen[mark:], 10, repr(until))
        return seen[mark:]

    total = len(NASTY) + 2000
    try:
        for command in (b"ATE0", b"AT+CIPRXGET=1", b"AT+CGATT=1", b'AT+CSTT="CMNET"', b"AT+CIICR"):
            say(command + b"\r", Line("OK"))
        assert Line("+CIPRXGET: 1") in say(b"AT+CIPRXGET?\r", Line("OK"))
        say(b'AT+CIPSTART="TCP","127.0.0.1",%d\r' % echo.port, Line("CONNECT OK"))
        say(b"AT+CIPRXGET=1\r", Line("ERROR"))  # only before the connection starts
        mark, sent = len(seen), 0
        for part in (NASTY, bytes(1400), bytes(600)):  # later ones come before any read
            say(b"AT+CIPSEND=%d\r" % len(part), Prompt())
            say(part, Line("SEND OK"))
            sent += len(part)
            echoed = lambda n=sent: len(emulator.rx_buffer) >= n  # noqa: E731
            wait_until(echoed, 10, "the echo in the module")
        _read(master, reader, seen)
        assert seen[mark:].count(Line("+CIPRXGET: 1")) == 1  # once, until read empty
        assert Data(0, NASTY) not in seen  # kept in the module, not pushed
        assert Line(f"+CIPRXGET: 4,{total}") in say(b"AT+CIPRXGET=4\r", Line("OK"))
        first = say(b"AT+CIPRXGET=2,1460\r", Line("OK"))
        assert first[:2] == [
            Line(f"+CIPRXGET: 2,1460,{total - 1460}"),
            Data(0, NASTY + bytes(1460 - len(NASTY))),
        ]
        hexed = say(b"AT+CIPRXGET=3,8\r", Line("OK"))
        assert hexed[:2] == [Line(f"+CIPRXGET: 3,8,{total - 1468}"), Line("0" * 16)]
        last = say(b"AT+CIPRXGET=2,1460\r", Line("OK"))
        assert last[:2] == [Line(f"+CIPRXGET: 2,{total - 1468},0"), Data(0, bytes(total - 1468))]
        say(b"AT+CIPSEND=3\r", Prompt())
        say(b"abc", Line("+CIPRXGET: 1"))  # read empty: the next data is reported again
    finally:
        os.close(master)
        emulator.close()
        echo.close()


def _read(fd: int, reader: ATReader, got: list) -> bool:
    import select

    while select.select([fd], [], [], 0)[0]:
        got += reader.feed(os.read(fd, 4096))
    return False


# --- the driver against the emulator, both modes -------------------------------------------


# Per dialect: the command that opens the connection, the one that sets manual receive (before
# it), and the read. 3.9 KB cannot come in fewer than three reads of 1460 (SIM800) or 1500 (M26).
SETUP = {
    "sim800": ("CIPSTART", "AT+CIPRXGET=1", READ),
    "m26": ("QIOPEN", "AT+QINDI=1", M26_READ),
}


@pytest.mark.parametrize("receive", ["push", "manual"])
@pytest.mark.parametrize("dialect", list(SETUP))
def test_driver_exchanges_binary_data_in_either_mode(dialect, receive):
    echo = EchoServer()
    emulator = ModemEmulator(("127.0.0.1", echo.port), dialect)

    async def go():
        modem = Modem(emulator.path, dialect, receive=receive)
        modem.start()
        link = ModemTransport(modem, link_up_timeout=10, on_event=LinkEvents())
        await link.connect("127.0.0.1", echo.port, 10)
        assert await exchange(link, NASTY) == NASTY
        data = (NASTY + bytes(range(256))) * 12  # more than one read
        assert await exchange(link, data) == data
        await link.close()
        modem.stop()

    try:
        run(go())
    finally:
        emulator.close()
        echo.close()
    opens, manual, read = SETUP[dialect]
    reads = emulator.commands.count(read)
    if receive == "manual":
        start = emulator.commands.index(next(c for c in emulator.commands if opens in c))
        assert emulator.commands.index(manual) < start
        assert reads >= 3
    else:
        assert reads == 0 and manual not in emulator.commands


def test_a_payment_to_the_station_in_manual_mode(station, tmp_path):
    from drivers.printer.escpos_printer import EscPosPrinter
    from offline_queue.journal import Journal
    from station.seed import demo_master_key
    from terminal.core.lifecycle import State
    from terminal.shell.link import StationLink
    from terminal.shell.terminal import Terminal
    from tests.terminal_kit import journal_view, ledger_view, prepay_order

    emulator = ModemEmulator(("127.0.0.1", station.port), "sim800", LinkModel(rtt_s=0.05))

    async def go():
        modem = Modem(emulator.path, "sim800", receive="manual")
        modem.start()
        transport = ModemTransport(modem, link_up_timeout=10)
        # the link is given at construction: the session and delivery keep the one they got
        link = StationLink(lambda: transport, "127.0.0.1", station.port, 10, 5)
        journal = Journal(tmp_path / "journal.db", tmp_path / "journal.key")
        printer = EscPosPrinter("file", str(tmp_path / "printer.out"))
        t = Terminal(journal, link, "T0000001", demo_master_key("T0000001"), printer=printer)
        await t.sign_on("100101", "123456")
        done = await t.run(prepay_order(t, 3000))
        assert done.outcome is State.APPROVED
        await t.drain_outbox()
        assert journal_view(t) == ledger_view(station.ledger.path)
        await t.link.close()
        modem.stop()

    try:
        run(go())
    finally:
        emulator.close()
    assert emulator.commands.count(READ) >= 2  # the answers came by AT+CIPRXGET, not pushed
