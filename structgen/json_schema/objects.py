"""Object clauses → grammar IR.

Layout: the *listed* properties (every name in some ``properties``, plus ``required`` names) come
first, in schema order, each at most once, optional ones skippable; then *additional* members, whose
keys are strings that are **not** listed names (an exact complement over every JSON spelling, so a
listed key can never be duplicated) and that satisfy ``propertyNames``. With
``patternProperties`` the additional-key space is split into cells by which patterns match (each
cell its own key automaton and value schema = the matching patterns' schemas, or
``additionalProperties`` when none match), exactly as ``jsonschema`` evaluates them. A listed
property's value must satisfy its ``properties`` schema *and* every pattern that matches its
name (``additionalProperties`` when nothing does), per schema piece of an ``allOf``.

``minProperties`` counts members; duplicate additional keys would make ``json.loads`` collapse
them, so a minimum that can only be met with two or more additional members is rejected
(:class:`~structgen.errors.UnsupportedSchemaError`). ``maxProperties`` is exact.

With ``property_order="any"`` (:func:`_sequence_any`) the listed properties come in any order,
interleaved with additional members: an automaton over the set of listed keys seen (each at most
once, required ones present), so up to 2^n states for n listed properties, bounded by
:data:`MAX_ANY_ORDER_STATES`.

*Key witnesses* (:class:`~structgen.json_schema.spec.KeyWitness`, left by negated
``properties``/``patternProperties``/``additionalProperties``/``propertyNames``): "some member's
key and value satisfy …". A witness is met either by a listed property (that alternative makes it
required, with the witness's value constraint) or by additional members, tracked by a small
automaton over the set of witnesses met. An additional member can only witness a condition on its
*key*: a later duplicate key with another value would be the one ``json.loads`` keeps, so a witness
with a value constraint that only additional members could meet is rejected.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import replace
from typing import TYPE_CHECKING, Optional

from ..cfg import ir
from .irtools import alt as ir_alt
from .encoding import literal_ir
from .spec import Conj, KeyWitness, ObjectSpec, ObjPiece
from .strings import pattern_lang
from . import lang as L

if TYPE_CHECKING:  # pragma: no cover
    from .compiler import SchemaCompiler

#: most non-empty pattern cells (sets of patternProperties a key can match together) per object
MAX_PATTERN_CELLS = 64
#: most alternatives the witnesses of one object clause may expand into
MAX_WITNESS_ALTERNATIVES = 64
#: largest maxProperties slack enforced exactly together with a witness among additional members
MAX_WITNESS_COUNTED = 32
#: most witnesses met by additional members of one object (the construction has 2^n states)
MAX_ADDITIONAL_WITNESSES = 3
#: most states of the ``property_order="any"`` construction for one object (2^listed properties)
MAX_ANY_ORDER_STATES = 4096


def _search(pattern: str, name: str) -> bool:
    try:
        return re.search(pattern, name) is not None
    except re.error:  # validated by check_schema; defensive
        return False


def _pattern_cells(langs: list[L.Lang]) -> Optional[list[int]]:
    """The sets of patterns (bit masks) that some string matches exactly — it matches the
    patterns in the set and no other — found by splitting the string space pattern by pattern and
    dropping empty parts, so mostly disjoint patterns give few cells (not 2^n). None past
    :data:`MAX_PATTERN_CELLS` cells or when an automaton is too large."""
    from . import fsa
    from .pyregex import ANY_STRING

    budget = 8000
    try:
        cells = [(0, fsa.from_lang(ANY_STRING, budget))]
        for i, lang in enumerate(langs):
            d = fsa.from_lang(lang, budget)
            nxt = []
            for mask, c in cells:
                for part, m in ((fsa.product(c, d, "and", budget), mask | 1 << i),
                                (fsa.product(c, d, "diff", budget), mask)):
                    if not part.is_empty():
                        nxt.append((m, part))
            if len(nxt) > MAX_PATTERN_CELLS:
                return None
            cells = nxt
    except fsa.AutomatonTooLarge:
        return None
    return [m for m, _ in cells]


def listed_value_conj(spec: ObjectSpec, name: str) -> Conj:
    """Everything that constrains the value of property ``name`` (per schema piece: its
    ``properties`` entry, else its matching ``patternProperties``, else ``additionalProperties``;
    patterns apply in addition to ``properties``)."""
    acc: tuple = ()
    for p in spec.pieces:
        listed = False
        for n, c in p.props:
            if n == name:
                acc += c
                listed = True
        matched = False
        for pat, c, _ in p.patterns:
            if _search(pat, name):
                acc += c
                matched = True
        if not listed and not matched and p.additional is not None:
            acc += p.additional
    return acc


def listed_names(spec: ObjectSpec) -> list[str]:
    """Names in some piece's ``properties``, then ``required`` names, without repeats."""
    names: list[str] = []
    for p in spec.pieces:
        for n, _ in p.props:
            if n not in names:
                names.append(n)
    for n in spec.required:
        if n not in names:
            names.append(n)
    return names


