"""Run-time distinctness of strings in ``uniqueItems`` arrays (``structgen.runtime.unique``).

Checked three ways: token-level acceptance against ``jsonschema`` on random arrays full of
near-duplicates (escaped spellings, surrogate pairs, prefixes of each other); every mask bit
against the exact one-token check (scan + run-time state) over the whole vocabulary; and the
matcher's state through rollback and copy.
"""
from __future__ import annotations

import json
import random

import numpy as np
import pytest

import structgen
from structgen.errors import UnsatisfiableSchemaError, UnsupportedSchemaError
from structgen.json_schema import schema_to_ir
from structgen.runtime import reference
from structgen.runtime.matcher import Matcher
from structgen.runtime.unique import decode_units
from tests.conftest import get_tokenizer, get_vocab
from tests.json_schema.helpers import accepts, automaton, validator

UNIQUE = {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
NESTED = {"type": "object", "properties": {
    "tags": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+$"}, "uniqueItems": True,
             "maxItems": 4},
    "more": {"type": "array", "items": {"type": "string"}}}}

ATOMS = ["a", "b", "ab", "", "é", "\u00e9", "😀", "[", "]", '"', "\\", "x y"]


def _spell(s: str, rng: random.Random) -> str:
    """A random JSON spelling of the string ``s`` (literal, short or \\u escapes)."""
    out = []
    for ch in s:
        r = rng.random()
        if ch in '"\\' or r < 0.3:
            if ch in '"\\' and r < 0.5:
                out.append("\\" + ch)
            else:
                out.append("".join(f"\\u{u:04x}" if rng.random() < 0.5 else f"\\u{u:04X}"
                                   for u in _utf16(ch)))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _utf16(ch: str) -> list[int]:
    b = ch.encode("utf-16-be")
    return [int.from_bytes(b[i:i + 2], "big") for i in range(0, len(b), 2)]


def _random_array(rng: random.Random, atoms=ATOMS, lo: int = 0, max_n: int = 5) -> str:
    n = rng.randint(0, max_n)
    items = [_spell("".join(rng.choice(atoms) for _ in range(rng.randint(lo, 2))), rng) for _ in range(n)]
    sep = rng.choice([",", ", ", " ,\n"])
    return "[" + sep.join(items) + "]"


def test_string_integer_and_open_object_elements_compile_and_others_still_raise():
    rules = schema_to_ir(UNIQUE).rules
    assert any(n.startswith("@unique_strings") for n in rules)
    assert not any(n.startswith("@unique_element") for n in rules)  # open-ended: no element rule
    for items in ({"type": "string", "maxLength": 3}, {"type": "string", "format": "date"},
                  {"enum": [f"v{i}" for i in range(12)]}):
        rules = schema_to_ir({"type": "array", "items": items, "uniqueItems": True}).rules
        assert any(n.startswith("@unique_element") for n in rules), items
    assert any(n.startswith("@unique_integers")
               for n in schema_to_ir({"type": "array", "items": {"type": "integer"}, "uniqueItems": True}).rules)
    assert any(n.startswith("@unique_objects")
               for n in schema_to_ir({"type": "array", "items": {"type": "object"}, "uniqueItems": True}).rules)
    for schema in ({"type": "array", "items": {"type": ["string", "integer"]}, "uniqueItems": True},
                   {"type": "array", "items": {"type": "number"}, "uniqueItems": True},
                   {"type": "array", "items": {"type": "object", "additionalProperties": False}, "uniqueItems": True},
                   # finite positions followed by elements that are not (was silently cut at the prefix)
                   {"prefixItems": [{"type": "boolean"}, {"type": "boolean"}], "uniqueItems": True},
                   # finite languages that differ by position
                   {"type": "array", "prefixItems": [{"maxLength": 2, "type": "string"}],
                    "items": {"type": "string", "maxLength": 3}, "uniqueItems": True}):
        with pytest.raises(UnsupportedSchemaError):
            schema_to_ir(schema)


