"""Cash at the counter: what to post, what to give back, what to carry to next month.

Villagers often hand over round notes. Rather than count out coins, the operator may offer to
round the payment up and carry the rest to next month as prepaid credit (the station turns
anything above the amount due into credit).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CashOffer:
    due_fen: int
    cash_fen: int
    amount_fen: int  # posted to the station
    change_fen: int  # handed back
    credit_fen: int  # carried to next month

    @property
    def enough(self) -> bool:
        return self.cash_fen >= self.amount_fen


def round_up(fen: int, step_fen: int) -> int:
    return -(-fen // step_fen) * step_fen if step_fen > 0 else fen


def exact(due_fen: int, cash_fen: int) -> CashOffer:
    """Pay what is due; give the rest back."""
    return CashOffer(due_fen, cash_fen, due_fen, max(cash_fen - due_fen, 0), 0)


def carried(due_fen: int, cash_fen: int, step_fen: int) -> CashOffer | None:
    """Round the payment up to ``step_fen`` (within the cash given); None if nothing to carry."""
    amount = min(cash_fen, round_up(due_fen, step_fen))
    if amount <= due_fen:
        return None
    return CashOffer(due_fen, cash_fen, amount, cash_fen - amount, amount - due_fen)