def emit_object(comp: "SchemaCompiler", spec: ObjectSpec) -> ir.Expr:
    """The object values of ``spec`` (``{`` … ``}``), or NOTHING."""
    if spec.witnesses:
        return _emit_witnessed(comp, spec)
    return _emit_members(comp, spec)


def _witness_names_ok(comp: "SchemaCompiler", w: KeyWitness, name: str) -> bool:
    """Whether key ``name`` satisfies the key conditions of ``w``."""
    if name in w.out_names:
        return False
    if not all(_search(p, name) for p, _ in w.in_patterns):
        return False
    if any(_search(p, name) for p, _ in w.out_patterns):
        return False
    return w.key_not is None or not comp.conj_valid(w.key_not, name)


def _emit_witnessed(comp: "SchemaCompiler", spec: ObjectSpec) -> ir.Expr:
    """Each witness is met by a listed property (then it is required, with the witness's value
    constraint added) or by an additional member: the alternatives' union."""
    base = replace(spec, witnesses=())
    names = listed_names(spec)
    choices = [[n for n in names if _witness_names_ok(comp, w, n)] + [None] for w in spec.witnesses]
    total = 1
    for c in choices:
        total *= len(c)
    if total > MAX_WITNESS_ALTERNATIVES:
        w = spec.witnesses[0]
        comp.unsupported(f"negated object constraints expand to more than {MAX_WITNESS_ALTERNATIVES} "
                         "alternatives", w.keyword, w.pointer)
        return _emit_members(comp, base)
    alts = []
    for combo in itertools.product(*choices):
        s2 = base
        extra: list[KeyWitness] = []
        for w, n in zip(spec.witnesses, combo):
            if n is None:
                extra.append(w)
                continue
            pieces = (ObjPiece(((n, w.value),), (), None, w.pointer, evaluates=False),) if w.value else ()
            s2 = s2.merge(ObjectSpec(pieces=pieces, required=(n,), pointer=spec.pointer))
        if not extra:
            alts.append(comp.emit_object(s2))
            continue
        if len(extra) > MAX_ADDITIONAL_WITNESSES:
            comp.unsupported(f"more than {MAX_ADDITIONAL_WITNESSES} negated object constraints met by additional "
                             "properties at once", extra[0].keyword, extra[0].pointer)
            extra = extra[:MAX_ADDITIONAL_WITNESSES]
        alts.append(_emit_members(comp, s2, tuple(extra)))
    return ir_alt(*alts) if alts else ir.NOTHING


