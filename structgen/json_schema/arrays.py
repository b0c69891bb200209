"""Array clauses → grammar IR.

Element ``i`` must satisfy every piece's ``prefixItems[i]`` (or its ``items`` / ``additionalItems``
beyond the prefix); ``minItems``/``maxItems`` bound the count exactly (large bounds use chunked
repetition). ``contains`` with ``minContains``/``maxContains`` is compiled as a regular language
over element *kinds* (any / matching / not matching the ``contains`` schema) intersected with the
count bounds; ``maxContains`` needs the negation of the ``contains`` schema, which must be
expressible. ``uniqueItems`` is enforced only where exact: at most one element, or elements drawn
from a small finite set of values (then all distinct sequences are enumerated).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from ..cfg import ir
from .irtools import alt as ir_alt
from . import charsets as cs
from . import fsa
from . import lang as L
from .spec import ArraySpec, Conj
from .values import json_equal, value_ir

if TYPE_CHECKING:  # pragma: no cover
    from .compiler import SchemaCompiler

MAX_UNIQUE_ENUMERATION = 512


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
        if len(spec.contains) > 1 or K > 0:
            comp.unsupported("contains combined with prefixItems or with another contains", "contains", spec.pointer)
        else:
            return _with_contains(comp, spec, rest_conj, rest, lo, hi)

    body = _sequence(comp, prefix_exprs, rest, lo, hi)
    if body == ir.NOTHING:
        return ir.NOTHING
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

_A, _C, _N = 0, 1, 2
_SEP_OFFSET = 8


def _with_contains(comp, spec: ArraySpec, rest_conj: Conj, rest: ir.Expr, lo: int, hi: Optional[int]) -> ir.Expr:
    cconj, cmin, cmax, cptr = spec.contains[0]
    c_expr = comp.value_expr(rest_conj + cconj)
    if c_expr == ir.NOTHING:
        if cmin > 0:
            return ir.NOTHING
        return ir.seq(ir.Literal("["), comp.ws, _sequence(comp, [], rest, lo, hi), comp.ws, ir.Literal("]"))
    sym = {_A: rest, _C: c_expr}
    A = L.Chars(cs.single(_A))
    C = L.Chars(cs.single(_C))
    if cmax is None:
        seq_lang = L.cat(L.rep(L.cat(L.star(A), C), cmin, cmin), L.star(A))
    else:
        if cmax < cmin:
            return ir.NOTHING
        # elements not matching `contains`: rest ∧ ¬contains (a disjunction of negated parts)
        n_exprs = [comp.value_expr(rest_conj + ((node, not neg),)) for node, neg in cconj]
        n_expr = ir_alt(*n_exprs)
        sym[_N] = n_expr
        N = L.Chars(cs.single(_N))
        seq_lang = L.cat(L.star(N), L.rep(L.cat(C, L.star(N)), cmin, cmax))
    length = L.rep(L.Chars(cs.normalize([(0, 2)])), lo, hi)
    try:
        d = fsa.product(fsa.from_lang(seq_lang), fsa.from_lang(length))
        body_lang = _with_separators(d)
    except fsa.AutomatonTooLarge:
        comp.unsupported("contains with large minContains/maxContains/maxItems", "contains", cptr)
        return ir.seq(ir.Literal("["), comp.ws, _sequence(comp, [], rest, lo, hi), comp.ws, ir.Literal("]"))
    body = _symbols_to_ir(comp, body_lang, sym)
    if body == ir.NOTHING:
        return ir.NOTHING
    return ir.seq(ir.Literal("["), comp.ws, body, comp.ws, ir.Literal("]"))


def _with_separators(d: fsa.DFA) -> L.Lang:
    """Relabel ``d`` so that the first element symbol is ``s`` and later ones ``s + 8`` (which
    the IR conversion prefixes with a separator), then convert to an expression."""
    if d.is_empty():
        return L.NONE
    atoms = list(d.atoms)
    n = d.n_states
    # new start state n (copy of state 0, no incoming edges)
    shifted: dict[int, int] = {}
    new_atoms = [a for a in atoms]
    for ai, a in enumerate(atoms):
        shifted[ai] = len(new_atoms)
        new_atoms.append(tuple((lo + _SEP_OFFSET, hi + _SEP_OFFSET) for lo, hi in a))
    trans = [{shifted[a]: t for a, t in row.items()} for row in d.trans]
    trans.append({a: t for a, t in d.trans[0].items()})
    accept = list(d.accept) + [d.accept[0]]
    # make the new start state 0 by swapping indices
    perm = list(range(n + 1))
    perm[0], perm[n] = n, 0
    inv = {old: new for new, old in enumerate(perm)}
    trans2 = [{a: inv[t] for a, t in trans[old].items()} for old in perm]
    accept2 = [accept[old] for old in perm]
    return fsa.to_lang(fsa.minimize(fsa.DFA(new_atoms, trans2, accept2)), 4000)


def _symbols_to_ir(comp, x: L.Lang, sym: dict[int, ir.Expr]) -> ir.Expr:
    if isinstance(x, L.Chars):
        alts = []
        for lo, hi in x.ranges:
            for s in range(lo, hi + 1):
                if s >= _SEP_OFFSET:
                    alts.append(ir.seq(comp.sep, sym[s - _SEP_OFFSET]))
                else:
                    alts.append(sym[s])
        return ir_alt(*alts)
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
    limit = hi if hi is not None else None
    sets: list[list[Any]] = []
    rest_vals = None
    n_positions = K if hi is None else max(K, hi)
    for i in range(max(K, 1)):
        vals = comp.finite_values(pos_conj(i))
        if vals is None:
            break
        sets.append(vals)
    rest_vals = comp.finite_values(pos_conj(K + 10 ** 6)) if len(sets) == max(K, 1) else None
    if len(sets) < max(K, 1) or (K == 0 and rest_vals is None):
        comp.unsupported("uniqueItems over elements that are not drawn from a small finite set", "uniqueItems",
                         spec.unique[0])
        return _sequence_fallback(comp, spec, pos_conj, K, lo, hi)
    if rest_vals is None:
        rest_vals = []
    # maximum useful length: distinct values available
    universe: list[Any] = []
    for v in [x for s in sets for x in s] + list(rest_vals):
        if not any(json_equal(v, u) for u in universe):
            universe.append(v)
    max_len = len(universe) if hi is None else min(hi, len(universe))
    results: list[tuple] = []

    def options(i: int) -> list[Any]:
        return sets[i] if i < K else rest_vals

    def rec(prefix: list[Any]):
        if len(results) > MAX_UNIQUE_ENUMERATION:
            return
        if len(prefix) >= lo:
            results.append(tuple(prefix))
        if len(prefix) >= max_len:
            return
        for v in options(len(prefix)):
            if not any(json_equal(v, u) for u in prefix):
                rec(prefix + [v])

    rec([])
    if len(results) > MAX_UNIQUE_ENUMERATION:
        comp.unsupported(f"uniqueItems with more than {MAX_UNIQUE_ENUMERATION} distinct arrays", "uniqueItems",
                         spec.unique[0])
        return _sequence_fallback(comp, spec, pos_conj, K, lo, hi)
    alts = [value_ir(list(r), comp.ws) for r in results]
    if not alts:
        return ir.NOTHING
    return comp.add_rule("unique", ir_alt(*alts))


def _sequence_fallback(comp, spec: ArraySpec, pos_conj, K: int, lo: int, hi: Optional[int]) -> ir.Expr:
    prefix = [comp.value_expr(pos_conj(i)) for i in range(K)]
    rest = comp.value_expr(pos_conj(K + 10 ** 6))
    body = _sequence(comp, prefix, rest, lo, hi)
    return ir.seq(ir.Literal("["), comp.ws, body, comp.ws, ir.Literal("]"))
