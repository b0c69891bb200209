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

import numpy as np

from ..vocab.trie import TokenTrie
from ..vocab.trie_kernels import chars_below, map_subtrie, path_char_counts
from .lru import BoundedLRU
from .slice_kernels import char_masks


def plain_lengths(flat: np.ndarray, offsets: np.ndarray, include: np.ndarray) -> np.ndarray:
    """int32[n_tokens]: the number of characters of each included plain token, -1 for others.

    ``flat``/``offsets``: all token bytes concatenated (uint8) and the n_tokens + 1 boundaries
    (the layout of ``CompiledGrammar.token_bytes_flat`` / ``token_offsets``). Plain: non-empty,
    strict UTF-8 (no surrogates), no ``"``, ``\\`` or code point < 0x20. Vectorized; only tokens
    with non-ASCII bytes are decoded.
    """
    lengths = np.diff(offsets)
    special = _count_per_token((flat == 0x22) | (flat == 0x5C) | (flat < 0x20), offsets)
    ok = np.asarray(include, bool) & (lengths > 0) & (special == 0)
    non_ascii = _count_per_token(flat >= 0x80, offsets) > 0
    for t in np.flatnonzero(ok & non_ascii).tolist():  # non-ASCII: strict UTF-8 only
        try:
            flat[offsets[t]:offsets[t + 1]].tobytes().decode("utf-8")
        except UnicodeDecodeError:
            ok[t] = False
    out = np.full(lengths.shape[0], -1, np.int32)
    out[ok] = _count_per_token((flat & 0xC0) != 0x80, offsets)[ok]
    return out


