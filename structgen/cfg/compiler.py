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

import functools
import hashlib
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from structgen.automata import _kernels
from structgen.automata.dfa import CanonicalDFA, LabeledDFA, canonical_form, determinize, trim_minimize
from structgen.automata.nfa import NFA
from structgen.automata.regex import compile_regex_dfa, repeat_fragment
from structgen.errors import CompileLimitError, GrammarError, RegexError
from structgen.cfg.automaton import GrammarAutomaton
from structgen.cfg.ir import Alt, Bytes, Expr, Grammar, Literal, Ref, Regex, Repeat, Seq

# The NFA of a rule may be larger than its DFA; it is bounded by this multiple of max_states.
_NFA_STATES_PER_DFA_STATE = 4


# --------------------------------------------------------------------------- IR walking
def _collect_refs(expr: Expr, out: dict[str, None], rule: str) -> None:
    """Ordered set of rule names referenced by ``expr`` (first appearance order); validates nodes."""
    stack = [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, Ref):
            out.setdefault(e.name, None)
        elif isinstance(e, (Seq, Alt)):
            stack.extend(reversed(e.items))
        elif isinstance(e, Repeat):
            if e.min < 0 or (e.max is not None and e.max < e.min):
                raise GrammarError(f"rule {rule!r}: invalid repetition bounds {{{e.min},{e.max}}}")
            stack.append(e.item)
        elif isinstance(e, (Regex, Literal, Bytes)):
            pass
        else:
            raise GrammarError(f"rule {rule!r}: unknown grammar expression {e!r}")


def _terminal_fragment(expr: Regex, rule: str):
    try:
        return compile_regex_dfa(expr.pattern, expr.flags).range_automaton
    except RegexError as e:
        raise RegexError(f"rule {rule!r}: {e.args[0] if e.args else e}", None, None, e.construct) from None


def _literal_bytes(expr: Literal, rule: str) -> bytes:
    try:
        return expr.text.encode("utf-8")
    except UnicodeEncodeError:
        raise GrammarError(f"rule {rule!r}: literal {expr.text!r} is not encodable as UTF-8") from None


def _estimate(expr: Expr, cap: int, rule: str) -> int:
    """Upper estimate of the NFA states :func:`_build` creates (saturating above ``cap``)."""
    if isinstance(expr, Regex):
        return _terminal_fragment(expr, rule).n_states + 1
    if isinstance(expr, Literal):
        return len(_literal_bytes(expr, rule)) + 1
    if isinstance(expr, Bytes):
        return len(expr.data) + 1
    if isinstance(expr, Ref):
        return 1
    if isinstance(expr, (Seq, Alt)):
        total = 1
        for it in expr.items:
            total += _estimate(it, cap, rule)
            if total > cap:
                return cap + 1
        return total
    if isinstance(expr, Repeat):
        copies = expr.min + 1 if expr.max is None else expr.max
        return min(cap + 1, _estimate(expr.item, cap, rule) * max(copies, 1) + 2)
    raise GrammarError(f"rule {rule!r}: unknown grammar expression {expr!r}")


def _build(nfa: NFA, expr: Expr, src: int, labels: dict[str, int], rule: str) -> int:
    """Add the fragment of ``expr`` from ``src``; return its exit state."""
    if isinstance(expr, Literal):
        return nfa.literal(src, _literal_bytes(expr, rule))
    if isinstance(expr, Bytes):
        return nfa.literal(src, expr.data)
    if isinstance(expr, Ref):
        dst = nfa.add_state()
        nfa.add_label(src, labels[expr.name], dst)
        return dst
    if isinstance(expr, Regex):
        return nfa.embed(src, _terminal_fragment(expr, rule))
    if isinstance(expr, Seq):
        cur = src
        for it in expr.items:
            cur = _build(nfa, it, cur, labels, rule)
        return cur
    if isinstance(expr, Alt):
        exit_ = nfa.add_state()
        for it in expr.items:
            nfa.add_eps(_build(nfa, it, src, labels, rule), exit_)
        return exit_
    if isinstance(expr, Repeat):
        return repeat_fragment(nfa, src, expr.min, expr.max,
                               lambda s: _build(nfa, expr.item, s, labels, rule))
    raise GrammarError(f"rule {rule!r}: unknown grammar expression {expr!r}")


def _abstract(expr: Expr, labels: dict[str, int]) -> Expr:
    """``expr`` with every ``Ref(name)`` renamed to ``Ref("#<label>")``: the rule body up to the
    names of the rules it calls (which only pick call labels), used as a cache key."""
    if isinstance(expr, Ref):
        return Ref(f"#{labels[expr.name]}")
    if isinstance(expr, (Seq, Alt)):
        items = tuple(_abstract(it, labels) for it in expr.items)
        if all(a is b for a, b in zip(items, expr.items)):
            return expr
        return type(expr)(items)
    if isinstance(expr, Repeat):
        item = _abstract(expr.item, labels)
        return expr if item is expr.item else Repeat(item, expr.min, expr.max)
    return expr


