"""Grammar IR → :class:`~structgen.cfg.automaton.GrammarAutomaton`.

Per rule: the body is flattened into a postfix program (:class:`_Program`), from which a numba
kernel builds the Thompson NFA over bytes ∪ {call labels} (:mod:`structgen.automata.thompson`;
terminals inlined as byte sub-automata, every :class:`~structgen.cfg.ir.Ref` a call edge, never
inlined) → subset construction → removal of calls to unproductive rules → trim → minimization
(call labels are ordinary symbols) → canonical numbering. Then nullable rules, structural
fingerprints and the global arrays.

Fingerprints (recursion-safe, deterministic across processes): rules are processed by strongly
connected components of the call graph, callees first. A rule outside any cycle hashes its own
canonical automaton plus its callees' fingerprints; a rule inside a cycle hashes the canonical
automata of its whole component in discovery order from the rule (intra-component calls written
as discovery indices, calls leaving the component as fingerprints). Equal fingerprints therefore
mean identical automata (same local numbering) for the rule and everything reachable from it.

Per-rule work is cached process-wide (LRU) by the rule's program (callees appear only as call
label indices), so structurally repeated rules (JSON-schema property rules, re-compiles of the
same grammar) are determinized and minimized once. Digests hash the canonical byte table in a
compact, equivalent form (class of each byte, one column per class).
"""
from __future__ import annotations

import hashlib
import os
import threading
from array import array
import time
from collections import OrderedDict, deque
from dataclasses import dataclass

import numpy as np

from structgen.automata import _kernels
from structgen.automata import thompson as _T
from structgen.automata.dfa import CanonicalDFA, LabeledDFA, canonical_form, determinize_csr, trim_minimize
from structgen.automata.regex import regex_fragment
from structgen.errors import CompileLimitError, GrammarError, RegexError
from structgen.cfg.automaton import GrammarAutomaton
from structgen.automata.fragments import dense_fragment
from structgen.cfg.ir import Alt, Automaton, Bytes, Expr, Grammar, Literal, Ref, Regex, Repeat, Seq

# The NFA of a rule may be larger than its DFA; it is bounded by this multiple of max_states.
_NFA_STATES_PER_DFA_STATE = 4


# --------------------------------------------------------------------------- IR walking
def _terminal_fragment(expr: Regex, rule: str):
    try:
        return regex_fragment(expr.pattern, expr.flags)
    except RegexError as e:
        raise RegexError(f"rule {rule!r}: {e.args[0] if e.args else e}", None, None, e.construct) from None


def _automaton_table(expr: Automaton, rule: str) -> np.ndarray:
    """An :class:`Automaton` terminal's transition table, after checking its shape."""
    n = expr.n_states
    if n == 0 or len(expr.table) != n * 256 * 4:
        raise GrammarError(f"rule {rule!r}: automaton terminal needs n×256 int32 entries for its "
                           f"{n} states, got {len(expr.table)} bytes")
    table = np.frombuffer(expr.table, np.int32).reshape(n, 256)
    if table.min() < -1 or table.max() >= n:
        raise GrammarError(f"rule {rule!r}: automaton terminal has a transition to a state outside 0..{n - 1}")
    return table


def _fragment(term, rule: str):
    """The fragment of a program terminal: ``(pattern, flags)`` of a regex, or an Automaton."""
    if type(term) is Automaton:
        return dense_fragment(_automaton_table(term, rule), np.frombuffer(term.accept, np.uint8) != 0)
    return _terminal_fragment(Regex(*term), rule)


def _literal_bytes(expr: Literal, rule: str) -> bytes:
    try:
        return expr.text.encode("utf-8")
    except UnicodeEncodeError:
        raise GrammarError(f"rule {rule!r}: literal {expr.text!r} is not encodable as UTF-8") from None


def _too_large(rule: str, cap: int, max_states: int) -> CompileLimitError:
    return CompileLimitError(f"rule {rule!r} expands to more than {cap} NFA states "
                             f"(limit max_states={max_states})")


