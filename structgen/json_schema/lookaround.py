"""Patterns with look-arounds, word boundaries or anchors anywhere → an exact DFA.

:mod:`~structgen.json_schema.pyregex` turns most patterns into expressions directly. What it cannot
express — ``(?=…)``/``(?!…)`` look-aheads, ``(?<=…)``/``(?<!…)`` look-behinds, ``\\b``/``\\B``,
and start anchors inside a pattern or a repetition (``/^[0-9]{4}$/``) — comes here: the
``re.search`` language of the pattern is built as a DFA over code points (:class:`fsa.DFA`) by a
subset construction over an NFA whose ε-edges may carry *conditions*:

- **start** (``^``, ``\\A``, no MULTILINE): passable only before the first character;
- **look-ahead** ``(?=B)`` / ``(?!B)``: the path takes an *obligation*: "the rest of the input is
  (is not) in ``B·Σ*``", carried as a state of ``B``'s own automaton (built the same way, with
  ``B``'s own look-aheads and end anchors resolved against the rest of the input). The obligation
  follows the path character by character; it is settled as soon as its state accepts every
  continuation (met / violated) or none (violated / met), else at the end of the input;
- **end** (``$``, ``\\Z``): an obligation "no more characters". As in :mod:`pyregex`, ``$`` is
  the end of the string (Python also lets it match before a final ``\\n``; ECMA-262 and pydantic
  do not, so this is the sound common reading); :func:`fullmatch_dfa` (the regex front door's
  Python semantics) reads ``$`` as Python does: "the rest is empty or one ``\\n``";
- **look-behind** ``(?<=B)`` / ``(?<!B)``: a *tracker* — a DFA of ``Σ*·B`` run over the whole
  input from its start, shared by all paths — must (must not) accept at that position;
- ``\\b`` = ``(?<=\\w)(?!\\w) | (?<!\\w)(?=\\w)``, ``\\B`` its complement, with ``re``'s ``\\w``.

A DFA state is (tracker states, set of (NFA state, obligations)), so the construction is exact for
any nesting of these, including inside repetitions (``^((?!mode).)*$``). Back-references,
conditionals, atomic groups / possessive repeats, MULTILINE anchors, start anchors or look-behinds
inside a look-ahead, and look-arounds inside a look-behind raise :class:`PatternUnsupported`; so
does an automaton past ``budget`` states.
"""
from __future__ import annotations

import re
from typing import Optional

from . import charsets as cs
from . import fsa
from . import lang as L
from .pyregex import C, PatternUnsupported, _convert, _convert_item, parse_tree

#: DFA states allowed for one pattern (each look-ahead's automaton has its own budget)
DFA_BUDGET = 4000
#: NFA states allowed for one pattern (counted repetitions are unrolled)
NFA_BUDGET = 20000
#: (NFA state, obligations) configurations the subset construction may visit or step, in total
#: (≈1 s of Python)
WORK_BUDGET = 200_000

_LEAF_OPS = (C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN)
_START = ("start",)
_NOT_START = ("not start",)
#: before Python 3.14, ``\\B`` does not match in an empty string (``re.search(r"\\B", "")`` is None)
_NON_BOUNDARY_IN_EMPTY = re.search(r"\B", "") is not None
_NEVER = ("never",)
_ALWAYS = None


class _Automaton:
    """A minimized DFA with per-state "accepts every continuation" / "accepts none" flags."""

    def __init__(self, d: fsa.DFA):
        self.d = d
        n = d.n_states
        self.start = 0 if n else -1  # an empty language has no states
        full = set()
        for s in range(n):
            if d.accept[s]:
                covered = cs.union(*(d.atoms[a] for a in d.trans[s])) if d.trans[s] else ()
                if covered == cs.UNIVERSE:
                    full.add(s)
        changed = True
        while changed:  # greatest fixpoint: accepting, total, and every successor universal
            changed = False
            for s in list(full):
                if any(t not in full for t in d.trans[s].values()):
                    full.discard(s)
                    changed = True
        self.universal = [s in full for s in range(n)]
        self.step_table: list[list[int]] = []

    def bind(self, atoms: list) -> None:
        """Precompute steps over the global atom partition ``atoms`` (each inside one local atom
        or outside all of them)."""
        local = self.d.atoms
        owner = []
        for g in atoms:
            p = g[0][0]
            owner.append(next((i for i, r in enumerate(local) if cs.contains(r, p)), -1))
        self.step_table = [[row.get(owner[gi], -1) if owner[gi] >= 0 else -1 for gi in range(len(atoms))]
                           for row in self.d.trans]


