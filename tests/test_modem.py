"""The GPRS driver: AT transcripts, a reader no byte stream can crash, and the real driver
against the module emulator over a pseudo-terminal, in both dialects, with every fault."""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
import time
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.modem.at import ATReader, Data, Line, Prompt
from drivers.modem.channel import ModemTimeout
from drivers.modem.modem import Modem, ModemError, ModemTransport, Waits, csq_bars
from drivers.modem.replies import Owed
from drivers.transport import LinkError, LinkEvent, LinkState, problem_of
from sim.modem.emulator import LinkModel, ModemEmulator
from tests.wait_kit import wait_until

# --- transcripts ----------------------------------------------------------------------------


def events(*chunks):
    reader = ATReader()
    out = []
    for chunk in chunks:
        out += reader.feed(chunk)
    return out


def test_reply_with_a_urc_in_the_middle():
    got = events(b"AT+CSQ\r\r\n+CSQ: 21,0\r\n\r\n+PDP: DEACT\r\n\r\nOK\r\n")
    assert got == [Line("AT+CSQ"), Line("+CSQ: 21,0"), Line("+PDP: DEACT"), Line("OK")]


def test_prompt_without_line_end():
    assert events(b"AT+CIPSEND=5\r\r\n> ") == [Line("AT+CIPSEND=5"), Prompt()]


def test_binary_data_is_read_by_length_even_with_line_ends_inside():
    payload = b"\r\nOK\r\n\x00\xff>"
    got = events(b"\r\n+IPD,", b"9:" + payload[:4], payload[4:] + b"\r\nCLOSED\r\n")
    assert got == [Data(0, payload), Line("CLOSED")]
    quectel = events(b"\r\n+RECEIVE: 0, 3\r\n\x00\r\nSEND OK\r\n")
    assert quectel == [Data(0, b"\x00\r\n"), Line("SEND OK")]


def test_nul_bytes_and_blank_lines_are_ignored():
    assert events(b"\x00\x00\r\n\r\nO\x00K\r\n") == [Line("OK")]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=20))
def test_any_byte_stream_never_crashes_the_reader(chunks):
    reader = ATReader()
    for chunk in chunks:
        for event in reader.feed(chunk):
            assert isinstance(event, Line | Prompt | Data)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=1460), st.integers(1, 50))
def test_data_survives_any_split(payload, step):
    stream = b"\r\n+IPD,%d:" % len(payload) + payload + b"\r\nOK\r\n"
    reader = ATReader()
    got = []
    for i in range(0, len(stream), step):
        got += reader.feed(stream[i : i + step])
    assert got == [Data(0, payload), Line("OK")]


def test_signal_bars():
    assert [csq_bars(c) for c in (99, 0, 5, 12, 17, 25)] == [0, 0, 1, 2, 3, 4]


# --- the driver against the emulator ---------------------------------------------------------


