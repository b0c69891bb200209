"""Regex (re.search semantics) → decoded languages, and the automaton algebra, against brute force."""
from __future__ import annotations

import random
import re

import pytest

from structgen.json_schema import charsets as cs
from structgen.json_schema import fsa
from structgen.json_schema import lang as L
from structgen.json_schema.pyregex import (PatternInvalid, PatternUnsupported, parse, search_language,
                                          search_language_python)

PATTERNS = [
    r"^[a-z]+$", r"abc", r"^a|b$", r"(?i)^ab+c$", r"\d{2,3}", r"^(a|b)*c$", r"x$", r"(^|,)x", r"^$",
    r"(?m)^a$", r"[^a-c]\w", r"a.b", r"(?s)a.b", r"^\s*$", r"^(?:[0-9]{3})?-?[A-F]+\Z", r"", r"^",
    r"$", r"\Aab", r"(?i)[^k]", r"é+", r"^[\u00e0-\u00ff]{2}$", r"a{0}", r"(ab|a)(c|bcd)$", r"^\W+",
    r"(?x) a  b  # comment", r"[\d\s]x", r"^.{2,4}$",
    # end-of-string anchors inside groups and repetitions
    r"(?:a$)+", r"(a($|,))*", r"^(ab|c$){2,3}", r"(x|$)(c|$)", r"a(b$|c)k?", r"(?:\d$|k){0,2}é",
]
ALPHABET = "abcxkKABC,-\n 0123é\u212a\u0660"


def _re_search(pattern: str, s: str) -> bool:
    """re.search, with "$" (non-MULTILINE) meaning the end of the string as structgen reads it
    (every "$" in PATTERNS is an anchor)."""
    if "(?m)" not in pattern:
        pattern = pattern.replace("$", r"\Z")
    return re.search(pattern, s) is not None


def _strings(rng: random.Random, n: int):
    for _ in range(n):
        yield "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 6)))


@pytest.mark.parametrize("pattern", PATTERNS)
def test_search_language_matches_re_search(pattern):
    d = fsa.from_lang(search_language(pattern))
    rng = random.Random(hash(pattern) & 0xFFFF)
    for s in _strings(rng, 1500):
        assert d.accepts([ord(c) for c in s]) == _re_search(pattern, s), (pattern, s)


PYTHON_DOLLAR_PATTERNS = [r"^a$", r"^[0-9a-zA-Z_-]{1,255}$", r"a$\n", r"(a$)+", r"x(a$|b)c?", r"a\Z|b$", r"$",
                          r"^a(?=b)|c$", r"(?i)^k$", r"(?m)^a$"]


@pytest.mark.parametrize("pattern", PATTERNS + PYTHON_DOLLAR_PATTERNS)
def test_python_search_language_is_re_search_exactly(pattern):
    """The language for negated uses: ``re.search`` itself, ``$`` before a final newline included."""
    d = fsa.from_lang(search_language_python(pattern))
    rng = random.Random(hash(pattern) & 0xFFFF)
    for s in [*_strings(rng, 1500), "a\n", "k\n", "ab\n", "\n", "c\n\n", "xa\n", "xa\nc"]:
        assert d.accepts([ord(c) for c in s]) == (re.search(pattern, s) is not None), (pattern, s)


@pytest.mark.parametrize("pattern", PATTERNS[:12])
def test_state_elimination_round_trip(pattern):
    d = fsa.from_lang(search_language(pattern))
    back = fsa.from_lang(fsa.to_lang(d))
    rng = random.Random(7)
    for s in _strings(rng, 500):
        w = [ord(c) for c in s]
        assert d.accepts(w) == back.accepts(w)


def test_generated_regex_text_compiles_to_same_language():
    for pattern in PATTERNS:
        x = search_language(pattern)
        rx = re.compile(L.to_regex(x), re.DOTALL)
        rng = random.Random(3)
        for s in _strings(rng, 300):
            assert (rx.fullmatch(s) is not None) == _re_search(pattern, s), (pattern, s)


@pytest.mark.parametrize("pattern,what", [
    (r"(a)\1", "back-reference"), (r"(?m)(?:a$)+", "MULTILINE"), (r"(?m)(?=a)^b", "MULTILINE"),
    (r"(?>ab)c", "construct"), (r"a*+b", "construct"),
])
def test_unsupported_constructs(pattern, what):
    # look-arounds, \b and misplaced start anchors are exact (test_lookaround.py); these are not
    with pytest.raises(PatternUnsupported, match=what):
        search_language(pattern)


def test_invalid_pattern():
    with pytest.raises(PatternInvalid):
        parse("(abc")
    with pytest.raises(PatternInvalid):
        search_language_python("(abc$")


@pytest.mark.parametrize("pattern", [r"(a)\1$", r"(?>ab)$"])
def test_python_dollar_language_refuses_what_it_cannot_compile(pattern):
    """The negated-use language raises the same specific error as the positive one."""
    with pytest.raises(PatternUnsupported):
        search_language_python(pattern)


