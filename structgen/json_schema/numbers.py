"""Exact number languages: integer / decimal ranges, ``multipleOf`` and excluded values.

What ``jsonschema`` sees is the value ``json.loads`` produces: a number spelled without fraction or
exponent is a Python ``int`` (exact, unbounded); any other spelling is a ``float`` (rounded to the
nearest double, overflowing to ``inf``). Comparisons with the schema's bounds are exact Python
comparisons. So the two spellings get different, individually exact-or-sound treatments:

- **integer spellings** ``-?(0|[1-9][0-9]*)``: exact range ``[ceil(lo), floor(hi)]`` (strict bounds
  adjusted), by digit-range decomposition; ``multipleOf`` (integer divisor) by a remainder automaton.
- **fraction spellings** ``-?I.F``: the decimal value must lie in ``[lo', hi']`` where ``hi'`` is the
  shortest decimal of the largest double ``<= hi`` (``< hi`` when exclusive), ``lo'`` symmetric.
  Rounding is monotone, so every accepted string parses to a double inside the bounds (sound);
  only spellings whose *decimal* value lies just outside while rounding inside are missed.
- **exponent spellings** (``1e5``): any, for unconstrained numbers; under bounds, those with a
  normalized mantissa (``1e-06``, ``2.5E+3``; :func:`exponent_lang`) whose value lies within the
  float-safe bounds -- a sound subset (exponents make decimal comparison of arbitrary mantissas
  non-regular); none under ``multipleOf`` or for integers.
- ``type: integer`` also accepts ``I.0+`` (``1.0`` is an integer to jsonschema) for ``|I| < 10**15``,
  where the double is exact.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from fractions import Fraction
from typing import Optional

from . import charsets as cs
from . import fsa
from . import lang as L

DIGIT = L.chars(cs.normalize([(0x30, 0x39)]))
NONZERO = L.chars(cs.normalize([(0x31, 0x39)]))
MINUS = L.lit("-")
DOT = L.lit(".")
DIGITS = L.star(DIGIT)
DIGITS1 = L.rep(DIGIT, 1, None)

#: regex of any JSON number / any canonical integer (for the shared lexeme rules)
NUMBER_REGEX = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
INTEGER_REGEX = r"-?(?:0|[1-9][0-9]*)"

FRAC_INT_LIMIT = 10 ** 15  # |I| below this: "I.000" parses to exactly I


@dataclass(frozen=True)
class Bound:
    """A numeric bound as written in the schema (``int`` or ``float``) and its strictness."""

    value: int | float
    strict: bool = False

    @property
    def exact(self) -> Fraction:
        return Fraction(self.value)


def tighter_lower(a: Optional[Bound], b: Optional[Bound]) -> Optional[Bound]:
    if a is None:
        return b
    if b is None:
        return a
    fa, fb = a.exact, b.exact
    if fa != fb:
        return a if fa > fb else b
    return a if a.strict else b


def tighter_upper(a: Optional[Bound], b: Optional[Bound]) -> Optional[Bound]:
    if a is None:
        return b
    if b is None:
        return a
    fa, fb = a.exact, b.exact
    if fa != fb:
        return a if fa < fb else b
    return a if a.strict else b


def _digit_class(a: int, b: int) -> L.Lang:
    return L.chars(cs.normalize([(0x30 + a, 0x30 + b)]))


# --------------------------------------------------------------------------- integers

def _fixed_width(lo: int, hi: int, width: int) -> L.Lang:
    """Digit strings of exactly ``width`` digits (leading zeros allowed) with value in [lo, hi]."""
    if width == 0:
        return L.EPS
    full = 10 ** width - 1
    if lo == 0 and hi == full:
        return L.rep(DIGIT, width, width)
    shift = 10 ** (width - 1)
    dl, rl = divmod(lo, shift)
    dh, rh = divmod(hi, shift)
    if dl == dh:
        return L.cat(_digit_class(dl, dl), _fixed_width(rl, rh, width - 1))
    parts = []
    start, end = dl, dh
    if rl != 0:
        parts.append(L.cat(_digit_class(dl, dl), _fixed_width(rl, shift - 1, width - 1)))
        start = dl + 1
    tail = None
    if rh != shift - 1:
        tail = L.cat(_digit_class(dh, dh), _fixed_width(0, rh, width - 1))
        end = dh - 1
    if start <= end:
        parts.append(L.cat(_digit_class(start, end), L.rep(DIGIT, width - 1, width - 1)))
    if tail is not None:
        parts.append(tail)
    return L.alt(*parts)


def nonneg_int_lang(lo: int, hi: Optional[int]) -> L.Lang:
    """Canonical decimal spellings (``0`` or no leading zero) of integers in [lo, hi] (lo >= 0)."""
    if hi is not None and hi < lo:
        return L.NONE
    parts = []
    if lo == 0:
        parts.append(L.lit("0"))
        lo = 1
        if hi is not None and hi < 1:
            return L.alt(*parts)
    d_lo = len(str(lo))
    d_hi = None if hi is None else len(str(hi))
    d = d_lo
    while d_hi is None or d <= d_hi:
        a = max(lo, 10 ** (d - 1))
        if hi is None and a == 10 ** (d - 1):
            # every integer with >= d digits
            parts.append(L.cat(NONZERO, L.rep(DIGIT, d - 1, None)))
            break
        b = 10 ** d - 1 if hi is None else min(hi, 10 ** d - 1)
        if a <= b:
            parts.append(_fixed_width(a, b, d))
        d += 1
    return L.alt(*parts)


def int_lang(lo: Optional[int], hi: Optional[int]) -> L.Lang:
    """Canonical spellings (``-0`` included when 0 is in range) of integers in [lo, hi]."""
    if lo is not None and hi is not None and hi < lo:
        return L.NONE
    parts = []
    # non-negative part
    if hi is None or hi >= 0:
        parts.append(nonneg_int_lang(max(lo, 0) if lo is not None else 0, hi))
    # negative part: x in [lo, min(hi, -1)]  ->  "-" y, y in [max(-hi, 1), -lo]
    if lo is None or lo < 0:
        y_lo = 1 if hi is None or hi >= 0 else max(-hi, 1)
        y_hi = None if lo is None else -lo
        if y_hi is None or y_hi >= y_lo:
            parts.append(L.cat(MINUS, nonneg_int_lang(y_lo, y_hi)))
    if (lo is None or lo <= 0) and (hi is None or hi >= 0):
        parts.append(L.lit("-0"))
    return L.alt(*parts)


def int_bounds(lower: Optional[Bound], upper: Optional[Bound]) -> tuple[Optional[int], Optional[int]]:
    """Integer bounds equivalent to the (possibly fractional / strict) schema bounds."""
    lo = hi = None
    if lower is not None:
        f = lower.exact
        c = math.ceil(f)
        lo = c + 1 if (lower.strict and c == f) else c
    if upper is not None:
        f = upper.exact
        fl = math.floor(f)
        hi = fl - 1 if (upper.strict and fl == f) else fl
    return lo, hi


# --------------------------------------------------------------------------- decimals

_MAX_DOUBLE = 1.7976931348623157e308


def _as_float_down(x: Fraction) -> float:
    """Largest double <= x (``-inf`` if none is finite)."""
    try:
        f = float(x)
    except OverflowError:
        return _MAX_DOUBLE if x > 0 else -math.inf
    if math.isinf(f):
        return _MAX_DOUBLE if f > 0 else -math.inf
    if Fraction(f) > x:
        f = math.nextafter(f, -math.inf)
    return f


def _as_float_up(x: Fraction) -> float:
    try:
        f = float(x)
    except OverflowError:
        return -_MAX_DOUBLE if x < 0 else math.inf
    if math.isinf(f):
        return -_MAX_DOUBLE if f < 0 else math.inf
    if Fraction(f) < x:
        f = math.nextafter(f, math.inf)
    return f


#: float-safe decimal bounds are rounded (towards the inside) to this many fraction digits, so a
#: bound like ``x < 0`` becomes ``x <= -1e-20`` rather than ``x <= -5e-324`` (324 digits)
MAX_BOUND_FRACTION_DIGITS = 20
_QUANTUM = Decimal(1).scaleb(-MAX_BOUND_FRACTION_DIGITS)


def _quantize(d: Decimal, rounding) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 1000
        q = d.quantize(_QUANTUM, rounding=rounding)
        return q if q == 0 else q.normalize()


def float_safe_upper(b: Bound) -> Optional[Decimal]:
    """Decimal D such that every decimal string s <= D parses to a double satisfying ``x <= b``
    (``x < b`` when strict). None when no double does. Rounding of decimal strings to doubles is
    monotone and D's own double satisfies the bound, hence soundness."""
    f = _as_float_down(b.exact)
    if b.strict and Fraction(f) == b.exact:
        f = math.nextafter(f, -math.inf)
    if math.isinf(f):
        return None
    return _quantize(Decimal(repr(f)), ROUND_FLOOR)