def _count_per_token(flags: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """int64[n_tokens]: the number of flagged bytes (``flags`` aligned with the concatenated token
    bytes) in each token."""
    cum = np.zeros(flags.shape[0] + 1, np.int64)
    np.cumsum(flags, out=cum[1:])
    return cum[offsets[1:]] - cum[offsets[:-1]]


def _row_of(ids: np.ndarray, words: int) -> np.ndarray:
    """The packed row with the bits of ``ids``."""
    row = np.zeros((1, words), np.uint32)
    _set_bits(row, np.zeros(ids.shape[0], np.int64), ids)
    return row[0]


def _set_bits(table: np.ndarray, rows: np.ndarray, ids: np.ndarray) -> None:
    """OR the bit of token ``ids[i]`` into row ``rows[i]`` of the packed ``table``."""
    np.bitwise_or.at(table, (rows, ids >> 5), np.uint32(1) << (ids & 31).astype(np.uint32))


class PlainSlices:
    """Per vocabulary: ``plain_len``, cumulative ``slice_masks`` and the ``rest`` trie.

    - ``plain_len: int32[n_tokens]`` (see :func:`plain_lengths`); ``max_len`` its maximum.
    - ``slice_masks: uint32[max_len + 1, words]``: row ``k`` has the bits of the plain tokens of
      at most ``k`` characters (row 0 is empty).
    - ``rest``: :class:`TokenTrie` of the text tokens that are not plain, and ``rest_arrays`` its
      kernel tuple ``(byte, depth, subtree_end, tok_ptr, token_ids)``.
    - ``first_masks: uint32[256, words]``: the plain tokens starting with each plain ASCII byte.
      Used by :func:`~structgen.runtime.kernels.counter_dfa_walk` for states that are not counters
      themselves but become one after their first byte (e.g. "any key except the listed ones");
      ``first_all`` / ``first_nonascii``: the plain tokens starting with a plain ASCII byte / a
      non-ASCII character.
    - For counters deeper in the trie (:func:`~structgen.runtime.kernels.counter_dfa_walk`):
      ``rest_of_main: int32[n_nodes]`` the rest-trie node with the same bytes as each vocabulary
      trie node (-1: none); ``node_chars`` the characters (UTF-8 lead bytes) on each node's path;
      in trie token order, ``tok_pf`` the first position from which the token's bytes are plain
      text (:func:`plain_from`; 0 for plain tokens) and ``tok_chars`` its character count;
      ``below`` the bytes strictly below each node (subtrees that only loop on a state are
      taken whole).
    - For class slices (``class_slices.py``): ``char_masks: uint32[128, words]`` the plain tokens
      containing each ASCII byte, ``ascii_mask`` the plain tokens without non-ASCII bytes,
      ``nonascii`` the :class:`TokenTrie` of the plain tokens with a non-ASCII character and
      ``nonascii_arrays`` its kernel tuple.
    """

    def __init__(self, vocab, words: int) -> None:
        from .compiled import _flatten_tokens  # the vocabulary's cached concatenated token bytes

        text = vocab.text_token_mask
        flat, offsets = _flatten_tokens(vocab)
        self.plain_len = plain_lengths(flat, offsets, text)
        plain = self.plain_len >= 0
        self.max_len = int(self.plain_len.max()) if plain.any() else 0
        ids = np.flatnonzero(plain)
        lens = self.plain_len[ids]
        masks = np.zeros((self.max_len + 1, words), np.uint32)
        if ids.size:
            # bits of the tokens of exactly k characters, then a running OR over k
            _set_bits(masks, lens, ids)
            np.bitwise_or.accumulate(masks, axis=0, out=masks)
        self.slice_masks = masks
        self.rest = r = TokenTrie.build(vocab.token_bytes, include=text & ~plain)
        self.rest_arrays = r.kernel_arrays()
        # plain tokens by first byte (plain ASCII first bytes only: other plain tokens start with
        # a multi-byte character and are walked)
        first = flat[offsets[ids]]
        ascii = first < 0x80
        self.first_masks = np.zeros((256, words), np.uint32)
        _set_bits(self.first_masks, first[ascii], ids[ascii])
        self.first_all = np.bitwise_or.reduce(self.first_masks, axis=0)
        self.first_nonascii = _row_of(ids[~ascii], words)
        #: first bytes whose subtree may be sliced: plain ASCII
        self.plain_ascii = np.array([b for b in range(0x20, 0x80) if b not in (0x22, 0x5C)], np.int64)
        # For slicing below counter states deeper in the trie (kernels.counter_dfa_walk):
        main = vocab.trie
        self.rest_of_main = map_subtrie(main.byte, main.subtree_end, r.byte, r.depth)
        self.node_chars = path_char_counts(main.byte, main.depth)
        #: per vocabulary-trie node, the bytes strictly below it (``trie_kernels.chars_below``)
        self.below = chars_below(main.byte, main.parent)
        pf = np.zeros(vocab.n_tokens, np.int32)
        for t in np.flatnonzero(text & ~plain).tolist():
            pf[t] = plain_from(bytes(flat[offsets[t]:offsets[t + 1]]))
        self.tok_pf = pf[main.token_ids]
        self.tok_chars = _count_per_token((flat & 0xC0) != 0x80, offsets).astype(np.int32)[main.token_ids]
        # class slices: the plain tokens containing each ASCII character, the pure-ASCII plain
        # tokens, and a trie of the plain tokens with a non-ASCII character
        self.char_masks = char_masks(flat, offsets, ids, words)
        non_ascii = _count_per_token(flat >= 0x80, offsets) > 0
        self.ascii_mask = _row_of(np.flatnonzero(plain & ~non_ascii), words)
        self.nonascii = TokenTrie.build(vocab.token_bytes, include=plain & non_ascii)
        self.nonascii_arrays = self.nonascii.kernel_arrays()


def _is_plain_text(b: bytes) -> bool:
    try:
        text = b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not any(c in '"\\' or c < " " for c in text)


def plain_from(b: bytes) -> int:
    """The smallest ``p`` such that ``b[p:]`` is plain text (strict UTF-8 without ``"``, ``\\`` or
    control characters; ``len(b)`` when only the empty tail is)."""
    last_bad = max(b.rfind(b'"'), b.rfind(b"\\"), max((i for i, x in enumerate(b) if x < 0x20), default=-1))
    for p in range(last_bad + 1, len(b)):
        if _is_plain_text(b[p:]):
            return p
    return len(b)


def root_children(trie: TokenTrie) -> np.ndarray:
    """int32[256]: the depth-1 node of each first byte, -1 where the trie has none."""
    out = np.full(256, -1, np.int32)
    nodes = np.flatnonzero(trie.depth == 1)
    out[trie.byte[nodes]] = nodes
    return out


_SLICES: BoundedLRU[PlainSlices] = BoundedLRU(4)


def plain_slices(vocab, words: int) -> PlainSlices:
    """The (cached, per vocabulary fingerprint) :class:`PlainSlices` of ``vocab``."""
    return _SLICES.get_or_build((vocab.fingerprint, words), lambda: PlainSlices(vocab, words))
