"""Schemas → disjunctive normal form (lists of :class:`~structgen.json_schema.spec.Clause`).

Combinators become set operations on clause lists: ``allOf`` and ``$ref`` with siblings →
conjunction (cross product), ``anyOf`` → union, ``oneOf`` → union when the branches are provably
disjoint, ``not`` → negation (pushed down to single keywords, De Morgan), ``if/then/else`` →
``(if ∧ then) ∨ (¬if ∧ else)``, ``dependentRequired`` / ``dependentSchemas`` →
``(absent) ∨ (present ∧ …)``. Negated object keywords become *key witnesses* ("some member
violates …", :class:`~structgen.json_schema.spec.KeyWitness`), decided when the object is emitted.
A ``oneOf`` (and an ``allOf`` member) is read under the constraints that precede it in its
schema (``required``, ``properties``, ``type``, earlier ``allOf`` members): each branch is restricted
to them first, so branches that overlap only on values those constraints exclude count as disjoint.
Overlapping object branches of a ``oneOf`` are first split on a discriminator property (present /
absent); clauses whose object part is contradictory (a required name that a piece forbids, a
value that must satisfy a schema and its negation, a witness excluded by a closed piece) lose the
object type, which keeps the exactly-one expansion small. Keywords are interpreted per dialect (draft 4 … 2020-12) exactly as
``jsonschema`` does; keywords ``jsonschema`` does not validate for the dialect (annotations,
unknown words) are ignored, exactly like ``jsonschema`` ignores them.

Nested subschemas (property values, items) are not expanded here: they stay
:data:`~structgen.json_schema.spec.Conj` references compiled lazily into their own rules, which is
what makes recursive schemas work.
"""
from __future__ import annotations

import itertools
import json

from dataclasses import replace
from typing import Any, Callable, Iterable, Optional

from ..errors import CompileLimitError, InvalidSchemaError, UnsupportedSchemaError
from .formats import EXACT_FORMAT_SEARCH, checker_verified, format_regexes
from .numbers import Bound
from .refs import Node, SchemaContext
from .spec import (ALL_TYPES, TOP, TYPES, ArrPiece, ArraySpec, Clause, Conj, KeyWitness, NumberSpec, ObjectSpec,
                   ObjPiece, StringSpec, conj_key, type_kinds)
from .values import dedup_values, json_value_key, value_keys

MAX_CLAUSES = 256
#: distinct subschema pairs a oneOf disjointness proof may compare before it gives up (sound: the
#: branches then count as overlapping)
MAX_DISJOINT_STEPS = 2000
#: proofs that may be in progress at once: a proof computes the DNF of subschemas whose own oneOfs
#: need proofs (``depth`` counts only the levels of one proof), so this bounds the recursion
MAX_DISJOINT_NESTING = 6
#: strings a pattern may match for a disjointness proof to enumerate them (``^(a|b)$`` tags)
MAX_PATTERN_WORDS = 64

#: anyOf branches whose every combination is expanded under unevaluated* (see _branch_unions)
MAX_UNION_BRANCHES = 4
#: the types a negated string / number keyword restricts to
STR = frozenset(("string",))
NUM = frozenset(("int", "frac"))
#: keywords that belong together (interpreted jointly)
_NUMBER_KW = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
_OBJECT_PIECE_KW = ("properties", "patternProperties", "additionalProperties")
_ARRAY_PIECE_KW = ("items", "prefixItems", "additionalItems")
_CONTAINS_KW = ("contains",)
_IGNORED_HERE = ("then", "else", "minContains", "maxContains")
_COMBINATORS = ("allOf", "anyOf", "oneOf", "not", "if", "$ref", "dependentRequired", "dependentSchemas",
                "dependencies")



class Unsupported(Exception):
    """Internal: carries (message, keyword, pointer) to the policy handler."""


def _and(a: list[Clause], b: list[Clause]) -> list[Clause]:
    out = []
    for x in a:
        for y in b:
            m = x.merge(y)
            if "object" in m.types and _object_contradiction(m.obj):
                m = m.with_types(m.types - {"object"})
            if not m.empty:
                out.append(m)
    if len(out) > MAX_CLAUSES:
        raise UnsupportedSchemaError(f"schema expands to more than {MAX_CLAUSES} alternatives", "anyOf", "")
    return out


def _and_negation(a: list[Clause], neg: list[Clause]) -> list[Clause]:
    """``a ∧ neg`` where ``neg`` is a negation's DNF (its clauses carry no annotations), kept
    small by absorption: an alternative ``x`` of ``a`` that already implies some clause of ``neg``
    stays as it is (``x ∧ (y ∨ …) = x``), and a product implied by another product is dropped
    (``p ∨ q = q`` when ``p ⊆ q``) when what ``p`` adds beyond ``q`` evaluates nothing. Exact."""
    out: list[Clause] = []
    for x in a:
        if any(_implies(x, y) for y in neg):
            out.append(x)
        else:
            out.extend(_and([x], neg))
    if len(out) > 4 * MAX_CLAUSES:
        raise UnsupportedSchemaError(f"schema expands to more than {MAX_CLAUSES} alternatives", "anyOf", "")
    keep = []
    for i, p in enumerate(out):
        if any((j < i or not _implies(q, p)) and _implies(p, q) and _adds_no_annotations(p, q)
               for j, q in enumerate(out) if j != i):
            continue
        keep.append(p)
    if len(keep) > MAX_CLAUSES:
        raise UnsupportedSchemaError(f"schema expands to more than {MAX_CLAUSES} alternatives", "anyOf", "")
    return keep


def _implies(x: Clause, y: Clause) -> bool:
    """Sound, syntactic: every value that meets ``x`` meets ``y`` — each constraint of ``y`` is
    one of ``x``'s (or weaker: a wider type set, count bounds, string lengths)."""
    if not x.types <= y.types:
        return False
    if y.enum is not None:
        if x.enum is None:
            return False
        keys = value_keys(y.enum)
        if any(json_value_key(v) not in keys for v in x.enum):
            return False
    if y.excluded:
        keys = value_keys(w for w, _ in x.excluded)
        if any(json_value_key(v) not in keys for v, _ in y.excluded):
            return False
    xs, ys = x.string, y.string
    if not ys.trivial and (ys.min_len > xs.min_len
                           or (ys.max_len is not None and (xs.max_len is None or xs.max_len > ys.max_len))
                           or not _keys_within(ys.patterns, xs.patterns) or not _keys_within(ys.not_patterns, xs.not_patterns)
                           or not _keys_within(ys.formats, xs.formats)):
        return False
    if not y.number.trivial and y.number != x.number:
        return False
    xo, yo = x.obj, y.obj
    if not yo.trivial:
        if (not set(yo.required) <= set(xo.required) or yo.min_props > xo.min_props
                or (yo.max_props is not None and (xo.max_props is None or xo.max_props > yo.max_props))):
            return False
        if not yo.piece_keys() <= xo.piece_keys():
            return False
        if not {conj_key(c) for c in yo.names} <= {conj_key(c) for c in xo.names}:
            return False
        if not {w.key() for w in yo.witnesses} <= {w.key() for w in xo.witnesses}:
            return False
    xa, ya = x.arr, y.arr
    if not ya.trivial and ya.key() != xa.key():
        return False
    return True


