"""``oneOf`` over overlapping object branches (:meth:`DnfBuilder._one_of_objects`): splits on a
discriminator's presence or tag value, ``exactly one`` by negation with absorption, and the
required-count disjointness proof -- checked for exactness against ``jsonschema`` on random
tagged-union schemas and a pool of objects, plus the cases that once went wrong."""
from __future__ import annotations

import itertools
import json
import random

import pytest

from structgen.json_schema import dnf
from structgen.json_schema.spec import ObjectSpec, TOP, Clause

from .helpers import accepts, automaton, check_against_pool, validator

TAG_VALUES = ["A", "B", "C", "D", 1]
X_VALUES = [1, 3, "A"]
Y_VALUES = [1, "s"]


def _pool() -> list:
    out = []
    for kind, x, y, z in itertools.product([None, *TAG_VALUES], [None, *X_VALUES], [None, *Y_VALUES], [None, 0]):
        obj = {}
        for k, v in (("kind", kind), ("x", x), ("y", y), ("z", z)):
            if v is not None:
                obj[k] = v
        out.append(obj)
    return out + [None, "A", 1, [], [{"kind": "A"}]]


POOL = _pool()


def _tag(r: random.Random) -> dict:
    t = r.choice(["A", "B", "C"])
    return r.choice([{"const": t}, {"enum": r.sample(["A", "B", "C"], 2)}, {"type": "string", "pattern": f"^{t}$"},
                     {"type": "string"}, {"enum": [t, 1]}, {"not": {"const": t}}])


def _leaf(r: random.Random) -> dict:
    return r.choice([{"type": "integer"}, {"type": "string"}, {"enum": [1, "A"]}, {"minimum": 2}, {},
                     {"type": "integer", "maximum": 2}])


def _branch(r: random.Random) -> dict:
    props = {}
    if r.random() < 0.85:
        props["kind"] = _tag(r)
    for name in ("x", "y"):
        if r.random() < 0.6:
            props[name] = _leaf(r)
    s: dict = {"type": "object", "properties": props}
    req = [n for n in ("kind", "x", "y") if r.random() < (0.6 if n == "kind" else 0.3)]
    if req:
        s["required"] = req
    c = r.random()
    if c < 0.45:
        s["additionalProperties"] = False
    elif c < 0.53:  # rarer: its negation is often refused (duplicate additional keys)
        s["additionalProperties"] = {"type": "integer"}
    if r.random() < 0.1:
        s["minProperties"] = r.randint(1, 3)
    if r.random() < 0.1:
        s["maxProperties"] = r.randint(1, 2)
    return s


def tagged_union(r: random.Random) -> dict:
    branches = [_branch(r) for _ in range(r.randint(2, 5))]
    if r.random() < 0.2:  # a nested union as one branch, through a definition
        return {"$defs": {"inner": {"oneOf": [_branch(r), _branch(r)]}},
                "oneOf": [*branches, {"$ref": "#/$defs/inner"}]}
    if r.random() < 0.15:  # its negation: none or at least two branches
        return {"not": {"oneOf": branches}}
    return {"oneOf": branches}


def _check(schema) -> str:
    return check_against_pool(schema, POOL, property_order="any", complete=True)


@pytest.mark.parametrize("seed", [1, 2])
def test_random_tagged_unions_are_exact(seed):
    r = random.Random(seed)
    outcomes = [_check(tagged_union(r)) for _ in range(60)]
    assert outcomes.count("compiled") >= 30, outcomes  # the rest: refused negations (duplicate keys)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(10, 20))
def test_many_random_tagged_unions_are_exact(seed):
    r = random.Random(seed)
    outcomes = [_check(tagged_union(r)) for _ in range(150)]
    assert outcomes.count("compiled") >= 75, outcomes


def _obj(tag: str, props: dict, required: list) -> dict:
    return {"type": "object", "additionalProperties": False, "required": required,
            "properties": {"type": {"type": "string", "pattern": f"^{tag}$"}, **props}}


def test_presence_split_keeps_branches_that_forbid_the_discriminator():
    """Split on ``SourceModule`` being absent: a branch whose ``additionalProperties: false``
    forbids it is not empty there (it was dropped once, rejecting ``{"type": "RidgedMulti"}``)."""
    n = {"type": "number"}
    schema = {"oneOf": [_obj("ScaleBias", {"Scale": n, "SourceModule": {"type": "string"}}, ["type", "SourceModule"]),
                        _obj("RidgedMulti", {"Frequency": n, "Seed": n}, ["type"]),
                        _obj("Voronoi", {"Frequency": n, "Seed": n, "SourceModule": {"type": "string"}}, ["type"])]}
    a = automaton(schema, property_order="any")
    v = validator(schema)
    for x in [{"type": "RidgedMulti"}, {"type": "RidgedMulti", "Seed": 1}, {"type": "Voronoi", "SourceModule": "p"},
              {"type": "ScaleBias", "SourceModule": "p"}, {"type": "ScaleBias"}, {"type": "RidgedMulti", "SourceModule": "p"},
              {"type": "Other"}]:
        assert accepts(a, json.dumps(x)) == v.is_valid(x), x


def test_tag_value_split_with_other_and_absent_cases():
    """Branches tagged by ``enum``/``const`` that also overlap on an untagged branch: the split has
    one case per tag value, one for another value and one for an absent tag."""
    schema = {"oneOf": [
        {"type": "object", "properties": {"kind": {"const": "A"}, "x": {"type": "integer"}}, "required": ["kind"]},
        {"type": "object", "properties": {"kind": {"enum": ["A", "B"]}, "y": {"type": "string"}}, "required": ["kind", "y"]},
        {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]},
    ]}
    assert _check(schema) == "compiled"


def test_required_count_proves_disjointness():
    """Two required properties against ``maxProperties: 1``: no object meets both branches."""
    schema = {"oneOf": [{"type": "object", "required": ["a", "b"]},
                        {"type": "object", "maxProperties": 1, "properties": {"a": {"type": "integer"}}}]}
    assert _check(schema) == "compiled"


def test_implies_is_syntactic_and_sound():
    req_a = Clause(types=frozenset(("object",)), obj=ObjectSpec(required=("a",)))
    req_ab = Clause(types=frozenset(("object",)), obj=ObjectSpec(required=("a", "b")))
    assert dnf._implies(req_ab, req_a)
    assert not dnf._implies(req_a, req_ab)
    assert dnf._implies(req_a, TOP)
    assert not dnf._implies(TOP, req_a)


def test_not_of_a_tagged_union_splits_on_the_tag():
    """``not oneOf`` of six tagged object shapes: the product of six negations (each with several
    alternatives) is too large, but with the tag fixed only one branch takes part."""
    shapes = [("A", {"x": {"type": "integer"}}), ("B", {"x": {"type": "string"}}), ("C", {"y": {"type": "integer"}}),
              ("D", {"y": {"type": "string"}}), ("E", {"x": {"enum": [1, "A"]}}), ("F", {"z": {"type": "integer"}})]
    branches = [{"type": "object", "properties": {"kind": {"const": k}, **props}, "required": ["kind", *props],
                 "additionalProperties": False} for k, props in shapes]
    schema = {"not": {"oneOf": branches}}
    assert _check(schema) == "compiled"
    assert _check({"type": "object", "properties": {"x": schema}}) == "compiled"
