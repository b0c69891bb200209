"""Look-arounds, word boundaries and anchors anywhere (``lookaround.search_dfa``): exact against
``re.search`` by brute force, also through ``search_language`` and whole schemas."""
from __future__ import annotations

import itertools
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from structgen.errors import UnsupportedSchemaError
from structgen.json_schema import fsa
from structgen.json_schema.lookaround import search_dfa
from structgen.json_schema.pyregex import PatternInvalid, PatternUnsupported, search_language

from .helpers import accepts, assert_sound, automaton

PATTERNS = [
    r"^((?!mode)(?!Mode).)*$", r"^(?=.*[a-z])(?=.*\d).{3,}$", r"/^[0-9]{2}$/", r"(?<=a)b", r"(?<!a)b$",
    r"\bab\b", r"\Bb", r"^(?!.*://)(?=.{1,6}$)[a-z.:/]+$", r"(^|/)ab($|/)", r"^a(?=b(?!c))", r"x(?=a$)",
    r"(?:^|,)a(?:,|$)", r"^(?:(?:^[*]|[a-z])\.)*[a-z]$", r"a\b", r"^(?![0-9]*$)[a-z0-9]+$", r"(?=a)",
    r"(?!a)", r"a^b", r"$a", r"(?i)(?<=A)b", r"(?=(?=a)a)ab", r"(?!(?!a)b)", r"((?!ab).)*c",
    r"^([\da-z](?:(?!.*--)[\da-z-]*[\da-z])?)$", r"(?<=\d{2})x", r"(?<![a-c]b)c\B", r"(?a)\b0",
    r"^(?!tag|category)$", r"(?:^a)+b", r"\bword", r"(?=[^=]+$)(?!\s+$)(.|\n)+$", r"(?:a(?=b)|b(?!a))+$", r"é\b",
]


def _alphabet(pattern: str) -> str:
    lits = {ch for ch in pattern if ch.isalnum() or ch in "-./:=*, "}
    return "".join(sorted(lits | set("a0 -\né")))[:12]


def _expected(pattern: str, s: str) -> bool:
    # structgen reads a non-MULTILINE "$" as the end of the string (Python's also matches before a
    # final "\n"): strings ending in "\n" may only be missed, never wrongly accepted
    return re.search(pattern, s) is not None


def _check(pattern: str, d: fsa.DFA, strings) -> None:
    for s in strings:
        got = d.accepts([ord(c) for c in s])
        exp = _expected(pattern, s)
        if got and not exp:
            pytest.fail(f"{pattern!r} accepts {s!r}, re.search does not")
        if exp and not got and not s.endswith("\n"):
            pytest.fail(f"{pattern!r} rejects {s!r}, re.search matches")


def _strings(pattern: str, seed: int):
    alpha = _alphabet(pattern)
    for n in range(4):
        for t in itertools.product(alpha[:7], repeat=n):
            yield "".join(t)
    rng = random.Random(seed)
    for _ in range(1500):
        yield "".join(rng.choice(alpha) for _ in range(rng.randint(4, 12)))


@pytest.mark.parametrize("pattern", PATTERNS)
def test_search_dfa_matches_re_search(pattern):
    _check(pattern, search_dfa(pattern), _strings(pattern, 0))


@pytest.mark.parametrize("pattern", [r"^((?!mode)(?!Mode).)*$", r"\bab\b", r"/^[0-9]{2}$/", r"(?<!a)b$"])
def test_search_language_falls_back_to_the_automaton(pattern):
    # the expression written back from the automaton has the same language
    _check(pattern, fsa.from_lang(search_language(pattern)), _strings(pattern, 1))


def test_mode_pattern_forbids_the_word_anywhere():
    d = search_dfa(r"^((?!mode)(?!Mode).)*$")
    ok = lambda s: d.accepts([ord(c) for c in s])  # noqa: E731
    assert ok("") and ok("mod e") and ok("MODE") and ok("a mod")
    assert not ok("mode") and not ok("x Mode y") and not ok("modemode")


