"""Code point sets, re-derived class tables, UTF-8 range splitting."""
from __future__ import annotations

import re

import numpy as np
import pytest

from structgen.automata import charset as cs


def _encodings(lo, hi):
    return {chr(c).encode() for c in range(lo, hi + 1) if not 0xD800 <= c <= 0xDFFF}


def _expand(seq):
    out = {b""}
    for lo, hi in seq:
        out = {p + bytes([b]) for p in out for b in range(lo, hi + 1)}
    return out


@pytest.mark.parametrize("lo,hi", [(0, 0x7F), (0x41, 0x5A), (0x7F, 0x80), (0x7FF, 0x801), (0x800, 0xFFFF),
                                   (0xD7FF, 0xE000), (0xD800, 0xDFFF), (0xFFFE, 0x10010), (0x3B1, 0x3C9),
                                   (0x1F600, 0x1F64F), (0x10FFF0, 0x10FFFF), (0x123, 0x2345)])
def test_utf8_sequences_exact(lo, hi):
    seqs = cs.utf8_sequences(lo, hi)
    got = set()
    for seq in seqs:
        strings = _expand(seq)
        assert not strings & got, "sequences overlap"
        got |= strings
        # a multi-byte range is followed only by full continuation ranges
        for i, (a, b) in enumerate(seq[:-1]):
            if a != b:
                assert all(r == (0x80, 0xBF) for r in seq[i + 1:])
    assert got == _encodings(lo, hi)


def test_set_algebra():
    a = cs.normalize([(5, 10), (1, 3), (4, 4), (20, 30)])
    assert a == ((1, 10), (20, 30))
    assert cs.complement(a) == ((0, 0), (11, 19), (31, cs.MAX_CODE_POINT))
    assert cs.intersection(a, ((8, 25),)) == ((8, 10), (20, 25))
    assert cs.difference(a, ((2, 21),)) == ((1, 1), (22, 30))
    assert cs.union(a, ((11, 19),)) == ((1, 30),)
    assert cs.contains(a, 25) and not cs.contains(a, 15)


@pytest.mark.parametrize("category,pattern", [("CATEGORY_DIGIT", r"\d"), ("CATEGORY_WORD", r"\w"),
                                              ("CATEGORY_SPACE", r"\s"), ("CATEGORY_NOT_WORD", r"\W")])
@pytest.mark.parametrize("ascii_only", [False, True])
def test_category_tables_agree_with_re(category, pattern, ascii_only):
    ranges = cs.category_ranges(category, ascii_only)
    rx = re.compile(pattern, re.ASCII if ascii_only else 0)
    rng = np.random.default_rng(0)
    probe = list(range(0, 0x800)) + rng.integers(0, 0x110000, 5000).tolist()
    for c in probe:
        assert cs.contains(ranges, c) == (rx.fullmatch(chr(c)) is not None), hex(c)


@pytest.mark.parametrize("ranges", [((0x41, 0x41),), ((0, 0x10FFFF),), ((0, 9), (11, 0x10FFFF)),
                                    ((0x7FF, 0x801), (0xFFFE, 0x10001)), ((0xD000, 0xE100),)])
def test_charset_automaton_exact(ranges):
    a = cs.charset_automaton(ranges)
    rng = np.random.default_rng(1)
    for c in list(range(0, 0x900)) + list(range(0xCF00, 0xE200)) + rng.integers(0, 0x110000, 5000).tolist():
        if 0xD800 <= c <= 0xDFFF:
            continue
        assert a.accepts(chr(c).encode()) == cs.contains(ranges, c), hex(c)
    assert not a.accepts(b"\xed\xa0\x80")  # surrogate encodings excluded


def test_charset_automaton_is_minimal_for_any_char():
    # start, accept, 1 pending continuation, 2 pending, 3 pending, and the four restricted
    # second-byte states after E0 / ED / F0 / F4
    assert cs.charset_automaton(((0, 0x10FFFF),)).n_states == 9
    assert cs.charset_automaton(()).n_states == 0


def test_case_sensitive_points_cover_folds():
    text = cs.case_sensitive_code_points()
    pts = set(map(ord, text))
    for c in "aAßẞſ\u212ak\u0130ı\u01c5":
        assert ord(c) in pts
    assert ord("1") in pts  # ASCII is included wholesale
    assert 0x4E00 not in pts


def test_shared_multibyte_part_gives_the_same_automaton_as_the_full_trie():
    # sets mixing ASCII and non-ASCII ranges take the composed path; it must equal the trie
    # construction exactly (same canonical numbering)
    import random

    rng = random.Random(0)
    for _ in range(400):
        pts = sorted(rng.sample(range(0, 0x130), rng.randint(1, 6)) + rng.sample(range(0x80, 0x110000), rng.randint(0, 4)))
        rs = [(pts[j], pts[j + 1]) for j in range(0, len(pts) - 1, 2)]
        if rng.random() < 0.5:
            rs.append((rng.randint(0x80, 0x10FFFF), 0x10FFFF))
        r = cs.normalize(rs)
        assert cs.charset_automaton.__wrapped__(r) == cs._utf8_automaton.__wrapped__(r), r
