"""Grammar IR helpers for the JSON Schema compiler: chunked repetition, sizes, canonical names."""
from __future__ import annotations

import hashlib
import math
from typing import Callable

from ..cfg import ir

#: repetitions with more than this many copies are split into chunk rules
CHUNK_THRESHOLD = 48
#: ... except repetitions of a pure terminal (string characters), kept inline up to this count:
#: the enclosing rule then stays one byte DFA (no call edges), whose rows are cheap to compute
#: (plain-token slices, see ``structgen/runtime/plain_slices.py``) and whose tokens never split
#: at a chunk boundary (a chunk rule completes inside most tokens, which makes them all
#: context-dependent). Cost: ≈20 DFA states per copy of a JSON string character.
TERMINAL_CHUNK_THRESHOLD = 256


_LEAVES = (ir.Literal, ir.Regex, ir.Ref, ir.Bytes)


def alt(*items: ir.Expr) -> ir.Expr:
    """Like :func:`structgen.cfg.ir.alt` (flattening, order kept) but deduplicating only by
    identity and for leaf terminals, so building large trees does not rehash whole subtrees."""
    out: list[ir.Expr] = []
    seen_ids: set[int] = set()
    seen_leaves: set = set()
    for it in items:
        for sub in (it.items if isinstance(it, ir.Alt) else (it,)):
            if id(sub) in seen_ids:
                continue
            seen_ids.add(id(sub))
            if isinstance(sub, _LEAVES):
                if sub in seen_leaves:
                    continue
                seen_leaves.add(sub)
            out.append(sub)
    if len(out) == 1:
        return out[0]
    return ir.Alt(tuple(out))


def expr_size(e: ir.Expr) -> int:
    if isinstance(e, (ir.Seq, ir.Alt)):
        return 1 + sum(expr_size(i) for i in e.items)
    if isinstance(e, ir.Repeat):
        return 1 + expr_size(e.item)
    return 1


def _is_terminal(e: ir.Expr) -> bool:
    """The expression calls no rule (it compiles into its rule's own byte DFA)."""
    if isinstance(e, ir.Ref):
        return False
    if isinstance(e, (ir.Seq, ir.Alt)):
        return all(_is_terminal(i) for i in e.items)
    if isinstance(e, ir.Repeat):
        return _is_terminal(e.item)
    return True


def repeat(item: ir.Expr, lo: int, hi: int | None, add_rule: Callable[[str, ir.Expr], ir.Expr]) -> ir.Expr:
    """``item{lo,hi}``; counts above :data:`CHUNK_THRESHOLD` are built from a helper rule
    ``chunk = item{k}`` (k ≈ √hi) so automata stay O(√n) instead of O(n):

    ``item{lo,hi} = chunk{a} · ( item{b,k-1} | chunk{1,c-a-1}·item{0,k-1} | chunk{c-a}·item{0,d} )``
    with ``lo = a·k + b`` and ``hi = c·k + d``.
    """
    if hi is not None and hi < lo:
        return ir.NOTHING
    if item == ir.NOTHING:
        return ir.EMPTY if lo == 0 else ir.NOTHING
    if item == ir.EMPTY or hi == 0:
        return ir.EMPTY
    biggest = hi if hi is not None else lo
    terminal = _is_terminal(item)
    if biggest <= (TERMINAL_CHUNK_THRESHOLD if terminal else CHUNK_THRESHOLD):
        if lo == 1 and hi == 1:
            return item
        return ir.Repeat(item, lo, hi)
    if terminal:
        return _terminal_repeat(item, lo, hi, add_rule)
    return _chunked_repeat(item, lo, hi, add_rule)


