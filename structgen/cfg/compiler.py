"""Grammar IR → :class:`~structgen.cfg.automaton.GrammarAutomaton`.

Per rule: Thompson NFA over bytes ∪ {call labels} (terminals inlined as byte sub-automata, every
:class:`~structgen.cfg.ir.Ref` a call edge, never inlined) → subset construction → removal of
calls to unproductive rules → trim → minimization (call labels are ordinary symbols) → canonical
numbering. Then nullable rules, structural fingerprints and the global arrays.

Fingerprints (recursion-safe, deterministic across processes): rules are processed by strongly
connected components of the call graph, callees first. A rule outside any cycle hashes its own
canonical automaton plus its callees' fingerprints; a rule inside a cycle hashes the canonical
automata of its whole component in discovery order from the rule (intra-component calls written
as discovery indices, calls leaving the component as fingerprints). Equal fingerprints therefore
mean identical automata (same local numbering) for the rule and everything reachable from it.

Per-rule work is cached process-wide (LRU) by the rule body with callee names replaced by call
label indices, so structurally repeated rules (JSON-schema property rules, re-compiles of the same
grammar) are determinized and minimized once.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass

import numpy as np

from structgen.automata import _kernels
from structgen.automata.dfa import CanonicalDFA, LabeledDFA, canonical_form, determinize, trim_minimize
from structgen.automata.nfa import NFA
from structgen.automata.regex import regex_fragment, repeat_fragment
from structgen.errors import CompileLimitError, GrammarError, RegexError
from structgen.cfg.automaton import GrammarAutomaton
from structgen.cfg.ir import Alt, Bytes, Expr, Grammar, Literal, Ref, Regex, Repeat, Seq

# The NFA of a rule may be larger than its DFA; it is bounded by this multiple of max_states.
_NFA_STATES_PER_DFA_STATE = 4


# --------------------------------------------------------------------------- IR walking
def _terminal_fragment(expr: Regex, rule: str):
    try:
        return regex_fragment(expr.pattern, expr.flags)
    except RegexError as e:
        raise RegexError(f"rule {rule!r}: {e.args[0] if e.args else e}", None, None, e.construct) from None


def _literal_bytes(expr: Literal, rule: str) -> bytes:
    try:
        return expr.text.encode("utf-8")
    except UnicodeEncodeError:
        raise GrammarError(f"rule {rule!r}: literal {expr.text!r} is not encodable as UTF-8") from None


def _too_large(rule: str, cap: int, max_states: int) -> CompileLimitError:
    return CompileLimitError(f"rule {rule!r} expands to more than {cap} NFA states "
                             f"(limit max_states={max_states})")


class _Builder:
    """Thompson construction of one rule body into an :class:`NFA`, bounded by ``cap`` NFA states.

    The bound is checked as the NFA grows: a counted repetition is refused as soon as its first
    copy shows that all copies would exceed it (so ``x{0,10**7}`` fails at once), and every other
    construct is linear in the size of the expression."""

    __slots__ = ("nfa", "labels", "rule", "cap", "max_states")

    def __init__(self, labels: dict[str, int], rule: str, max_states: int) -> None:
        self.nfa = NFA()
        self.labels = labels
        self.rule = rule
        self.max_states = max_states
        self.cap = max_states * _NFA_STATES_PER_DFA_STATE

    def check(self) -> None:
        if self.nfa.n_states > self.cap:
            raise _too_large(self.rule, self.cap, self.max_states)

    def build(self, expr: Expr, src: int) -> int:
        """Add the fragment of ``expr`` (an abstracted body: exact IR node types) from ``src``;
        return its exit state."""
        nfa = self.nfa
        t = type(expr)
        if t is Regex:
            return nfa.embed(src, _terminal_fragment(expr, self.rule))
        if t is Seq:
            cur = src
            for it in expr.items:
                cur = self.build(it, cur)
            return cur
        if t is Literal:
            return nfa.literal(src, _literal_bytes(expr, self.rule))
        if t is Ref:
            dst = nfa.add_state()
            nfa.add_label(src, self.labels[expr.name], dst)
            return dst
        if t is Alt:
            exit_ = nfa.add_state()
            for it in expr.items:
                nfa.add_eps(self.build(it, src), exit_)
            return exit_
        if t is Repeat:
            copies = max(expr.min + 1 if expr.max is None else expr.max, 1)
            before = nfa.n_states
            first = [True]

            def one(s: int) -> int:
                out = self.build(expr.item, s)
                if first[0]:
                    first[0] = False
                    if before + (nfa.n_states - before) * copies > self.cap:
                        raise _too_large(self.rule, self.cap, self.max_states)
                self.check()
                return out

            return repeat_fragment(nfa, src, expr.min, expr.max, one)
        if t is Bytes:
            return nfa.literal(src, expr.data)
        if isinstance(expr, Regex):  # a subclass of a terminal type (containers are normalized)
            return nfa.embed(src, _terminal_fragment(expr, self.rule))
        if isinstance(expr, Literal):
            return nfa.literal(src, _literal_bytes(expr, self.rule))
        if isinstance(expr, Bytes):
            return nfa.literal(src, expr.data)
        raise GrammarError(f"rule {self.rule!r}: unknown grammar expression {expr!r}")


_LABEL_REFS: list[Ref] = []


def _label_ref(i: int) -> Ref:
    while len(_LABEL_REFS) <= i:
        _LABEL_REFS.append(Ref(f"#{len(_LABEL_REFS)}"))
    return _LABEL_REFS[i]


def _abstract(expr: Expr, labels: dict[str, int], rule: str) -> Expr:
    """``expr`` with every ``Ref(name)`` renamed to ``Ref("#<label>")``: the rule body up to the
    names of the rules it calls (which only pick call labels), used as a cache key. Labels are
    assigned to callee names in ``labels`` in first-appearance order (depth-first, left to
    right). Validates the expression (node types, repetition bounds)."""
    t = type(expr)
    if t is Seq or t is Alt:
        items = expr.items
        new = [_abstract(it, labels, rule) for it in items]
        for a, b in zip(new, items):
            if a is not b:
                return t(tuple(new))
        return expr
    if t is Regex or t is Literal:
        return expr
    if t is Ref:
        i = labels.get(expr.name)
        if i is None:
            i = labels[expr.name] = len(labels)
        return _label_ref(i)
    if t is Repeat:
        if expr.min < 0 or (expr.max is not None and expr.max < expr.min):
            raise GrammarError(f"rule {rule!r}: invalid repetition bounds {{{expr.min},{expr.max}}}")
        item = _abstract(expr.item, labels, rule)
        return expr if item is expr.item else Repeat(item, expr.min, expr.max)
    if t is Bytes:
        return expr
    # subclasses of the node types (rare): normalized to the base type, then as above
    if isinstance(expr, (Seq, Alt)):
        return _abstract((Seq if isinstance(expr, Seq) else Alt)(tuple(expr.items)), labels, rule)
    if isinstance(expr, Ref):
        return _abstract(Ref(expr.name), labels, rule)
    if isinstance(expr, Repeat):
        return _abstract(Repeat(expr.item, expr.min, expr.max), labels, rule)
    if isinstance(expr, (Regex, Literal, Bytes)):
        return expr
    raise GrammarError(f"rule {rule!r}: unknown grammar expression {expr!r}")


def _determinize_body(body: Expr, n_labels: int, max_states: int, name: str) -> LabeledDFA:
    """Determinized automaton of an abstracted rule body (call labels ``#0..#n_labels-1``)."""
    b = _Builder({f"#{i}": i for i in range(n_labels)}, name, max_states)
    start = b.nfa.add_state()
    final = b.build(body, start)
    b.check()
    try:
        dfa = determinize(b.nfa, start, final, n_labels, max_states=max_states)
    except CompileLimitError as e:
        raise CompileLimitError(f"rule {name!r}: {e}") from None
    dfa.trans.setflags(write=False)
    dfa.accept.setflags(write=False)
    return dfa


@dataclass(frozen=True)
class _CanonicalRule:
    dfa: CanonicalDFA
    digest: bytes                 # hash of the canonical automaton, calls written as slot indices
    slot_labels: tuple[int, ...]  # distinct call labels in canonical first-use order


def _canonical_rule(reduced: LabeledDFA, label_order: tuple[int, ...]) -> _CanonicalRule:
    cd = canonical_form(reduced, np.asarray(label_order, dtype=np.int64))
    for arr in (cd.byte_trans, cd.accept, cd.label_trans, cd.call_state, cd.call_label, cd.call_target):
        arr.setflags(write=False)
    labels = cd.call_label.tolist()
    slot_labels = tuple(dict.fromkeys(labels))
    slot_of = {lab: i for i, lab in enumerate(slot_labels)}
    h = hashlib.sha256()
    h.update(np.int64(cd.n_states).tobytes())
    h.update(cd.accept.tobytes())
    h.update(cd.byte_trans.tobytes())
    h.update(cd.call_state.tobytes())
    h.update(np.array([slot_of[lab] for lab in labels], dtype=np.int32).tobytes())
    h.update(cd.call_target.tobytes())
    return _CanonicalRule(cd, h.digest(), slot_labels)


def _shallow_key(d: LabeledDFA) -> str:
    """A numbering-independent summary of a rule automaton (orders calls within a cycle)."""
    bt = d.byte_table()
    per_state = np.stack([d.accept.astype(np.int64), (bt >= 0).sum(axis=1),
                          (d.label_table() >= 0).sum(axis=1)], axis=1)
    per_state = per_state[np.lexsort(per_state.T[::-1])]
    return hashlib.sha256(per_state.tobytes()).hexdigest()


class _BodyKey:
    """Cache key of an abstracted rule body: the body's (recursive) hash is computed once, so the
    per-rule cache below costs one tree hash per rule and compile, not one per lookup."""

    __slots__ = ("body", "n_labels", "max_states", "_hash")

    def __init__(self, body: Expr, n_labels: int, max_states: int) -> None:
        self.body = body
        self.n_labels = n_labels
        self.max_states = max_states
        self._hash = hash((body, n_labels, max_states))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, _BodyKey) and self._hash == other._hash
                                 and self.n_labels == other.n_labels and self.max_states == other.max_states
                                 and self.body == other.body)


