"""Numba bitmask helpers and the canonical trie walk, against plain-Python references."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from structgen.vocab import TokenTrie
from structgen.vocab.trie_kernels import (build_slice_trie, clear_token_bit, clear_token_bits, dfa_token_mask,
                                          get_token_bit, map_subtrie, path_char_counts, set_id_range_bits,
                                          set_token_bit, set_token_bits)
from tests.conftest import get_vocab


def unpack(row: np.ndarray, n: int) -> list[bool]:
    return [bool((int(row[t // 32]) >> (t % 32)) & 1) for t in range(n)]


def pack(allowed: list[bool]) -> np.ndarray:
    row = np.zeros((len(allowed) + 31) // 32, dtype=np.int64)
    for t, ok in enumerate(allowed):
        if ok:
            row[t // 32] |= 1 << (t % 32)
    return row.astype(np.uint32).view(np.int32)


def test_single_bits_including_sign_bit():
    row = np.zeros(3, dtype=np.int32)
    for t in (0, 31, 32, 63, 95):
        set_token_bit(row, t)
    assert row.tolist() == [1 | -(1 << 31), 1 | -(1 << 31), -(1 << 31)]
    assert get_token_bit(row, 31) and get_token_bit(row, 95) and not get_token_bit(row, 30)
    clear_token_bit(row, 31)
    assert row[0] == 1 and not get_token_bit(row, 31)
    clear_token_bit(row, 95)
    assert row[2] == 0


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 200), st.data())
def test_range_helpers(n, data):
    first = data.draw(st.integers(0, n))
    end = data.draw(st.integers(first, n))
    ids = np.array(data.draw(st.lists(st.integers(0, n - 1), max_size=30)), dtype=np.int32)
    lo = data.draw(st.integers(0, len(ids)))
    hi = data.draw(st.integers(lo, len(ids)))
    initial = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))

    row = pack(initial)
    set_id_range_bits(row, first, end)
    assert unpack(row, n) == [initial[t] or first <= t < end for t in range(n)]

    row = pack(initial)
    set_token_bits(row, ids, lo, hi)
    chosen = set(ids[lo:hi].tolist())
    assert unpack(row, n) == [initial[t] or t in chosen for t in range(n)]

    row = pack(initial)
    clear_token_bits(row, ids, lo, hi)
    assert unpack(row, n) == [initial[t] and t not in chosen for t in range(n)]


def brute_force_dfa_mask(trans, accept, start, require_accept, token_bytes, include):
    allowed = []
    for t, b in enumerate(token_bytes):
        ok = bool(b) and bool(include[t])
        s = start
        for byte in b:
            if not ok:
                break
            s = trans[s, byte]
            ok = s >= 0
        if ok and require_accept:
            ok = bool(accept[s])
        allowed.append(ok)
    return allowed


def run_walk(trie: TokenTrie, trans, accept, start, require_accept):
    row = np.zeros((trie.n_tokens + 31) // 32, dtype=np.int32)
    visited = dfa_token_mask(trans, accept, start, require_accept, trie.byte, trie.depth, trie.subtree_end,
                             trie.tok_ptr, trie.token_ids, row)
    return unpack(row, trie.n_tokens), visited


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=5).map(lambda b: bytes(97 + x % 3 for x in b)), min_size=1, max_size=30),
       st.integers(1, 4), st.data())
def test_dfa_walk_matches_brute_force(token_bytes, n_states, data):
    trans = np.full((n_states, 256), -1, dtype=np.int32)
    for s in range(n_states):
        for byte in (97, 98, 99):
            trans[s, byte] = data.draw(st.integers(-1, n_states - 1))
    accept = np.array(data.draw(st.lists(st.booleans(), min_size=n_states, max_size=n_states)))
    start = data.draw(st.integers(0, n_states - 1))
    include = np.array(data.draw(st.lists(st.booleans(), min_size=len(token_bytes), max_size=len(token_bytes))))
    trie = TokenTrie.build(token_bytes, include=include)
    for require_accept in (False, True):
        got, visited = run_walk(trie, trans, accept, start, require_accept)
        assert got == brute_force_dfa_mask(trans, accept, start, require_accept, token_bytes, include)
        assert visited <= trie.n_nodes - 1


def test_dfa_walk_real_vocab_digits():
    """[0-9]+ as a one-state DFA over gpt2's vocabulary; the walk prunes almost everything."""
    vocab = get_vocab("gpt2")
    trans = np.full((1, 256), -1, dtype=np.int32)
    trans[0, ord("0"):ord("9") + 1] = 0
    accept = np.array([True])
    got, visited = run_walk(vocab.trie, trans, accept, 0, True)
    expected = [vocab.text_token_mask[t] and bool(b) and b.isdigit() for t, b in enumerate(vocab.token_bytes)]
    assert got == expected
    assert sum(got) > 100
    assert visited < vocab.trie.n_nodes // 10


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=6, ).map(lambda b: bytes(x % 4 + 97 for x in b)) | st.binary(min_size=1, max_size=3),
                min_size=1, max_size=40))
def test_build_slice_trie_equals_token_trie(strings):
    """The trie of byte slices equals TokenTrie.build on the same strings (ids carried along)."""
    flat = np.frombuffer(b"".join(strings), np.uint8)
    length = np.array([len(b) for b in strings], np.int64)
    start = np.concatenate([[0], np.cumsum(length)[:-1]]).astype(np.int64)
    ids = np.arange(100, 100 + len(strings), dtype=np.int32)
    byte, depth, subtree_end, tok_ptr, token_ids = build_slice_trie(flat, start, length, ids)
    ref = TokenTrie.build(strings)
    assert byte.tolist() == ref.byte.tolist()
    assert depth.tolist() == ref.depth.tolist()
    assert subtree_end.tolist() == ref.subtree_end.tolist()
    assert tok_ptr.tolist() == ref.tok_ptr.tolist()
    assert token_ids.tolist() == (ref.token_ids + 100).tolist()


def test_map_subtrie_and_path_char_counts():
    strings = [b"ab", b"abc", "é".encode() + b"x", b"b", "éé".encode()]
    main = TokenTrie.build(strings)
    sub = TokenTrie.build(strings, include=np.array([False, True, True, False, False]))
    m = map_subtrie(main.byte, main.subtree_end, sub.byte, sub.depth)
    for v in range(main.n_nodes):
        path = main.node_bytes(v)
        expect = sub.find(path) if (v == 0 or sub.find(path) >= 0) else -1
        assert m[v] == expect
    chars = path_char_counts(main.byte, main.depth)
    for v in range(main.n_nodes):
        assert chars[v] == sum(1 for x in main.node_bytes(v) if x & 0xC0 != 0x80)
