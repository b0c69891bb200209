"""Matcher exactness on hand-built automata and small vocabularies, against the reference Earley."""
from __future__ import annotations

import random

import numpy as np
import pytest

from structgen.errors import CompileLimitError, MatcherTerminatedError
from structgen.runtime import kernels as K
from structgen.runtime.chart import Chart
from structgen.runtime import reference as R
from structgen.runtime.compiled import CompiledGrammar
from structgen.runtime.matcher import Matcher, fill_next_token_bitmask_batch
from structgen.vocab import Vocabulary

from . import toy_automata as T
from .oracle import bitmask_to_set, reference_allowed

STOP = 0


def _vocab(pieces: list[bytes]) -> Vocabulary:
    return Vocabulary.from_token_bytes([b""] + pieces, stop_ids=[STOP])


PAREN_TOKENS = [b"(", b")", b"a", b"()", b"(a", b"a)", b")(", b"))", b"((", b"aa", b"x", b"(()", b")a", b"()()", b"))("]
SUM_TOKENS = [b"1", b"2", b"12", b"+", b"+1", b"1+", b"12+3", b"+ ", b"++", b"3", b"9+9", b"+12+", b"a"]
LIST_TOKENS = [b"[", b"]", b'"', b'",', b'", "', b'"]', b'["', b"a", b"ab", b"\\", b'\\"', b"\\n", b"\\x", b", ",
               b",", b" ", b'"a"', b'a",', b'a"]', b"\xce", b"\xb1", b"\xce\xb1", b'""', b'"],', b"[]"]

CASES = [(T.parens, PAREN_TOKENS), (T.left_recursive_sum, SUM_TOKENS), (T.json_string_list, LIST_TOKENS)]


@pytest.mark.parametrize("make_aut,pieces", CASES, ids=["parens", "left_recursion", "string_list"])
def test_masks_equal_reference_on_random_walks(make_aut, pieces):
    aut = make_aut()
    vocab = _vocab(pieces)
    comp = CompiledGrammar(aut, vocab)
    rng = random.Random(1)
    bm = np.zeros((1, comp.words), np.int32)
    for _ in range(60):
        m = Matcher(comp)
        prefix = b""
        for _step in range(10):
            m.fill_next_token_bitmask(bm)
            got = bitmask_to_set(bm[0], vocab.vocab_size)
            want = reference_allowed(aut, vocab, prefix)
            assert got == want, (prefix, sorted(got ^ want))
            assert m.can_stop() == R.accepts(aut, prefix)
            for t in range(vocab.vocab_size):
                assert m.is_allowed(t) == (t in want)
            if not want:
                break
            t = rng.choice(sorted(want))
            assert m.advance(t)
            if t == STOP:
                assert m.is_terminated()
                break
            prefix += vocab.token_bytes[t]


def test_rollback_copy_validate_agree_with_replay():
    aut = T.json_string_list()
    vocab = _vocab(LIST_TOKENS)
    comp = CompiledGrammar(aut, vocab)
    ids = [LIST_TOKENS.index(p) + 1 for p in [b'["', b"ab", b'\\"', b'",', b" ", b'"a"', b"]"]]
    m = Matcher(comp)
    assert m.validate_tokens(ids + [STOP]) == len(ids) + 1
    assert m.validate_tokens(ids[:2] + [STOP]) == 2  # cannot stop inside a string
    for t in ids:
        assert m.advance(t)
    full = Matcher(comp)
    bm1 = np.zeros((1, comp.words), np.int32)
    bm2 = np.zeros_like(bm1)
    for k in range(len(ids) + 1):
        m2 = m.copy()
        m2.rollback(k)
        full.reset()
        for t in ids[: len(ids) - k]:
            assert full.advance(t)
        m2.fill_next_token_bitmask(bm1)
        full.fill_next_token_bitmask(bm2)
        assert np.array_equal(bm1, bm2), k
        assert m2.can_stop() == full.can_stop()
    # the copy is independent
    c = m.copy()
    c.rollback(3)
    assert m.can_stop() and not c.can_stop()


def test_terminate_and_errors():
    comp = CompiledGrammar(T.parens(), _vocab(PAREN_TOKENS))
    m = Matcher(comp)
    assert m.can_stop()  # empty string is in the language
    with pytest.raises(ValueError):
        m.advance(comp.vocab_size)
    with pytest.raises(ValueError):
        m.is_allowed(-1)
    assert not m.advance(PAREN_TOKENS.index(b")") + 1)
    assert m.advance(STOP) and m.is_terminated()
    with pytest.raises(MatcherTerminatedError):
        m.advance(1)
    bm = np.zeros((1, comp.words), np.int32)
    m.fill_next_token_bitmask(bm)
    assert bitmask_to_set(bm[0], comp.vocab_size) == {STOP}
    m.rollback(1)
    assert not m.is_terminated() and m.advance(1)
    with pytest.raises(ValueError):
        m.rollback(5)


def test_forced_bytes_and_tokens():
    aut = T.json_string_list()
    vocab = _vocab(LIST_TOKENS)
    comp = CompiledGrammar(aut, vocab)
    m = Matcher(comp)
    assert m.forced_bytes() == b"["
    # '[' could be followed by '"' or ']' — the token '["' spans the boundary, so nothing is forced.
    assert m.forced_tokens() == []
    m.advance(LIST_TOKENS.index(b"[") + 1)
    m.advance(LIST_TOKENS.index(b'"') + 1)
    m.advance(LIST_TOKENS.index(b"a") + 1)
    m.advance(LIST_TOKENS.index(b'",') + 1)
    assert m.forced_bytes() == b""  # ' ' or '"' may follow the comma


def test_batch_fill_matches_single():
    aut = T.json_string_list()
    vocab = _vocab(LIST_TOKENS)
    comp = CompiledGrammar(aut, vocab)
    ms = [Matcher(comp) for _ in range(4)]
    for i, m in enumerate(ms):
        for p in [b"[", b'"', b"ab", b'",', b" "][: i + 1]:
            assert m.advance(LIST_TOKENS.index(p) + 1)
    batch = np.zeros((6, comp.words), np.int32)
    fill_next_token_bitmask_batch(ms, batch, indices=[5, 4, 3, 2], max_threads=2)
    single = np.zeros((1, comp.words), np.int32)
    for m, row in zip(ms, [5, 4, 3, 2]):
        m.fill_next_token_bitmask(single)
        assert np.array_equal(batch[row], single[0])


def test_torch_bitmask_and_wider_rows():
    torch = pytest.importorskip("torch")
    comp = CompiledGrammar(T.parens(), _vocab(PAREN_TOKENS))
    bm = torch.full((2, comp.words + 3), -1, dtype=torch.int32)
    Matcher(comp).fill_next_token_bitmask(bm, 1)
    assert (bm[1, comp.words:] == 0).all() and (bm[0] == -1).all()


def test_parser_step_limits_raise_a_specific_error():
    comp = CompiledGrammar(T.parens(), _vocab(PAREN_TOKENS))
    chart = Chart(cap_items=4, max_items=8)  # a tiny budget: a deep parse cannot fit
    chart.run(K.init_chart, comp.g, comp.start_state)
    data = np.frombuffer(b"((((((((", np.uint8)
    with pytest.raises(CompileLimitError):
        chart.run(K.scan_bytes, comp.g, data, 0, len(data))