def float_safe_lower(b: Bound) -> Optional[Decimal]:
    f = _as_float_up(b.exact)
    if b.strict and Fraction(f) == b.exact:
        f = math.nextafter(f, math.inf)
    if math.isinf(f):
        return None
    return _quantize(Decimal(repr(f)), ROUND_CEILING)


def _split_decimal(d: Decimal) -> tuple[int, str]:
    """Non-negative decimal -> (integer part, fraction digits without trailing zeros)."""
    sign, digits, exp = d.as_tuple()
    assert not sign or d == 0
    s = "".join(map(str, digits))
    if exp >= 0:
        return int(s + "0" * exp) if s else 0, ""
    k = -exp
    if len(s) <= k:
        ip, fp = 0, s.rjust(k, "0")
    else:
        ip, fp = int(s[:-k]), s[-k:]
    return ip, fp.rstrip("0")


def _frac_lang_bounded(lo, hi) -> L.Lang:
    """Non-empty digit strings F with 0.F within the bounds; each bound is (digits, inclusive),
    digits stripped of trailing zeros ("" = 0). Digit-by-digit: a state records whether the prefix
    still equals each bound's prefix ("tight"); explicit tails once a tight bound is exhausted."""
    lo_d = lo[0] if lo else ""
    hi_d = hi[0] if hi else ""
    memo: dict[tuple[int, bool, bool], L.Lang] = {}

    def go(i: int, tl: bool, th: bool) -> L.Lang:
        key = (i, tl, th)
        if key in memo:
            return memo[key]
        first = i == 0
        if not tl and not th:
            res = L.rep(DIGIT, 1 if first else 0, None)
        elif tl and not th and i >= len(lo_d):
            # value so far == lo; continuation any digits; equality allowed iff inclusive
            if lo[1]:
                res = L.rep(DIGIT, 1 if first else 0, None)
            else:
                res = L.cat(L.star(L.lit("0")), NONZERO, DIGITS)
        elif th and not tl and i >= len(hi_d):
            # value so far == hi; only zeros may follow, and only if inclusive
            if hi[1]:
                res = L.rep(L.lit("0"), 1 if first else 0, None)
            else:
                res = L.NONE
        elif tl and th and i >= len(lo_d) and i >= len(hi_d):
            res = L.rep(L.lit("0"), 1 if first else 0, None) if (lo[1] and hi[1]) else L.NONE
        else:
            alts = []
            if not first:
                ok = True
                if tl and (i < len(lo_d) or not lo[1]):
                    ok = False  # lo has remaining nonzero digits (stripped) -> prefix < lo
                if th and i >= len(hi_d) and not hi[1]:
                    ok = False
                if ok:
                    alts.append(L.EPS)
            dl = int(lo_d[i]) if tl and i < len(lo_d) else 0
            dh = (int(hi_d[i]) if i < len(hi_d) else 0) if th else 9
            if dl <= dh:
                for d in sorted({dl, dh}):
                    alts.append(L.cat(_digit_class(d, d), go(i + 1, tl and d == dl, th and d == dh)))
                if dl + 1 <= dh - 1:
                    alts.append(L.cat(_digit_class(dl + 1, dh - 1), DIGITS))
            res = L.alt(*alts)
        memo[key] = res
        return res

    return go(0, lo is not None, hi is not None)