class EchoServer:
    """A loopback TCP peer that sends back what it gets."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    def _echo(self, conn):
        with conn:
            while data := conn.recv(4096):
                conn.sendall(data)

    def close(self):
        self.sock.close()


@pytest.fixture
def echo():
    server = EchoServer()
    yield server
    server.close()


async def exchange(link, data, timeout=10.0):
    await link.send(data)
    got = b""
    while len(got) < len(data):
        got += await link.receive(4096, timeout)
    return got


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 120))


class LinkEvents:
    """A transport's ``on_event``: the events it reported, and a wait for the one expected."""

    def __init__(self) -> None:
        self.seen: list[LinkEvent] = []
        self._new = asyncio.Event()

    def __call__(self, event: LinkEvent) -> None:
        self.seen.append(event)
        self._new.set()

    async def wait_for(self, text: str, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not any(text in event.reason for event in self.seen):
                self._new.clear()
                await self._new.wait()


@pytest.fixture(params=["sim800", "m26"])
def rig(request, echo):
    emulator = ModemEmulator(("127.0.0.1", echo.port), request.param)

    async def start():
        modem = Modem(emulator.path, request.param)
        modem.start()
        waits = Waits(boot_s=5, sim_s=3, register_s=1, poll_s=0.2)
        return modem, ModemTransport(modem, link_up_timeout=10, on_event=LinkEvents(), waits=waits)

    yield emulator, start
    emulator.close()


def test_bring_up_and_4k_exchange_in_chunks(rig, echo):
    emulator, start = rig

    async def go():
        modem, link = await start()
        info = await link.bring_up()
        assert info.sim == "READY" and info.registered and info.bars == 4
        assert info.operator == "CHINA MOBILE" and info.cell == 0x3C4D5E and info.lac == 0x1A2B
        assert info.imei == "861234056789012" and info.iccid.startswith("8986")
        assert info.ip.count(".") == 3
        await link.connect("127.0.0.1", echo.port, 10)
        data = bytes(range(256)) * 16
        assert await exchange(link, data) == data
        await link.close()
        modem.stop()

    run(go())
    sends = [c for c in emulator.commands if "CIPSEND=" in c or "QISEND=" in c]
    assert [int(c.split("=")[1]) for c in sends] == [1460, 1460, 1176]
    assert '"CMNET"' in emulator.apn  # APN from the operator when none is configured


FAULTS = {
    "pdp deact": "PDP DEACT",
    "closed": "CLOSED",
    "reboot": "reset",
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_ends_in_a_link_event_and_the_link_recovers(rig, echo, fault):
    emulator, start = rig

    async def go():
        modem, link = await start()
        await link.connect("127.0.0.1", echo.port, 10)
        assert await exchange(link, b"hello") == b"hello"
        emulator.control(fault)
        with pytest.raises(LinkError):
            await link.receive(4096, 5)
        down = [e for e in link.on_event.seen if e.state is LinkState.DOWN]
        assert down and FAULTS[fault] in down[-1].reason
        await link.connect("127.0.0.1", echo.port, 10)
        assert await exchange(link, b"again") == b"again"
        modem.stop()

    run(go())


def test_send_fail_and_drops_in_either_direction(rig, echo):
    emulator, start = rig

    async def go():
        modem, link = await start()
        await link.connect("127.0.0.1", echo.port, 10)
        emulator.control("send fail")
        with pytest.raises(LinkError, match="SEND FAIL"):
            await link.send(b"x")
        await link.connect("127.0.0.1", echo.port, 10)
        emulator.control("link drop-after 3")
        await link.send(b"abcdef")
        got = b""
        with pytest.raises(LinkError, match="CLOSED"):
            while True:
                got += await link.receive(4096, 5)
        assert got == b"abc"
        await link.connect("127.0.0.1", echo.port, 10)
        emulator.control("link drop-after-up 2")
        await link.send(b"wxyz")
        echoed = b""
        with pytest.raises(LinkError, match="CLOSED"):
            while True:
                echoed += await link.receive(4096, 5)
        assert echoed in (b"", b"w", b"wx")  # only what got through before the drop
        await link.connect("127.0.0.1", echo.port, 10)
        assert await exchange(link, b"ok") == b"ok"
        modem.stop()

    run(go())


def test_late_and_duplicated_data_towards_the_terminal(rig, echo):
    emulator, start = rig

    async def go():
        modem, link = await start()
        await link.connect("127.0.0.1", echo.port, 10)
        emulator.control("link late 1.5")
        await link.send(b"slow")
        with pytest.raises(LinkError):  # nothing within the terminal's patience
            await link.receive(4096, 0.5)
        assert await link.receive(4096, 5) == b"slow"  # then it comes, on the same connection
        emulator.control("link duplicate")
        await link.send(b"twice")
        got = b""
        while len(got) < 10:
            got += await link.receive(4096, 5)
        assert got == b"twicetwice"
        modem.stop()

    run(go())


def test_sms_is_sent_in_text_mode(rig, echo):
    emulator, start = rig

    async def go():
        modem, link = await start()
        await link.send_sms("13800000000", "T0000001 battery low")
        assert emulator.sms_sent == [("13800000000", b"T0000001 battery low")]
        modem.stop()

    run(go())


def test_no_signal_and_no_registration_say_which_step_failed(rig, echo):
    emulator, start = rig

    async def go():
        modem, link = await start()
        emulator.control("signal 99")
        with pytest.raises(ModemError, match="no signal"):
            await link.connect("127.0.0.1", echo.port, 10)
        emulator.control("signal 20")
        emulator.control("registration off")
        with pytest.raises(ModemError, match="not registered"):
            await link.connect("127.0.0.1", echo.port, 10)
        emulator.control("registration on")
        emulator.control("slow-activation 0.5")
        await link.connect("127.0.0.1", echo.port, 10)
        assert await exchange(link, b"slow") == b"slow"
        modem.stop()

    run(go())


def test_garbage_and_echo_are_tolerated(rig, echo):
    emulator, start = rig

    async def go():
        modem, link = await start()
        await link.connect("127.0.0.1", echo.port, 10)
        emulator.control("garbage")
        emulator.control("echo on")
        assert await exchange(link, b"still here") == b"still here"
        info = await link.status()
        assert info.csq == 21
        modem.stop()

    run(go())


def test_a_module_that_stops_answering_is_reset(rig, echo):
    emulator, start = rig

    async def go():
        modem, link = await start()
        await link.bring_up()
        emulator.control("mute")
        link.active = False  # the next connect brings the link up again: the module is silent
        with pytest.raises(ModemError, match="does not answer"):
            await link.connect("127.0.0.1", echo.port, 2)
        assert "AT+CFUN=1,1" in emulator.commands  # the driver reset the silent module
        assert any(e.reason == "modem reset" for e in link.on_event.seen)
        await link.on_event.wait_for("(RDY)")  # the module is back when it says so
        await link.connect("127.0.0.1", echo.port, 10)
        assert await exchange(link, b"back") == b"back"
        modem.stop()

    run(go())


def test_a_hung_module_gets_its_power_cycled_by_the_board_command(rig, echo, tmp_path):
    """The last rung: the module ignores even AT+CFUN=1,1; the board's command cuts its supply.

    The command is a real process (as ``gpioset`` would be); what it switches is the emulator's
    power, which a watcher here turns when the process has run.
    """
    emulator, start = rig
    switched = tmp_path / "switched"
    command = [sys.executable, "-c", f"open({str(switched)!r}, 'w').close()"]

    def board() -> None:
        wait_until(switched.exists, 60, "the power cycle command")
        emulator.control("power cycle")

    async def go():
        modem, link = await start()
        link.power_cycle = tuple(command)
        link.waits.reset_s = 2  # a hung module never answers it: do not wait the 15 s here
        await link.bring_up()
        emulator.control("hang")
        link.active = False
        watcher = threading.Thread(target=board, daemon=True)
        watcher.start()
        with pytest.raises(ModemError) as failed:
            await link.connect("127.0.0.1", echo.port, 2)
        assert problem_of(failed.value) == "link_no_modem"  # the operator is told in words
        watcher.join(30)
        assert emulator.power_cycles == 1
        await link.on_event.wait_for("(RDY)")  # it booted from cold
        await link.connect("127.0.0.1", echo.port, 10)
        assert await exchange(link, b"powered") == b"powered"
        modem.stop()

    run(go())
    reset_at = emulator.commands.index("AT+CFUN=1,1")
    assert emulator.commands[reset_at:].count("AT+CFUN=1,1") == 1  # not repeated unchanged


def test_a_debt_whose_line_never_came_costs_one_send_not_every_send(rig, echo):
    """A send cut short may leave its SEND OK owed, and the module may never send it (the
    connection went with the data). The next send's SEND OK is then taken for the debt and that
    send times out; it must not owe a SEND OK in turn, or every later send would time out too
    (a field campaign through an M26 sat in that loop for minutes)."""
    _, start = rig

    async def go():
        modem, link = await start()
        await link.connect("127.0.0.1", echo.port, 10)
        send = modem.dialect.send(b"abc")
        modem._owed.append(Owed(send.distinct, time.monotonic() + 100))  # the phantom debt
        with pytest.raises(ModemTimeout):
            await modem.command(replace(send, timeout=1))  # its SEND OK went to the debt
        reply = await modem.command(replace(modem.dialect.send(b"def"), timeout=5))
        assert reply.final.startswith(("SEND OK", "DATA ACCEPT"))
        echoed = b""
        while len(echoed) < 6:
            echoed += await link.receive(4096, 5)
        assert echoed == b"abcdef"  # both went out: nothing lost either
        modem.stop()

    run(go())


@pytest.mark.parametrize("prompt", ["send", "sms"])
def test_a_fresh_driver_takes_over_a_module_left_at_a_data_prompt(rig, echo, prompt):
    # A terminal killed between a send command and its data leaves the module at ">", where
    # the next program's AT is data too (the power-cut scenario's "does not answer AT").
    import serial

    emulator, start = rig

    async def go():
        modem, link = await start()
        await link.connect("127.0.0.1", echo.port, 10)
        modem.stop()  # the first program dies right after the module's ">"
        command = modem.dialect.send(bytes(100)).text if prompt == "send" else 'AT+CMGS="10086"'
        port = serial.serial_for_url(emulator.path, timeout=5)
        port.write(command.encode() + b"\r")
        assert port.read_until(b">").endswith(b">")
        port.close()
        fresh, link = await start()
        await fresh.sync()
        await link.connect("127.0.0.1", echo.port, 10)
        assert await exchange(link, b"answers") == b"answers"
        fresh.stop()

    run(go())
    assert emulator.sms_sent == []  # the SMS prompt was cancelled, not sent


def test_link_model_delays_data_by_rtt_and_bandwidth(echo):
    emulator = ModemEmulator(("127.0.0.1", echo.port), "sim800", LinkModel(rtt_s=0.4, kbps=40))

    async def go():
        modem = Modem(emulator.path, "sim800")
        modem.start()
        link = ModemTransport(modem, link_up_timeout=10)
        await link.connect("127.0.0.1", echo.port, 10)
        loop = asyncio.get_running_loop()
        start = loop.time()
        await exchange(link, bytes(500))
        elapsed = loop.time() - start
        modem.stop()
        return elapsed

    try:
        elapsed = run(go())
    finally:
        emulator.close()
    # one round trip plus 500 bytes each way at 40 kbit/s (0.1 s each way)
    assert 0.55 <= elapsed < 2.0


def test_a_payment_through_the_modem_to_the_station(station, tmp_path):
    from terminal.core.lifecycle import State
    from terminal.shell.link import StationLink
    from tests.terminal_kit import journal_view, ledger_view, make_terminal, prepay_order

    emulator = ModemEmulator(("127.0.0.1", station.port), "m26", LinkModel(rtt_s=0.05))

    async def go():
        modem = Modem(emulator.path, "m26")
        modem.start()
        transport = ModemTransport(modem, link_up_timeout=10)
        link = StationLink(lambda: transport, "127.0.0.1", station.port, 10, 5)
        t = make_terminal(tmp_path, station.port, link=link)  # every piece uses this link
        await t.sign_on("100101", "123456")
        emulator.control("link drop-after 10")  # the first answer is cut mid-way
        done = await t.run(prepay_order(t, 3000))
        assert done.outcome is State.APPROVED
        await t.drain_outbox()
        assert journal_view(t) == ledger_view(station.ledger.path)
        assert t.delivery.pending() == []
        # It all went through the module: opened there, sent there, cut there and reopened.
        opens = [c for c in emulator.commands if c.upper().startswith("AT+QIOPEN")]
        assert len(opens) >= 2, emulator.commands
        assert any(c.upper().startswith("AT+QISEND") for c in emulator.commands)
        await t.link.close()
        modem.stop()

    try:
        run(go())
    finally:
        emulator.close()


def test_diag_modem_reports_every_step(station, tmp_path):
    import subprocess
    import sys

    emulator = ModemEmulator(("127.0.0.1", station.port), "sim800")
    site = tmp_path / "site.toml"
    site.write_text(f"[station]\nport = {station.port}\n")
    diag = [sys.executable, "-m", "terminal.app.cli", "diag", "modem"]
    try:
        done = subprocess.run(
            [*diag, "--config", str(site), "--port", emulator.path],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        for part in ("SIM卡 SIM: READY", "CSQ 21, 4 格", "CHINA MOBILE", "IP: 10.", "round trip"):
            assert part in done.stdout
        emulator.control("signal 99")
        failed = subprocess.run(
            [*diag, "--config", str(site), "--port", emulator.path],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert failed.returncode == 1
        assert "FAILED at: 建立GPRS连接 bringing up GPRS: no signal" in failed.stdout
    finally:
        emulator.close()
