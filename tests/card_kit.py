"""pcscd with the vpcd virtual reader for card tests (skipped, saying why, where it cannot run)."""

from __future__ import annotations

import pytest

from sim.card.pcscd import READER, ensure_pcscd

__all__ = ["READER", "start_pcscd"]


def start_pcscd():
    proc, reason = ensure_pcscd()
    if reason:
        pytest.skip(reason + " — `make test` installs it when run as root")
    return proc
