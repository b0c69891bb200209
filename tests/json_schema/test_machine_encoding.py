"""Code point DFAs encoded straight to byte automata (``machine_encoding``) and the ``Machine``
language node that carries such DFAs through the string pipeline."""
from __future__ import annotations

import json
import random
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from structgen.cfg import ir
from structgen.cfg.compiler import compile_grammar_automaton
from structgen.errors import UnsupportedSchemaError
from structgen.json_schema import fsa
from structgen.json_schema import lang as L
from structgen.json_schema.encoding import encode_lang
from structgen.json_schema.machine_encoding import encode_dfa
from structgen.json_schema.pyregex import search_language

from .helpers import accepts, assert_sound, automaton, validator
from .test_strings import _spellings

PATTERNS = [
    r"^[a-z]+é?\d{2,4}$", r"^[^a-z]*$", r"😀|[\U00010000-\U0001ffff]x", r"^.{0,3}$",
    r'^[\u00e0-\u00ff\u20ac"\\/\n]+$', r"^(ab|[€日])*$", r"^[\U00010400-\U00010bff]$", r"\d", "^$",
    r"^[\U00010400-\U00010bff\U00012345-\U00013456a-f]{1,2}$", r"^[\x00-\x1f\ud7ff\ue000]+$",
    r"^(?:[^\u0800-\uffff]|\u0800)*$",
]


def _repeat(item, lo, hi):
    return ir.Repeat(item, lo, hi)


@pytest.mark.parametrize("raw_only", [False, True])
@pytest.mark.parametrize("pattern", PATTERNS)
def test_same_minimal_automaton_as_the_expression_route(pattern, raw_only):
    """The direct encoding and the encoded expression are one language: the grammar compiler
    minimizes both to the same automaton (equal fingerprints)."""
    x = search_language(pattern)
    via_expr = compile_grammar_automaton(ir.Grammar.single(encode_lang(x, _repeat, raw_only)))
    direct = compile_grammar_automaton(ir.Grammar.single(encode_dfa(fsa.from_lang(x), raw_only)))
    assert direct.rule_fingerprint[0] == via_expr.rule_fingerprint[0]


def _run(auto: ir.Automaton, data: bytes) -> bool:
    table = np.frombuffer(auto.table, np.int32).reshape(auto.n_states, 256)
    s = 0
    for b in data:
        s = int(table[s, b])
        if s < 0:
            return False
    return bool(auto.accept[s])


ALPHABET = "az09-.\"\\/\n\x01é\u00ff\u0100€\ud7ff\ue000\uffff日😀\U00010000\U0010ffff "


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(PATTERNS), st.lists(st.text(ALPHABET, max_size=5), min_size=1, max_size=8),
       st.randoms(use_true_random=False))
def test_every_spelling_is_judged_by_the_decoded_text(pattern, words, rng):
    d = fsa.from_lang(search_language(pattern))
    auto = encode_dfa(d)
    for w in words:
        expected = d.accepts([ord(c) for c in w])
        for _ in range(3):
            spelled = "".join(rng.choice(_spellings(c)) for c in w)
            assert _run(auto, spelled.encode("utf-8")) is expected, (pattern, w, spelled)


def test_lone_surrogates_and_overlong_forms_are_refused():
    auto = encode_dfa(fsa.from_lang(search_language(r"^.*$")))
    assert _run(auto, "a\\u00e9\\uD83D\\uDE00é😀".encode())
    for bad in [b"\\ud800", b"\\udc00", b"\\ud83d\\u0041", b"\xc0\x80", b"\xe0\x80\x80", b"\xed\xa0\x80",
                b"\xf4\x90\x80\x80", b"\xc3", b'"', b"\\", b"\x1f"]:
        assert not _run(auto, bad), bad


def test_too_many_byte_states_raise():
    d = fsa.from_lang(search_language(r"^\w{0,40}$"))
    with pytest.raises(fsa.AutomatonTooLarge, match="byte states"):
        encode_dfa(d, max_states=500)


# ---------------------------------------------------------------- the Machine node

def _big_dfa() -> fsa.DFA:
    """A DFA past the expression write-back limit: the pattern intersected with a length bound."""
    x = search_language(r"^([a-z0-9-]+):([a-z0-9.-]+):([a-z0-9-]+)?:([a-z0-9-]+)$")
    return fsa.product(fsa.from_lang(x), fsa.from_lang(L.rep(L.chars(((0, 0x10FFFF),)), 0, 160)), "and")


def test_large_automata_become_machines_with_their_length_range():
    d = _big_dfa()
    assert d.n_states > fsa.TO_LANG_MAX_STATES
    m = fsa.to_lang_or_machine(d)
    assert isinstance(m, L.Machine)
    assert L.length_range(m) == (6, 160)  # "a:b::c" is the shortest
    assert fsa.to_lang_or_machine(fsa.from_lang(L.lit("ab"))) == L.lit("ab")  # small: an expression
    unbounded = fsa.machine(fsa.from_lang(search_language(r"^a+b?$")))
    assert L.length_range(unbounded) == (1, None)
    assert fsa.machine(fsa.from_lang(L.NONE)) == L.NONE


