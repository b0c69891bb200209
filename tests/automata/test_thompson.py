"""Thompson construction from postfix programs (``automata.thompson``), through the grammar
compiler's flattening: random expressions against Python's ``re`` on all short strings."""
from __future__ import annotations

import itertools
import random
import re

import numpy as np
import pytest

from structgen.automata import thompson as T
from structgen.cfg import compiler as C
from structgen.cfg.ir import Alt, Literal, Regex, Repeat, Seq
from structgen.errors import CompileLimitError


def _random_expr(rng: random.Random, depth: int):
    """(IR expression, equivalent Python regex) over the alphabet {a, b, c}."""
    kind = rng.choice(["lit", "cls", "seq", "alt", "rep"] if depth else ["lit", "cls"])
    if kind == "lit":
        text = "".join(rng.choice("abc") for _ in range(rng.randint(0, 2)))
        return Literal(text), re.escape(text)
    if kind == "cls":
        pat = rng.choice(["[ab]", "c", "[a-c]b?", "(?:ab)*", "a|bc"])
        return Regex(pat), f"(?:{pat})"
    if kind in ("seq", "alt"):
        parts = [_random_expr(rng, depth - 1) for _ in range(rng.randint(0, 3))]
        if kind == "seq":
            return Seq(tuple(p[0] for p in parts)), "".join(f"(?:{p[1]})" for p in parts)
        if not parts:
            return Alt(()), "(?!)"
        return Alt(tuple(p[0] for p in parts)), "|".join(f"(?:{p[1]})" for p in parts)
    item, rx = _random_expr(rng, depth - 1)
    lo = rng.randint(0, 2)
    hi = rng.choice([None, lo, lo + 1, lo + 2])
    return Repeat(item, lo, hi), f"(?:{rx}){{{lo},{'' if hi is None else hi}}}"


def _dfa_accepts(dfa, data: bytes) -> bool:
    if dfa.n_states == 0:
        return False
    s = 0
    for b in data:
        s = int(dfa.trans[s, dfa.byte_class[b]])
        if s < 0:
            return False
    return bool(dfa.accept[s])


def _determinize(expr, **build_kwargs):
    prog = C._Program("r", 100_000)
    prog.add(expr)
    key = C._BodyKey(prog)
    if not build_kwargs:
        return C._determinize_body(key, "r")
    frags = [C._terminal_fragment(Regex(p, f), "r") for p, f in key.terms]
    out = T.build_nfa(np.frombuffer(key.code, np.int32), np.frombuffer(key.lits or b"\0", np.uint8),
                      *T.fragment_table(frags), 400_000, **build_kwargs)
    from structgen.automata.dfa import determinize_csr

    return determinize_csr(out[1], out[2], out[3], out[4:], key.n_labels)


WORDS = [b""] + [bytes(w) for n in range(1, 6) for w in itertools.product(b"abc", repeat=n)]


@pytest.mark.parametrize("seed", range(30))
def test_random_expressions_match_python_re(seed):
    rng = random.Random(seed)
    expr, rx = _random_expr(rng, 3)
    dfa = _determinize(expr)
    for w in WORDS:
        assert _dfa_accepts(dfa, w) == bool(re.fullmatch(rx, w.decode())), (rx, w)


@pytest.mark.parametrize("seed", range(8))
def test_tiny_work_arrays_regrow_to_the_same_automaton(seed):
    rng = random.Random(1000 + seed)
    expr, rx = _random_expr(rng, 4)
    small = _determinize(expr, initial_capacity=(1, 1, 1, 1))
    for w in WORDS:
        assert _dfa_accepts(small, w) == bool(re.fullmatch(rx, w.decode())), (rx, w)


def test_huge_repetition_fails_before_copying():
    with pytest.raises(CompileLimitError, match="'r'"):
        _determinize(Repeat(Repeat(Literal("ab"), 0, 3000), 0, 3000))
