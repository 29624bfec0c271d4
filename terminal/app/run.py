"""``gridpos run``: the terminal program — devices, journal, station link, menu — from a config.

Keys come from the keypad (evdev), from the console keyboard (``--keys keyboard``), or from
standard input (``--keys stdin``: lines ``key OK`` or ``type 0100000123``, for scripts). Screens go
to the configured display, or to standard output as text (``--display text``).
"""

from __future__ import annotations

import argparse
import shlex


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="site configuration file (over config/default.toml)")
    parser.add_argument(
        "--keys",
        choices=("keypad", "keyboard", "stdin"),
        default="keypad",
        help="where keys come from (default: the keypad)",
    )
    parser.add_argument(
        "--display", choices=("console", "framebuffer", "png", "text"), help="override display.kind"
    )


def run(args: argparse.Namespace) -> int:
    import asyncio
    import sys

    from config.loader import load_config
    from offline_queue.journal import JournalError
    from terminal.protocol.keys import KeyMaterialError

    config = load_config(args.config)
    display = args.display or config.display.kind
    if display == "console" or args.keys == "keyboard":
        from ui.console import terminal_problem

        problem = terminal_problem()  # before the journal, the link or the modem is opened
        if problem:
            print(f"gridpos: {problem}", file=sys.stderr)
            return 2
    try:
        return asyncio.run(main(config, args.keys, display))
    except (JournalError, KeyMaterialError) as exc:
        print(f"gridpos: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def build_terminal(config):
    """The engine's shell on the configured parts (nothing is opened that is not used)."""
    from pathlib import Path

    from drivers.printer.escpos_printer import EscPosPrinter
    from drivers.transport import SocketTransport
    from offline_queue.journal import Journal
    from terminal.protocol.keys import load_master_key
    from terminal.shell.link import StationLink
    from terminal.shell.terminal import Terminal

    journal = Journal(config.journal.path, config.journal.key_file)
    master = load_master_key(config.keys.master_key_file)
    if config.station.transport == "modem":
        from drivers.modem.modem import Modem, ModemTransport

        modem = Modem(
            config.modem.port, config.modem.dialect, config.modem.baudrate, config.modem.receive
        )
        transport = ModemTransport(
            modem,
            config.modem.apn,
            config.modem.apn_user,
            config.modem.apn_password,
            config.timeouts.link_up_s,
            power_cycle=shlex.split(config.modem.power_cycle),
        )
        factory = lambda: transport  # noqa: E731 - one module, one transport
        starter = modem.start
    else:
        factory = SocketTransport
        starter = None
    link = StationLink(
        factory,
        config.station.host,
        config.station.port,
        config.timeouts.connect_s,
        config.timeouts.response_s,
    )
    printer = EscPosPrinter(
        config.printer.connection,
        config.printer.device,
        config.printer.baudrate,
        qr=config.printer.qr,
    )
    card = None
    access_file = Path(config.keys.card_access_key_file)
    if access_file.exists():
        from drivers.card.reader import CardReader
        from drivers.card.service import CardService

        card = CardService(CardReader(config.card.reader), load_master_key(access_file), wait_s=30)
    terminal = Terminal(
        journal,
        link,
        config.terminal.id,
        master,
        printer=printer,
        card=card,
        repeats=config.timeouts.repeats,
        utility=config.terminal.utility_name,
        paper_mm=config.printer.paper_width_mm,
        min_free_mb=config.journal.min_free_mb,
        master_key_file=config.keys.master_key_file,
        sms_number=config.station.sms_number,
    )
    return terminal, starter


async def main(config, keys: str, display: str) -> int:
    import asyncio
    import contextlib

    from terminal.app.notify import Notifier
    from terminal.shell.desk import Desk
    from ui.app import App
    from ui.machine import Limits

    terminal, starter = build_terminal(config)
    if starter is not None:
        starter()
    printer = terminal.receipts.printer
    background = set()  # held so the task is not collected before it ends
    if printer is not None and hasattr(printer, "warm_up"):
        # Opening a serial printer can take a while: not on the loop, not before the first screen.
        background.add(asyncio.create_task(asyncio.to_thread(printer.warm_up)))
    draw, key_source, closer = _io(config, keys, display)
    limits = Limits(
        config.limits.max_payment_fen,
        config.limits.min_purchase_fen,
        config.limits.max_purchase_fen,
        config.limits.round_up_fen,
        login_attempts=config.ui.login_attempts,
    )
    from terminal.app.cli import _version
    from terminal.shell.beat import Heartbeat

    heartbeat = Heartbeat(terminal, _version(), config.timeouts.heartbeat_s)
    desk = Desk(
        terminal,
        heartbeat=heartbeat,
        supervisor_hash=config.terminal.supervisor_password,
    )
    from terminal.app.update_setup import build_updater

    desk.updater = build_updater(config, terminal)
    app = App(desk, key_source, draw, limits, config.ui.idle_timeout_s, config.ui.locale)
    notifier = Notifier()
    background.add(asyncio.create_task(notifier.keep_alive()))
    running = asyncio.create_task(app.run())
    await asyncio.sleep(0)  # the app's first step draws the first screen
    opened = len(terminal.journal.open_transactions())
    notifier.ready(f"journal open, {opened} open transaction(s) to recover at sign-on")
    restart = asyncio.create_task(heartbeat.switched.wait())
    try:
        # An update installed (only with no transaction open) ends the program; the service
        # starts it again through `gridpos update boot`, which tries the new version.
        await asyncio.wait({running, restart}, return_when=asyncio.FIRST_COMPLETED)
        if restart.done():
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
        else:
            restart.cancel()
            await running  # its exception, if it ended by one
    finally:
        notifier.stopping()
        for task in background:
            task.cancel()
        closer()
        await terminal.link.close()
        terminal.journal.close()
    return 0


def _io(config, keys: str, display: str):
    from ui import render

    closers = []
    if display == "console" or keys == "keyboard":
        from ui.console import Console

        console = Console()
        closers.append(console.close)
    if display == "console":
        draw = console.draw
    elif display == "framebuffer":
        draw = render.FramebufferRenderer(
            config.display.framebuffer,
            (config.display.width, config.display.height),
            config.display.font,
        )
    elif display == "png":
        draw = _png_writer(config)
    else:
        draw = _text_writer()
    if keys == "keyboard":
        source = console.keys()
    elif keys == "stdin":
        source = stdin_keys()
    else:
        source = _keypad(config)
    return draw, source, lambda: [c() for c in closers]


def _text_writer():
    import sys

    from ui.render import as_text

    last = {"text": ""}

    def draw(screen, status) -> None:
        text = as_text(screen, status)
        body = text.split("\n", 1)[1]  # the status line's clock must not make a new screen
        if body != last["text"]:
            last["text"] = body
            print(f"=== screen {screen.mode}\n{text}\n=== end", flush=True)
            sys.stdout.flush()

    return draw


def _png_writer(config):
    from pathlib import Path

    from ui.render import save_png

    folder = Path(config.display.png_dir)
    count = {"n": 0}

    def draw(screen, status) -> None:
        count["n"] += 1
        save_png(
            screen,
            status,
            folder / f"screen-{count['n']:04d}.png",
            size=(config.display.width, config.display.height),
            font_path=config.display.font,
        )

    return draw


async def stdin_keys():
    """Keys from standard input: ``key OK``, ``key 7``, ``type 0100000123``."""
    import asyncio
    import sys

    from drivers.keypad.keys import Key

    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        words = line.split(maxsplit=1)
        if len(words) != 2:
            continue
        if words[0] == "type":
            for ch in words[1].strip():
                if ch.isdigit() or ch == ".":
                    yield Key(ch)
                elif ch == "-":
                    yield Key.F1  # the dash of a date range is F1 on the keypad
        elif words[0] == "key":
            name = words[1].strip()
            yield Key(name) if name.isdigit() or name == "." else Key[name]


async def _keypad(config):
    from drivers.discovery import DeviceKind, find
    from drivers.keypad.device import Keypad

    path = config.keypad.device or next(iter(find(DeviceKind.KEYPAD)), "")
    if not path:
        raise SystemExit("gridpos: no keypad found (set keypad.device)")
    keypad = Keypad(
        path,
        config.keypad.grab,
        config.keypad.remap,
        config.keypad.repeat_delay_s,
        config.keypad.repeat_interval_s,
    )
    async for press in keypad.presses():
        yield press.key
