"""A command cut short by the link going away owes nothing afterwards.

Found with long offline periods: a send aborted by ``+PDP: DEACT`` used to leave its ``SEND OK``
owed for twice its 30 s bound; when coverage came back, the next send's own ``SEND OK`` was
taken for the dead one's and dropped, that send waited out its 30 s, owed again, and so on for
every upload while the sends came within a minute of each other.
"""

from __future__ import annotations

import asyncio
import time

from drivers.modem.channel import Modem
from drivers.modem.dialects import Command
from drivers.transport import LinkError
from sim.modem.emulator import ModemEmulator
from tests.wait_kit import until

CLOSE = Command("AT+CIPCLOSE=1", finals=("CLOSE OK",), timeout=5, link=True)


def test_a_command_the_link_cut_short_leaves_nothing_owed_and_the_next_is_not_held():
    emulator = ModemEmulator(("127.0.0.1", 9), "sim800")  # no connection is opened

    async def go():
        modem = Modem(emulator.path, "sim800")
        modem.start()
        await modem.sync()
        emulator.control("late-reply 0.5")  # the module sits on this command's CLOSE OK
        cut = asyncio.create_task(modem.command(CLOSE))
        await until(lambda: modem._exchange is not None, 5, "the command in flight")
        modem.abort(LinkError("GPRS context deactivated by the network"), link_only=True)
        try:
            await cut
        except LinkError:
            pass
        else:
            raise AssertionError("the cut command should end in a link error")
        assert modem.dirty and modem._owed == []
        started = time.monotonic()
        reply = await modem.command(CLOSE)  # the next one gets its own answer, not a stall
        assert reply.final == "CLOSE OK" and time.monotonic() - started < 4
        modem.stop()

    try:
        asyncio.run(asyncio.wait_for(go(), 60))
    finally:
        emulator.close()
