"""Cash at the counter: what to post, what to give back, what to carry to next month.

A ``Tender`` is the one place change is computed: the confirm screen, the result screen and the
receipt all read ``change_fen`` from the tender the operator confirmed.

Villagers often hand over round notes. Rather than count out coins, the operator may offer to
round the payment up and carry the rest to next month as prepaid credit (the station turns
anything above the amount due into credit).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tender:
    """What the station is asked to post, against what the operator took in hand."""

    amount_fen: int  # posted to the station
    cash_fen: int  # taken in hand
    due_fen: int = 0  # what was due when the operator confirmed (bills); 0 otherwise

    @property
    def change_fen(self) -> int:
        """Handed back."""
        return max(self.cash_fen - self.amount_fen, 0)

    @property
    def credit_fen(self) -> int:
        """Carried to next month: what is posted above what was due (bill payments)."""
        return max(self.amount_fen - self.due_fen, 0) if self.due_fen else 0


def round_up(fen: int, step_fen: int) -> int:
    return -(-fen // step_fen) * step_fen if step_fen > 0 else fen


def exact(due_fen: int, cash_fen: int) -> Tender:
    """Pay what is due; give the rest back."""
    return Tender(due_fen, cash_fen, due_fen)


def carried(due_fen: int, cash_fen: int, step_fen: int) -> Tender | None:
    """Round the payment up to ``step_fen`` (within the cash given); None if nothing to carry."""
    amount = min(cash_fen, round_up(due_fen, step_fen))
    if amount <= due_fen:
        return None
    return Tender(amount, cash_fen, due_fen)
