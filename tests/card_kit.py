"""A private pcscd with the vpcd virtual reader for card tests (skipped, saying why, where it
cannot run).

Each test session has its own pcscd and its own vpcd port (``sim.card.pcscd``), so two test runs
on one machine never play cards into the same virtual reader. ``conftest.pytest_configure``
points the session at it (``point_at_private_pcscd``) before anything touches PC/SC: the client
library reads where pcscd is only once per process.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from sim.card.pcscd import READER, private_pcscd_env, start_private_pcscd

__all__ = ["READER", "point_at_private_pcscd", "start_pcscd"]

_folder: Path | None = None


def point_at_private_pcscd() -> Path:
    """Choose the session's pcscd folder and vpcd port and put them in the environment."""
    global _folder
    _folder = Path(tempfile.mkdtemp(prefix="gridpos-pcscd-"))
    private_pcscd_env(_folder)
    return _folder


def start_pcscd():
    assert _folder is not None, "point_at_private_pcscd runs at pytest_configure"
    proc, reason = start_private_pcscd(_folder)
    if reason:
        pytest.skip(reason + " — `make test` installs pcscd and vpcd and runs as root")
    return proc


def forget_private_pcscd() -> None:
    if _folder is not None:
        shutil.rmtree(_folder, ignore_errors=True)