def test_decode_units_agrees_with_json():
    rng = random.Random(3)
    for _ in range(500):
        s = "".join(rng.choice(ATOMS) for _ in range(rng.randint(0, 4)))
        raw = _spell(s, rng)[1:-1].encode("utf-8")
        assert decode_units("", raw) == (json.loads('"' + raw.decode() + '"'), b"")
        cut = rng.randint(0, len(raw))
        d, tail = decode_units("", raw[:cut])
        assert s.startswith(d) and len(tail) <= 12


@pytest.mark.parametrize("schema", [UNIQUE, NESTED], ids=["top", "nested"])
def test_accepts_iff_valid(schema):
    tok = get_tokenizer("llama3")
    g = structgen.compile_json_schema(schema, get_vocab("llama3"))
    aut = automaton(schema)
    v = validator(schema)
    rng = random.Random(0)
    n_valid = n_invalid = 0
    for _ in range(400):
        if schema is NESTED:
            text = '{"tags": ' + _random_array(rng, ["a", "b", "ab"], 1, 4) + ', "more": ["a", "a"]}'
        else:
            text = _random_array(rng)
        value = json.loads(text)
        ok = v.is_valid(value)
        m = Matcher(g)
        ids = tok.encode(text, add_special_tokens=False)
        got = m.advance_many(ids) == len(ids) and m.can_stop()
        assert got == ok, text
        assert accepts(aut, text) == ok, text  # the reference oracle agrees
        n_valid += ok
        n_invalid += not ok
    assert n_valid > 20 and n_invalid > 20


@pytest.mark.parametrize("name", ["llama3", "gpt2"])
def test_masks_equal_exact_token_checks(name):
    """Every bit of the mask equals ``is_allowed`` (grammar scan + run-time state), at prefixes
    inside and between elements, after escaped spellings, and with the empty string seen."""
    tok = get_tokenizer(name)
    vocab = get_vocab(name)
    g = structgen.compile_json_schema(UNIQUE, vocab)
    prefixes = ['["hello", "world", "hel', '["hello", "world",', '["hello", "world"', '["a", "b", "',
                '["", "', '["",', '["\\u0061", "', '["ab", "a\\', '["é", "\\u00', '["😀", "\\ud83d',
                '["a\\"b", "a\\', '["x", "x', '["[", "']
    for pre in prefixes:
        m = Matcher(g)
        data = pre.encode()
        ids = tok.encode(pre, add_special_tokens=False)
        assert m.advance_many(ids) == len(ids), pre
        assert m.consumed_bytes() == data
        mask = set(m.allowed_token_ids().tolist())
        exact = {t for t in range(vocab.vocab_size) if m.is_allowed(t)}
        assert mask == exact, (pre, sorted(mask ^ exact)[:10])


def test_masks_inside_an_object_with_a_pattern():
    """A marked array nested in an object, elements ``^[a-z]+$``, a plain array after it."""
    tok = get_tokenizer("gpt2")
    vocab = get_vocab("gpt2")
    g = structgen.compile_json_schema(NESTED, vocab)
    for pre in ['{"tags": ["ab", "a', '{"tags": ["ab", "a"', '{"tags": ["ab", "a"], "more": ["a", "',
                '{"tags": ["ab",', '{"tags": ["ab", "a", "b", "']:
        m = Matcher(g)
        ids = tok.encode(pre)
        assert m.advance_many(ids) == len(ids), pre
        mask = set(m.allowed_token_ids().tolist())
        exact = {t for t in range(vocab.vocab_size) if m.is_allowed(t)}
        assert mask == exact, (pre, sorted(mask ^ exact)[:10])


def test_rollback_and_copy_restore_the_seen_strings():
    tok = get_tokenizer("llama3")
    g = structgen.compile_json_schema(UNIQUE, get_vocab("llama3"))
    enc = lambda s: tok.encode(s, add_special_tokens=False)  # noqa: E731
    first, second = enc('["a",'), enc(' "b",')
    dup = enc(' "b"')
    m = Matcher(g)
    assert m.advance_many(first + second) == len(first + second)
    assert m.validate_tokens(dup) < len(dup)
    twin = m.copy()
    m.rollback(len(second))              # back to '["a",' : "b" is new again
    assert m.validate_tokens(dup) == len(dup)
    assert twin.validate_tokens(dup) < len(dup)
    rest = enc(' "c"]')
    assert twin.advance_many(rest) == len(rest) and twin.can_stop()
    m.reset()
    assert m.advance_many(first + second + rest) == len(first + second + rest)


