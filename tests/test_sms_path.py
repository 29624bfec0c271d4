"""The SMS second path for offline uploads: binary SMS in PDU mode through the module when GPRS
fails, the station's SMS inbox, and whichever path delivers first wins (the other is a repeat).
"""

from __future__ import annotations

import asyncio

import pytest

from drivers.modem.modem import Modem, ModemTransport
from drivers.modem.ready import Waits
from sim.modem.emulator import ModemEmulator
from station.sms_inbox import SmsInbox
from terminal.core.cash import Tender
from terminal.core.lifecycle import State
from terminal.core.requests import Pay, PayFlow
from terminal.protocol import messages as m
from terminal.protocol.records import CodecError
from terminal.protocol.smspdu import read_submit, submit
from terminal.shell.link import StationLink
from terminal.tools.books import books_agree
from tests.terminal_kit import make_terminal

NUMBER = "+8610659001"


def test_a_pdu_carries_the_bytes_and_the_number_and_nothing_else_is_read():
    pdu = submit(NUMBER, bytes(range(48)))
    assert pdu.hex.startswith("00") and pdu.length == len(pdu.hex) // 2 - 1
    assert read_submit(pdu.hex) == (NUMBER, bytes(range(48)))
    assert read_submit(submit("10659", b"x").hex) == ("10659", b"x")
    with pytest.raises(CodecError):
        submit(NUMBER, bytes(141))
    with pytest.raises(CodecError):
        read_submit("0011000B916831")


def offline_advice(client, trace: int) -> m.AdviceRequest:
    return m.AdviceRequest(
        processing=m.Processing.OFFLINE_PAYMENT,
        terminal_id=client.terminal_id,
        batch=client.batch,
        trace=trace,
        amount_fen=2500,
        customer_no="0100000001",
    )


def posted(station) -> int:
    return len(station.ledger.all("SELECT 1 FROM requests WHERE state = 'posted'"))


def test_gprs_first_then_the_sms_is_a_harmless_repeat_and_a_bad_mac_posts_nothing(station):
    client = station.client()
    assert client.sign_on().approved
    advice = offline_advice(client, client.next_trace())
    assert client.request(advice).approved  # over GPRS first
    inbox = SmsInbox(station.station)
    late = inbox.receive(NUMBER, m.encode(advice, client.mac_key))
    assert late.taken and late.code == "00" and posted(station) == 1
    forged = inbox.receive(NUMBER, m.encode(offline_advice(client, 77), bytes(16)))
    assert forged.code == "A0" and posted(station) == 1
    inquiry = m.InquiryRequest(terminal_id=client.terminal_id, batch=client.batch, trace=78)
    assert not inbox.receive(NUMBER, m.encode(inquiry, client.mac_key)).taken
    assert not inbox.receive_submit("00FF").taken
    client.close()


@pytest.fixture
def modem_terminal(station, tmp_path):
    """A terminal on the GPRS module emulator, with the station's SMS number configured."""
    emulator = ModemEmulator(("127.0.0.1", station.port), "sim800")
    received: list[str] = []
    emulator.sms_sink = received.append

    async def build():
        modem = Modem(emulator.path, "sim800")
        modem.start()
        waits = Waits(boot_s=5, sim_s=3, register_s=1, poll_s=0.2)
        transport = ModemTransport(modem, link_up_timeout=10, waits=waits)
        link = StationLink(lambda: transport, "127.0.0.1", station.port, 5, 5)
        t = make_terminal(tmp_path, station.port, link=link, sms_number=NUMBER)
        await t.sign_on("100101", "123456")
        await t.offline.download()
        return t, modem

    yield emulator, received, build
    emulator.close()


async def take_offline(t) -> str:
    customer = t.offline.find("0100000001")
    _, order = await t.offline.take(Pay(PayFlow.PREPAY, Tender(2500, 2500), customer))
    return order.txn


def test_gprs_down_the_upload_goes_by_sms_and_gprs_later_is_a_repeat(station, modem_terminal):
    emulator, received, build = modem_terminal

    async def go():
        t, modem = await build()
        emulator.control("gprs down")  # registered: SMS goes, packets do not
        txn = await take_offline(t)
        result = await t.drain_outbox()
        assert result.remaining == 1 and result.link
        events = [e.event for e in t.journal.entries(txn)]
        assert events[-2:] == ["sms_sending", "sms_sent"]
        assert len(received) == 1 and any(c.startswith("AT+CMGF=0") for c in emulator.commands)
        taken = SmsInbox(station.station).receive_submit(received[0])
        assert taken.taken and taken.code == "00" and posted(station) == 1  # the SMS won
        await t.drain_outbox()  # GPRS still down: no second SMS of the same upload
        assert len(received) == 1
        emulator.control("gprs up")
        assert (await t.drain_outbox()).remaining == 0  # the GPRS upload is a repeat
        assert t.journal.state(txn) is State.COMPLETED and posted(station) == 1
        assert books_agree(t.journal, station.ledger, "T0000001").agree
        await t.link.close()
        modem.stop()

    asyncio.run(asyncio.wait_for(go(), 120))


def test_a_power_cut_during_the_sms_send_neither_loses_nor_doubles(station, modem_terminal):
    """The journal says ``sms_sending`` and the SMS reached the station, but the terminal died
    before ``sms_sent``: after the restart it does not send the SMS again, and the GPRS upload
    is answered from the station's repeat store."""
    emulator, received, build = modem_terminal

    async def go():
        t, modem = await build()
        emulator.control("gprs down")
        txn = await take_offline(t)
        item = t.delivery.pending()[0]
        message = item.message()
        t.journal.append(txn, "sms_sending", {"mti": message.mti})  # the power went here...
        pdu = submit(NUMBER, m.encode(message, t.session.key()))
        SmsInbox(station.station).receive_submit(pdu.hex)  # ...after the module sent it
        t.journal.close()
        await t.link.close()
        modem.stop()
        emulator.control("gprs up")  # powered up again where it can sign on
        t2, modem2 = await build()
        emulator.control("gprs down")
        await t2.recover()
        await t2.drain_outbox()
        assert received == [] and posted(station) == 1
        emulator.control("gprs up")
        assert (await t2.drain_outbox()).remaining == 0
        assert t2.journal.state(txn) is State.COMPLETED and posted(station) == 1
        assert books_agree(t2.journal, station.ledger, "T0000001").agree
        await t2.link.close()
        modem2.stop()

    asyncio.run(asyncio.wait_for(go(), 120))