def _chunked_repeat(item: ir.Expr, lo: int, hi: int | None,
                    add_rule: Callable[[str, ir.Expr], ir.Expr]) -> ir.Expr:
    """``item{lo,hi}`` from ``chunk = item{k}``, k ≈ √max(lo, hi) (see :func:`repeat`)."""
    biggest = hi if hi is not None else lo
    k = max(8, int(math.isqrt(biggest)))
    chunk = add_rule("chunk", ir.Repeat(item, k, k))
    a, b = divmod(lo, k)
    head = ir.Repeat(chunk, a, a) if a > 1 else (chunk if a == 1 else ir.EMPTY)
    if hi is None:
        return ir.seq(head, ir.Repeat(item, b, None))
    c, d = divmod(hi, k)
    if a == c:
        return ir.seq(head, ir.Repeat(item, b, d))
    alts = [ir.Repeat(item, b, k - 1)]
    if c - a - 1 >= 1:
        alts.append(ir.seq(ir.Repeat(chunk, 1, c - a - 1), ir.Repeat(item, 0, k - 1)))
    alts.append(ir.seq(ir.Repeat(chunk, c - a, c - a), ir.Repeat(item, 0, d)))
    return ir.seq(head, ir.alt(*alts))


def _terminal_repeat(item: ir.Expr, lo: int, hi: int | None,
                     add_rule: Callable[[str, ir.Expr], ir.Expr]) -> ir.Expr:
    """``item{lo,hi}`` for a terminal ``item`` and a count above the inline threshold ``L``:

    ``item{min(lo,L),L} | item{L} · tail`` with the rule ``tail = item{max(lo-L,1), hi-L}`` built
    from √-sized chunk rules (:func:`_chunked_repeat`), so the automaton has O(L + √hi) states.

    The first ``L`` copies stay in the caller's byte DFA, so the states of the first ``L - 128``
    or so copies are out of reach of any token from a call edge and keep the cheap rows of a
    plain DFA (see ``MaskStore.walk_row``); rule boundaries only come after ``L`` copies.
    """
    L = TERMINAL_CHUNK_THRESHOLD
    t_lo, t_hi = max(lo - L, 1), None if hi is None else hi - L
    if (t_hi if t_hi is not None else t_lo) <= CHUNK_THRESHOLD:
        tail = add_rule("tail", ir.Repeat(item, t_lo, t_hi))
    else:
        tail = add_rule("tail", _chunked_repeat(item, t_lo, t_hi, add_rule))
    long_form = ir.seq(ir.Repeat(item, L, L), tail)
    if lo > L:
        return long_form
    return ir.alt(ir.Repeat(item, lo, L), long_form)


def _ser(e: ir.Expr, names: dict[str, str], out: list[str]) -> None:
    if isinstance(e, ir.Ref):
        out.append("R(" + names.get(e.name, e.name) + ")")
    elif isinstance(e, ir.Literal):
        out.append("L(" + repr(e.text) + ")")
    elif isinstance(e, ir.Regex):
        out.append("X(" + repr(e.pattern) + "," + str(e.flags) + ")")
    elif isinstance(e, ir.Bytes):
        out.append("B(" + repr(e.data) + ")")
    elif isinstance(e, ir.Seq):
        out.append("S(")
        for i in e.items:
            _ser(i, names, out)
            out.append(",")
        out.append(")")
    elif isinstance(e, ir.Alt):
        out.append("A(")
        for i in e.items:
            _ser(i, names, out)
            out.append(",")
        out.append(")")
    elif isinstance(e, ir.Repeat):
        out.append(f"P({e.min},{e.max},")
        _ser(e.item, names, out)
        out.append(")")
    else:  # pragma: no cover
        raise TypeError(e)


class _RefCollector(dict):
    """A names mapping for :func:`serialize` that records referenced rules (in order) and writes
    each as its position in that list."""

    def __init__(self, refs: list[str], index: dict):
        super().__init__()
        self.refs = refs
        self.index = index

    def get(self, name, default=None):
        i = self.index.get(name)
        if i is None:
            i = len(self.refs)
            self.index[name] = i
            self.refs.append(name)
        return f"#{i}"


