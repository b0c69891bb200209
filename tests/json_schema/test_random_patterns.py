"""Random Python patterns (classes, categories, anchors, word boundaries, look-arounds, inline
flags, lazy and counted repeats) as ``pattern`` keywords, checked against ``re.search`` on every
string of up to 3 characters over an alphabet that exercises them (``é``, newline, case)."""
from __future__ import annotations

import itertools
import json
import random
import re
import warnings

import pytest

from structgen.errors import CompileLimitError, InvalidSchemaError, UnsupportedSchemaError

from .helpers import accepts, automaton

ALPHA = ["a", "b", "é", "0", " ", "-", "\n", "A"]


def atom(r, d):
    k = r.random()
    if d > 0 and k < 0.2:
        inner = rx(r, d - 1)
        g = r.choice(["(", "(?:", "(?=", "(?!", "(?i:"])
        return g + inner + ")"
    if k < 0.25:
        return r.choice(["(?<=a)", "(?<!b)", "(?<=é)"])
    if k < 0.45:
        return r.choice(["a", "b", "é", "0", " ", "-", "A", "\\-", "\\."])
    if k < 0.6:
        return r.choice(["[ab]", "[^a]", "[a-z]", "[^\\s]", "[0-9é]", "[\\w-]", "[A-Za-z]"])
    if k < 0.75:
        return r.choice([".", "\\d", "\\w", "\\s", "\\D", "\\W", "\\S"])
    if k < 0.85:
        return r.choice(["^", "$", "\\b", "\\B", "\\A", "\\Z"])
    return r.choice(ALPHA[:4])


def piece(r, d):
    a = atom(r, d)
    if a in ("^", "$", "\\b", "\\B", "\\A", "\\Z") or a.startswith("(?<") or a.startswith("(?=") or a.startswith("(?!"):
        return a
    if r.random() < 0.35:
        q = r.choice(["*", "+", "?", "{2}", "{1,2}", "{0,3}", "{2,}", "*?", "+?", "??", "{1,2}?"])
        return a + q
    return a


def rx(r, d):
    alts = []
    for _ in range(r.choice([1, 1, 1, 2, 3])):
        alts.append("".join(piece(r, d) for _ in range(r.randint(0, 3))))
    return "|".join(alts)



STRINGS = [""] + ["".join(t) for k in range(1, 4) for t in itertools.product(ALPHA, repeat=k)]


def _check_patterns(seed: int, n: int) -> int:
    r = random.Random(seed)
    checked = 0
    for _ in range(n):
        p = rx(r, 2)
        try:
            # structgen reads a non-MULTILINE "$" as the end of the string (ECMA-262; see pyregex)
            ref = re.compile(p.replace("$", r"\Z"))
        except re.error:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                a = automaton({"type": "string", "pattern": p})
            except (UnsupportedSchemaError, InvalidSchemaError, CompileLimitError):
                continue
        for s in STRINGS:
            assert accepts(a, json.dumps(s)) == (ref.search(s) is not None), (p, s)
        checked += 1
    return checked


def test_random_patterns_match_re_search():
    assert _check_patterns(1, 80) >= 55


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(2, 8))
def test_many_random_patterns_match_re_search(seed):
    assert _check_patterns(seed, 120) >= 80
