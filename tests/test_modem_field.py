"""The modem driver against how real SIM800 and M26 modules behave in the field.

Transcripts built from the SIMCom SIM800 and Quectel M26 AT manuals and their TCP/IP notes, and
from what users' logs show: URCs inside replies, late replies after a timeout, a module not
ready after power-up, the recovery ladder, sends cut short by the link, power lines, received
data framed by length, noise. Each behaviour is a fault of the emulator (``sim.modem.field``)
and runs over a real pseudo-terminal in both dialects; the reply matcher is also checked
pure, by a property: any interleaving gives the right value or a plain error, never a wrong one.
"""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.modem.at import ATReader, Data, Line
from drivers.modem.dialects import CREG, CSQ, DIALECTS, ICCID, IMEI, Command
from drivers.modem.modem import Modem, ModemError, ModemTransport, Waits
from drivers.modem.ready import query
from drivers.modem.replies import Exchange, Owed
from drivers.transport import LinkError, LinkState
from sim.modem.emulator import ModemEmulator
from tests.test_modem import EchoServer, LinkEvents, exchange, run
from tests.wait_kit import until

URCS = DIALECTS["sim800"].urcs
THE_ICCID, THE_IMEI = "89860012345678901234", "861234056789012"

# --- the pure matcher --------------------------------------------------------------------

FIELD_URCS = [
    "RDY", "+CFUN: 1", "+CPIN: READY", "Call Ready", "SMS Ready",
    '*PSUTTZ: 2026,11,30,5,32,3,"+32",0', "DST: 0", "+CTZV: 32,0", '+CREG: 1,"1A2B","3C4D5E"',
    "+CREG: 5", "+CGREG: 1", "UNDER-VOLTAGE WARNNING", "+PDP: DEACT", "CLOSED", '+CMTI: "SM",3',
]  # fmt: skip
LATE = [
    "OK", "ERROR", "CONNECT FAIL", "SEND OK", "CLOSE OK", "SHUT OK", "+CSQ: 17,0",
    THE_IMEI, THE_ICCID, '+COPS: 0,0,"CHINA MOBILE"', "+CME ERROR: 14",
]  # fmt: skip
NOISE = st.binary(min_size=1, max_size=6).map(
    lambda b: bytes(c for c in b if (c < 0x20 and c not in (10, 13)) or c >= 0x80) or b"\xff"
)
CASES = {
    "AT+CCID": (ICCID, "AT+CCID", THE_ICCID, THE_ICCID),
    "AT+CGSN": (IMEI, "AT+CGSN", THE_IMEI, THE_IMEI),
    "AT+CREG?": (CREG, "AT+CREG?", '+CREG: 2,5,"1A2B","3C4D5E"', "5"),
}


def through_reader(stream: bytes, cuts: list[int]) -> list[str]:
    reader, lines, last = ATReader(), [], 0
    for cut in [*sorted(c % (len(stream) + 1) for c in cuts), len(stream)]:
        lines += [e.text for e in reader.feed(stream[last:cut]) if isinstance(e, Line)]
        last = max(last, cut)
    return lines


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(sorted(CASES)),
    st.lists(
        st.one_of(
            st.sampled_from(FIELD_URCS).map(lambda u: ("urc", u.encode())),
            st.sampled_from(LATE).map(lambda x: ("late", x.encode())),
            NOISE.map(lambda n: ("noise", n)),
        ),
        max_size=8,
    ),
    st.integers(0, 8),
    st.booleans(),
    st.lists(st.integers(0, 400), max_size=6),
)
def test_any_interleaving_gives_the_right_value_or_a_plain_error(name, extra, at, echo, cuts):
    form, text, line, value = CASES[name]
    reply = [b"\r\n" + line.encode() + b"\r\n", b"\r\nOK\r\n"]
    parts = ([text.encode() + b"\r"] if echo else []) + reply
    for i, (_, piece) in enumerate(extra):  # URCs, late replies and noise anywhere
        parts.insert(min(at + i, len(parts)), b"\r\n" + piece + b"\r\n")
    command = Command(text, answer=form)
    ex = Exchange(command, URCS)
    for got in through_reader(b"".join(parts), cuts):
        ex.feed(got)
    assert ex.done  # every stream ends in the reply's own OK at the latest
    if ex.reply is not None:
        found = ex.reply.match(command)
        assert found is None or found[0] == value  # the right value, or none: a plain error
    else:
        assert ex.error  # an ERROR line came first: a plain error


