"""Software updates on the terminal: take the offer from the 0830, download the package over the
station link in resumable chunks, check it, install it when no transaction is open, and confirm
or roll back the new version.

The lifecycle is ``terminal.core.update_state``; this module carries out what each state
announces, after journalling it (``terminal.shell.update_store``). The heartbeat path calls
``handle_update_offer`` with the 0830 and a byte budget: GPRS is slow (300 KB take over a
minute at 40 kbit/s) and the link is the payments' first, so a download goes on a budget's worth
at a time and resumes at the next heartbeat, or after a restart, from the bytes on disk.

The package is trusted only through the release key's signature over version, size and SHA-256
(``terminal.protocol.update_offer``): checked when offered, before a byte is fetched, and again
with the bytes' hash just before installing. The public key is a file of the package
(``terminal/app/update_key.pub``), handed in by the app.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from drivers.transport import LinkError
from offline_queue.journal import Journal
from terminal.core.update_state import (
    Downloaded,
    Event,
    InstallFailed,
    Installing,
    Offered,
    Stage,
    Switched,
    UpdateState,
    Withdrawn,
)
from terminal.protocol import messages as m
from terminal.protocol.responses import Code
from terminal.protocol.update_offer import CHUNK_MAX, CHUNK_WINDOW, PACKAGE_MAX, UpdateOffer
from terminal.shell.session import NotSignedOn, Session
from terminal.shell.update_store import UpdateStore, report_ready
from terminal.shell.update_trial import Trial, advance

log = logging.getLogger("gridpos.update")

# Package bytes one heartbeat may fetch: GPRS is paid by the byte and slow (64 KB take about
# 14 s at 40 kbit/s), and the link is the payments' first.
UPDATE_BUDGET_BYTES = 64 * 1024


class Updater:
    def __init__(
        self,
        store: UpdateStore,
        session: Session,
        journal: Journal,
        public_key: bytes,
        running: str,
        ready_within_s: float = 300.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        budget_bytes: int = UPDATE_BUDGET_BYTES,
    ) -> None:
        self.store = store
        self.session = session
        self.journal = journal
        self.public_key = public_key
        self.running = running
        self.ready_within = timedelta(seconds=ready_within_s)
        self.clock = clock
        self.budget_bytes = budget_bytes  # per heartbeat, unless the caller says otherwise

    @property
    def state(self) -> UpdateState:
        return self.store.state()

    def _move(self, event: Event) -> UpdateState:
        return advance(self.store, event)

    # --- the offer and the download ------------------------------------------------------------

    def offered(self, reply: m.HeartbeatResponse) -> UpdateState:
        """Take note of the 0830's offer; a signature that does not verify refuses it at once."""
        if reply.version is None or reply.offer is None:
            return self.state
        offer = reply.offer
        signed = offer.size <= PACKAGE_MAX and offer.signed_by(self.public_key, reply.version)
        event = Offered(
            reply.version,
            offer.size,
            offer.sha256.hex(),
            offer.signature.hex(),
            signed,
            self.running,
        )
        return self._move(event)

    async def download(
        self, budget_bytes: int | None = None, busy: Callable[[], bool] | None = None
    ) -> bool:
        """Fetch chunks until the package is all on disk and checked (True), or ``budget_bytes``
        are fetched, ``busy()`` says the link is wanted for a payment, the link fails or the
        station withdraws the version (False: resume later). Chunks are asked ``CHUNK_WINDOW`` at
        a time before the first answer (R52); a window is about two seconds of GPRS, so a
        payment waits at most that long for the link."""
        state = self.state
        if state.stage is not Stage.DOWNLOADING:
            return state.stage is Stage.VERIFIED
        version, size = state.version, state.size
        if self.store.received(version) > size:
            self.store.discard(version)  # not this offer's bytes: start again
        started = self.store.received(version)
        retried = False
        while (have := self.store.received(version)) < size:
            if budget_bytes is not None and have - started >= budget_bytes:
                return False
            if busy is not None and busy():
                return False
            window = [
                self._chunk_request(version, offset, min(CHUNK_MAX, size - offset))
                for offset in range(have, size, CHUNK_MAX)[:CHUNK_WINDOW]
            ]
            try:
                answers, error = await self.session.exchange_window(list(window))
            except NotSignedOn as exc:
                answers, error = [], LinkError(str(exc))
            for request, reply in zip(window, answers, strict=False):
                if not self._store_chunk(version, request, reply):
                    return False
            if error is not None:
                if answers or not retried:  # progress, or a first failure: on a new connection
                    retried = not answers
                    continue
                log.info("update %s: paused at %d of %d bytes: %s", version, have, size, error)
                return False
            retried = False
        hash_ok = self.store.sha256(version) == state.sha256
        if not hash_ok:
            self.store.discard(version)
        return self._move(Downloaded(hash_ok)).stage is Stage.VERIFIED

    def _chunk_request(self, version: str, offset: int, length: int) -> m.InquiryRequest:
        return m.InquiryRequest(
            processing=m.Processing.UPDATE_CHUNK,
            terminal_id=self.session.terminal_id,
            batch=self.session.batch,
            trace=self.journal.take_trace(),
            version=version,
            range=(offset, length),
        )

    def _store_chunk(self, version: str, request: m.InquiryRequest, reply: m.Response) -> bool:
        """Append an answered chunk; False when the download must stop here (withdrawn, or an
        answer that is not the bytes asked for)."""
        assert request.range is not None
        offset, wanted = request.range
        if reply.response == Code.ORIGINAL_NOT_FOUND:
            self._move(Withdrawn())
            self.store.discard(version)
            return False
        chunk = getattr(reply, "chunk", None) or b""
        if not reply.approved or getattr(reply, "range", None) != (offset, len(chunk)):
            log.warning("update %s: bad chunk answer %s at %d", version, reply.response, offset)
            return False
        if not 0 < len(chunk) <= wanted or self.store.received(version) != offset:
            return False
        self.store.append(version, offset, chunk)
        return True

    # --- installing and the trial ------------------------------------------------------------

    def install(self, transaction_open: bool) -> bool:
        """Install a checked package when no transaction is open: True when ``current`` now
        points at it, and the program should restart into it."""
        state = self.state
        if state.stage is not Stage.VERIFIED or transaction_open:
            return False
        offer = UpdateOffer(state.size, bytes.fromhex(state.sha256), bytes.fromhex(state.signature))
        hash_ok = self.store.sha256(state.version) == state.sha256
        if not (hash_ok and offer.signed_by(self.public_key, state.version)):
            self._move(Downloaded(False))
            self.store.discard(state.version)
            return False
        import tarfile  # only when installing

        previous = self.store.current()
        self._move(Installing(previous))
        try:
            self.store.unpack(state.version)
            if previous:
                self.store.point("previous", previous)
            self.store.point("current", state.version)
        except (OSError, tarfile.TarError) as exc:
            log.warning("update %s: cannot install: %s", state.version, exc)
            self._move(InstallFailed(f"unpack: {exc}"))
            Trial(self.store, self.clock).go_back(previous)
            return False
        self.store.discard(state.version)
        self._move(Switched(self.clock() + self.ready_within))
        return True

    def check(self) -> UpdateState:
        """Confirm or roll back a trial (``Trial.check``)."""
        return Trial(self.store, self.clock).check()

    def ready(self) -> UpdateState:
        """This program is up (recovered, sign-on tried): mark it, and confirm its trial."""
        report_ready(self.store.root, self.running)
        return self.check()


async def handle_update_offer(
    updater: Updater | None,
    reply: m.Response,
    transaction_open: Callable[[], bool],
    budget_bytes: int | None = None,
    busy: Callable[[], bool] | None = None,
) -> bool:
    """What the heartbeat path does with an 0830: note any offer, download up to
    ``budget_bytes`` of the package (the updater's own budget when None; 0 only notes the
    offer; ``busy`` pauses it between chunks), and install once complete if no transaction is
    open.

    True when a new version was switched to: the program should exit to be restarted in it.
    """
    if updater is None or not isinstance(reply, m.HeartbeatResponse) or not reply.approved:
        return False
    try:
        updater.offered(reply)
        budget = updater.budget_bytes if budget_bytes is None else budget_bytes
        if budget <= 0 or not await updater.download(budget, busy):
            return False
        return updater.install(transaction_open())
    except OSError as exc:  # a full or failing disk stops the update, never the heartbeat
        log.warning("update: %s", exc)
        return False
