"""pcscd with the vpcd virtual reader: the system's for the demo, a private one for the tests.

The demo plays its card into the system pcscd (vpcd on port 35963, /etc/reader.conf.d/vpcd) and
starts that pcscd when it is not running (``ensure_pcscd``).

Two test runs on one machine must not play cards into the same virtual reader, so each test
session runs a pcscd of its own (``start_private_pcscd``): its reader.conf names vpcd at a free
port, and its socket lives in a temporary folder. pcscd 1.9.9 (Debian 12) does not take its
socket from ``PCSCLITE_CSOCK_NAME`` — only the client library libpcsclite, which pyscard uses,
reads that variable — but binds the path it was built with, /run/pcscd/pcscd.comm, and refuses to
start while another pcscd holds it ("file /run/pcscd/pcscd.comm already exists"). The private
pcscd therefore runs in a mount namespace of its own (``unshare --mount``, which needs root, as
starting pcscd does) where the temporary folder is mounted over /run/pcscd: its socket appears
in that folder for everyone else. Clients find it through ``PCSCLITE_CSOCK_NAME`` and the card
emulator finds its vpcd port through ``GRIDPOS_VPCD_PORT``; ``private_pcscd_env`` sets both in
``os.environ``, so every child process — ``gridpos sim card``, the demo and its terminal —
follows. libpcsclite reads the variable once per process, at its first call, so the variables
must be set before this process touches PC/SC at all.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from sim.card.vpcd import PORT_ENV

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
READER = "Virtual PCD 00 00"
SOCKET_ENV = "PCSCLITE_CSOCK_NAME"  # libpcsclite's: where the clients look for pcscd
SYSTEM_RUN_DIR = Path("/run/pcscd")  # where pcscd 1.9.9 always puts its socket
READY_POLL_S = 0.1  # pcscd gives no sign when its readers are up: asked this often


def virtual_reader_ready() -> bool:
    from drivers.card.reader import NoReader, list_readers

    try:
        return READER in list_readers()
    except NoReader:
        return False


def _pcscd() -> tuple[str | None, str]:
    pcscd = shutil.which("pcscd") or (
        "/usr/sbin/pcscd" if Path("/usr/sbin/pcscd").exists() else None
    )
    if pcscd is None:
        return None, "pcscd is not installed (Debian package pcscd)"
    if not VPCD_DRIVER.exists():
        return None, "the vpcd reader driver is not installed (Debian package vsmartcard-vpcd)"
    return pcscd, ""


def _wait_ready(proc: subprocess.Popen, timeout: float, what: str) -> str:
    """Wait until the virtual reader is listed; "" or the plain reason it never was."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if virtual_reader_ready():
            return ""
        if proc.poll() is not None:
            return f"{what} could not start (exit {proc.returncode}; it needs root)"
        time.sleep(READY_POLL_S)
    proc.terminate()
    proc.wait(10)
    return f"{what} started but the vpcd reader did not appear"


def ensure_pcscd(timeout: float = 10) -> tuple[subprocess.Popen | None, str]:
    """(process started here or None, "" when ready or the plain reason it is not).

    Under a private pcscd (``PCSCLITE_CSOCK_NAME`` set, as the tests do) that one is used and
    never replaced by the system's.
    """
    pcscd, reason = _pcscd()
    if pcscd is None:
        return None, reason
    if virtual_reader_ready():
        return None, ""
    if os.environ.get(SOCKET_ENV):
        return None, f"the pcscd at {os.environ[SOCKET_ENV]} does not list {READER}"
    proc = subprocess.Popen(
        [pcscd, "--foreground"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    reason = _wait_ready(proc, timeout, "pcscd")
    return (None, reason) if reason else (proc, "")


def free_port_pair() -> int:
    """A free TCP port whose next port is free too: vpcd listens on both (its two slots)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    raise OSError("no two free TCP ports in a row")


def private_pcscd_env(folder: Path) -> dict[str, str]:
    """Point this process and its children at a private pcscd in ``folder`` (started later by
    ``start_private_pcscd``): its socket there, vpcd at a free port. Returns what was set."""
    env = {SOCKET_ENV: str(folder / "run" / "pcscd.comm"), PORT_ENV: str(free_port_pair())}
    os.environ.update(env)
    return env


def start_private_pcscd(folder: Path, timeout: float = 10) -> tuple[subprocess.Popen | None, str]:
    """Start the private pcscd that ``private_pcscd_env(folder)`` named.

    Returns (the process, "") when its virtual reader is listed, or (None, the plain reason).
    Stopping the process ends its mount namespace too.
    """
    pcscd, reason = _pcscd()
    if pcscd is None:
        return None, reason
    unshare = shutil.which("unshare")
    if unshare is None:
        return None, "unshare (Debian package util-linux) is needed for a private pcscd"
    if os.geteuid() != 0:
        return None, "a private pcscd needs root (for its own mount of /run/pcscd)"
    run_dir = Path(os.environ[SOCKET_ENV]).parent
    if run_dir.parent != folder:
        return None, f"{SOCKET_ENV} does not point into {folder}: call private_pcscd_env first"
    run_dir.mkdir(parents=True, exist_ok=True)
    SYSTEM_RUN_DIR.mkdir(parents=True, exist_ok=True)  # the mount point
    port = int(os.environ[PORT_ENV])
    config = folder / "reader.conf"
    config.write_text(
        f"""# a private vpcd reader for one test session (see sim/card/pcscd.py)
FRIENDLYNAME "Virtual PCD"
DEVICENAME   /dev/null:{port}
LIBPATH      {VPCD_DRIVER}
CHANNELID    {port}
""",
        encoding="utf-8",
    )
    log = open(folder / "pcscd.log", "wb")  # noqa: SIM115 - pcscd writes it until it stops
    proc = subprocess.Popen(
        [
            unshare,
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            'mount --bind "$1" "$2" && exec "$3" --foreground --config "$4"',
            "sh",
            str(run_dir),
            str(SYSTEM_RUN_DIR),
            pcscd,
            str(config),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    reason = _wait_ready(proc, timeout, "the private pcscd")
    if reason:
        tail = (folder / "pcscd.log").read_text(errors="replace")[-500:]
        return None, f"{reason}: {tail.strip()}"
    return proc, ""