def test_urcs_are_never_a_value_and_late_finals_are_owed():
    ex = Exchange(Command("AT+CCID", answer=ICCID), URCS)
    for line in ("AT+CCID", "Ready", "READY", "*PSUTTZ: 1", THE_IMEI, THE_ICCID, "OK"):
        ex.feed(line)
    assert ex.reply is not None and ex.reply.match(ex.command) == (THE_ICCID,)
    opening = DIALECTS["sim800"].open("10.0.0.1", 9000, 75)
    owed = [Owed(opening.distinct, until=10.0)]
    ex = Exchange(opening, URCS, owed)
    for line in ("OK", "CONNECT FAIL", "CONNECT OK"):  # the first CONNECT FAIL is the old one's
        ex.feed(line, now=1.0)
    assert ex.reply is not None and ex.reply.final == "CONNECT OK" and owed == []
    send = DIALECTS["m26"].send(b"abc")
    ex = Exchange(send, URCS)
    ex.feed("SEND OK")  # before the prompt: an earlier send's
    assert not ex.done
    ex.data_sent = True
    ex.feed("DATA ACCEPT:3")
    assert ex.reply is not None


def test_received_data_by_length_in_every_framing():
    payload = b"\r\nOK\r\n\x00IPD9:\xff"
    for framing in (
        b"+IPD,%d:" % len(payload),
        b"IPD%d:" % len(payload),
        b"IPD%dTCP:" % len(payload),
        b"+RECEIVE: 0, %d\r\n" % len(payload),
        b"+RECEIVE: 0, %d\r\nIPD%d:" % (len(payload), len(payload)),
    ):
        stream = b"\r\n" + framing + payload + b"\r\nCLOSED\r\n"
        for step in (1, 2, 7):
            reader, got = ATReader(), []
            for i in range(0, len(stream), step):
                got += reader.feed(stream[i : i + step])
            assert got == [Data(0, payload), Line("CLOSED")], (framing, step)


def test_noise_and_a_line_cut_by_a_reset():
    reader = ATReader()
    got = reader.feed(b"\xff\xff\x00\r\n+CSQ: 2\r\nRDY\r\n\xfe\x80OK\r\n")
    assert got[:2] == [Line("+CSQ: 2"), Line("RDY")] and got[2].text.endswith("OK")
    ex = Exchange(Command("AT+CSQ", answer=CSQ), URCS)
    ex.feed("+CSQ: 2")  # the cut line is not of the answer's form: never a value
    assert ex.lines == []


# --- over a real pseudo-terminal, both dialects --------------------------------------------


@pytest.fixture
def echo():
    server = EchoServer()
    yield server
    server.close()


class Statuses(list):
    """A transport's ``on_status``: the wait keys it reported, in order."""

    def __call__(self, key, seconds):
        if key is not None:
            self.append((key, seconds))


@pytest.fixture(params=["sim800", "m26"])
def field(request, echo):
    emulator = ModemEmulator(("127.0.0.1", echo.port), request.param)

    async def start(**waits):
        modem = Modem(emulator.path, request.param)
        modem.start()
        bounds = Waits(**{"boot_s": 5, "sim_s": 5, "register_s": 5, "poll_s": 0.2, **waits})
        link = ModemTransport(
            modem, link_up_timeout=10, on_event=LinkEvents(), waits=bounds, on_status=Statuses()
        )
        return modem, link

    yield emulator, start, request.param
    emulator.close()


def test_urcs_inside_every_reply_and_bytewise_delivery(field, echo):
    emulator, start, _ = field
    emulator.control("urcs on")
    emulator.control("bytewise on")

    async def go():
        modem, link = await start()
        info = await link.bring_up()
        assert (info.iccid, info.imei) == (THE_ICCID, THE_IMEI)
        assert info.registered and info.cell == 0x3C4D5E and info.operator == "CHINA MOBILE"
        await link.connect("127.0.0.1", echo.port, 10)
        data = bytes(range(256)) * 2
        assert await exchange(link, data) == data
        assert link.connected  # the URCs inside replies were info, not a link event
        modem.stop()

    run(go())


