"""PinSketch over GF(2^64): a set summary from which the difference of two sets can be decoded.

Why this and not a digest alone: a digest says only *whether* two batches differ; finding *what*
differs then costs round trips. A sketch of capacity ``c`` holds the odd power sums
s1, s3, …, s(2c-1) of a set's elements in GF(2^64) — ``c`` × 8 bytes whatever the set's size —
and adding two sketches (XOR) gives the sketch of the two sets' symmetric difference. When that
difference has at most ``c`` elements it is recovered exactly (Berlekamp–Massey finds the
polynomial whose roots are the inverses of the elements; the Berlekamp trace algorithm finds the
roots). That is the information limit: ``c`` unknown 64-bit elements cost ``c`` × 8 bytes.
The construction is the one of the ``minisketch`` library (Dodis et al., "PinSketch"), written
here in plain Python because the terminal only needs the power sums and the station the decoder.

The field is GF(2)[x] / (x^64 + x^4 + x^3 + x + 1); an element is an ``int`` below 2^64 whose bit
``i`` is the coefficient of x^i. Addition is XOR. Multiplication spreads each operand's bits into
bytes so that one big-integer product adds up every pair of bits without carries spilling over
(at most 64 pairs meet in a byte), and keeps the parity of each byte: the carry-less product.
That is about three times faster in CPython than a shift-and-add loop, and a power sum is
kept in that spread form from one product to the next.

A decode that fails says ``None``. More than ``c`` differences decode to ``None`` or, rarely, to a
wrong set: the caller must verify a decoded set before it trusts it (the settlement does, with the
digest of R39).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

FIELD_BITS = 64
ELEMENT_BYTES = FIELD_BITS // 8
_MASK = (1 << FIELD_BITS) - 1
_LOW = 0b11011  # x^4 + x^3 + x + 1: the modulus without its x^64 term
_ASCII_ZEROS = int.from_bytes(b"0" * FIELD_BITS, "big")
_PARITY_BIT = bytes(value & 1 for value in range(256))
_PARITY_DIGIT = bytes(ord("0") + (value & 1) for value in range(256))
_SPREAD_BITS = 8 * FIELD_BITS
_SPREAD_MASK = (1 << _SPREAD_BITS) - 1


def _reduce(product: int) -> int:
    """A carry-less product of up to 127 bits, reduced modulo the field polynomial."""
    for _ in range(2):
        high = product >> FIELD_BITS
        product = (product & _MASK) ^ high ^ (high << 1) ^ (high << 3) ^ (high << 4)
    return product


def _spread(a: int) -> int:
    """``a`` in the spread form: each bit moved to the lowest bit of its own byte."""
    return int.from_bytes(format(a, "064b").encode("ascii"), "big") - _ASCII_ZEROS


def _unspread(spread: int) -> int:
    return int(spread.to_bytes(FIELD_BITS, "big").translate(_PARITY_DIGIT), 2)


def _mul_spread(spread_a: int, spread_b: int) -> int:
    """a·b from and to the spread form. The integer product of two spread numbers counts, in
    each byte, the pairs of bits that meet there (at most 64, so no byte overflows); its parity
    is the carry-less product. XOR and shifts by whole bytes act on the spread form as on the
    number, so the reduction needs no conversion, and a chain of products (the power sums)
    stays spread until its end."""
    count = (spread_a * spread_b).to_bytes(2 * FIELD_BITS, "big")
    product = int.from_bytes(count.translate(_PARITY_BIT), "big")
    for _ in range(2):
        high = product >> _SPREAD_BITS
        product = (product & _SPREAD_MASK) ^ high ^ (high << 8) ^ (high << 24) ^ (high << 32)
    return product


def mul(a: int, b: int) -> int:
    """a·b in GF(2^64)."""
    return _unspread(_mul_spread(_spread(a), _spread(b)))


def sqr(a: int) -> int:
    """a² in GF(2^64): squaring interleaves zero bits (read the bits as base-4 digits)."""
    return _reduce(int(format(a, "b"), 4))


def inv(a: int) -> int:
    """1/a in GF(2^64), by the extended Euclidean algorithm over GF(2)[x]."""
    if not a:
        raise ZeroDivisionError("0 has no inverse")
    r0, r1 = (1 << FIELD_BITS) | _LOW, a
    t0, t1 = 0, 1
    while r1 != 1:
        shift = r0.bit_length() - r1.bit_length()
        if shift < 0:
            r0, r1, t0, t1 = r1, r0, t1, t0
            continue
        r0 ^= r1 << shift
        t0 ^= t1 << shift
    return _reduce(t1) if t1 >> FIELD_BITS else t1


# --- the sketch -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sketch:
    """The odd power sums s1, s3, …, s(2c-1) of a set; ``c`` = ``capacity``."""

    syndromes: tuple[int, ...]

    @property
    def capacity(self) -> int:
        return len(self.syndromes)

    @classmethod
    def of(cls, elements: Iterable[int], capacity: int) -> Sketch:
        """The sketch of a set of distinct nonzero elements below 2^64."""
        sums = [0] * capacity  # spread form until the end
        for element in elements:
            if not 0 < element <= _MASK:
                raise ValueError(f"not a nonzero 64-bit element: {element}")
            square = _spread(sqr(element))
            power = _spread(element)
            for index in range(capacity):
                sums[index] ^= power
                power = _mul_spread(power, square)
        return cls(tuple(_unspread(s) for s in sums))

    def __xor__(self, other: Sketch) -> Sketch:
        """The sketch of the symmetric difference of the two sets."""
        if self.capacity != other.capacity:
            raise ValueError("sketches of different capacity")
        return Sketch(tuple(a ^ b for a, b in zip(self.syndromes, other.syndromes, strict=True)))

    def to_bytes(self) -> bytes:
        """Each power sum as 8 bytes, big-endian, s1 first."""
        return b"".join(s.to_bytes(ELEMENT_BYTES, "big") for s in self.syndromes)

    @classmethod
    def from_bytes(cls, data: bytes) -> Sketch:
        if not data or len(data) % ELEMENT_BYTES:
            raise ValueError(f"a sketch is a whole number of {ELEMENT_BYTES}-byte sums")
        return cls(
            tuple(
                int.from_bytes(data[i : i + ELEMENT_BYTES], "big")
                for i in range(0, len(data), ELEMENT_BYTES)
            )
        )

    def decode(self) -> list[int] | None:
        """The elements of the set this is the sketch of, if it has at most ``capacity`` of them."""
        sums = [0] * (2 * self.capacity)  # s1, s2, s3, …: s(2i) = s(i)² in characteristic 2
        for index in range(self.capacity):
            sums[2 * index] = self.syndromes[index]
            sums[2 * index + 1] = sqr(sums[index])
        locator, length = _berlekamp_massey(sums)
        if length > self.capacity or len(locator) - 1 != length:
            return None  # too many differences, or a "root" at 0, which is no element
        if length == 0:
            return []
        # The locator is the product of (1 - e·z) over the elements e: its reversed coefficients
        # make the polynomial whose roots are the elements themselves.
        roots = find_roots(list(reversed(locator)))
        return sorted(roots) if roots is not None and len(roots) == length else None


def _berlekamp_massey(sums: list[int]) -> tuple[list[int], int]:
    """The shortest linear recurrence of ``sums``: its connection polynomial (low degree first,
    constant term 1) and its length, which the polynomial's degree may fall short of."""
    current, previous = [1], [1]
    length, gap, previous_inverse = 0, 1, 1
    for n, value in enumerate(sums):
        discrepancy = value
        for i in range(1, min(length, len(current) - 1) + 1):
            discrepancy ^= mul(current[i], sums[n - i])
        if not discrepancy:
            gap += 1
            continue
        factor = mul(discrepancy, previous_inverse)
        updated = current + [0] * max(0, len(previous) + gap - len(current))
        for i, coefficient in enumerate(previous):
            updated[i + gap] ^= mul(factor, coefficient)
        if 2 * length <= n:
            previous, previous_inverse = current, inv(discrepancy)
            length, gap = n + 1 - length, 1
        else:
            gap += 1
        current = updated
    return _trim(current[: length + 1]), length


