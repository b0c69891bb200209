"""Plain-token slices of a vocabulary: rows of string-like states without walking the whole trie.

Most of a vocabulary consists of **plain** tokens: valid UTF-8 text without ``"``, ``\\`` or
control characters (< U+0020) — 95 % of Llama 3's 128k tokens. Inside a JSON string (and in any
rule state that behaves like one) every plain token of at most ``k`` characters is allowed and
every longer one is not, where ``k`` is the state's *plain budget* (``maxLength`` minus the
characters so far; unbounded strings: ``k = ∞``). For such a state the row is

    ``slice_mask[min(k, max_plain_len)]``  ∪  (a trie walk over the non-plain tokens only),

and the non-plain trie is ~25× smaller than the full one (Llama 3: 12k of 275k nodes), so the row
of every position of a counted string costs a 16 kB copy and a small walk instead of a walk over
the whole vocabulary. (llguidance's "slicer" optimizes the same case with precomputed regex slices.)

Contract (checked per state by :func:`structgen.runtime.kernels.plain_step`, see
:func:`plain_budget`): the state's row equals the formula above exactly when, for the state ``s``
and every state reached from it by ``j < k`` plain characters, *every* plain character leads to
one and the same next state, that state and the states inside the character are not accepting,
and after ``k`` characters every plain character is dead. Then a plain token of ``m`` characters is
alive iff ``m ≤ k`` and never passes an accepting state (so it has no split nodes); the remaining
tokens are walked exactly.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from ..vocab.trie import TokenTrie


def plain_lengths(token_bytes: list[bytes], include: np.ndarray) -> np.ndarray:
    """int32[n_tokens]: the number of characters of each included plain token, -1 for others.

    Plain: non-empty, strict UTF-8 (no surrogates), no ``"``, ``\\`` or code point < 0x20.
    Vectorized over the concatenated bytes; only tokens with non-ASCII bytes are decoded.
    """
    n = len(token_bytes)
    out = np.full(n, -1, np.int32)
    lengths = np.fromiter(map(len, token_bytes), np.int64, n)
    ids = np.flatnonzero(np.asarray(include, bool) & (lengths > 0))
    if ids.size == 0:
        return out
    flat = np.frombuffer(b"".join([token_bytes[t] for t in ids.tolist()]), np.uint8)
    starts = np.zeros(ids.size, np.int64)
    np.cumsum(lengths[ids][:-1], out=starts[1:])
    bad = np.add.reduceat(((flat == 0x22) | (flat == 0x5C) | (flat < 0x20)).astype(np.int32), starts) > 0
    high = np.add.reduceat((flat >= 0x80).astype(np.int32), starts) > 0
    chars = np.add.reduceat(((flat & 0xC0) != 0x80).astype(np.int32), starts)
    ok = ~bad
    for i in np.flatnonzero(ok & high).tolist():  # non-ASCII: must be strict UTF-8
        try:
            token_bytes[ids[i]].decode("utf-8")
        except UnicodeDecodeError:
            ok[i] = False
    out[ids[ok]] = chars[ok]
    return out


class PlainSlices:
    """Per vocabulary: ``plain_len``, cumulative ``slice_masks`` and the ``rest`` trie.

    - ``plain_len: int32[n_tokens]`` (see :func:`plain_lengths`); ``max_len`` its maximum.
    - ``slice_masks: uint32[max_len + 1, words]``: row ``k`` has the bits of the plain tokens of
      at most ``k`` characters (row 0 is empty).
    - ``rest``: :class:`TokenTrie` of the text tokens that are not plain, and ``rest_arrays`` its
      kernel tuple ``(byte, depth, subtree_end, tok_ptr, token_ids)``.
    - ``first_masks: uint32[256, words]``: the plain tokens starting with each plain ASCII byte;
      ``main_child`` / ``rest_child: int32[256]``: the depth-1 node of each byte in the vocabulary
      trie / the rest trie (-1: none). Used by :func:`~structgen.runtime.kernels.sliced_dfa_walk`
      for states that are not counters themselves but become one after their first byte (e.g.
      "any key except the listed ones").
    """

    def __init__(self, vocab, words: int) -> None:
        text = vocab.text_token_mask
        self.plain_len = plain_lengths(vocab.token_bytes, text)
        plain = self.plain_len >= 0
        self.max_len = int(self.plain_len.max()) if plain.any() else 0
        ids = np.flatnonzero(plain)
        lens = self.plain_len[ids]
        masks = np.zeros((self.max_len + 1, words), np.uint32)
        if ids.size:
            # bits of the tokens of exactly k characters, then a running OR over k
            np.bitwise_or.at(masks, (lens, ids >> 5), (np.uint32(1) << (ids & 31).astype(np.uint32)))
            np.bitwise_or.accumulate(masks, axis=0, out=masks)
        self.slice_masks = masks
        self.rest = TokenTrie.build(vocab.token_bytes, include=text & ~plain)
        r = self.rest
        self.rest_arrays = (
            np.ascontiguousarray(r.byte, np.uint8), np.ascontiguousarray(r.depth, np.int32),
            np.ascontiguousarray(r.subtree_end, np.int32), np.ascontiguousarray(r.tok_ptr, np.int32),
            np.ascontiguousarray(r.token_ids, np.int32),
        )
        self.main_child = _root_children(vocab.trie)
        self.rest_child = _root_children(r)
        # plain tokens by first byte (plain ASCII first bytes only: other plain tokens start with
        # a multi-byte character and are walked)
        first = np.zeros(len(vocab.token_bytes), np.int32)
        first[ids] = [vocab.token_bytes[t][0] for t in ids.tolist()]
        ascii_ids = ids[first[ids] < 0x80]
        fm = np.zeros((256, words), np.uint32)
        np.bitwise_or.at(fm, (first[ascii_ids], ascii_ids >> 5),
                         np.uint32(1) << (ascii_ids & 31).astype(np.uint32))
        self.first_masks = fm
        #: first bytes whose subtree may be sliced: plain ASCII
        self.plain_ascii = np.array([b for b in range(0x20, 0x80) if b not in (0x22, 0x5C)], np.int64)


def _root_children(trie: TokenTrie) -> np.ndarray:
    """int32[256]: the depth-1 node of each first byte, -1 where the trie has none."""
    out = np.full(256, -1, np.int32)
    nodes = np.flatnonzero(trie.depth == 1)
    out[trie.byte[nodes]] = nodes
    return out


_SLICES: OrderedDict[tuple[str, int], PlainSlices] = OrderedDict()
_LOCK = threading.Lock()


def plain_slices(vocab, words: int) -> PlainSlices:
    """The (cached, per vocabulary fingerprint) :class:`PlainSlices` of ``vocab``."""
    key = (vocab.fingerprint, words)
    with _LOCK:
        hit = _SLICES.get(key)
        if hit is not None:
            _SLICES.move_to_end(key)
            return hit
    built = PlainSlices(vocab, words)
    with _LOCK:
        hit = _SLICES.setdefault(key, built)
        while len(_SLICES) > 4:
            _SLICES.popitem(last=False)
    return hit