def test_grammars_without_marked_arrays_pay_nothing():
    g = structgen.compile_json_schema({"type": "array", "items": {"type": "string"}}, get_vocab("gpt2"))
    assert not g.unique_strings.active
    m = Matcher(g)
    assert m.advance_many(get_tokenizer("gpt2").encode('["a", "a"]')) > 0 and m.can_stop()


# ----------------------------------------------------------------------------- finite languages
ENUM = {"type": "array", "items": {"enum": ["ab", "abc", "b", "é", "éx", 'a"b', "😀"]}, "uniqueItems": True}
PAIRS = {"type": "array", "items": {"type": "string", "pattern": "^[ab]{2}$"}, "uniqueItems": True, "minItems": 2}
SHORT = {"type": "array", "items": {"type": "string", "maxLength": 1, "pattern": "^[a-c]*$"}, "uniqueItems": True}
FINITE = [ENUM, PAIRS, SHORT]
FINITE_VALUES = [["ab", "abc", "b", "é", "éx", 'a"b', "😀"], ["aa", "ab", "ba", "bb"], ["", "a", "b", "c"]]


def _grammar_only_tokens(m, vocab) -> list[int]:
    """Non-stop tokens the grammar alone allows (before the run-time distinctness filter)."""
    out = np.zeros(m.compiled.words, np.uint32)
    m._fill_tokens(out)
    ids = np.flatnonzero(np.unpackbits(out.view(np.uint8), bitorder="little"))
    return [int(t) for t in ids if t < vocab.vocab_size and t not in set(vocab.stop_ids)]


def _distinct_prefixes(rng: random.Random, values: list[str], n: int) -> list[str]:
    """Prefixes of arrays that mostly use distinct values (so they reach exhaustion), cut anywhere."""
    out = []
    for _ in range(n):
        pool = list(values)
        rng.shuffle(pool)
        items = [json.dumps(pool[i] if rng.random() < 0.85 else rng.choice(values), ensure_ascii=False)
                 for i in range(rng.randint(1, len(pool)))]
        text = "[" + rng.choice([", ", ","]).join(items) + "]"
        out.append(text[:rng.randint(1, len(text))])
    return out


@pytest.mark.parametrize("name", ["llama3", "gpt2", "llama2", "qwen2"])
@pytest.mark.parametrize("which", range(len(FINITE)), ids=["enum", "pattern", "maxLength"])
def test_finite_languages_masks_equal_exact_checks_and_the_reference(name, which):
    """Inside and between elements of finite languages, near and at exhaustion: the mask equals
    ``is_allowed`` bit for bit, and ``is_allowed`` equals the reference oracle's viability (an
    independent search for an unseen completion)."""
    schema, values = FINITE[which], FINITE_VALUES[which]
    tok, vocab = get_tokenizer(name), get_vocab(name)
    g = structgen.compile_json_schema(schema, vocab)
    assert g.unique_strings.finite
    aut = automaton(schema)
    rng = random.Random(which)
    checked, dead = _check_prefixes(g, aut, tok, vocab, _distinct_prefixes(rng, values, 40))
    assert checked > 20 and dead > 0  # some prefixes did kill grammatical tokens


def _check_prefixes(g, aut, tok, vocab, prefixes) -> tuple[int, int]:
    """At each prefix the matcher accepts (and the reference finds viable; a rejected one it must
    not): mask = ``is_allowed`` = reference viability over the grammar's tokens. Returns (prefixes
    checked, grammatical tokens found dead)."""
    checked = dead = 0
    for pre in prefixes:
        ids = tok.encode(pre, add_special_tokens=False)
        m = Matcher(g)
        if m.advance_many(ids) != len(ids):
            assert not reference.is_viable_prefix(aut, tok.decode(ids).encode("utf-8")), pre
            continue
        data = m.consumed_bytes()
        assert reference.is_viable_prefix(aut, data), pre
        mask = set(m.allowed_token_ids().tolist()) - set(vocab.stop_ids)
        cands = _grammar_only_tokens(m, vocab)
        exact = {t for t in cands if m.is_allowed(t)}
        ref = {t for t in cands if reference.is_viable_prefix(aut, data + vocab.token_bytes[t])}
        assert mask == exact == ref, (pre, sorted(mask ^ exact)[:8], sorted(exact ^ ref)[:8])
        checked += 1
        dead += len(cands) - len(exact)
    return checked, dead


