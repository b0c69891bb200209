"""Subset construction (``dfa.determinize``) against a brute-force NFA simulation."""
from __future__ import annotations

import numpy as np
import pytest

from structgen.automata.dfa import determinize
from structgen.automata.nfa import NFA


def _random_nfa(rng: np.random.Generator, n: int, n_labels: int) -> NFA:
    """Random NFA over a small byte alphabet (ranges inside 0..9, so many byte classes and
    many columns with equal target lists), label edges and ε-edges."""
    nfa = NFA()
    nfa.add_states(n)
    for _ in range(int(rng.integers(n, 3 * n))):
        a, b = int(rng.integers(0, n)), int(rng.integers(0, n))
        lo = int(rng.integers(0, 10))
        hi = min(9, lo + int(rng.integers(0, 4)))
        nfa.add_bytes(a, lo, hi, b)
    for _ in range(int(rng.integers(0, n))):
        nfa.add_eps(int(rng.integers(0, n)), int(rng.integers(0, n)))
    for _ in range(int(rng.integers(0, n // 2 + 1))) if n_labels else ():
        nfa.add_label(int(rng.integers(0, n)), int(rng.integers(0, n_labels)), int(rng.integers(0, n)))
    return nfa


def _eps_closure(nfa: NFA, states: set[int]) -> set[int]:
    out, stack = set(states), list(states)
    while stack:
        s = stack.pop()
        for a, b in zip(nfa.e_src, nfa.e_dst):
            if a == s and b not in out:
                out.add(b)
                stack.append(b)
    return out


def _nfa_accepts(nfa: NFA, start: int, final: int, word: list[int], n_labels: int) -> bool:
    """``word`` symbols: 0..255 bytes, 256 + l for label l."""
    cur = _eps_closure(nfa, {start})
    for sym in word:
        nxt = set()
        if sym < 256:
            for a, lo, hi, b in zip(nfa.b_src, nfa.b_lo, nfa.b_hi, nfa.b_dst):
                if a in cur and lo <= sym <= hi:
                    nxt.add(b)
        else:
            for a, lab, b in zip(nfa.l_src, nfa.l_lab, nfa.l_dst):
                if a in cur and lab == sym - 256:
                    nxt.add(b)
        cur = _eps_closure(nfa, nxt)
        if not cur:
            return False
    return final in cur


def _dfa_accepts(dfa, word: list[int]) -> bool:
    if dfa.n_states == 0:
        return False
    s = 0
    for sym in word:
        col = int(dfa.byte_class[sym]) if sym < 256 else dfa.n_byte_classes + sym - 256
        s = int(dfa.trans[s, col])
        if s < 0:
            return False
    return bool(dfa.accept[s])


@pytest.mark.parametrize("seed", range(40))
def test_determinize_matches_nfa_simulation(seed):
    rng = np.random.default_rng(seed)
    n_labels = int(rng.integers(0, 3))
    nfa = _random_nfa(rng, int(rng.integers(2, 14)), n_labels)
    start, final = 0, int(rng.integers(0, len(nfa)))
    dfa = determinize(nfa, start, final, n_labels)
    alphabet = list(range(0, 11)) + [256 + i for i in range(n_labels)]
    for _ in range(300):
        word = [alphabet[int(i)] for i in rng.integers(0, len(alphabet), int(rng.integers(0, 7)))]
        assert _dfa_accepts(dfa, word) == _nfa_accepts(nfa, start, final, word, n_labels), word


@pytest.mark.parametrize("seed", range(12))
def test_tiny_work_arrays_regrow_to_the_same_dfa(seed):
    # every work array starts at capacity 1, so each kind of regrowth (DFA states, closure pool,
    # member pool, column buckets) happens, and the result must equal the normally sized run
    from structgen.automata import _subset_kernel as K

    rng = np.random.default_rng(100 + seed)
    n_labels = int(rng.integers(0, 3))
    nfa = _random_nfa(rng, int(rng.integers(6, 20)), n_labels)
    final = int(rng.integers(0, len(nfa)))
    args = (len(nfa), 0, final, *nfa.to_csr(), n_labels, 1000)
    ref = K.subset_construction(*args)
    tiny = K.subset_construction(*args, initial_capacity=(1, 1, 1, 1))
    assert ref[0] == tiny[0] == 0 and ref[3] == tiny[3] and ref[5] == tiny[5]
    assert (ref[1] == tiny[1]).all() and (ref[2] == tiny[2]).all() and (ref[4] == tiny[4]).all()


def test_state_limit_is_reported_not_regrown():
    from structgen.automata import _subset_kernel as K

    nfa = NFA()
    nfa.add_states(40)
    for i in range(39):
        nfa.add_bytes(i, 97, 97, i + 1)
    status = K.subset_construction(40, 0, 39, *nfa.to_csr(), 0, 10, initial_capacity=(2, 1, 1, 1))[0]
    assert status == K.LIMIT_EXCEEDED
    assert K.subset_construction(40, 0, 39, *nfa.to_csr(), 0, 40, initial_capacity=(2, 1, 1, 1))[3] == 40
