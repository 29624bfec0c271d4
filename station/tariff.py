"""The residential tiered tariff (阶梯电价) used to bill demo customers and on-site readings.

Monthly tiers as in most Chinese provinces: the first 230 kWh at the base price, up to 400 kWh
at 0.05 yuan more, anything above at 0.30 yuan more. Prices are kept in 1/10000 yuan per kWh so
the sum is exact before the one rounding to fen.
"""

from __future__ import annotations

# (upper bound of the tier in kWh or None for the last tier, price in 0.0001 yuan per kWh)
TIERS: tuple[tuple[int | None, int], ...] = ((230, 5283), (400, 5783), (None, 8283))


def bill_fen(kwh: int) -> int:
    """Amount in fen of one month's consumption, rounded half up to the fen."""
    if kwh < 0:
        raise ValueError("consumption cannot be negative")
    total = 0  # in 0.0001 yuan
    lower = 0
    for upper, price in TIERS:
        top = kwh if upper is None else min(kwh, upper)
        if top > lower:
            total += (top - lower) * price
        if upper is None or kwh <= upper:
            break
        lower = upper
    return (total + 50) // 100
