"""Sign-on and the working key: who is signed on, in which batch, and every exchange under the key.

Every message after sign-on goes through ``Session.exchange``, so the rule "the station dropped
the working key (A0, A3, 77): sign on again before anything else" is applied in this one place,
whether the message was an inquiry, a payment, an outbox item or a settlement step.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from drivers.transport import LinkError
from offline_queue.journal import Journal
from terminal.core.lifecycle import SYSTEM
from terminal.core.orders import OrderIds
from terminal.protocol import keys as keylib
from terminal.protocol import messages as m
from terminal.protocol import sm4
from terminal.protocol.codes import PROTOCOL_LEGACY, PROTOCOL_VERSION
from terminal.protocol.responses import KEY_DROPPED, Code
from terminal.shell import offline_login
from terminal.shell.link import StationLink

log = logging.getLogger("gridpos.terminal")


class NotSignedOn(Exception):
    """Money cannot move before a successful sign-on."""


class StationDeclined(Exception):
    """The station answered with a refusal (or the terminal refuses for a reason of its own)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Session:
    def __init__(
        self,
        journal: Journal,
        link: StationLink,
        terminal_id: str,
        master_key: bytes,
        master_key_file: str | None = None,
    ) -> None:
        self.journal = journal
        self.link = link
        self.terminal_id = terminal_id
        self.master_key = master_key
        # Where the master key is kept, for a key change from the station (None: no changes).
        self.master_key_file = master_key_file
        self.mac_key: bytes | None = None
        self.batch = journal.counter("batch", 0)
        self.agent_name = ""
        self.operator = ""
        self.protocol = PROTOCOL_LEGACY  # the version the station speaks with us (field 24)
        # Locked by the station (a heartbeat command): no new payment until it unlocks.
        self.station_locked = bool(journal.counter("station_locked", 0))
        self.offline_amounts: dict = {}  # field 54 of the last 0810: the offline limits
        self.signed_on_at: datetime | None = None  # UTC, on this terminal's clock
        self.offline_only = False  # the last sign-on resumed with no link: offline payments only

    @property
    def signed_on(self) -> bool:
        return self.mac_key is not None

    async def sign_on(self, account: str, password: str) -> m.SignOnResponse:
        """Sign on; the station's trace counter lifts ours, so a trace never repeats. A new
        master key the station offers (field 35) is taken on here (``shell.keychange``)."""
        from terminal.shell import keychange

        return await keychange.sign_on(self, account, password)

    async def sign_on_under(
        self,
        account: str,
        password: str,
        master: bytes,
        processing: m.Processing = m.Processing.SIGN_ON,
    ) -> m.SignOnResponse:
        """One 0800 under ``master``: on approval its working key, batch and trace are taken."""
        trace = self.journal.take_trace()
        block = keylib.password_block(master, password, trace)
        request = m.SignOnRequest(
            terminal_id=self.terminal_id,
            trace=trace,
            account=account,
            password=block,
            protocol=PROTOCOL_VERSION,
            processing=processing,
        )
        reply = await self.link.exchange(request, master)
        if not reply.approved:
            raise StationDeclined(reply.response)
        assert isinstance(reply, m.SignOnResponse) and reply.keys is not None
        self.mac_key = keylib.unwrap_key(master, reply.keys)
        self.batch = reply.batch or 1
        self.agent_name = reply.name or ""
        self.protocol = reply.protocol or PROTOCOL_LEGACY  # a station without field 24: 1
        self.operator = account
        self.offline_amounts = dict(reply.amounts or {})
        self.signed_on_at = datetime.now(UTC)
        self.offline_only = False
        next_trace = max(self.journal.counter("next_trace", 1), reply.trace)
        self.journal.set_counter("next_trace", next_trace)
        self.journal.set_counter("batch", self.batch)
        self.journal.append(
            SYSTEM,
            "signed_on",
            {
                "operator": account,
                "batch": self.batch,
                "next_trace": next_trace,
                "station_time": reply.time.isoformat() if reply.time else None,
                "master_kcv": sm4.check_value(master).hex(),
                **offline_login.credentials(
                    password, self.offline_amounts, self.agent_name, self.master_key
                ),
            },
        )
        return reply

    def resume_offline(self, account: str, password: str) -> str | None:
        """No link at login: resume the last sign-on for offline payments (see
        ``offline_login``); None when resumed, else why not ("55", "no_offline_sign_on")."""
        now = datetime.now(UTC)
        resumed = offline_login.resume(self.journal, account, password, now, self.master_key)
        if isinstance(resumed, str):
            return resumed
        self.mac_key = None
        self.offline_only = True
        self.operator = account
        self.agent_name = resumed.get("agent", "")
        self.offline_amounts = resumed["limits"]
        self.signed_on_at = resumed["at"]
        self.batch = self.journal.counter("batch", self.batch)
        return None

    def lock(self) -> None:
        """Forget the working key: nothing more moves until the next sign-on."""
        self.mac_key = None

    def set_station_lock(self, locked: bool) -> None:
        """The station locked or unlocked this terminal: journalled, so a restart keeps it."""
        if locked != self.station_locked:
            self.journal.set_counter("station_locked", int(locked))
            self.journal.append(SYSTEM, "station_locked" if locked else "station_unlocked")
        self.station_locked = locked

    def key(self) -> bytes:
        if self.mac_key is None:
            raise NotSignedOn("sign on first")
        return self.mac_key

    def ids(self) -> OrderIds:
        """Terminal, open batch, a fresh persisted trace and the operator, for a new order (an
        offline one needs no working key: it is MACed only when it is uploaded); a terminal the
        station locked takes none (A2, told to the operator in plain words)."""
        if not self.offline_only:
            self.key()
        if self.station_locked:
            raise StationDeclined(Code.TERMINAL_LOCKED)
        return OrderIds(self.terminal_id, self.batch, self.journal.take_trace(), self.operator)

    def set_batch(self, batch: int) -> None:
        self.batch = batch
        self.journal.set_counter("batch", batch)

    async def exchange(self, message: m.Message) -> m.Response:
        """One exchange under the working key; a key-dropped answer forgets the key."""
        reply = await self.link.exchange(message, self.key())
        if reply.response in KEY_DROPPED:
            log.info("station answered %s: sign on again", reply.response)
            self.lock()
        return reply

    async def exchange_window(
        self, messages: list[m.Message]
    ) -> tuple[list[m.Response], LinkError | None]:
        """Several repeat-safe requests in one round trip (``StationLink.exchange_window``): the
        answers that came, in order, and the link error that stopped the rest."""
        answers, error = await self.link.exchange_window(messages, self.key())
        if any(answer.response in KEY_DROPPED for answer in answers):
            log.info("station dropped the working key: sign on again")
            self.lock()
        return answers, error

    async def request(self, message: m.Message) -> m.Response:
        """A non-financial exchange (inquiry, detail, settlement, heartbeat).

        These are safe to repeat (same key, stored answer), so a connection that turns out to
        be dead — GPRS operators drop idle connections silently — is retried once, fresh.
        """
        try:
            return await self.exchange(message)
        except LinkError as exc:
            log.info("%s failed (%s); once more on a new connection", message.mti, exc)
            return await self.exchange(message)

    async def inquire(
        self,
        processing: m.Processing = m.Processing.CUSTOMER,
        *,
        customer_no: str | None = None,
        card_serial: bytes | None = None,
        reading: int | None = None,
        days: tuple[int, int] | None = None,
    ) -> m.InquiryResponse:
        """An inquiry; a refusal is raised as ``StationDeclined``."""
        self.key()
        request = m.InquiryRequest(
            processing=processing,
            terminal_id=self.terminal_id,
            batch=self.batch,
            trace=self.journal.take_trace(),
            customer_no=customer_no,
            card_serial=card_serial,
            reading=reading,
            range=days,
        )
        reply = await self.request(request)
        if not reply.approved:
            raise StationDeclined(reply.response)
        assert isinstance(reply, m.InquiryResponse)
        return reply