def _keys_within(a: tuple, b: tuple) -> bool:
    """The string constraints ``a`` (tuples whose first field is the pattern / format) are among ``b``."""
    return {e[0] if isinstance(e, tuple) else e for e in a} <= {e[0] if isinstance(e, tuple) else e for e in b}


def _adds_no_annotations(p: Clause, q: Clause) -> bool:
    """The object/array pieces ``p`` has beyond ``q``'s evaluate nothing (unevaluated*)."""
    qo = q.obj.piece_keys()
    qa = {x.key() for x in q.arr.pieces}
    return (all(not x.evaluates for x in p.obj.pieces if x.key() not in qo)
            and all(not x.evaluates for x in p.arr.pieces if x.key() not in qa))


def _or(*lists: list[Clause]) -> list[Clause]:
    out: list[Clause] = []
    for lst in lists:
        out.extend(lst)
    if len(out) > MAX_CLAUSES:
        raise UnsupportedSchemaError(f"schema expands to more than {MAX_CLAUSES} alternatives", "anyOf", "")
    return out


class DnfBuilder:
    """Turns schema nodes into clause lists. ``unsupported(msg, keyword, pointer)`` either raises
    :class:`UnsupportedSchemaError` or (lenient mode) warns and returns, in which case the keyword
    is ignored."""

    def __init__(self, ctx: SchemaContext, unsupported: Callable[[str, str, str], None], lenient: bool):
        self.ctx = ctx
        self.unsupported = unsupported
        self.lenient = lenient
        self.draft = ctx.draft
        self._force_strict = 0
        # disjointness proofs between oneOf branches recurse into shared subschemas (which have
        # oneOfs of their own): memoized, and bounded by a step budget (out of budget: "not
        # proven disjoint", the sound answer)
        self._disjoint_memo: dict[tuple, bool] = {}
        self._disjoint_dnf: dict[tuple, Optional[list[Clause]]] = {}
        # schemas this builder makes up (split cases): one live dict per content, because memo
        # keys hold a node's ``id(schema)`` -- a dropped temporary's id is reused by the next one
        self._made_schemas: dict[str, dict] = {}
        self._pattern_words_memo: dict[str, Optional[list[str]]] = {}
        self._disjoint_steps = 0
        self._disjoint_nesting = 0   # proofs in progress (a branch's DNF may need proofs of its own)

    def _unsup(self, msg: str, keyword: str, pointer: str) -> None:
        if self._force_strict:
            raise UnsupportedSchemaError(msg, keyword, pointer)
        self.unsupported(msg, keyword, pointer)

    # ------------------------------------------------------------------ helpers
    def true_node(self, node: Node) -> Node:
        return Node(True, node.resolver, node.pointer)

    def false_node(self, node: Node) -> Node:
        return Node(False, node.resolver, node.pointer)

    def child(self, node: Node, sub: Any, *path) -> Node:
        return self.ctx.child(node, sub, *path)

    def is_pure_ref(self, schema: Any) -> bool:
        """A schema whose only validation keyword is ``$ref`` (draft <= 7: any schema with $ref)."""
        if not isinstance(schema, dict) or "$ref" not in schema:
            return False
        if self.draft <= 7:
            return True
        return not any(k in self.ctx.keywords for k in schema if k != "$ref")

    def conj_dnf(self, conj: Conj, guard: tuple = ()) -> list[Clause]:
        out = [TOP]
        for node, neg in conj:
            out = _and(out, self.dnf(node, neg, guard))
            if not out:
                break
        return out

    # ------------------------------------------------------------------ entry
    def dnf(self, node: Node, neg: bool = False, guard: tuple = ()) -> list[Clause]:
        s = node.schema
        if s is True or s is False:
            return [TOP] if (s is True) != neg else []
        if not isinstance(s, dict):
            raise InvalidSchemaError(f"schema at {node.pointer or '#'} is not an object or boolean")
        if neg:
            # a failed / negated subschema contributes no annotations (unevaluated*)
            return [_no_eval(c) for c in self._negative(node, guard)]
        return self._positive(node, guard)

    def _keywords(self, s: dict) -> list[str]:
        if self.draft <= 7 and "$ref" in s:
            return ["$ref"]
        return [k for k in s if k in self.ctx.keywords]

    def _ref(self, node: Node, guard: tuple, neg: bool) -> list[Clause]:
        target = self.ctx.resolve(node, node.schema["$ref"])
        key = target.key()
        if key in guard:
            self._unsup("recursive $ref that is not guarded by an object or array", "$ref", node.pointer)
            return [TOP] if not neg else []
        return self.dnf(target, neg, guard + (key,))

    # ------------------------------------------------------------------ positive
    def _positive(self, node: Node, guard: tuple, context: Clause = TOP) -> list[Clause]:
        """``context ∧ node``; ``context`` (constraints the value meets anyway, e.g. an enclosing
        schema's keywords before this ``allOf`` member) lets a ``oneOf`` inside restrict its
        branches first. Callers pass a context only where ``node`` has no ``unevaluated*``
        keyword (those must not see the context's properties as evaluated)."""
        s = node.schema
        kws = self._keywords(s)
        base = TOP
        out = [context]
        ptr = node.pointer
        done = set()
        for k in kws:
            if k in done:
                continue
            v = s[k]
            if k == "type":
                names = v if isinstance(v, list) else [v]
                kinds = frozenset().union(*(type_kinds(t) for t in names))
                base = base.merge(Clause(types=kinds))
            elif k == "enum":
                base = base.merge(Clause(enum=dedup_values(v), enum_pointer=ptr))
            elif k == "const":
                base = base.merge(Clause(enum=(v,), enum_pointer=ptr))
            elif k == "minLength":
                base = base.merge(Clause(string=StringSpec(min_len=int(v))))
            elif k == "maxLength":
                base = base.merge(Clause(string=StringSpec(max_len=int(v))))
            elif k == "pattern":
                base = base.merge(Clause(string=StringSpec(patterns=((v, ptr + "/pattern"),))))
            elif k == "format":
                if isinstance(v, str):
                    if not checker_verified(v, self.ctx.format_checker):
                        self._unsup(f"format {v!r}: this draft's jsonschema checker is not the one structgen's "
                                    "language for it was verified against", "format", ptr)
                        continue
                    base = base.merge(Clause(string=StringSpec(formats=((v, ptr + "/format"),))))
            elif k in _NUMBER_KW:
                done.update(_NUMBER_KW)
                base = base.merge(Clause(number=self._number_bounds(s)))
            elif k == "multipleOf":
                base = base.merge(Clause(number=NumberSpec(multiples=((v, ptr + "/multipleOf"),))))
            elif k in _OBJECT_PIECE_KW:
                done.update(_OBJECT_PIECE_KW)
                base = base.merge(Clause(obj=ObjectSpec(pieces=(self._obj_piece(node),), pointer=ptr)))
            elif k == "required":
                base = base.merge(Clause(obj=ObjectSpec(required=tuple(dict.fromkeys(v)), pointer=ptr)))
            elif k == "minProperties":
                base = base.merge(Clause(obj=ObjectSpec(min_props=int(v), pointer=ptr)))
            elif k == "maxProperties":
                base = base.merge(Clause(obj=ObjectSpec(max_props=int(v), pointer=ptr)))
            elif k == "propertyNames":
                pn = self.child(node, v, "propertyNames")
                base = base.merge(Clause(obj=ObjectSpec(names=(((pn, False),),), pointer=ptr)))
            elif k in _ARRAY_PIECE_KW:
                done.update(_ARRAY_PIECE_KW)
                piece = self._arr_piece(node)
                if piece is not None:
                    base = base.merge(Clause(arr=ArraySpec(pieces=(piece,), pointer=ptr)))
            elif k == "contains":
                c = self._contains(node)
                if c is not None:
                    base = base.merge(Clause(arr=ArraySpec(contains=(c,), pointer=ptr)))
            elif k == "minItems":
                base = base.merge(Clause(arr=ArraySpec(min_items=int(v), pointer=ptr)))
            elif k == "maxItems":
                base = base.merge(Clause(arr=ArraySpec(max_items=int(v), pointer=ptr)))
            elif k == "uniqueItems":
                if v:
                    base = base.merge(Clause(arr=ArraySpec(unique=(ptr + "/uniqueItems",), pointer=ptr)))
            elif k in _COMBINATORS:
                # keep keyword order: constraints seen so far go first (property order!)
                out = _and(out, [base])
                base = TOP
                if out:
                    out = self._combinator(node, k, v, out, guard)
            elif k in ("unevaluatedProperties", "unevaluatedItems"):
                continue  # applied below, once everything this schema evaluates is known
            elif k in _IGNORED_HERE:
                continue
            else:
                self._unsup(f"keyword {k!r} is not supported", k, ptr)
            if not out:
                return []
        out = _and(out, [base]) if not base.empty else []
        if "unevaluatedProperties" in kws:
            sub = self.child(node, s["unevaluatedProperties"], "unevaluatedProperties")
            out = [self._unevaluated_props(c, sub) for c in out]
        if "unevaluatedItems" in kws:
            sub = self.child(node, s["unevaluatedItems"], "unevaluatedItems")
            if sub.schema is not True and sub.schema != {} and self._contains_in_place(node, set()):
                # items that a `contains` matched count as evaluated: the element constraint would
                # be "matches a contains, or sub", which the clause form cannot carry
                self._unsup("unevaluatedItems together with contains", "unevaluatedItems", sub.pointer)
                return out
            out = [self._unevaluated_items(c, sub) for c in out]
        return out

    def _contains_in_place(self, node: Node, seen: set) -> bool:
        """Whether ``node`` or a subschema applied in place (allOf/anyOf/oneOf/not/if/then/else/
        dependentSchemas/$ref) has a ``contains`` keyword."""
        s = node.schema
        if not isinstance(s, dict) or node.key() in seen:
            return False
        seen.add(node.key())
        if "contains" in s:
            return True
        subs = []
        for k in ("allOf", "anyOf", "oneOf"):
            if isinstance(s.get(k), list):
                subs += [self.child(node, x, k, i) for i, x in enumerate(s[k])]
        for k in ("not", "if", "then", "else"):
            if k in s:
                subs.append(self.child(node, s[k], k))
        if isinstance(s.get("dependentSchemas"), dict):
            subs += [self.child(node, x, "dependentSchemas", name) for name, x in s["dependentSchemas"].items()]
        if isinstance(s.get("$ref"), str):
            try:
                subs.append(self.ctx.resolve(node, s["$ref"]))
            except (InvalidSchemaError, UnsupportedSchemaError):
                pass  # reported where the $ref itself is compiled
        return any(self._contains_in_place(x, seen) for x in subs)

    def _unevaluated_props(self, c: Clause, sub: Node) -> Clause:
        """Keys that no (positively applied) piece of this clause evaluates must satisfy ``sub``.
        Counting only the clause's own branch is stricter than jsonschema (which also counts other
        successful anyOf branches), hence sound."""
        pieces = [p for p in c.obj.pieces if p.evaluates]
        if any(p.additional is not None for p in pieces):
            return c
        if sub.schema is True or sub.schema == {}:
            # evaluates every remaining property (matters to enclosing unevaluatedProperties)
            piece = ObjPiece((), (), (), sub.pointer)
            return replace(c, obj=c.obj.merge(ObjectSpec(pieces=(piece,), pointer=sub.pointer)))
        names = tuple(dict.fromkeys(n for p in pieces for n, _ in p.props))
        pats = tuple(dict.fromkeys(pat for p in pieces for pat, _, _ in p.patterns))
        piece = ObjPiece(tuple((n, ()) for n in names), tuple((pat, (), sub.pointer) for pat in pats),
                         ((sub, False),), sub.pointer)
        return replace(c, obj=c.obj.merge(ObjectSpec(pieces=(piece,), pointer=sub.pointer)))

    def _unevaluated_items(self, c: Clause, sub: Node) -> Clause:
        pieces = [p for p in c.arr.pieces if p.evaluates]
        if any(p.rest is not None for p in pieces):
            return c
        if sub.schema is True or sub.schema == {}:
            piece = ArrPiece((), (), sub.pointer)
            return replace(c, arr=c.arr.merge(ArraySpec(pieces=(piece,), pointer=sub.pointer)))
        k = max((len(p.prefix) for p in pieces), default=0)
        piece = ArrPiece(tuple(() for _ in range(k)), ((sub, False),), sub.pointer)
        return replace(c, arr=c.arr.merge(ArraySpec(pieces=(piece,), pointer=sub.pointer)))

    def _combinator(self, node: Node, k: str, v: Any, out: list[Clause], guard: tuple) -> list[Clause]:
        if k == "allOf":
            for i, sub in enumerate(v):
                child = self.child(node, sub, "allOf", i)
                if (len(out) == 1 and isinstance(child.schema, dict)
                        and not any(u in child.schema for u in ("unevaluatedProperties", "unevaluatedItems"))):
                    out = self._positive(child, guard, out[0])
                else:
                    out = _and(out, self.dnf(child, False, guard))
            return out
        if k == "anyOf":
            alts = [self.dnf(self.child(node, sub, "anyOf", i), False, guard) for i, sub in enumerate(v)]
            if self.ctx.uses_unevaluated and len(alts) > 1:
                alts += self._branch_unions(alts)
            return _and(out, _or(*alts))
        if k == "oneOf":
            if len(out) == 1:
                # the constraints seen so far restrict every branch (often they make overlapping
                # branches disjoint: a discriminator required outside the oneOf); the result
                # already includes them
                return self._one_of(node, guard, context=out[0])
            return _and(out, self._one_of(node, guard))
        if k == "not":
            return _and(out, self.dnf(self.child(node, v, "not"), True, guard))
        if k == "if":
            return _and(out, self._if_then_else(node, guard, neg=False))
        if k == "$ref":
            return _and(out, self._ref(node, guard, False))
        return _and(out, self._dependencies(node, k, guard, neg=False))

    def _branch_unions(self, alts: list[list[Clause]]) -> list[list[Clause]]:
        """For ``unevaluated*``: a value meeting several ``anyOf`` branches is evaluated by all of
        them, so each set of branches also contributes its conjunction (whose annotations are the
        union). All sets for up to :data:`MAX_UNION_BRANCHES` branches, pairs for up to twice as
        many; beyond that a value meeting several branches only gets one branch's annotations
        (sound, stricter)."""
        n = len(alts)
        sizes = range(2, n + 1) if n <= MAX_UNION_BRANCHES else (2,) if n <= 2 * MAX_UNION_BRANCHES else ()
        out = []
        for size in sizes:
            for group in itertools.combinations(range(n), size):
                acc = alts[group[0]]
                for i in group[1:]:
                    acc = _and(acc, alts[i])
                out.append(acc)
        return out

    def _number_bounds(self, s: dict) -> NumberSpec:
        lower = upper = None
        if self.draft == 4:
            if "minimum" in s:
                lower = Bound(s["minimum"], bool(s.get("exclusiveMinimum", False)))
            if "maximum" in s:
                upper = Bound(s["maximum"], bool(s.get("exclusiveMaximum", False)))
            return NumberSpec(lower, upper)
        from .numbers import tighter_lower, tighter_upper

        if "minimum" in s:
            lower = Bound(s["minimum"], False)
        if "exclusiveMinimum" in s and not isinstance(s["exclusiveMinimum"], bool):
            lower = tighter_lower(lower, Bound(s["exclusiveMinimum"], True))
        if "maximum" in s:
            upper = Bound(s["maximum"], False)
        if "exclusiveMaximum" in s and not isinstance(s["exclusiveMaximum"], bool):
            upper = tighter_upper(upper, Bound(s["exclusiveMaximum"], True))
        return NumberSpec(lower, upper)

    def _obj_piece(self, node: Node) -> ObjPiece:
        s = node.schema
        props = tuple((name, ((self.child(node, sub, "properties", name), False),))
                      for name, sub in s.get("properties", {}).items())
        pats = tuple((p, ((self.child(node, sub, "patternProperties", p), False),),
                      node.pointer + "/patternProperties")
                     for p, sub in s.get("patternProperties", {}).items())
        additional = None
        if "additionalProperties" in s:
            additional = ((self.child(node, s["additionalProperties"], "additionalProperties"), False),)
        return ObjPiece(props, pats, additional, node.pointer)

    def _arr_piece(self, node: Node) -> Optional[ArrPiece]:
        s = node.schema
        prefix: tuple = ()
        rest = None
        if self.draft >= 2020:
            if "prefixItems" in s:
                prefix = tuple(((self.child(node, sub, "prefixItems", i), False),) for i, sub in enumerate(s["prefixItems"]))
            if "items" in s:
                rest = ((self.child(node, s["items"], "items"), False),)
        else:
            items = s.get("items")
            if isinstance(items, list):
                prefix = tuple(((self.child(node, sub, "items", i), False),) for i, sub in enumerate(items))
                if "additionalItems" in s:
                    rest = ((self.child(node, s["additionalItems"], "additionalItems"), False),)
            elif items is not None:
                rest = ((self.child(node, items, "items"), False),)
        if not prefix and rest is None:
            return None
        return ArrPiece(prefix, rest, node.pointer)

    def _contains(self, node: Node):
        s = node.schema
        sub = self.child(node, s["contains"], "contains")
        lo, hi = 1, None
        if self.draft >= 2019:
            lo = int(s.get("minContains", 1))
            hi = s.get("maxContains")
            hi = None if hi is None else int(hi)
        if lo == 0 and hi is None:
            return None
        return (((sub, False),), lo, hi, node.pointer + "/contains")

    def _one_of(self, node: Node, guard: tuple, context: Optional[Clause] = None) -> list[Clause]:
        """``oneOf``, type by type: where only one branch admits values of a type, or the branches
        are provably disjoint on it, a plain union; where two branches admit *every* value of the
        type, nothing of that type; otherwise exactly-one is built as
        ``∨_i (B_i ∧ ∧_{j overlapping i} ¬B_j)`` when the negations are expressible.

        With ``context`` (constraints the value must meet anyway), the result is ``context ∧
        oneOf``: each branch is restricted to ``context`` first (exact: for a value meeting
        ``context``, meeting ``B_i`` and ``context ∧ B_i`` are the same), so branches that only
        overlap outside it count as disjoint and contradictory ones drop out."""
        subs = [self.child(node, sub, "oneOf", i) for i, sub in enumerate(node.schema["oneOf"])]
        alts = [self.dnf(n, False, guard) for n in subs]
        live = [(n, a) for n, a in zip(subs, alts) if a]
        out: list[Clause] = []
        for t in TYPES:
            if context is not None and t not in context.types:
                continue
            parts = [(n, [c.with_types({t}) for c in a if t in c.types]) for n, a in live]
            parts = [(n, cl) for n, cl in parts if cl]
            if not parts:
                continue
            if sum(1 for _, cl in parts if any(_trivial_on(c, t) for c in cl)) >= 2:
                continue  # every value of this type satisfies two branches
            if context is not None:
                parts = [(n, _and([context], cl)) for n, cl in parts]
                parts = [(n, cl) for n, cl in parts if cl]
                if not parts:
                    continue
            if len(parts) == 1:
                out = _or(out, parts[0][1])
                continue
            if t == "object":
                out = _or(out, self._one_of_objects(node, parts, guard, 2))
                continue
            out = _or(out, self._exactly_one(node, parts, t, guard))
        return out

    def _overlaps(self, parts: list) -> list[list[bool]]:
        k = len(parts)
        overlap = [[False] * k for _ in range(k)]
        for i in range(k):
            for j in range(i + 1, k):
                if not self.branches_disjoint(parts[i][0], parts[i][1], parts[j][0], parts[j][1]):
                    overlap[i][j] = overlap[j][i] = True
        return overlap

    def _exactly_one(self, node: Node, parts: list, t: str, guard: tuple, overlap=None) -> list[Clause]:
        """Values of kind ``t`` in exactly one branch: a union where the branches are disjoint,
        else ``∨_i (B_i ∧ ∧_{j overlapping i} ¬B_j)`` when the negations are expressible."""
        overlap = self._overlaps(parts) if overlap is None else overlap
        k = len(parts)
        if not any(any(r) for r in overlap):
            return _or(*[cl for _, cl in parts])
        out: list[Clause] = []
        try:
            self._force_strict += 1
            for i in range(k):
                acc = parts[i][1]
                for j in range(k):
                    if overlap[i][j] and acc:
                        neg = [c.with_types(c.types & {t}) for c in self.dnf(parts[j][0], True, guard) if t in c.types]
                        acc = _and_negation(acc, neg)
                        if t == "object":
                            acc = self._drop_empty_objects(acc)
                out = _or(out, acc)
        except UnsupportedSchemaError as e:
            self._force_strict -= 1
            self._unsup(f"oneOf branches overlap on {t!r} values and 'exactly one' needs a negation that "
                        f"is not expressible ({e})", "oneOf", node.pointer)
            return _or(*[cl for _, cl in parts])
        self._force_strict -= 1
        return out

    def _drop_empty_objects(self, clauses: list[Clause]) -> list[Clause]:
        """``clauses`` without the object alternatives that provably admit no object: a required
        property whose value constraints (positive and negated schemas, from the branch and from
        the negations of the branches it overlaps) have an empty DNF — e.g. ``"type": {"enum":
        ["Point"]}`` against the negation's "``type`` is not a string". Exact (drops only empty
        alternatives); it keeps the product of several branches' negations from blowing up."""
        from .objects import listed_value_conj

        out = []
        for c in clauses:
            if "object" in c.types and c.obj.required:
                for name in c.obj.required:
                    conj = listed_value_conj(c.obj, name)
                    if len(conj) < 2 or all(not neg for _, neg in conj):
                        continue
                    if self._dnf_for_disjointness(conj) == []:
                        c = c.with_types(c.types - {"object"})
                        break
                if c.empty:
                    continue
            out.append(c)
        return out

    def _one_of_objects(self, node: Node, parts: list, guard: tuple, depth: int) -> list[Clause]:
        """``oneOf`` on object values. Overlapping branches are first split on a *discriminator*:
        a property that the branches constrain. Split by presence: with it present they are often
        disjoint, and with it absent branches that require it drop out. Split by value, when the
        branches allow it finitely many values (``enum``/``const`` tags): one case per value, one
        for "present with another value", one for "absent"; each branch keeps only the cases its
        own values allow. The cases partition the objects, so the result is exact; what still
        overlaps goes through :meth:`_exactly_one`."""
        overlap = self._overlaps(parts)
        if not any(any(r) for r in overlap):
            return _or(*[cl for _, cl in parts])
        if depth > 0:
            best = None
            for name in self._discriminators(parts, overlap):
                splits = [[self._present(node, [name]), self._absent(node, [name])]]
                values = self._tag_values(parts, name)
                if values is not None:
                    splits.append([*(self._has_value(node, name, (v,), False) for v in values),
                                   self._has_value(node, name, values, True), self._absent(node, [name])])
                for cases in splits:
                    restricted = [self._restrict(parts, c, name) for c in cases]
                    # each case is expanded on its own: the worst case counts, then the total
                    counts = [sum(map(sum, self._overlaps(r))) for r in restricted]
                    score = (max(counts), sum(counts))
                    if score[0] < sum(map(sum, overlap)) and (best is None or score < best[0]):
                        best = (score, restricted)
                if best is not None and best[0][0] == 0:
                    break
            if best is not None:
                return _or(*[self._one_of_objects(node, r, guard, depth - 1) for r in best[1] if r])
        return self._exactly_one(node, parts, "object", guard, overlap)

    def _tag_values(self, parts: list, name: str) -> Optional[tuple]:
        """The values that the branches listing property ``name`` restrict it to with an
        ``enum``/``const`` of their own (a tag), when there are 2 to 32 of them; None otherwise.
        Syntactic, so it stays cheap under recursive schemas."""
        from .objects import listed_value_conj

        values: list = []
        for _, cl in parts:
            for c in cl:
                if not any(n == name for p in c.obj.pieces for n, _ in p.props):
                    continue
                conj = listed_value_conj(c.obj, name)
                tags = [n.schema["enum"] if "enum" in n.schema else [n.schema["const"]]
                        for n, neg in conj if not neg and isinstance(n.schema, dict)
                        and ("enum" in n.schema or "const" in n.schema) and isinstance(n.schema.get("enum", []), list)]
                if tags:  # an untagged branch stays in every case
                    values.extend(v for v in tags[0] if self._conj_valid(conj, v))
        values = list(dedup_values(values))
        return tuple(values) if 2 <= len(values) <= 32 else None

    def _has_value(self, node: Node, name: str, values: tuple, negate: bool) -> Clause:
        """Objects with property ``name`` present and its value among ``values`` (or, negated,
        not among them)."""
        tag = Node(self._made_schema({"enum": list(values)}), node.resolver, node.pointer)
        piece = ObjPiece(((name, ((tag, negate),)),), (), None, node.pointer, evaluates=False)
        return Clause(types=frozenset(("object",)), obj=ObjectSpec(pieces=(piece,), required=(name,), pointer=node.pointer))

    def _made_schema(self, schema: dict) -> dict:
        """The builder's one copy of a schema it made up (kept alive: nodes are memoized by the
        identity of their schema)."""
        return self._made_schemas.setdefault(json.dumps(schema, sort_keys=True), schema)

    @staticmethod
    def _discriminators(parts: list, overlap: list[list[bool]]) -> list[str]:
        """Property names listed by overlapping branches, most widely listed first (at most 8)."""
        count: dict[str, int] = {}
        for i, (_, cl) in enumerate(parts):
            if not any(overlap[i]):
                continue
            names = {n for c in cl for p in c.obj.pieces for n, _ in p.props}
            for n in names:
                count[n] = count.get(n, 0) + 1
        ranked = sorted((n for n, c in count.items() if c >= 2), key=lambda n: -count[n])
        return ranked[:8]

    def _restrict(self, parts: list, c: Clause, name: Optional[str] = None) -> list:
        """Each branch's clauses conjoined with ``c``; alternatives that are provably empty
        (``name`` is required and its value constraints have an empty DNF) and branches left with
        none drop out. Where ``name`` may be absent, an unsatisfiable value schema only forbids it."""
        from .objects import listed_value_conj

        out = []
        for n, cl in parts:
            merged = [m for m in (x.merge(c) for x in cl) if not m.empty]
            if name is not None:
                merged = [m for m in merged if name not in m.obj.required
                          or self._dnf_for_disjointness(listed_value_conj(m.obj, name)) != []]
            if merged:
                out.append((n, merged))
        return out

    def _not_one_of(self, node: Node, guard: tuple) -> list[Clause]:
        """``not oneOf``: no branch, or at least two branches. "No branch" is a product of the
        branches' negations, exponential in their number; when it grows too large and the
        branches are objects tagged by a property's ``enum``/``const`` (a discriminated union),
        objects are split by the tag's value: with the tag fixed, only the branches allowing
        that value take part, so the product stays linear."""
        subs = [self.child(node, sub, "oneOf", i) for i, sub in enumerate(node.schema["oneOf"])]
        pos = [self.dnf(n, False, guard) for n in subs]
        negs = [self.dnf(n, True, guard) for n in subs]
        try:
            return self._none_or_two(subs, pos, negs, ALL_TYPES)
        except UnsupportedSchemaError as first:
            obj = frozenset(("object",))
            non_objects = self._none_or_two(subs, pos, negs, ALL_TYPES - obj)
            parts = [(n, [c.with_types(obj) for c in p if "object" in c.types]) for n, p in zip(subs, pos)]
            everywhere = [[True] * len(parts)] * len(parts)
            for name in self._discriminators(parts, everywhere)[:3]:
                values = self._tag_values(parts, name)
                if values is None:
                    continue
                cases = [*(self._has_value(node, name, (v,), False) for v in values),
                         self._has_value(node, name, values, True), self._absent(node, [name])]
                out = non_objects
                try:
                    for c in cases:
                        alive = [i for i in range(len(parts)) if self._restrict([parts[i]], c, name)]
                        out = _or(out, _and([c], self._none_or_two([subs[i] for i in alive], [pos[i] for i in alive],
                                                                   [negs[i] for i in alive], obj)))
                    return out
                except UnsupportedSchemaError:
                    continue
            raise first

    def _none_or_two(self, subs: list[Node], pos: list[list[Clause]], negs: list[list[Clause]],
                     types: frozenset) -> list[Clause]:
        """Values of ``types`` that meet none of the branches, or at least two of them."""
        def only(cl: list[Clause]) -> list[Clause]:
            return [m for m in (c.with_types(c.types & types) for c in cl) if not m.empty]

        none = [Clause(types=types)]
        for n in negs:
            none = _and(none, only(n))
        out = list(none)
        for i in range(len(subs)):
            for j in range(i + 1, len(subs)):
                pi, pj = only(pos[i]), only(pos[j])
                if pi and pj and not self.branches_disjoint(subs[i], pi, subs[j], pj):
                    out = _or(out, _and(pi, pj))
        return out

    def _if_then_else(self, node: Node, guard: tuple, neg: bool) -> list[Clause]:
        s = node.schema
        if "then" not in s and "else" not in s:
            if neg:
                return []
            if self.ctx.uses_unevaluated:
                # `if` alone still yields annotations when it succeeds: split on it if expressible
                try:
                    self._force_strict += 1
                    if_node = self.child(node, s["if"], "if")
                    return _or(self.dnf(if_node, False, guard), self.dnf(if_node, True, guard))
                except UnsupportedSchemaError:
                    pass
                finally:
                    self._force_strict -= 1
            return [TOP]
        if_node = self.child(node, s["if"], "if")
        then_node = self.child(node, s.get("then", True), "then")
        else_node = self.child(node, s.get("else", True), "else")
        pos_if = self.dnf(if_node, False, guard)
        neg_if = self.dnf(if_node, True, guard)
        return _or(_and(pos_if, self.dnf(then_node, neg, guard)), _and(neg_if, self.dnf(else_node, neg, guard)))

    def _present(self, node: Node, names: Iterable[str]) -> Clause:
        return Clause(types=frozenset(("object",)), obj=ObjectSpec(required=tuple(dict.fromkeys(names)), pointer=node.pointer))

    def _absent(self, node: Node, names: Iterable[str]) -> Clause:
        f = ((self.false_node(node), False),)
        piece = ObjPiece(tuple((n, f) for n in names), (), None, node.pointer, evaluates=False)
        return Clause(types=frozenset(("object",)), obj=ObjectSpec(pieces=(piece,), pointer=node.pointer))

    def _dependencies(self, node: Node, kw: str, guard: tuple, neg: bool) -> list[Clause]:
        s = node.schema
        out = [TOP] if not neg else []
        non_obj = Clause(types=ALL_TYPES - {"object"})
        for prop, dep in s[kw].items():
            if isinstance(dep, list) or kw == "dependentRequired":
                # prop present -> all of dep present
                if not neg:
                    alt = [non_obj, self._absent(node, [prop]), self._present(node, [prop, *dep])]
                    out = _and(out, alt)
                else:
                    for d in dep:
                        c = self._present(node, [prop]).merge(self._absent(node, [d]))
                        if not c.empty:
                            out.append(c)
            else:
                sub = self.child(node, dep, kw, prop)
                if not neg:
                    present = self._present(node, [prop])
                    if isinstance(sub.schema, dict) and not any(u in sub.schema for u in ("unevaluatedProperties", "unevaluatedItems")):
                        # "prop is present" restricts the schema's oneOf branches (often a tag split)
                        when = self._positive(sub, guard, present)
                    else:
                        when = _and([present], self.dnf(sub, False, guard))
                    alt = _or([non_obj, self._absent(node, [prop])], when)
                    out = _and(out, alt)
                else:
                    out = _or(out, _and([self._present(node, [prop])], self.dnf(sub, True, guard)))
        return out

    # ------------------------------------------------------------------ negative
    def _negative(self, node: Node, guard: tuple) -> list[Clause]:
        s = node.schema
        kws = self._keywords(s)
        ptr = node.pointer
        out: list[Clause] = []
        done = set()
        obj = frozenset(("object",))
        arr = frozenset(("array",))
        for k in kws:
            if k in done:
                continue
            v = s[k]
            if k == "type":
                names = v if isinstance(v, list) else [v]
                kinds = frozenset().union(*(type_kinds(t) for t in names))
                if ALL_TYPES - kinds:
                    out.append(Clause(types=ALL_TYPES - kinds))
            elif k == "enum":
                out.append(Clause(excluded=tuple((x, ptr) for x in v)))
            elif k == "const":
                out.append(Clause(excluded=((v, ptr),)))
            # a type-specific keyword holds for every value of another type, so its negation is
            # met only by values of its own type
            elif k == "minLength":
                if int(v) > 0:
                    out.append(Clause(types=STR, string=StringSpec(max_len=int(v) - 1)))
            elif k == "maxLength":
                out.append(Clause(types=STR, string=StringSpec(min_len=int(v) + 1)))
            elif k == "pattern":
                out.append(Clause(types=STR, string=StringSpec(not_patterns=((v, ptr + "/pattern"),))))
            elif k == "format":
                if not isinstance(v, str) or (not format_regexes(v) and v not in self.ctx.format_checker.checkers):
                    continue  # an annotation: always satisfied, so its negation is empty
                if v in self.ctx.format_checker.checkers:
                    # strings the checker refuses: exactly expressible when it is a regular language
                    if v in EXACT_FORMAT_SEARCH and checker_verified(v, self.ctx.format_checker):
                        out.append(Clause(types=STR, string=StringSpec(
                            not_patterns=((EXACT_FORMAT_SEARCH[v], ptr + "/format"),))))
                        continue
                    self._unsup(f"'not' of the checked format {v!r}", "format", ptr)
                # a format jsonschema does not check holds for every value: its negation is empty
                continue
            elif k in _NUMBER_KW:
                done.update(_NUMBER_KW)
                ns = self._number_bounds(s)
                if ns.lower is not None:
                    out.append(Clause(types=NUM, number=NumberSpec(upper=Bound(ns.lower.value, not ns.lower.strict))))
                if ns.upper is not None:
                    out.append(Clause(types=NUM, number=NumberSpec(lower=Bound(ns.upper.value, not ns.upper.strict))))
            elif k in _OBJECT_PIECE_KW:
                done.update(_OBJECT_PIECE_KW)
                out.extend(self._negative_object_piece(node))
            elif k == "required":
                for name in v:
                    out.append(self._absent(node, [name]))
            elif k == "minProperties":
                if int(v) > 0:
                    out.append(Clause(types=obj, obj=ObjectSpec(max_props=int(v) - 1, pointer=ptr)))
            elif k == "maxProperties":
                out.append(Clause(types=obj, obj=ObjectSpec(min_props=int(v) + 1, pointer=ptr)))
            elif k in _ARRAY_PIECE_KW:
                done.update(_ARRAY_PIECE_KW)
                piece = self._arr_piece(node)
                if piece is None:
                    continue
                if piece.prefix and piece.rest is not None:
                    self._unsup("'not' of items together with prefixItems/additionalItems", k, ptr)
                    continue
                t = self.true_node(node)
                for i, pc in enumerate(piece.prefix):
                    (pn, _), = pc
                    pre = tuple(((t, False),) for _ in range(i)) + (((pn, True),),)
                    out.append(Clause(types=arr, arr=ArraySpec(pieces=(ArrPiece(pre, None, ptr, evaluates=False),), min_items=i + 1, pointer=ptr)))
                if piece.rest is not None:
                    (rn, _), = piece.rest
                    out.append(Clause(types=arr, arr=ArraySpec(contains=((((rn, True),), 1, None, ptr + "/items"),), pointer=ptr)))
            elif k == "contains":
                c = self._contains(node)
                if c is None:
                    continue
                conj, lo, hi, cptr = c
                if lo == 1 and hi is None:
                    (cn, _), = conj
                    out.append(Clause(types=arr, arr=ArraySpec(pieces=(ArrPiece((), ((cn, True),), ptr, evaluates=False),), pointer=ptr)))
                else:
                    self._unsup("'not' of contains with minContains/maxContains", "contains", ptr)
            elif k == "minItems":
                if int(v) > 0:
                    out.append(Clause(types=arr, arr=ArraySpec(max_items=int(v) - 1, pointer=ptr)))
            elif k == "maxItems":
                out.append(Clause(types=arr, arr=ArraySpec(min_items=int(v) + 1, pointer=ptr)))
            elif k == "uniqueItems":
                if v:
                    self._unsup("'not' of uniqueItems", k, ptr)
            elif k == "allOf":
                out = _or(out, *[self.dnf(self.child(node, sub, "allOf", i), True, guard) for i, sub in enumerate(v)])
            elif k == "anyOf":
                acc = [TOP]
                for i, sub in enumerate(v):
                    acc = _and(acc, self.dnf(self.child(node, sub, "anyOf", i), True, guard))
                out = _or(out, acc)
            elif k == "oneOf":
                out = _or(out, self._not_one_of(node, guard))
            elif k == "not":
                out = _or(out, self.dnf(self.child(node, v, "not"), False, guard))
            elif k == "if":
                out = _or(out, self._if_then_else(node, guard, neg=True))
            elif k == "$ref":
                out = _or(out, self._ref(node, guard, True))
            elif k in ("dependentRequired", "dependentSchemas", "dependencies"):
                out = _or(out, self._dependencies(node, k, guard, neg=True))
            elif k in ("unevaluatedProperties", "unevaluatedItems"):
                if v is True or v == {}:
                    continue
                self._unsup(f"'not' of {k}", k, ptr)
            elif k == "propertyNames":
                # some key fails propertyNames (its value is free)
                pn = self.child(node, v, "propertyNames")
                w = KeyWitness(key_not=((pn, False),), keyword="propertyNames", pointer=ptr + "/propertyNames")
                out.append(Clause(types=obj, obj=ObjectSpec(witnesses=(w,), pointer=ptr)))
            elif k == "multipleOf":
                if isinstance(v, int) and not isinstance(v, bool) and v > 0:
                    # integer divisor: exactly the integers with a remainder, and non-integral numbers
                    out.append(Clause(types=NUM, number=NumberSpec(not_multiples=((v, ptr + "/multipleOf"),))))
                else:
                    self._unsup(f"'not' of {k} {v!r} (only integer divisors)", k, ptr)
            elif k in _IGNORED_HERE:
                continue
            else:
                self._unsup(f"keyword {k!r} is not supported", k, ptr)
        return out

    def _negative_object_piece(self, node: Node) -> list[Clause]:
        """``¬(properties ∧ patternProperties ∧ additionalProperties)``: some member violates its
        schema — a listed property's value, a value under a matching pattern, or an additional
        member's value (:class:`~structgen.json_schema.spec.KeyWitness`; whether a witness among
        additional members is enforceable is decided when the object is emitted)."""
        s = node.schema
        ptr = node.pointer
        obj = frozenset(("object",))
        props = s.get("properties", {})
        pats = s.get("patternProperties", {})
        out: list[Clause] = []
        for name, sub in props.items():
            cn = self.child(node, sub, "properties", name)
            piece = ObjPiece(((name, ((cn, True),)),), (), None, ptr, evaluates=False)
            out.append(Clause(types=obj, obj=ObjectSpec(pieces=(piece,), required=(name,), pointer=ptr)))
        pptr = ptr + "/patternProperties"
        for pat, sub in pats.items():
            if sub is True or sub == {}:
                continue
            pn = self.child(node, sub, "patternProperties", pat)
            w = KeyWitness(in_patterns=((pat, pptr),), value=((pn, True),), keyword="patternProperties", pointer=pptr)
            out.append(Clause(types=obj, obj=ObjectSpec(witnesses=(w,), pointer=ptr)))
        if "additionalProperties" in s and s["additionalProperties"] not in (True, {}):
            an = self.child(node, s["additionalProperties"], "additionalProperties")
            w = KeyWitness(out_names=tuple(props), out_patterns=tuple((p, pptr) for p in pats), value=((an, True),),
                           keyword="additionalProperties", pointer=ptr + "/additionalProperties")
            out.append(Clause(types=obj, obj=ObjectSpec(witnesses=(w,), pointer=ptr)))
        return out

    # ------------------------------------------------------------------ disjointness (oneOf)
    def branches_disjoint(self, na: Node, ca: list[Clause], nb: Node, cb: list[Clause], depth: int = 0) -> bool:
        """Sound check that no value validates against both branches."""
        fa = self._finite_values(ca)
        if fa is not None:
            return not any(self.ctx.is_valid(nb, v) for v in fa)
        fb = self._finite_values(cb)
        if fb is not None:
            return not any(self.ctx.is_valid(na, v) for v in fb)
        return all(self._clauses_disjoint(x, y, depth) for x in ca for y in cb)

    def _finite_values(self, clauses: list[Clause]):
        """A finite list holding every value the clauses admit (as ``jsonschema`` judges them), or
        None: ``enum``/``const`` values, and the strings of a string clause with a ``pattern``
        whose (Python-exact) language is finite, such as a ``^tag$`` discriminator."""
        out: list = []
        for c in clauses:
            if c.enum is not None:
                out.extend(c.enum)
                continue
            words = self._pattern_words(c) if c.types == {"string"} else None
            if words is None:
                return None
            out.extend(words)
        return out

    def _pattern_words(self, c: Clause) -> Optional[list[str]]:
        """The strings of the first of ``c``'s patterns whose language has at most
        ``MAX_PATTERN_WORDS`` members (Python's reading of ``$``: a superset of what the engine
        generates and exactly what ``jsonschema`` accepts), or None."""
        from .lang import finite_strings
        from .pyregex import PatternInvalid, PatternUnsupported, search_language_python

        for p, _ in c.string.patterns:
            if p not in self._pattern_words_memo:
                try:
                    cps = finite_strings(search_language_python(p), MAX_PATTERN_WORDS)
                except (PatternInvalid, PatternUnsupported):
                    cps = None
                self._pattern_words_memo[p] = None if cps is None else ["".join(map(chr, w)) for w in cps]
            if self._pattern_words_memo[p] is not None:
                return self._pattern_words_memo[p]
        return None

    def _conj_valid(self, conj: Conj, v: Any) -> bool:
        return all(self.ctx.is_valid(n, v) != neg for n, neg in conj)

    def _conj_disjoint(self, a: Conj, b: Conj, depth: int) -> bool:
        if depth > 3 or self._disjoint_steps >= MAX_DISJOINT_STEPS:
            return False
        key = (conj_key(a), conj_key(b), depth)
        hit = self._disjoint_memo.get(key)
        if hit is None:
            if self._disjoint_nesting >= MAX_DISJOINT_NESTING:
                return False
            self._disjoint_steps += 1
            self._disjoint_nesting += 1
            try:
                hit = self._disjoint_memo[key] = self._conj_disjoint_uncached(a, b, depth)
            finally:
                self._disjoint_nesting -= 1
        return hit

    def _dnf_for_disjointness(self, conj: Conj) -> Optional[list[Clause]]:
        key = conj_key(conj)
        if key in self._disjoint_dnf:
            return self._disjoint_dnf[key]
        try:
            out: Optional[list[Clause]] = self.conj_dnf(conj)
        except (UnsupportedSchemaError, CompileLimitError, RecursionError):
            out = None
        self._disjoint_dnf[key] = out
        return out

    def _conj_disjoint_uncached(self, a: Conj, b: Conj, depth: int) -> bool:
        ca = self._dnf_for_disjointness(a)
        cb = self._dnf_for_disjointness(b) if ca is not None else None
        if ca is None or cb is None:
            return False
        if not ca or not cb:
            return True
        fa = self._finite_values(ca)
        if fa is not None:
            return not any(self._conj_valid(b, v) for v in fa)
        fb = self._finite_values(cb)
        if fb is not None:
            return not any(self._conj_valid(a, v) for v in fb)
        return all(self._clauses_disjoint(x, y, depth + 1) for x in ca for y in cb)

    def _clauses_disjoint(self, a: Clause, b: Clause, depth: int) -> bool:
        common = a.types & b.types
        if not common:
            return True
        if a.enum is not None and b.enum is not None:
            from .values import intersect_values

            if not intersect_values(a.enum, b.enum):
                return True
        for t in common:
            if not self._disjoint_on(t, a, b, depth):
                return False
        return True

    def _disjoint_on(self, t: str, a: Clause, b: Clause, depth: int) -> bool:
        if a.enum is not None:
            vals = [v for v in a.enum if _kind_of(v) == t]
            if not vals:
                return True
        if b.enum is not None:
            vals = [v for v in b.enum if _kind_of(v) == t]
            if not vals:
                return True
        if t == "string":
            sa, sb = a.string, b.string
            if (sa.max_len is not None and sa.max_len < sb.min_len) or (sb.max_len is not None and sb.max_len < sa.min_len):
                return True
            return False
        if t in ("int", "frac"):
            return _ranges_disjoint(a.number, b.number)
        if t == "array":
            xa, xb = a.arr, b.arr
            if (xa.max_items is not None and xa.max_items < xb.min_items) or (xb.max_items is not None and xb.max_items < xa.min_items):
                return True
            return False
        if t == "object":
            oa, ob = a.obj, b.obj
            # at least max(minProperties, number of required names) members
            lo_a, lo_b = max(oa.min_props, len(set(oa.required))), max(ob.min_props, len(set(ob.required)))
            if (oa.max_props is not None and oa.max_props < lo_b) or (ob.max_props is not None and ob.max_props < lo_a):
                return True
            for name in [r for r in oa.required if r in ob.required]:
                pa = _prop_conj(oa, name)
                pb = _prop_conj(ob, name)
                if pa is not None and pb is not None and self._conj_disjoint(pa, pb, depth):
                    return True
            for name in oa.required:
                if _forbids(ob, name):
                    return True
            for name in ob.required:
                if _forbids(oa, name):
                    return True
            return False
        return False