def _nonneg_decimal_lang(lo: tuple[Decimal, bool], hi: Optional[tuple[Decimal, bool]]) -> L.Lang:
    """``I.F`` spellings (I canonical, F non-empty) of values in the range (lo >= 0)."""
    li, lf = _split_decimal(lo[0])
    lo_fb = (lf, not lo[1])  # (digits, inclusive)
    if hi is None:
        return L.alt(
            L.cat(L.lit(str(li)), DOT, _frac_lang_bounded(lo_fb, None)),
            L.cat(nonneg_int_lang(li + 1, None), DOT, DIGITS1),
        )
    hi_i, hf = _split_decimal(hi[0])
    hi_fb = (hf, not hi[1])
    if li == hi_i:
        return L.cat(L.lit(str(li)), DOT, _frac_lang_bounded(lo_fb, hi_fb))
    if li > hi_i:
        return L.NONE
    return L.alt(
        L.cat(L.lit(str(li)), DOT, _frac_lang_bounded(lo_fb, None)),
        L.cat(nonneg_int_lang(li + 1, hi_i - 1), DOT, DIGITS1),
        L.cat(L.lit(str(hi_i)), DOT, _frac_lang_bounded(None, hi_fb)),
    )


def decimal_lang(lo: Optional[tuple[Decimal, bool]], hi: Optional[tuple[Decimal, bool]]) -> L.Lang:
    """``-?I.F`` spellings whose exact decimal value lies in the range; bounds are
    (value, strict) or None."""
    parts = []
    zero = Decimal(0)
    # non-negative values
    if hi is None or hi[0] > zero or (hi[0] == zero and not hi[1]):
        plo = (zero, False) if lo is None or lo[0] < zero else lo
        parts.append(_nonneg_decimal_lang(plo, hi))
    # non-positive values, mirrored: x = -y
    if lo is None or lo[0] < zero or (lo[0] == zero and not lo[1]):
        ylo = (zero, False) if hi is None or hi[0] > zero else (-hi[0], hi[1])
        yhi = None if lo is None else (-lo[0], lo[1])
        parts.append(L.cat(MINUS, _nonneg_decimal_lang(ylo, yhi)))
    return L.alt(*parts)


