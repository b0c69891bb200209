"""Hand-built GrammarAutomaton fixtures (independent of the grammar compiler)."""
from __future__ import annotations

import hashlib

import numpy as np

from structgen.cfg.automaton import GrammarAutomaton


def build(n_states, byte_edges, calls, accept, state_rule, rule_start, nullable, names):
    """byte_edges: {(state, byte_or_char): target}; calls: {state: [(rule, target), ...]}."""
    trans = np.full((n_states, 256), -1, np.int32)
    for (s, b), t in byte_edges.items():
        trans[s, ord(b) if isinstance(b, str) else b] = t
    ptr, cr, ct = [0], [], []
    for s in range(n_states):
        for r, t in calls.get(s, []):
            cr.append(r)
            ct.append(t)
        ptr.append(len(cr))
    state_rule = np.asarray(state_rule, np.int32)
    rule_start = np.asarray(rule_start, np.int32)
    local = np.array([s - rule_start[state_rule[s]] for s in range(n_states)], np.int32)
    return GrammarAutomaton(trans, np.asarray(accept, bool), state_rule, local, np.asarray(ptr, np.int32),
                            np.asarray(cr, np.int32), np.asarray(ct, np.int32), rule_start,
                            np.asarray(nullable, bool), 0, list(names), [f"toy:{r}:{hashlib.sha1(trans.tobytes() + repr(sorted(calls.items())).encode()).hexdigest()}"
                             for r in range(len(names))])


def parens():
    """start: "(" start ")" start | "a" | ε   (recursive, nullable)."""
    return build(
        6,
        {(0, "("): 1, (0, "a"): 5, (2, ")"): 3},
        {1: [(0, 2)], 3: [(0, 4)]},
        [1, 0, 0, 0, 1, 1], [0] * 6, [0], [True], ["start"])


def left_recursive_sum():
    """start: start "+" num | num ;  num: /[0-9]+/   (left recursion, two rules)."""
    # rule 0 states 0..3: 0 -call start-> 1 ; 1 -'+'-> 2 ; 2 -call num-> 3(acc) ; 0 -call num-> 3
    # rule 1 states 4..5: 4 -digit-> 5(acc) ; 5 -digit-> 5
    edges = {(1, "+"): 2}
    for d in "0123456789":
        edges[(4, d)] = 5
        edges[(5, d)] = 5
    return build(6, edges, {0: [(0, 1), (1, 3)], 2: [(1, 3)]},
                 [0, 0, 0, 1, 0, 1], [0, 0, 0, 0, 1, 1], [0, 4], [False, False], ["start", "num"])


def json_string_list():
    """start: "[" (str ("," " "? str)*)? "]" ;  str: '"' ([^"\\] | '\\' ["\\n])* '"'."""
    edges = {(0, "["): 1, (1, "]"): 3, (2, "]"): 3, (2, ","): 6, (6, " "): 7}
    for b in range(0x20, 256):
        if b not in (ord('"'), ord("\\")):
            edges[(9, b)] = 9
    edges.update({(8, '"'): 9, (9, "\\"): 10, (9, '"'): 11, (10, '"'): 9, (10, "\\"): 9, (10, "n"): 9})
    calls = {1: [(1, 2)], 6: [(1, 2)], 7: [(1, 2)]}
    return build(12, edges, calls, [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1],
                 [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1], [0, 8], [False, False], ["start", "str"])