class _Program:
    """A rule body flattened into a postfix program for :func:`structgen.automata.thompson.build_nfa`:
    int32 words ``code``, the literal bytes ``lits`` they point into, the distinct terminals
    ``terms`` (``(pattern, flags)`` of a regex, or an :class:`Automaton`; indexed by
    ``OP_TERM``), and the callee names in first-appearance order (depth-first, left to right),
    whose positions are the call labels.

    Everything but the callee names determines the rule's automaton up to the names of the rules
    it calls, so ``(code, lits, terms)`` is the key of the per-rule cache."""

    __slots__ = ("code", "lits", "terms", "labels", "rule", "max_states")

    def __init__(self, rule: str, max_states: int) -> None:
        self.code = array("i")
        self.lits = bytearray()
        self.terms: dict = {}
        self.labels: dict[str, int] = {}
        self.rule = rule
        self.max_states = max_states

    def add(self, expr: Expr) -> None:
        """Append ``expr``'s postfix code. Validates node types and repetition bounds."""
        code = self.code
        t = type(expr)
        if t is Seq or t is Alt:
            items = expr.items
            add = self.add
            for it in items:
                add(it)
            code.append(_OP_SEQ if t is Seq else _OP_ALT)
            code.append(len(items))
        elif t is Literal:
            try:
                data = expr.text.encode("utf-8")
            except UnicodeEncodeError:
                data = _literal_bytes(expr, self.rule)  # raises the error naming the rule
            code.append(_OP_LIT)
            code.append(len(self.lits))
            code.append(len(data))
            self.lits += data
        elif t is Regex:
            key = (expr.pattern, expr.flags)
            k = self.terms.get(key)
            if k is None:
                k = self.terms[key] = len(self.terms)
            code.append(_OP_TERM)
            code.append(k)
        elif t is Ref:
            lab = self.labels.get(expr.name)
            if lab is None:
                lab = self.labels[expr.name] = len(self.labels)
            code.append(_OP_REF)
            code.append(lab)
        elif t is Repeat:
            if expr.min < 0 or (expr.max is not None and expr.max < expr.min):
                raise GrammarError(f"rule {self.rule!r}: invalid repetition bounds {{{expr.min},{expr.max}}}")
            if expr.min > _INT32_MAX or (expr.max is not None and expr.max > _INT32_MAX):
                ms = self.max_states
                raise _too_large(self.rule, ms * _NFA_STATES_PER_DFA_STATE, ms)
            self.add(expr.item)
            code.append(_OP_REP)
            code.append(expr.min)
            code.append(-1 if expr.max is None else expr.max)
        elif t is Bytes:
            self._bytes(expr.data)
        elif t is Automaton:
            k = self.terms.get(expr)
            if k is None:
                _automaton_table(expr, self.rule)  # shape errors at flattening, naming the rule
                k = self.terms[expr] = len(self.terms)
            code.append(_OP_TERM)
            code.append(k)
        # subclasses of the node types (rare): normalized to the base type, then as above
        elif isinstance(expr, (Seq, Alt)):
            self.add((Seq if isinstance(expr, Seq) else Alt)(tuple(expr.items)))
        elif isinstance(expr, Ref):
            self.add(Ref(expr.name))
        elif isinstance(expr, Repeat):
            self.add(Repeat(expr.item, expr.min, expr.max))
        elif isinstance(expr, Regex):
            self.add(Regex(expr.pattern, expr.flags))
        elif isinstance(expr, Literal):
            self.add(Literal(expr.text))
        elif isinstance(expr, Bytes):
            self.add(Bytes(bytes(expr.data)))
        else:
            raise GrammarError(f"rule {self.rule!r}: unknown grammar expression {expr!r}")

    def _bytes(self, data: bytes) -> None:
        self.code.append(_OP_LIT)
        self.code.append(len(self.lits))
        self.code.append(len(data))
        self.lits += data


_INT32_MAX = 2**31 - 1
_OP_LIT, _OP_TERM, _OP_REF, _OP_SEQ, _OP_ALT, _OP_REP = (_T.OP_LIT, _T.OP_TERM, _T.OP_REF, _T.OP_SEQ,
                                                        _T.OP_ALT, _T.OP_REP)


#: fragment tables (``thompson.fragment_table``) by the terminal regexes of a body, in order:
#: rules of one kind mostly use the same few terminals
_FRAGMENT_TABLES: dict[tuple, tuple] = {}
_MAX_FRAGMENT_TABLES = 4096


def _determinize_body(key: "_BodyKey", name: str) -> LabeledDFA:
    """Determinized automaton of a flattened rule body (call labels ``0..key.n_labels-1``)."""
    table = _FRAGMENT_TABLES.get(key.terms)
    if table is None:
        table = _T.fragment_table([_fragment(t, name) for t in key.terms])
        if len(_FRAGMENT_TABLES) >= _MAX_FRAGMENT_TABLES:
            _FRAGMENT_TABLES.clear()
        _FRAGMENT_TABLES[key.terms] = table
    cap = key.max_states * _NFA_STATES_PER_DFA_STATE
    out = _T.build_nfa(np.frombuffer(key.code, np.int32), np.frombuffer(key.lits or b"\0", np.uint8),
                       *table, cap)
    status, n, start, final = out[:4]
    if status == _T.LIMIT_EXCEEDED:
        raise _too_large(name, cap, key.max_states)
    if status != _T.OK:  # pragma: no cover - programs come from _Program
        raise GrammarError(f"rule {name!r}: malformed expression program")
    try:
        dfa = determinize_csr(n, start, final, out[4:], key.n_labels, max_states=key.max_states)
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


