"""Deterministic automata over code point sets: the boolean algebra of string languages.

Used where a schema combines several string constraints (``pattern`` ∩ ``maxLength``, a key that
must match ``propertyNames`` but not equal a listed property, ``not: {pattern}`` ...), and for
``multipleOf`` digit automata. Languages go in as :class:`~structgen.json_schema.lang.Lang` ASTs
and come back out as ASTs (by state elimination) so they can be encoded into grammar IR.

A :class:`DFA` has an *alphabet of atoms*: disjoint code point sets such that every transition is
labelled by one atom (the coarsest partition that separates all character sets involved).
Missing transitions go to an implicit dead state. State 0 is the start.
"""
from __future__ import annotations

import bisect
import heapq
from typing import Iterable, Optional, Sequence

import numpy as np

from . import charsets as cs
from . import lang as L
from .charsets import Ranges


class AutomatonTooLarge(Exception):
    """An automaton operation exceeded its size budget (callers turn this into a schema error)."""


class DFA:
    __slots__ = ("atoms", "trans", "accept")

    def __init__(self, atoms: list[Ranges], trans: list[dict[int, int]], accept: list[bool]):
        self.atoms = atoms
        self.trans = trans
        self.accept = accept

    @property
    def n_states(self) -> int:
        return len(self.accept)

    def accepts(self, word: Sequence[int]) -> bool:
        s = 0
        for c in word:
            for a, t in self.trans[s].items():
                if cs.contains(self.atoms[a], c):
                    s = t
                    break
            else:
                return False
        return self.accept[s]

    def is_empty(self) -> bool:
        seen = {0}
        stack = [0]
        while stack:
            s = stack.pop()
            if self.accept[s]:
                return False
            for t in self.trans[s].values():
                if t not in seen:
                    seen.add(t)
                    stack.append(t)
        return True


# --------------------------------------------------------------------------- construction

class _NFA:
    __slots__ = ("edges", "eps")

    def __init__(self):
        self.edges: list[list[tuple[Ranges, int]]] = []
        self.eps: list[list[int]] = []

    def new(self) -> int:
        self.edges.append([])
        self.eps.append([])
        return len(self.eps) - 1

    def build(self, x: L.Lang, src: int, budget: int) -> int:
        if len(self.eps) > budget:
            raise AutomatonTooLarge(f"NFA larger than {budget} states")
        if isinstance(x, L.Chars):
            t = self.new()
            if x.ranges:
                self.edges[src].append((x.ranges, t))
            return t
        if isinstance(x, L.Cat):
            cur = src
            for it in x.items:
                cur = self.build(it, cur, budget)
            return cur
        if isinstance(x, L.Or):
            out = self.new()
            for it in x.items:
                e = self.build(it, src, budget)
                self.eps[e].append(out)
            return out
        if isinstance(x, L.Rep):
            cur = src
            for _ in range(x.min):
                nxt = self.new()
                self.eps[cur].append(nxt)
                cur = self.build(x.item, nxt, budget)
            if x.max is None:
                head = self.new()
                self.eps[cur].append(head)
                e = self.build(x.item, head, budget)
                self.eps[e].append(head)
                return head
            for _ in range(x.max - x.min):
                start = self.new()
                self.eps[cur].append(start)
                e = self.build(x.item, start, budget)
                j = self.new()
                self.eps[cur].append(j)
                self.eps[e].append(j)
                cur = j
            return cur
        if isinstance(x, L.Machine):
            d = x.dfa
            ids = [self.new() for _ in range(d.n_states)]
            self.eps[src].append(ids[0])
            out = self.new()
            for s, row in enumerate(d.trans):
                self.edges[ids[s]].extend((d.atoms[a], ids[t]) for a, t in row.items())
                if d.accept[s]:
                    self.eps[ids[s]].append(out)
            return out
        if isinstance(x, L.Anchor):
            raise ValueError("anchors must be removed before building automata")
        raise TypeError(x)