# --- roots of a polynomial over GF(2^64); polynomials are lists, low degree first ------------


def _trim(poly: list[int]) -> list[int]:
    while poly and not poly[-1]:
        poly.pop()
    return poly


def _monic(poly: list[int]) -> list[int]:
    top = inv(poly[-1])
    return [mul(top, c) for c in poly]


def _divmod(poly: list[int], monic: list[int]) -> tuple[list[int], list[int]]:
    """Quotient and remainder of ``poly`` divided by a monic polynomial."""
    rest = list(poly)
    degree = len(monic) - 1
    spread = [_spread(c) for c in monic[:degree]]  # each used once per row of the division
    quotient = [0] * max(0, len(rest) - degree)
    while len(rest) > degree:
        top = rest.pop()
        shift = len(rest) - degree
        quotient[shift] = top
        if top:
            spread_top = _spread(top)
            for i in range(degree):
                rest[shift + i] ^= _unspread(_mul_spread(spread_top, spread[i]))
    return quotient, _trim(rest)


def _square_mod(poly: list[int], monic: list[int]) -> list[int]:
    squared = [0] * max(0, 2 * len(poly) - 1)
    for i, c in enumerate(poly):
        squared[2 * i] = sqr(c)
    return _divmod(squared, monic)[1]


def _gcd(a: list[int], b: list[int]) -> list[int]:
    while b:
        b = _monic(b)
        a, b = b, _divmod(a, b)[1]
    return a


