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
