"""``gridpos keys load``: put the terminal master key on the terminal, as bank terminals do.

The utility's key custodians each hold one component of the key (32 hex digits) with its check
value; the key is the XOR of the components, so no single person ever knows it. They are typed
here one after the other (not echoed on a terminal), or read from a key-loading file. Every
component is proved by its check value before anything is written, and a wrong one is refused;
the key is then stored 0600, owned by the program's user, in ``keys.master_key_file``, and the
combined key's check value is shown for the custodians to compare with the one they were given.

The key and its components are never printed, logged or put into an error message: only check
values leave this module.

The key-loading file is text, ``name = value`` per line, ``#`` for comments::

    terminal = T0000001     # optional: refused on a terminal with another id
    component1 = <32 hex>
    kcv1 = <6 or 8 hex>
    component2 = <32 hex>
    kcv2 = <6 or 8 hex>
    kcv = <6 or 8 hex>      # optional: the combined key's check value
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

log = logging.getLogger("gridpos.keys")

PACKAGE_CONFIG = Path("/etc/gridpos/gridpos.toml")


class Refused(Exception):
    """The key is not loaded; the message says why, without any key material."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        help=f"site configuration file (default: {PACKAGE_CONFIG} when present): where the "
        "key goes (keys.master_key_file) and the terminal id",
    )
    parser.add_argument("--file", help="key-loading file (default: type the components)")
    parser.add_argument("--components", type=int, default=2, help="components to type (default: 2)")
    parser.add_argument("--kcv", help="the combined key's check value, to compare")
    parser.add_argument("--owner", default="gridpos", help="user the key file belongs to")
    parser.add_argument("--replace", action="store_true", help="replace a key already loaded")


def run(args: argparse.Namespace) -> int:
    from config.loader import load_config

    config_path = args.config or (str(PACKAGE_CONFIG) if PACKAGE_CONFIG.exists() else None)
    config = load_config(config_path)
    target = Path(config.keys.master_key_file)
    try:
        if target.exists() and not args.replace:
            raise Refused(f"{target}: a master key is loaded already (--replace to change it)")
        uid, gid = _owner(args.owner)
        if args.file:
            components, kcvs, combined_kcv = _from_file(Path(args.file), config.terminal.id)
        else:
            components, kcvs = _typed(args.components)
            combined_kcv = args.kcv
        key = _combine(components, kcvs, combined_kcv)
    except Refused as exc:
        print(f"gridpos: master key NOT loaded: {exc}", file=sys.stderr)
        return 2
    from terminal.protocol import sm4
    from terminal.protocol.keys import save_key_file

    save_key_file(target, key, uid, gid)
    kcv = sm4.check_value(key).hex().upper()
    log.info("terminal master key loaded into %s, check value %s", target, kcv)
    print(f"主密钥已装载 master key loaded: {target}")
    print(f"校验值 check value: {kcv}")
    return 0


def _combine(components: list[bytes], kcvs: list[str], combined_kcv: str | None) -> bytes:
    from terminal.protocol.keys import KeyMaterialError, check_value_matches, combine_components

    for number, (component, kcv) in enumerate(zip(components, kcvs, strict=True), 1):
        if not check_value_matches(component, kcv):
            raise Refused(f"component {number}: check value does not match (typing error?)")
    try:
        key = combine_components(components)
    except KeyMaterialError as exc:
        raise Refused(str(exc)) from None
    if combined_kcv and not check_value_matches(key, combined_kcv):
        raise Refused("the combined key's check value does not match")
    return key


def _component(text: str, what: str) -> bytes:
    digits = "".join(text.split())
    try:
        value = bytes.fromhex(digits)
    except ValueError:
        value = b""
    if len(value) != 16:
        raise Refused(f"{what}: must be 32 hex digits")  # never echo what was typed
    return value


def _typed(count: int) -> tuple[list[bytes], list[str]]:
    """Components and check values typed by their holders: hidden on a terminal (getpass), one
    per line from standard input otherwise (a script, a test)."""
    import getpass

    def ask(prompt: str, secret: bool) -> str:
        if sys.stdin.isatty():
            return getpass.getpass(prompt) if secret else input(prompt)
        print(prompt, end="", file=sys.stderr, flush=True)
        line = sys.stdin.readline()
        if not line:
            raise Refused("input ended before every component was given")
        return line.strip()

    components, kcvs = [], []
    for number in range(1, count + 1):
        components.append(_component(ask(f"分量{number} component {number}: ", True), "component"))
        kcvs.append(ask(f"分量{number}校验值 check value {number}: ", False))
    return components, kcvs


def _from_file(path: Path, terminal_id: str) -> tuple[list[bytes], list[str], str | None]:
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise Refused(f"{path}: cannot read the key-loading file ({type(exc).__name__})") from None
    values: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        name, sep, value = text.partition("=")
        if not sep:
            raise Refused(f"{path}:{number}: expected name = value")
        values[name.strip().lower()] = value.strip()
    if values.get("terminal", terminal_id) != terminal_id:
        raise Refused(f"{path}: the file is for terminal {values['terminal']}, not {terminal_id}")
    components, kcvs = [], []
    number = 1
    while f"component{number}" in values:
        components.append(_component(values[f"component{number}"], f"component{number}"))
        if f"kcv{number}" not in values:
            raise Refused(f"{path}: kcv{number} missing: every component needs its check value")
        kcvs.append(values[f"kcv{number}"])
        number += 1
    if len(components) < 2:
        raise Refused(f"{path}: needs component1, component2 with kcv1, kcv2")
    return components, kcvs, values.get("kcv")


def _owner(name: str) -> tuple[int, int]:
    """The uid and gid of the key file's owner; -1 (unchanged) when that is the caller."""
    import os
    import pwd

    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise Refused(f"user {name!r} does not exist (install the package, or --owner)") from None
    if entry.pw_uid == os.geteuid():
        return -1, -1
    if os.geteuid() != 0:
        raise Refused(f"only root can give the key file to {name!r}")
    return entry.pw_uid, entry.pw_gid