# --------------------------------------------------------------------------- exponents

#: decimal exponents written for bounded numbers: mantissas in [1, 10) keep values below the
#: largest double (no overflow to inf) and, for the smallest exponent, above 1e-320
EXP_MIN, EXP_MAX = -320, 307
_SIGNS_POS = L.opt(L.chars(cs.single(0x2B)))      # "+"?
_ZEROS = L.star(L.lit("0"))
_E = L.chars(cs.normalize([(0x45, 0x45), (0x65, 0x65)]))  # e | E


def _exponent_spellings(e1: int, e2: int) -> L.Lang:
    """``[eE]`` and the spellings (sign, leading zeros) of the exponents e1..e2."""
    parts = []
    if e2 >= 0:
        parts.append(L.cat(_SIGNS_POS, _ZEROS, nonneg_int_lang(max(e1, 0), e2)))
    if e1 < 0:
        parts.append(L.cat(MINUS, _ZEROS, nonneg_int_lang(max(-e2, 1), -e1)))
    if e1 <= 0 <= e2:
        parts.append(L.cat(MINUS, L.rep(L.lit("0"), 1, None)))  # e-0
    return L.cat(_E, L.alt(*parts)) if parts else L.NONE


def _mantissa_lang(lo: Decimal, hi: Optional[Decimal]) -> L.Lang:
    """Spellings ``D`` or ``D.F`` (D in 1..9) of mantissas in [lo, hi] ∩ [1, 10)."""
    lo = max(lo, Decimal(1))
    top = (Decimal(10), True) if hi is None or hi >= 10 else (hi, False)
    if lo > top[0]:
        return L.NONE
    ints = nonneg_int_lang(int(lo.to_integral_value(ROUND_CEILING)),
                           9 if hi is None else min(9, int(hi.to_integral_value(ROUND_FLOOR))))
    return L.alt(ints, _nonneg_decimal_lang((lo, False), top))


