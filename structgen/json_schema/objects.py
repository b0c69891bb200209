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
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..cfg import ir
from .irtools import alt as ir_alt
from .encoding import literal_ir
from .spec import Conj, ObjectSpec
from .strings import pattern_lang
from . import lang as L

if TYPE_CHECKING:  # pragma: no cover
    from .compiler import SchemaCompiler

MAX_PATTERN_CELLS_PATTERNS = 6


def _search(pattern: str, name: str) -> bool:
    try:
        return re.search(pattern, name) is not None
    except re.error:  # validated by check_schema; defensive
        return False


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


def emit_object(comp: "SchemaCompiler", spec: ObjectSpec) -> ir.Expr:
    ws, sep, colon = comp.ws, comp.sep, comp.colon
    names: list[str] = []
    for p in spec.pieces:
        for n, _ in p.props:
            if n not in names:
                names.append(n)
    for n in spec.required:
        if n not in names:
            names.append(n)

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

    lo, hi = spec.min_props, spec.max_props
    n_req = sum(1 for _, r, _ in members if r)
    if lo <= n_req:
        lo = 0
    if extras is None and hi is not None and hi >= len(members):
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
    if lo == 0 and hi is None:
        body = _sequence_plain(comp, members, extras, sep)
    else:
        body = _sequence_counted(comp, members, extras, sep, lo, hi)
    if body == ir.NOTHING:
        return ir.NOTHING
    return ir.seq(open_, ws, body, ws, close)


#: with more leading optional properties than this, the member chain is cut into helper rules
#: every CHAIN_SEGMENT members so the object rule stays linear in size (instead of quadratic)
CHAIN_SEGMENT = 8


def _sequence_plain(comp, members, extras, sep) -> ir.Expr:
    """Members in order, optional ones skippable, then additional members; separators only
    between members. ``R(i)``: members i.. after at least one member; ``F(i)``: before any."""
    n = len(members)
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


def _sequence_counted(comp, members, extras, sep, lo: int, hi) -> ir.Expr:
    """Members with a count constraint: one helper rule per (position, count) state."""
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
            if extras is None:
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


def _extras(comp: "SchemaCompiler", spec: ObjectSpec, names: list[str]) -> ir.Expr | None:
    """Alternation of additional members (key : value), or None when none are allowed."""
    pats = [(j, pat, conj, ptr) for j, p in enumerate(spec.pieces) for pat, conj, ptr in p.patterns]
    if len(pats) > MAX_PATTERN_CELLS_PATTERNS:
        comp.unsupported(f"more than {MAX_PATTERN_CELLS_PATTERNS} patternProperties in one object",
                         "patternProperties", spec.pointer)
        pats = pats[:MAX_PATTERN_CELLS_PATTERNS]
    names_lang = comp.property_names_lang(spec.names, spec.pointer) if spec.names else None
    if names_lang is not None and L.is_nothing(names_lang):
        return None
    cells = []
    for mask in range(1 << len(pats)):
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
        val = comp.value_expr(conj)
        if val == ir.NOTHING:
            continue
        pos = [pattern_lang(pat, ptr, "patternProperties") for _, pat, _, ptr in on]
        neg = [pattern_lang(pat, ptr, "patternProperties") for _, pat, _, ptr in off]
        key = comp.key_expr(pos, neg, names, names_lang, spec.pointer)
        if key == ir.NOTHING:
            continue
        cells.append(ir.seq(key, comp.colon, val))
    if not cells:
        return None
    return ir_alt(*cells)
