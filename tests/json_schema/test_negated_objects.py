"""Negated object keywords (``not`` / ``oneOf`` over properties, patternProperties,
additionalProperties, propertyNames) via key witnesses, checked exhaustively against jsonschema."""
from __future__ import annotations

import pytest

from structgen.errors import UnsupportedSchemaError

from .helpers import accepts, assert_exact, assert_sound, automaton

CLOSED_FOO = {"type": "object", "additionalProperties": False, "properties": {"foo": {"type": "string"}}}
CLOSED_BAR = {"type": "object", "additionalProperties": False, "properties": {"bar": {"type": "string"}}}


def test_one_of_closed_objects_that_overlap_on_the_empty_object():
    schema = {"oneOf": [CLOSED_FOO, CLOSED_BAR]}
    a = assert_exact(schema, ["foo", "bar", "baz"], [1, "s"])
    assert not accepts(a, "{}")
    assert_exact(schema, ["foo", "bar", "baz"], [1, "s"], property_order="any")
    assert assert_sound(schema, n=30) > 0


def test_not_additional_properties_false_needs_an_unlisted_key():
    schema = {"type": "object", "not": {"additionalProperties": False, "properties": {"a": {}},
                                        "patternProperties": {"^x": {}}}}
    a = assert_exact(schema, ["a", "b", "xa"], [1], max_members=3, listed=["a"])
    assert_exact(schema, ["a", "b", "xa"], [1], max_members=3, property_order="any")
    assert accepts(a, '{"b": 1, "b": 2}')  # the key exists whichever duplicate json.loads keeps


def test_not_pattern_properties_false_and_property_names():
    pattern = {"type": "object", "properties": {"k1": {"type": "integer"}},
               "not": {"patternProperties": {"^k[0-9]$": False}}}
    assert_exact(pattern, ["k1", "k2", "z"], [1, "s"], listed=["k1"])
    assert_exact(pattern, ["k1", "k2", "z"], [1, "s"], property_order="any")
    names = {"type": "object", "not": {"propertyNames": {"maxLength": 2}},
             "properties": {"abc": {"type": "integer"}, "x": {}}, "maxProperties": 2}
    assert_exact(names, ["abc", "x", "xyz", "y"], [1, "s"], listed=["abc", "x"])
    assert_exact(names, ["abc", "x", "xyz", "y"], [1, "s"], property_order="any")


def test_several_witnesses_met_by_additional_members():
    schema = {"type": "object", "maxProperties": 3,
              "not": {"anyOf": [{"propertyNames": {"not": {"enum": ["1", "3"]}}},
                                {"propertyNames": {"not": {"enum": ["2", "11"]}}}]}}
    assert_exact(schema, ["1", "2", "3", "11", "x"], [0])


def test_negated_value_constraint_on_additional_members_is_rejected():
    # "some additional member's value fails" cannot be checked member by member: a later duplicate
    # key with a passing value would win in json.loads
    with pytest.raises(UnsupportedSchemaError) as e:
        automaton({"type": "object", "not": {"additionalProperties": {"type": "integer"}}})
    assert e.value.keyword == "additionalProperties"
    # ... but where additional members cannot exist, the witness is a listed property: exact
    schema = {"allOf": [{"type": "object", "properties": {"a": {}, "b": {}}, "additionalProperties": False},
                        {"not": {"additionalProperties": {"type": "integer"}}}]}
    assert_exact(schema, ["a", "b", "c"], [1, "s"], listed=["a", "b"])
    assert_exact(schema, ["a", "b", "c"], [1, "s"], property_order="any")


def test_one_of_split_on_a_discriminator_property():
    # "kind" is optional: without it, A and B overlap; the split makes both halves disjoint
    a_schema = {"type": "object", "properties": {"kind": {"const": "a"}, "x": {"type": "integer"}},
                "required": ["x"], "additionalProperties": False}
    b_schema = {"type": "object", "properties": {"kind": {"const": "b"}, "x": {"type": "integer"},
                                                 "y": {"type": "string"}},
                "required": ["x"], "additionalProperties": False}
    schema = {"oneOf": [a_schema, b_schema]}
    a = assert_exact(schema, ["kind", "x", "y"], ["a", "b", 1], listed=["kind", "x", "y"])
    assert_exact(schema, ["kind", "x", "y"], ["a", "b", 1], property_order="any")
    assert not accepts(a, '{"x": 1}')  # valid against both branches
    assert accepts(a, '{"x": 1, "y": "s"}')


