"""Numba helpers for packed token bitmasks and the canonical trie walk.

Bitmask layout (shared with :mod:`structgen.masking` and the Matcher): one row is ``int32[ceil(V/32)]``;
token ``t`` is bit ``t % 32`` (LSB first) of word ``t // 32``; 1 = allowed. The helpers take one row
(a 1-D ``int32`` array, e.g. ``bitmask[i]``) and never check bounds: callers pass ids < 32 * len(row).
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def set_token_bit(mask_row, token_id):
    """Set the bit of one token id."""
    mask_row[token_id >> 5] |= np.int32(1) << np.int32(token_id & 31)


@njit(cache=True, nogil=True)
def clear_token_bit(mask_row, token_id):
    """Clear the bit of one token id."""
    mask_row[token_id >> 5] &= ~(np.int32(1) << np.int32(token_id & 31))


@njit(cache=True, nogil=True)
def get_token_bit(mask_row, token_id):
    """True when the token's bit is set."""
    return (mask_row[token_id >> 5] >> np.int32(token_id & 31)) & 1 == 1


@njit(cache=True, nogil=True)
def set_token_bits(mask_row, token_ids, lo, hi):
    """Set the bits of ``token_ids[lo:hi]`` (e.g. a trie node's or subtree's token range:
    ``lo = tok_ptr[n]``, ``hi = tok_ptr[n + 1]`` or ``tok_ptr[subtree_end[n]]``)."""
    for k in range(lo, hi):
        t = token_ids[k]
        mask_row[t >> 5] |= np.int32(1) << np.int32(t & 31)


@njit(cache=True, nogil=True)
def clear_token_bits(mask_row, token_ids, lo, hi):
    """Clear the bits of ``token_ids[lo:hi]``."""
    for k in range(lo, hi):
        t = token_ids[k]
        mask_row[t >> 5] &= ~(np.int32(1) << np.int32(t & 31))


@njit(cache=True, nogil=True)
def set_id_range_bits(mask_row, first_id, end_id):
    """Set the bits of the contiguous ids ``first_id <= t < end_id`` (whole words at a time)."""
    t = first_id
    while t < end_id and (t & 31) != 0:
        mask_row[t >> 5] |= np.int32(1) << np.int32(t & 31)
        t += 1
    while t + 32 <= end_id:
        mask_row[t >> 5] = np.int32(-1)
        t += 32
    while t < end_id:
        mask_row[t >> 5] |= np.int32(1) << np.int32(t & 31)
        t += 1


@njit(cache=True, nogil=True)
def dfa_token_mask(trans, accept, start_state, require_accept, byte, depth, subtree_end, tok_ptr,
                   token_ids, mask_row):
    """The canonical trie walk for a byte DFA (``trans[s, b]`` = next state, -1 = dead).

    Sets the bit of every trie token whose bytes, read from ``start_state``, never reach the dead
    state — and, when ``require_accept`` is true, end in an accepting state. Returns the number
    of nodes visited (a cost measure). ``mask_row`` is not cleared first.
    """
    n_nodes = byte.shape[0]
    max_depth = 0
    for n in range(n_nodes):
        if depth[n] > max_depth:
            max_depth = depth[n]
    state_at = np.empty(max_depth + 1, dtype=np.int32)
    state_at[0] = start_state
    visited = 0
    n = 1
    while n < n_nodes:
        visited += 1
        d = depth[n]
        state = trans[state_at[d - 1], byte[n]]
        if state < 0:
            n = subtree_end[n]
            continue
        if not require_accept or accept[state]:
            for k in range(tok_ptr[n], tok_ptr[n + 1]):
                t = token_ids[k]
                mask_row[t >> 5] |= np.int32(1) << np.int32(t & 31)
        state_at[d] = state
        n += 1
    return visited


# --------------------------------------------------------------------------- tries of byte slices
@njit(cache=True, nogil=True, inline="always")
def _slice_less(flat, start, length, i, j):
    """Byte string ``i`` < byte string ``j`` (ties broken by index: a stable order)."""
    a, b = start[i], start[j]
    la, lb = length[i], length[j]
    m = min(la, lb)
    for k in range(m):
        x, y = flat[a + k], flat[b + k]
        if x != y:
            return x < y
    if la != lb:
        return la < lb
    return i < j


@njit(cache=True, nogil=True)
def _sort_slices(flat, start, length):
    """Indices ``0..n-1`` sorted by the byte strings ``flat[start[i]:start[i] + length[i]]``
    (stable; bottom-up merge sort)."""
    n = start.shape[0]
    a = np.arange(n)
    b = np.empty(n, np.int64)
    width = 1
    while width < n:
        lo = 0
        while lo < n:
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            i, j, k = lo, mid, lo
            while i < mid and j < hi:
                if _slice_less(flat, start, length, a[j], a[i]):
                    b[k] = a[j]
                    j += 1
                else:
                    b[k] = a[i]
                    i += 1
                k += 1
            while i < mid:
                b[k] = a[i]
                i += 1
                k += 1
            while j < hi:
                b[k] = a[j]
                j += 1
                k += 1
            lo = hi
        a, b = b, a
        width *= 2
    return a


