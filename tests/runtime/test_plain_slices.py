"""Rows from plain-token slices and DFA-only walks equal the generic Earley walk, state by state."""
from __future__ import annotations

import numpy as np
import pytest

from structgen.json_schema import compile_json_schema
from structgen.runtime import kernels as K
from structgen.runtime.compiled import compile_regex
from structgen.runtime.plain_slices import plain_lengths, plain_slices
from tests.conftest import get_vocab

SCHEMAS = [
    {"type": "object", "properties": {"a": {"type": "string", "maxLength": 40},
                                      "b": {"type": "string", "minLength": 2, "maxLength": 5},
                                      "c": {"type": "string", "pattern": "^[a-z]+$"}}},
    {"type": "string", "minLength": 3, "maxLength": 300},   # beyond the inline threshold: a tail rule
    {"type": "string", "minLength": 290},
    {"type": "object", "properties": {"name": {"type": "integer"}, "nab": {"type": "boolean"}},
     "additionalProperties": {"type": "string", "maxLength": 3}},  # keys: "anything but the listed ones"
    {"type": "object", "properties": {"named": {"type": "integer"}, "names": {"type": "boolean"}, "nab": {}}},
    {"type": "object", "properties": {"id": {"type": "string", "pattern": "^[\\w.:-]+$"},
                                      "code": {"type": "string", "pattern": "^[A-Z]{2,3}[0-9]*$"}}},
    # unanchored patterns: partial-match states, plain-closed (closure_kernels.py) or not (maxLength,
    # a word that must not occur)
    {"type": "object", "properties": {"u": {"type": "string", "pattern": "[0-9a-f]{4}-[0-9a-f]{2}"},
                                      "w": {"type": "string", "pattern": "[\\w-]{5}"},
                                      "m": {"type": "string", "pattern": "ab|é", "maxLength": 6},
                                      "o": {"type": "string", "oneOf": [{"pattern": "cat"}, {"pattern": "dog"}]}}},
]
REGEXES = [r'"[^"\\]*[Hh]otel [Pp]aris[^"\\]*"', r'[^"\\]*ab[^"\\]*', r'"[A-Za-z0-9_]+"(,|")', r'"[a-z]{2,6}"', r'"[^"\\a-z]{1,9}"', r'"(\w|-){1,12}"',
           r'(abc|ab[^"\\c][^"\\]{0,6}|é[^"\\]{2,5})"', r'"[^"\\]{0,30}"x', r'(é|[^"\\\x00-\x1f]){2,9}', r'[^"]*', r'a\\?[^"]{3}', r'[^"\\]{2}(b|[^"\\])*', r'(ab|[^a"\\][^"\\]{0,7})"',
           r'"[^"\\]*(x[0-9]{3}|€€)[^"\\]*"', r'"[^"\\]*😀[^"\\]*"']


def _generic_row(ms, s):
    """Row and (token, split position) pairs of ``s`` by the Earley walk over the whole trie."""
    comp = ms._compiled
    rule = int(comp.automaton.state_rule[s])
    out = np.zeros(ms.words, np.uint32)
    ms._scratch.run(K.init_chart, comp.g, s)
    nodes = ms._walk(ms._scratch, comp.trie_arrays, out, rule)
    return out, _pairs(ms._main_pairs(nodes, comp.vocab.trie))


def _pairs(p):
    if not p:
        return set()
    ids = np.concatenate([a for a, _ in p]).tolist()
    pos = np.concatenate([b for _, b in p]).tolist()
    return set(zip(ids, pos))


def _first_counter_depth(ms, s, max_depth=3):
    """The fewest bytes (1..max_depth) after which ``s`` reaches a state with a plain budget >= 1
    (where ``counter_dfa_walk`` stops walking), 0 when none is reached that soon."""
    trans = ms._compiled.g[0]
    frontier = {s}
    for depth in range(1, max_depth + 1):
        frontier = {int(t) for x in frontier for t in set(trans[x].tolist()) if t >= 0}
        if any(ms.plain_budget(t) >= 1 for t in frontier):
            return depth
    return 0


def _compiled_grammars(vocab):
    return [compile_json_schema(s, vocab) for s in SCHEMAS] + [compile_regex(r, vocab) for r in REGEXES]


