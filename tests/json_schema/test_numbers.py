"""Number languages: exact integer ranges, float-safe decimal ranges, multipleOf — against
brute force and jsonschema."""
from __future__ import annotations

import json
import random
import re
from decimal import Decimal

import pytest

from structgen.json_schema import lang as L
from structgen.json_schema import numbers as N

from .helpers import accepts, automaton, validator


@pytest.mark.parametrize("lo,hi", [(0, 0), (1, 9), (0, 100), (-5, 5), (-123, -7), (13, 4567), (None, 5), (5, None),
                                   (None, None), (-1000, None), (None, -20), (999, 1001), (10, 10)])
def test_int_ranges_exact(lo, hi):
    rx = re.compile(L.to_regex(N.int_lang(lo, hi)))
    rng = random.Random(0)
    for n in list(range(-1200, 1200)) + [rng.randint(-10 ** 7, 10 ** 7) for _ in range(2000)]:
        exp = (lo is None or n >= lo) and (hi is None or n <= hi)
        assert (rx.fullmatch(str(n)) is not None) == exp, (lo, hi, n)
    for bad in ["01", "-", "", "00", "-01", "+1", "1.0"]:
        assert not rx.fullmatch(bad)


D = Decimal


@pytest.mark.parametrize("lo,hi", [
    ((D(0), False), (D(1), False)), ((D("1.5"), True), (D("2.25"), False)), ((D("-2.5"), False), (D("0.001"), True)),
    (None, (D("0.3"), False)), ((D("0.3"), True), None), ((D("1.5"), False), (D("1.5"), False)),
    ((D("-1"), True), (D("0"), True)), (None, None), ((D(10), False), (D("10.05"), True)),
    ((D("0.25"), False), (D("0.75"), True)), ((D("-100"), False), (D("-99.5"), False)),
])
def test_decimal_ranges_exact(lo, hi):
    rx = re.compile(L.to_regex(N.decimal_lang(lo, hi)))
    rng = random.Random(1)
    for _ in range(4000):
        ip = rng.choice([0, 1, 2, 3, 9, 10, 11, 99, 100, rng.randint(0, 1000)])
        fd = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 5)))
        if rng.random() < 0.3:
            fd = rng.choice(["0", "5", "50", "25", "1", "001", "99", "000", "05", "3"])
        s = ("-" if rng.random() < 0.5 else "") + str(ip) + "." + fd
        v = Decimal(s)
        exp = (lo is None or (v > lo[0] if lo[1] else v >= lo[0])) and (hi is None or (v < hi[0] if hi[1] else v <= hi[0]))
        assert (rx.fullmatch(s) is not None) == exp, (lo, hi, s)


@pytest.mark.parametrize("m", [1, 2, 3, 7, 10, 12, 25])
def test_multiple_of_dfa(m):
    for lo, hi in [(None, None), (0, 1000), (-50, 50)]:
        d = N.multiple_of_int_dfa(lo, hi, m)
        for n in range(-300, 1300):
            exp = n % m == 0 and (lo is None or n >= lo) and (hi is None or n <= hi)
            assert d.accepts([ord(c) for c in str(n)]) == exp


def _near(rng, center: float) -> str:
    """Decimal spellings near ``center`` (including ones that round onto it)."""
    c = Decimal(repr(center))
    k = rng.choice([0, 1, 2, 5, 17, 19, 25])
    delta = Decimal(rng.randint(-9, 9)).scaleb(-k) if k else Decimal(rng.randint(-3, 3))
    v = c + delta
    s = format(v, "f")
    if rng.random() < 0.5 and "." not in s:
        s += ".0"
    return s


@pytest.mark.parametrize("schema", [
    {"type": "number", "maximum": 0.3}, {"type": "number", "exclusiveMaximum": 0.3},
    {"type": "number", "minimum": 0.1, "maximum": 0.7}, {"type": "number", "exclusiveMinimum": 0},
    {"type": "number", "exclusiveMaximum": 0}, {"type": "integer", "minimum": 1.5, "exclusiveMaximum": 9},
    {"type": "number", "minimum": 9007199254740993}, {"type": "number", "maximum": 2 ** 60 + 1},
    {"type": "number", "not": {"enum": [1, 2.5]}}, {"type": "integer", "not": {"const": 0}, "minimum": -2, "maximum": 2},
    {"type": "number", "not": {"type": "integer"}, "maximum": 10},
    {"type": "number", "multipleOf": 0.5, "maximum": 4}, {"type": "integer", "multipleOf": 3, "minimum": -20},
    {"type": "number", "multipleOf": 1.5},
])
def test_numbers_sound_near_bounds(schema):
    """Strings near the bounds that the grammar accepts parse to values jsonschema accepts; the
    plain decimal spellings of valid values far from rounding trouble are accepted."""
    aut = automaton(schema)
    v = validator(schema)
    rng = random.Random(5)
    centers = [0.3, 0.1, 0.7, 0.0, 1.5, 9.0, 2.5, 1.0, 9007199254740993.0, float(2 ** 60), 4.0, -20.0, 10.0]
    n_acc = 0
    for _ in range(1200):
        s = _near(rng, rng.choice(centers)) if rng.random() < 0.8 else str(rng.randint(-30, 30))
        got = accepts(aut, s)
        value = json.loads(s)
        if got:
            n_acc += 1
            assert v.is_valid(value), (schema, s)
    assert n_acc > 0


