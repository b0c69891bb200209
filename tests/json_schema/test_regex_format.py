"""``format: regex``: only strings ``re.compile`` accepts (sound), and the regexes people write
(complete enough: real patterns from MaskBench, nesting to any depth when the format is alone)."""
from __future__ import annotations

import itertools
import json
import re
import warnings

import pytest

from structgen.json_schema.regex_format import REGEX_PLAIN, REGEX_SUBSET

from .helpers import accepts, automaton, random_members

COMMON = [
    "^[a-zA-Z0-9_]{3,16}$", "^value1|value2$", r"^\d{3}-\d{4}$", r"^(?:[a-z0-9-]+\.)+[a-z]{2,}$",
    "^https?://", "[A-Z][a-z]*", "", "(a|b)*c", "[-a-z]+", "x{,5}", "a{2,10}?", "(?=a)b", "(?!x).",
    r"[^\]]", r"\u00e9", "é+", r"^[^\\/:\*\?\"<>\|\x01-\x1f]+$", "/{env}/{platform}", r"\{\{.+}}",
    r"[\w!#$&^.-]+", r"^[^@^\s]+@", "^[a-zA-Z-_0-9]+$", r"[\x20-\x7e]*", r"\[[0-9]+]", "a{0}", "b{99,100}",
]
INVALID = ["a**", "(a", "a)", "[z-a]", "{3}", "a{3,2}", r"\1", "[^]", "[]", "^*", r"\b+", r"[\w-a]",
           "(?<=a*)b", "*", "a|*", "[a", r"\q", "(?P<n>a)(?P<n>b)"]


def _compiles(s: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            re.compile(s)
        return True
    except re.error:
        return False


@pytest.fixture(scope="module")
def alone():
    return automaton({"type": "string", "format": "regex"})


def test_common_regexes_are_accepted_and_invalid_ones_refused(alone):
    regular = re.compile(REGEX_SUBSET, re.DOTALL)
    for s in COMMON:
        assert _compiles(s), s
        assert accepts(alone, json.dumps(s)), s
    for s in ("^[a-zA-Z0-9_]{3,16}$", r"^\d{3}-\d{4}$", "[-a-z]+", r"[^\]]", r"[\x20-\x7e]*"):
        assert regular.fullmatch(s), s  # no groups: the regular subset takes these
    for s in INVALID:
        assert not _compiles(s), s
        assert not accepts(alone, json.dumps(s)), s
        assert not regular.fullmatch(s), s


def test_groups_nest_to_any_depth_when_the_format_is_alone(alone):
    deep = "(" * 12 + "a|b" + ")" * 12 + "+"
    assert accepts(alone, json.dumps(deep))
    assert not accepts(alone, json.dumps(deep + ")"))
    assert not re.compile(REGEX_SUBSET, re.DOTALL).fullmatch(deep)  # the regular form has no groups


def test_every_short_string_the_languages_accept_compiles(alone):
    """Exhaustive over a small alphabet of regex syntax: what the recursive grammar or the regular
    subset accepts compiles, and the grammar accepts everything the regular subset does."""
    regular = re.compile(REGEX_SUBSET, re.DOTALL)
    alphabet = "a-[]^(){},1\\|?*"
    n_regular = 0
    for n in range(4):
        for t in itertools.product(alphabet, repeat=n):
            s = "".join(t)
            in_regular = regular.fullmatch(s) is not None
            if in_regular:
                n_regular += 1
                assert _compiles(s), s
            if n <= 3:
                in_grammar = accepts(alone, json.dumps(s))
                assert not in_grammar or _compiles(s), s
                assert in_grammar or not in_regular, s
    assert n_regular > 200


def test_random_members_compile(alone):
    members = random_members(alone, 120, seed=5)
    assert len(members) > 100
    for m in members:
        assert _compiles(json.loads(m)), m


def test_with_length_bounds_a_smaller_sound_subset_is_used():
    aut = automaton({"type": "string", "format": "regex", "maxLength": 12})
    assert accepts(aut, json.dumps("plain text")) and not accepts(aut, json.dumps("x" * 13))
    assert re.fullmatch(REGEX_PLAIN, "plain text")
    for m in random_members(aut, 40, seed=1):
        assert _compiles(json.loads(m)), m
