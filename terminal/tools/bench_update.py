"""The bytes of a software update and its time on a slow GPRS link, for ``gridpos bench``.

A real download runs against the reference station over loopback: a signed package of
``package_kb`` incompressible kilobytes is offered in the 0830 and fetched chunk by chunk by the
terminal's ``Updater``, and the link counts every framed byte both ways. The time on GPRS is then
computed, not waited for (a 300 KB package takes minutes at 40 kbit/s): bytes on the wire,
TCP/IP headers of 40 bytes for each segment and each ACK, at the link's speed, plus one round
trip per window of chunks asked before the first answer (``CHUNK_WINDOW``, R52).
"""

from __future__ import annotations

TCP_IP_HEADERS = 40  # bytes per segment (IPv4 20 + TCP 20), and the same per ACK


def update_figures(folder, rtt_ms: float, kbps: float, package_kb: int = 300) -> dict[str, object]:
    import asyncio
    import random

    from drivers.transport import SocketTransport
    from offline_queue.journal import Journal
    from station.seed import demo_master_key
    from station.server import StationThread
    from station.updates import DIR_PARAM
    from terminal.core.update_state import Stage
    from terminal.protocol import messages as m
    from terminal.protocol.update_offer import CHUNK_MAX
    from terminal.shell.link import StationLink
    from terminal.shell.terminal import Terminal
    from terminal.shell.update_store import UpdateStore
    from terminal.shell.updates import Updater
    from terminal.tools.release import new_release_key, pack, publish

    folder.mkdir(parents=True)
    private, public = new_release_key()
    package = pack({"lib/blob.bin": random.Random(18).randbytes(package_kb * 1000)})
    publish(folder / "offered", "9.9.9", package, private)
    station = StationThread(str(folder / "station.db"))
    station.ledger.set_param(DIR_PARAM, str(folder / "offered"))
    journal = Journal(folder / "j.db", folder / "j.key")

    async def go() -> dict[str, object]:
        link = StationLink(SocketTransport, "127.0.0.1", station.port, 5, 10)
        t = Terminal(journal, link, "T0000001", demo_master_key("T0000001"))
        await t.sign_on("100101", "123456")
        offer = await t.session.request(
            m.HeartbeatRequest(terminal_id="T0000001", trace=journal.take_trace(), version="0.1")
        )
        updater = Updater(UpdateStore(folder / "update"), t.session, journal, public, "0.1")
        updater.offered(offer)  # type: ignore[arg-type]
        sent, received, trips = link.bytes_sent, link.bytes_received, link.round_trips
        assert await updater.download() and updater.state.stage is Stage.VERIFIED
        await link.close()
        up, down = link.bytes_sent - sent, link.bytes_received - received
        windows = link.round_trips - trips
        chunks = -(-len(package) // CHUNK_MAX)
        # segments: one answer per chunk, the window's requests together; an ACK for each
        wire = up + down + 2 * TCP_IP_HEADERS * (chunks + windows)
        seconds = wire * 8 / (kbps * 1000) + windows * rtt_ms / 1000
        return {
            "update_package_bytes": len(package),
            "update_chunks": chunks,
            "update_round_trips": windows,
            "update_app_bytes": up + down,
            "update_wire_bytes": wire,
            "update_overhead_percent": round(100 * (wire - len(package)) / len(package), 1),
            "update_time_on_gprs_s": round(seconds, 1),
        }

    try:
        return asyncio.run(go())
    finally:
        journal.close()
        station.stop()