@pytest.mark.parametrize("which", range(len(FINITE)), ids=["enum", "pattern", "maxLength"])
def test_finite_languages_accept_iff_valid(which):
    schema, values = FINITE[which], FINITE_VALUES[which]
    tok = get_tokenizer("llama3")
    g = structgen.compile_json_schema(schema, get_vocab("llama3"))
    v = validator(schema)
    rng = random.Random(10 + which)
    n_valid = n_invalid = 0
    for _ in range(150):
        items = [json.dumps(rng.choice(values), ensure_ascii=False) for _ in range(rng.randint(0, len(values) + 1))]
        text = "[" + ", ".join(items) + "]"
        ok = v.is_valid(json.loads(text))
        m = Matcher(g)
        ids = tok.encode(text, add_special_tokens=False)
        assert (m.advance_many(ids) == len(ids) and m.can_stop()) == ok, text
        n_valid += ok
        n_invalid += not ok
    assert n_valid > 10 and n_invalid > 10


def test_exhaustion_forbids_the_comma_and_too_few_values_for_min_items_is_unsatisfiable():
    tok, vocab = get_tokenizer("llama3"), get_vocab("llama3")
    g = structgen.compile_json_schema(SHORT, vocab)
    m = Matcher(g)
    ids = tok.encode('["a", "", "c", "b"', add_special_tokens=False)
    assert m.advance_many(ids) == len(ids)
    assert not m.is_allowed(tok.convert_tokens_to_ids(","))
    assert m.is_allowed(tok.convert_tokens_to_ids("]"))
    # after "a" and "ab": the prefix "a" of a third element is dead, "b" is not
    m = Matcher(structgen.compile_json_schema(PAIRS, vocab))
    ids = tok.encode('["aa", "ab", "', add_special_tokens=False)
    assert m.advance_many(ids) == len(ids)
    assert not m.is_allowed(tok.convert_tokens_to_ids("a"))
    assert m.is_allowed(tok.convert_tokens_to_ids("b"))
    # five distinct values needed from a language of four: no array qualifies
    with pytest.raises(UnsatisfiableSchemaError):
        schema_to_ir(dict(PAIRS, minItems=5))
    assert any(n.startswith("@unique_element") for n in schema_to_ir(dict(PAIRS, minItems=4)).rules)


def test_a_plain_array_beside_a_marked_one_is_free_once_the_marked_parse_dies():
    """``anyOf`` of a unique array and a plain one whose strings the unique one cannot hold: once
    only the plain parse is left, its repeats are allowed (no dead end at ``["x", "x``)."""
    schema = {"anyOf": [{"type": "array", "items": {"type": "string", "pattern": "^[a-w]+$"}, "uniqueItems": True},
                        {"type": "array", "items": {"enum": ["x", "a"]}}]}
    tok, vocab = get_tokenizer("llama3"), get_vocab("llama3")
    g = structgen.compile_json_schema(schema, vocab)
    aut = automaton(schema)
    v = validator(schema)
    for text in ['["x", "x"]', '["a", "x", "a"]', '["a", "b"]', '["x", "a", "a"]', '["a", "b", "a"]', '["a", "a"]']:
        ids = tok.encode(text, add_special_tokens=False)
        m = Matcher(g)
        # the documented incompleteness: while the marked parse lives, the plain one is held to
        # distinctness too (so '["a", "a"]', valid by the plain branch alone, is refused)
        ok = v.is_valid(json.loads(text)) and text != '["a", "a"]'
        assert (m.advance_many(ids) == len(ids) and m.can_stop()) == ok, text
        assert accepts(aut, text) == ok, text
    for pre in ['["x", "', '["x", "x', '["a", "', '["a", "a', '["a", "b", "']:
        m = Matcher(g)
        ids = tok.encode(pre, add_special_tokens=False)
        assert m.advance_many(ids) == len(ids), pre
        data = m.consumed_bytes()
        cands = _grammar_only_tokens(m, vocab)
        exact = {t for t in cands if m.is_allowed(t)}
        assert set(m.allowed_token_ids().tolist()) - set(vocab.stop_ids) == exact, pre
        assert exact == {t for t in cands if reference.is_viable_prefix(aut, data + vocab.token_bytes[t])}, pre
        for t in exact:  # no allowed token leads to a dead end
            m2 = m.copy()
            assert m2.advance(t) and (m2.can_stop() or m2.allowed_token_ids().size > 0), (pre, vocab.token_bytes[t])