def _atoms_for(labels: list[Ranges]) -> tuple[list[Ranges], list[list[int]]]:
    """Coarsest partition of the covered code points separating all ``labels``.

    Returns (atoms, label_atoms) where ``label_atoms[i]`` lists the atoms inside ``labels[i]``.
    """
    points: set[int] = set()
    for lab in labels:
        for lo, hi in lab:
            points.add(lo)
            points.add(hi + 1)
    bounds = sorted(points)
    n_int = len(bounds) - 1
    members: list[list[int]] = [[] for _ in range(max(n_int, 0))]
    for li, lab in enumerate(labels):
        for lo, hi in lab:
            i = bisect.bisect_left(bounds, lo)
            j = bisect.bisect_left(bounds, hi + 1)
            for k in range(i, j):
                members[k].append(li)
    sig_atom: dict[tuple[int, ...], int] = {}
    atom_ranges: list[list[tuple[int, int]]] = []
    label_atoms: list[set[int]] = [set() for _ in labels]
    for k in range(n_int):
        if not members[k]:
            continue
        sig = tuple(members[k])
        a = sig_atom.get(sig)
        if a is None:
            a = len(atom_ranges)
            sig_atom[sig] = a
            atom_ranges.append([])
            for li in sig:
                label_atoms[li].add(a)
        atom_ranges[a].append((bounds[k], bounds[k + 1] - 1))
    atoms = [cs.normalize(r) for r in atom_ranges]
    return atoms, [sorted(s) for s in label_atoms]


def from_lang(x: L.Lang, budget: int = 20000) -> DFA:
    """Minimal DFA of ``x`` (raises :class:`AutomatonTooLarge` past ``budget`` states)."""
    if type(x) is L.Rep and type(x.item) is L.Chars and x.item.ranges:
        return _counter_dfa(x.item.ranges, x.min, x.max, budget)
    if type(x) is L.Machine:
        if x.dfa.n_states > budget:
            raise AutomatonTooLarge(f"DFA larger than {budget} states")
        return x.dfa
    nfa = _NFA()
    s0 = nfa.new()
    final = nfa.build(x, s0, budget)
    labels: list[Ranges] = []
    label_id: dict[Ranges, int] = {}
    for edges in nfa.edges:
        for r, _ in edges:
            if r not in label_id:
                label_id[r] = len(labels)
                labels.append(r)
    atoms, label_atoms = _atoms_for(labels)

    closure_cache: dict[int, frozenset[int]] = {}

    def closure(s: int) -> frozenset[int]:
        c = closure_cache.get(s)
        if c is None:
            seen = {s}
            stack = [s]
            while stack:
                u = stack.pop()
                for v in nfa.eps[u]:
                    if v not in seen:
                        seen.add(v)
                        stack.append(v)
            c = frozenset(seen)
            closure_cache[s] = c
        return c

    def successors(S: frozenset[int]):
        moves: dict[int, set[int]] = {}
        for u in S:
            for r, t in nfa.edges[u]:
                for a in label_atoms[label_id[r]]:
                    moves.setdefault(a, set()).add(t)

        def targets():
            for a, ts in moves.items():
                T: set[int] = set()
                for t in ts:
                    T |= closure(t)
                yield a, frozenset(T)

        return final in S, targets()

    trans, accept = explore(closure(s0), successors, budget + 1, f"DFA larger than {budget} states")
    return minimize(DFA(atoms, trans, accept))


def explore(start, successors, max_states: int, too_large: str) -> tuple[list[dict[int, int]], list[bool]]:
    """Worklist construction of a DFA whose states are hashable keys (subsets, pairs, ...).

    State 0 is ``start``; states are numbered in discovery order. ``successors(key)`` returns
    ``(accepting, moves)`` with ``moves`` an iterable of ``(atom, next key)``. Returns the
    transition rows and accepting flags; raises :class:`AutomatonTooLarge` (``too_large``) when a
    state beyond ``max_states`` would be needed."""
    index = {start: 0}
    order = [start]
    trans: list[dict[int, int]] = []
    accept: list[bool] = []
    i = 0
    while i < len(order):
        accepting, moves = successors(order[i])
        i += 1
        accept.append(accepting)
        row: dict[int, int] = {}
        for a, key in moves:
            j = index.get(key)
            if j is None:
                j = len(order)
                if j >= max_states:
                    raise AutomatonTooLarge(too_large)
                index[key] = j
                order.append(key)
            row[a] = j
        trans.append(row)
    return trans, accept


def _counter_dfa(ranges: Ranges, lo: int, hi: Optional[int], budget: int) -> DFA:
    """Minimal DFA of ``[ranges]{lo,hi}`` built directly: a chain of counts (the subset
    construction over the unrolled repetition is quadratic in the count)."""
    n = (hi if hi is not None else lo) + 1
    if n > budget + 1:
        raise AutomatonTooLarge(f"DFA larger than {budget} states")
    trans: list[dict[int, int]] = [{0: i + 1} for i in range(n - 1)]
    trans.append({0: n - 1} if hi is None else {})
    return DFA([ranges], trans, [i >= lo for i in range(n)])