def _first_byte_classes(cls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Classes of the 256 bytes renumbered in order of their first byte: (class of each byte
    int32[256], first byte of each class)."""
    uniq, first = np.unique(cls, return_index=True)
    order = np.argsort(first, kind="stable")
    renum = np.empty(uniq.shape[0], np.int32)
    renum[order] = np.arange(uniq.shape[0], dtype=np.int32)
    return renum[np.searchsorted(uniq, cls)], first[order]


def _canonical_rule(reduced: LabeledDFA, label_order: tuple[int, ...]) -> _CanonicalRule:
    cd = canonical_form(reduced, np.asarray(label_order, dtype=np.int64))
    for arr in (cd.byte_trans, cd.accept, cd.label_trans, cd.call_state, cd.call_label, cd.call_target):
        arr.setflags(write=False)
    labels = cd.call_label.tolist()
    slot_labels = tuple(dict.fromkeys(labels))
    slot_of = {lab: i for i, lab in enumerate(slot_labels)}
    # the byte table as (class of each byte, numbered by first byte; one column per class):
    # an equivalent, much shorter encoding of ``byte_trans`` to hash. Bytes have equal canonical
    # columns iff their byte classes have equal columns in ``reduced`` (a renumbering of it).
    col_class = _kernels.column_classes(reduced.trans, reduced.n_byte_classes)[0]
    class_of_byte, first = _first_byte_classes(col_class[reduced.byte_class])
    h = hashlib.sha256()
    h.update(np.int64(cd.n_states).tobytes())
    h.update(cd.accept.tobytes())
    h.update(class_of_byte.tobytes())
    h.update(np.ascontiguousarray(cd.byte_trans[:, first]).tobytes())
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
    """Cache key of a rule body up to its callees' names: its postfix program (code words,
    literal bytes, terminal regexes), the number of call labels and the state limit. Equality
    is exact (bytes and tuples), the hash is computed once."""

    __slots__ = ("code", "lits", "terms", "n_labels", "max_states", "_hash")

    def __init__(self, prog: _Program) -> None:
        self.code = prog.code.tobytes()
        self.lits = bytes(prog.lits)
        self.terms = tuple(prog.terms)
        self.n_labels = len(prog.labels)
        self.max_states = prog.max_states
        self._hash = hash((self.code, self.lits, self.terms, self.n_labels, self.max_states))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, _BodyKey) and self._hash == other._hash
                                 and self.code == other.code and self.lits == other.lits
                                 and self.terms == other.terms and self.n_labels == other.n_labels
                                 and self.max_states == other.max_states)


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


def _array_bytes(obj) -> int:
    """Bytes of the numpy arrays directly held by a dataclass instance."""
    return sum(v.nbytes for v in vars(obj).values() if isinstance(v, np.ndarray))


class _BodyCache:
    """Process-wide LRU of :class:`_BodyEntry` by :class:`_BodyKey` (errors are not cached),
    bounded by entry count and by the bytes of the automata its entries hold (entries grow as
    reduced and canonical forms are added: :meth:`grew`)."""

    def __init__(self, maxsize: int, max_bytes: int) -> None:
        self.maxsize = maxsize
        self.max_bytes = max_bytes
        self._items: OrderedDict[_BodyKey, _BodyEntry] = OrderedDict()
        self._bytes: dict[_BodyKey, int] = {}
        self.nbytes = 0
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
        entry = _BodyEntry(_determinize_body(key, name))
        with self._lock:
            old = self._items.setdefault(key, entry)
            if old is entry:
                self._account(key, _array_bytes(entry.dfa))
            return old

    def grew(self, key: _BodyKey, entry: _BodyEntry, form) -> None:
        """Count ``form`` (a reduced or canonical automaton just added to ``entry``) and evict if
        over budget."""
        with self._lock:
            if self._items.get(key) is entry:
                self._account(key, _array_bytes(form))

    def _account(self, key: _BodyKey, added: int) -> None:
        self.nbytes += added
        self._bytes[key] = self._bytes.get(key, 0) + added
        while len(self._items) > 1 and (len(self._items) > self.maxsize or self.nbytes > self.max_bytes):
            k, _ = self._items.popitem(last=False)
            self.nbytes -= self._bytes.pop(k)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes.clear()
            self.nbytes = 0
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)


#: determinized rule bodies kept across grammars: at most 8192, and at most
#: ``STRUCTGEN_BODY_CACHE_MB`` (default 256) MiB of automata
_BODIES = _BodyCache(8192, int(float(os.environ.get("STRUCTGEN_BODY_CACHE_MB", "256")) * 2**20))


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
            if e.reduced.setdefault(self.allowed, d) is d:
                _BODIES.grew(self.key, e, d)
            d = e.reduced[self.allowed]
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
            new = _canonical_rule(self.reduced(), label_order)
            cr = e.canonical.setdefault(k, new)
            if cr is new:
                _BODIES.grew(self.key, e, new.dfa)
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
    programs: dict[str, _Program] = {}
    for name, body in rules.items():
        prog = programs[name] = _Program(name, max_states)
        prog.add(body)
        for ref in prog.labels:
            if ref not in rules:
                raise GrammarError(f"rule {name!r} references undefined rule {ref!r}")
        all_callees[name] = list(prog.labels)
    # rules reachable from start (IR level)
    order = [start]
    seen_ir = {start}
    for r in order:
        for c in all_callees[r]:
            if c not in seen_ir:
                seen_ir.add(c)
                order.append(c)
    work = {r: _Rule(r, _BodyKey(programs[r]), all_callees[r], max_states)
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
    _kernels.add_row_offsets(trans, state_off)
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