class _Builder:
    """NFA with conditional ε-edges for one pattern (or one look-ahead body)."""

    def __init__(self, in_lookahead: bool, python_dollar: bool = False):
        self.in_lookahead = in_lookahead
        self.python_dollar = python_dollar
        self.edges: list[list[tuple]] = []   # (ranges, target)
        self.eps: list[list[tuple]] = []     # (target, condition or None)
        self.aheads: list[tuple[_Automaton, bool]] = []   # (automaton of B·Σ*, positive)
        self.behinds: list[_Automaton] = []                # automata of Σ*·B
        self._end_cond: Optional[tuple] = None
        self._word: dict[int, tuple[int, int, int]] = {}

    def new(self) -> int:
        self.edges.append([])
        self.eps.append([])
        if len(self.eps) > NFA_BUDGET:
            raise PatternUnsupported(f"pattern too large for look-around evaluation (more than {NFA_BUDGET} NFA states)")
        return len(self.eps) - 1

    def chars(self, src: int, ranges) -> int:
        t = self.new()
        if ranges:
            self.edges[src].append((ranges, t))
        return t

    def cond(self, src: int, condition) -> int:
        """A new state reached from ``src`` by an ε-edge under ``condition`` (None: always)."""
        t = self.new()
        self.eps[src].append((t, condition))
        return t

    # ------------------------------------------------------------------ conditions
    def _lookahead(self, sub, flags: int, positive: bool) -> tuple:
        aut = _Automaton(_dfa(sub, flags, in_lookahead=True, python_dollar=self.python_dollar))
        self.aheads.append((aut, positive))
        return ("ahead", len(self.aheads) - 1)

    def _end(self) -> tuple:
        """``$``/``\\Z``: "no character follows", i.e. ``(?!.)`` with DOTALL (one shared condition)."""
        if self._end_cond is None:
            self._end_cond = self._lookahead_lang(L.chars(cs.UNIVERSE), False)
        return self._end_cond

    def _python_end(self) -> tuple:
        """Python's ``$`` (no MULTILINE): at the end, or before a final ``\n`` — the rest of the
        input is exactly "" or "\n" (a look-ahead without ``Σ*``)."""
        self.aheads.append((_Automaton(fsa.from_lang(L.alt(L.EPS, L.lit("\n")))), True))
        return ("ahead", len(self.aheads) - 1)

    def _lookbehind(self, lang: L.Lang, positive: bool) -> tuple:
        if self.in_lookahead:
            raise PatternUnsupported("look-behind (or \\b) inside a look-ahead")
        d = fsa.from_lang(L.cat(L.star(L.chars(cs.UNIVERSE)), lang), DFA_BUDGET)
        if d.n_states == 0 or d.is_empty():  # B matches nothing
            return _NEVER if positive else _ALWAYS
        self.behinds.append(_Automaton(d))
        return ("behind", len(self.behinds) - 1, positive)

    def _word_conditions(self, flags: int) -> tuple[tuple, tuple, tuple, tuple]:
        """Conditions "a word character before / not before / after / not after" (``re``'s
        ``\\w`` under ``flags``)."""
        key = flags & re.ASCII
        if key not in self._word:
            w = L.chars(self._word_chars(flags))
            self._word[key] = (self._lookbehind(w, True), self._lookbehind(w, False),
                               self._lookahead_lang(w, True), self._lookahead_lang(w, False))
        return self._word[key]

    @staticmethod
    def _word_chars(flags: int):
        return cs.ranges_matching(r"\w", flags & re.ASCII)

    def _lookahead_lang(self, lang: L.Lang, positive: bool) -> tuple:
        """Look-ahead condition for an anchor-free language."""
        self.aheads.append((_Automaton(fsa.from_lang(L.cat(lang, L.star(L.chars(cs.UNIVERSE))))), positive))
        return ("ahead", len(self.aheads) - 1)

    def _boundary(self, src: int, flags: int, boundary: bool) -> int:
        before, not_before, after, not_after = self._word_conditions(flags)
        out = self.new()
        # \b: (word before, none after) | (none before, word after); \B: the other two
        if boundary:
            paths = [(before, not_after), (not_before, after)]
        elif _NON_BOUNDARY_IN_EMPTY:
            paths = [(before, after), (not_before, not_after)]
        else:  # "none before, none after" except in the empty string: not at the start, or a character follows
            paths = [(before, after), (not_before, _NOT_START, not_after), (_START, self._lookahead_lang(
                L.chars(cs.complement(self._word_chars(flags))), True))]
        for conds in paths:
            e = src
            for c in conds:
                e = self.cond(e, c)
            self.eps[e].append((out, None))
        return out

    # ------------------------------------------------------------------ structure
    def build(self, sub, flags: int, src: int) -> int:
        cur = src
        for op, av in sub:
            cur = self.item(op, av, flags, cur)
        return cur

    def item(self, op, av, flags: int, src: int) -> int:
        if op in _LEAF_OPS:
            x = _convert_item(op, av, flags)
            return self.chars(src, x.ranges if isinstance(x, L.Chars) else ())
        if op is C.BRANCH:
            out = self.new()
            for b in av[1]:
                e = self.build(b, flags, src)
                self.eps[e].append((out, None))
            return out
        if op is C.SUBPATTERN:
            _group, add_flags, del_flags, p = av
            return self.build(p, (flags | add_flags) & ~del_flags, src)
        if op in (C.MAX_REPEAT, C.MIN_REPEAT):  # greediness does not change what re.search finds
            lo, hi, p = av
            cur = src
            for _ in range(lo):
                cur = self.build(p, flags, cur)
            if hi == C.MAXREPEAT:
                head = self.new()
                self.eps[cur].append((head, None))
                e = self.build(p, flags, head)
                self.eps[e].append((head, None))
                return head
            for _ in range(hi - lo):
                out = self.new()
                self.eps[cur].append((out, None))
                e = self.build(p, flags, cur)
                self.eps[e].append((out, None))
                cur = out
            return cur
        if op is C.AT:
            if av in (C.AT_BEGINNING, C.AT_BEGINNING_STRING):
                if av is C.AT_BEGINNING and flags & re.MULTILINE:
                    raise PatternUnsupported("MULTILINE '^' together with look-arounds")
                if self.in_lookahead:
                    raise PatternUnsupported("start anchor inside a look-ahead")
                return self.cond(src, _START)
            if av in (C.AT_END, C.AT_END_STRING):
                if av is C.AT_END and flags & re.MULTILINE:
                    raise PatternUnsupported("MULTILINE '$' together with look-arounds")
                if av is C.AT_END and self.python_dollar:
                    return self.cond(src, self._python_end())
                return self.cond(src, self._end())
            if av in (C.AT_BOUNDARY, C.AT_NON_BOUNDARY):
                return self._boundary(src, flags, av is C.AT_BOUNDARY)
            raise PatternUnsupported(f"anchor {av}")
        if op in (C.ASSERT, C.ASSERT_NOT):
            direction, p = av
            positive = op is C.ASSERT
            if direction == 1:
                return self.cond(src, self._lookahead(p, flags, positive))
            try:
                body = _convert(p, flags)
            except PatternUnsupported as e:
                raise PatternUnsupported(f"look-behind body: {e}") from None
            if L.has_anchor(body):
                raise PatternUnsupported("anchor inside a look-behind")
            return self.cond(src, self._lookbehind(body, positive))
        if op in (C.GROUPREF, getattr(C, "GROUPREF_EXISTS", None)):
            raise PatternUnsupported("back-reference")
        raise PatternUnsupported(f"regex construct {op}")