def _emit_members(comp: "SchemaCompiler", spec: ObjectSpec, witnesses: tuple = ()) -> ir.Expr:
    """``spec`` without witnesses; additional members must meet each of ``witnesses``."""
    ws, sep, colon = comp.ws, comp.sep, comp.colon
    names = listed_names(spec)

    members: list[tuple[str, bool, ir.Expr]] = []
    for n in names:
        required = n in spec.required
        ok = all(comp.conj_valid(nc, n) for nc in spec.names)
        val = comp.value_expr(listed_value_conj(spec, n)) if ok else ir.NOTHING
        if val == ir.NOTHING:
            if required:
                return ir.NOTHING
            continue
        members.append((n, required, ir.seq(literal_ir(n), colon, val)))

    extras = _extras(comp, spec, names)
    wit = None
    if witnesses:
        typed = {}
        for r in range(1, len(witnesses) + 1):
            for t in itertools.combinations(range(len(witnesses)), r):
                e = _extras(comp, spec, names, tuple(witnesses[i] for i in t))
                if e is not None:
                    typed[frozenset(t)] = e
        if frozenset().union(*typed) != frozenset(range(len(witnesses))):
            return ir.NOTHING
        if extras is None:
            extras = ir_alt(*typed.values())
        wit = (typed, len(witnesses))

    lo, hi = spec.min_props, spec.max_props
    n_req = sum(1 for _, r, _ in members if r)
    if lo <= n_req:
        lo = 0
    if extras is None and hi is not None and hi >= len(members):
        hi = None
    if wit is not None and hi is not None and hi > n_req + MAX_WITNESS_COUNTED:
        comp.unsupported(f"maxProperties above {MAX_WITNESS_COUNTED} together with a negated object constraint",
                         "maxProperties", spec.pointer)
        hi = None
    if hi is not None and hi < n_req:
        return ir.NOTHING
    if extras is not None and lo - n_req >= 2:
        # additional keys can repeat (json.loads keeps one), so only one additional member may
        # count towards the minimum; lenient mode keeps that sound restriction
        comp.unsupported("minProperties that may need two or more distinct additional properties "
                         "(duplicate keys would collapse); counting at most one", "minProperties", spec.pointer)
    if extras is None and lo > len(members):
        return ir.NOTHING

    open_, close = ir.Literal("{"), ir.Literal("}")
    if comp.property_order == "any" and members and (len(members) > 1 or extras is not None):
        body = _sequence_any(comp, members, extras, sep, lo, hi, wit, spec.pointer)
        if body is not None:
            return ir.seq(open_, ws, body, ws, close) if body != ir.NOTHING else ir.NOTHING
    if lo == 0 and hi is None:
        body = _sequence_plain(comp, members, extras, sep, wit)
    else:
        body = _sequence_counted(comp, members, extras, sep, lo, hi, wit)
    if body == ir.NOTHING:
        return ir.NOTHING
    return ir.seq(open_, ws, body, ws, close)


#: with more leading optional properties than this, the member chain is cut into helper rules
#: every CHAIN_SEGMENT members so the object rule stays linear in size (instead of quadratic)
CHAIN_SEGMENT = 8


def _witness_run(comp, extras: ir.Expr, typed: dict, m: int, sep: ir.Expr, first: bool,
                 kmax: Optional[int]) -> ir.Expr:
    """Up to ``kmax`` (None: any number of) additional members that together meet all ``m``
    witnesses; ``typed[T]`` are the members meeting the witnesses in ``T`` (a frozenset of
    indices), ``extras`` any member. Each member is preceded by ``sep`` unless ``first`` (then the
    first one is not). A small automaton over the set of witnesses met so far."""
    full = frozenset(range(m))
    memo: dict = {}

    def run(met: frozenset, left: Optional[int], first: bool) -> ir.Expr:
        if met == full:
            rest = comp.repeat(ir.seq(sep, extras), 0, left)
            if not first:
                return rest
            if left == 0:
                return ir.EMPTY
            return ir_alt(ir.EMPTY, ir.seq(extras, comp.repeat(ir.seq(sep, extras), 0, None if left is None else left - 1)))
        if left == 0:
            return ir.NOTHING
        key = (met, left, first)
        if key in memo:
            return memo[key]
        name = comp.reserve("witness")
        memo[key] = ir.Ref(name)
        nxt = None if left is None else left - 1
        pre = () if first else (sep,)
        alts = [ir.seq(*pre, extras, run(met, nxt, False))]
        for t, e in typed.items():
            if t - met:
                alts.append(ir.seq(*pre, e, run(met | t, nxt, False)))
        comp.define(name, ir_alt(*alts))
        return memo[key]

    return run(frozenset(), kmax, first)


class _TooManyStates(Exception):
    pass


