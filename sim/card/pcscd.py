"""Making sure pcscd runs with the vpcd virtual reader, for the demo and the tests."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
READER = "Virtual PCD 00 00"


def virtual_reader_ready() -> bool:
    from drivers.card.reader import NoReader, list_readers

    try:
        return READER in list_readers()
    except NoReader:
        return False


def ensure_pcscd(timeout: float = 10) -> tuple[subprocess.Popen | None, str]:
    """(process started here or None, "" when ready or the plain reason it is not)."""
    pcscd = shutil.which("pcscd") or (
        "/usr/sbin/pcscd" if Path("/usr/sbin/pcscd").exists() else None
    )
    if pcscd is None:
        return None, "pcscd is not installed (Debian package pcscd)"
    if not VPCD_DRIVER.exists():
        return None, "the vpcd reader driver is not installed (Debian package vsmartcard-vpcd)"
    if virtual_reader_ready():
        return None, ""
    proc = subprocess.Popen(
        [pcscd, "--foreground"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if virtual_reader_ready():
            return proc, ""
        if proc.poll() is not None:
            return None, f"pcscd could not start (exit {proc.returncode}; it needs root)"
        time.sleep(0.1)
    proc.terminate()
    return None, "pcscd started but the vpcd reader did not appear"
