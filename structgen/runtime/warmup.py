"""Per-process, per-vocabulary preparation, done once before serving masks.

A server (or a benchmark worker) calls :func:`prepare_vocabulary` after loading a tokenizer, as
XGrammar's ``TokenizerInfo`` / llguidance's tokenizer set-up do: afterwards the first compile
and the first masks of the process do not pay one-time costs — building the token trie and the
plain-token slices (≈0.1 s for a 128k vocabulary) and loading the numba kernels from their disk
cache (up to ≈0.1 s per kernel on first call).
"""
from __future__ import annotations

import numpy as np

_WARM_SCHEMA = {
    "type": "object",
    "properties": {"a": {"type": "string", "maxLength": 300}, "b": {"enum": [1, "x"]},
                   "c": {"type": "array", "items": {"type": "number"}},
                   "d": {"type": "string", "pattern": "x[0-9]"}},  # unanchored: plain-closed states
    "additionalProperties": {"type": "string", "pattern": "^[a-z]+$"},
}


def prepare_vocabulary(vocab) -> None:
    """Build ``vocab``'s token trie, flattened token bytes and plain-token slices, and run every
    mask kernel once on a small grammar. Idempotent and cheap when already done.

    Raises ``TypeError`` when ``vocab`` is not a :class:`~structgen.vocab.Vocabulary`."""
    from ..vocab import Vocabulary

    if not isinstance(vocab, Vocabulary):
        raise TypeError(f"prepare_vocabulary expects a structgen Vocabulary, got {type(vocab).__name__} "
                        "(build one with Vocabulary.from_hf(tokenizer))")
    from ..json_schema import compile_json_schema
    from .matcher import Matcher
    from .plain_slices import root_children, plain_slices
    from .split_kernels import suffix_trie_splits

    words = (int(vocab.vocab_size) + 31) // 32
    plain_slices(vocab, words)
    compiled = compile_json_schema(_WARM_SCHEMA, vocab)
    trie = vocab.trie
    child = root_children(trie)  # single-byte tokens end at the depth-1 nodes
    single = {b: int(trie.token_ids[trie.tok_ptr[n]]) for b, n in enumerate(child.tolist())
              if n >= 0 and trie.tok_ptr[n + 1] > trie.tok_ptr[n]}
    matcher = Matcher(compiled)
    bitmask = np.zeros((1, words), np.int32)
    # one byte at a time, so that every kind of state on the way gets its row computed
    for byte in b'{"a": "xy", "b": 1, "c": [1.5], "d": "ax1", "zz": "q"}':
        matcher.fill_next_token_bitmask(bitmask, 0)
        if byte not in single or not matcher.advance(single[byte]):
            break
    # entry points the walk above may not reach: checks without committing, rollback, forced
    # tokens, and the split-node gathering of suffix tries (same argument types as in use)
    if single.get(ord("}")) is not None:
        matcher.is_allowed(single[ord("}")])
    matcher.validate_tokens(list(single.values())[:2])
    matcher.forced_tokens()
    if matcher._history:
        matcher.rollback(1)
    masks = compiled.masks
    for suffix in masks._suffixes:
        if suffix is not None:
            suffix_trie_splits(suffix, compiled.token_offsets, np.zeros(1, np.int32))
            break
