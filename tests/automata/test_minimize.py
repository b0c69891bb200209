"""Minimization / trimming kernels against brute-force reference implementations."""
from __future__ import annotations

import numpy as np
import pytest

from structgen.automata import _kernels
from structgen.automata.dfa import LabeledDFA, canonical_form, trim_minimize


def _brute_trim(trans, accept):
    n, k = trans.shape
    fwd = {0} if n else set()
    stack = [0] if n else []
    while stack:
        s = stack.pop()
        for t in trans[s]:
            if t >= 0 and t not in fwd:
                fwd.add(int(t))
                stack.append(int(t))
    live = {s for s in range(n) if accept[s] and s in fwd}
    changed = True
    while changed:
        changed = False
        for s in fwd:
            if s not in live and any(t >= 0 and t in live for t in trans[s]):
                live.add(s)
                changed = True
    return sorted(live)


def _brute_classes(trans, accept):
    """Moore refinement on a trimmed partial DFA (missing transition = its own signature)."""
    n = trans.shape[0]
    part = [int(a) for a in accept]
    while True:
        sigs = {}
        new = []
        for s in range(n):
            sig = (part[s],) + tuple(part[t] if t >= 0 else -1 for t in trans[s])
            new.append(sigs.setdefault(sig, len(sigs)))
        if len(set(new)) == len(set(part)):
            return new
        part = new


def _random_dfa(rng, n, k, density, p_accept):
    trans = np.where(rng.random((n, k)) < density, rng.integers(0, n, (n, k)), -1).astype(np.int32)
    accept = rng.random(n) < p_accept
    return trans, accept


@pytest.mark.parametrize("seed", range(60))
def test_trim_and_minimize_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 40))
    k = int(rng.integers(1, 6))
    trans, accept = _random_dfa(rng, n, k, float(rng.uniform(0.2, 0.9)), float(rng.uniform(0.05, 0.6)))
    # duplicate some states so that minimization has work to do
    if n > 4:
        trans[n - 1] = trans[n - 2]
        accept[n - 1] = accept[n - 2]
    keep = _brute_trim(trans, accept)
    mask = _kernels.trim_mask(trans, accept, np.ones(k, bool))
    assert sorted(np.flatnonzero(mask).tolist()) == keep
    if not keep or 0 not in keep:
        out, acc = _kernels.trim_and_minimize(trans, accept, np.ones(k, bool))
        assert out.shape[0] == 0
        return
    remap = {s: i for i, s in enumerate(keep)}
    sub = np.array([[remap.get(int(t), -1) if t >= 0 else -1 for t in trans[s]] for s in keep], np.int32)
    sub_acc = accept[keep]
    expected = _brute_classes(sub, sub_acc)
    block, nb = _kernels.minimize_blocks(sub, sub_acc)
    assert nb == len(set(expected))
    # same partition
    pairs = {(int(b), e) for b, e in zip(block, expected)}
    assert len(pairs) == nb
    out, acc = _kernels.trim_and_minimize(trans, accept, np.ones(k, bool))
    assert out.shape[0] == nb
    # the quotient is itself minimal and trimmed
    assert len(set(_brute_classes(out, acc))) == nb
    assert _kernels.trim_mask(out, acc, np.ones(k, bool)).all()


def _accepts(trans, accept, word):
    s = 0
    for c in word:
        s = trans[s, c]
        if s < 0:
            return False
    return bool(accept[s])


@pytest.mark.parametrize("seed", range(20))
def test_minimized_language_unchanged(seed):
    rng = np.random.default_rng(100 + seed)
    n, k = 25, 3
    trans, accept = _random_dfa(rng, n, k, 0.7, 0.3)
    out, acc = _kernels.trim_and_minimize(trans, accept, np.ones(k, bool))
    words = [tuple(rng.integers(0, k, int(rng.integers(0, 9)))) for _ in range(400)]
    for w in words:
        expect = _accepts(trans, accept, w)
        got = _accepts(out, acc, w) if out.shape[0] else False
        assert got == expect, w


def test_disallowed_columns_are_removed():
    # 0 -a-> 1(acc), 0 -b-> 2 -a-> 1 ; disallow b: state 2 unreachable
    trans = np.array([[1, 2], [-1, -1], [1, -1]], np.int32)
    accept = np.array([False, True, False])
    out, acc = _kernels.trim_and_minimize(trans, accept, np.array([True, False]))
    assert out.shape == (2, 2) and (out[:, 1] == -1).all()


def test_canonical_form_is_bfs_in_label_order():
    # byte classes: 0 = bytes 0..96, 1 = 'a', 2 = 98..255 ; one label column
    byte_class = np.zeros(256, np.int32)
    byte_class[97] = 1
    byte_class[98:] = 2
    trans = np.array([[-1, 2, -1, 1], [-1, -1, -1, -1], [-1, -1, -1, 1]], np.int32)
    accept = np.array([False, True, False])
    dfa = LabeledDFA(trans, accept, byte_class, 3)
    c = canonical_form(dfa)
    # BFS: 0 ; byte 'a' -> old 2 gets id 1 ; call -> old 1 gets id 2
    assert c.byte_trans[0, 97] == 1 and c.accept.tolist() == [False, False, True]
    assert c.call_state.tolist() == [0, 1] and c.call_target.tolist() == [2, 2]
    assert trim_minimize(dfa).n_states == 3
