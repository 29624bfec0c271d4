"""``gridpos diag devices``: which keypad, printer and modem udev finds on this terminal."""

from __future__ import annotations

import argparse
import contextlib


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--watch", action="store_true", help="then report devices coming and going")


def run(args: argparse.Namespace) -> int:
    import asyncio

    from drivers.discovery import DeviceKind, find, watch

    labels = {
        DeviceKind.KEYPAD: "键盘 keypad",
        DeviceKind.PRINTER: "打印机 printer",
        DeviceKind.MODEM: "无线模块 modem",
    }
    missing = 0
    for kind in DeviceKind:
        nodes = find(kind)
        print(f"{labels[kind]}: {', '.join(nodes) if nodes else '未找到 not found'}")
        missing += not nodes
    if args.watch:

        async def follow() -> None:
            async for event in watch():
                print(f"{event.action} {labels[event.kind]} {event.devnode}", flush=True)

        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(follow())
    return 1 if missing else 0