def _dfa(sub, flags: int, in_lookahead: bool, python_dollar: bool = False, fullmatch: bool = False) -> fsa.DFA:
    """The DFA of ``Σ*·sub·Σ*`` (``sub·Σ*`` inside a look-ahead; ``sub`` alone for
    ``fullmatch``), conditions resolved. ``python_dollar``: ``$`` as Python reads it."""
    b = _Builder(in_lookahead, python_dollar)
    s0 = b.new()
    start = s0
    if not in_lookahead and not fullmatch:
        b.edges[s0].append((cs.UNIVERSE, s0))  # search: the match may start anywhere
    end = b.build(sub, flags, start)
    final = b.new()
    b.eps[end].append((final, None))
    if not fullmatch:
        b.edges[final].append((cs.UNIVERSE, final))
    return _determinize(b, s0, final)


def _determinize(b: _Builder, s0: int, final: int) -> fsa.DFA:
    labels = [r for row in b.edges for r, _ in row]
    for aut, _ in b.aheads:
        labels.extend(aut.d.atoms)
    for aut in b.behinds:
        labels.extend(aut.d.atoms)
    labels.append(cs.UNIVERSE)
    atoms, label_atoms = fsa._atoms_for(labels)
    edge_atoms: list[list[tuple[frozenset, int]]] = []
    k = 0
    for row in b.edges:
        out = []
        for _r, t in row:
            out.append((frozenset(label_atoms[k]), t))
            k += 1
        edge_atoms.append(out)
    for aut, _ in b.aheads:
        aut.bind(atoms)
    for aut in b.behinds:
        aut.bind(atoms)

    def settle(obl: frozenset, j: int, q: int) -> Optional[frozenset]:
        """Add obligation (j, q); None when the path dies."""
        aut, positive = b.aheads[j]
        if q < 0:  # no continuation matches B
            return None if positive else obl
        if aut.universal[q]:
            return obl if positive else None
        return obl | {(j, q)}

    work = [0]

    def spend(steps: int) -> None:
        work[0] += steps
        if work[0] > WORK_BUDGET:
            raise PatternUnsupported(f"look-around automaton too costly to build (more than {WORK_BUDGET} steps)")

    def closure(seeds, at_start: bool, trackers: tuple) -> frozenset:
        seen = set(seeds)
        stack = list(seeds)
        while stack:
            spend(1)
            s, obl = stack.pop()
            for t, c in b.eps[s]:
                nobl = obl
                if c is not None:
                    if c is _START:
                        if not at_start:
                            continue
                    elif c is _NOT_START:
                        if at_start:
                            continue
                    elif c is _NEVER:
                        continue
                    elif c[0] == "ahead":
                        nobl = settle(obl, c[1], b.aheads[c[1]][0].start)
                        if nobl is None:
                            continue
                    else:  # ("behind", k, positive)
                        aut = b.behinds[c[1]]
                        if bool(aut.d.accept[trackers[c[1]]]) != c[2]:
                            continue
                item = (t, nobl)
                if item not in seen:
                    seen.add(item)
                    stack.append(item)
        return frozenset(seen)

    def accepting(configs: frozenset) -> bool:
        for s, obl in configs:
            if s == final and all(bool(b.aheads[j][0].d.accept[q]) == b.aheads[j][1] for j, q in obl):
                return True
        return False

    def successors(key):
        trackers, configs = key
        return accepting(configs), moves(trackers, configs)

    def moves(trackers: tuple, configs: frozenset):
        for a in range(len(atoms)):
            spend(len(configs))
            ntr = tuple(aut.step_table[q][a] for aut, q in zip(b.behinds, trackers))
            if any(q < 0 for q in ntr):  # trackers of Σ*·B are total; defensive
                raise PatternUnsupported("look-behind automaton is not total")  # pragma: no cover
            seeds = []
            for s, obl in configs:
                for atom_set, t in edge_atoms[s]:
                    if a not in atom_set:
                        continue
                    nobl: Optional[frozenset] = frozenset()
                    for j, q in obl:
                        nobl = settle(nobl, j, b.aheads[j][0].step_table[q][a])
                        if nobl is None:
                            break
                    if nobl is not None:
                        seeds.append((t, nobl))
            if seeds:
                yield a, (ntr, closure(seeds, False, ntr))

    trackers0 = tuple(0 for _ in b.behinds)
    start = (trackers0, closure([(s0, frozenset())], True, trackers0))
    trans, accept = fsa.explore(start, successors, DFA_BUDGET, f"more than {DFA_BUDGET} states")
    return fsa.minimize(fsa.DFA(atoms, trans, accept))