# -- random patterns with look-arounds ------------------------------------------------------------
_ATOMS = ["a", "b", "c", ".", "[ab]", "[^a]", r"\d", r"\w", "1"]


def _pattern():
    leaf = st.sampled_from(_ATOMS)
    look = st.sampled_from(["(?={})", "(?!{})", "(?<={})", "(?<!{})"])

    def extend(inner):
        return st.one_of(
            st.tuples(inner, inner).map("".join),
            st.tuples(inner, inner).map(lambda t: f"(?:{t[0]}|{t[1]})"),
            st.tuples(inner, st.sampled_from(["*", "+", "?", "{2}", "{0,2}"])).map(lambda t: f"(?:{t[0]}){t[1]}"),
            st.tuples(look, leaf, st.sampled_from(["", "*", "b"])).map(lambda t: t[0].format(t[1] + t[2])),
            st.tuples(look, inner).map(lambda t: t[0].format(t[1]) if not t[0].startswith("(?<") else t[0].format("a")),
            st.sampled_from(["^", "$", r"\b", r"\B"]),
        )

    return st.recursive(leaf, extend, max_leaves=6)


@settings(max_examples=150, deadline=None)
@given(_pattern(), st.integers(0, 10 ** 6))
def test_random_lookaround_patterns_match_re_search(pattern, seed):
    try:
        re.compile(pattern)
    except re.error:
        return  # e.g. a look-behind that is not fixed-width
    try:
        d = search_dfa(pattern)
    except PatternUnsupported:
        return
    rng = random.Random(seed)
    strings = ["".join(t) for n in range(4) for t in itertools.product("ab1 ", repeat=n)]
    strings += ["".join(rng.choice("abc1 _") for _ in range(rng.randint(4, 9))) for _ in range(300)]
    _check(pattern, d, strings)


# -- limits and errors ------------------------------------------------------------------------------
def test_back_references_and_costly_patterns_raise():
    with pytest.raises(PatternUnsupported, match="back-reference"):
        search_language(r"(a)(?=b)\1")
    with pytest.raises(PatternUnsupported, match="too costly|too large"):
        search_language(r"^(?=.{1,255}$)((.{1,63}\.){1,127}(?![0-9]*$)[a-z0-9-]+\.?)$")
    with pytest.raises(PatternUnsupported, match="inside a look-ahead"):
        search_dfa(r"(?=a\b)")
    with pytest.raises(PatternInvalid, match="invalid regular expression"):
        search_dfa(r"(?=a")
    with pytest.raises(UnsupportedSchemaError, match="back-reference"):
        automaton({"type": "string", "pattern": r"(x)(?!y)\1"})


# -- through the schema compiler --------------------------------------------------------------------
SCHEMAS = [
    {"type": "string", "pattern": r"^(?=.*[a-z])(?=.*[A-Z])(?=.*\d).{6,}$"},
    {"type": "string", "pattern": r"^((?!mode)(?!Mode).)*$", "maxLength": 12},
    {"type": "object", "patternProperties": {r"^(?!x_)\w+$": {"type": "integer"}}, "additionalProperties": False},
    {"type": "string", "pattern": r"\bcat\b"},
    {"type": "string", "pattern": r"^[ab ]{0,6}\bab\b[ab ]{0,6}$"},
]


@pytest.mark.parametrize("schema", SCHEMAS[:3] + SCHEMAS[4:], ids=lambda s: str(s)[:50])
def test_schema_members_validate(schema):
    assert assert_sound(schema, n=60, seed=3, max_len=60) >= 15


def test_schema_examples():
    a = automaton(SCHEMAS[0])
    assert accepts(a, '"abC123"') and not accepts(a, '"abc123"') and not accepts(a, '"aB1"')
    a = automaton(SCHEMAS[2])
    assert accepts(a, '{"a_1": 1, "y-": 2}') is False  # "y-" is not \w+
    assert accepts(a, '{"a_1": 1, "xa": 2}') and not accepts(a, '{"x_a": 1}')
    a = automaton(SCHEMAS[3])
    assert accepts(a, '"a cat."') and not accepts(a, '"concat"') and not accepts(a, '"cats"')
