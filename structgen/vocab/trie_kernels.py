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
