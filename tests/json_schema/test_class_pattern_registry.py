"""Class regexes written by ``charsets.class_regex`` are registered with their code point sets so
the grammar compiler skips parsing them: the registered set must be exactly what parsing gives,
and the automaton the same either way."""
from __future__ import annotations

import random

from structgen.automata import charset as base
from structgen.automata import regex as R
from structgen.json_schema import charsets as cs


def _random_sets(n: int, seed: int):
    rng = random.Random(seed)
    for _ in range(n):
        pts = sorted(set(rng.sample(range(0, 0x300), rng.randint(1, 12))
                         + rng.sample(range(0x300, 0x110000), rng.randint(0, 4))))
        yield cs.normalize((pts[i], pts[i + 1] if i + 1 < len(pts) and rng.random() < 0.6 else pts[i])
                           for i in range(0, len(pts), 2))


def test_registered_set_equals_the_parsed_one():
    for ranges in _random_sets(2000, 0):
        pattern = cs.class_regex(ranges)
        assert R._KNOWN_CLASSES[pattern] == ranges
        assert R.simple_class_ranges(pattern) == ranges, pattern


def test_fragment_is_the_same_with_and_without_the_registry():
    for ranges in _random_sets(200, 1):
        pattern = cs.class_regex(ranges)
        via_registry = R.regex_fragment.__wrapped__(pattern)
        saved = R._KNOWN_CLASSES.pop(pattern)
        try:
            assert R.regex_fragment.__wrapped__(pattern) == via_registry
        finally:
            R._KNOWN_CLASSES[pattern] = saved
        assert via_registry == base.charset_automaton(ranges)


def test_ranges_that_are_not_normalized_are_not_registered():
    R.register_class_pattern("[ab]#test", ((0x61, 0x61), (0x62, 0x62)))  # adjacent: not normalized
    R.register_class_pattern("[ba]#test", ((0x62, 0x62), (0x61, 0x61)))  # unsorted
    assert "[ab]#test" not in R._KNOWN_CLASSES and "[ba]#test" not in R._KNOWN_CLASSES