# ----------------------------------------------------------------------------- integers
INTS = {"type": "array", "items": {"type": "integer"}, "uniqueItems": True}
SMALL_INTS = {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 12}, "uniqueItems": True}
INT_CASES = [(INTS, list(range(-3, 13)) + [100, 1000]), (SMALL_INTS, list(range(13)))]


def _int_texts(rng: random.Random, values: list[int], n: int) -> list[str]:
    """Arrays of mostly distinct integers, some spelled ``I.0`` (the same value), some repeated."""
    out = []
    for _ in range(n):
        pool = list(values)
        rng.shuffle(pool)
        items = [str(x) + (".0" if rng.random() < 0.2 else "") for x in pool[:rng.randint(0, len(pool))]]
        if items and rng.random() < 0.3:
            items.insert(rng.randrange(len(items) + 1), str(rng.choice(values)))
        if rng.random() < 0.1:
            items.append("-0")
        out.append("[" + rng.choice([", ", ","]).join(items) + "]")
    return out


@pytest.mark.parametrize("name", ["llama3", "gpt2", "llama2"])
@pytest.mark.parametrize("which", [0, 1], ids=["integers", "0-12"])
def test_integer_masks_equal_exact_checks_and_the_reference(name, which):
    schema, values = INT_CASES[which]
    tok, vocab = get_tokenizer(name), get_vocab(name)
    g = structgen.compile_json_schema(schema, vocab)
    aut = automaton(schema)
    rng = random.Random(20 + which)
    prefixes = [text[:rng.randint(1, len(text))] for text in _int_texts(rng, values, 50)]
    checked, dead = _check_prefixes(g, aut, tok, vocab, prefixes)
    assert checked > 25 and dead > 0


@pytest.mark.parametrize("which", [0, 1], ids=["integers", "0-12"])
def test_integer_arrays_accept_iff_valid(which):
    schema, values = INT_CASES[which]
    tok = get_tokenizer("llama3")
    g = structgen.compile_json_schema(schema, get_vocab("llama3"))
    v = validator(schema)
    rng = random.Random(30 + which)
    n_valid = n_invalid = 0
    for text in _int_texts(rng, values, 150):
        ok = v.is_valid(json.loads(text))
        m = Matcher(g)
        ids = tok.encode(text, add_special_tokens=False)
        assert (m.advance_many(ids) == len(ids) and m.can_stop()) == ok, text
        assert accepts(automaton(schema), text) == ok, text
        n_valid += ok
        n_invalid += not ok
    assert n_valid > 20 and n_invalid > 20


def test_integer_spellings_of_a_seen_value_are_dead():
    tok, vocab = get_tokenizer("gpt2"), get_vocab("gpt2")
    tid = lambda s: tok.convert_tokens_to_ids(s)  # noqa: E731
    m = Matcher(structgen.compile_json_schema(INTS, vocab))
    assert m.advance_many(tok.encode("[0, -")) == len(tok.encode("[0, -"))
    assert not m.is_allowed(tid("0"))          # -0 is 0
    assert m.is_allowed(tid("1"))
    m = Matcher(structgen.compile_json_schema(INTS, vocab))
    ids = tok.encode("[1, 1")
    assert m.advance_many(ids) == len(ids)
    assert not m.is_allowed(tid(",")) and not m.is_allowed(tid(".")) and not m.is_allowed(tid("]"))
    assert m.is_allowed(tid("0"))               # 10 is new
    m = Matcher(structgen.compile_json_schema(SMALL_INTS, vocab))
    ids = tok.encode("[12, 1, 10, 11,")
    assert m.advance_many(ids) == len(ids)
    assert not m.is_allowed(tid("1")) and m.is_allowed(tid("2"))  # every value starting with 1 is used