class _BodyEntry:
    """Everything derived from one abstracted body: its determinized automaton and, per set of
    allowed call labels, the reduced (trimmed, minimized) automaton, its shallow summary and its
    canonical forms (per call-label order)."""

    __slots__ = ("dfa", "reduced", "shallow", "canonical")

    def __init__(self, dfa: LabeledDFA) -> None:
        self.dfa = dfa
        self.reduced: dict[tuple[bool, ...], LabeledDFA] = {}
        self.shallow: dict[tuple[bool, ...], str] = {}
        self.canonical: dict[tuple[tuple[bool, ...], tuple[int, ...]], _CanonicalRule] = {}


class _BodyCache:
    """Process-wide LRU of :class:`_BodyEntry` by :class:`_BodyKey` (errors are not cached)."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[_BodyKey, _BodyEntry] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def entry(self, key: _BodyKey, name: str) -> _BodyEntry:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return hit
            self.misses += 1
        entry = _BodyEntry(_determinize_body(key.body, key.n_labels, key.max_states, name))
        with self._lock:
            entry = self._items.setdefault(key, entry)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return entry

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)


_BODIES = _BodyCache(8192)


@dataclass
class _Rule:
    """Per-rule working state: body up to callee names (cache key) and its callees by label."""
    name: str
    key: _BodyKey
    callees: list[str]
    max_states: int
    allowed: tuple[bool, ...] = ()
    _entry: _BodyEntry | None = None

    def determinized(self) -> LabeledDFA:
        self._entry = _BODIES.entry(self.key, self.name)
        return self._entry.dfa

    def reduced(self) -> LabeledDFA:
        e = self._entry
        d = e.reduced.get(self.allowed)
        if d is None:
            d = trim_minimize(e.dfa, np.array(self.allowed, dtype=bool))
            d.trans.setflags(write=False)
            d.accept.setflags(write=False)
            d = e.reduced.setdefault(self.allowed, d)
        return d

    def shallow(self) -> str:
        e = self._entry
        h = e.shallow.get(self.allowed)
        if h is None:
            h = e.shallow.setdefault(self.allowed, _shallow_key(self.reduced()))
        return h

    def canonical(self, label_order: tuple[int, ...]) -> _CanonicalRule:
        e = self._entry
        k = (self.allowed, label_order)
        cr = e.canonical.get(k)
        if cr is None:
            cr = e.canonical.setdefault(k, _canonical_rule(self.reduced(), label_order))
        return cr


# --------------------------------------------------------------------------- fixpoints
def _path_fixpoint(dfas: dict[str, LabeledDFA], callees: dict[str, list[str]],
                   use_bytes: bool) -> set[str]:
    """Least set X of rules such that r ∈ X iff some path start→accept in r's DFA uses
    (bytes if ``use_bytes``) and calls to rules in X. With bytes: productive rules; without:
    nullable rules."""
    callers: dict[str, list[str]] = {r: [] for r in dfas}
    for r in dfas:
        for c in callees[r]:
            if c in callers:
                callers[c].append(r)
    result: set[str] = set()
    queue = deque(dfas)
    queued = set(dfas)
    while queue:
        r = queue.popleft()
        queued.discard(r)
        if r in result:
            continue
        d = dfas[r]
        if d.n_states == 0:
            continue
        cols = np.zeros(d.trans.shape[1], dtype=bool)
        cols[:d.n_byte_classes] = use_bytes
        cols[d.n_byte_classes:] = [c in result for c in callees[r]]
        if _kernels.reaches_accept(d.trans, d.accept, cols):
            result.add(r)
            for caller in callers[r]:
                if caller not in result and caller not in queued:
                    queued.add(caller)
                    queue.append(caller)
    return result


def _used_callees(d: LabeledDFA, callees: list[str]) -> list[str]:
    if d.n_states == 0 or not callees:
        return []
    used = (d.label_table() >= 0).any(axis=0)
    return [c for c, u in zip(callees, used) if u]


def _sccs(nodes: list[str], succ: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's SCCs (iterative), returned callees-first (reverse topological order)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, 0)]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, i = work[-1]
            nbrs = succ[v]
            if i < len(nbrs):
                work[-1] = (v, i + 1)
                w = nbrs[i]
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, 0))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    u = work[-1][0]
                    low[u] = min(low[u], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    out.append(comp)
    return out


# --------------------------------------------------------------------------- main entry
def compile_grammar_automaton(grammar: Grammar, *, max_states: int = 2_000_000) -> GrammarAutomaton:
    """Compile ``grammar`` into a :class:`GrammarAutomaton` satisfying all its invariants.

    Raises :class:`GrammarError` for an undefined start rule or ``Ref`` (naming the rule and its
    referrer), malformed expressions, and an empty language (start rule unproductive);
    :class:`RegexError` for invalid/unsupported terminal regexes; :class:`CompileLimitError` when a
    rule or the whole automaton exceeds ``max_states`` states. Unproductive rules (and calls to
    them) and rules unreachable from the start are dropped. Rule ids are assigned in canonical
    discovery order from the start rule, so ``start_rule == 0``.
    """
    t0 = time.perf_counter()
    rules = dict(grammar.rules)
    start = grammar.start
    if start not in rules:
        raise GrammarError(f"start rule {start!r} is not defined")
    # validate every rule; abstract its callees to call labels (first-appearance order)
    all_callees: dict[str, list[str]] = {}
    abstract: dict[str, Expr] = {}
    for name, body in rules.items():
        labels: dict[str, int] = {}
        abstract[name] = _abstract(body, labels, name)
        for ref in labels:
            if ref not in rules:
                raise GrammarError(f"rule {name!r} references undefined rule {ref!r}")
        all_callees[name] = list(labels)
    # rules reachable from start (IR level)
    order = [start]
    seen_ir = {start}
    for r in order:
        for c in all_callees[r]:
            if c not in seen_ir:
                seen_ir.add(c)
                order.append(c)
    work = {r: _Rule(r, _BodyKey(abstract[r], len(all_callees[r]), max_states), all_callees[r], max_states)
            for r in order}
    callees = {r: w.callees for r, w in work.items()}
    dfas = {r: w.determinized() for r, w in work.items()}
    t_det = time.perf_counter()
    # productivity; drop calls to unproductive rules; trim + minimize
    productive = _path_fixpoint(dfas, callees, use_bytes=True)
    if start not in productive:
        raise GrammarError(f"empty language: start rule {start!r} derives no string"
                           + (f" (grammar {grammar.name!r})" if grammar.name else ""))
    for r in order:
        if r in productive:
            work[r].allowed = tuple(c in productive for c in callees[r])
            dfas[r] = work[r].reduced()
    # reachability over the remaining call edges
    used = {r: _used_callees(dfas[r], callees[r]) for r in order if r in productive}
    live_order = [start]
    seen = {start}
    for r in live_order:
        for c in used[r]:
            if c not in seen:
                seen.add(c)
                live_order.append(c)
    nullable = _path_fixpoint({r: dfas[r] for r in live_order}, callees, use_bytes=False)
    total = sum(dfas[r].n_states for r in live_order)
    if total > max_states:
        raise CompileLimitError(f"grammar automaton has {total} states (limit max_states={max_states})")
    t_min = time.perf_counter()

    canon, slots, fp = _canonicalize_and_fingerprint(live_order, work, used)

    # final rule ids: discovery order from start over canonical call order
    final_order = [start]
    rid = {start: 0}
    for r in final_order:
        for c in slots[r]:
            if c not in rid:
                rid[c] = len(final_order)
                final_order.append(c)
    aut = _assemble(final_order, rid, canon, callees)
    aut.nullable = np.array([r in nullable for r in final_order], dtype=bool)
    aut.rule_fingerprint = [fp[r] for r in final_order]
    t_end = time.perf_counter()
    aut.stats = {
        "compile_ms": (t_end - t0) * 1e3,
        "determinize_ms": (t_det - t0) * 1e3,
        "reduce_ms": (t_min - t_det) * 1e3,
        "finish_ms": (t_end - t_min) * 1e3,
        "n_states": aut.n_states,
        "n_rules": aut.n_rules,
        "n_call_edges": int(aut.call_rule.shape[0]),
        "states_per_rule": {r: canon[r].n_states for r in final_order},
        "dropped_unproductive": [r for r in order if r not in productive],
        "dropped_unreachable": [r for r in rules if r not in rid and (r in productive or r not in seen_ir)],
    }
    return aut


def _call_key(callee: str, fp: dict[str, str], shallow: dict[str, str]) -> str:
    """Sort key ordering call labels for canonical numbering: callees in earlier SCCs by
    fingerprint, callees in the current (cyclic) SCC by a numbering-independent summary (then
    name); labels without edges (calls to dropped rules) last."""
    if callee in fp:
        return "0" + fp[callee]
    if callee in shallow:
        return "1" + shallow[callee] + "\x00" + callee
    return "2"


def _canonicalize_and_fingerprint(live_order: list[str], work: dict[str, _Rule], used: dict[str, list[str]]):
    """Canonical numbering of every rule and structural fingerprints (see module docstring).
    Returns (canonical automata, slots: distinct callees in canonical first-use order, fp)."""
    fp: dict[str, str] = {}
    canon: dict[str, CanonicalDFA] = {}
    slots: dict[str, list[str]] = {}
    struct: dict[str, bytes] = {}
    for comp in _sccs(live_order, used):
        comp_set = set(comp)
        cyclic = len(comp) > 1 or comp[0] in used[comp[0]]
        shallow = {r: work[r].shallow() for r in comp} if cyclic else {}
        for r in comp:
            cs = work[r].callees
            keys = [_call_key(c, fp, shallow) for c in cs]
            label_order = tuple(sorted(range(len(cs)), key=keys.__getitem__))
            cr = work[r].canonical(label_order)
            canon[r] = cr.dfa
            slots[r] = [cs[lab] for lab in cr.slot_labels]
            struct[r] = cr.digest
        if not cyclic:
            r = comp[0]
            h = hashlib.sha256(b"D")
            h.update(struct[r])
            for c in slots[r]:
                h.update(fp[c].encode())
            fp[r] = h.hexdigest()
            continue
        for root in comp:
            disc = [root]
            idx = {root: 0}
            for u in disc:
                for c in slots[u]:
                    if c in comp_set and c not in idx:
                        idx[c] = len(disc)
                        disc.append(c)
            h = hashlib.sha256(b"C")
            for u in disc:
                h.update(struct[u])
                for c in slots[u]:
                    h.update(fp[c].encode() if c not in comp_set else b"#%d;" % idx[c])
            fp[root] = h.hexdigest()
    return canon, slots, fp


def _assemble(final_order, rid, canon, callees) -> GrammarAutomaton:
    """Concatenate the canonical rule automata into the global arrays."""
    n_rules = len(final_order)
    sizes = np.array([canon[r].n_states for r in final_order], dtype=np.int64)
    offsets = np.zeros(n_rules + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    S = int(offsets[-1])
    trans = np.concatenate([canon[r].byte_trans for r in final_order])
    state_off = np.repeat(offsets[:-1], sizes).astype(np.int32)
    np.add(trans, state_off[:, None], out=trans, where=trans >= 0)
    accept = np.concatenate([canon[r].accept for r in final_order])
    state_rule = np.repeat(np.arange(n_rules, dtype=np.int32), sizes)
    state_local = (np.arange(S, dtype=np.int64) - np.repeat(offsets[:-1], sizes)).astype(np.int32)
    call_src, call_rule, call_target = [], [], []
    for i, r in enumerate(final_order):
        cd = canon[r]
        if cd.call_state.shape[0]:
            gids = np.array([rid.get(c, -1) for c in callees[r]], dtype=np.int32)
            call_src.append(cd.call_state.astype(np.int64) + offsets[i])
            call_rule.append(gids[cd.call_label])
            call_target.append(cd.call_target + np.int32(offsets[i]))
    if call_src:
        src = np.concatenate(call_src)
        call_rule_a = np.concatenate(call_rule).astype(np.int32)
        call_target_a = np.concatenate(call_target).astype(np.int32)
    else:
        src = np.zeros(0, np.int64)
        call_rule_a = np.zeros(0, np.int32)
        call_target_a = np.zeros(0, np.int32)
    call_ptr = np.zeros(S + 1, dtype=np.int32)
    np.cumsum(np.bincount(src, minlength=S), out=call_ptr[1:])
    return GrammarAutomaton(
        trans=trans, accept=accept, state_rule=state_rule, state_local=state_local,
        call_ptr=call_ptr, call_rule=call_rule_a, call_target=call_target_a,
        rule_start=offsets[:-1].astype(np.int32), nullable=np.zeros(n_rules, bool),
        start_rule=0, rule_names=list(final_order), rule_fingerprint=[""] * n_rules, stats={})