def _sequence_any(comp, members, extras, sep, lo: int, hi, wit, pointer: str):
    """Members in any order (``property_order="any"``), additional members anywhere among them.

    Exact: a state is (listed members seen, additional members counted, witnesses met), so a
    listed key never repeats, every required key is present, counts and witnesses hold. The number
    of states grows like 2^(listed members); past :data:`MAX_ANY_ORDER_STATES` the object is
    rejected (``UnsupportedSchemaError`` on ``properties``; lenient mode falls back to schema order
    and returns None)."""
    n = len(members)
    req = frozenset(i for i, (_, r, _) in enumerate(members) if r)
    typed, m = wit if wit is not None else ({}, 0)
    full_met = frozenset(range(m))
    counted = lo > 0 or hi is not None
    if n > MAX_ANY_ORDER_STATES.bit_length() - 1 and hi is None:  # 2^n sets of seen keys
        return _any_order_too_large(comp, n, pointer)
    member_refs = [comp.add_rule("member", mem) for _, _, mem in members]
    memo: dict = {}

    def options(seen: frozenset, a: int, met: frozenset, pre: tuple) -> list:
        c = len(seen) + a
        alts: list = []
        if req <= seen and met == full_met and (not counted or (lo - len(seen) <= 1 and c >= lo)):
            alts.append(ir.EMPTY)
        if hi is not None and c >= hi:
            return alts
        for i in range(n):
            if i not in seen:
                alts.append(ir.seq(*pre, member_refs[i], state(seen | {i}, a, met)))
        if extras is not None:
            na = a + 1 if hi is not None else (1 if counted else 0)
            alts.append(ir.seq(*pre, extras, state(seen, na, met)))
            for t, e in typed.items():
                if t - met:
                    alts.append(ir.seq(*pre, e, state(seen, na, met | t)))
        return alts

    def state(seen: frozenset, a: int, met: frozenset) -> ir.Expr:
        key = (seen, a, met)
        hit = memo.get(key)
        if hit is not None:
            return hit
        if len(memo) >= MAX_ANY_ORDER_STATES:
            raise _TooManyStates()
        name = comp.reserve("anyorder")
        memo[key] = ir.Ref(name)
        comp.define(name, ir_alt(*options(seen, a, met, (sep,))))
        return memo[key]

    try:
        return ir_alt(*options(frozenset(), 0, frozenset(), ()))
    except _TooManyStates:
        return _any_order_too_large(comp, n, pointer)


def _any_order_too_large(comp, n: int, pointer: str):
    comp.unsupported(f"property_order='any' for an object with {n} listed properties needs more than "
                     f"{MAX_ANY_ORDER_STATES} automaton states (one per set of keys seen); use "
                     "property_order='schema'", "properties", pointer)
    return None


def _sequence_plain(comp, members, extras, sep, wit=None) -> ir.Expr:
    """Members in order, optional ones skippable, then additional members; separators only
    between members. ``R(i)``: members i.. after at least one member; ``F(i)``: before any.
    With ``wit`` = (typed members, number of witnesses), additional members meet every witness
    (see :func:`_witness_run`)."""
    n = len(members)
    if wit is not None:
        tail = _witness_run(comp, extras, wit[0], wit[1], sep, False, None)
    else:
        tail = ir.Repeat(ir.seq(sep, extras), 0, None) if extras is not None else ir.EMPTY
    lead = 0
    while lead < n and not members[lead][1]:
        lead += 1
    segmented = lead > 2 * CHAIN_SEGMENT
    R: list[ir.Expr] = [ir.EMPTY] * (n + 1)
    R[n] = tail
    for i in range(n - 1, -1, -1):
        _, req, m = members[i]
        item = ir.seq(sep, m)
        body = ir.seq(item if req else ir.Repeat(item, 0, 1), R[i + 1])
        if segmented and i % CHAIN_SEGMENT == 0 and i > 0:
            body = comp.add_rule("members", body)
        R[i] = body
    if wit is not None:
        F = _witness_run(comp, extras, wit[0], wit[1], sep, True, None)
    else:
        F = ir.Repeat(ir.seq(extras, tail), 0, 1) if extras is not None else ir.EMPTY
    alts: list[ir.Expr] = []
    for i in range(n):
        _, req, m = members[i]
        alts.append(ir.seq(m, R[i + 1]))
        if req:
            break
    else:
        alts.append(F)
    return ir_alt(*alts)


