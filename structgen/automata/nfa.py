"""NFA under construction: byte-range edges, extra-label edges (grammar calls) and ε-edges.

Fragments are built *forwards from a given source state*: a builder receives an existing state
``src``, adds only out-edges of ``src`` and edges between states it creates itself, and returns
the fragment's exit state. Builders never add in-edges to ``src``, so several fragments may start
at the same state (alternation) without interfering.
"""
from __future__ import annotations

from structgen.automata.fragments import RangeAutomaton


class NFA:
    """Mutable NFA. States are ``0..len(nfa)-1``.

    - ``byte_edges[s]``: list of ``(lo, hi, target)`` inclusive byte ranges;
    - ``label_edges[s]``: list of ``(label, target)`` for extra labels ``0..n_labels-1``
      (the grammar compiler uses one label per called rule);
    - ``eps[s]``: list of ε-targets.
    """

    __slots__ = ("byte_edges", "label_edges", "eps")

    def __init__(self) -> None:
        self.byte_edges: list[list[tuple[int, int, int]]] = []
        self.label_edges: list[list[tuple[int, int]]] = []
        self.eps: list[list[int]] = []

    def __len__(self) -> int:
        return len(self.eps)

    def add_state(self) -> int:
        self.byte_edges.append([])
        self.label_edges.append([])
        self.eps.append([])
        return len(self.eps) - 1

    def add_states(self, n: int) -> int:
        """Add ``n`` states; return the id of the first."""
        base = len(self.eps)
        self.byte_edges.extend([] for _ in range(n))
        self.label_edges.extend([] for _ in range(n))
        self.eps.extend([] for _ in range(n))
        return base

    def add_eps(self, a: int, b: int) -> None:
        self.eps[a].append(b)

    def add_bytes(self, a: int, lo: int, hi: int, b: int) -> None:
        self.byte_edges[a].append((lo, hi, b))

    def add_label(self, a: int, label: int, b: int) -> None:
        self.label_edges[a].append((label, b))

    # ------------------------------------------------------------------ fragment builders
    def literal(self, src: int, data: bytes) -> int:
        """Chain matching exactly ``data`` from ``src``; returns the exit state."""
        cur = src
        for b in data:
            nxt = self.add_state()
            self.byte_edges[cur].append((b, b, nxt))
            cur = nxt
        return cur

    def embed(self, src: int, frag: RangeAutomaton) -> int:
        """Copy ``frag`` after ``src``; returns the exit state (reached from every accepting state).

        The start state is merged into ``src`` when nothing leads back into it, and the
        accepting sink (if any) becomes the exit, so a character class costs no ε-edges.
        An empty ``frag`` yields a fresh exit with no way in.
        """
        n = frag.n_states
        if n == 0:
            return self.add_state()
        sink = frag.final_sink
        if n == 1 and sink == 0:
            return src  # the empty string
        merge_start = not frag.start_has_incoming
        exit_ = self.add_state() if sink < 0 else -1
        base = self.add_states(n)
        mapping = list(range(base, base + n))
        if merge_start:
            mapping[0] = src
        if sink > 0:
            mapping[sink] = base + sink
            exit_ = mapping[sink]
        byte_edges = self.byte_edges
        eps = self.eps
        if not merge_start:
            eps[src].append(mapping[0])
        for i, edges in enumerate(frag.edges):
            if edges:
                out = byte_edges[mapping[i]]
                for lo, hi, t in edges:
                    out.append((lo, hi, mapping[t]))
            if frag.accept[i] and i != sink:
                eps[mapping[i]].append(exit_)
        return exit_