@pytest.mark.parametrize("busy", ["+CME ERROR: SIM busy", "+CME ERROR: 14", "ERROR"])
def test_after_a_reset_echo_is_on_and_the_sim_busy_for_seconds(field, echo, busy):
    emulator, start, _ = field

    async def go():
        modem, link = await start()
        emulator.control("reboot")
        emulator.control(f"sim busy 1.5 {busy}")
        began = time.monotonic()
        info = await link.bring_up()
        waited = time.monotonic() - began
        assert info.sim == "READY" and info.iccid == THE_ICCID
        assert 1.4 <= waited < 5, waited  # waited for the SIM, within its bound
        assert link.on_status and {k for k, _ in link.on_status} == {"wait_sim"}
        assert emulator.echo is False  # ATE0 was sent
        modem.stop()

    run(go())


def test_the_sim_busy_longer_than_its_bound_is_a_plain_error(field, echo):
    emulator, start, _ = field

    async def go():
        modem, link = await start(sim_s=1)
        emulator.control("sim busy 30")
        began = time.monotonic()
        with pytest.raises(ModemError, match=r"SIM card not ready .*after 1 s"):
            await link.bring_up()
        assert time.monotonic() - began < 3
        modem.stop()

    run(go())


def test_radio_off_is_switched_on(field, echo):
    emulator, start, _ = field

    async def go():
        modem, link = await start()
        emulator.control("cfun 0")
        await link.connect("127.0.0.1", echo.port, 10)
        assert "AT+CFUN=1" in emulator.commands
        assert ("wait_radio", 0) in link.on_status
        modem.stop()

    run(go())


def test_registration_searching_then_roaming_denied_and_pin(field, echo):
    emulator, start, _ = field

    async def go():
        modem, link = await start()
        emulator.control("registration searching 1")
        await link.connect("127.0.0.1", echo.port, 10)
        assert "wait_network" in {k for k, _ in link.on_status}
        await link.close()
        emulator.control("link down")  # registered before: lost coverage fails at once
        await link.on_event.wait_for("PDP DEACT")
        began = time.monotonic()
        with pytest.raises(ModemError, match=r"no signal \(CSQ 99\)"):
            await link.connect("127.0.0.1", echo.port, 10)
        assert time.monotonic() - began < 3
        emulator.control("link up")
        link.active = False
        emulator.control("registration denied")
        began = time.monotonic()
        with pytest.raises(ModemError, match=r"denied \(3\)"):
            await link.connect("127.0.0.1", echo.port, 10)
        assert time.monotonic() - began < 3  # no wait: waiting cannot cure it
        emulator.denied = False
        emulator.control("sim pin")
        with pytest.raises(ModemError, match="PIN"):
            await link.connect("127.0.0.1", echo.port, 10)
        modem.stop()

    run(go())


def test_a_late_reply_is_never_taken_by_the_next_command(field, echo):
    emulator, start, _ = field

    async def go():
        modem, _link = await start()
        await modem.sync()
        emulator.control("late-reply 0.8")
        with pytest.raises(ModemError, match="no answer"):
            await query(modem, "AT+CGSN", IMEI, timeout=0.3)
        # the IMEI and its OK come while the next command waits: neither is its answer
        assert await query(modem, modem.dialect.ccid, ICCID) == (THE_ICCID,)
        await until(lambda: THE_IMEI in modem.late, 3, "the late IMEI dropped")
        assert await query(modem, "AT+CGSN", IMEI) == (THE_IMEI,)
        modem.stop()

    run(go())


def test_recovery_ladder_never_repeats_a_failing_command(field, echo):
    emulator, start, dialect = field

    async def go():
        modem, link = await start()
        emulator.control("connect fail 3")  # the station unreachable three times
        for _ in range(3):
            with pytest.raises(LinkError, match="CONNECT FAIL"):
                await link.connect("127.0.0.1", echo.port, 5)
        await link.on_event.wait_for("modem reset")
        await link.connect("127.0.0.1", echo.port, 10)
        assert await exchange(link, b"after the ladder") == b"after the ladder"
        modem.stop()

    run(go())
    opens = [i for i, c in enumerate(emulator.commands) if "OPEN=" in c or "START=" in c]
    between = [emulator.commands[a + 1 : b] for a, b in itertools.pairwise(opens)]
    d = DIALECTS[dialect]
    rungs = [d.close().text, d.deactivate().text, "AT+CFUN=1,1"]
    for rung, commands in zip(rungs, between, strict=False):
        assert rung in commands, (rung, commands)  # each failure changed something first


