"""Regex masks on real tokenizers: exact against a vectorized DFA oracle and against ``re``."""
from __future__ import annotations

import functools
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from structgen import compile_regex
from structgen._shared import TOKENIZER_NAMES
from structgen.runtime.matcher import Matcher

from ..conftest import get_tokenizer, get_vocab
from .oracle import DfaOracle, bitmask_to_set

# (pattern, valid examples to teacher-force)
REGEXES = [
    (r"\d{3}-\d{4}", ["555-1234", "000-0000"]),
    (r"[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,4}", ["john.doe@example.com", "a@b.co"]),
    (r"(true|false|null)", ["true", "null"]),
    (r"[α-ω]+", ["αβγ", "ωω"]),
    (r".{0,5}", ["héllo", "日本語", ""]),
    (r'"([^"\\]|\\.)*"', ['"say \\"hi\\" now"', '""', '"日本"']),
    (r"((a|b)+c|d(e|f)*)(x|yz)?", ["ababcyz", "deeefx", "d"]),
    (r"-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?", ["-12.5e+3", "0", "3.14159"]),
    (r"\w+ \w+", ["hello world", "Grüße dir"]),
    (r"[^\x00-\x7f]{1,3}x", ["é😀x", "日x"]),
    # look-arounds and word boundaries (the exact look-around construction)
    (r"(?!.*--)[a-z-]+\b", ["abc-def", "x"]),
    (r"(?=\d{3})\w{3,5}(?<!0)", ["123ab", "999"]),
]


@functools.lru_cache(maxsize=None)
def _oracle(name):
    return DfaOracle(get_vocab(name))


def _dfa_state(aut, data: bytes) -> int:
    s = int(aut.rule_start[aut.start_rule])
    for b in data:
        s = int(aut.trans[s, b])
        assert s >= 0
    return s


@pytest.mark.parametrize("name", TOKENIZER_NAMES)
def test_masks_exact_while_teacher_forcing(name):
    tok = get_tokenizer(name)
    vocab = get_vocab(name)
    oracle = _oracle(name)
    bm = np.zeros((1, (vocab.vocab_size + 31) // 32), np.int32)
    for pattern, examples in REGEXES:
        comp = compile_regex(pattern, vocab)
        aut = comp.automaton
        assert aut.n_rules == 1 and aut.call_rule.shape[0] == 0
        for text in examples:
            assert re.fullmatch(pattern, text)
            ids = tok.encode(text, add_special_tokens=False)
            data = vocab.decode(ids)
            if vocab.add_prefix_space and data[:1] == b" " and not text.startswith(" "):
                data = data[1:]
                ids = _strip_prefix_space(vocab, ids)
                if ids is None:  # no single token holds the first token's bytes minus the space
                    continue
            assert data == text.encode()
            m = Matcher(comp)
            prefix = b""
            for t in ids + [None]:
                m.fill_next_token_bitmask(bm)
                got = bitmask_to_set(bm[0], vocab.vocab_size)
                state = _dfa_state(aut, prefix)
                want = oracle.allowed(aut.trans, state)
                if aut.accept[state]:
                    want |= {s for s in vocab.stop_ids if s < vocab.vocab_size}
                assert got == want, (pattern, text, prefix, sorted(got ^ want)[:10])
                if t is None:
                    break
                assert m.advance(t), (pattern, text, t)
                prefix += vocab.token_bytes[t]
            assert m.can_stop()
            assert m.advance(vocab.stop_ids[0]) and m.is_terminated()


def _strip_prefix_space(vocab, ids):
    """Re-tokenize without the tokenizer's dummy-prefix space: drop it from the first token."""
    first = vocab.token_bytes[ids[0]][1:]
    if not first:
        return ids[1:]
    match = [i for i, b in enumerate(vocab.token_bytes) if b == first and i not in vocab.stop_ids]
    return [match[0]] + ids[1:] if match else None


def _byte_tokens(vocab, data: bytes) -> list[int]:
    """A non-canonical tokenization: one token per byte (all five vocabularies have byte tokens)."""
    index = {}
    special = set(vocab.special_ids) | set(vocab.stop_ids)
    for i, b in enumerate(vocab.token_bytes):
        if len(b) == 1 and i not in special and i < vocab.vocab_size:
            index.setdefault(b, i)
    return [index[bytes([x])] for x in data]


PATTERN_ALPHABET = st.sampled_from(list("abc01-_.@é日😀 \"\\x"))


@pytest.mark.parametrize("name", ["llama3", "llama2"])
@settings(max_examples=60, deadline=None)
@given(text=st.text(PATTERN_ALPHABET, max_size=12), which=st.integers(0, len(REGEXES) - 1))
def test_accepts_iff_fullmatch(name, text, which):
    tok = get_tokenizer(name)
    vocab = get_vocab(name)
    pattern = REGEXES[which][0]
    comp = compile_regex(pattern, vocab)
    expected = re.fullmatch(pattern, text) is not None
    data = text.encode()
    for ids in (_byte_tokens(vocab, data), _canonical(tok, vocab, text)):
        if ids is None:
            continue
        m = Matcher(comp)
        ok = m.advance_many(ids) == len(ids) and m.can_stop()
        assert ok == expected, (pattern, text, ids)
        if expected:
            assert m.validate_tokens([vocab.stop_ids[0]]) == 1


def _canonical(tok, vocab, text):
    ids = tok.encode(text, add_special_tokens=False)
    data = vocab.decode(ids)
    if data == text.encode():
        return ids
    if vocab.add_prefix_space and data == b" " + text.encode() and ids:
        return _strip_prefix_space(vocab, ids)
    return None
