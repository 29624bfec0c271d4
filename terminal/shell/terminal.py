"""The terminal's shell, assembled: one journal and one station link shared by pieces with one job.

* ``session``: sign-on, the working key and every exchange under it (``shell.session``);
* ``receipts``: receipts and slips printed off the event loop, reprints (``shell.printing``);
* ``executor``: the engine's commands carried out, start-up recovery (``shell.executor``);
* ``delivery``: the must-deliver outbox worked in order (``shell.delivery``);
* ``settlement``: closing the batch and resolving differences (``shell.settlement``).

``Terminal`` holds nothing that matters only in memory: after a crash, ``recover()`` rebuilds
every open transaction from the journal and carries it on. The few methods below are the calls
every user of the shell makes (the desk, the fault worker, the benchmark, the tests).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from offline_queue.journal import Journal
from terminal.core import engine as e
from terminal.core.orders import Order, build
from terminal.core.requests import Pay
from terminal.protocol import messages as m
from terminal.shell.delivery import Delivery, DrainResult
from terminal.shell.executor import CardWriter, Executor
from terminal.shell.link import StationLink
from terminal.shell.offline import Offline
from terminal.shell.printing import ReceiptPrinter, Receipts
from terminal.shell.session import Session, StationDeclined
from terminal.shell.sms_path import SmsPath
from terminal.shell.space import DISK_FULL, Space

if TYPE_CHECKING:
    from terminal.shell.settlement import Settlement, SettlementOutcome


class Terminal:
    def __init__(
        self,
        journal: Journal,
        link: StationLink,
        terminal_id: str,
        master_key: bytes,
        *,
        printer: ReceiptPrinter | None = None,
        card: CardWriter | None = None,
        repeats: int = 2,
        utility: str = "县供电公司",
        paper_mm: int = 58,
        min_free_mb: int = 0,
        master_key_file: str | None = None,
        sms_number: str = "",
    ) -> None:
        self.journal = journal
        self.link = link
        self.terminal_id = terminal_id
        self.card = card
        self.session = Session(journal, link, terminal_id, master_key, master_key_file)
        self.receipts = Receipts(journal, self.session, printer, utility, paper_mm)
        self.delivery = Delivery(journal, self.session)
        self.executor = Executor(
            journal, self.session, self.receipts, card, repeats, owed=self.delivery.nudge
        )
        self.offline = Offline(journal, self.session, self.receipts, owed=self.delivery.nudge)
        if sms_number:
            self.delivery.second_path = SmsPath(journal, self.session, sms_number)
        self._settlement: Settlement | None = None
        self.space = Space(journal.path.parent, min_free_mb)

    @property
    def settlement(self) -> Settlement:
        """Built at the first settlement: the first screen does not wait for its imports."""
        if self._settlement is None:
            from terminal.shell.settlement import Settlement

            self._settlement = Settlement(
                self.journal, self.session, self.executor, self.delivery, self.receipts
            )
        return self._settlement

    async def sign_on(self, account: str, password: str) -> m.SignOnResponse:
        return await self.session.sign_on(account, password)

    def order(self, pay: Pay) -> Order:
        """The order for a confirmed payment, under a fresh persisted trace number; refused
        (``disk_full``) before anything is written when the journal's disk is nearly full."""
        if not self.space.enough():
            raise StationDeclined(DISK_FULL)
        return build(pay, self.session.ids())

    async def run(self, order: Order) -> e.Finished:
        return await self.executor.run(order)

    async def recover(self) -> list[tuple[str, e.Finished]]:
        self.offline.recover()
        return await self.executor.recover()

    async def drain_outbox(self) -> DrainResult:
        return await self.delivery.drain()

    async def settle(self) -> SettlementOutcome:
        return await self.settlement.settle()

    def view(self, txn: str) -> e.View | None:
        return self.executor.view(txn)
