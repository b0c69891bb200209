"""RangeAutomaton: a small deterministic byte automaton given as sorted byte-range edge lists.

This is the form in which already-determinized pieces (character classes, compiled regex
terminals) are copied into a larger NFA under construction (:meth:`structgen.automata.nfa.NFA.embed`).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RangeAutomaton:
    """A DFA over bytes: ``edges[s]`` is a tuple of ``(lo, hi, target)`` with disjoint sorted
    inclusive byte ranges; ``accept[s]`` marks accepting states; the start state is 0.
    Zero states means the empty language."""

    edges: tuple[tuple[tuple[int, int, int], ...], ...]
    accept: tuple[bool, ...]

    @property
    def n_states(self) -> int:
        return len(self.accept)

    @functools.cached_property
    def start_has_incoming(self) -> bool:
        """Whether some edge leads back into the start state."""
        return any(t == 0 for edges in self.edges for _, _, t in edges)

    @functools.cached_property
    def final_sink(self) -> int:
        """The accepting state without out-edges (a minimal DFA has at most one), or -1."""
        for s, (edges, acc) in enumerate(zip(self.edges, self.accept)):
            if acc and not edges:
                return s
        return -1

    @functools.cached_property
    def edge_list(self) -> tuple[tuple[int, int, int, int], ...]:
        """All edges as ``(src, lo, hi, dst)`` tuples of Python ints, grouped by source state."""
        return tuple((s, lo, hi, t) for s, edges in enumerate(self.edges) for lo, hi, t in edges)

    @functools.cached_property
    def flat_edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """All edges as int32 columns (src, lo, hi, dst), grouped by source state."""
        rows = [(s, lo, hi, t) for s, edges in enumerate(self.edges) for lo, hi, t in edges]
        arr = np.array(rows, dtype=np.int32).reshape(-1, 4)
        return tuple(np.ascontiguousarray(arr[:, i]) for i in range(4))  # type: ignore[return-value]

    @functools.cached_property
    def accepting(self) -> tuple[int, ...]:
        return tuple(i for i, a in enumerate(self.accept) if a)

    def accepts(self, data: bytes) -> bool:
        """Whether the automaton accepts ``data`` (reference implementation, for tests)."""
        if not self.accept:
            return False
        s = 0
        for b in data:
            for lo, hi, t in self.edges[s]:
                if lo <= b <= hi:
                    s = t
                    break
            else:
                return False
        return self.accept[s]


class FlatFragment:
    """A deterministic byte automaton in the flat form the Thompson kernel embeds
    (:func:`structgen.automata.thompson.fragment_table`): ``n_states``, ``final_sink``,
    ``flat_edges`` (int32 columns src, lo, hi, dst grouped by source) and ``accepting``.
    Built from a dense transition table by :func:`dense_fragment`."""

    __slots__ = ("n_states", "final_sink", "flat_edges", "accepting")

    def __init__(self, n_states: int, final_sink: int, flat_edges: tuple, accepting: tuple[int, ...]) -> None:
        self.n_states = n_states
        self.final_sink = final_sink
        self.flat_edges = flat_edges
        self.accepting = accepting


def dense_edges(table: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The byte-range edges of a dense transition table (int (n, 256), -1 = no edge): each row's
    runs of equal targets, as int32 columns (src, lo, hi, dst) in row-major order (vectorized, no
    per-state Python loop)."""
    flat = np.ascontiguousarray(table, dtype=np.int32).reshape(-1)
    change = np.ones(flat.shape[0], bool)
    change[1:] = flat[1:] != flat[:-1]
    change[::256] = True                       # every row starts a run
    starts = np.flatnonzero(change)
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:] - 1
    if ends.shape[0]:
        ends[-1] = flat.shape[0] - 1
    keep = flat[starts] >= 0
    starts, ends = starts[keep], ends[keep]
    return ((starts >> 8).astype(np.int32), (starts & 255).astype(np.int32), (ends & 255).astype(np.int32),
            flat[starts].astype(np.int32))


def dense_fragment(table: np.ndarray, accept: np.ndarray) -> FlatFragment:
    """The :class:`FlatFragment` of the DFA with transition table ``table`` (int (n, 256), -1 =
    no edge, start state 0) and accepting flags ``accept`` (bool (n,))."""
    n = table.shape[0]
    edges = dense_edges(table)
    acc = np.asarray(accept, bool)
    has_out = np.zeros(n, bool)
    has_out[edges[0]] = True
    sinks = np.flatnonzero(acc & ~has_out)
    return FlatFragment(n, int(sinks[0]) if sinks.shape[0] == 1 else -1, edges,
                        tuple(int(i) for i in np.flatnonzero(acc)))