def minimize(d: DFA) -> DFA:
    """Trim (reachable and co-reachable states only) and minimize (Moore refinement)."""
    n = d.n_states
    # co-reachability
    rev: list[list[int]] = [[] for _ in range(n)]
    for s, row in enumerate(d.trans):
        for t in row.values():
            rev[t].append(s)
    live = [False] * n
    stack = [s for s in range(n) if d.accept[s]]
    for s in stack:
        live[s] = True
    while stack:
        t = stack.pop()
        for s in rev[t]:
            if not live[s]:
                live[s] = True
                stack.append(s)
    if n == 0 or not live[0]:
        return DFA([], [{}], [False])
    # reachable & live
    keep = {0: 0}
    order = [0]
    for s in order:
        for a in sorted(d.trans[s]):
            t = d.trans[s][a]
            if live[t] and t not in keep:
                keep[t] = len(order)
                order.append(t)
    trans = [{a: keep[t] for a, t in d.trans[s].items() if live[t]} for s in order]
    accept = [d.accept[s] for s in order]
    m = len(order)
    if m > _KERNEL_MINIMIZE_FROM:
        return _compress_atoms(_minimize_kernel(d.atoms, trans, accept))
    block = [1 if acc else 0 for acc in accept]
    n_blocks = len(set(block))
    while True:
        sigs: dict[tuple, int] = {}
        new_block = [0] * m
        for s in range(m):
            sig = (block[s], tuple(sorted((a, block[t]) for a, t in trans[s].items())))
            b = sigs.get(sig)
            if b is None:
                b = len(sigs)
                sigs[sig] = b
            new_block[s] = b
        if len(sigs) == n_blocks:
            block = new_block
            break
        n_blocks = len(sigs)
        block = new_block
    rep: dict[int, int] = {}
    for s in range(m):
        rep.setdefault(block[s], s)
    rows = [{a: block[t] for a, t in trans[rep[b]].items()} for b in range(n_blocks)]
    return _compress_atoms(_canonical(d.atoms, rows, [accept[rep[b]] for b in range(n_blocks)], block[0]))


def _canonical(atoms: list[Ranges], rows: list[dict[int, int]], accept: list[bool], start: int) -> DFA:
    """A minimal DFA renumbered canonically: BFS from ``start``, atoms in increasing order."""
    new_id = {start: 0}
    queue = [start]
    for b in queue:
        row = rows[b]
        for a in sorted(row):
            t = row[a]
            if t not in new_id:
                new_id[t] = len(queue)
                queue.append(t)
    return DFA(atoms, [{a: new_id[t] for a, t in rows[b].items()} for b in queue], [accept[b] for b in queue])


#: trimmed automata larger than this are minimized by the numba kernel (Moore refinement in Python
#: takes one round per step of the longest chain: quadratic on length counters)
_KERNEL_MINIMIZE_FROM = 64


def _minimize_kernel(atoms: list[Ranges], trans: list[dict[int, int]], accept: list[bool]) -> DFA:
    """Minimal DFA of a trimmed DFA via :func:`structgen.automata._kernels.trim_and_minimize`, in
    the canonical numbering :func:`minimize` gives (:func:`_canonical`)."""
    from ..automata import _kernels

    k = max(len(atoms), 1)
    tab = np.full((len(trans), k), -1, np.int32)
    for st, row in enumerate(trans):
        for a, t in row.items():
            tab[st, a] = t
    mt, macc = _kernels.trim_and_minimize(tab, np.array(accept, dtype=bool), np.ones(k, dtype=bool))
    rows = [{a: t for a, t in enumerate(row) if t >= 0} for row in mt.tolist()]
    return _canonical(atoms, rows, macc.tolist(), 0)


def _compress_atoms(d: DFA) -> DFA:
    """Merge atoms that behave identically in every state; drop unused atoms."""
    used = sorted({a for row in d.trans for a in row})
    cols: dict[tuple, list[int]] = {}
    for a in used:
        col = tuple(row.get(a, -1) for row in d.trans)
        cols.setdefault(col, []).append(a)
    new_atoms: list[Ranges] = []
    remap: dict[int, int] = {}
    for group in cols.values():
        na = len(new_atoms)
        new_atoms.append(cs.union(*(d.atoms[a] for a in group)))
        for a in group:
            remap[a] = na
    trans = [{remap[a]: t for a, t in row.items()} for row in d.trans]
    return DFA(new_atoms, trans, list(d.accept))


