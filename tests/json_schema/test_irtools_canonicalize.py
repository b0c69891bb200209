"""``irtools.canonicalize``: reachability, content-derived names, merging of identical rules, and
renaming that rebuilds only the subtrees containing references."""
from __future__ import annotations

import hashlib

from structgen.cfg import ir
from structgen.json_schema import irtools

WS = ir.Regex("[ ]*")


def _rules():
    big = ir.Alt(tuple(ir.Literal(f'"v{i}"') for i in range(20)))  # no references
    return {
        "start": ir.Seq((WS, ir.Ref("obj#1"))),
        "obj#1": ir.Seq((ir.Literal("{"), big, ir.Repeat(ir.Seq((ir.Literal(","), ir.Ref("str#2"))), 0, None),
                         ir.Alt((ir.Ref("str#3"), ir.Literal("}"))))),
        "str#2": ir.Regex('"[a-z]*"'),
        "str#3": ir.Regex('"[a-z]*"'),       # identical to str#2: merged
        "unused#4": ir.Literal("x"),          # unreachable: dropped
    }


def _reference_names(rules, start, fixed):
    """Straightforward re-implementation: reachability by walking, names from the serialized
    body with references written by their raw names."""
    def refs(e, acc):
        if isinstance(e, ir.Ref):
            acc.append(e.name)
        for c in getattr(e, "items", ()) or ((e.item,) if isinstance(e, ir.Repeat) else ()):
            refs(c, acc)
        return acc

    reach, stack = {start}, [start]
    while stack:
        for c in refs(rules[stack.pop()], []):
            if c not in reach:
                reach.add(c)
                stack.append(c)
    out = {}
    for n in reach:
        hint = n.split("#", 1)[0]
        t = hashlib.sha1((hint + "|" + irtools.serialize(rules[n])).encode()).hexdigest()
        out[n] = n if n in fixed else f"{hint}_{hashlib.sha1((t + ':').encode()).hexdigest()[:12]}"
    return out


def test_names_merging_and_reachability():
    rules = _rules()
    out = irtools.canonicalize(rules, "start", frozenset({"start"}))
    names = _reference_names(rules, "start", frozenset({"start"}))
    assert sorted(out) == sorted(set(names.values()))
    assert names["str#2"] == names["str#3"] and len(out) == 3
    assert not any(n.startswith("unused") for n in out)
    obj = out[names["obj#1"]]
    assert obj == irtools.rename(rules["obj#1"], names)
    assert out["start"] == ir.Seq((WS, ir.Ref(names["obj#1"])))


def test_recompiling_gives_the_same_grammar():
    a = irtools.canonicalize(_rules(), "start", frozenset({"start"}))
    b = irtools.canonicalize(_rules(), "start", frozenset({"start"}))
    assert a == b


def test_subtrees_without_references_are_kept_as_they_are():
    rules = _rules()
    out = irtools.canonicalize(rules, "start", frozenset({"start"}))
    names = _reference_names(rules, "start", frozenset({"start"}))
    new_obj, old_obj = out[names["obj#1"]], rules["obj#1"]
    assert new_obj.items[1] is old_obj.items[1]        # the big reference-free Alt: not rebuilt
    assert new_obj.items[2] is not old_obj.items[2]    # contains a reference: rebuilt, renamed
    assert out[names["str#2"]] is rules["str#2"]       # a body without references: unchanged