# ----------------------------------------------------------------------------- open objects
OBJECTS = {"type": "array", "uniqueItems": True,
           "items": {"type": "object", "properties": {"name": {"type": "string"}, "value": {"type": "integer"}},
                     "required": ["name"]}}
OBJECT_ITEMS = ['{"name": "a"}', '{"name": "a", "value": 1}', '{"name": "a", "value": 1.0}', '{"name": "b"}',
                '{"name": "a", "x": {"y": [1, "}"]}}', '{"name": "a", "value": 1, "z": true}',
                '{"name": "a", "value": 1, "z": 1}', '{"name": "a", "z": 1, "z": 2}', '{"name": "a", "z": 2}',
                '{"name": "\\u0061"}']


def test_open_objects_accept_iff_valid_and_masks_equal_exact_checks():
    """Objects that can always take one more property: a token is dead only when it closes an
    object equal (members in any order, 1 = 1.0, duplicate keys collapsed) to an earlier one."""
    assert any(n.startswith("@unique_objects") for n in schema_to_ir(OBJECTS).rules)
    tok, vocab = get_tokenizer("llama3"), get_vocab("llama3")
    g = structgen.compile_json_schema(OBJECTS, vocab)
    aut = automaton(OBJECTS)
    v = validator(OBJECTS)
    rng = random.Random(5)
    n_valid = n_invalid = 0
    # right before the '}' that would close a duplicate (at depth 1 and deeper), and random cuts
    targeted = ['[{"name": "a"}, {"name": "a"', '[{"name": "a", "value": 1}, {"name": "a", "value": 1.0',
                '[{"name": "a", "x": {"y": [1, "}"]}}, {"name": "a", "x": {"y": [1, "}"]',
                '[{"name": "a", "z": 2},{"name": "a", "z": 1, "z": 2', '[{"name": "a"}, {"name": "\\u0061"']
    for i in range(120):
        text = "[" + rng.choice([", ", ","]).join(rng.choice(OBJECT_ITEMS) for _ in range(rng.randint(0, 4))) + "]"
        ok = v.is_valid(json.loads(text))
        ids = tok.encode(text, add_special_tokens=False)
        m = Matcher(g)
        assert (m.advance_many(ids) == len(ids) and m.can_stop()) == ok, text
        assert accepts(aut, text) == ok, text
        n_valid += ok
        n_invalid += not ok
        pre = targeted[i] if i < len(targeted) else text[:rng.randint(1, len(text))]
        ids = tok.encode(pre, add_special_tokens=False)
        m = Matcher(g)
        if m.advance_many(ids) != len(ids):
            continue
        data = m.consumed_bytes()
        grammar = _grammar_only_tokens(m, vocab)
        # the tokens with a '}' (the only ones that can close an element) and a sample of the rest
        cands = [t for t in grammar if b"}" in vocab.token_bytes[t]]
        cands += rng.sample(grammar, min(100, len(grammar)))
        mask = set(m.allowed_token_ids().tolist())
        exact = {t for t in cands if m.is_allowed(t)}
        assert {t for t in cands if t in mask} == exact, pre
        assert exact == {t for t in cands if reference.is_viable_prefix(aut, data + vocab.token_bytes[t])}, pre
        if pre in targeted:
            assert set(cands) - exact, pre  # something closing the duplicate is dead
    assert n_valid > 30 and n_invalid > 20


def test_closed_objects_still_raise():
    for items in ({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False},
                  {"type": "object", "maxProperties": 3},
                  {"type": "object", "patternProperties": {"^x": {}}, "additionalProperties": False}):
        with pytest.raises(UnsupportedSchemaError):
            schema_to_ir({"type": "array", "items": items, "uniqueItems": True})
