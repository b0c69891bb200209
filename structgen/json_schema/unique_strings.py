"""``uniqueItems`` over strings, integers and open objects: array rules the runtime keeps duplicate-free.

Distinctness of unboundedly many elements is not context-free, so the grammar cannot say it.
When every element of an array must be a JSON string and every proper prefix of an element has
infinitely many completions ("open-ended": ``{"type": "string"}``, ``minLength``, patterns like
``^[a-z]+$`` — not ``maxLength``, ``enum`` or ``^[0-9a-f]{8}$``), the array is emitted as a plain
array in a rule named with :data:`~structgen.cfg.ir.UNIQUE_STRINGS_PREFIX`, and the runtime
(:mod:`structgen.runtime.unique`) rejects a string equal to an earlier element.

Open-endedness is what keeps the masks sound with a finite set of strings seen so far: an
unfinished element can always still become a string not seen yet, so the only dead tokens are
those that *close* a duplicate — which the runtime finds exactly.

Other string languages (``enum``, ``maxLength``, ``format: uuid``; :func:`finite_string_element`)
need one element language for every position: each element is then a call of one rule named with
:data:`~structgen.cfg.ir.UNIQUE_ELEMENT_PREFIX`, whose state the runtime follows to find prefixes
all of whose completions are earlier elements (and a ``,`` once every value is used). With one
language, ``minItems`` is met by any duplicate-free continuation as soon as the language has that
many values, which is checked here. Arrays of integers (:func:`integer_element`) take the same
shape under :data:`~structgen.cfg.ir.UNIQUE_INTEGERS_PREFIX`; arrays of objects that can always
take one more additional property (:func:`open_ended_objects`) the open-ended shape under
:data:`~structgen.cfg.ir.UNIQUE_OBJECTS_PREFIX`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import numpy as np

from ..cfg import ir
from ..errors import CompileLimitError, GrammarError

if TYPE_CHECKING:  # pragma: no cover
    from .compiler import SchemaCompiler
    from .spec import Conj

#: most DFA states of one element language checked for open-endedness
MAX_ELEMENT_STATES = 200_000


def open_ended_strings(comp: "SchemaCompiler", conjs: list["Conj"]) -> bool:
    """Every element schema in ``conjs`` (one per position kind) admits only strings, and every
    proper prefix of its strings has infinitely many completions: the array may be emitted as a
    rule named with :data:`~structgen.cfg.ir.UNIQUE_STRINGS_PREFIX`."""
    for conj in conjs:
        if not strings_only(comp, conj):
            return False
        e = comp.value_expr(conj)
        if e != ir.NOTHING and not open_ended(e, comp.rules):
            return False
    return True


def finite_string_element(comp: "SchemaCompiler", conjs: list["Conj"], lo: int) -> Optional[ir.Expr]:
    """The element expression for an array of distinct strings drawn from one language that is
    not open-ended: every schema in ``conjs`` the same, admitting only strings, with no recursion.
    ``ir.NOTHING`` when fewer than ``lo`` distinct values exist (no array qualifies); None when the
    elements do not qualify."""
    from ..runtime.string_values import count_values

    return _one_element(comp, conjs, lo, strings_only, None, count_values)


#: bytes of the integer spellings a unique-integers element may use
_INTEGER_BYTES = frozenset(b"-0123456789.")


def integer_element(comp: "SchemaCompiler", conjs: list["Conj"], lo: int) -> Optional[ir.Expr]:
    """The element expression for an array of distinct integers: every schema in ``conjs`` the
    same, admitting only integers (``type: integer`` or integer ``enum`` values), spelled without
    exponents. ``ir.NOTHING`` when fewer than ``lo`` distinct values exist; None when the elements
    do not qualify."""
    from ..runtime.number_values import count_integers

    return _one_element(comp, conjs, lo, _integers_only, _INTEGER_BYTES, count_integers)


def _one_element(comp: "SchemaCompiler", conjs: list["Conj"], lo: int, qualifies, byte_set, count) -> Optional[ir.Expr]:
    """The flattened element expression when every schema in ``conjs`` is the same, satisfies
    ``qualifies(comp, conj)`` and compiles to one call-free DFA (over ``byte_set`` when given);
    ``ir.NOTHING`` when ``count`` finds fewer than ``lo`` distinct values; else None."""
    if not conjs or any(c != conjs[0] for c in conjs[1:]) or not qualifies(comp, conjs[0]):
        return None
    e = comp.value_expr(conjs[0])
    if e == ir.NOTHING:
        return ir.NOTHING
    flat = _flatten(e, comp.rules, set())
    aut = _flat_automaton(flat)
    if aut is None:
        return None
    if byte_set is not None and not set(np.flatnonzero((aut.trans >= 0).any(axis=0)).tolist()) <= byte_set:
        return None
    if lo > 0 and count(aut.trans, aut.accept, int(aut.rule_start[0]), lo) < lo:
        return ir.NOTHING
    return flat


def open_ended_objects(comp: "SchemaCompiler", conjs: list["Conj"]) -> bool:
    """Every element schema in ``conjs`` admits only objects that can always take one more
    additional property with a fresh key (no ``maxProperties``, ``propertyNames``,
    ``patternProperties`` or negated object constraints; ``additionalProperties`` satisfiable), so
    an unfinished element always has infinitely many completion values."""
    any_clause = False
    for conj in conjs:
        conj2 = comp.simplify_conj(conj)
        if conj2 is None:
            continue
        if not conj2:
            return False
        for c in comp.dnf.conj_dnf(conj2):
            if c.empty:
                continue
            any_clause = True
            o = c.obj
            if (c.enum is not None or not c.types <= {"object"} or o.max_props is not None or o.names
                    or o.witnesses or any(p.patterns for p in o.pieces)):
                return False
            extra: tuple = ()
            for p in o.pieces:
                if p.additional is not None:
                    extra += p.additional
            if extra and comp.value_expr(extra) == ir.NOTHING:
                return False
    return any_clause


def strings_only(comp: "SchemaCompiler", conj: "Conj") -> bool:
    """Every value satisfying ``conj`` is a string (vacuously true when none does)."""
    return _only(comp, conj, "string", lambda v: isinstance(v, str))


def _integers_only(comp: "SchemaCompiler", conj: "Conj") -> bool:
    """Every value satisfying ``conj`` is an integer (clause type ``int``; vacuously true)."""
    return _only(comp, conj, "int", lambda v: isinstance(v, int) and not isinstance(v, bool))


def _only(comp: "SchemaCompiler", conj: "Conj", type_name: str, is_value) -> bool:
    """Every satisfiable DNF clause of ``conj`` admits only type ``type_name`` (or is an ``enum``
    of values passing ``is_value``); vacuously true when nothing satisfies ``conj``, false when it
    is unconstrained."""
    conj2 = comp.simplify_conj(conj)
    if conj2 is None:
        return True
    if not conj2:
        return False
    for c in comp.dnf.conj_dnf(conj2):
        if c.empty:
            continue
        if c.enum is not None:
            if not all(is_value(v) for v in c.enum):
                return False
        elif not c.types <= {type_name}:
            return False
    return True


def open_ended(expr: ir.Expr, rules: dict[str, ir.Expr]) -> bool:
    """``expr`` (references resolved in ``rules``) is a regular language of JSON-string texts in
    which every state but the final one (after the closing quote) has infinitely many completions."""
    aut = _flat_automaton(_flatten(expr, rules, set()))
    if aut is None:
        return False
    trans = aut.trans
    has_out = (trans >= 0).any(axis=1)
    if (aut.accept & has_out).any():
        return False
    return bool((_infinite_future(trans) | aut.accept).all())


def _flat_automaton(flat: Optional[ir.Expr]):
    """The one-rule, call-free automaton of a flattened element expression (None: no expression,
    too large, or not such an automaton)."""
    if flat is None:
        return None
    from ..cfg.compiler import compile_grammar_automaton

    try:
        aut = compile_grammar_automaton(ir.Grammar.single(flat, "unique element"), max_states=MAX_ELEMENT_STATES)
    except (CompileLimitError, GrammarError):
        return None
    if aut.n_rules != 1 or aut.call_rule.shape[0]:
        return None
    return aut


def _infinite_future(trans: np.ndarray) -> np.ndarray:
    """bool[S]: the state reaches a cycle (so, every state being live, has infinitely many
    completions). Peels, from the states without successors backwards, the states all of whose
    successors have finite futures."""
    S = trans.shape[0]
    src, _ = np.nonzero(trans >= 0)
    dst = trans[trans >= 0]
    pairs = np.unique(np.stack([src, dst], axis=1), axis=0) if src.size else np.zeros((0, 2), np.int64)
    pending = np.bincount(pairs[:, 0], minlength=S)  # successors not yet known to be finite
    order = np.argsort(pairs[:, 1], kind="stable")
    preds_of = pairs[order, 0]
    ptr = np.zeros(S + 1, np.int64)
    np.cumsum(np.bincount(pairs[:, 1], minlength=S), out=ptr[1:])
    finite = np.zeros(S, bool)
    stack = [int(s) for s in np.flatnonzero(pending == 0)]
    while stack:
        s = stack.pop()
        finite[s] = True
        for p in preds_of[ptr[s]:ptr[s + 1]].tolist():
            pending[p] -= 1
            if pending[p] == 0:
                stack.append(p)
    return ~finite


def _flatten(e: ir.Expr, rules: dict[str, ir.Expr], active: set[str]) -> Optional[ir.Expr]:
    """``e`` with every reference replaced by its rule's body; None on recursion."""
    if isinstance(e, ir.Ref):
        if e.name in active or e.name not in rules:
            return None
        active.add(e.name)
        try:
            return _flatten(rules[e.name], rules, active)
        finally:
            active.discard(e.name)
    if isinstance(e, ir.Seq):
        items = [_flatten(i, rules, active) for i in e.items]
        return None if any(i is None for i in items) else ir.Seq(tuple(items))
    if isinstance(e, ir.Alt):
        items = [_flatten(i, rules, active) for i in e.items]
        return None if any(i is None for i in items) else ir.Alt(tuple(items))
    if isinstance(e, ir.Repeat):
        item = _flatten(e.item, rules, active)
        return None if item is None else ir.Repeat(item, e.min, e.max)
    return e