def _nonneg_exponent_lang(lo: Decimal, hi: Optional[Decimal]) -> L.Lang:
    """Exponent spellings ``M[eE]x`` (M a mantissa in [1, 10)) whose exact value lies in [lo, hi],
    lo >= 0."""
    if hi is not None and hi <= 0:
        return L.NONE
    # Decimal.adjusted() is floor(log10) of a positive value; scaleb(-e) an exact decimal shift
    e_lo = EXP_MIN if lo <= 0 else max(EXP_MIN, lo.adjusted())
    e_hi = EXP_MAX if hi is None else min(EXP_MAX, hi.adjusted())
    if e_lo > e_hi:
        return L.NONE
    m_lo = lo.scaleb(-e_lo)
    m_hi = None if hi is None else hi.scaleb(-e_hi)
    if e_lo == e_hi:
        return L.cat(_mantissa_lang(m_lo, m_hi), _exponent_spellings(e_lo, e_lo))
    parts = [L.cat(_mantissa_lang(m_lo, None), _exponent_spellings(e_lo, e_lo))]
    if e_lo + 1 <= e_hi - 1:
        parts.append(L.cat(_mantissa_lang(Decimal(1), None), _exponent_spellings(e_lo + 1, e_hi - 1)))
    parts.append(L.cat(_mantissa_lang(Decimal(1), m_hi), _exponent_spellings(e_hi, e_hi)))
    return L.alt(*parts)


def exponent_lang(lo: Optional[tuple[Decimal, bool]], hi: Optional[tuple[Decimal, bool]]) -> L.Lang:
    """``-?M[eE][+-]?0*X`` spellings with a normalized mantissa ``M`` (``1``..``9.99…``) whose exact
    decimal value lies in the range; bounds are inclusive ``(value, False)`` float-safe decimals
    (:func:`float_safe_lower` / :func:`float_safe_upper`) or None. Every such string parses to a
    double within the schema's bounds (rounding is monotone; exponents are capped so nothing
    overflows), so this is a sound subset of the exponent spellings: other mantissas (``12e3``,
    ``0.5e-3``) are left out."""
    assert (lo is None or not lo[1]) and (hi is None or not hi[1])
    zero = Decimal(0)
    parts = []
    if hi is None or hi[0] >= zero:
        parts.append(_nonneg_exponent_lang(zero if lo is None or lo[0] < zero else lo[0], None if hi is None else hi[0]))
    if lo is None or lo[0] <= zero:
        ylo = zero if hi is None or hi[0] > zero else -hi[0]
        parts.append(L.cat(MINUS, _nonneg_exponent_lang(ylo, None if lo is None else -lo[0])))
    return L.alt(*parts)


# --------------------------------------------------------------------------- multipleOf

def _mod_dfa(m: int, divisible: bool = True, residues: Optional[set[int]] = None) -> fsa.DFA:
    """DFA over ``-?[0-9]+`` accepting digit strings whose value is divisible by ``m`` (with
    ``divisible=False``: whose value is not; with ``residues``: whose value modulo ``m`` is one
    of them)."""
    digit_atoms = [cs.single(0x30 + d) for d in range(10)]
    atoms = digit_atoms + [cs.single(0x2D)]
    # states: 0 start, 1 after '-', 2+r residue r (at least one digit read)
    trans: list[dict[int, int]] = [{}, {}] + [{} for _ in range(m)]
    for d in range(10):
        trans[0][d] = 2 + d % m
        trans[1][d] = 2 + d % m
    trans[0][10] = 1
    for r in range(m):
        for d in range(10):
            trans[2 + r][d] = 2 + (r * 10 + d) % m
    if residues is None:
        residues = {0} if divisible else set(range(1, m))
    accept = [False, False] + [r in residues for r in range(m)]
    return fsa.minimize(fsa.DFA(atoms, trans, accept))


def multiple_of_int_dfa(lo: Optional[int], hi: Optional[int], m: int, budget: int = 20000,
                        not_divisors: tuple[int, ...] = ()) -> fsa.DFA:
    """Minimal DFA of canonical integers in [lo, hi] divisible by ``m`` (1: any) and by none of
    ``not_divisors``."""
    d = fsa.from_lang(int_lang(lo, hi), budget)
    if m != 1:
        d = fsa.product(d, _mod_dfa(m), "and", budget)
    for k in not_divisors:
        d = fsa.product(d, _mod_dfa(k, divisible=False), "and", budget)
    return d