def _refine_pair(atoms1: list[Ranges], atoms2: list[Ranges]) -> tuple[list[Ranges], list[tuple[int, int]]]:
    """Non-empty intersections of atoms of two alphabets: (atoms, (a1, a2) of each)."""
    pieces1 = sorted((lo, hi, a) for a, r in enumerate(atoms1) for lo, hi in r)
    pieces2 = sorted((lo, hi, a) for a, r in enumerate(atoms2) for lo, hi in r)
    i = j = 0
    acc: dict[tuple[int, int], list[tuple[int, int]]] = {}
    while i < len(pieces1) and j < len(pieces2):
        lo1, hi1, a1 = pieces1[i]
        lo2, hi2, a2 = pieces2[j]
        lo, hi = max(lo1, lo2), min(hi1, hi2)
        if lo <= hi:
            acc.setdefault((a1, a2), []).append((lo, hi))
        if hi1 < hi2:
            i += 1
        else:
            j += 1
    keys = list(acc)
    return [cs.normalize(acc[k]) for k in keys], keys


def complete(d: DFA, universe: Ranges = cs.UNIVERSE) -> DFA:
    """Total DFA over ``universe``: adds a 'rest' atom and an explicit dead state."""
    covered = cs.union(*d.atoms) if d.atoms else ()
    rest = cs.subtract(universe, covered)
    atoms = list(d.atoms) + ([rest] if rest else [])
    dead = d.n_states
    trans = []
    for row in d.trans:
        r = {a: row.get(a, dead) for a in range(len(atoms))}
        trans.append(r)
    trans.append({a: dead for a in range(len(atoms))})
    return DFA(atoms, trans, list(d.accept) + [False])


def complement(d: DFA, universe: Ranges = cs.UNIVERSE) -> DFA:
    c = complete(d, universe)
    return minimize(DFA(c.atoms, c.trans, [not a for a in c.accept]))


def product(d1: DFA, d2: DFA, mode: str = "and", budget: int = 20000) -> DFA:
    """Product automaton: ``mode`` is ``and`` (intersection), ``or`` (union) or ``diff`` (d1 minus d2)."""
    if mode in ("or", "diff"):
        universe = cs.union(*(d1.atoms + d2.atoms)) if (d1.atoms or d2.atoms) else ()
        if mode == "or":
            d1 = complete(d1, universe)
        d2 = complete(d2, universe)
    atoms, pairs = _refine_pair(d1.atoms, d2.atoms)
    if mode == "diff":
        # characters outside d2's alphabet: d2 is total over a universe covering d1's atoms
        pass
    def successors(pq: tuple[int, int]):
        p, q = pq
        a1, a2 = d1.accept[p], d2.accept[q]
        accepting = a1 and a2 if mode == "and" else (a1 or a2) if mode == "or" else (a1 and not a2)
        r1, r2 = d1.trans[p], d2.trans[q]
        moves = []
        for k, (x1, x2) in enumerate(pairs):
            t1 = r1.get(x1)
            t2 = r2.get(x2)
            if t1 is not None and t2 is not None:
                moves.append((k, (t1, t2)))
        return accepting, moves

    trans, accept = explore((0, 0), successors, budget + 1, f"product automaton larger than {budget} states")
    return minimize(DFA(atoms, trans, accept))


def intersect_all(dfas: Iterable[DFA], budget: int = 20000) -> DFA:
    out = None
    for d in dfas:
        out = d if out is None else product(out, d, "and", budget)
    if out is None:
        raise ValueError("intersect_all of nothing")
    return out


# --------------------------------------------------------------------------- back to an AST

#: State elimination picks each state by scanning all remaining ones (quadratic) and its result
#: grows at least linearly: on MaskBench every automaton that fit the expression budget had at
#: most ~150 states, and the failures past ~800 states took about a second each.
TO_LANG_MAX_STATES = 600

