"""Grammar IR helpers for the JSON Schema compiler: chunked repetition, sizes, canonical names."""
from __future__ import annotations

import hashlib
import math
from typing import Callable

from ..cfg import ir

#: repetitions with more than this many copies are split into chunk rules
CHUNK_THRESHOLD = 48
#: the fewest copies in a chunk rule
MIN_CHUNK = 8
#: ... except repetitions of a pure terminal (string characters), kept inline up to this count:
#: the enclosing rule then stays one byte DFA (no call edges), whose rows are cheap to compute
#: (plain-token slices, see ``structgen/runtime/plain_slices.py``) and whose tokens never split
#: at a chunk boundary (a chunk rule completes inside most tokens, which makes them all
#: context-dependent). Cost: ≈20 DFA states per copy of a JSON string character (a 1024-character
#: string: ≈20k states, ≈22 MB of transitions, ≈35 ms to compile once).
TERMINAL_CHUNK_THRESHOLD = 1024


_LEAVES = (ir.Literal, ir.Regex, ir.Ref, ir.Bytes, ir.Automaton)
_LEAF_TYPES = frozenset(_LEAVES)


def alt(*items: ir.Expr) -> ir.Expr:
    """Like :func:`structgen.cfg.ir.alt` (flattening, order kept) but deduplicating only by
    identity and for leaf terminals, so building large trees does not rehash whole subtrees."""
    if len(items) == 2:  # the common case, without the sets
        a, b = items
        ta, tb = type(a), type(b)
        if ta is not ir.Alt and tb is not ir.Alt and ta in _LEAF_TYPES and tb in _LEAF_TYPES:
            return a if (a is b or a == b) else ir.Alt((a, b))
        if ta is not ir.Alt and tb is not ir.Alt and not isinstance(a, ir.Alt) and not isinstance(b, ir.Alt) \
                and not isinstance(a, _LEAVES) and not isinstance(b, _LEAVES):
            return a if a is b else ir.Alt((a, b))
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


#: ... or fewer, so that the inline copies stay under this many DFA states (a character class with a
#: large UTF-8 / escape structure, e.g. ``\w`` in JSON, has hundreds of states per copy: 253
#: inline copies made a 200k-state automaton)
INLINE_MAX_STATES = 24576
#: chunk size at least this in the tails of long strings (longer than the longest plain token
#: of common vocabularies, see :func:`_chunked_repeat`)
TAIL_MIN_CHUNK = 256