@pytest.mark.parametrize("tokenizer", ["gpt2", "llama2"])
def test_fast_rows_equal_generic_walk(tokenizer):
    vocab = get_vocab(tokenizer)
    rng = np.random.default_rng(0)
    counters = dfa_only = sliced_1 = sliced_deep = 0
    class_modes = [0, 0, 0]
    loops = 0
    for cg in _compiled_grammars(vocab):
        ms = cg.masks
        states = np.arange(cg.automaton.n_states)
        if states.size > 400:
            states = np.sort(rng.choice(states, 400, replace=False))
        for s in states.tolist():
            if not ms.dfa_only(s):
                continue
            dfa_only += 1
            counters += ms.plain_budget(s) >= 0
            cb = ms._class_budget(s, plain_slices(vocab, ms.words).max_len) if ms.plain_budget(s) < 0 else None
            if cb is not None:
                class_modes[cb[1]] += 1
            elif ms.plain_budget(s) < 0:
                depth = _first_counter_depth(ms, s)
                sliced_1 += depth == 1
                sliced_deep += depth >= 2
            known = int(ms._loops[2].sum())
            row, nodes, trie = ms.walk_row(s)
            loops += int(ms._loops[2].sum()) > known
            ref_row, ref_pairs = _generic_row(ms, s)
            assert np.array_equal(row, ref_row), (cg.source, s)
            assert _pairs(ms._main_pairs(nodes, trie)) == ref_pairs, (cg.source, s)
    # every path was exercised: counters, counters after one byte, counters deeper in the trie
    assert counters > 100 and sliced_1 > 2 and sliced_deep > 2 and dfa_only > counters + sliced_1 + sliced_deep
    assert min(class_modes) >= 2, class_modes  # class counters of every non-ASCII mode
    assert loops > 20  # states whose walks took whole subtrees that loop on them


def test_plain_budget_counts_remaining_characters():
    vocab = get_vocab("gpt2")
    cg = compile_regex(r'"[^"\\]{0,5}"', vocab)
    ms = cg.masks
    x, budgets = 0, []
    for _ in range(6):  # after the quote, each character uses one unit of the budget
        x = int(cg.g[0][x, ord('"')]) if not budgets else int(cg.g[0][x, ord("a")])
        budgets.append(ms.plain_budget(x))
    assert budgets == [5, 4, 3, 2, 1, 0]
    assert ms.plain_budget(0) == 0  # before the opening quote every plain character dies
    mixed = compile_regex(r'[a-z]*"', vocab)  # some plain characters live, others die
    assert mixed.masks.plain_budget(0) == -1
    unbounded = compile_regex(r'"[^"\\]*"', vocab)
    assert unbounded.masks.plain_budget(int(unbounded.g[0][0, ord('"')])) == plain_slices(vocab, cg.words).max_len


def test_plain_lengths():
    tb = [b"abc", b"a\"b", b"\\n", b"\xc3\xa9t\xc3\xa9", b"\xc3", b"x\ny", b"", b"\x7f", b"\xed\xa0\x80"]
    flat = np.frombuffer(b"".join(tb), np.uint8)
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in tb])])
    got = plain_lengths(flat, offsets, np.array([True] * len(tb))).tolist()
    assert got == [3, -1, -1, 3, -1, -1, -1, 1, -1]