def _trace_mod(monic: list[int], beta: int) -> list[int]:
    """Tr(β·x) = Σ (β·x)^(2^i), i < 64, modulo ``monic`` (of degree 2 or more): 0 or 1 at each
    root, so its gcd with ``monic`` splits the roots in two."""
    out = [0, beta]
    for _ in range(FIELD_BITS - 1):
        out = _square_mod(out, monic)
        out += [0] * (2 - len(out))
        out[1] ^= beta
    return _trim(out)


def find_roots(poly: list[int]) -> list[int] | None:
    """All roots of ``poly`` when it splits into distinct linear factors; ``None`` otherwise."""
    poly = _trim(list(poly))
    if len(poly) < 2:
        return [] if poly else None
    monic = _monic(poly)
    # x^(2^64) = x modulo the polynomial exactly when it divides x^(2^64) - x, the product of
    # (x - e) over every field element e: then it has distinct roots, all in the field.
    power = [0, 1]
    for _ in range(FIELD_BITS):
        power = _square_mod(power, monic)
    if len(monic) > 2 and power != [0, 1]:
        return None
    return _split(monic, 0)


# β for the k-th try to split is SPLITTER^(k mod 64 + 1). SPLITTER lies in no proper subfield
# (a test checks SPLITTER^(2^32) != SPLITTER), so any 64 consecutive of its powers are a basis of
# the field; for two distinct roots r, s the map β -> Tr(β(r+s)) is not zero on every element of
# a basis, so some try separates them and the splitting always ends. Powers of one element look
# random enough that a try splits about half the roots from the other half; plain basis elements
# x^i split the structured fingerprints of R46 badly (a few roots per try).
SPLITTER = 0x9E3779B97F4A7C15


def _split(monic: list[int], tries: int) -> list[int]:
    """Roots of a monic product of distinct linear factors."""
    if len(monic) == 2:
        return [monic[0]]
    while True:
        beta = SPLITTER
        for _ in range(tries % FIELD_BITS):
            beta = mul(beta, SPLITTER)
        tries += 1
        factor = _gcd(_trace_mod(monic, beta), monic)
        if 1 < len(factor) < len(monic):
            break
    factor = _monic(factor)
    other = _divmod(monic, factor)[0]
    return _split(factor, tries) + _split(other, tries)
