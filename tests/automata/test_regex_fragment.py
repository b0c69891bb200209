"""regex_fragment: the cached regex → RangeAutomaton path used by the grammar compiler, with its
direct construction of plain character classes (no parse, no subset construction)."""
from __future__ import annotations

import random
import re

import pytest

from structgen.automata import charset as cs
from structgen.automata.regex import compile_regex_dfa, regex_fragment, simple_class_ranges
from structgen.automata.regex_parser import Chars, parse_regex
from structgen.errors import RegexError


def _random_class(rng: random.Random) -> str:
    """A class in the generated form (``charsets.class_regex``): atoms and ranges, hex escapes."""
    def atom(cp: int) -> str:
        c = chr(cp)
        if c.isascii() and c.isalnum():
            return c
        if cp < 0x100:
            return f"\\x{cp:02x}"
        return f"\\u{cp:04x}" if cp < 0x10000 else f"\\U{cp:08x}"

    pools = [(0x20, 0x7E), (0x80, 0x7FF), (0x800, 0xFFFF), (0x10000, 0x10FFFF), (0xD7F0, 0xE010)]
    items = []
    for _ in range(rng.randint(1, 5)):
        lo_pool, hi_pool = rng.choice(pools)
        a = rng.randint(lo_pool, hi_pool)
        b = min(hi_pool, a + rng.choice([0, 1, 5, 300, 70000]))
        items.append(atom(a) if a == b else f"{atom(a)}-{atom(b)}")
    return "[" + "".join(items) + "]"


SAMPLES = [
    "a", "Z", "7", r"\x20", r"\u00e9", r"\U0001f600", "[a]", "[a-z]", "[a-zA-Z0-9]",
    r"[\x20\x21\x23-\x5b\x5d-\ud7ff\ue000-\U0010ffff]", r"[\x20\x21\x23-\x5b\x5d-km-qt-vx-\ud7ff\ue000-\U0010ffff]",
    r"[\ud800-\udfff]", r"[\ud7ff-\ue000]", r"[0-9a-fA-F]",
]


def _same_language(pattern: str) -> None:
    frag = regex_fragment(pattern)
    ref = compile_regex_dfa(pattern).range_automaton
    assert frag.n_states == ref.n_states  # both minimal
    probes = {chr(c).encode("utf-8", "surrogatepass") for c in range(0, 0x300)}
    probes |= {chr(c).encode() for c in (0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF)}
    probes |= {b"", b"ab", b"\xed\xa0\x80", b"\xc0\x80", b"\xf4\x90\x80\x80"}
    for data in probes:
        assert frag.accepts(data) == ref.accepts(data), (pattern, data)


@pytest.mark.parametrize("pattern", SAMPLES)
def test_simple_classes_match_the_general_path(pattern):
    ranges = simple_class_ranges(pattern)
    assert ranges is not None
    node = parse_regex(pattern)
    assert isinstance(node, Chars) and node.ranges == ranges
    _same_language(pattern)


def test_random_generated_classes_match_re():
    rng = random.Random(5)
    for _ in range(200):
        pattern = _random_class(rng)
        ranges = simple_class_ranges(pattern)
        node = parse_regex(pattern)
        assert isinstance(node, Chars) and ranges == node.ranges, pattern
        frag = regex_fragment(pattern)
        rx = re.compile(pattern)
        for _ in range(30):
            lo, hi = rng.choice(ranges) if rng.random() < 0.7 else (0, cs.MAX_CODE_POINT)
            cp = rng.randint(lo, hi)
            if 0xD800 <= cp <= 0xDFFF:
                continue
            assert frag.accepts(chr(cp).encode()) == bool(rx.fullmatch(chr(cp))), (pattern, hex(cp))


@pytest.mark.parametrize("pattern,flags", [
    ("[^a]", 0), ("[a-]", 0), ("[-a]", 0), ("[a-b-c]", 0), (r"\d", 0), ("[a]", re.IGNORECASE), ("ab", 0),
    ("[]", 0), (".", 0), (r"[\x41-\x5a]*", 0), (r"[\w]", 0), ("[ ]", 0),
])
def test_other_patterns_take_the_general_path(pattern, flags):
    assert simple_class_ranges(pattern, flags) is None


@pytest.mark.parametrize("pattern", ["[z-a]", r"[\U00110000]", r"\U00110000"])
def test_invalid_classes_still_raise(pattern):
    assert simple_class_ranges(pattern) is None
    with pytest.raises(RegexError):
        regex_fragment(pattern)


def test_ignorecase_class_is_not_taken_literally():
    frag = regex_fragment("[a]", re.IGNORECASE)
    assert frag.accepts(b"A") and frag.accepts(b"a")
    assert not regex_fragment("[a]").accepts(b"A")


def test_ascii_charset_automaton_is_the_canonical_minimal_dfa():
    rng = random.Random(11)
    for _ in range(100):
        ranges = cs.normalize((a, min(0x7F, a + rng.randint(0, 9))) for a in
                              (rng.randint(0, 0x7F) for _ in range(rng.randint(1, 4))))
        pattern = "[" + "".join(f"\\x{lo:02x}-\\x{hi:02x}" for lo, hi in ranges) + "]"
        assert cs.charset_automaton(ranges) == compile_regex_dfa(pattern).range_automaton, pattern
