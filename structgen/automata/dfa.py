"""Determinize / prune / minimize / canonically number automata over byte classes + extra labels.

:class:`LabeledDFA` is the working form: columns ``0..n_byte_classes-1`` are byte equivalence
classes (intervals of bytes, in increasing byte order; ``byte_class[b]`` maps a byte to its column),
columns ``n_byte_classes..`` are extra labels (call labels of the grammar compiler). State 0 is
the start state; a DFA with 0 states has the empty language.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from structgen.automata import _kernels, _subset_kernel
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



def determinize(nfa: NFA, start: int, final: int, n_labels: int = 0, *,
                max_states: int = 100_000) -> LabeledDFA:
    """Subset construction over byte classes (maximal byte intervals on which every byte edge is
    constant) and ``n_labels`` extra labels.

    Only *important* NFA states (with byte/label out-edges, or ``final``) identify a DFA state,
    so ε-only states never split DFA states. Raises :class:`CompileLimitError` when more than
    ``max_states`` DFA states would be built.
    """
    return determinize_csr(len(nfa), start, final, nfa.to_csr(), n_labels, max_states=max_states)


def determinize_csr(n_nfa: int, start: int, final: int, csr: tuple, n_labels: int = 0, *,
                    max_states: int = 100_000) -> LabeledDFA:
    """:func:`determinize` of an NFA given in CSR form (as :meth:`NFA.to_csr` returns it)."""
    status, trans, accept, n, byte_class, n_bc = _subset_kernel.subset_construction(
        n_nfa, start, final, *csr, n_labels, max_states)
    if status == _subset_kernel.LIMIT_EXCEEDED:
        raise CompileLimitError(f"automaton exceeds the limit of {max_states} DFA states")
    trans = trans.reshape(n, n_bc + n_labels)
    return _merge_byte_columns(LabeledDFA(trans, accept, byte_class, int(n_bc)))


def _merge_byte_columns(dfa: LabeledDFA) -> LabeledDFA:
    """Merge byte classes whose columns are identical in every state (fewer transitions to
    minimize). Merged columns are numbered by their first byte, so visiting columns in index
    order still visits targets in increasing byte order."""
    n_bc = dfa.n_byte_classes
    if n_bc <= 1 or dfa.n_states == 0:
        return dfa
    new_of_old, first, n_new = _kernels.column_classes(dfa.trans, n_bc)
    if n_new == n_bc:
        return dfa
    trans = np.concatenate([dfa.trans[:, first], dfa.trans[:, n_bc:]], axis=1)
    return LabeledDFA(np.ascontiguousarray(trans, dtype=np.int32), dfa.accept,
                      new_of_old[dfa.byte_class], int(n_new))


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
