"""Value-level search over JSON-string DFAs (``structgen.runtime.string_values``), against brute force."""
from __future__ import annotations

import itertools
import json

import pytest

from structgen.cfg import ir
from structgen.cfg.compiler import compile_grammar_automaton
from structgen.json_schema import schema_to_ir
from structgen.runtime import string_values as sv
from structgen.runtime.unique import decode_units

SCHEMAS = [({"enum": ["ab", "abc", "b", "é", 'a"b', "😀", ""]}, ["ab", "abc", "b", "é", 'a"b', "😀", ""]),
           ({"type": "string", "pattern": "^[ab]{1,2}$"}, ["a", "b", "aa", "ab", "ba", "bb"]),
           ({"type": "string", "maxLength": 1, "pattern": "^[\n\"é]*$"}, ["", "\n", '"', "é"])]


def _string_automaton(schema):
    """The element rule the compiler emits for a unique array of ``schema`` strings."""
    g = schema_to_ir({"type": "array", "items": schema, "uniqueItems": True, "minItems": 2})
    (name,) = [n for n in g.rules if n.startswith(ir.UNIQUE_ELEMENT_PREFIX)]
    return compile_grammar_automaton(ir.Grammar({"start": g.rules[name]}))


def _members(aut) -> list[bytes]:
    """Every byte string the (finite) automaton accepts."""
    out, stack = [], [(int(aut.rule_start[0]), b"")]
    while stack:
        s, t = stack.pop()
        if aut.accept[s]:
            out.append(t)
        for b in range(256):
            if aut.trans[s, b] >= 0:
                stack.append((int(aut.trans[s, b]), t + bytes((b,))))
    return out


@pytest.mark.parametrize("schema,values", SCHEMAS, ids=["enum", "pattern", "escapes"])
def test_count_values_and_lower_bounds(schema, values):
    aut = _string_automaton(schema)
    start = int(aut.rule_start[0])
    assert sv.count_values(aut.trans, aut.accept, start, 100) == len(values)
    assert sv.count_values(aut.trans, aut.accept, start, 3) == 3
    lb = sv.ascii_lower_bounds(aut.trans, aut.accept, sv.rule_states(aut.state_rule, 0))
    ascii_literal = [v for v in values if all(0x20 <= ord(c) < 0x7F and c not in '"\\' for c in v)]
    assert lb[start] == len(ascii_literal)


def _walk(aut, text: bytes) -> int:
    s = int(aut.rule_start[0])
    for b in text:
        s = int(aut.trans[s, b])
        assert s >= 0, text
    return s


@pytest.mark.parametrize("schema,values", SCHEMAS, ids=["enum", "pattern", "escapes"])
def test_has_unseen_completion_matches_brute_force(schema, values):
    """For every seen subset and every prefix of every spelling of a value: an unseen completion
    exists exactly when some value outside the subset has a spelling with that prefix."""
    aut = _string_automaton(schema)
    lb = sv.ascii_lower_bounds(aut.trans, aut.accept, sv.rule_states(aut.state_rule, 0))
    members = [(m, json.loads(m.decode("utf-8"))) for m in _members(aut)]
    assert {v for _, v in members} == set(values)
    prefixes = {m[:cut] for m, _ in members for cut in range(1, len(m))}  # after the opening quote
    for r in range(len(values) + 1):
        for seen in itertools.combinations(values, r):
            for pre in prefixes:
                d, tail = decode_units("", pre[1:])
                got = sv.has_unseen_completion(aut.trans, aut.accept, lb, _walk(aut, pre), d, tail, seen)
                want = any(m.startswith(pre) and v not in seen for m, v in members)
                assert got == want, (seen, pre)