# branches that overlap only on objects the enclosing schema excludes (its `required` discriminator)
_OPEN_A = {"properties": {"kind": {"enum": ["a"]}, "x": {"type": "integer"}, "p": {"type": "string"}},
           "additionalProperties": False}
_OPEN_B = {"properties": {"kind": {"enum": ["b"]}, "x": {"type": "string"}, "q": {"type": "integer"}},
           "additionalProperties": False}


@pytest.mark.parametrize("schema,listed", [
    ({"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string"}},
      "oneOf": [_OPEN_A, _OPEN_B]}, ["kind", "x", "p", "q"]),
    ({"type": "object", "required": ["kind"], "allOf": [{"properties": {"x": {}}}, {"oneOf": [_OPEN_A, _OPEN_B]}]},
     ["x", "kind", "p", "q"]),
])
def test_one_of_restricted_by_the_enclosing_schema(schema, listed):
    """The enclosing `required` makes the branches disjoint; without it the exactly-one expansion
    would need their negations. Exact against jsonschema, in both property orders."""
    keys, values = ["kind", "x", "p", "q"], ["a", "b", 1]
    a = assert_exact(schema, keys, values, listed=listed)
    assert_exact(schema, keys, values, property_order="any")
    assert accepts(a, '{"kind": "b", "q": 1}') and not accepts(a, '{"q": 1}')


def test_one_of_whose_negation_is_inexpressible_compiles_under_the_enclosing_discriminator():
    # without the enclosing `required`, {"n": 1} meets both branches and exactly-one would need
    # "not multipleOf 0.5" (unsupported: only integer divisors); with it the branches are disjoint
    a_schema = {"properties": {"kind": {"const": "a"}, "n": {"type": "number", "multipleOf": 0.5}}}
    b_schema = {"properties": {"kind": {"const": "b"}, "n": {"type": "number", "multipleOf": 0.25}}}
    with pytest.raises(UnsupportedSchemaError):
        automaton({"type": "object", "oneOf": [a_schema, b_schema]})
    schema = {"type": "object", "required": ["kind"], "oneOf": [a_schema, b_schema]}
    assert_exact(schema, ["kind", "n"], ["a", "b", 0.5, 0.25, 1], listed=["kind", "n"])
    nested = {"type": "object", "required": ["kind"], "allOf": [{"oneOf": [a_schema, b_schema]}]}
    assert_exact(nested, ["kind", "n"], ["a", "b", 0.5, 0.25, 1], listed=["kind", "n"])


def test_one_of_overlapping_on_integer_multiples_is_exact():
    # {"n": 15} meets both branches: exactly-one needs "not multipleOf" of an integer divisor
    a_schema = {"properties": {"kind": {"const": "a"}, "n": {"type": "integer", "multipleOf": 3}}}
    b_schema = {"properties": {"kind": {"const": "b"}, "n": {"type": "integer", "multipleOf": 5}}}
    schema = {"type": "object", "oneOf": [a_schema, b_schema]}
    assert_exact(schema, ["kind", "n"], ["a", "b", 3, 5, 15, 7], listed=["kind", "n"])


def test_all_of_member_with_unevaluated_properties_does_not_see_the_enclosing_properties():
    # jsonschema: the member's unevaluatedProperties only knows the member's own annotations, so
    # "a" (evaluated by the enclosing `properties`) is still unevaluated there
    schema = {"type": "object", "properties": {"a": {}}, "required": ["k"],
              "allOf": [{"properties": {"k": {}}, "unevaluatedProperties": False}]}
    assert_exact(schema, ["a", "k", "z"], [1], listed=["a", "k"])