def test_machines_embed_in_further_automaton_operations():
    m = fsa.to_lang_or_machine(_big_dfa())
    d = fsa.from_lang(L.cat(L.lit("<"), L.alt(m, L.lit("x")), L.lit(">")))
    rx = re.compile(r"<(?:(?=.{3,160}>$)[a-z0-9-]+:[a-z0-9.-]+:[a-z0-9-]*:[a-z0-9-]+|x)>")
    rng = random.Random(0)
    for _ in range(400):
        body = "".join(rng.choice("ab-.:x") for _ in range(rng.randint(0, 12)))
        if rng.random() < 0.1:
            body = "a:b:c:" + "d" * rng.randint(150, 165)
        w = "<" + body + ">"
        assert d.accepts([ord(c) for c in w]) is bool(rx.fullmatch(w)), w
    assert fsa.from_lang(m) is m.dfa
    assert m == fsa.to_lang_or_machine(_big_dfa()) and hash(m) == hash(fsa.to_lang_or_machine(_big_dfa()))


def test_machine_over_the_state_limit_raises(monkeypatch):
    monkeypatch.setattr(fsa, "MACHINE_MAX_STATES", 100)
    with pytest.raises(fsa.AutomatonTooLarge, match="more than 100"):
        fsa.to_lang_or_machine(_big_dfa())


# ---------------------------------------------------------------- schemas

COLON_ID = {"type": "string", "pattern": r"^([a-z0-9-]+):([a-z0-9\.-]+):([a-z0-9-]+)?:([a-z0-9-]+)$",
            "maxLength": 146}


def test_pattern_with_length_past_the_expression_limit_compiles_exactly():
    aut = automaton(COLON_ID)
    v = validator(COLON_ID)
    rng = random.Random(1)
    for _ in range(300):
        parts = ["".join(rng.choice("ab9-.") for _ in range(rng.randint(0, 50))) for _ in range(4)]
        s = ":".join(parts) if rng.random() < 0.8 else "".join(rng.choice("ab:.-") for _ in range(20))
        text = json.dumps(s, ensure_ascii=rng.random() < 0.5)
        assert accepts(aut, text) is v.is_valid(s), text
    assert accepts(aut, json.dumps("a:b::" + "c" * 141))
    assert not accepts(aut, json.dumps("a:b::" + "c" * 142))
    assert accepts(aut, '"a\\u003ab::c"')   # an escaped ':' is still ':'
    assert assert_sound(COLON_ID, n=30) >= 20


def test_contains_patterns_in_one_of_compile_exactly():
    """``oneOf`` of "contains" patterns: exactly one word occurs — a product automaton too large
    for an expression."""
    schema = {"type": "array", "items": {"type": "string", "oneOf": [
        {"pattern": w} for w in ["customer", "maker", "operator", "admin", "designer"]]}}
    aut = automaton(schema)
    v = validator(schema)
    for items in (["customer"], ["makers", "admin!"], ["admin maker"], ["x"], ["operator-designer"],
                  ["\\u0061dmin"], ["adminadmin"]):
        text = json.dumps(items)
        assert accepts(aut, text) is v.is_valid(items), text
    assert accepts(aut, '["\\u0061dmin"]') is v.is_valid(["admin"])
    assert assert_sound(schema, n=20) >= 10


def test_oversized_encoding_is_a_schema_error(monkeypatch):
    from structgen.json_schema import machine_encoding

    monkeypatch.setattr(machine_encoding, "MAX_BYTE_STATES", 50)
    with pytest.raises(UnsupportedSchemaError, match="too complex to encode") as e:
        automaton({"type": "string", "pattern": COLON_ID["pattern"], "maxLength": 145})
    assert e.value.keyword == "pattern"


def test_encodings_are_cached_by_dfa_content():
    from structgen.json_schema import machine_encoding as ME

    first = encode_dfa(fsa.from_lang(search_language(r"^[a-f]{3,40}@x\.(com|org)$")))
    again = encode_dfa(fsa.from_lang(search_language(r"^[a-f]{3,40}@x\.(com|org)$")))  # equal, built anew
    assert again is first
    raw = encode_dfa(fsa.from_lang(search_language(r"^[a-f]{3,40}@x\.(com|org)$")), raw_only=True)
    assert raw is not first and raw.n_states < first.n_states  # no escapes
    d = fsa.from_lang(search_language(r"^[a-f]{3,40}@x\.(com|org)$"))
    assert ME._Builder(d, False, ME.MAX_BYTE_STATES).build() == first  # what a miss computes
    with pytest.raises(fsa.AutomatonTooLarge):  # too large is never cached: raises each time
        encode_dfa(d, max_states=10)
    with pytest.raises(fsa.AutomatonTooLarge):
        encode_dfa(d, max_states=10)
