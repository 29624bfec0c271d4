"""The trial of a newly installed version: it must report ready within a bound, or the terminal
goes back to the version before it.

``Trial.check`` is what every start does first (and the updater now and then); ``supervise`` is
the launcher's loop for a version that may not even start: it runs the program ``current``
points at, restarts it if it dies, and when the deadline passes without a ready report it stops
the program and switches back, so the service starts the previous version. A new version that
cannot import its own modules never gets to run any code of its own, so the rollback must come
from outside it: from the launcher, or from the previous version's next start.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from terminal.core.update_state import (
    Checked,
    Event,
    InstallFailed,
    Ready,
    Stage,
    UpdateState,
    step,
)
from terminal.shell.update_store import UpdateStore

log = logging.getLogger("gridpos.update")


def advance(store: UpdateStore, event: Event) -> UpdateState:
    """Apply ``event`` to the journalled state; a changed state is journalled before anything
    it announces is done."""
    before = store.state()
    after = step(before, event)
    if after != before:
        store.record(after)
        log.info("update %s: %s -> %s", after.version, before.stage.value, after.stage.value)
    return after


class Trial:
    def __init__(
        self, store: UpdateStore, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.store = store
        self.clock = clock

    def check(self) -> UpdateState:
        """Confirm a trial that reported ready, roll back one past its deadline, and finish a
        switch a power cut interrupted (by going back)."""
        state = self.store.state()
        if state.stage is Stage.INSTALLING:
            state = advance(self.store, InstallFailed("interrupted"))
        if state.stage is Stage.TRIAL:
            if self.store.is_ready(state.version):
                confirmed = advance(self.store, Ready(state.version))
                self.store.prune()  # the new one works: older ones than the previous can go
                return confirmed
            state = advance(self.store, Checked(self.clock()))
        if state.stage is Stage.ROLLED_BACK and self.store.current() == state.version:
            self.go_back(state.previous)
        return state

    def go_back(self, previous: str) -> None:
        if previous:
            self.store.point("current", previous)
        else:  # the first update over a package install: back to the installed program
            (self.store.root / "current").unlink(missing_ok=True)
        log.warning("update: back to %s", previous or "the installed version")


def supervise(
    store: UpdateStore,
    command: list[str],
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    poll_s: float = 0.1,
) -> tuple[UpdateState, Any]:
    """Run ``command`` in the folder ``current`` points at while a trial lasts.

    Returns the trial's outcome and the program's process: still running when confirmed,
    None when the trial rolled back (the program was stopped; start the previous one).
    """
    import subprocess

    trial = Trial(store, clock)
    state = trial.check()
    process = subprocess.Popen(command, cwd=store.root / "current")
    while state.stage is Stage.TRIAL:
        if process.poll() is not None:
            log.warning("update %s: exited with %s before ready", state.version, process.returncode)
            process = subprocess.Popen(command, cwd=store.root / "current")
        time.sleep(poll_s)  # the launcher waits on a program, not on a test
        state = trial.check()
    if state.stage is not Stage.ROLLED_BACK:
        return state, process
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    return state, None
