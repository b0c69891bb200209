"""``property_order="any"``: listed properties in any order, exactly (brute force against jsonschema)."""
from __future__ import annotations

import json

import pytest

from structgen.errors import UnsupportedSchemaError
from structgen.json_schema import schema_to_ir
from structgen.json_schema.objects import MAX_ANY_ORDER_STATES

from .helpers import accepts, assert_exact, assert_sound, automaton


def test_any_order_is_exact_with_required_and_additional():
    schema = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}, "c": {}},
              "required": ["a"]}
    assert_exact(schema, ["a", "b", "c", "x"], [1, "s"], property_order="any")


def test_schema_order_rejects_what_any_order_accepts():
    schema = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}}
    text = '{"b": "s", "a": 1}'
    assert not accepts(automaton(schema), text)
    assert accepts(automaton(schema, property_order="any"), text)


def test_any_order_listed_keys_do_not_repeat():
    schema = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}}
    a = automaton(schema, property_order="any")
    for text in ['{"a": 1, "a": 2}', '{"a": 1, "b": "s", "a": 2}', '{"b": "s", "x": 0, "b": "t"}']:
        assert not accepts(a, text), text


def test_any_order_counts_and_closed_objects():
    counted = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}},
               "required": ["a"], "minProperties": 2, "maxProperties": 3}
    assert_exact(counted, ["a", "b", "x", "y"], [1, "s"], max_members=4, property_order="any")
    closed = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}},
              "additionalProperties": False}
    assert_exact(closed, ["a", "b", "x"], [1, "s"], property_order="any")


def test_any_order_nested_and_one_of():
    schema = {"oneOf": [{"type": "object", "additionalProperties": False,
                         "properties": {"foo": {"type": "string"}, "z": {}}},
                        {"type": "object", "additionalProperties": False,
                         "properties": {"bar": {"type": "string"}, "z": {}}}]}
    assert_exact(schema, ["foo", "bar", "z", "q"], [1, "s"], property_order="any")
    nested = {"type": "object", "properties": {"p": {"type": "object", "properties": {"x": {"type": "integer"},
                                                                                   "y": {"type": "integer"}},
                                                     "required": ["x", "y"]}, "q": {"type": "boolean"}}}
    assert assert_sound(nested, n=30, property_order="any") > 0
    a = automaton(nested, property_order="any")
    assert accepts(a, '{"q": true, "p": {"y": 1, "x": 2}}')
    assert not accepts(a, '{"q": true, "p": {"y": 1}}')


def test_any_order_budget_raises_with_advice():
    n = MAX_ANY_ORDER_STATES.bit_length()  # 2^n sets of seen keys: over the budget
    schema = {"type": "object", "properties": {f"k{i}": {"type": "integer"} for i in range(n)}}
    with pytest.raises(UnsupportedSchemaError, match="property_order='schema'") as e:
        schema_to_ir(schema, property_order="any")
    assert e.value.keyword == "properties"
    schema_to_ir(schema)  # schema order: linear, fine
    small = {"type": "object", "properties": {f"k{i}": {"type": "integer"} for i in range(n - 3)}}
    schema_to_ir(small, property_order="any")


def test_property_order_is_validated_and_part_of_the_cache_key():
    with pytest.raises(ValueError):
        schema_to_ir({"type": "object"}, property_order="sorted")
    schema = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}
    assert schema_to_ir(schema) != schema_to_ir(schema, property_order="any")


def test_compile_json_schema_caches_per_property_order():
    from structgen.json_schema import cache, compile_json_schema
    from structgen.runtime.matcher import Matcher

    from ..conftest import get_tokenizer, get_vocab

    vocab = get_vocab("qwen2")
    tok = get_tokenizer("qwen2")
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
              "required": ["name", "age"], "additionalProperties": False}
    cache.clear()
    in_order = compile_json_schema(schema, vocab)
    any_order = compile_json_schema(schema, vocab, property_order="any")
    assert any_order is not in_order
    assert compile_json_schema(schema, vocab, property_order="any") is any_order
    ids = tok.encode('{"age": 3, "name": "x"}', add_special_tokens=False)
    m_any, m_schema = Matcher(any_order), Matcher(in_order)
    assert all(m_any.advance(t) for t in ids) and m_any.can_stop()
    assert not all(m_schema.advance(t) for t in ids)
