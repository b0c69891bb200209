"""Static analyses of a GrammarAutomaton: byte-level FIRST and FOLLOW sets.

``follow_bytes(g)[r, b]`` is True when byte ``b`` can come right after a complete derivation of
rule ``r`` somewhere in the grammar. The mask store uses it to drop token suffixes that can never
continue after a rule completes inside a token — in any context — before building a state's
suffix trie (``masks.py``). Dropping them is sound and complete: the runtime would reject each of
them at its first byte anyway.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _first_and_eps(trans, accept, call_ptr, call_rule, call_target, rule_start, nullable):
    """FIRST[s, b]: byte b can be scanned next from state s (through calls); EPS[s]: s can complete
    its rule without reading a byte (through nullable calls)."""
    n = trans.shape[0]
    first = np.zeros((n, 256), np.bool_)
    eps = np.zeros(n, np.bool_)
    for s in range(n):
        eps[s] = accept[s]
        for b in range(256):
            first[s, b] = trans[s, b] >= 0
    changed = True
    while changed:
        changed = False
        for s in range(n):
            for e in range(call_ptr[s], call_ptr[s + 1]):
                m = call_rule[e]
                t = call_target[e]
                src = rule_start[m]
                for b in range(256):
                    if first[src, b] and not first[s, b]:
                        first[s, b] = True
                        changed = True
                if nullable[m]:
                    for b in range(256):
                        if first[t, b] and not first[s, b]:
                            first[s, b] = True
                            changed = True
                    if eps[t] and not eps[s]:
                        eps[s] = True
                        changed = True
    return first, eps


@njit(cache=True, nogil=True)
def _follow(first, eps, state_rule, call_ptr, call_rule, call_target, n_rules):
    follow = np.zeros((n_rules, 256), np.bool_)
    n = first.shape[0]
    changed = True
    while changed:
        changed = False
        for s in range(n):
            x = state_rule[s]
            for e in range(call_ptr[s], call_ptr[s + 1]):
                m = call_rule[e]
                t = call_target[e]
                for b in range(256):
                    if (first[t, b] or (eps[t] and follow[x, b])) and not follow[m, b]:
                        follow[m, b] = True
                        changed = True
    return follow


def follow_bytes(g: tuple) -> np.ndarray:
    """bool[R, 256]: which bytes can directly follow a complete derivation of each rule."""
    trans, accept, state_rule, call_ptr, call_rule, call_target, rule_start, nullable = g
    first, eps = _first_and_eps(trans, accept, call_ptr, call_rule, call_target, rule_start, nullable)
    return _follow(first, eps, state_rule, call_ptr, call_rule, call_target, rule_start.shape[0])
