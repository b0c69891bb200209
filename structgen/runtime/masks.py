"""Per-state token masks: the context-independent part, computed once and shared.

For a rule ``N`` at automaton state ``s``, the **row** of ``s`` is the set of tokens ``t`` that
are prefixes of some string ``N`` can still derive from ``s`` — computed by walking the whole
token trie from an isolated chart whose only kernel item is ``(s, virtual origin)``. It depends
on ``s`` alone, not on what called ``N``, so it is cached per (vocabulary, rule fingerprint,
local state, FOLLOW₁ of the rule — which filters the suffix trie below) and reused across matchers and across grammars that share the rule (e.g. the
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

import os
import threading
from collections import OrderedDict

import numpy as np

from . import kernels as K
from .closure_kernels import MAX_CLOSURE_STATES, plain_closed
from .row_table import RowTable
from ..vocab.trie import TokenTrie
from .chart import Chart
from .lru import BoundedLRU
from .class_slices import class_budget, excluded_characters
from .plain_slices import plain_slices
from .slice_kernels import class_row
from .split_kernels import split_suffix_trie, suffix_trie_splits, trie_splits

class _RowCache:
    """LRU of rows shared across grammars, bounded in bytes.

    Key: (vocabulary fingerprint, rule fingerprint, local state, FOLLOW1 bytes of the rule); value:
    (row uint32[W], suffix trie or None). The budget is ``$STRUCTGEN_ROW_CACHE_MB`` (default 512 MiB).
    """

    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes
        self.used = 0
        self._items: OrderedDict[tuple, tuple[np.ndarray, object]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _size(value: tuple[np.ndarray, object]) -> int:
        row, sfx = value
        return row.nbytes + (sum(a.nbytes for a in sfx) if sfx is not None else 0)

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = value
            self.used += self._size(value)
            while self.used > self.budget and len(self._items) > 1:
                _, old = self._items.popitem(last=False)
                self.used -= self._size(old)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.used = 0

    def __len__(self) -> int:
        return len(self._items)


_SHARED_ROWS = _RowCache(int(os.environ.get("STRUCTGEN_ROW_CACHE_MB", "512")) << 20)


def clear_shared_rows() -> None:
    """Forget every cached row (tests and memory pressure)."""
    _SHARED_ROWS.clear()


#: call distances of rules (local state index -> bytes to the nearest call edge), by rule
#: fingerprint and trie depth: equal fingerprints mean identical automata (see cfg/compiler.py)
_CALL_DIST: BoundedLRU[np.ndarray] = BoundedLRU(512)

#: plain-closed states of rules (uint8 per local state, see closure_kernels.py), by rule fingerprint
_PLAIN_CLOSED: BoundedLRU[np.ndarray] = BoundedLRU(512)

_THREAD = threading.local()  # per-thread scratch of MaskStore walks


#: rows reserved up front per grammar (more are added by doubling)
_INITIAL_ROWS = 4096


class _Cycle(Exception):
    """A row's composition needs a row that is still being computed (recursive rules)."""


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
        # Each state gets at most one row. Fresh pages are zero and cost nothing until written,
        # so reserving a row per state (up to a cap) is free; past the cap the table grows
        # without copying its rows (row_table.py).
        cap = max(8, min(aut.n_states, _INITIAL_ROWS))
        self._rows = RowTable(cap, self.words)
        self.a_table = self._rows.array
        self.sfx_lo = np.zeros(cap, np.int32)
        self.sfx_hi = np.zeros(cap, np.int32)
        self._sfx_nodes = 0
        self._sfx_toks = 0
        c = 1 << 14
        self.sfx = (np.zeros(c, np.uint8), np.zeros(c, np.int32), np.zeros(c, np.int32),
                    np.zeros(c + 1, np.int32), np.zeros(c, np.int32))
        self.n_rows = 0
        self.rows_computed = 0  # rows computed by a trie walk (not taken from the shared cache)
        self._lock = threading.RLock()
        self._in_progress: set[int] = set()
        self._suffixes: list = []
        self.compose = True  # compose rows from callee rows (False: always one full walk)
        self._entries = np.zeros(8192, np.int32)
        self.use_slices = True  # rows of plain-counter states from vocabulary slices (False: full walks)
        self._plain_next = np.full(aut.n_states, K.PLAIN_MIXED - 1, np.int32)  # memo of plain_step
        self._plain_budget = np.full(aut.n_states, K.PLAIN_MIXED - 1, np.int32)  # memo of plain_budget
        self._chain = np.zeros(0, np.int32)  # scratch of kernels.plain_budget
        # (plain_step memo, budget memo, no accepting states, no call edges) of _dfa_reach
        self._reach_memo = (np.full(aut.n_states, K.PLAIN_MIXED - 1, np.int32),
                            np.full(aut.n_states, K.PLAIN_MIXED - 1, np.int32),
                            np.zeros(aut.n_states, np.bool_), np.zeros(aut.n_states + 1, np.int32))
        self._absorbs: dict[int, bool] = {}  # rule -> absorbs_after
        self._scratch_k = np.zeros(0, np.int32)  # scratch of kernels.counter_dfa_walk
        self._class_memo: dict[int, object] = {}  # state -> class_budget result
        n = aut.n_states  # memo of the bytes each state loops on (kernels._loop_bytes)
        self._loops = (np.zeros(n, np.uint64), np.zeros(n, np.uint64), np.zeros(n, np.uint8))
        self._scratch_words = np.zeros(0, np.uint32)
        self._call_dist: dict[int, tuple[int, np.ndarray]] = {}  # rule -> (first state, call_distance)
        self._closed_rules: set[int] = set()  # rules whose plain-closed states are in the budget memo
        # per-state memos never change size (part of nbytes, summed once)
        self._fixed_bytes = sum(a.nbytes for a in (self.a_row, self._plain_next, self._plain_budget, *self._loops,
                                                   *self._reach_memo))

    @property
    def nbytes(self) -> int:
        """Memory held: the rows written so far (the row table's untouched pages cost nothing),
        suffix tries and per-state memos."""
        sfx = self.sfx
        return (self._fixed_bytes + self.n_rows * self.words * 4 + sfx[0].nbytes + sfx[1].nbytes + sfx[2].nbytes
                + sfx[3].nbytes + sfx[4].nbytes + self.sfx_lo.nbytes + self.sfx_hi.nbytes)

    @property
    def _scratch(self) -> Chart:
        """The calling thread's scratch chart for row walks, shared by every store: it keeps the
        capacity earlier walks grew it to (a fresh chart per grammar would grow again, re-walking
        after each overflow). Every use starts with ``init_chart``, so nested uses are safe."""
        chart = getattr(_THREAD, "chart", None)
        if chart is None:
            chart = _THREAD.chart = Chart(cap_items=1 << 14, cap_sets=1024, hash_size=1024)
        return chart

    def ensure(self, states: np.ndarray) -> None:
        """Make sure every state in ``states`` has a row."""
        a_row = self.a_row
        missing = [int(s) for s in states if a_row[s] < 0]
        if not missing:
            return
        with self._lock:
            for s in missing:
                self._get(s)

    def _get(self, s: int) -> tuple[np.ndarray, object]:
        """Row and suffix trie of ``s``, computing (and storing) them if needed. Holds the lock."""
        r = int(self.a_row[s])
        if r >= 0:
            return self.a_table[r], self._suffixes[r]
        comp = self._compiled
        aut = comp.automaton
        rule = int(aut.state_rule[s])
        # The suffix trie is filtered by FOLLOW1(rule), which depends on the whole grammar, not
        # only on the rule: it is part of the key (rows of the same rule in grammars where it is
        # followed by different bytes must not be shared).
        # Whether every call site absorbs plain text after the rule also decides rows (see
        # absorbs_after), and depends on the grammar: part of the key too.
        key = (comp.vocab.fingerprint, aut.rule_fingerprint[rule], int(aut.state_local[s]),
               comp.follow_key[rule], self.absorbs_after(rule))
        hit = _SHARED_ROWS.get(key)
        if hit is None:
            if s in self._in_progress:
                raise _Cycle(s)
            self._in_progress.add(s)
            try:
                hit = self._compute(s)
            finally:
                self._in_progress.discard(s)
            _SHARED_ROWS.put(key, hit)
        self._append(s, *hit)
        return hit

    def _compute(self, s: int) -> tuple[np.ndarray, object]:
        """Row and suffix trie of ``s``: composed from its callees' rows when possible."""
        comp = self._compiled
        chart = self._scratch
        rule = int(comp.automaton.state_rule[s])
        chart.run(K.init_chart, comp.g, s)
        callees = sorted({int(comp.automaton.call_rule[e]) for st, o in chart.last_set() if o == 0
                          for e in range(comp.automaton.call_ptr[st], comp.automaton.call_ptr[st + 1])})
        parts = None
        if self.compose and callees:
            try:
                parts = [(m, self._get(int(comp.automaton.rule_start[m]))) for m in callees]
            except _Cycle:  # recursion back into a row being computed
                parts = None
        if parts is None:  # no callees (nothing to compose) or a cycle: walk everything
            row, nodes, trie = self.walk_row(s)
            return row, self._suffix_trie(self._main_pairs(nodes, trie), rule)
        self.rows_computed += 1
        out = np.zeros(self.words, np.uint32)
        # 1. tokens whose first byte is scanned by the rule's own items (origin 0)
        chart.run(K.init_chart, comp.g, s)
        K.keep_root_items(chart.c)
        nodes = self._walk(chart, comp.trie_arrays, out, rule)
        pairs = self._main_pairs(nodes, comp.vocab.trie)
        # 2. tokens whose first byte starts a callee: its row, plus its split tokens in context
        for m, (row_m, sfx_m) in parts:
            out |= row_m
            if sfx_m is None:
                continue
            chart.run(K.init_chart, comp.g, s)
            nodes = self._walk(chart, sfx_m, out, rule, context_rule=m)
            pairs.extend(self._suffix_pairs(sfx_m, nodes))
        return out, self._suffix_trie(pairs, rule)

    def _walk(self, chart: Chart, trie: tuple, out: np.ndarray, rule: int, context_rule: int = -1) -> np.ndarray:
        """Walk ``trie`` from the chart's last set (or, with ``context_rule``, from the set after
        that rule, started at set 1, completes) recording the split nodes of the root's ``rule``
        (those with a child byte that can follow ``rule``); returns them."""
        comp = self._compiled
        follow_row = comp.follow[rule]
        while True:
            if context_rule < 0:
                n = K.walk_trie(comp.g, chart.c, trie, 1, trie[0].shape[0], 0, out, self._entries, comp.depth_set,
                                follow_row)
            else:
                n = K.context_walk(comp.g, chart.c, context_rule, 1, trie, out, self._entries, comp.depth_set,
                                   follow_row)
            status = int(chart.meta[3])
            if status == K.STATUS_OK:
                return self._entries[:max(n, 0)].copy()
            chart.meta[3] = K.STATUS_OK
            if status == K.OVERFLOW_ENTRIES:
                self._entries = np.zeros(2 * self._entries.shape[0], np.int32)
            else:
                chart.grow(status)

    def walk_row(self, s: int) -> tuple[np.ndarray, np.ndarray, TokenTrie]:
        """Row and split nodes of state ``s`` by one pruned walk, and the trie the nodes belong to.

        States from which no token can reach a call edge (:meth:`dfa_only`) step their DFA
        directly (:func:`~structgen.runtime.kernels.dfa_walk`);
        states with a plain budget (see ``plain_slices.py``) take the plain tokens from a
        vocabulary slice and walk only the non-plain tokens, and other states stop walking below
        every trie node whose state has a plain budget
        (:func:`~structgen.runtime.kernels.counter_dfa_walk`).
        """
        comp = self._compiled
        rule = int(comp.automaton.state_rule[s])
        out = np.zeros(self.words, np.uint32)
        self.rows_computed += 1
        if self.dfa_only(s):
            trans, accept = comp.g[0], comp.g[1]
            trie, arrays = comp.vocab.trie, comp.trie_arrays
            sl = plain_slices(comp.vocab, self.words) if self.use_slices else None
            budget = self._row_budget(s, sl.max_len) if sl is not None else -1
            if budget < 0 and sl is not None and self._mark_plain_closed(rule):
                budget = self._row_budget(s, sl.max_len)
            if sl is not None and self._scratch_k.shape[0] < 256 + sl.max_len + 1:
                self._scratch_k = np.zeros(256 + sl.max_len + 1, np.int32)
                self._scratch_words = np.zeros(self.words, np.uint32)
            if budget >= 0:
                out[:] = sl.slice_masks[min(budget, sl.max_len)]
                trie, arrays = sl.rest, sl.rest_arrays
            elif sl is not None and (cb := self._class_budget(s, sl.max_len)) is not None:
                return self._class_row(s, out, sl, *cb)
            elif sl is not None:
                while True:
                    n = K.counter_dfa_walk(trans, accept, comp.g[3], s, arrays, sl.rest_arrays, sl.rest_of_main,
                                           sl.node_chars, sl.tok_pf, sl.tok_chars, sl.first_masks, sl.first_all,
                                           sl.first_nonascii,
                                           sl.slice_masks, self._plain_next, self._plain_budget, self._chain,
                                           self._scratch_words, self._scratch_k, sl.below, self._loops, out,
                                           self._entries,
                                           comp.depth_set, comp.follow[rule])
                    if n >= 0:
                        return out, self._entries[:n].copy(), (trie, sl.rest)
                    out[:] = 0
                    self._entries = np.zeros(2 * self._entries.shape[0], np.int32)
            return out, self._dfa_walk(s, arrays, out), trie
        chart = self._scratch
        chart.run(K.init_chart, comp.g, s)
        sl = plain_slices(comp.vocab, self.words) if self.use_slices else None
        if sl is not None and self._plain_through_call(s, sl.max_len):
            out[:] = sl.slice_masks[sl.max_len]
            nodes = self._walk(chart, sl.rest_arrays, out, rule)
            return out, -1 - nodes, (comp.vocab.trie, sl.rest)
        nodes = self._walk(chart, comp.trie_arrays, out, rule)
        return out, nodes, comp.vocab.trie

    def _row_budget(self, s: int, cap: int) -> int:
        """How many characters of plain tokens the row of ``s`` (a state without reachable calls)
        takes from the vocabulary slices: its plain budget, else its budget passing accepting
        states (:meth:`plain_reach`), else ``cap`` — every plain token — when tokens running past
        the rule's end are allowed in every context (:meth:`_crosses_plainly`); -1: none of these."""
        budget = self.plain_budget(s)
        if budget < 0:
            budget = self.plain_reach(s)
        if budget < 0 and self._crosses_plainly(s):
            budget = cap
        return budget

    def _class_budget(self, s: int, cap: int):
        """``(class, mode, k)`` of a class-counter state (``class_slices.py``), memoized; None if
        ``s`` is not one."""
        hit = self._class_memo.get(s, False)
        if hit is False:
            comp = self._compiled
            hit = self._class_memo[s] = class_budget(comp.g[0], comp.g[1], comp.g[3], s, cap)
        return hit

    def _class_row(self, s: int, out: np.ndarray, sl, bits: tuple[int, int], mode: int, k: int):
        """Row of class-counter state ``s``: the class members of at most ``k`` characters, then
        DFA walks of the rest trie and (mode 2) of the plain tokens with non-ASCII characters.
        Split nodes: ``>= 0`` in ``sl.nonascii``, ``-1 - node`` in ``sl.rest``. (Called from
        :meth:`walk_row`, which has sized the scratch rows.)"""
        class_row(out, sl.slice_masks[sl.max_len] if mode == 1 else sl.ascii_mask,
                  sl.slice_masks[min(k, sl.max_len)], sl.char_masks, excluded_characters(bits, sl.plain_ascii),
                  self._scratch_words)
        rest_nodes = self._dfa_walk(s, sl.rest_arrays, out)
        non_ascii_nodes = self._dfa_walk(s, sl.nonascii_arrays, out) if mode == 2 else rest_nodes[:0]
        return out, np.concatenate([non_ascii_nodes, -1 - rest_nodes]), (sl.nonascii, sl.rest)

    def _dfa_walk(self, s: int, arrays: tuple, out: np.ndarray) -> np.ndarray:
        """:func:`~structgen.runtime.kernels.dfa_walk` of the trie ``arrays`` from DFA state ``s``
        into ``out``, retried with more room for split nodes until they fit; returns them."""
        comp = self._compiled
        follow_row = comp.follow[int(comp.automaton.state_rule[s])]
        while True:
            n = K.dfa_walk(comp.g[0], comp.g[1], s, arrays, out, self._entries, comp.depth_set, follow_row)
            if n >= 0:
                return self._entries[:n].copy()
            self._entries = np.zeros(2 * self._entries.shape[0], np.int32)

    def dfa_only(self, s: int) -> bool:
        """No token can reach a state with a call edge from ``s``: the rule's byte DFA alone
        decides the row (true for every state of a rule without calls)."""
        comp = self._compiled
        rule = int(comp.automaton.state_rule[s])
        if not comp.rule_has_calls[rule]:
            return True
        dist = self._call_dist.get(rule)
        if dist is None:
            states = np.flatnonzero(comp.automaton.state_rule == rule)
            lo, hi = int(states[0]), int(states[-1]) + 1
            key = (comp.automaton.rule_fingerprint[rule], int(comp.vocab.trie.max_depth))
            shared = _CALL_DIST.get(key)
            if shared is not None:
                self._call_dist[rule] = dist = (lo, shared)
                return bool(shared[s - lo] > comp.vocab.trie.max_depth)
            dist = np.zeros(hi - lo, np.int32)
            scratch = np.zeros((4, hi - lo + 1), np.int32)
            adj = np.zeros(8 * (hi - lo), np.int32)
            while K.call_distance(comp.g[0], comp.g[3], lo, hi, int(comp.vocab.trie.max_depth), dist,
                                  scratch[0], scratch[1], scratch[2], scratch[3], adj) < 0:
                adj = np.zeros(2 * adj.shape[0], np.int32)
            _CALL_DIST.put(key, dist)
            self._call_dist[rule] = dist = (lo, dist)
        lo, d = dist
        return bool(d[s - lo] > comp.vocab.trie.max_depth)

    def _cap(self) -> int:
        """The vocabulary's longest plain token, in characters (budgets are capped there)."""
        return plain_slices(self._compiled.vocab, self.words).max_len

    def _chain_budget(self, s: int, cap: int, nxt: np.ndarray, memo: np.ndarray, accept: np.ndarray,
                      call_ptr: np.ndarray) -> int:
        """:func:`~structgen.runtime.kernels.plain_budget` of ``s`` with the given memos and the
        given view of accepting states and call edges; -1 when ``s`` is not a counter."""
        if self._chain.shape[0] < cap + 2:
            self._chain = np.zeros(cap + 2, np.int32)
        k = K.plain_budget(self._compiled.g[0], accept, call_ptr, s, cap, nxt, memo, self._chain)
        return int(k) if k >= 0 else -1

    def plain_budget(self, s: int) -> int:
        """The plain budget of DFA state ``s`` (a state of a rule without calls): ``k`` when every
        plain string of at most ``k`` characters stays alive from ``s`` without passing an
        accepting state and every longer one dies (``k`` capped at the vocabulary's longest plain
        token); -1 when ``s`` is not such a counter (its row needs a full walk)."""
        g = self._compiled.g
        return self._chain_budget(s, self._cap(), self._plain_next, self._plain_budget, g[1], g[3])

    def _mark_plain_closed(self, rule: int) -> bool:
        """Give every plain-closed state of ``rule`` (``closure_kernels.py``: every plain string
        stays alive from it without passing an accepting state or a call edge) the unbounded
        budget in the :meth:`plain_budget` memo, once per rule; whether that changed a budget.
        Rules of more than ``MAX_CLOSURE_STATES`` states are left to their walks."""
        if rule in self._closed_rules:
            return False
        self._closed_rules.add(rule)
        aut = self._compiled.automaton
        lo = int(aut.rule_start[rule])
        hi = int(aut.rule_start[rule + 1]) if rule + 1 < aut.rule_start.shape[0] else int(aut.n_states)
        if hi - lo > MAX_CLOSURE_STATES:
            return False
        key = aut.rule_fingerprint[rule]
        closed = _PLAIN_CLOSED.get(key)
        if closed is None:
            g = self._compiled.g
            n = hi - lo
            closed = np.zeros(n, np.uint8)
            scratch = np.zeros((2, n), np.int32)
            ptrs = np.zeros((2, n + 1), np.int32)
            size = 16 * n
            while True:
                succ, radj = np.zeros(size, np.int32), np.zeros(size, np.int32)
                if plain_closed(g[0], g[1], g[3], lo, hi, closed, scratch[0], ptrs[0], succ, ptrs[1], radj,
                                scratch[1]) == 0:
                    break
                size *= 2
            _PLAIN_CLOSED.put(key, closed)
        memo = self._plain_budget[lo:hi]
        change = (closed != 0) & (memo != self._cap())
        memo[change] = self._cap()
        return bool(change.any())

    def _dfa_reach(self, x: int, cap: int) -> int:
        """Plain budget of ``x`` through its own rule's DFA transitions only (call edges and
        accepting states ignored), capped at ``cap``; -1 when not a plain chain. For a state from
        which no token reaches a call edge (:meth:`dfa_only`) ignoring calls changes nothing
        within ``cap`` characters."""
        return self._chain_budget(x, cap, *self._reach_memo)

    def _chain_states(self, s: int, cap: int):
        """The states of ``s``'s plain chain (:meth:`_dfa_reach`), ``s`` first, each after whole
        plain characters; nothing when ``s`` is not a plain chain."""
        k = self._dfa_reach(s, cap)
        nxt = self._reach_memo[0]
        x = s
        for _ in range(k + 1):  # k = -1: none
            yield x
            x = int(nxt[x])
            if x < 0:
                return

    def _calls_absorbing_rule(self, x: int, cap: int) -> bool:
        """``x`` calls a rule whose start's plain chain is at least ``cap`` characters long."""
        aut = self._compiled.automaton
        return any(self._dfa_reach(int(aut.rule_start[aut.call_rule[e]]), cap) >= cap
                   for e in range(aut.call_ptr[x], aut.call_ptr[x + 1]))

    def plain_reach(self, s: int) -> int:
        """The plain budget of ``s`` (a :meth:`dfa_only` state) when accepting states may be
        passed: ``k`` when every plain string of at most ``k`` characters stays alive from ``s``
        and every longer one dies (capped like :meth:`plain_budget`); -1 when ``s`` is not such
        a counter, or when a plain byte can follow its rule (then tokens going on past an
        accepting state would be split tokens, and the row needs a walk that records them).

        This is what the tail of a long string relies on (``char{0,k}`` then the closing quote:
        every state may end the rule, and only ``"`` follows it): with no plain byte in
        FOLLOW₁, a plain token never continues past the rule's end, so the row is still the
        plain tokens of at most ``k`` characters plus a walk of the non-plain ones, whose split
        nodes that walk records as usual."""
        comp = self._compiled
        if comp.follow_has_plain[int(comp.automaton.state_rule[s])]:
            return -1
        return self._dfa_reach(s, self._cap())

    def absorbs_after(self, rule: int) -> bool:
        """Whether, wherever ``rule`` is called, the caller can go on with *any* plain text of up
        to the vocabulary's longest plain token once the rule completes (memoized).

        Then a plain token that runs past the rule's end is allowed in every context, so it
        belongs in the context-independent row instead of the per-fill suffix trie. This is what
        the chunk rules of long strings rely on (``irtools._chunked_repeat``: after every chunk
        at least ``k - 1`` more characters may follow). Checked per call edge on the state the
        caller continues at (a lower bound): its own plain chain (accepting states may be
        passed) is long enough, or it calls a rule whose start's plain chain is."""
        hit = self._absorbs.get(rule)
        if hit is None:
            aut = self._compiled.automaton
            cap = self._cap()
            edges = np.flatnonzero(aut.call_rule == rule)
            hit = bool(rule != aut.start_rule and edges.shape[0] > 0
                       and all(self._dfa_reach(y, cap) >= cap or self._calls_absorbing_rule(y, cap)
                               for y in aut.call_target[edges].tolist()))
            self._absorbs[rule] = hit
        return hit

    def _plain_through_call(self, s: int, cap: int) -> bool:
        """Every plain token is alive from ``s`` (a state with calls within a token's reach): its
        plain chain through its own DFA reaches, after ``i`` characters, a state that calls a rule
        whose start's plain chain is at least ``cap`` long, so any plain text of up to ``cap``
        characters goes on inside that callee (e.g. the first ``L`` characters of a long string
        written inline, then the call of its tail rule; ``irtools._terminal_repeat``)."""
        return any(self._calls_absorbing_rule(x, cap) for x in self._chain_states(s, cap))

    def _crosses_plainly(self, s: int) -> bool:
        """Every plain token is allowed from ``s`` (a state of a rule without reachable calls): its
        plain chain passes an accepting state, every caller absorbs plain text after the rule
        (:meth:`absorbs_after`), and no UTF-8 continuation byte can follow the rule (so the rule
        never ends inside a character that the caller would finish)."""
        comp = self._compiled
        rule = int(comp.automaton.state_rule[s])
        if comp.follow[rule][0x80:0xC0].any() or not self.absorbs_after(rule):
            return False
        accept = comp.g[1]
        return any(accept[x] for x in self._chain_states(s, self._cap()))

    def _main_pairs(self, nodes: np.ndarray, trie) -> list[tuple[np.ndarray, np.ndarray]]:
        """(token ids, split positions) below split nodes of ``trie`` (the vocabulary trie or a
        sub-trie of it; or a pair ``(trie, rest)`` of tries for nodes from
        :func:`~structgen.runtime.kernels.counter_dfa_walk`, where ``-1 - node`` is a node of ``rest``)."""
        if nodes.shape[0] == 0:
            return []
        main, rest = trie if isinstance(trie, tuple) else (trie, trie)
        return [trie_splits(main.kernel_arrays(), rest.kernel_arrays(), nodes)]

    def _suffix_pairs(self, sfx: tuple, nodes: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """(token ids, split positions) below split nodes found while walking a suffix trie."""
        if nodes.shape[0] == 0:
            return []
        return [suffix_trie_splits(sfx, self._compiled.token_offsets, nodes)]

    def _suffix_trie(self, pairs: list[tuple[np.ndarray, np.ndarray]], rule: int):
        """Trie of the token suffixes after each split position where ``rule`` completes; leaves
        carry the token ids. Suffixes whose first byte can never follow ``rule`` are dropped."""
        pairs = [p for p in pairs if p[0].shape[0]]
        if not pairs:
            return None
        comp = self._compiled
        if len(pairs) == 1:
            ids, pos = pairs[0]
        else:
            ids = np.concatenate([p[0] for p in pairs])
            pos = np.concatenate([p[1] for p in pairs])
        sub = split_suffix_trie(comp.token_bytes_flat, comp.token_offsets, ids, pos, comp.follow[rule])
        return sub if sub[4].shape[0] else None

    def _append(self, s: int, row: np.ndarray, suffix) -> None:
        r = self.n_rows
        if r >= self.a_table.shape[0]:
            self._rows.grow(min(self.a_table.shape[0] * 2, self._compiled.automaton.n_states))
            table = self.a_table = self._rows.array
            self.sfx_lo = np.resize(self.sfx_lo, table.shape[0])
            self.sfx_hi = np.resize(self.sfx_hi, table.shape[0])
        self.a_table[r] = row
        self._suffixes.append(suffix)
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
