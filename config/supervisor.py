"""The supervisor's password that authorises a cancel (撤销), kept as a salted slow hash.

Where it lives, and why: in the terminal's site configuration (``terminal.supervisor_password``)
as ``pbkdf2-sha256$ITERATIONS$SALT$HASH``, checked on the terminal. A cancel must work where
the link does not — its reversal waits in the must-deliver outbox like any other — and the
station's answer to the reversal restores the agent's limit whoever authorised it, so a check
at the station would add a round trip and a protocol message without protecting the money any
better. The hash is salted per terminal and slow (PBKDF2, 200 000 rounds of SHA-256: 0.04 s
on a PC, under a second on a small ARM terminal), so a copied configuration file does not give
the password away cheaply; no secret is ever stored in clear. An empty value turns cancel off:
the menu says so.

    gridpos config supervisor-password    (asks twice, prints the line for the site file)
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import hmac
import secrets

SCHEME = "pbkdf2-sha256"
ITERATIONS = 200_000


def hash_password(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """The value to store: scheme, rounds, a fresh 16-byte salt and the derived key, in hex."""
    salt = secrets.token_bytes(16) if salt is None else salt
    derived = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"{SCHEME}${iterations}${salt.hex()}${derived.hex()}"


def check_password(stored: str, password: str) -> bool:
    """Whether ``password`` is the one ``stored`` was made from (never true when none is set)."""
    try:
        scheme, rounds, salt, expected = stored.split("$")
        iterations = int(rounds)
        salt_bytes = bytes.fromhex(salt)
    except ValueError:
        return False
    if scheme != SCHEME or not password:
        return False
    derived = hashlib.pbkdf2_hmac("sha256", password.encode(), salt_bytes, iterations)
    return hmac.compare_digest(derived.hex(), expected)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stdin", action="store_true", help="read the password from standard input (scripts)"
    )


def run(args: argparse.Namespace) -> int:
    """Ask for the supervisor's password and print the site-file line that stores its hash."""
    if args.stdin:
        password = input().strip()
    else:
        password = getpass.getpass("supervisor password: ")
        if getpass.getpass("again: ") != password:
            print("the two passwords differ; nothing printed")
            return 1
    if len(password) < 6 or not password.isdigit():
        print("a supervisor password is at least 6 digits (it is typed on the keypad)")
        return 1
    print("[terminal]")
    print(f'supervisor_password = "{hash_password(password)}"')
    return 0