def fullmatch_dfa(pattern: str, flags: int = 0) -> fsa.DFA:
    """Minimal DFA of the strings ``s`` (without lone surrogates) with
    ``re.fullmatch(pattern, s, flags)`` exactly — ``$`` as Python reads it (also before a final
    ``\\n``) — for patterns with look-arounds, word boundaries or anchors anywhere (the regex
    front door comes here for what its own parser cannot place). Raises
    :class:`PatternInvalid` / :class:`PatternUnsupported` as :func:`search_dfa` does."""
    return _pattern_dfa(pattern, flags, fullmatch=True)


def search_dfa(pattern: str, python_dollar: bool = False) -> fsa.DFA:
    """Minimal DFA of the strings ``s`` (without lone surrogates) with ``re.search(pattern, s)``,
    for patterns with look-arounds, word boundaries or anchors anywhere (module docstring);
    ``$`` read strictly (end of string only) unless ``python_dollar``."""
    return _pattern_dfa(pattern, 0, fullmatch=False, python_dollar=python_dollar)


def _pattern_dfa(pattern: str, flags: int, fullmatch: bool, python_dollar: bool = False) -> fsa.DFA:
    """:func:`fullmatch_dfa` (Python's ``$``) or :func:`search_dfa` (strict ``$`` by default)."""
    tree = parse_tree(pattern, flags)
    try:
        return _dfa(tree, tree.state.flags, in_lookahead=False, python_dollar=fullmatch or python_dollar,
                    fullmatch=fullmatch)
    except fsa.AutomatonTooLarge as e:
        raise PatternUnsupported(f"look-around automaton too large ({e})") from None