def test_unicode_classes_follow_re():
    x = parse(r"\d")
    assert isinstance(x, L.Chars)
    assert cs.contains(x.ranges, 0x0660)  # ARABIC-INDIC DIGIT ZERO is \d for str patterns
    assert not cs.contains(parse(r"(?a)\d").ranges, 0x0660)
    # case-insensitive 'k' also matches KELVIN SIGN, as re does
    assert cs.contains(parse(r"(?i)k").ranges, 0x212A)


def test_boolean_algebra():
    a = fsa.from_lang(search_language(r"^[a-c]+$"))
    b = fsa.from_lang(search_language(r"b"))
    inter = fsa.product(a, b, "and")
    union = fsa.product(a, b, "or")
    diff = fsa.product(a, b, "diff")
    comp = fsa.complement(a)
    rng = random.Random(11)
    for s in _strings(rng, 1500):
        w = [ord(c) for c in s]
        x, y = a.accepts(w), b.accepts(w)
        assert inter.accepts(w) == (x and y)
        assert union.accepts(w) == (x or y)
        assert diff.accepts(w) == (x and not y)
        assert comp.accepts(w) == (not x)


def test_to_lang_budget():
    d = fsa.from_lang(parse(r"[ab]*a[ab]{6}"))  # 2**7 states, no small expression
    with pytest.raises(fsa.AutomatonTooLarge):
        fsa.to_lang(d, budget=50)


def test_from_lang_budget():
    with pytest.raises(fsa.AutomatonTooLarge):
        fsa.from_lang(parse(r"[ab]*a[ab]{14}"), budget=1000)


@pytest.mark.parametrize("pattern", [r"^(\/?((\.{2})|([a-z0-9\-]*))($|\/))*$", r"^(a/|b$)+$", r"(\.$|/)x?"])
def test_end_anchors_inside_repetitions(pattern):
    d = fsa.from_lang(search_language(pattern))
    rng = random.Random(11)
    for _ in range(3000):
        s = "".join(rng.choice("ab./-0x") for _ in range(rng.randint(0, 7)))
        assert d.accepts([ord(c) for c in s]) == _re_search(pattern, s), (pattern, s)


def test_dollar_is_end_of_string():
    d = fsa.from_lang(search_language("^a$"))
    assert d.accepts([ord("a")]) and not d.accepts([ord("a"), 10])


def test_counter_dfa_fast_path_and_kernel_minimization_agree_with_the_generic_ones(monkeypatch):
    """``[c]{lo,hi}`` is built directly and large automata are minimized by the numba kernel;
    both give exactly the automaton the generic construction / Moore refinement gives."""
    import itertools
    import random
    import re as _re

    from structgen.json_schema import fsa
    from structgen.json_schema import lang as L
    from structgen.json_schema.pyregex import parse

    for lo, hi in [(0, 0), (0, 3), (2, 5), (3, None), (0, None), (4, 4)]:
        x = L.Rep(L.Chars(((97, 99),)), lo, hi)
        fast = fsa.from_lang(x)
        generic = fsa.from_lang(L.Cat((x, L.Rep(L.Chars(((97, 99),)), 0, 0))))
        assert (fast.trans, fast.accept) == (generic.trans, generic.accept)
        for n in range(8):
            for w in itertools.product([97, 98, 100], repeat=n):
                assert fast.accepts(list(w)) == (100 not in w and n >= lo and (hi is None or n <= hi))
    rng = random.Random(3)
    parts = ["a", "b", "[a-c]", "\\d", "(?:ab|c)", "."]
    for _ in range(60):
        rx = "".join(rng.choice(parts) + rng.choice(["", "*", "?", "{1,4}"]) for _ in range(rng.randint(1, 5)))
        lang = parse(rx, _re.DOTALL)
        monkeypatch.setattr(fsa, "_KERNEL_MINIMIZE_FROM", 10**9)
        a = fsa.from_lang(lang)
        monkeypatch.setattr(fsa, "_KERNEL_MINIMIZE_FROM", 0)
        b = fsa.from_lang(lang)
        assert (a.trans, a.accept, a.atoms) == (b.trans, b.accept, b.atoms), rx


def test_format_with_a_large_max_length_is_exact_or_falls_back_quickly_to_a_sound_subset():
    """email + maxLength 1024: the product (past the expression write-back limit) is encoded as
    an automaton, exactly; with maxLength 3000 it is past the automaton limits and the capped
    subset is used (with a warning) — this used to take ~10 s of failing products and expression
    conversions."""
    import warnings

    from structgen.json_schema.api import schema_to_ir
    from structgen.cfg.compiler import compile_grammar_automaton
    from .helpers import accepts

    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        g = schema_to_ir({"type": "string", "format": "email", "maxLength": 1024})
    assert not w
    aut = compile_grammar_automaton(g)
    assert accepts(aut, '"ann@example.com"') and not accepts(aut, '"not an email"')
    assert accepts(aut, '"' + "a" * 1012 + '@example.com"')          # 1024 characters
    assert not accepts(aut, '"' + "a" * 1013 + '@example.com"')
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        g = schema_to_ir({"type": "string", "format": "email", "maxLength": 3000})
    assert any("accepted as a subset" in str(x.message) for x in w)
    aut = compile_grammar_automaton(g)
    assert accepts(aut, '"ann@example.com"') and not accepts(aut, '"not an email"')
