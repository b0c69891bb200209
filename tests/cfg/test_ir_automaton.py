"""The ``Automaton`` IR terminal: a byte DFA given directly (language, equality, errors)."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from structgen.cfg.compiler import compile_grammar_automaton
from structgen.cfg.ir import Automaton, Grammar, Literal, Ref, Regex, Repeat, Seq, alt
from structgen.errors import GrammarError
from structgen.runtime import reference


def _dfa(edges: dict[int, dict[bytes, int]], accept: list[int]) -> Automaton:
    table = np.full((len(accept), 256), -1, np.int32)
    for s, out in edges.items():
        for bs, t in out.items():
            for b in bs:
                table[s, b] = t
    return Automaton(table.tobytes(), bytes(accept))


#: binary numerals with an even number of 1s (start 0 = even, accepting; 1 = odd)
EVEN_ONES = _dfa({0: {b"0": 0, b"1": 1}, 1: {b"0": 1, b"1": 0}}, [1, 0])


def test_language_matches_an_equivalent_regex():
    g_auto = Grammar.single(EVEN_ONES)
    g_rx = Grammar.single(Regex("0*(?:10*10*)*"))
    a, b = compile_grammar_automaton(g_auto), compile_grammar_automaton(g_rx)
    assert a.rule_fingerprint[0] == b.rule_fingerprint[0]  # same minimized automaton
    for word, ok in [(b"", True), (b"0", True), (b"1", False), (b"11", True), (b"1011", False), (b"0110", True)]:
        assert reference.accepts(a, word) is ok


def test_inside_sequences_repetitions_and_calls():
    g = Grammar({"start": Seq((Literal("<"), Repeat(Ref("n"), 1, 2), Literal(">"))),
                 "n": alt(EVEN_ONES, Literal("x"))})
    aut = compile_grammar_automaton(g)
    assert reference.accepts(aut, b"<11>")
    assert reference.accepts(aut, b"<>") is True      # EVEN_ONES accepts the empty string
    assert reference.accepts(aut, b"<1x>") is False
    assert reference.accepts(aut, b"<11x>")
    assert reference.accepts(aut, b"<x11x>") is False  # at most two repetitions


def test_equality_hash_and_pickle_are_by_content():
    twin = _dfa({0: {b"0": 0, b"1": 1}, 1: {b"0": 1, b"1": 0}}, [1, 0])
    assert twin == EVEN_ONES and hash(twin) == hash(EVEN_ONES) and twin is not EVEN_ONES
    other = _dfa({0: {b"0": 0, b"1": 1}, 1: {b"0": 1, b"1": 0}}, [0, 1])
    assert other != EVEN_ONES
    back = pickle.loads(pickle.dumps(EVEN_ONES))
    assert back == EVEN_ONES and back.n_states == 2
    with pytest.raises(AttributeError):
        EVEN_ONES.accept = b"\x00\x00"


@pytest.mark.parametrize("table, accept, message", [
    (np.full((2, 256), -1, np.int32).tobytes()[:-4], b"\x01\x00", "needs n×256"),
    (np.full((1, 256), 5, np.int32).tobytes(), b"\x01", "outside 0..0"),
    (np.full((1, 256), -2, np.int32).tobytes(), b"\x01", "outside 0..0"),
    (b"", b"", "needs n×256"),
])
def test_malformed_tables_are_rejected_naming_the_rule(table, accept, message):
    with pytest.raises(GrammarError, match=message) as e:
        compile_grammar_automaton(Grammar({"start": Seq((Literal("a"), Ref("bad"))), "bad": Automaton(table, accept)}))
    assert "'bad'" in str(e.value)