@njit(cache=True, nogil=True)
def build_slice_trie(flat, start, length, ids):
    """Preorder trie (the :class:`~structgen.vocab.TokenTrie` layout) of the byte strings
    ``flat[start[i]:start[i] + length[i]]`` (all non-empty), carrying ``ids[i]`` at each string's
    end node. Returns ``(byte, depth, subtree_end, tok_ptr, token_ids)``; ids sharing bytes are in
    input order."""
    n = start.shape[0]
    order = _sort_slices(flat, start, length)
    total = 1
    for i in range(n):
        total += length[i]
    byte = np.zeros(total, np.uint8)
    depth = np.zeros(total, np.int32)
    subtree_end = np.zeros(total, np.int32)
    end_node = np.zeros(n, np.int32)
    max_len = 0
    for i in range(n):
        max_len = max(max_len, length[i])
    path = np.zeros(max_len + 1, np.int32)  # node at each depth of the previous string
    path_len = 0
    n_nodes = 1
    prev = -1
    for q in range(n):
        i = order[q]
        s, ln = start[i], length[i]
        lcp = 0
        if prev >= 0:
            ps, pl = start[prev], length[prev]
            m = min(ln, pl)
            while lcp < m and flat[s + lcp] == flat[ps + lcp]:
                lcp += 1
        for d in range(path_len, lcp, -1):  # close the previous string's nodes below the lcp
            subtree_end[path[d]] = n_nodes
        for d in range(lcp + 1, ln + 1):
            byte[n_nodes] = flat[s + d - 1]
            depth[n_nodes] = d
            path[d] = n_nodes
            n_nodes += 1
        path_len = ln
        end_node[q] = path[ln]
        prev = i
    for d in range(path_len, -1, -1):
        subtree_end[path[d]] = n_nodes
    subtree_end[0] = n_nodes
    tok_ptr = np.zeros(n_nodes + 1, np.int32)
    for q in range(n):
        tok_ptr[end_node[q] + 1] += 1
    for v in range(n_nodes):
        tok_ptr[v + 1] += tok_ptr[v]
    token_ids = np.empty(n, np.int32)
    for q in range(n):
        token_ids[q] = ids[order[q]]
    return byte[:n_nodes].copy(), depth[:n_nodes].copy(), subtree_end[:n_nodes].copy(), tok_ptr, token_ids


@njit(cache=True, nogil=True)
def path_char_counts(byte, depth):
    """int32[n_nodes]: the number of UTF-8 lead (non-continuation) bytes on each node's path."""
    n = byte.shape[0]
    out = np.zeros(n, np.int32)
    at_depth = np.zeros(int(depth.max()) + 1 if n else 1, np.int32)
    for v in range(1, n):
        d = depth[v]
        c = at_depth[d - 1] + (1 if (byte[v] & 0xC0) != 0x80 else 0)
        at_depth[d] = c
        out[v] = c
    return out


@njit(cache=True, nogil=True)
def map_subtrie(main_byte, main_subtree_end, sub_byte, sub_depth):
    """int32[n_main_nodes]: for each node of a trie, the node of ``sub`` (a trie of a subset of the
    same strings, same layout) with the same byte string, -1 where ``sub`` has none."""
    out = np.full(main_byte.shape[0], -1, np.int32)
    n = sub_byte.shape[0]
    at_depth = np.zeros(int(sub_depth.max()) + 1 if n else 1, np.int32)  # main node per depth
    out[0] = 0
    for v in range(1, n):
        d = sub_depth[v]
        parent = at_depth[d - 1]
        c = parent + 1
        end = main_subtree_end[parent]
        while c < end and main_byte[c] != sub_byte[v]:
            c = main_subtree_end[c]
        at_depth[d] = c  # always found: sub's strings are main's
        out[c] = v
    return out


@njit(cache=True, nogil=True)
def chars_below(byte, parent):
    """Per node, the bytes strictly below it: ``(lo, hi, other)`` — uint64 bits of the plain ASCII
    bytes 0-63 / 64-127 (0x20-0x7F except ``"`` and ``\\``), and ``other`` (uint8) 1 when some
    byte below is anything else (control, ``"``, ``\\``, non-ASCII)."""
    n = byte.shape[0]
    lo = np.zeros(n, np.uint64)
    hi = np.zeros(n, np.uint64)
    other = np.zeros(n, np.uint8)
    for v in range(n - 1, 0, -1):  # reverse preorder: children before parents
        p = parent[v]
        b = byte[v]
        lo[p] |= lo[v]
        hi[p] |= hi[v]
        other[p] |= other[v]
        if b < 0x20 or b >= 0x80 or b == 0x22 or b == 0x5C:
            other[p] = 1
        elif b < 64:
            lo[p] |= np.uint64(1) << np.uint64(b)
        else:
            hi[p] |= np.uint64(1) << np.uint64(b - 64)
    return lo, hi, other
