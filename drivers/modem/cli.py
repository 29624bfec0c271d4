"""``gridpos diag modem``: SIM, registration, signal, operator, cell, IP, a round trip.

Says plainly which step failed, so an electrician on the phone with the utility can read it out.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="site configuration file")
    parser.add_argument("--port", help="modem serial device (default: modem.port)")
    parser.add_argument("--dialect", choices=("sim800", "m26"), help="default: modem.dialect")


def run(args: argparse.Namespace) -> int:
    import asyncio

    return asyncio.run(_diagnose(args))


async def _diagnose(args: argparse.Namespace) -> int:
    import time

    from config.loader import load_config
    from drivers.modem.modem import Modem, ModemTransport
    from drivers.modem.ready import WAIT_TEXT, read_status, registered, sim_ready
    from drivers.transport import LinkError
    from terminal.protocol import messages as m
    from terminal.protocol.framing import FrameDecoder, frame

    config = load_config(args.config)
    step = "打开串口 opening the port"

    def waiting(key: str | None, seconds: int) -> None:
        if key in WAIT_TEXT:  # what it waits for, as the status bar would show it
            zh, en = WAIT_TEXT[key]
            print(f"… {zh} {en} ({seconds} s)", flush=True)

    def named(key: str) -> str:
        return " ".join(WAIT_TEXT[key])

    try:
        dialect = args.dialect or config.modem.dialect
        modem = Modem(  # the configured receive mode belongs to the configured dialect
            args.port or config.modem.port,
            dialect,
            config.modem.baudrate,
            config.modem.receive if dialect == config.modem.dialect else "push",
        )
        modem.start()
        link = ModemTransport(
            modem,
            config.modem.apn,
            config.modem.apn_user,
            config.modem.apn_password,
            config.timeouts.link_up_s,
            on_status=waiting,
        )
        step = "模块应答 module answering AT"
        await modem.sync()
        step = named("wait_sim")
        info = link.info
        info.sim = await sim_ready(modem, link.waits, waiting)
        step = named("wait_network")
        await registered(modem, info, link.waits, waiting)
        step = "读取状态 reading status"
        await read_status(modem, info)
        print(f"SIM卡 SIM: {info.sim}")
        print(f"注册 registered: {'是 yes' if info.registered else '否 no'}")
        print(f"信号 signal: CSQ {info.csq}, {info.bars} 格 bars")
        print(f"运营商 operator: {info.operator or '-'}")
        print(f"基站 cell: LAC {info.lac} CI {info.cell}")
        print(f"IMEI: {info.imei or '-'}  ICCID: {info.iccid or '-'}")
        step = "建立GPRS连接 bringing up GPRS"
        info = await link.bring_up()
        print(f"IP: {info.ip}")
        step = f"连接主站 connecting to {config.station.host}:{config.station.port}"
        await link.connect(config.station.host, config.station.port, config.timeouts.connect_s)
        step = "主站往返 round trip to the station"
        probe = m.HeartbeatRequest(terminal_id=config.terminal.id, trace=0)
        start = time.monotonic()
        await link.send(frame(m.encode(probe, None)))
        decoder = FrameDecoder()
        while not decoder.feed(await link.receive(4096, config.timeouts.response_s)):
            pass
        print(f"主站往返 round trip: {(time.monotonic() - start) * 1000:.0f} ms")
        await link.close()
        modem.stop()
        return 0
    except LinkError as exc:
        print(f"失败 FAILED at: {step}: {exc}")
        return 1
