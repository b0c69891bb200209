"""Determinize / prune / minimize / canonically number automata over byte classes + extra labels.

:class:`LabeledDFA` is the working form: columns ``0..n_byte_classes-1`` are byte equivalence
classes (intervals of bytes, in increasing byte order; ``byte_class[b]`` maps a byte to its column),
columns ``n_byte_classes..`` are extra labels (call labels of the grammar compiler). State 0 is
the start state; a DFA with 0 states has the empty language.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from structgen.automata import _kernels
from structgen.automata.nfa import NFA
from structgen.errors import CompileLimitError


@dataclass
class LabeledDFA:
    trans: np.ndarray        # int32 [n, n_byte_classes + n_labels]
    accept: np.ndarray       # bool [n]
    byte_class: np.ndarray   # int32 [256]
    n_byte_classes: int

    @property
    def n_states(self) -> int:
        return int(self.trans.shape[0])

    @property
    def n_labels(self) -> int:
        return int(self.trans.shape[1]) - self.n_byte_classes

    def byte_table(self) -> np.ndarray:
        """int32 [n, 256] byte transitions."""
        if self.n_states == 0:
            return np.zeros((0, 256), np.int32)
        return np.ascontiguousarray(self.trans[:, self.byte_class])

    def label_table(self) -> np.ndarray:
        """int32 [n, n_labels] extra-label transitions."""
        return self.trans[:, self.n_byte_classes:]

    def with_trans(self, trans: np.ndarray, accept: np.ndarray) -> "LabeledDFA":
        return LabeledDFA(np.ascontiguousarray(trans, dtype=np.int32), np.ascontiguousarray(accept, dtype=bool),
                          self.byte_class, self.n_byte_classes)


def determinize(nfa: NFA, start: int, final: int, n_labels: int = 0, *,
                max_states: int = 100_000) -> LabeledDFA:
    """Subset construction over byte classes (intervals of bytes on which every byte edge is
    constant) and ``n_labels`` extra labels.

    Only *important* NFA states (with byte/label out-edges, or ``final``) identify a DFA state,
    so ε-only states never split DFA states. Raises :class:`CompileLimitError` when more than
    ``max_states`` DFA states would be built.
    """
    byte_edges = nfa.byte_edges
    label_edges = nfa.label_edges
    eps = nfa.eps
    cuts = {0, 256}
    for edges in byte_edges:
        for lo, hi, _ in edges:
            cuts.add(lo)
            cuts.add(hi + 1)
    bounds = sorted(cuts)
    n_bc = len(bounds) - 1
    byte_class = np.repeat(np.arange(n_bc, dtype=np.int32), np.diff(bounds))
    pos = {b: i for i, b in enumerate(bounds)}
    n_cols = n_bc + n_labels

    # per important state: byte edges as class ranges [(a, b, target)] (columns a..b-1), label edges
    ranges: dict[int, list[tuple[int, int, int]]] = {}
    labels: dict[int, list[tuple[int, int]]] = {}
    closures: dict[int, frozenset] = {}

    def closure(s: int) -> frozenset:
        seen = {s}
        stack = [s]
        imp = []
        while stack:
            u = stack.pop()
            if byte_edges[u] or label_edges[u] or u == final:
                imp.append(u)
                if u not in ranges:
                    ranges[u] = [(pos[lo], pos[hi + 1], t) for lo, hi, t in byte_edges[u]]
                    labels[u] = [(n_bc + lab, t) for lab, t in label_edges[u]]
            for v in eps[u]:
                if v not in seen:
                    seen.add(v)
                    stack.append(v)
        got = frozenset(imp)
        closures[s] = got
        return got

    start_key = closure(start)
    ids = {start_key: 0}
    order = [start_key]
    trans_rows: list[list[int]] = []
    union_memo: dict[frozenset, frozenset] = {}

    def state_id(key: frozenset) -> int:
        j = ids.get(key)
        if j is None:
            j = len(order)
            if j >= max_states:
                raise CompileLimitError(f"automaton exceeds the limit of {max_states} DFA states")
            ids[key] = j
            order.append(key)
        return j

    def target_id(ts: list[int]) -> int:
        if len(ts) == 1:
            t = ts[0]
            key = closures.get(t)
            if key is None:
                key = closure(t)
        else:
            fs = frozenset(ts)
            key = union_memo.get(fs)
            if key is None:
                key = frozenset().union(*[closures.get(t) or closure(t) for t in ts])
                union_memo[fs] = key
        return state_id(key)

    i = 0
    while i < len(order):
        S = order[i]
        i += 1
        row = [-1] * n_cols
        edges: list[tuple[int, int, int]] = []
        lab_edges: list[tuple[int, int]] = []
        for s in S:
            edges.extend(ranges[s])
            lab_edges.extend(labels[s])
        edges.sort()
        disjoint = True
        for e in range(1, len(edges)):
            if edges[e][0] < edges[e - 1][1]:
                disjoint = False
                break
        if disjoint:  # common case: each column has at most one NFA target
            for a, b, t in edges:
                j = target_id([t])
                if b == a + 1:
                    row[a] = j
                else:
                    row[a:b] = [j] * (b - a)
        else:
            buckets: dict[int, list[int]] = {}
            for a, b, t in edges:
                for c in range(a, b):
                    bk = buckets.get(c)
                    if bk is None:
                        buckets[c] = [t]
                    elif t not in bk:
                        bk.append(t)
            for c, ts in buckets.items():
                row[c] = target_id(ts)
        if lab_edges:
            lb: dict[int, list[int]] = {}
            for c, t in lab_edges:
                bk = lb.get(c)
                if bk is None:
                    lb[c] = [t]
                elif t not in bk:
                    bk.append(t)
            for c, ts in lb.items():
                row[c] = target_id(ts)
        trans_rows.append(row)
    trans = np.array(trans_rows, dtype=np.int32).reshape(len(trans_rows), n_cols)
    accept = np.fromiter((final in S for S in order), dtype=bool, count=len(order))
    return LabeledDFA(trans, accept, byte_class, n_bc)


def trim_minimize(dfa: LabeledDFA, allowed_labels: np.ndarray | None = None) -> LabeledDFA:
    """Remove transitions on disallowed labels, trim (keep states reachable from the start and
    co-reachable to acceptance), then minimize. The start stays state 0; numbering is otherwise
    arbitrary (see :func:`canonical_form`). A dead start gives 0 states (empty language)."""
    k = dfa.trans.shape[1]
    allowed = np.ones(k, dtype=bool)
    if allowed_labels is not None:
        allowed[dfa.n_byte_classes:] = allowed_labels
    trans, accept = _kernels.trim_and_minimize(dfa.trans, dfa.accept, allowed)
    return LabeledDFA(trans, accept, dfa.byte_class, dfa.n_byte_classes)


@dataclass
class CanonicalDFA:
    """A minimized DFA in canonical numbering (BFS from the start; bytes in increasing order,
    then labels in the given order).

    ``byte_trans`` int32 [n, 256]; ``accept`` bool [n]; ``label_trans`` int32 [n, n_labels]
    (original label columns); call edges ``(call_state, call_label, call_target)`` ordered by
    state, then by label order.
    """
    byte_trans: np.ndarray
    accept: np.ndarray
    label_trans: np.ndarray
    call_state: np.ndarray
    call_label: np.ndarray
    call_target: np.ndarray

    @property
    def n_states(self) -> int:
        return int(self.accept.shape[0])


def canonical_form(dfa: LabeledDFA, label_order: np.ndarray | None = None) -> CanonicalDFA:
    """Canonically number a trimmed, minimized DFA (see :class:`CanonicalDFA`)."""
    nl = dfa.n_labels
    if label_order is None:
        label_order = np.arange(nl, dtype=np.int64)
    if dfa.n_states == 0:
        z = np.zeros(0, np.int32)
        return CanonicalDFA(np.zeros((0, 256), np.int32), np.zeros(0, bool), np.zeros((0, nl), np.int32), z, z, z)
    return CanonicalDFA(*_kernels.canonical_form(dfa.trans, dfa.accept, dfa.byte_class, dfa.n_byte_classes,
                                                 np.asarray(label_order, dtype=np.int64)))
