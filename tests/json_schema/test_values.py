"""Value sets by key agree with jsonschema's equality (dedup, intersection, exclusion, large enums)."""
from __future__ import annotations

import json

import jsonschema
from hypothesis import given, settings, strategies as st

from structgen.json_schema.refs import _ENUM_BY_KEY
from structgen.json_schema.values import dedup_values, intersect_values, is_excluded, json_equal, value_keys
from structgen.json_schema import compile_json_schema
from structgen.runtime.matcher import Matcher
from tests.conftest import get_vocab

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([0.0, 1.0, -1.0, 2.5]),
                    st.sampled_from(["", "a", "b", "1"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(st.sampled_from("ab"), inner, max_size=2)),
                      max_leaves=6)


@settings(max_examples=200, deadline=None)
@given(st.lists(VALUES, max_size=8), st.lists(VALUES, max_size=8))
def test_value_sets_agree_with_jsonschema_equality(a, b):
    expect = []
    for v in a:  # the first of equal values of one Python type
        if not any(json_equal(v, w) and type(v) is type(w) for w in expect):
            expect.append(v)
    assert list(dedup_values(a)) == expect
    assert list(intersect_values(a, b)) == [x for x in a if any(json_equal(x, y) for y in b)]
    keys = value_keys(b)
    for v in a:
        assert is_excluded(v, keys) == is_excluded(v, b) == any(json_equal(v, y) for y in b)


def test_large_enum_checked_by_key_agrees_with_jsonschema():
    """Enum members are kept or dropped by validating each against the schema; with an enum past
    ``_ENUM_BY_KEY`` members that check goes by value key: the same verdicts as jsonschema."""
    members = [{"k": i, "v": [i, str(i)]} for i in range(_ENUM_BY_KEY + 5)] + [1, True, "x", None, [1.0, {"a": 2}],
                                                                               3, 3.0, False, 0]
    schema = {"allOf": [{"enum": members}, {"enum": members[::2] + [1.0, [1, {"a": 2.0}], {"k": 2.0, "v": [2, "2"]}]},
                        {"not": {"const": 3}}]}
    cg = compile_json_schema(schema, get_vocab("gpt2"))
    validator = jsonschema.Draft202012Validator(schema)
    verdicts = set()
    for inst in members:
        text = json.dumps(inst).encode()
        m = Matcher(cg)
        ids = cg.vocab.encode_canonical(text)
        accepted = m.advance_many(ids) == len(ids) and m.can_stop()
        assert accepted == validator.is_valid(inst), inst
        verdicts.add(accepted)
    assert verdicts == {True, False}
