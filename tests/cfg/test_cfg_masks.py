"""CFG masks on real tokenizers: brute-force exactness, and random sampling under the mask.

Brute force: while teacher-forcing valid examples token by token, the mask must equal the set of
tokens ``t`` such that ``prefix + bytes(t)`` is a viable prefix (the pure-Python reference Earley
recognizer, which the grammar-library tests check against lark), and stop tokens must be allowed
exactly when the prefix is a complete sentence.
Sampling: picking uniformly among allowed tokens must always end in a sentence lark parses.
"""
from __future__ import annotations

import random

import numpy as np
import pytest

from structgen import grammars
from structgen.cfg.lark_frontend import compile_lark
from structgen.runtime import reference as R
from structgen.runtime.matcher import Matcher
from tests.cfg.test_lark_frontend import lark_accepts
from tests.conftest import get_tokenizer, get_vocab
from tests.runtime.oracle import bitmask_to_set


def _reference_mask(aut, vocab, sets) -> set[int]:
    """All tokens viable after the chart ``sets`` (first-byte pruned, then fed one by one)."""
    first = R.next_bytes(aut, sets)
    stops = set(vocab.stop_ids)
    special = set(vocab.special_ids)
    out = {t for t in stops if R.can_stop(aut, sets)}
    for t in range(min(vocab.vocab_size, vocab.n_tokens)):
        b = vocab.token_bytes[t]
        if b and b[0] in first and t not in special and R.feed(aut, list(sets), b):
            out.add(t)
    return out


def _check_exact(grammar: str, tok_name: str, n_examples: int) -> None:
    tok = get_tokenizer(tok_name)
    vocab = get_vocab(tok_name)
    comp = compile_lark(grammar, vocab)
    aut = comp.automaton
    bm = np.zeros((1, comp.words), np.int32)
    examples = sorted(grammars.examples(grammar)["valid"], key=len)[:n_examples]
    for text in examples:
        ids = tok.encode(text, add_special_tokens=False)
        if vocab.decode(ids) != text.encode():
            continue  # SentencePiece dummy prefix: covered by the byte-level tokenizers
        m = Matcher(comp)
        sets = R.initial_sets(aut)
        for t in ids + [None]:
            m.fill_next_token_bitmask(bm)
            got = bitmask_to_set(bm[0], vocab.vocab_size)
            want = _reference_mask(aut, vocab, sets)
            assert got == want, (grammar, text, vocab.decode(m.tokens), sorted(got ^ want)[:10])
            if t is None:
                break
            assert m.advance(t)
            assert R.feed(aut, sets, vocab.token_bytes[t])


@pytest.mark.parametrize("grammar", ["arithmetic", "sexp"])
def test_masks_exact_gpt2(grammar):
    _check_exact(grammar, "gpt2", 1)


@pytest.mark.slow
@pytest.mark.parametrize("tok_name", ["llama3", "gpt2", "llama2"])
@pytest.mark.parametrize("grammar", ["json", "arithmetic", "sexp", "csv", "sql"])
def test_masks_exact_exhaustive(grammar, tok_name):
    _check_exact(grammar, tok_name, 3)


@pytest.mark.parametrize("grammar", ["json", "arithmetic", "sexp", "csv", "smiles"])
def test_random_sampling_under_the_mask_yields_sentences_lark_parses(grammar):
    vocab = get_vocab("gpt2")
    comp = compile_lark(grammar, vocab)
    text = grammars.load(grammar)
    rng = random.Random(grammar)
    bm = np.zeros((1, comp.words), np.int32)
    stops = set(vocab.stop_ids)
    finished = 0
    for _ in range(25):
        m = Matcher(comp)
        for step in range(40):
            m.fill_next_token_bitmask(bm)
            allowed = sorted(bitmask_to_set(bm[0], vocab.vocab_size))
            assert allowed, "a viable prefix always has a continuation"
            can_stop = bool(stops & set(allowed))
            if can_stop and (rng.random() < 0.3 or step > 30):
                t = next(iter(stops & set(allowed)))
            else:
                choices = [a for a in allowed if a not in stops] or allowed
                t = rng.choice(choices)
            assert m.advance(t)
            if m.is_terminated():
                sentence = vocab.decode(m.tokens).decode("utf-8", errors="surrogateescape")
                assert lark_accepts(text, sentence), (grammar, sentence)
                finished += 1
                break
    assert finished >= 5, f"only {finished} samples finished"
