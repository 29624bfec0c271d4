"""Software updates wired to the configuration: where they live, the release key the package
carries (``update_key.pub`` beside this file) and which version this program is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

KEY_FILE = Path(__file__).with_name("update_key.pub")


def running_version() -> str:
    """The version of the code running: the ``VERSION`` file at the top of an installed update
    (``terminal/tools/release.py`` puts it there), else the Python package's own version."""
    from importlib.metadata import PackageNotFoundError, version

    mark = Path(__file__).resolve().parents[2] / "VERSION"
    if mark.is_file():
        return mark.read_text().strip()
    try:
        return version("gridpos")
    except PackageNotFoundError:
        return "0"


def build_updater(config: Any, terminal: Any) -> Any:
    """The ``Updater`` of ``terminal``, any trial in progress checked at once; None (no
    updates, payments as usual) when its folder or the release key cannot be used."""
    import logging

    from terminal.protocol.update_offer import read_public_key
    from terminal.shell.update_store import UpdateStore
    from terminal.shell.updates import Updater

    try:
        store = UpdateStore(config.update.dir)
        key = read_public_key(KEY_FILE.read_text())
    except (OSError, ValueError) as exc:
        logging.getLogger("gridpos.update").warning("software updates are off: %s", exc)
        return None
    updater = Updater(
        store,
        terminal.session,
        terminal.journal,
        key,
        running_version(),
        config.update.ready_within_s,
        budget_bytes=config.update.budget_bytes,
    )
    updater.check()
    return updater
