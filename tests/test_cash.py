"""Rounding the cash up and carrying the rest to next month."""

from hypothesis import given
from hypothesis import strategies as st

from terminal.core.cash import carried, exact, round_up


def test_round_up_to_ten_yuan():
    assert round_up(13324, 1000) == 14000
    assert round_up(14000, 1000) == 14000


def test_carry_offer_for_a_round_note():
    offer = carried(due_fen=13324, cash_fen=15000, step_fen=1000)
    assert (offer.amount_fen, offer.credit_fen, offer.change_fen) == (14000, 676, 1000)
    assert exact(13324, 15000).change_fen == 1676
    assert carried(14000, 14000, 1000) is None  # nothing left to carry


@given(st.integers(1, 10**7), st.integers(0, 10**7), st.sampled_from([100, 500, 1000, 5000]))
def test_offer_never_loses_a_fen(due, cash, step):
    offer = carried(due, cash, step)
    if offer is None:
        return
    assert offer.amount_fen + offer.change_fen == cash
    assert offer.amount_fen == due + offer.credit_fen
    assert offer.credit_fen > 0 and offer.change_fen >= 0
