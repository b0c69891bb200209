"""Per-state token masks: the context-independent part, computed once and shared.

For a rule ``N`` at automaton state ``s``, the **row** of ``s`` is the set of tokens ``t`` that
are prefixes of some string ``N`` can still derive from ``s`` — computed by walking the whole
token trie from an isolated chart whose only kernel item is ``(s, virtual origin)``. It depends
on ``s`` alone, not on what called ``N``, so it is cached per (vocabulary, rule fingerprint,
local state) and reused across matchers and across grammars that share the rule (e.g. the
JSON string rule of every schema).

The same walk records the **split nodes** of ``s``: trie nodes where ``N`` can complete
*inside* a token that goes on (e.g. the ``"`` of ``",``). Tokens below a split node also depend
on the caller's continuation. Their byte *suffixes* after the split point are merged into one
small **suffix trie** per state (leaves carry the full token ids), and the runtime walks just that
trie in the actual context (``kernels.fill_mask``): one pruned walk whose first level is a handful
of distinct bytes (``,`` ``}`` ``]`` ``:`` …), instead of one walk per split node. Splits at the very start of a token need no walk: Earley completion has
already put the caller's continuation in the current set as its own kernel item.

Cost: a row costs one pruned trie walk (visiting only nodes whose bytes stay viable);
afterwards a fill is an OR of a few rows plus the (usually tiny) split-node walks.
"""
from __future__ import annotations

import threading

import numpy as np

from . import kernels as K
from ..vocab.trie import TokenTrie
from .chart import Chart

# (vocab fingerprint, rule fingerprint, local state) -> (row uint32[W], suffix trie or None)
_SHARED_ROWS: dict[tuple[str, str, int], tuple[np.ndarray, object]] = {}
_SHARED_LOCK = threading.Lock()


def clear_shared_rows() -> None:
    """Forget every cached row (tests and memory pressure)."""
    with _SHARED_LOCK:
        _SHARED_ROWS.clear()


class MaskStore:
    """Rows and split nodes of one compiled grammar's states, computed lazily.

    ``a_row[s]`` is the row index of state ``s`` in ``a_table`` (-1 while not computed). Each
    row's suffix trie occupies nodes ``[sfx_lo[r], sfx_hi[r])`` of the concatenated suffix-trie
    arrays ``sfx`` (same layout as :class:`~structgen.vocab.TokenTrie`, node ``sfx_lo[r]`` its
    root; ``sfx_hi[r] <= sfx_lo[r] + 1`` when the state has no split nodes). Rows are only ever
    appended, so a kernel holding older arrays still reads correct rows.
    """

    def __init__(self, compiled) -> None:
        self._compiled = compiled
        aut = compiled.automaton
        self.words = compiled.words
        self.a_row = np.full(aut.n_states, -1, np.int32)
        self.a_table = np.zeros((8, self.words), np.uint32)
        self.sfx_lo = np.zeros(8, np.int32)
        self.sfx_hi = np.zeros(8, np.int32)
        self._sfx_nodes = 0
        self._sfx_toks = 0
        self.sfx = (np.zeros(64, np.uint8), np.zeros(64, np.int32), np.zeros(64, np.int32),
                    np.zeros(65, np.int32), np.zeros(64, np.int32))
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

    def _row_for(self, s: int) -> tuple[np.ndarray, object]:
        comp = self._compiled
        aut = comp.automaton
        key = (comp.vocab.fingerprint, aut.rule_fingerprint[int(aut.state_rule[s])], int(aut.state_local[s]))
        hit = _SHARED_ROWS.get(key)
        if hit is not None:
            return hit
        row, nodes = self.walk_row(s)
        suffix = self._suffix_trie(nodes)
        with _SHARED_LOCK:
            _SHARED_ROWS[key] = (row, suffix)
        return row, suffix

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

    def _suffix_trie(self, nodes: np.ndarray):
        """Merge the suffixes (after each split node) of the tokens below the split nodes."""
        if nodes.shape[0] == 0:
            return None
        comp = self._compiled
        trie = comp.vocab.trie
        tb = comp.vocab.token_bytes
        suffixes: list[bytes] = []
        owners: list[np.ndarray] = []
        for x in nodes.tolist():
            d = int(trie.depth[x])
            ids = trie.token_ids[trie.tok_ptr[x + 1]:trie.tok_ptr[trie.subtree_end[x]]]
            suffixes.extend(tb[t][d:] for t in ids.tolist())
            owners.append(ids)
        if not suffixes:
            return None
        sub = TokenTrie.build(suffixes)
        owner = np.concatenate(owners).astype(np.int32)
        return (sub.byte, sub.depth, sub.subtree_end, sub.tok_ptr, owner[sub.token_ids])

    def _append(self, s: int, row: np.ndarray, suffix) -> None:
        r = self.n_rows
        if r >= self.a_table.shape[0]:
            table = np.zeros((self.a_table.shape[0] * 2, self.words), np.uint32)
            table[:r] = self.a_table[:r]
            self.a_table = table
            self.sfx_lo = np.resize(self.sfx_lo, table.shape[0])
            self.sfx_hi = np.resize(self.sfx_hi, table.shape[0])
        self.a_table[r] = row
        if suffix is None:
            self.sfx_lo[r] = self.sfx_hi[r] = 0
        else:
            self._append_suffix(r, suffix)
        self.n_rows = r + 1
        self.a_row[s] = r  # publish last: readers check a_row first

    def _append_suffix(self, r: int, suffix) -> None:
        byte, depth, subtree_end, tok_ptr, token_ids = suffix
        n, t = byte.shape[0], token_ids.shape[0]
        n0, t0 = self._sfx_nodes, self._sfx_toks
        arrays = list(self.sfx)
        if n0 + n + 1 > arrays[0].shape[0] or t0 + t > arrays[4].shape[0]:
            cap_n = max(2 * arrays[0].shape[0], n0 + n + 1)
            cap_t = max(2 * arrays[4].shape[0], t0 + t)
            arrays = [np.resize(arrays[0], cap_n), np.resize(arrays[1], cap_n), np.resize(arrays[2], cap_n),
                      np.resize(arrays[3], cap_n + 1), np.resize(arrays[4], cap_t)]
        arrays[0][n0:n0 + n] = byte
        arrays[1][n0:n0 + n] = depth
        arrays[2][n0:n0 + n] = subtree_end + n0
        arrays[3][n0:n0 + n + 1] = tok_ptr + t0
        arrays[4][t0:t0 + t] = token_ids
        self.sfx = tuple(arrays)
        self.sfx_lo[r] = n0
        self.sfx_hi[r] = n0 + n
        self._sfx_nodes = n0 + n
        self._sfx_toks = t0 + t