def serialize(e: ir.Expr, names: dict[str, str] | None = None) -> str:
    out: list[str] = []
    _ser(e, names or {}, out)
    return "".join(out)


def rename(e: ir.Expr, names: dict[str, str]) -> ir.Expr:
    if isinstance(e, ir.Ref):
        return ir.Ref(names.get(e.name, e.name))
    if isinstance(e, ir.Seq):
        return ir.Seq(tuple(rename(i, names) for i in e.items))
    if isinstance(e, ir.Alt):
        return ir.Alt(tuple(rename(i, names) for i in e.items))
    if isinstance(e, ir.Repeat):
        return ir.Repeat(rename(e.item, names), e.min, e.max)
    return e


def refs_of(e: ir.Expr, acc: set[str]) -> set[str]:
    if isinstance(e, ir.Ref):
        acc.add(e.name)
    elif isinstance(e, (ir.Seq, ir.Alt)):
        for i in e.items:
            refs_of(i, acc)
    elif isinstance(e, ir.Repeat):
        refs_of(e.item, acc)
    return acc


def canonicalize(rules: dict[str, ir.Expr], start: str, fixed: frozenset[str]) -> dict[str, ir.Expr]:
    """Drop unreachable rules, merge structurally identical ones and give every rule not in
    ``fixed`` a content-derived name ``<hint>_<hash>`` (hint = the name before ``#``), so equal
    (sub)schemas yield equal rules and recompiling a schema yields the same grammar.

    Hashes are refined iteratively (like Weisfeiler-Lehman) so recursive rules are handled: two
    rules get the same final hash only if their bodies are equal up to the renaming, which makes
    merging them language-preserving.
    """
    reach = {start}
    stack = [start]
    while stack:
        r = stack.pop()
        for n in refs_of(rules[r], set()):
            if n not in reach:
                reach.add(n)
                stack.append(n)
    names = sorted(reach)
    hint = {n: n.split("#", 1)[0] for n in names}
    # serialize each body once with its references abstracted; refine hashes over the call graph
    templates: dict[str, str] = {}
    callees: dict[str, list[str]] = {}
    for n in names:
        refs: list[str] = []
        marker = {}
        body = serialize(rules[n], _RefCollector(refs, marker))
        templates[n] = hashlib.sha1((hint[n] + "|" + body).encode("utf-8", "surrogatepass")).hexdigest()
        callees[n] = refs
    h = {n: templates[n] for n in names}
    n_classes = len(set(h.values()))
    for _ in range(len(names) + 1):
        new = {n: hashlib.sha1((templates[n] + ":" + ",".join(h[c] for c in callees[n])).encode()).hexdigest()
               for n in names}
        k = len(set(new.values()))
        h = new
        if k == n_classes:
            break
        n_classes = k
    final: dict[str, str] = {}
    for n in names:
        if n in fixed:
            final[n] = n
        else:
            final[n] = f"{hint[n]}_{h[n][:12]}"
    out: dict[str, ir.Expr] = {}
    for n in names:
        fn = final[n]
        if fn in out:
            continue
        out[fn] = rename(rules[n], final)
    return out


def productive_rules(rules: dict[str, ir.Expr]) -> set[str]:
    """Rules that derive at least one string (least fixpoint)."""
    prod: set[str] = set()

    def ok(e: ir.Expr) -> bool:
        if isinstance(e, ir.Ref):
            return e.name in prod
        if isinstance(e, ir.Seq):
            return all(ok(i) for i in e.items)
        if isinstance(e, ir.Alt):
            return any(ok(i) for i in e.items)
        if isinstance(e, ir.Repeat):
            return e.min == 0 or ok(e.item)
        return True

    changed = True
    while changed:
        changed = False
        for n, body in rules.items():
            if n not in prod and ok(body):
                prod.add(n)
                changed = True
    return prod
