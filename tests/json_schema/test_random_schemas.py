"""Random schemas against ``jsonschema``: every compiled schema accepts exactly the valid values
of a mixed pool (numbers, strings, null, booleans, arrays, objects in several key orders).

The generator combines type-specific keywords with ``not``/``anyOf``/``allOf``/``oneOf``/
``if``-``then``-``else``, object and array applicators, ``unevaluated*``, ``dependent*`` and
recursive ``$ref``s, so that keyword interactions nobody wrote a test for get checked. A schema
structgen refuses (``UnsupportedSchemaError``) is skipped; one it calls unsatisfiable must have
no valid pool value. ``property_order="any"`` keeps key order out of completeness (pool objects
have at most 4 keys); the schema-order run checks soundness only.
"""
from __future__ import annotations

import json
import random

import pytest

from .helpers import check_against_pool

KEYS = ["a", "b", "c"]
SCAL = [0, 1, 2, 3, 5, 6, 10, 15, -3, 2.5, -0.5, 0.25, "", "a", "ab", "abc", "ba", "xyz", "aaaa", None, True, False]


def _pool():
    vals = list(SCAL)
    vals += [[], [1], [1, 2], [2, 2], ["a"], ["a", 1], [1, "a", None], [[1]], [{}]]
    vals += [{}, {"a": 1}, {"b": "x"}, {"a": 1, "b": 2}, {"a": "a", "c": None}, {"c": 3}, {"a": {"b": 1}},
             {"a": [1]}, {"a": 1, "b": 2, "c": 3}, {"d": 1}, {"aa": 1}, {"b": 1, "d": "x"},
             {"b": 2, "a": 1}, {"c": "ab", "a": 2}, {"a": [1, 2], "b": {"c": 1}}, {"d": 1, "a": 1}]
    return vals


POOL = _pool()
REF = {"$ref": "#/$defs/d"}
PATS = ["^a", "b$", "^[ab]*$", "^.{2}$", "c"]


def rnd_schema(r, depth):
    if depth <= 0 or r.random() < 0.25:
        return leaf(r)
    k = r.choice(["allOf", "anyOf", "oneOf", "not", "ite", "obj", "arr", "leafs", "leafs"])
    if k in ("allOf", "anyOf", "oneOf"):
        return {k: [rnd_schema(r, depth - 1) for _ in range(r.randint(1, 3))]}
    if k == "not":
        return {"not": rnd_schema(r, depth - 1)}
    if k == "ite":
        s = {"if": rnd_schema(r, depth - 1)}
        if r.random() < 0.8:
            s["then"] = rnd_schema(r, depth - 1)
        if r.random() < 0.8:
            s["else"] = rnd_schema(r, depth - 1)
        return s
    if k == "obj":
        s = {}
        if r.random() < 0.5:
            s["type"] = "object"
        if r.random() < 0.8:
            s["properties"] = {kk: (REF if r.random() < 0.2 else rnd_schema(r, depth - 1)) for kk in r.sample(KEYS, r.randint(1, 3))}
        if r.random() < 0.4:
            s["required"] = r.sample(KEYS, r.randint(1, 2))
        if r.random() < 0.3:
            s["additionalProperties"] = r.choice([False, True, rnd_schema(r, depth - 1)])
        if r.random() < 0.2:
            s["patternProperties"] = {r.choice(["^a", "b", "^d$"]): rnd_schema(r, depth - 1)}
        if r.random() < 0.15:
            s["propertyNames"] = {"pattern": r.choice(["^[ab]+$", "^a", "^.$"])}
        if r.random() < 0.2:
            s["minProperties"] = r.randint(0, 2)
        if r.random() < 0.2:
            s["maxProperties"] = r.randint(0, 2)
        if r.random() < 0.15:
            s["dependentRequired"] = {"a": ["b"]}
        if r.random() < 0.1:
            s["dependentSchemas"] = {"b": rnd_schema(r, depth - 1)}
        if r.random() < 0.15:
            s["unevaluatedProperties"] = r.choice([False, rnd_schema(r, depth - 1)])
            if r.random() < 0.5:
                s["allOf"] = [{"properties": {"c": rnd_schema(r, depth - 1)}}]
        return s
    if k == "arr":
        s = {}
        if r.random() < 0.5:
            s["type"] = "array"
        if r.random() < 0.6:
            s["items"] = REF if r.random() < 0.2 else rnd_schema(r, depth - 1)
        if r.random() < 0.3:
            s["prefixItems"] = [rnd_schema(r, depth - 1) for _ in range(r.randint(1, 2))]
        if r.random() < 0.3:
            s["contains"] = rnd_schema(r, depth - 1)
            if r.random() < 0.3:
                s["minContains"] = r.randint(0, 2)
            if r.random() < 0.3:
                s["maxContains"] = r.randint(0, 2)
        if r.random() < 0.3:
            s["minItems"] = r.randint(0, 2)
        if r.random() < 0.3:
            s["maxItems"] = r.randint(0, 3)
        if r.random() < 0.15:
            s["uniqueItems"] = True
        if r.random() < 0.1:
            s["unevaluatedItems"] = r.choice([False, rnd_schema(r, depth - 1)])
        return s
    s = {}
    for _ in range(r.randint(1, 3)):
        l = leaf(r)
        if isinstance(l, dict):
            s.update(l)
    return s


def leaf(r):
    k = r.choice(["type", "type", "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                  "multipleOf", "minLength", "maxLength", "pattern", "bool", "format"])
    if k == "type":
        ts = ["null", "boolean", "integer", "number", "string", "array", "object"]
        return {"type": r.choice(ts) if r.random() < 0.7 else r.sample(ts, 2)}
    if k == "enum":
        return {"enum": r.sample(SCAL + [[1], {"a": 1}], r.randint(1, 3))}
    if k == "const":
        return {"const": r.choice(SCAL)}
    if k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return {k: r.choice([0, 1, 2, 5, 2.5, -1])}
    if k == "multipleOf":
        return {k: r.choice([2, 3, 5, 0.5])}
    if k in ("minLength", "maxLength"):
        return {k: r.randint(0, 3)}
    if k == "pattern":
        return {k: r.choice(PATS)}
    if k == "format":
        return {k: r.choice(["date", "ipv4", "uuid"])}
    return r.choice([True, False, {}])



def _schemas(seed: int, n: int):
    r = random.Random(seed)
    out = []
    while len(out) < n:
        schema = rnd_schema(r, 3)
        if not isinstance(schema, dict):
            continue
        if "$ref" in json.dumps(schema):
            schema = {"$defs": {"d": rnd_schema(r, 2)}, "anyOf": [schema, {"$ref": "#/$defs/d"}]}
        out.append(schema)
    return out


def _check(schema, order: str) -> str:
    return check_against_pool(schema, POOL, property_order=order, complete=order == "any")


@pytest.mark.parametrize("seed,order", [(11, "any"), (12, "schema"), (13, "any")])
def test_random_schemas_agree_with_jsonschema(seed, order):
    outcomes = [_check(s, order) for s in _schemas(seed, 300)]
    assert outcomes.count("compiled") >= 200  # the generator mostly makes supported schemas


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(100, 120))
def test_many_random_schemas_agree_with_jsonschema(seed):
    for order in ("any", "schema"):
        outcomes = [_check(s, order) for s in _schemas(seed, 400)]
        assert outcomes.count("compiled") >= 250
