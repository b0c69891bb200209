"""Rows are shared across grammars by rule fingerprint; that sharing must never change a mask."""
from __future__ import annotations

import numpy as np

from structgen.cfg.ir import Grammar, Literal, Ref, Regex, Repeat, Seq
from structgen.runtime.compiled import compile_grammar
from structgen.runtime.matcher import Matcher
from structgen.vocab import Vocabulary

from .oracle import bitmask_to_set, reference_allowed

PIECES = [b"[", b"]", b"b", b'"', b'",', b'"]', b'"a', b"a", b"ab", b",", b'","', b'"],', b"]]"]
STRING = Regex(r'"[a-z]*"')


def _walk(comp, vocab, text: bytes):
    """Feed ``text`` piece by piece (greedy over PIECES), checking every mask against the oracle."""
    m = Matcher(comp)
    bm = np.zeros((1, comp.words), np.int32)
    prefix = b""
    while True:
        m.fill_next_token_bitmask(bm)
        assert bitmask_to_set(bm[0], vocab.vocab_size) == reference_allowed(comp.automaton, vocab, prefix), prefix
        if prefix == text:
            return
        t = max((i for i, b in enumerate(vocab.token_bytes) if b and text[len(prefix):].startswith(b)),
                key=lambda i: len(vocab.token_bytes[i]))
        assert m.advance(t)
        prefix += vocab.token_bytes[t]


def test_same_rule_different_follow_sets_do_not_share_suffix_tries():
    vocab = Vocabulary.from_token_bytes([b""] + PIECES, stop_ids=[0])
    # In A the string is only ever followed by "]"; in B also by ",".
    a = Grammar({"start": Seq((Literal("["), Ref("str"), Literal("]"))), "str": STRING}, name="A")
    b = Grammar({"start": Seq((Literal("["), Ref("str"), Repeat(Seq((Literal(","), Ref("str")))), Literal("]"))),
                 "str": STRING}, name="B")
    ca, cb = compile_grammar(a, vocab), compile_grammar(b, vocab)
    sa = ca.automaton.rule_names.index("str")
    sb = cb.automaton.rule_names.index("str")
    assert ca.automaton.rule_fingerprint[sa] == cb.automaton.rule_fingerprint[sb]  # the row cache is shared
    _walk(ca, vocab, b'["ab"]')
    _walk(cb, vocab, b'["ab","a"]')  # '",' must stay allowed inside B's strings


def test_compiled_grammar_caches_are_bounded_by_bytes(tmp_path):
    """``evict_compiled``: least recently used grammars go once their automata and computed rows
    exceed the byte budget; the most recent one always stays, and rows computed later count."""
    from collections import OrderedDict

    from structgen.runtime.compiled import evict_compiled

    vocab = Vocabulary.from_token_bytes(PIECES, stop_ids=())
    grammars = [compile_grammar(Grammar.single(Regex(f"[a-z]{{{k}}}")), vocab) for k in range(1, 5)]
    cache = OrderedDict((i, g) for i, g in enumerate(grammars))
    before = [g.nbytes for g in grammars]
    Matcher(grammars[3]).fill_next_token_bitmask(np.zeros((1, grammars[3].words), np.int32))
    assert grammars[3].nbytes > before[3]  # a row was computed
    evict_compiled(cache, max_entries=10, max_bytes=grammars[2].nbytes + grammars[3].nbytes)
    assert list(cache) == [2, 3]
    evict_compiled(cache, max_entries=10, max_bytes=0)
    assert list(cache) == [3]
    cache[4] = grammars[0]
    evict_compiled(cache, max_entries=1, max_bytes=1 << 40)
    assert list(cache) == [4]