def _trivial_on(c: Clause, t: str) -> bool:
    """``c`` admits every value of kind ``t``."""
    if t not in c.types or c.enum is not None or c.excluded:
        return False
    if t == "string":
        return c.string.trivial
    if t in ("int", "frac"):
        return c.number.trivial
    if t == "object":
        return c.obj.trivial
    if t == "array":
        return c.arr.trivial
    return True


def _no_eval(c: Clause) -> Clause:
    if not any(p.evaluates for p in c.obj.pieces) and not any(p.evaluates for p in c.arr.pieces):
        return c
    obj = replace(c.obj, pieces=tuple(replace(p, evaluates=False) for p in c.obj.pieces))
    arr = replace(c.arr, pieces=tuple(replace(p, evaluates=False) for p in c.arr.pieces))
    return replace(c, obj=obj, arr=arr)


def _kind_of(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "int" if v.is_integer() else "frac"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def _prop_conj(o: ObjectSpec, name: str) -> Optional[Conj]:
    """Conjunction constraining property ``name`` from the pieces' ``properties`` (None if no
    piece lists it)."""
    acc: tuple = ()
    found = False
    for p in o.pieces:
        for n, c in p.props:
            if n == name:
                acc += c
                found = True
    return acc if found else None


def _forbids(o: ObjectSpec, name: str) -> bool:
    """Some piece makes property ``name`` impossible (``false`` schema, or not listed / matched by
    a pattern while ``additionalProperties`` is ``false``)."""
    import re

    for p in o.pieces:
        conj: tuple = ()
        listed = False
        for n, c in p.props:
            if n == name:
                conj += c
                listed = True
        matched = False
        for pat, c, _ in p.patterns:
            try:
                if re.search(pat, name):
                    conj += c
                    matched = True
            except re.error:
                return False
        if not listed and not matched and p.additional is not None:
            conj += p.additional
        if any(n.schema is False and not neg for n, neg in conj):
            return True
    return False


#: keywords that never affect validation (compared away by :func:`_same_schema`)
_ANNOTATIONS = frozenset(("title", "description", "default", "examples", "$comment", "deprecated", "readOnly",
                          "writeOnly"))


def _same_schema(a: Node, b: Node) -> bool:
    """``a`` and ``b`` certainly mean the same: one node, or equal content (top-level annotations
    aside) without references."""
    if a.key() == b.key():
        return True
    x, y = a.schema, b.schema
    if isinstance(x, dict) and isinstance(y, dict):
        x = {k: v for k, v in x.items() if k not in _ANNOTATIONS}
        y = {k: v for k, v in y.items() if k not in _ANNOTATIONS}
    return x == y and "Ref" not in repr(x) and "$id" not in repr(x)


def _closed_against(o: ObjectSpec, w) -> bool:
    """Some piece of ``o`` allows only keys that witness ``w`` excludes (its listed names are
    among ``w.out_names``, its patterns among ``w.out_patterns``, additional keys are ``false``)."""
    outs = set(w.out_names)
    out_pats = {p for p, _ in w.out_patterns}
    for p in o.pieces:
        if p.additional is None or not any(n.schema is False and not neg for n, neg in p.additional):
            continue
        if all(n in outs for n, _ in p.props) and all(pat in out_pats for pat, _, _ in p.patterns):
            return True
    return False


def _object_contradiction(o: ObjectSpec) -> bool:
    """Sound check that no object satisfies ``o``: a count bound below the required names, a
    required name that some piece forbids, or a required name whose value must satisfy a schema
    and its negation."""
    if any(_closed_against(o, w) for w in o.witnesses):
        return True
    if not o.required:
        return False
    if o.max_props is not None and (len(o.required) > o.max_props or o.min_props > o.max_props):
        return True
    from .objects import listed_value_conj

    for name in o.required:
        if _forbids(o, name):
            return True
        conj = listed_value_conj(o, name)
        pos = [n for n, neg in conj if not neg]
        if any(_same_schema(n, p) for n, neg in conj if neg for p in pos):
            return True
    return False


def _ranges_disjoint(a: NumberSpec, b: NumberSpec) -> bool:
    def below(u, l) -> bool:  # every x <= u is < every y >= l
        if u is None or l is None:
            return False
        fu, fl = u.exact, l.exact
        return fu < fl or (fu == fl and (u.strict or l.strict))

    return below(a.upper, b.lower) or below(b.upper, a.lower)
