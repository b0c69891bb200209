"""Performance-motivated forms of two string languages must not change what they accept:
``encode_set`` (large sets as an alternation of pieces) and ``not_in_lang`` (factored trie
complement)."""
from __future__ import annotations

import random
import re

import pytest

from structgen.cfg.compiler import compile_grammar_automaton
from structgen.cfg.ir import Grammar, Regex
from structgen.json_schema import charsets as cs
from structgen.json_schema import lang as L
from structgen.json_schema.encoding import encode_set, encode_set_regex
from structgen.json_schema.strings import not_in_lang


def _random_set(rng: random.Random) -> cs.Ranges:
    pools = [(0, 0x7F), (0x80, 0x7FF), (0x800, 0xFFFF), (0x10000, 0x10FFFF)]
    parts = []
    for _ in range(rng.randint(1, 12)):
        lo_p, hi_p = rng.choice(pools)
        a = rng.randint(lo_p, hi_p)
        parts.append((a, min(hi_p, a + rng.choice([0, 0, 1, 7, 300, 5000]))))
    return cs.normalize(parts)


@pytest.mark.parametrize("seed", range(6))
def test_encode_set_has_the_language_of_its_regex(seed):
    rng = random.Random(seed)
    sets = [_random_set(rng) for _ in range(8)]
    sets.append(cs.subtract(cs.UNIVERSE, cs.of_chars("abcxyz_0")))  # typical "any other key character"
    for ranges in sets:
        expr = encode_set(ranges)
        one = compile_grammar_automaton(Grammar.single(Regex(encode_set_regex(ranges))))
        pieces = compile_grammar_automaton(Grammar.single(expr))
        # minimal canonical automata: equal iff the languages are equal
        assert one.fingerprint == pieces.fingerprint, ranges


def test_large_sets_are_split_into_few_pieces():
    ranges = cs.subtract(cs.UNIVERSE, cs.of_chars("abcdefghijklmnopqrstuvwxyz"))
    expr = encode_set(ranges)
    assert not isinstance(expr, Regex)
    small = encode_set(cs.of_chars("a"))
    assert isinstance(small, Regex)


@pytest.mark.parametrize("seed", range(4))
def test_not_in_lang_is_the_complement_of_the_words(seed):
    rng = random.Random(seed)
    alphabet = "ab\u00e9\U0001f600"
    for _ in range(120):
        words = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 3))) for _ in range(rng.randint(0, 5))]
        rx = re.compile(L.to_regex(not_in_lang(words)), re.DOTALL)
        probes = set(words) | {"".join(rng.choice(alphabet + "xz") for _ in range(rng.randint(0, 5)))
                               for _ in range(40)}
        for s in probes:
            assert (rx.fullmatch(s) is not None) == (s not in words), (words, s)