def test_integer_spellings_by_draft():
    a = automaton({"type": "integer"})
    assert accepts(a, "1") and accepts(a, "-0") and accepts(a, "1.0") and accepts(a, "12.000")
    assert not accepts(a, "1.5") and not accepts(a, "1e3")
    a4 = automaton({"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer"})
    assert accepts(a4, "12") and not accepts(a4, "1.0")  # 1.0 is not an integer in draft 4


def test_float_safe_bounds():
    assert N.float_safe_upper(N.Bound(0.3)) == Decimal("0.3")
    # strict bounds exclude spellings that would round onto the bound
    d = N.float_safe_upper(N.Bound(0.3, True))
    assert float(str(d)) < 0.3
    assert N.float_safe_upper(N.Bound(0, True)) == Decimal("-1E-20")
    big = N.float_safe_lower(N.Bound(2 ** 60 + 1))
    assert float(big) >= 2 ** 60 + 1


DYADIC_SCHEMAS = [
    {"multipleOf": 1.5}, {"multipleOf": 0.75, "type": "number"}, {"multipleOf": 0.375},
    {"type": "integer", "multipleOf": 1.5}, {"multipleOf": 2.5, "maximum": 20},
    {"multipleOf": 1.5, "minimum": -3, "exclusiveMaximum": 9},
    {"$schema": "http://json-schema.org/draft-04/schema#", "multipleOf": 1.5},
    {"multipleOf": 1.5, "not": {"multipleOf": 3}}, {"type": "integer", "not": {"multipleOf": 4}},
]


@pytest.mark.parametrize("schema", DYADIC_SCHEMAS, ids=json.dumps)
def test_multiple_of_p_over_power_of_two_is_exact_on_decimals(schema):
    """multipleOf p/2^k (1.5, 0.75, 0.375): jsonschema divides exactly in floating point, so the
    multiples are the decimals whose value times 2^k is a multiple of p — integral or not. Checked on
    every decimal -12.000 .. 12.000 in steps of 0.125 written with 0–3 fraction digits."""
    a = automaton(schema)
    v = validator(schema)
    for n in range(-96, 97):
        x = Decimal(n) / 8
        spellings = {str(x.quantize(Decimal(10) ** -d)) for d in (1, 2, 3) if x == x.quantize(Decimal(10) ** -d)}
        if x == int(x):
            spellings.add(str(int(x)))
        for s in spellings:
            assert accepts(a, s) == v.is_valid(json.loads(s)), s


def _exponent_strings(rng: random.Random, n: int) -> list[str]:
    out = ["1e-06", "1.5e+20", "1E5", "9.99e307", "1e308", "1e-320", "1e-400", "2e-0", "-1E-00"]
    for _ in range(n):
        m = rng.choice(["1", "2", "9", "1.5", "9.99", "3.000", "1.0001", "12", "0.5", "0"])
        e = rng.choice(["", "+", "-"]) + rng.choice(["0", "00", "1", "01", "5", "06", "20", "307", "308", "320", "400"])
        out.append(rng.choice(["", "-"]) + m + rng.choice("eE") + e)
    return out


_NORMALIZED = re.compile(r"-?[1-9](\.[0-9]+)?[eE]([+-]?[0-9]+)$")


@pytest.mark.parametrize("schema", [
    {"type": "number", "minimum": 0}, {"type": "number", "maximum": 0}, {"type": "number", "exclusiveMinimum": 0},
    {"type": "number", "minimum": 1, "maximum": 100}, {"type": "number", "minimum": 0.001, "exclusiveMaximum": 1e20},
    {"type": "number", "exclusiveMaximum": -1e-5}, {"type": "number", "minimum": 1.5e-7, "maximum": 2.5e-7},
    {"type": "number", "minimum": -3, "maximum": 3, "not": {"enum": [0, 1]}},
    {"type": "number", "not": {"type": "integer"}, "minimum": 0},
])
def test_exponent_spellings_under_bounds(schema):
    """Bounded numbers accept exponent spellings (``1e-06`` is what ``json.dumps`` writes): never
    one ``jsonschema`` rejects, and every normalized one (mantissa 1..9.99…, exponent -20..307,
    outside the 20-digit quantization of strict zero bounds) whose value is in range."""
    a, v = automaton(schema), validator(schema)
    for t in _exponent_strings(random.Random(1), 1500):
        ok, got = v.is_valid(json.loads(t)), accepts(a, t)
        assert ok or not got, f"accepted {t}"
        m = _NORMALIZED.match(t)
        if ok and m and -20 <= int(m.group(2)) <= 307 and "not" not in schema:
            assert got, f"rejected {t}"
