"""``gridpos fuzz``: throw random and mutated input at every parser for a while.

Each target takes bytes or text and must end in its own clear error or a value — never another
exception. Inputs are random and mutations of valid samples (bit flips, cuts, splices, repeats),
from a seeded generator, so a failure is reproducible with the same ``--seed``. The test suite
runs the same targets briefly through hypothesis; this command runs them for as long as asked.
"""

from __future__ import annotations

import argparse
import random
import time
import traceback
from collections.abc import Callable


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=60, help="time per target")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--target", help="only this target")


def _targets() -> dict[str, tuple[Callable[[bytes], object], tuple[type, ...], list[bytes]]]:
    """name -> (function, the errors it may raise, valid samples to mutate)."""
    from drivers.card import profile as p
    from drivers.modem.at import ATReader
    from sim.card.card import VirtualCard, user_image
    from terminal.protocol import messages as m
    from terminal.protocol.framing import FrameDecoder, FrameError
    from terminal.tools.samples import typical_messages
    from terminal.tools.scenario import ScenarioError, parse

    def at_reader(data: bytes) -> object:
        reader = ATReader()
        return [reader.feed(data[i : i + 7]) for i in range(0, len(data), 7)]

    def frames(data: bytes) -> object:
        return FrameDecoder().feed(data)

    def apdu(data: bytes) -> object:
        card = VirtualCard(
            user_image(bytes(8), "0100000005", "000100000005", 3, bytes(16), bytes(16))
        )
        answer = card.process(data)
        assert len(answer) >= 2
        return p.Command.parse(data)

    file_parsers = (p.CardInfo.unpack, p.CustomerFile.unpack, p.parse_grant, p.ReturnFile.unpack)
    file_ids = (p.FID_INFO, p.FID_CUSTOMER, p.FID_PURCHASE, p.FID_RETURN)

    def card_files(data: bytes) -> object:
        """The first byte picks the file's parser, the rest is the file."""
        if not data:
            raise p.CardError("empty")
        return file_parsers[data[0] % len(file_parsers)](data[1:])

    demo_files = user_image(
        bytes(range(8)), "0100000005", "000100000005", 3, bytes(16), bytes(16)
    ).files

    def config(data: bytes) -> object:
        import tempfile
        from pathlib import Path

        from config.loader import load_config

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "site.toml"
            path.write_bytes(data)
            return load_config(path)

    def scenario(data: bytes) -> object:
        return parse(data.decode("utf-8", errors="replace"))

    from config.loader import ConfigError
    from terminal.protocol.records import CodecError

    messages = [m.encode(msg, bytes(16)) for msg in typical_messages()]
    config_sample = b'[terminal]\nid = "T0000009"\n[station]\nport = 9000\n[ui]\nlocale = "en"\n'
    scenario_sample = "key OK\ntype 0100000123\nexpect 主菜单\nlink drop-after 5\n".encode()
    return {
        "codec": (m.decode, (CodecError,), messages),
        "frames": (frames, (FrameError,), [b"\x00\x03abc\x00\x01x"]),
        "at_reader": (
            at_reader,
            (),
            [
                b"AT+CSQ\r\r\n+CSQ: 21,0\r\n\r\nOK\r\n",
                b"\r\n+IPD,5:hello\r\n",
                b"\r\n+RECEIVE: 0, 3\r\nabc",
            ],
        ),
        "apdu": (apdu, (p.CardError,), [p.select(1), p.read_binary(0, 16), p.get_challenge()]),
        "card_files": (
            card_files,
            (p.CardError,),
            [bytes([i]) + demo_files[fid] for i, fid in enumerate(file_ids)],
        ),
        "config": (config, (ConfigError,), [config_sample]),
        "scenario": (scenario, (ScenarioError,), [scenario_sample]),
    }


def mutate(rng: random.Random, samples: list[bytes]) -> bytes:
    choice = rng.random()
    if choice < 0.15:
        return rng.randbytes(rng.randint(0, 300))
    data = bytearray(rng.choice(samples))
    for _ in range(rng.randint(1, 6)):
        action = rng.random()
        if action < 0.4 and data:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif action < 0.55 and data:
            del data[rng.randrange(len(data)) :]
        elif action < 0.7:
            data[rng.randint(0, len(data)) : rng.randint(0, len(data))] = rng.randbytes(
                rng.randint(1, 8)
            )
        elif action < 0.85 and data:
            start = rng.randrange(len(data))
            data += data[start : start + rng.randint(1, 16)]
        else:
            data += rng.choice(samples)
    return bytes(data)


def run(args: argparse.Namespace) -> int:
    targets = _targets()
    if args.target:
        if args.target not in targets:
            print(f"gridpos: no fuzz target {args.target!r}; targets: {', '.join(targets)}")
            return 2
        targets = {args.target: targets[args.target]}
    failures = 0
    for name, (function, allowed, samples) in targets.items():
        rng = random.Random(f"{args.seed}:{name}")
        deadline = time.monotonic() + args.seconds
        runs = refused = 0
        while time.monotonic() < deadline:
            data = mutate(rng, samples)
            runs += 1
            try:
                function(data)
            except allowed:
                refused += 1
            except Exception:
                failures += 1
                print(f"{name}: unexpected exception for input {data.hex()}")
                traceback.print_exc()
                break
        print(f"{name:<12} {runs:>8} inputs, {refused:>8} refused with a clear error", flush=True)
    print("no unexpected exception" if not failures else f"{failures} target(s) failed")
    return 1 if failures else 0
