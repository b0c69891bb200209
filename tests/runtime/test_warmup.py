"""prepare_vocabulary builds the per-vocabulary artifacts once."""
from __future__ import annotations

import pytest

import structgen
from structgen.runtime import plain_slices as P
from tests.conftest import get_vocab


def test_prepare_vocabulary_builds_slices_once():
    vocab = get_vocab("gpt2")
    words = (vocab.vocab_size + 31) // 32
    P._SLICES.pop((vocab.fingerprint, words))
    structgen.prepare_vocabulary(vocab)
    assert (vocab.fingerprint, words) in P._SLICES
    built = P._SLICES.get((vocab.fingerprint, words))
    structgen.prepare_vocabulary(vocab)
    assert P._SLICES.get((vocab.fingerprint, words)) is built
    assert built.slice_masks.shape == (built.max_len + 1, words)


def test_prepare_vocabulary_rejects_a_tokenizer():
    with pytest.raises(TypeError, match="Vocabulary.from_hf"):
        structgen.prepare_vocabulary(object())
