"""TokenTrie: the byte trie of a vocabulary's text tokens, as flat numpy arrays for numba kernels.

Only tokens that may appear inside grammar output are stored: non-empty bytes, not special,
not a stop token, id < ``vocab_size`` (the :class:`~structgen.vocab.Vocabulary` decides; see
``Vocabulary.text_token_mask``).

Array layout (all ``int32`` unless noted). Nodes are numbered in **preorder**, children sorted by
byte ascending, node 0 is the root (the empty string). Preorder with sorted children equals the
lexicographic order of the nodes' byte strings.

- ``byte: uint8[n_nodes]`` — the byte on the edge into the node (root: 0).
- ``depth[n_nodes]`` — length of the node's byte string (root: 0).
- ``parent[n_nodes]`` — parent node (root: -1).
- ``subtree_end[n_nodes]`` — the subtree of ``n`` is exactly the node range ``[n, subtree_end[n])``.
- ``tok_ptr[n_nodes + 1]``, ``token_ids[n_trie_tokens]`` — the ids whose bytes end exactly at ``n``
  are ``token_ids[tok_ptr[n]:tok_ptr[n + 1]]`` (ascending; several ids may share bytes, e.g.
  ``▁`` and ``<0x20>`` in Llama 2). Tokens are stored in node order, so the tokens of the whole
  subtree of ``n`` (all tokens having ``n``'s bytes as a prefix) are
  ``token_ids[tok_ptr[n]:tok_ptr[subtree_end[n]]]``.
- ``node_of_token[n_tokens]`` — the node where a token ends, ``-1`` if the token is not in the trie.
- ``n_nodes``, ``max_depth`` (longest token in bytes), ``n_tokens`` (length of ``node_of_token``).

Canonical walk (how a mask kernel visits every token once, pruning dead subtrees)::

    state_at[0] = start_state
    n = 1
    while n < n_nodes:
        state = step(state_at[depth[n] - 1], byte[n])    # the parent's state is on the stack
        if state is dead:
            n = subtree_end[n]                            # no token below n can be accepted
        else:
            mark token_ids[tok_ptr[n]:tok_ptr[n + 1]]     # tokens ending exactly here
            state_at[depth[n]] = state
            n += 1

Because nodes are in preorder, ``state_at[depth[n] - 1]`` always holds the state of ``n``'s parent
when ``n`` is visited. :func:`structgen.vocab.trie_kernels.dfa_token_mask` is this walk for a
:class:`~structgen.automata.regex.ByteDFA`-style transition table.

The build is vectorized numpy: sort the byte strings (one C-level ``sorted``), compute longest
common prefixes of neighbours, emit each string's new prefixes, then derive parents and subtree
ends one depth level at a time.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


class TokenTrie:
    """Preorder byte trie over token ids; see the module docstring for the array contract."""

    __slots__ = ("byte", "depth", "parent", "subtree_end", "tok_ptr", "token_ids", "node_of_token",
                 "n_nodes", "max_depth", "n_tokens", "_kernel")

    def __init__(self, byte: np.ndarray, depth: np.ndarray, parent: np.ndarray, subtree_end: np.ndarray,
                 tok_ptr: np.ndarray, token_ids: np.ndarray, node_of_token: np.ndarray):
        self.byte = byte
        self.depth = depth
        self.parent = parent
        self.subtree_end = subtree_end
        self.tok_ptr = tok_ptr
        self.token_ids = token_ids
        self.node_of_token = node_of_token
        self.n_nodes = int(byte.shape[0])
        self.max_depth = int(depth.max()) if self.n_nodes else 0
        self.n_tokens = int(node_of_token.shape[0])
        self._kernel: tuple | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def build(cls, token_bytes: Sequence[bytes], include: np.ndarray | None = None) -> "TokenTrie":
        """Build the trie of ``token_bytes[i]`` for every ``i`` with ``include[i]`` (default: all
        non-empty tokens). Empty byte strings are never stored."""
        n_tokens = len(token_bytes)
        lengths = np.fromiter(map(len, token_bytes), dtype=np.int64, count=n_tokens)
        keep = lengths > 0
        if include is not None:
            include = np.asarray(include, dtype=bool)
            if include.shape != (n_tokens,):
                raise ValueError(f"include has shape {include.shape}, expected ({n_tokens},)")
            keep &= include
        ids = np.flatnonzero(keep)
        if ids.size == 0:
            return cls._empty(n_tokens)

        # 1. Sort the byte strings (stable: equal strings keep ascending ids).
        id_list = ids.tolist()
        order = sorted(id_list, key=token_bytes.__getitem__)
        sorted_ids = np.asarray(order, dtype=np.int64)
        sorted_bytes = [token_bytes[i] for i in order]
        lens = lengths[sorted_ids]
        flat = np.frombuffer(b"".join(sorted_bytes), dtype=np.uint8)
        starts = np.zeros(len(order), dtype=np.int64)
        np.cumsum(lens[:-1], out=starts[1:])

        # 2. Longest common prefix with the previous string (one pass per shared byte position).
        m = len(order)
        lcp = np.zeros(m, dtype=np.int64)
        active = np.arange(1, m)
        k = 0
        while active.size:
            ok = (lens[active - 1] > k) & (lens[active] > k)
            active = active[ok]
            same = flat[starts[active - 1] + k] == flat[starts[active] + k]
            active = active[same]
            lcp[active] += 1
            k += 1

        # 3. Each string contributes its prefixes longer than the lcp, in order (= preorder).
        #    Duplicates (lcp == length) contribute none and share the previous string's end node.
        counts = lens - lcp
        total = int(counts.sum())
        n_nodes = total + 1
        first_new = np.empty(m, dtype=np.int64)
        first_new[0] = 1
        np.cumsum(counts[:-1], out=first_new[1:])
        first_new[1:] += 1
        owner = np.repeat(np.arange(m), counts)
        offset = np.arange(total, dtype=np.int64) - np.repeat(first_new - 1, counts)
        depth = np.zeros(n_nodes, dtype=np.int64)
        depth[1:] = lcp[owner] + 1 + offset
        byte = np.zeros(n_nodes, dtype=np.uint8)
        byte[1:] = flat[starts[owner] + depth[1:] - 1]

        # End node of each string: its last new node, or (duplicate) the previous string's.
        end_node = np.where(counts > 0, first_new + counts - 1, 0)
        np.maximum.accumulate(end_node, out=end_node)

        # 4. Parents and subtree ends, one depth level at a time (nodes of a level are ascending).
        by_depth = np.argsort(depth, kind="stable")
        level_bounds = np.searchsorted(depth[by_depth], np.arange(int(depth.max()) + 2))
        parent = np.full(n_nodes, -1, dtype=np.int64)
        subtree_end = np.empty(n_nodes, dtype=np.int64)
        subtree_end[0] = n_nodes
        prev_level = by_depth[level_bounds[0]:level_bounds[1]]  # [0]: the root
        for d in range(1, len(level_bounds) - 1):
            level = by_depth[level_bounds[d]:level_bounds[d + 1]]
            par = prev_level[np.searchsorted(prev_level, level, side="right") - 1]
            parent[level] = par
            next_same = np.empty_like(level)
            next_same[:-1] = level[1:]
            next_same[-1] = n_nodes
            subtree_end[level] = np.minimum(next_same, subtree_end[par])
            prev_level = level

        # 5. Tokens per node (CSR) and the inverse map.
        tok_count = np.bincount(end_node, minlength=n_nodes)
        tok_ptr = np.zeros(n_nodes + 1, dtype=np.int64)
        np.cumsum(tok_count, out=tok_ptr[1:])
        node_of_token = np.full(n_tokens, -1, dtype=np.int32)
        node_of_token[sorted_ids] = end_node

        return cls(byte=byte, depth=depth.astype(np.int32), parent=parent.astype(np.int32),
                   subtree_end=subtree_end.astype(np.int32), tok_ptr=tok_ptr.astype(np.int32),
                   token_ids=sorted_ids.astype(np.int32), node_of_token=node_of_token)

    @classmethod
    def _empty(cls, n_tokens: int) -> "TokenTrie":
        return cls(byte=np.zeros(1, dtype=np.uint8), depth=np.zeros(1, dtype=np.int32),
                   parent=np.full(1, -1, dtype=np.int32), subtree_end=np.ones(1, dtype=np.int32),
                   tok_ptr=np.zeros(2, dtype=np.int32), token_ids=np.zeros(0, dtype=np.int32),
                   node_of_token=np.full(n_tokens, -1, dtype=np.int32))

    def kernel_arrays(self) -> tuple:
        """``(byte, depth, subtree_end, tok_ptr, token_ids)`` as contiguous uint8/int32 arrays: the
        tuple the trie-walk kernels take."""
        return (np.ascontiguousarray(self.byte, np.uint8), np.ascontiguousarray(self.depth, np.int32),
                np.ascontiguousarray(self.subtree_end, np.int32), np.ascontiguousarray(self.tok_ptr, np.int32),
                np.ascontiguousarray(self.token_ids, np.int32))

    # ------------------------------------------------------------------ queries (not for hot paths)
    @property
    def n_trie_tokens(self) -> int:
        """Number of token ids stored in the trie."""
        return int(self.token_ids.shape[0])

    def tokens_at(self, node: int) -> np.ndarray:
        """Ids whose bytes are exactly the node's byte string."""
        return self.token_ids[self.tok_ptr[node]:self.tok_ptr[node + 1]]

    def subtree_tokens(self, node: int) -> np.ndarray:
        """Ids whose bytes start with the node's byte string."""
        return self.token_ids[self.tok_ptr[node]:self.tok_ptr[self.subtree_end[node]]]

    def node_bytes(self, node: int) -> bytes:
        """The byte string of a node (walks parent links)."""
        out = bytearray()
        while node > 0:
            out.append(int(self.byte[node]))
            node = int(self.parent[node])
        return bytes(reversed(out))

    def find(self, prefix: bytes) -> int:
        """The node whose byte string is ``prefix``, or -1 when no stored token starts with it."""
        node = 0
        for b in prefix:
            child = node + 1
            end = int(self.subtree_end[node])
            while child < end and int(self.byte[child]) != b:
                child = int(self.subtree_end[child])
            if child >= end:
                return -1
            node = child
        return node

    def __repr__(self) -> str:
        return (f"TokenTrie(n_nodes={self.n_nodes}, n_trie_tokens={self.n_trie_tokens}, "
                f"max_depth={self.max_depth}, n_tokens={self.n_tokens})")
