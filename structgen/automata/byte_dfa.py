"""ByteDFA: a minimized deterministic automaton over bytes (the compiled form of a regex)."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from structgen.automata.fragments import RangeAutomaton, dense_edges


@dataclass(eq=False)
class ByteDFA:
    """Deterministic byte automaton.

    - ``trans``: int32 ``[n, 256]``, ``-1`` = no transition; ``accept``: bool ``[n]``; start state 0.
    - Minimized, every state reachable from the start and live (can reach acceptance), states
      numbered canonically (BFS from the start, bytes in increasing order): equal languages give
      identical arrays.
    - The empty language is the DFA with **0 states** (``is_empty``); ``{""}`` is one accepting
      state without transitions.

    Instances returned by the (cached) compilers are read-only.
    """

    trans: np.ndarray
    accept: np.ndarray
    pattern: str = field(default="", compare=False)
    flags: int = field(default=0, compare=False)

    @property
    def n_states(self) -> int:
        return int(self.trans.shape[0])

    @property
    def is_empty(self) -> bool:
        """True iff the language is empty."""
        return self.n_states == 0

    def accepts(self, data: bytes) -> bool:
        """Whether ``data`` is in the language (slow, for tests and debugging)."""
        if self.n_states == 0:
            return False
        s = 0
        trans = self.trans
        for b in data:
            s = int(trans[s, b])
            if s < 0:
                return False
        return bool(self.accept[s])

    def is_prefix(self, data: bytes) -> bool:
        """Whether ``data`` is a prefix of some string in the language."""
        if self.n_states == 0:
            return False
        s = 0
        for b in data:
            s = int(self.trans[s, b])
            if s < 0:
                return False
        return True

    def same_as(self, other: "ByteDFA") -> bool:
        """Identical automata (hence identical languages, by canonical minimality)."""
        return (self.trans.shape == other.trans.shape and bool(np.array_equal(self.trans, other.trans))
                and bool(np.array_equal(self.accept, other.accept)))

    @functools.cached_property
    def range_automaton(self) -> RangeAutomaton:
        """The same automaton as sorted byte-range edge lists (for embedding into NFAs)."""
        n = self.n_states
        if n == 0:
            return RangeAutomaton((), ())
        src, lo, hi, dst = dense_edges(self.trans)
        edges: list[list] = [[] for _ in range(n)]
        for a, b, c, d in zip(src.tolist(), lo.tolist(), hi.tolist(), dst.tolist()):
            edges[a].append((b, c, d))
        ra = RangeAutomaton(tuple(map(tuple, edges)), tuple(self.accept.tolist()))
        # the flat form ``NFA.embed`` and the grammar compiler use, already at hand
        ra.__dict__["flat_edges"] = (src, lo, hi, dst)
        return ra
