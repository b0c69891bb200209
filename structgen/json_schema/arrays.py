"""Array clauses → grammar IR.

Element ``i`` must satisfy every piece's ``prefixItems[i]`` (or its ``items`` / ``additionalItems``
beyond the prefix); ``minItems``/``maxItems`` bound the count exactly (large bounds use chunked
repetition). ``contains`` clauses (several, with ``prefixItems``) with ``minContains``/``maxContains`` are
compiled as a regular language over element *kinds* (position schema × the clauses an element counts
for) tracking positions, counts and length (:func:`_with_contains`); ``maxContains`` needs the
negation of its ``contains`` schema, which must be expressible. ``uniqueItems`` is enforced only where exact: at most one element, elements drawn
from a small finite set of values (then all distinct sequences are enumerated), open-ended
strings, or strings from one language at every position (a marked array rule the runtime keeps
duplicate-free, :mod:`.unique_strings`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from ..cfg import ir
from .irtools import alt as ir_alt
from . import charsets as cs
from . import fsa
from . import lang as L
from .spec import ArraySpec, Conj
from .unique_strings import finite_string_element, integer_element, open_ended_objects, open_ended_strings
from .values import json_value_key, value_ir, value_keys

if TYPE_CHECKING:  # pragma: no cover
    from .compiler import SchemaCompiler

MAX_UNIQUE_ENUMERATION = 512
#: steps (prefixes tried) of that enumeration at most
MAX_UNIQUE_STEPS = 64 * MAX_UNIQUE_ENUMERATION


def emit_array(comp: "SchemaCompiler", spec: ArraySpec) -> ir.Expr:
    pieces = spec.pieces
    K = max((len(p.prefix) for p in pieces), default=0)

    def pos_conj(i: int) -> Conj:
        acc: tuple = ()
        for p in pieces:
            if i < len(p.prefix):
                acc += p.prefix[i]
            elif p.rest is not None:
                acc += p.rest
        return acc

    rest_conj: tuple = ()
    for p in pieces:
        if p.rest is not None:
            rest_conj += p.rest
    lo, hi = spec.min_items, spec.max_items
    prefix_exprs: list[ir.Expr] = []
    for i in range(K):
        if hi is not None and i >= hi:
            break
        e = comp.value_expr(pos_conj(i))
        if e == ir.NOTHING:
            hi = i if hi is None else min(hi, i)
            break
        prefix_exprs.append(e)
    rest = comp.value_expr(rest_conj)
    if rest == ir.NOTHING:
        hi = K if hi is None else min(hi, K)
    if hi is not None and hi < lo:
        return ir.NOTHING

    if spec.unique and (hi is None or hi > 1):
        return _unique(comp, spec, pos_conj, K, lo, hi)

    if spec.contains:
        body = _with_contains(comp, spec, pos_conj, K, lo, hi)
        if body is not None:
            return body

    body = _sequence(comp, prefix_exprs, rest, lo, hi)
    if body == ir.NOTHING:
        return ir.NOTHING
    return _bracketed(comp, body)


def _bracketed(comp, body: ir.Expr) -> ir.Expr:
    """``[`` body ``]`` with optional whitespace inside the brackets."""
    return ir.seq(ir.Literal("["), comp.ws, body, comp.ws, ir.Literal("]"))


def _sequence(comp, prefix: list[ir.Expr], rest: ir.Expr, lo: int, hi: Optional[int]) -> ir.Expr:
    sep = comp.sep
    K = len(prefix)

    def tail(i: int) -> ir.Expr:
        if hi is not None and i >= hi:
            return ir.EMPTY if i >= lo else ir.NOTHING
        if i == K:
            a = max(0, lo - K)
            b = None if hi is None else hi - K
            if rest == ir.NOTHING:
                return ir.EMPTY if a == 0 else ir.NOTHING
            if i == 0:
                alts = [ir.EMPTY] if a == 0 else []
                if b is None or b >= 1:
                    alts.append(ir.seq(rest, comp.repeat(ir.seq(sep, rest), max(0, a - 1), None if b is None else b - 1)))
                return ir_alt(*alts) if alts else ir.NOTHING
            return comp.repeat(ir.seq(sep, rest), a, b)
        item = prefix[i] if i == 0 else ir.seq(sep, prefix[i])
        more = ir.seq(item, tail(i + 1))
        if more == ir.NOTHING or _has_nothing(more):
            return ir.EMPTY if i >= lo else ir.NOTHING
        return more if i < lo else ir.Repeat(more, 0, 1)

    return tail(0)


def _has_nothing(e: ir.Expr) -> bool:
    return isinstance(e, ir.Seq) and any(x == ir.NOTHING for x in e.items)


# --------------------------------------------------------------------------- contains

#: most ``contains`` clauses of one array (an element's kind is the subset of clauses it counts for)
MAX_CONTAINS_CLAUSES = 4
#: most states of the automaton over element kinds (positions × counts × length)
MAX_CONTAINS_STATES = 20000


def _with_contains(comp, spec: ArraySpec, pos_conj, K: int, lo: int, hi: Optional[int]) -> Optional[ir.Expr]:
    """Arrays with ``contains`` clauses (any number of them, with ``prefixItems``).

    An element's *kind* is ``(p, T)``: its position schema ``p`` (prefix position ``p < K``, or
    ``K`` for the rest) and the set ``T`` of clauses it counts for. A clause with ``maxContains``
    classifies every element exactly (``T`` holds it iff the element matches, so the other kinds
    carry the clause's negation, which must be expressible); a clause with only a minimum counts
    *witnesses*: exactly ``minContains`` elements chosen to match it, the others unconstrained by
    it (same language: an array with more matches also has such a choice). The array is a regular
    language over kinds — an automaton tracking the position, each clause's count and the length
    — written back as an expression whose symbols become the kinds' value expressions. None when
    no clause constrains anything (``minContains: 0`` without a maximum) or, in lenient mode, past
    the limits: then a plain array (``contains`` ignored, over-permissive as lenient mode says)."""
    clauses = []
    for cconj, cmin, cmax, cptr in spec.contains:
        if cmax is not None and cmax < cmin:
            return ir.NOTHING
        if cmin == 0 and cmax is None:
            continue  # no constraint
        clauses.append((cconj, cmin, cmax, cptr))
    if not clauses:
        return None
    m = len(clauses)
    ptr = clauses[0][3]
    if m > MAX_CONTAINS_CLAUSES:
        comp.unsupported(f"more than {MAX_CONTAINS_CLAUSES} contains clauses on one array", "contains", ptr)
        return None  # lenient: contains ignored
    exact = [j for j, c in enumerate(clauses) if c[2] is not None]
    n_kinds = 1 << m
    offset = (K + 1) * n_kinds  # symbols >= offset are preceded by a separator

    # per kind set T: the conjunctions it adds to an element's position schema (one per
    # alternative: an exactly counted clause not in T must fail, a disjunction of negated parts)
    kind_conjs: list[list[Conj]] = []
    for t in range(n_kinds):
        alts: list[Conj] = [tuple(x for j in range(m) if t >> j & 1 for x in clauses[j][0])]
        for j in exact:
            if not t >> j & 1:
                alts = [a + ((node, not neg),) for a in alts for node, neg in clauses[j][0]]
        kind_conjs.append(alts)

    sym: dict[int, ir.Expr] = {}
    for p in range(K + 1):
        base = pos_conj(p)
        for t in range(n_kinds):
            e = ir_alt(*(comp.value_expr(base + a) for a in kind_conjs[t]))
            if e != ir.NOTHING:
                sym[p * n_kinds + t] = e
                sym[offset + p * n_kinds + t] = ir.seq(comp.sep, e)

    cap = hi if hi is not None else max(lo, K, 1)
    limits = [c[2] if c[2] is not None else c[1] for c in clauses]

    def successors(key):
        n, counts = key
        accepting = n >= lo and all(counts[j] >= clauses[j][1] for j in range(m))
        moves = []
        if hi is not None and n >= hi:
            return accepting, moves
        p = min(n, K)
        for t in range(n_kinds):
            code = p * n_kinds + t
            if code not in sym:
                continue
            if any(t >> j & 1 and counts[j] >= limits[j] for j in range(m)):
                continue
            nc = tuple(counts[j] + (t >> j & 1) for j in range(m))
            moves.append((code + (offset if n > 0 else 0), (min(n + 1, cap), nc)))
        return accepting, moves

    try:
        trans, accept = fsa.explore((0, (0,) * m), successors, MAX_CONTAINS_STATES, "contains automaton")
        atoms = [cs.single(a) for a in range(2 * offset)]
        d = fsa.minimize(fsa.DFA(atoms, trans, accept))
        body_lang = L.NONE if d.is_empty() else fsa.to_lang(d, 4000)
    except fsa.AutomatonTooLarge:
        comp.unsupported("contains with large minContains/maxContains/maxItems or many prefixItems",
                         "contains", ptr)
        return None  # lenient: contains ignored
    body = _symbols_to_ir(comp, body_lang, sym)
    if body == ir.NOTHING:
        return ir.NOTHING
    return _bracketed(comp, body)


def _symbols_to_ir(comp, x: L.Lang, sym: dict[int, ir.Expr]) -> ir.Expr:
    """An expression over symbol codes → IR, each code replaced by ``sym[code]``."""
    if isinstance(x, L.Chars):
        return ir_alt(*(sym[s] for lo, hi in x.ranges for s in range(lo, hi + 1)))
    if isinstance(x, L.Cat):
        return ir.seq(*(_symbols_to_ir(comp, i, sym) for i in x.items)) if x.items else ir.EMPTY
    if isinstance(x, L.Or):
        return ir_alt(*(_symbols_to_ir(comp, i, sym) for i in x.items)) if x.items else ir.NOTHING
    if isinstance(x, L.Rep):
        return comp.repeat(_symbols_to_ir(comp, x.item, sym), x.min, x.max)
    raise TypeError(x)


# --------------------------------------------------------------------------- uniqueItems

def _unique(comp, spec: ArraySpec, pos_conj, K: int, lo: int, hi: Optional[int]) -> ir.Expr:
    if spec.contains:
        comp.unsupported("uniqueItems together with contains", "uniqueItems", spec.unique[0])
        return ir.NOTHING
    # every position must draw from a finite set of values
    sets: list[list[Any]] = []
    for i in range(max(K, 1)):
        vals = comp.finite_values(pos_conj(i))
        if vals is None:
            break
        sets.append(vals)
    rest_vals = comp.finite_values(pos_conj(K + 10 ** 6)) if len(sets) == max(K, 1) else None
    # (elements past the prefix that are not from a finite set: not enumerable, unless maxItems
    # stops the array at the prefix)
    if len(sets) < max(K, 1) or (rest_vals is None and (K == 0 or hi is None or hi > K)):
        runtime = _runtime_unique(comp, pos_conj, K, lo, hi)
        if runtime is not None:
            return runtime
        comp.unsupported("uniqueItems over elements that are not drawn from a small finite set", "uniqueItems",
                         spec.unique[0])
        return _sequence_fallback(comp, spec, pos_conj, K, lo, hi)
    if rest_vals is None:
        rest_vals = []
    # maximum useful length: distinct values available
    universe = value_keys([x for s in sets for x in s] + list(rest_vals))
    max_len = len(universe) if hi is None else min(hi, len(universe))
    results: list[tuple] = []
    keyed_sets = [[(v, json_value_key(v)) for v in s] for s in sets]
    keyed_rest = [(v, json_value_key(v)) for v in rest_vals]
    # arrays too short to count still cost a step each: the walk stops at a bound on steps too
    steps = [0]

    def options(i: int) -> list[tuple[Any, Any]]:
        return keyed_sets[i] if i < K else keyed_rest

    def rec(prefix: list[Any], used: set):
        steps[0] += 1
        if len(results) > MAX_UNIQUE_ENUMERATION or steps[0] > MAX_UNIQUE_STEPS:
            return
        if len(prefix) >= lo:
            results.append(tuple(prefix))
        if len(prefix) >= max_len:
            return
        for v, k in options(len(prefix)):
            if k not in used:
                used.add(k)
                rec(prefix + [v], used)
                used.discard(k)

    rec([], set())
    if len(results) > MAX_UNIQUE_ENUMERATION or steps[0] > MAX_UNIQUE_STEPS:
        runtime = _runtime_unique(comp, pos_conj, K, lo, hi)
        if runtime is not None:
            return runtime
        comp.unsupported(f"uniqueItems with more than {MAX_UNIQUE_ENUMERATION} distinct arrays (or too many "
                         "to enumerate)", "uniqueItems",
                         spec.unique[0])
        return _sequence_fallback(comp, spec, pos_conj, K, lo, hi)
    alts = [value_ir(list(r), comp.ws) for r in results]
    if not alts:
        return ir.NOTHING
    return comp.add_rule("unique", ir_alt(*alts))


def _runtime_unique(comp, pos_conj, K: int, lo: int, hi: Optional[int]) -> Optional[ir.Expr]:
    """String, integer or open object elements: a plain array the runtime keeps duplicate-free
    (:mod:`structgen.json_schema.unique_strings`); None when the elements do not qualify."""
    n = K if hi is None else min(K, hi)
    conjs = [pos_conj(i) for i in range(n)]
    if hi is None or hi > K:
        conjs.append(pos_conj(K + 10 ** 6))
    marker = ir.UNIQUE_STRINGS_PREFIX
    if open_ended_strings(comp, conjs):
        exprs = [comp.value_expr(c) for c in conjs]
    elif open_ended_objects(comp, conjs):
        marker = ir.UNIQUE_OBJECTS_PREFIX
        exprs = [comp.value_expr(c) for c in conjs]
    else:
        elem = finite_string_element(comp, conjs, lo)
        if elem is None:
            elem = integer_element(comp, conjs, lo)
            marker = ir.UNIQUE_INTEGERS_PREFIX
        if elem is None or elem == ir.NOTHING:
            return elem
        ref = ir.Ref(comp.reserve(ir.UNIQUE_ELEMENT_PREFIX))
        comp.define(ref.name, elem)
        exprs = [ref] * len(conjs)
    body = _sequence(comp, exprs[:n], exprs[n] if len(exprs) > n else ir.NOTHING, lo, hi)
    if body == ir.NOTHING:
        return ir.NOTHING
    return comp.add_rule(marker, _bracketed(comp, body))


def _sequence_fallback(comp, spec: ArraySpec, pos_conj, K: int, lo: int, hi: Optional[int]) -> ir.Expr:
    prefix = [comp.value_expr(pos_conj(i)) for i in range(K)]
    rest = comp.value_expr(pos_conj(K + 10 ** 6))
    return _bracketed(comp, _sequence(comp, prefix, rest, lo, hi))