def terminal_states(e: ir.Expr) -> int:
    """An upper bound on the DFA states of a terminal expression (no rule calls): the sum over its
    terminals of their minimal automata (compiled regex fragments are cached, and the grammar
    compiler needs them anyway)."""
    t = type(e)
    if t is ir.Regex:
        from ..automata.regex import regex_fragment
        try:
            return regex_fragment(e.pattern, e.flags).n_states
        except Exception:  # invalid regexes are reported by the grammar compiler
            return 1
    if t is ir.Literal:
        return len(e.text.encode("utf-8", "surrogatepass")) + 1
    if t is ir.Bytes:
        return len(e.data) + 1
    if t is ir.Automaton:
        return e.n_states
    if t is ir.Seq or t is ir.Alt:
        return 1 + sum(terminal_states(i) for i in e.items)
    if t is ir.Repeat:
        return 1 + terminal_states(e.item) * max(1, e.max if e.max is not None else e.min + 1)
    return 1


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
    inline = CHUNK_THRESHOLD
    if terminal:
        inline = max(8, min(TERMINAL_CHUNK_THRESHOLD, INLINE_MAX_STATES // max(1, terminal_states(item))))
    if biggest <= inline:
        if lo == 1 and hi == 1:
            return item
        return ir.Repeat(item, lo, hi)
    if terminal:
        return _terminal_repeat(item, lo, hi, add_rule, inline)
    return _chunked_repeat(item, lo, hi, add_rule)


def _chunked_repeat(item: ir.Expr, lo: int, hi: int | None,
                    add_rule: Callable[[str, ir.Expr], ir.Expr], min_chunk: int = MIN_CHUNK) -> ir.Expr:
    """``item{lo,hi}`` from ``chunk = item{k}``, k ≈ √max(lo, hi) but at least ``min_chunk``
    (see :func:`repeat`).

    With ``min_chunk > MIN_CHUNK`` (long strings, :func:`_terminal_repeat`) the last chunk of the longest
    form is written inline — ``chunk{c-a-1}·item{k,k+d}`` instead of ``chunk{c-a}·item{0,d}`` — so
    that after every chunk at least ``k - 1`` more copies may follow: a token that runs past a
    chunk's end then never depends on where that chunk was called (``MaskStore.absorbs_after``).
    """
    biggest = hi if hi is not None else lo
    k = max(min_chunk, int(math.isqrt(biggest)))
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
    if min_chunk > MIN_CHUNK:
        body = ir.Repeat(chunk, c - a - 1, c - a - 1) if c - a - 1 >= 1 else ir.EMPTY
        alts.append(ir.seq(body, ir.Repeat(item, k, k + d)))
    else:
        alts.append(ir.seq(ir.Repeat(chunk, c - a, c - a), ir.Repeat(item, 0, d)))
    return ir.seq(head, ir.alt(*alts))


def _terminal_repeat(item: ir.Expr, lo: int, hi: int | None,
                     add_rule: Callable[[str, ir.Expr], ir.Expr], inline: int = TERMINAL_CHUNK_THRESHOLD) -> ir.Expr:
    """``item{lo,hi}`` for a terminal ``item`` and a count above the inline threshold ``L`` (``inline``:
    :data:`TERMINAL_CHUNK_THRESHOLD`, fewer for items with large automata):

    ``item{min(lo,L),L} | item{L} · tail`` with the rule ``tail = item{max(lo-L,1), hi-L}`` built
    from chunk rules of ``max(√hi, min(TAIL_MIN_CHUNK, L/4))`` copies (:func:`_chunked_repeat`), so
    the automaton has O(L + chunk) states.

    The first ``L`` copies stay in the caller's byte DFA, so their rows are plain-DFA rows (see
    ``MaskStore.walk_row``); rule boundaries only come after ``L`` copies. Rows near a boundary
    still come from vocabulary slices: the chain into the tail's call
    (``MaskStore._plain_through_call``), the tail's states that may end the string
    (``plain_reach``: only ``"`` follows) and chunk states whose callers always take at least a
    token's worth of further characters (``_crosses_plainly``).
    """
    L = inline
    t_lo, t_hi = max(lo - L, 1), None if hi is None else hi - L
    if (t_hi if t_hi is not None else t_lo) <= CHUNK_THRESHOLD:
        tail = add_rule("tail", ir.Repeat(item, t_lo, t_hi))
    else:
        tail = add_rule("tail", _chunked_repeat(item, t_lo, t_hi, add_rule, max(MIN_CHUNK, min(TAIL_MIN_CHUNK, L // 4))))
    long_form = ir.seq(ir.Repeat(item, L, L), tail)
    if lo > L:
        return long_form
    return ir.alt(ir.Repeat(item, lo, L), long_form)


def _ser(e: ir.Expr, names, out: list[str], with_refs: set[int] | None = None) -> bool:
    """Append ``e``'s serialization to ``out``; returns whether ``e`` contains a reference. When
    ``with_refs`` is given, the ids of the composite nodes that contain one are added to it."""
    t = type(e)
    if t is ir.Ref:
        out.append("R(" + names.get(e.name, e.name) + ")")
        return True
    if t is ir.Literal:
        out.append("L(" + repr(e.text) + ")")
        return False
    if t is ir.Regex:
        out.append("X(" + repr(e.pattern) + "," + str(e.flags) + ")")
        return False
    if t is ir.Seq or t is ir.Alt:
        append = out.append
        append("S(" if t is ir.Seq else "A(")
        has = False
        for i in e.items:
            ti = type(i)
            if ti is ir.Literal:  # leaves inline (the same text as the calls below write)
                append("L(" + repr(i.text) + "),")
            elif ti is ir.Regex:
                append("X(" + repr(i.pattern) + "," + str(i.flags) + "),")
            else:
                if _ser(i, names, out, with_refs):
                    has = True
                append(",")
        append(")")
    elif t is ir.Repeat:
        out.append(f"P({e.min},{e.max},")
        has = _ser(e.item, names, out, with_refs)
        out.append(")")
    elif t is ir.Bytes:
        out.append("B(" + repr(e.data) + ")")
        return False
    elif t is ir.Automaton:
        out.append("D(" + e.digest + ")")
        return False
    else:  # subclasses (rare): as their base type
        for base in (ir.Ref, ir.Literal, ir.Regex, ir.Seq, ir.Alt, ir.Repeat, ir.Bytes):
            if isinstance(e, base):
                has = _ser(_as_base(e, base), names, out, with_refs)
                if has and with_refs is not None:
                    with_refs.add(id(e))
                return has
        raise TypeError(e)
    if has and with_refs is not None:
        with_refs.add(id(e))
    return has


def _as_base(e: ir.Expr, base: type) -> ir.Expr:
    if base is ir.Ref:
        return ir.Ref(e.name)
    if base is ir.Literal:
        return ir.Literal(e.text)
    if base is ir.Regex:
        return ir.Regex(e.pattern, e.flags)
    if base is ir.Bytes:
        return ir.Bytes(e.data)
    if base is ir.Repeat:
        return ir.Repeat(e.item, e.min, e.max)
    return base(tuple(e.items))


def serialize(e: ir.Expr, names: dict[str, str] | None = None) -> str:
    out: list[str] = []
    _ser(e, names or {}, out)
    return "".join(out)


def rename(e: ir.Expr, names: dict[str, str], with_refs: set[int] | None = None) -> ir.Expr:
    """``e`` with every ``Ref(n)`` renamed to ``names.get(n, n)``. With ``with_refs`` (ids of the
    composite nodes that contain a reference, from :func:`_ser`), subtrees without references
    are returned as they are instead of being rebuilt."""
    if isinstance(e, ir.Ref):
        return ir.Ref(names.get(e.name, e.name))
    if with_refs is not None and id(e) not in with_refs:
        return e
    if isinstance(e, ir.Seq):
        return ir.Seq(tuple(rename(i, names, with_refs) for i in e.items))
    if isinstance(e, ir.Alt):
        return ir.Alt(tuple(rename(i, names, with_refs) for i in e.items))
    if isinstance(e, ir.Repeat):
        return ir.Repeat(rename(e.item, names, with_refs), e.min, e.max)
    return e


class _NameRecorder(dict):
    """A names mapping for :func:`_ser` that writes every reference by its own name and records
    the referenced rules in first-use order."""

    def __init__(self, refs: list[str]):
        super().__init__()
        self.refs = refs
        self.seen: set[str] = set()

    def get(self, name, default=None):
        if name not in self.seen:
            self.seen.add(name)
            self.refs.append(name)
        return name


def canonicalize(rules: dict[str, ir.Expr], start: str, fixed: frozenset[str]) -> dict[str, ir.Expr]:
    """Drop unreachable rules, merge identical ones and give every rule not in ``fixed`` a
    content-derived name ``<hint>_<hash>`` (hint = the name before ``#``), so equal (sub)schemas
    yield equal rules and recompiling a schema yields the same grammar.

    The hash covers the hint and the whole body with its references written by the (raw) names
    of the rules they call, so two rules get the same name only if their bodies are identical —
    merging them is language-preserving.

    One pass over each reachable body serializes it, finds its callees (which drive the
    reachability search) and marks the subtrees that contain references; renaming then rebuilds
    only those subtrees.
    """
    digest: dict[str, str] = {}
    has_callees: dict[str, bool] = {}
    with_refs: set[int] = set()
    order = [start]
    reach = {start}
    for n in order:
        refs: list[str] = []
        out: list[str] = []
        _ser(rules[n], _NameRecorder(refs), out, with_refs)
        body = "".join(out)
        template = hashlib.sha1((n.split("#", 1)[0] + "|" + body).encode("utf-8", "surrogatepass")).hexdigest()
        digest[n] = hashlib.sha1((template + ":").encode()).hexdigest()
        has_callees[n] = bool(refs)
        for c in refs:
            if c not in reach:
                reach.add(c)
                order.append(c)
    names = sorted(reach)
    final = {n: n if n in fixed else f"{n.split('#', 1)[0]}_{digest[n][:12]}" for n in names}
    result: dict[str, ir.Expr] = {}
    for n in names:
        fn = final[n]
        if fn in result:
            continue
        result[fn] = rename(rules[n], final, with_refs) if has_callees[n] else rules[n]
    return result


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