def to_lang(d: DFA, budget: int = 4000) -> L.Lang:
    """A regular expression AST for ``d`` by state elimination (tree size at most ``budget``;
    automata of more than :data:`TO_LANG_MAX_STATES` states are refused up front)."""
    n = d.n_states
    if n == 0 or d.is_empty():
        return L.NONE
    if n > TO_LANG_MAX_STATES:
        raise AutomatonTooLarge(f"automaton of {n} states (more than {TO_LANG_MAX_STATES}) to write as an expression")
    S, F = n, n + 1
    out_e: dict[int, dict[int, L.Lang]] = {s: {} for s in range(n + 2)}
    in_e: dict[int, dict[int, L.Lang]] = {s: {} for s in range(n + 2)}
    total = 0  # the size of every edge's expression, kept as edges change

    def add(p: int, q: int, x: L.Lang) -> None:
        nonlocal total
        old = out_e[p].get(q)
        new = x if old is None else L.alt(old, x)
        total += new.size - (old.size if old is not None else 0)
        out_e[p][q] = new
        in_e[q][p] = new

    for s, row in enumerate(d.trans):
        by_target: dict[int, list[Ranges]] = {}
        for a, t in row.items():
            by_target.setdefault(t, []).append(d.atoms[a])
        for t, rs in by_target.items():
            add(s, t, L.Chars(cs.union(*rs)))
        if d.accept[s]:
            add(s, F, L.EPS)
    add(S, 0, L.EPS)

    def cost(k: int) -> int:
        """How much eliminating ``k`` grows the expressions (a heuristic)."""
        ins = [p for p in in_e[k] if p != k]
        outs = [q for q in out_e[k] if q != k]
        loop = out_e[k].get(k)
        lsz = loop.size if loop is not None else 0
        return (sum(in_e[k][p].size for p in ins) * max(1, len(outs))
                + sum(out_e[k][q].size for q in outs) * max(1, len(ins)) + lsz * len(ins) * len(outs))

    # Each step eliminates the state of least (cost, index). Eliminating k changes the edges, and
    # so the costs, of its neighbours only: costs are kept per state and refreshed there, and a
    # heap with stale entries skipped finds the least one (the same choice as a full scan).
    remaining = set(range(n))
    costs = {k: cost(k) for k in remaining}
    heap = [(c, k) for k, c in costs.items()]
    heapq.heapify(heap)
    while remaining:
        c, k = heapq.heappop(heap)
        if k not in remaining or costs[k] != c:
            continue
        remaining.discard(k)
        loop = out_e[k].pop(k, None)
        in_e[k].pop(k, None)
        if loop is not None:
            total -= loop.size
        mid = L.star(loop) if loop is not None else L.EPS
        ins = list(in_e[k].items())
        outs = list(out_e[k].items())
        for p, x in ins:
            del out_e[p][k]
            total -= x.size
        for q, x in outs:
            del in_e[q][k]
            total -= x.size
        for p, xp in ins:
            for q, xq in outs:
                add(p, q, L.cat(xp, mid, xq))
        del out_e[k], in_e[k]
        if total > budget:
            raise AutomatonTooLarge(f"regular expression larger than {budget} nodes")
        for m in {p for p, _ in ins} | {q for q, _ in outs}:
            if m in remaining:
                costs[m] = cm = cost(m)
                heapq.heappush(heap, (cm, m))
    return out_e[S].get(F, L.NONE)


#: most code point states of a :class:`~structgen.json_schema.lang.Machine` (its byte encoding has
#: about ten times as many states, 1 KiB each)
MACHINE_MAX_STATES = 3000


def to_lang_or_machine(d: DFA, budget: int = 4000) -> L.Lang:
    """:func:`to_lang` when the expression fits ``budget``, else ``d`` itself as a
    :class:`~structgen.json_schema.lang.Machine` (minimized; :class:`AutomatonTooLarge` past
    :data:`MACHINE_MAX_STATES` states)."""
    try:
        return to_lang(d, budget)
    except AutomatonTooLarge:
        d = minimize(d)
        if d.n_states > MACHINE_MAX_STATES:
            raise AutomatonTooLarge(f"automaton of {d.n_states} states (more than {MACHINE_MAX_STATES})") from None
        return machine(d)


def machine(d: DFA) -> L.Lang:
    """``d`` (trimmed: every state reachable and co-reachable) as a Lang node with its length range."""
    if d.is_empty():
        return L.NONE
    return L.Machine(d, _length_range(d))


def _length_range(d: DFA) -> tuple[int, int | None]:
    """(shortest, longest or None if unbounded) accepted length of a non-empty trimmed DFA."""
    n = d.n_states
    dist = [-1] * n
    dist[0] = 0
    order = [0]
    for s in order:
        for t in d.trans[s].values():
            if dist[t] < 0:
                dist[t] = dist[s] + 1
                order.append(t)
    shortest = min(dist[s] for s in range(n) if d.accept[s])
    # longest: unbounded on a cycle (every state of a trimmed DFA lies on an accepting path), else
    # the longest path, over the states in topological order
    indegree = [0] * n
    for row in d.trans:
        for t in row.values():
            indegree[t] += 1
    topo = [s for s in range(n) if indegree[s] == 0]
    for s in topo:
        for t in d.trans[s].values():
            indegree[t] -= 1
            if indegree[t] == 0:
                topo.append(t)
    if len(topo) < n:
        return shortest, None
    longest = [0] * n
    for s in reversed(topo):
        longest[s] = max((longest[t] + 1 for t in d.trans[s].values()), default=0)
    return shortest, longest[0]


def lang_to_dfa_or_none(x: L.Lang, budget: int = 20000) -> DFA | None:
    try:
        return from_lang(x, budget)
    except AutomatonTooLarge:
        return None