# --------------------------------------------------------------------------- non-integral values

def _nonintegral_shape() -> L.Lang:
    """``-?I.F`` with at most 15 digits in I and F together and a non-zero digit in F: such a
    decimal is not an integer and its double is not one either (the rounding error is below the
    smallest possible fractional part)."""
    alts = []
    for k in range(1, 15):
        ip = DIGIT if k == 1 else L.cat(NONZERO, L.rep(DIGIT, k - 1, k - 1))
        alts.append(L.cat(ip, DOT, L.rep(DIGIT, 1, 15 - k)))
    shape = L.cat(L.opt(MINUS), L.alt(*alts))
    nonzero_frac = L.cat(L.opt(MINUS), DIGITS1, DOT, DIGITS, NONZERO, DIGITS)
    d = fsa.product(fsa.from_lang(shape), fsa.from_lang(nonzero_frac))
    return fsa.to_lang(d, 20000)


_NONINT: Optional[fsa.DFA] = None


def nonintegral_lang(lo: Optional[tuple[Decimal, bool]], hi: Optional[tuple[Decimal, bool]]) -> L.Lang:
    """Spellings of non-integral numbers (as doubles) with decimal value in the bounds."""
    global _NONINT
    if _NONINT is None:
        _NONINT = fsa.from_lang(_nonintegral_shape())
    d = fsa.product(fsa.from_lang(decimal_lang(lo, hi)), _NONINT)
    return fsa.to_lang(d, 20000)


# --------------------------------------------------------------------------- dyadic multipleOf

def dyadic(x: float) -> Optional[tuple[int, int]]:
    """(p, q) with x = p/q, q a power of two (every finite double is dyadic; None for q > 2**16,
    where the decimal expansions would be long)."""
    f = Fraction(x)
    p, q = f.numerator, f.denominator
    if q & (q - 1) or q > 2 ** 16:
        return None
    return p, q


def dyadic_fraction_lang(q: int, indices: Optional[set[int]] = None) -> L.Lang:
    """Fraction digit strings F (non-empty) with 0.F = j/q for some j in ``indices`` (default: every
    j < q; q a power of two)."""
    k = q.bit_length() - 1
    alts = []
    for j in range(q):
        if indices is not None and j not in indices:
            continue
        digits = str(j * 5 ** k).rjust(k, "0").rstrip("0") if k else ""
        if digits:
            alts.append(L.cat(L.lit(digits), L.star(L.lit("0"))))
        else:
            alts.append(L.rep(L.lit("0"), 1, None))
    return L.alt(*alts)


def _residue_int_lang(p: int, r: int) -> L.Lang:
    """Canonical unsigned integers ``0|[1-9][0-9]*`` congruent to ``r`` modulo ``p``."""
    if p == 1:
        return L.alt(L.lit("0"), L.cat(NONZERO, DIGITS))
    d = fsa.product(fsa.from_lang(L.alt(L.lit("0"), L.cat(NONZERO, DIGITS))),
                    _mod_dfa(p, residues={r}), "and")
    return fsa.to_lang(d, 20000)


def dyadic_multiple_shape(p: int, q: int, integral: bool = True, nonintegral: bool = True) -> L.Lang:
    """Spellings ``-?I.F`` of the multiples of ``p/q`` (q a power of two, p odd or q == 1): the
    value times q is ``I*q + j`` with ``0.F = j/q``, a multiple of p. ``integral`` /
    ``nonintegral``: which values to include (``I.0…`` ones, or ones with a fraction)."""
    alts = []
    for r in range(p):
        js = {j for j in range(q) if (r * q + j) % p == 0
              and ((j == 0 and integral) or (j != 0 and nonintegral))}
        if js:
            alts.append(L.cat(_residue_int_lang(p, r), DOT, dyadic_fraction_lang(q, js)))
    return L.cat(L.opt(MINUS), L.alt(*alts)) if alts else L.NONE
