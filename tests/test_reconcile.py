"""Settlement by set reconciliation: the GF(2^64) arithmetic, the sketch, the fingerprint, and the
station's decoded differences checked by the terminal — exact, or a fallback, never wrong."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from station.reconcile import differences as station_differences
from terminal.core.settlement import Difference, named_differences
from terminal.protocol import messages as m
from terminal.protocol import pinsketch as gf
from terminal.protocol.digest import summarize
from terminal.protocol.pinsketch import Sketch
from terminal.protocol.reconcile import (
    SKETCH_CAPACITY,
    Mismatch,
    fingerprint,
    sketch_of,
    transaction_of,
)
from terminal.protocol.records import CodecError, ListingEntry, TxnKind

elements = st.integers(min_value=1, max_value=2**64 - 1)


def reference_mul(a: int, b: int) -> int:
    """Shift-and-add multiplication modulo x^64 + x^4 + x^3 + x + 1, the textbook way."""
    product = 0
    while b:
        if b & 1:
            product ^= a
        b >>= 1
        a <<= 1
        if a >> 64:
            a ^= (1 << 64) | 0b11011
    return product


@given(elements, elements, elements)
def test_field_multiplication_is_the_textbook_one_and_a_field(a, b, c):
    assert gf.mul(a, b) == reference_mul(a, b) == gf.mul(b, a)
    assert gf.mul(a, b ^ c) == gf.mul(a, b) ^ gf.mul(a, c)
    assert gf.sqr(a) == gf.mul(a, a)
    assert gf.mul(a, gf.inv(a)) == 1


def test_zero_has_no_inverse():
    with pytest.raises(ZeroDivisionError):
        gf.inv(0)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(elements, max_size=40, unique=True),
    st.integers(min_value=1, max_value=16),
    st.randoms(use_true_random=False),
)
def test_a_difference_within_capacity_decodes_exactly(common_and_more, capacity, rng):
    pool = list(common_and_more)
    rng.shuffle(pool)
    extra = pool[: rng.randint(0, min(capacity, len(pool)))]
    common = pool[len(extra) :]
    ours = [e for i, e in enumerate(extra) if i % 2] + common
    theirs = [e for i, e in enumerate(extra) if not i % 2] + common
    summed = Sketch.of(ours, capacity) ^ Sketch.of(theirs, capacity)
    assert summed.decode() == sorted(extra)
    assert Sketch.from_bytes(summed.to_bytes()) == summed


def test_more_differences_than_capacity_do_not_decode():
    rng = random.Random(19)
    for size in range(SKETCH_CAPACITY + 1, 2 * SKETCH_CAPACITY + 1):
        extra = [rng.getrandbits(64) | 1 for _ in range(size)]
        assert Sketch.of(extra, SKETCH_CAPACITY).decode() is None


def test_the_splitting_element_lies_in_no_proper_subfield():
    """Then any 64 consecutive powers of it are a basis and root finding always ends."""
    power = gf.SPLITTER
    for _ in range(32):
        power = gf.sqr(power)
    assert power != gf.SPLITTER  # not in GF(2^32), nor so in any smaller subfield


def test_ten_neighbouring_fingerprints_decode():
    """Fingerprints of consecutive traces share most of their bits: the hard case for splitting."""
    lost = [(trace, TxnKind.BILL_PAYMENT, 1000 + trace) for trace in range(500, 510)]
    decoded = sketch_of(lost).decode()
    assert decoded == sorted(fingerprint(*entry) for entry in lost)


def test_the_fingerprint_is_the_transaction_itself():
    element = fingerprint(999_999, TxnKind.OFFLINE_PAYMENT, 999_999_999_999)
    assert element < 2**64
    assert transaction_of(element) == (999_999, TxnKind.OFFLINE_PAYMENT, 999_999_999_999)
    assert transaction_of(fingerprint(1, TxnKind.BILL_PAYMENT, 0)) == (1, TxnKind.BILL_PAYMENT, 0)
    assert transaction_of(1) is None  # trace 0
    assert transaction_of(1 << 44 | 9 << 40) is None  # no kind 9
    with pytest.raises(ValueError):
        fingerprint(0, TxnKind.BILL_PAYMENT, 100)


def test_fields_36_and_49_round_trip_and_refuse_what_is_not_well_formed():
    sketch = sketch_of([(5, TxnKind.BILL_PAYMENT, 13400)]).to_bytes()
    assert len(sketch) == 8 * SKETCH_CAPACITY
    request = m.SettlementRequest(terminal_id="T0000001", batch=1, trace=9, sketch=sketch)
    assert m.decode(m.encode(request, bytes(16))) == request
    named = (Mismatch(5, None), Mismatch(6, ListingEntry(6, TxnKind.PREPAYMENT, 500, False)))
    answer = m.SettlementResponse(response="95", batch=1, trace=9, differences=named)
    assert m.decode(m.encode(answer, bytes(16))).differences == named
    with pytest.raises(CodecError):
        m.encode(m.SettlementRequest(terminal_id="T0000001", sketch=bytes(12)), bytes(16))
    with pytest.raises(CodecError):
        Mismatch.unpack(bytes.fromhex("000005") + bytes([0]) + (7).to_bytes(4, "big") + b"\0")


# --- the station decodes, the terminal checks: random batches with random differences --------

KINDS = list(TxnKind)


@st.composite
def batches(draw):
    """(terminal's entries, station's rows, the true differences by trace)."""
    rng = draw(st.randoms(use_true_random=False))
    size = draw(st.integers(min_value=0, max_value=300))
    changes = draw(st.integers(min_value=0, max_value=14))
    traces = rng.sample(range(1, 999_999), size + changes)
    shared = {t: (rng.choice(KINDS), rng.randint(1, 10**7)) for t in traces[:size]}
    terminal, station = dict(shared), dict(shared)
    for trace in traces[size:]:
        entry = (rng.choice(KINDS), rng.randint(1, 10**7))
        how = rng.choice(("terminal lacks", "station lacks", "amount"))
        if how == "terminal lacks":
            station[trace] = entry
        elif how == "station lacks":
            terminal[trace] = entry
        else:
            terminal[trace] = entry
            station[trace] = (entry[0], entry[1] + rng.randint(1, 5000))
    truth = {
        t: (terminal.get(t), station.get(t))
        for t in set(terminal) | set(station)
        if terminal.get(t) != station.get(t)
    }
    return terminal, station, truth


def rows_of(station):
    return [
        {"trace": t, "kind": int(k), "amount_fen": a, "confirmed": 1}
        for t, (k, a) in sorted(station.items())
    ]


def settlement_request(terminal) -> m.SettlementRequest:
    entries = [(t, k, a) for t, (k, a) in terminal.items()]
    summary, total = summarize(entries)
    return m.SettlementRequest(
        terminal_id="T0000001",
        batch=1,
        trace=1,
        amount_fen=total,
        summary=summary,
        sketch=sketch_of(entries).to_bytes(),
    )


def station_figures(station):
    return summarize((t, k, a) for t, (k, a) in station.items())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches())
def test_random_differences_are_reconciled_exactly_or_fall_back_never_wrong(batch):
    terminal, station, truth = batch
    named = station_differences(settlement_request(terminal), rows_of(station))
    fingerprints = sum(2 if mine and theirs else 1 for mine, theirs in truth.values())
    if named is None:
        assert fingerprints > SKETCH_CAPACITY, "a difference within capacity must decode"
        return
    found = named_differences(terminal, named, station_figures(station))
    assert found is not None
    named_sides = {
        d.trace: (d.mine, d.station and (d.station.kind, d.station.amount_fen)) for d in found
    }
    assert named_sides == truth


@settings(max_examples=30, deadline=None)
@given(batches(), st.randoms(use_true_random=False))
def test_a_wrong_answer_from_the_station_is_never_trusted(batch, rng):
    """Whatever a station names that is not exactly the difference, the terminal searches."""
    terminal, station, _ = batch
    named = station_differences(settlement_request(terminal), rows_of(station))
    if not named:
        return
    figures = station_figures(station)
    entry = named[0].station or ListingEntry(named[0].trace, TxnKind.BILL_PAYMENT, 1)
    other_amount = ListingEntry(entry.trace, entry.kind, entry.amount_fen + 1)
    beyond = named[-1].trace + 1 if named[-1].trace < 999_999 else 1
    wrong = [
        named[1:],  # one left out
        (*named, Mismatch(beyond, None)),  # one too many
        (Mismatch(named[0].trace, other_amount), *named[1:]),  # an amount the station lacks
        (named[0], *named),  # one named twice
    ]
    for answer in wrong:
        assert named_differences(terminal, tuple(answer), figures) is None


def test_a_difference_names_both_sides_of_a_trace():
    terminal = {3: (TxnKind.BILL_PAYMENT, 100), 4: (TxnKind.PREPAYMENT, 200)}
    station = {3: (TxnKind.BILL_PAYMENT, 150), 5: (TxnKind.CARD_PURCHASE, 300)}
    named = station_differences(settlement_request(terminal), rows_of(station))
    assert named == (
        Mismatch(3, ListingEntry(3, TxnKind.BILL_PAYMENT, 150)),
        Mismatch(4, None),
        Mismatch(5, ListingEntry(5, TxnKind.CARD_PURCHASE, 300)),
    )
    found = named_differences(terminal, named, station_figures(station))
    assert found == [
        Difference(3, (TxnKind.BILL_PAYMENT, 100), ListingEntry(3, TxnKind.BILL_PAYMENT, 150)),
        Difference(4, (TxnKind.PREPAYMENT, 200), None),
        Difference(5, None, ListingEntry(5, TxnKind.CARD_PURCHASE, 300)),
    ]


def test_the_station_decodes_a_sketch_of_any_capacity_the_field_allows():
    station = {t: (TxnKind.BILL_PAYMENT, 100 * t) for t in range(1, 200)}
    terminal = {t: v for t, v in station.items() if t % 14}  # 14 lost: traces 14, 28, ...
    entries = [(t, k, a) for t, (k, a) in terminal.items()]
    for capacity, decodes in ((16, True), (14, True), (13, False), (1, False)):
        request = m.SettlementRequest(
            **{**settlement_request(terminal).__dict__,
               "sketch": sketch_of(entries, capacity).to_bytes()}
        )  # fmt: skip
        named = station_differences(request, rows_of(station))
        assert (named is not None) is decodes, capacity
        if named:
            assert [n.trace for n in named] == list(range(14, 200, 14))


def test_a_0500_without_a_sketch_gets_no_differences():
    request = settlement_request({1: (TxnKind.BILL_PAYMENT, 1)})
    plain = m.SettlementRequest(**{**request.__dict__, "sketch": None})
    assert station_differences(plain, rows_of({})) is None
    assert station_differences(request, rows_of({})) == (Mismatch(1, None),)


def test_the_worked_example_of_the_protocol_document():
    """docs/protocol.md, R46: what an integrator checks an implementation of the sketch with."""
    batch = [(5, TxnKind.BILL_PAYMENT, 13400), (7, TxnKind.PREPAYMENT, 500)]
    assert [fingerprint(*entry) for entry in batch] == [0x0000510000003458, 0x00007200000001F4]
    sketch = sketch_of(batch, capacity=2).to_bytes()
    assert sketch == bytes.fromhex("00 00 23 00 00 00 35 ac 8e 48 48 93 6b 37 8f 76")
    doc = (Path(__file__).resolve().parent.parent / "docs" / "protocol.md").read_text()
    assert "`00 00 23 00 00 00 35 ac 8e 48 48 93 6b 37 8f 76`" in doc
