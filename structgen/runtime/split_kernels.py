"""Numba kernels that turn split nodes found by a row walk into a row's suffix trie.

A *split node* is a trie node where the row's rule can complete while tokens continue below it
(see ``masks.py``). Every token below a split node contributes ``(token id, split position)``;
the suffix trie holds the bytes of each token after its split position (only those whose first
byte can follow the rule). Tries use the :class:`~structgen.vocab.TokenTrie` array layout
``(byte, depth, subtree_end, tok_ptr, token_ids)``.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..vocab.trie_kernels import build_slice_trie


@njit(cache=True, nogil=True)
def trie_splits(main, rest, nodes):
    """``(ids, pos)`` of the tokens strictly below each split node: ``nodes[i] >= 0`` is a node of
    ``main``, ``-1 - nodes[i]`` a node of ``rest``; the split position is the node's depth."""
    count = 0
    for x in nodes:
        tr = main if x >= 0 else rest
        v = x if x >= 0 else -1 - x
        count += tr[3][tr[2][v]] - tr[3][v + 1]
    ids = np.empty(count, np.int32)
    pos = np.empty(count, np.int64)
    k = 0
    for x in nodes:
        tr = main if x >= 0 else rest
        v = x if x >= 0 else -1 - x
        d = tr[1][v]
        for q in range(tr[3][v + 1], tr[3][tr[2][v]]):
            ids[k] = tr[4][q]
            pos[k] = d
            k += 1
    return ids, pos


@njit(cache=True, nogil=True)
def suffix_trie_splits(sfx, offsets, nodes):
    """``(ids, pos)`` for split nodes of a suffix trie ``sfx``: a token stored at node ``u`` holds
    its last ``depth[u]`` bytes, so a split at node ``v`` above ``u`` lies at
    ``len - depth[u] + depth[v]``."""
    byte, depth, subtree_end, tok_ptr, token_ids = sfx
    count = 0
    for v in nodes:
        count += tok_ptr[subtree_end[v]] - tok_ptr[v + 1]
    ids = np.empty(count, np.int32)
    pos = np.empty(count, np.int64)
    k = 0
    for v in nodes:
        for u in range(v + 1, subtree_end[v]):
            for q in range(tok_ptr[u], tok_ptr[u + 1]):
                t = token_ids[q]
                ids[k] = t
                pos[k] = offsets[t + 1] - offsets[t] - depth[u] + depth[v]
                k += 1
    return ids, pos


@njit(cache=True, nogil=True)
def split_suffix_trie(flat, offsets, ids, pos, follow_row):
    """Trie of ``token[pos:]`` for each ``(ids[i], pos[i])`` whose byte at ``pos`` is in
    ``follow_row``, carrying the token ids (see :func:`~structgen.vocab.trie_kernels.build_slice_trie`).
    ``flat``/``offsets``: the concatenated token bytes and their boundaries."""
    n = 0
    for i in range(ids.shape[0]):
        if follow_row[flat[offsets[ids[i]] + pos[i]]]:
            n += 1
    start = np.empty(n, np.int64)
    length = np.empty(n, np.int64)
    kept = np.empty(n, np.int32)
    k = 0
    for i in range(ids.shape[0]):
        t = ids[i]
        s = offsets[t] + pos[i]
        if follow_row[flat[s]]:
            start[k] = s
            length[k] = offsets[t + 1] - s
            kept[k] = t
            k += 1
    return build_slice_trie(flat, start, length, kept)