@functools.lru_cache(maxsize=8192)
def _body_dfa(body: Expr, n_labels: int, max_states: int, name: str) -> LabeledDFA:
    """Determinized automaton of an abstracted rule body (call labels ``#0..#n_labels-1``)."""
    cap = max_states * _NFA_STATES_PER_DFA_STATE
    if _estimate(body, cap, name) > cap:
        raise CompileLimitError(f"rule {name!r} expands to more than {cap} NFA states "
                                f"(limit max_states={max_states})")
    nfa = NFA()
    start = nfa.add_state()
    final = _build(nfa, body, start, {f"#{i}": i for i in range(n_labels)}, name)
    try:
        dfa = determinize(nfa, start, final, n_labels, max_states=max_states)
    except CompileLimitError as e:
        raise CompileLimitError(f"rule {name!r}: {e}") from None
    dfa.trans.setflags(write=False)
    dfa.accept.setflags(write=False)
    return dfa


@functools.lru_cache(maxsize=8192)
def _reduced_dfa(body: Expr, n_labels: int, max_states: int, allowed: tuple[bool, ...]) -> LabeledDFA:
    """Trimmed, minimized automaton of an abstracted body with calls limited to ``allowed`` labels."""
    dfa = trim_minimize(_body_dfa(body, n_labels, max_states, ""), np.array(allowed, dtype=bool))
    dfa.trans.setflags(write=False)
    dfa.accept.setflags(write=False)
    return dfa


@dataclass(frozen=True)
class _CanonicalRule:
    dfa: CanonicalDFA
    digest: bytes                 # hash of the canonical automaton, calls written as slot indices
    slot_labels: tuple[int, ...]  # distinct call labels in canonical first-use order


@functools.lru_cache(maxsize=8192)
def _canonical_rule(body: Expr, n_labels: int, max_states: int, allowed: tuple[bool, ...],
                    label_order: tuple[int, ...]) -> _CanonicalRule:
    cd = canonical_form(_reduced_dfa(body, n_labels, max_states, allowed),
                        np.asarray(label_order, dtype=np.int64))
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


@functools.lru_cache(maxsize=8192)
def _shallow_key(body: Expr, n_labels: int, max_states: int, allowed: tuple[bool, ...]) -> str:
    """A numbering-independent summary of a rule automaton (orders calls within a cycle)."""
    d = _reduced_dfa(body, n_labels, max_states, allowed)
    bt = d.byte_table()
    per_state = np.stack([d.accept.astype(np.int64), (bt >= 0).sum(axis=1),
                          (d.label_table() >= 0).sum(axis=1)], axis=1)
    per_state = per_state[np.lexsort(per_state.T[::-1])]
    return hashlib.sha256(per_state.tobytes()).hexdigest()


@dataclass
class _Rule:
    """Per-rule working state: body up to callee names (cache key) and its callees by label."""
    name: str
    key: Expr
    callees: list[str]
    max_states: int
    allowed: tuple[bool, ...] = ()

    def determinized(self) -> LabeledDFA:
        try:
            # the name only appears in error messages (errors are not cached): retry with it
            return _body_dfa(self.key, len(self.callees), self.max_states, "")
        except (GrammarError, RegexError, CompileLimitError):
            _body_dfa(self.key, len(self.callees), self.max_states, self.name)
            raise

    def reduced(self) -> LabeledDFA:
        return _reduced_dfa(self.key, len(self.callees), self.max_states, self.allowed)

    def shallow(self) -> str:
        return _shallow_key(self.key, len(self.callees), self.max_states, self.allowed)

    def canonical(self, label_order: tuple[int, ...]) -> _CanonicalRule:
        return _canonical_rule(self.key, len(self.callees), self.max_states, self.allowed, label_order)


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
    # validate every rule; collect callees in first-appearance order
    all_callees: dict[str, list[str]] = {}
    for name, body in rules.items():
        refs: dict[str, None] = {}
        _collect_refs(body, refs, name)
        for ref in refs:
            if ref not in rules:
                raise GrammarError(f"rule {name!r} references undefined rule {ref!r}")
        all_callees[name] = list(refs)
    # rules reachable from start (IR level)
    order = [start]
    seen_ir = {start}
    for r in order:
        for c in all_callees[r]:
            if c not in seen_ir:
                seen_ir.add(c)
                order.append(c)
    work = {r: _Rule(r, _abstract(rules[r], {c: i for i, c in enumerate(all_callees[r])}),
                     all_callees[r], max_states) for r in order}
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
