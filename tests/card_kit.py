"""pcscd with the vpcd virtual reader for card tests: started here if not already running."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
READER = "Virtual PCD 00 00"


def virtual_reader_ready() -> bool:
    from drivers.card.reader import NoReader, list_readers

    try:
        return READER in list_readers()
    except NoReader:
        return False


def start_pcscd():
    """Make sure pcscd with vpcd runs; returns the process if this call started it."""
    if shutil.which("pcscd") is None and not Path("/usr/sbin/pcscd").exists():
        pytest.skip(
            "pcscd is not installed (Debian package pcscd; `make test` installs it as root)"
        )
    if not VPCD_DRIVER.exists():
        pytest.skip("the vpcd reader driver is not installed (Debian package vsmartcard-vpcd)")
    if virtual_reader_ready():
        return None
    pcscd = shutil.which("pcscd") or "/usr/sbin/pcscd"
    proc = subprocess.Popen(
        [pcscd, "--foreground"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if virtual_reader_ready():
            return proc
        if proc.poll() is not None:
            pytest.skip(f"pcscd could not start here (exit {proc.returncode}; it needs root)")
        time.sleep(0.1)
    proc.terminate()
    pytest.skip("pcscd started but the vpcd reader did not appear")
