"""oneOf disjointness proofs: memoized and bounded (nested oneOfs over shared definitions used to
take time exponential in the nesting depth), and schemas nested beyond the recursion limit."""
from __future__ import annotations

import json

from structgen.json_schema import compiler as C
from structgen.json_schema import dnf
from structgen.json_schema.api import schema_to_ir
from structgen.cfg.compiler import compile_grammar_automaton

from .helpers import accepts, validator


def chain(k: int) -> dict:
    """``l_k`` = oneOf of two object shapes whose required ``x`` is ``l_{k-1}``: proving the branches
    disjoint compares ``l_{k-1}`` with itself, which compares ``l_{k-2}`` ... (2^k paths)."""
    defs = {"l0": {"type": "object", "properties": {"v": {"type": "integer"}}, "required": ["v"]}}
    for i in range(1, k + 1):
        sub = {"$ref": f"#/definitions/l{i - 1}"}
        defs[f"l{i}"] = {"oneOf": [
            {"type": "object", "properties": {"x": sub, "y": sub}, "required": ["x", "y"], "additionalProperties": False},
            {"type": "object", "properties": {"x": sub, "z": {"type": "string"}}, "required": ["x", "z"],
             "additionalProperties": False}]}
    return {"definitions": defs, "$ref": f"#/definitions/l{k}"}


def _steps(schema) -> int:
    sc = C.SchemaCompiler(schema)
    sc.compile()
    return sc.dnf._disjoint_steps


def test_nested_one_of_proofs_are_linear_in_depth():
    steps = [_steps(chain(k)) for k in (4, 8, 16)]
    assert steps[0] < steps[1] < steps[2] <= 4 * 16 + 8   # memoized: a few pairs per level


def test_nested_one_of_language_is_exact():
    schema = chain(3)
    aut = compile_grammar_automaton(schema_to_ir(schema))
    val = validator(schema)
    leaf = {"v": 1}
    l1 = {"x": leaf, "z": "s"}
    l2 = {"x": l1, "y": l1}
    good = {"x": l2, "z": "t"}
    bad = {"x": l2, "y": {"x": leaf}}
    assert val.is_valid(good) and not val.is_valid(bad)
    assert accepts(aut, json.dumps(good)) and not accepts(aut, json.dumps(bad))


def test_out_of_budget_means_not_proven_disjoint(monkeypatch):
    """With no budget, branches count as overlapping: the compiler then needs the exact
    'exactly one' encoding or refuses; it never treats overlapping branches as disjoint."""
    monkeypatch.setattr(dnf, "MAX_DISJOINT_STEPS", 0)
    schema = {"oneOf": [{"type": "object", "properties": {"a": {"const": 1}}, "required": ["a"]},
                        {"type": "object", "properties": {"a": {"const": 2}}, "required": ["a"]}]}
    try:
        g = schema_to_ir(schema)
    except Exception as e:  # refusing is sound
        assert type(e).__name__ == "UnsupportedSchemaError"
        return
    aut = compile_grammar_automaton(g)
    assert accepts(aut, '{"a": 1}') and accepts(aut, '{"a": 2}') and not accepts(aut, '{"a": 3}')


def test_schemas_nested_beyond_the_recursion_limit_raise_compile_limit_error():
    import pytest

    from structgen.errors import CompileLimitError

    def nested(depth: int) -> dict:
        s: dict = {"type": "integer"}
        for _ in range(depth):
            s = {"type": "object", "properties": {"a": s}, "required": ["a"]}
        return s

    aut = compile_grammar_automaton(schema_to_ir(nested(40)))
    assert accepts(aut, '{"a": ' * 40 + "1" + "}" * 40)
    with pytest.raises(CompileLimitError, match="nests too deeply"):
        schema_to_ir(nested(400))