def _sequence_counted(comp, members, extras, sep, lo: int, hi, wit=None) -> ir.Expr:
    """Members with a count constraint: one helper rule per (position, count) state. With
    ``wit``, additional members meet every witness (see :func:`_witness_run`)."""
    n = len(members)
    cap = hi if hi is not None else max(lo, 1)
    memo: dict[tuple[int, int], ir.Expr] = {}
    names: dict[tuple[int, int], str] = {}

    def state(i: int, c: int) -> ir.Expr:
        if hi is None:
            c = min(c, cap)
        elif c > hi:
            return ir.NOTHING
        key = (i, c)
        if key in memo:
            return memo[key]
        if i == n:
            kmin = max(0, lo - c)
            kmax = None if hi is None else hi - c
            if kmin >= 2:  # would need distinct additional keys: not enforceable, drop the path
                memo[key] = ir.NOTHING
                return ir.NOTHING
            if wit is not None:
                e = _witness_run(comp, extras, wit[0], wit[1], sep, c == 0, kmax)
            elif extras is None:
                e = ir.EMPTY if kmin == 0 else ir.NOTHING
            elif c == 0:
                alts = [ir.EMPTY] if kmin == 0 else []
                if kmax is None or kmax >= 1:
                    alts.append(ir.seq(extras, comp.repeat(ir.seq(sep, extras), max(0, kmin - 1),
                                                           None if kmax is None else kmax - 1)))
                e = ir_alt(*alts) if alts else ir.NOTHING
            else:
                e = comp.repeat(ir.seq(sep, extras), kmin, kmax)
            memo[key] = e
            return e
        name = comp.reserve("props")
        ref = ir.Ref(name)
        memo[key] = ref
        _, req, m = members[i]
        take_rest = state(i + 1, c + 1)
        take = ir.seq(sep, m, take_rest) if c > 0 else ir.seq(m, take_rest)
        alts = [take]
        if not req:
            alts.append(state(i + 1, c))
        comp.define(name, ir_alt(*alts))
        return ref

    return state(0, 0)


def _extras(comp: "SchemaCompiler", spec: ObjectSpec, names: list[str],
            witnesses: tuple = ()) -> ir.Expr | None:
    """Alternation of additional members (key : value), or None when none are allowed. With
    ``witnesses``: only the members that also meet every one of them."""
    pats = [(j, pat, conj, ptr) for j, p in enumerate(spec.pieces) for pat, conj, ptr in p.patterns]
    masks = _pattern_cells([pattern_lang(pat, ptr, "patternProperties") for _, pat, _, ptr in pats])
    if masks is None:
        comp.unsupported(f"patternProperties whose overlaps make more than {MAX_PATTERN_CELLS} cells (or "
                         "too large automata)", "patternProperties", spec.pointer)
        pats, masks = [], [0]
    names_lang = comp.property_names_lang(spec.names, spec.pointer) if spec.names else None
    if names_lang is not None and L.is_nothing(names_lang):
        return None
    w_pos: list[L.Lang] = []
    w_neg: list[L.Lang] = []
    w_names: list[str] = []
    w_value: tuple = ()
    for witness in witnesses:
        w_pos += [pattern_lang(p, ptr, "patternProperties") for p, ptr in witness.in_patterns]
        w_neg += [pattern_lang(p, ptr, "patternProperties", negated=True) for p, ptr in witness.out_patterns]
        if witness.key_not is not None:
            failing = comp.property_names_lang((witness.key_not,), witness.pointer)
            if failing is None:  # every key satisfies it: no key can fail it
                return None
            w_neg.append(failing)
        w_names += [n for n in witness.out_names if n not in names and n not in w_names]
        w_value += witness.value
    cells = []
    for mask in masks:
        on = [pats[i] for i in range(len(pats)) if mask >> i & 1]
        off = [pats[i] for i in range(len(pats)) if not mask >> i & 1]
        conj: tuple = ()
        for j, p in enumerate(spec.pieces):
            matched = [c for (pj, _, c, _) in on if pj == j]
            if matched:
                for c in matched:
                    conj += c
            elif p.additional is not None:
                conj += p.additional
        val = comp.value_expr(conj + w_value)
        if val == ir.NOTHING:
            continue
        pos = [pattern_lang(pat, ptr, "patternProperties") for _, pat, _, ptr in on] + w_pos
        # a key in no cell (e.g. "a\n" for "^a$": off in the strict reading, on in Python's) is left out
        neg = [pattern_lang(pat, ptr, "patternProperties", negated=True) for _, pat, _, ptr in off] + w_neg
        key = comp.key_expr(pos, neg, names + w_names, names_lang, spec.pointer)
        if key == ir.NOTHING:
            continue
        cells.append(ir.seq(key, comp.colon, val))
    if not cells:
        return None
    bad = next((w for w in witnesses if comp.simplify_conj(w.value) != ()), None)
    if bad is not None:
        # the witness's key may be repeated later with a value that does not fail; json.loads
        # keeps the last one, so "some member's value fails" is not checkable member by member
        comp.unsupported("negated additionalProperties/patternProperties whose violating member would be an "
                         "additional property (duplicate keys make it unenforceable)", bad.keyword, bad.pointer)
    return ir_alt(*cells)
