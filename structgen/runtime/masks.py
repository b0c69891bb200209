"""Per-state token masks: the context-independent part, computed once and shared.

For a rule ``N`` at automaton state ``s``, the **row** of ``s`` is the set of tokens ``t`` that
are prefixes of some string ``N`` can still derive from ``s`` — computed by walking the whole
token trie from an isolated chart whose only kernel item is ``(s, virtual origin)``. It depends
on ``s`` alone, not on what called ``N``, so it is cached per (vocabulary, rule fingerprint,
local state) and reused across matchers and across grammars that share the rule (e.g. the
JSON string rule of every schema).

The same walk records the **split nodes** of ``s``: trie nodes where ``N`` can complete
*inside* a token that goes on (e.g. the ``"`` of ``",``). Tokens below a split node also depend
on the caller's continuation; the runtime walks just those subtrees in the actual context
(``kernels.fill_mask``). Splits at the very start of a token need no walk: Earley completion has
already put the caller's continuation in the current set as its own kernel item.

Cost: a row costs one pruned trie walk (visiting only nodes whose bytes stay viable);
afterwards a fill is an OR of a few rows plus the (usually tiny) split-node walks.
"""
from __future__ import annotations

import threading

import numpy as np

from . import kernels as K
from .chart import Chart

# (vocab fingerprint, rule fingerprint, local state) -> (row uint32[W], split nodes int32[:])
_SHARED_ROWS: dict[tuple[str, str, int], tuple[np.ndarray, np.ndarray]] = {}
_SHARED_LOCK = threading.Lock()


def clear_shared_rows() -> None:
    """Forget every cached row (tests and memory pressure)."""
    with _SHARED_LOCK:
        _SHARED_ROWS.clear()


class MaskStore:
    """Rows and split nodes of one compiled grammar's states, computed lazily.

    ``a_row[s]`` is the row index of state ``s`` in ``a_table`` (-1 while not computed);
    ``c_ptr``/``c_nodes`` hold each row's split nodes in CSR form. Rows are only ever appended,
    so a kernel holding an older ``a_table`` array still reads correct rows.
    """

    def __init__(self, compiled) -> None:
        self._compiled = compiled
        aut = compiled.automaton
        self.words = compiled.words
        self.a_row = np.full(aut.n_states, -1, np.int32)
        self.a_table = np.zeros((8, self.words), np.uint32)
        self.c_ptr = np.zeros(9, np.int32)
        self.c_nodes = np.zeros(64, np.int32)
        self.n_rows = 0
        self.rows_computed = 0  # rows computed by a trie walk (not taken from the shared cache)
        self._lock = threading.Lock()
        self._scratch = Chart()
        self._entries = np.zeros(1024, np.int32)

    def ensure(self, states: np.ndarray) -> None:
        """Make sure every state in ``states`` has a row."""
        a_row = self.a_row
        missing = [int(s) for s in states if a_row[s] < 0]
        if not missing:
            return
        with self._lock:
            for s in missing:
                if self.a_row[s] < 0:
                    row, nodes = self._row_for(s)
                    self._append(s, row, nodes)

    def _row_for(self, s: int) -> tuple[np.ndarray, np.ndarray]:
        comp = self._compiled
        aut = comp.automaton
        key = (comp.vocab.fingerprint, aut.rule_fingerprint[int(aut.state_rule[s])], int(aut.state_local[s]))
        hit = _SHARED_ROWS.get(key)
        if hit is not None:
            return hit
        row, nodes = self.walk_row(s)
        with _SHARED_LOCK:
            _SHARED_ROWS[key] = (row, nodes)
        return row, nodes

    def walk_row(self, s: int) -> tuple[np.ndarray, np.ndarray]:
        """Compute the row and split nodes of state ``s`` by a full pruned trie walk."""
        comp = self._compiled
        chart = self._scratch
        chart.run(K.init_chart, comp.g, s)
        out = np.zeros(self.words, np.uint32)
        n_nodes = comp.trie_arrays[0].shape[0]
        while True:
            n = K.walk_trie(comp.g, chart.c, comp.trie_arrays, 1, n_nodes, 0, out, self._entries, comp.depth_set)
            status = int(chart.meta[3])
            if status == K.STATUS_OK:
                break
            chart.meta[3] = K.STATUS_OK
            if status == K.OVERFLOW_ENTRIES:
                self._entries = np.zeros(2 * self._entries.shape[0], np.int32)
            else:
                chart.grow(status)
        nodes = self._entries[:n].copy()
        self.rows_computed += 1
        return out, nodes

    def _append(self, s: int, row: np.ndarray, nodes: np.ndarray) -> None:
        r = self.n_rows
        if r >= self.a_table.shape[0]:
            table = np.zeros((self.a_table.shape[0] * 2, self.words), np.uint32)
            table[:r] = self.a_table[:r]
            self.a_table = table
            ptr = np.zeros(table.shape[0] + 1, np.int32)
            ptr[: r + 1] = self.c_ptr[: r + 1]
            self.c_ptr = ptr
        self.a_table[r] = row
        e0 = int(self.c_ptr[r])
        need = e0 + nodes.shape[0]
        if need > self.c_nodes.shape[0]:
            self.c_nodes = np.resize(self.c_nodes, max(need, 2 * self.c_nodes.shape[0]))
        self.c_nodes[e0:need] = nodes
        self.c_ptr[r + 1] = need
        self.n_rows = r + 1
        self.a_row[s] = r  # publish last: readers check a_row first