def test_slice_masks_are_cumulative():
    vocab = get_vocab("gpt2")
    sl = plain_slices(vocab, (vocab.vocab_size + 31) // 32)
    bits = np.unpackbits(sl.slice_masks.view(np.uint8), axis=1, bitorder="little")[:, :vocab.n_tokens]
    for k in (0, 1, 3, sl.max_len):
        expect = (sl.plain_len >= 1) & (sl.plain_len <= k)
        assert np.array_equal(bits[k].astype(bool), expect[:bits.shape[1]])
    # plain tokens and the rest trie partition the text tokens
    rest = np.zeros(vocab.n_tokens, bool)
    rest[sl.rest.token_ids] = True
    assert not (rest & (sl.plain_len >= 0)).any()
    assert np.array_equal(rest | (sl.plain_len >= 0), vocab.text_token_mask)


def test_call_distance_matches_breadth_first_search():
    from collections import deque

    vocab = get_vocab("gpt2")
    cg = compile_json_schema({"type": "string", "minLength": 2, "maxLength": 300}, vocab)
    aut, trans, call_ptr = cg.automaton, cg.g[0], cg.g[3]
    rules = [r for r in range(aut.n_rules) if cg.rule_has_calls[r]]
    assert rules
    for rule in rules:
        states = np.flatnonzero(aut.state_rule == rule)
        lo, hi = int(states[0]), int(states[-1]) + 1
        limit = 40
        dist = np.zeros(hi - lo, np.int32)
        sc = np.zeros((4, hi - lo + 1), np.int32)
        adj = np.zeros(1, np.int32)  # too small on purpose: the kernel must say so
        assert K.call_distance(trans, call_ptr, lo, hi, limit, dist, sc[0], sc[1], sc[2], sc[3], adj) == -1
        adj = np.zeros(64 * (hi - lo), np.int32)
        assert K.call_distance(trans, call_ptr, lo, hi, limit, dist, sc[0], sc[1], sc[2], sc[3], adj) == 0
        # reference: breadth-first search backwards from the states with call edges
        preds = {i: set() for i in range(hi - lo)}
        for i in range(hi - lo):
            for t in set(trans[lo + i].tolist()) - {-1}:
                preds[t - lo].add(i)
        ref = {i: 0 for i in range(hi - lo) if call_ptr[lo + i + 1] > call_ptr[lo + i]}
        queue = deque(ref)
        while queue:
            i = queue.popleft()
            for p in preds[i]:
                if p not in ref:
                    ref[p] = ref[i] + 1
                    queue.append(p)
        expect = [min(ref.get(i, limit + 1), limit + 1) for i in range(hi - lo)]
        assert dist.tolist() == expect
@pytest.mark.parametrize("tokenizer", ["gpt2", "llama3"])
def test_class_rows_from_character_masks(tokenizer):
    from structgen.runtime.class_slices import excluded_characters
    from structgen.runtime.slice_kernels import class_row

    vocab = get_vocab(tokenizer)
    words = (vocab.vocab_size + 31) // 32
    sl = plain_slices(vocab, words)
    tb = vocab.token_bytes
    chars = set(b"abcdefghijklmnopqrstuvwxyz0123456789_ ")
    bits = (sum(1 << b for b in chars if b < 64), sum(1 << (b - 64) for b in chars if b >= 64))
    excluded = excluded_characters(bits, sl.plain_ascii)
    assert set(excluded.tolist()) == set(sl.plain_ascii.tolist()) - chars
    for all_non_ascii in (False, True):
        for k in (1, 3, sl.max_len):
            row = np.zeros(words, np.uint32)
            class_row(row, sl.slice_masks[sl.max_len] if all_non_ascii else sl.ascii_mask, sl.slice_masks[k],
                      sl.char_masks, excluded, np.zeros(words, np.uint32))
            got = np.flatnonzero(np.unpackbits(row.view(np.uint8), bitorder="little")[:vocab.n_tokens])
            expect = [t for t in range(vocab.n_tokens) if 1 <= sl.plain_len[t] <= k
                      and all(b in chars or (all_non_ascii and b >= 128) for b in tb[t])]
            assert got.tolist() == expect


# plain characters the reference closure below tries: every plain ASCII one and a few of each UTF-8 length
_REF_CHARS = [chr(c) for c in range(0x20, 0x80) if chr(c) not in '"\\'] + list("éü€中😀")


def _closed_reference(cg, lo, hi):
    """Plain-closed states of one rule by a breadth-first search over ``_REF_CHARS`` (see
    ``closure_kernels.py``): a state is closed when no string of those characters reaches a
    dead, accepting or calling state, inside a character included."""
    trans, accept, call_ptr = cg.g[0], cg.g[1], cg.g[3]

    def blocked(t):
        return t < 0 or accept[t] or call_ptr[t + 1] > call_ptr[t]

    def step(x, ch):
        """The state after character ``ch`` from ``x``, or None when it passes a blocked state."""
        for b in ch.encode():
            x = int(trans[x, b])
            if blocked(x):
                return None
        return x

    out = []
    for s in range(lo, hi):
        seen, todo, ok = {s}, [s], not blocked(s)
        while ok and todo:
            x = todo.pop()
            for ch in _REF_CHARS:
                y = step(x, ch)
                if y is None:
                    ok = False
                    break
                if y not in seen:
                    seen.add(y)
                    todo.append(y)
        out.append(ok)
    return out


@pytest.mark.parametrize("pattern, some_closed", [
    (r'"[^"\\]*(x[0-9]{3}|€€)[^"\\]*"', True),   # partial matches of an unanchored pattern
    (r'"[^"\\]*😀[^"\\]*"', True),                  # ... inside a four-byte character
    (r'"[^"\\]*(ab|é)[^"\\]{0,3}"', True),        # before the tail: a later match is always possible
    (r'"(ab|é)[^"\\]{0,3}"', False),               # a bounded tail: some plain strings die
    (r'"([^"\\a]|a[^"\\b])*a?"', False),          # "ab" must never occur
])
def test_plain_closed_states_match_reference(pattern, some_closed):
    from structgen.runtime.closure_kernels import plain_closed

    cg = compile_regex(pattern, get_vocab("gpt2"))
    n = cg.automaton.n_states  # one rule
    closed = np.zeros(n, np.uint8)
    sc = np.zeros((2, n), np.int32)
    ptrs = np.zeros((2, n + 1), np.int32)
    size = 4  # too small at first: the kernel asks for more
    while plain_closed(cg.g[0], cg.g[1], cg.g[3], 0, n, closed, sc[0], ptrs[0], np.zeros(size, np.int32),
                       ptrs[1], np.zeros(size, np.int32), sc[1]) < 0:
        size *= 2
    assert closed.astype(bool).tolist() == _closed_reference(cg, 0, n)
    assert closed.any() == some_closed
    # the rows of closed states take every plain token and equal the generic walk
    ms = cg.masks
    for s in np.flatnonzero(closed).tolist():
        row, _, _ = ms.walk_row(s)
        assert ms.plain_budget(s) == plain_slices(cg.vocab, ms.words).max_len
        assert np.array_equal(row, _generic_row(ms, s)[0])