def test_connect_timeout_closes_the_attempt_and_already_connect_reconnects(field, echo):
    emulator, start, _ = field

    async def go():
        modem, link = await start()
        await link.bring_up()
        emulator.control("late-reply 2")
        with pytest.raises(ModemError, match="no answer"):
            await link.connect("127.0.0.1", echo.port, 0.5)
        assert modem.dialect.close().text in emulator.commands[-3:]
        await until(lambda: emulator.sock is not None, 5, "the late connection")
        # the module now holds a connection the driver does not know: ALREADY CONNECT
        await link.connect("127.0.0.1", echo.port, 10)
        assert await exchange(link, b"fresh") == b"fresh"
        modem.stop()

    run(go())


@pytest.mark.parametrize("fault", ["closed", "pdp deact", "reboot", "power down"])
def test_a_send_never_outlives_its_link(field, echo, fault):
    emulator, start, _ = field

    async def go():
        modem, link = await start()
        await link.connect("127.0.0.1", echo.port, 10)
        emulator.control("late-reply 5")  # the module sits on the send
        sending = asyncio.ensure_future(link.send(b"payment"))
        await until(lambda: modem._exchange is not None, 2, "the send in flight")
        began = time.monotonic()
        emulator.control(fault)
        with pytest.raises(LinkError):
            await sending
        assert time.monotonic() - began < 1.0  # woken at once, not after 30 s
        assert link.on_event.seen[-1].state is LinkState.DOWN
        modem.stop()

    run(go())


def test_data_accept_mode_is_set_to_what_the_driver_expects(echo):
    emulator = ModemEmulator(("127.0.0.1", echo.port), "sim800")
    emulator.control("qsend on")  # left set by an earlier program

    async def go():
        modem = Modem(emulator.path, "sim800")
        modem.start()
        link = ModemTransport(modem, link_up_timeout=10)
        await link.connect("127.0.0.1", echo.port, 10)
        assert "AT+CIPQSEND=0" in emulator.commands and emulator.qsend is False
        emulator.control("qsend on")  # and if the module answers DATA ACCEPT anyway
        assert await exchange(link, b"accepted") == b"accepted"
        modem.stop()

    try:
        run(go())
    finally:
        emulator.close()


def test_under_voltage_warning_keeps_the_link_power_down_ends_it(field, echo):
    emulator, start, _ = field

    async def go():
        modem, link = await start()
        await link.connect("127.0.0.1", echo.port, 10)
        emulator.control("power warn")
        await until(lambda: link.low_power, 2, "the low-power warning")
        assert link.connected and await exchange(link, b"still") == b"still"
        emulator.control("power down")
        with pytest.raises(LinkError, match="POWER DOWN"):
            await link.receive(4096, 5)
        modem.stop()

    run(go())


@pytest.mark.parametrize("framing", ["ipd", "both"])
def test_m26_received_data_framings(echo, framing):
    emulator = ModemEmulator(("127.0.0.1", echo.port), "m26")
    emulator.control(f"rx-framing {framing}")

    async def go():
        modem = Modem(emulator.path, "m26")
        modem.start()
        link = ModemTransport(modem, link_up_timeout=10)
        await link.connect("127.0.0.1", echo.port, 10)
        payload = b"\r\nOK\r\n\x00+RECEIVE: 0, 3\r\nIPD3:CLOSED\r\n" * 20
        assert await exchange(link, payload) == payload
        modem.stop()

    try:
        run(go())
    finally:
        emulator.close()


def diag(site, port) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "terminal.app.cli", "diag", "modem"]
    return subprocess.run(
        [*command, "--config", str(site), "--port", port],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_diag_modem_right_values_among_urcs_and_names_the_wait(station, tmp_path):
    emulator = ModemEmulator(("127.0.0.1", station.port), "sim800")
    site = tmp_path / "site.toml"
    site.write_text(f"[station]\nport = {station.port}\n")
    try:
        emulator.control("urcs on")
        emulator.control("sim busy 1.5")
        done = diag(site, emulator.path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"IMEI: {THE_IMEI}  ICCID: {THE_ICCID}" in done.stdout
        assert "等待SIM卡就绪 waiting for the SIM card" in done.stdout
        emulator.control("registration denied")
        failed = diag(site, emulator.path)
        assert failed.returncode == 1
        assert "FAILED at: 正在搜索网络 searching for the network: " in failed.stdout
        assert "denied (3)" in failed.stdout
    finally:
        emulator.close()
