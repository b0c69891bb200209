"""Masks along long strings (maxLength past the inline part: a tail rule of chunk rules) equal the
brute-force answer of ``is_allowed`` for every token, around every rule boundary.

Rows there come from vocabulary slices even though the states pass accepting states or reach
call edges (``MaskStore.plain_reach``, ``_crosses_plainly``, ``_plain_through_call``); these
tests check the masks those rows make, in the contexts the chunks are called from.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from structgen.json_schema import compile_json_schema, irtools
from structgen.runtime.masks import clear_shared_rows
from structgen.runtime.matcher import Matcher
from tests.conftest import get_vocab

from .oracle import bitmask_to_set

WORDS = "the quick brown fox jumps over the lazy dog, naïve café 😀 \\n tab\\t \\u00e9\\u00E9 q\\\"x "


def _content(n_chars: int) -> str:
    """JSON string content (escapes kept) of exactly ``n_chars`` decoded characters."""
    out, n, i = [], 0, 0
    while n < n_chars:
        w = WORDS[i % len(WORDS)]
        if w == "\\":  # take the whole escape
            j = i % len(WORDS)
            esc = WORDS[j:j + 6] if WORDS[j + 1] == "u" else WORDS[j:j + 2]
            out.append(esc)
            i += len(esc)
        else:
            out.append(w)
            i += 1
        n += 1
    return "".join(out)


def _windows(hi: int, lo: int) -> list[tuple[int, int]]:
    """Character ranges just before and after each rule boundary of a string of at most ``hi``
    characters: the end of the inline part, chunk ends, the inline last chunk, the maximum."""
    L = irtools.TERMINAL_CHUNK_THRESHOLD
    k = max(irtools.TAIL_MIN_CHUNK, int(np.sqrt(hi - L)))
    edges = [L, L + k, L + 2 * k, hi - 1]
    if lo > L:
        edges.append(lo)
    return [(max(0, e - 40), e + 3) for e in edges]


@pytest.mark.parametrize("tokenizer", ["gpt2", "llama2"])
@pytest.mark.parametrize("hi,lo", [(1700, 0), (3000, 1300)])
def test_long_string_masks_equal_brute_force(tokenizer, hi, lo):
    clear_shared_rows()
    vocab = get_vocab(tokenizer)
    schema = {"type": "object", "properties": {"d": {"type": "string", "maxLength": hi, "minLength": lo},
                                               "e": {"type": "integer"}}, "required": ["d"]}
    cg = compile_json_schema(schema, vocab)
    text = '{"d": "' + _content(hi) + '", "e": 1}'
    assert len(json.loads(text)["d"]) == hi
    # a greedy longest-match tokenization of the text (any tokenization is valid input)
    by_bytes = {}
    for t in range(vocab.n_tokens):
        b = vocab.token_bytes[t]
        if b and t not in vocab.special_ids:
            by_bytes.setdefault(b, t)
    longest = max(len(b) for b in by_bytes)
    data = text.encode()
    toks, pos, starts = [], 0, []
    while pos < len(data):
        for n in range(min(longest, len(data) - pos), 0, -1):
            t = by_bytes.get(data[pos:pos + n])
            if t is not None:
                break
        toks.append(t)
        starts.append(pos)
        pos += n
    head = len('{"d": "')
    chars_at = [len(data[head:p].decode("utf-8", "replace")) if p > head else -1 for p in starts]
    windows = _windows(hi, lo)
    m = Matcher(cg)
    bitmask = np.zeros((1, (vocab.vocab_size + 31) // 32), np.int32)
    checked = 0
    for i, t in enumerate(toks):
        c = chars_at[i]
        if any(a <= c <= b for a, b in windows) and i % 2 == 0:
            m.fill_next_token_bitmask(bitmask, 0)
            got = bitmask_to_set(bitmask[0], vocab.vocab_size)
            want = {u for u in range(vocab.vocab_size) if m.is_allowed(u)}
            assert got == want, (c, sorted(got ^ want)[:10])
            checked += 1
        assert m.advance(t), (i, c)
    assert m.can_stop() and checked >= 40


LARK_CASES = [
    # a rule whose plain chain passes accepting states, followed by a plain byte: its callers do
    # not absorb plain text, so tokens running past its end must not be taken as allowed
    r'''start: w ";" w2
w: /[^"\\\x00-\x1f]{2,40}/
w2: /[a-z]{1,3}/''',
    # a chain into a call whose callee absorbs only two characters
    r'''start: /[^"\\\x00-\x1f]{5}/ item "\""
item: /[^"\\\x00-\x1f]{1,2}/''',
    # the same callee after a long chain, and a tail followed by a quote only
    r'''start: "<" /[^"\\\x00-\x1f]{30}/ item "\"" tail "\""
item: /[^"\\\x00-\x1f]{1,2}/
tail: /[^"\\\x00-\x1f]{0,60}/''',
]


@pytest.mark.parametrize("grammar", LARK_CASES, ids=["follow_plain", "short_callee", "chain_and_tail"])
def test_slice_rows_respect_what_follows_the_rule(grammar):
    from structgen.cfg.lark_frontend import compile_lark

    clear_shared_rows()
    vocab = get_vocab("gpt2")
    cg = compile_lark(grammar, vocab)
    rng = np.random.default_rng(7)
    bitmask = np.zeros((1, (vocab.vocab_size + 31) // 32), np.int32)
    for _ in range(6):  # random walks through allowed tokens, checking every mask
        m = Matcher(cg)
        for _ in range(12):
            m.fill_next_token_bitmask(bitmask, 0)
            got = bitmask_to_set(bitmask[0], vocab.vocab_size)
            want = {u for u in range(vocab.vocab_size) if m.is_allowed(u)}
            assert got == want, sorted(got ^ want)[:10]
            choices = sorted(got - set(int(t) for t in vocab.stop_ids))
            if not choices:
                break
            assert m.advance(int(rng.choice(choices)))
