"""NFA under construction: byte-range edges, extra-label edges (grammar calls) and ε-edges.

Edges are kept in flat ``array('i')`` columns (cheap appends, zero-copy conversion to numpy) and
turned into CSR form by :meth:`NFA.to_csr` for the subset-construction kernel.

Fragments are built *forwards from a given source state*: a builder receives an existing state
``src``, adds only out-edges of ``src`` and edges between states it creates itself, and returns
the fragment's exit state. Builders never add in-edges to ``src``, so several fragments may start
at the same state (alternation) without interfering.
"""
from __future__ import annotations

from array import array

import numpy as np

from structgen.automata.fragments import RangeAutomaton

_SMALL_FRAGMENT_EDGES = 16  # below this, embedding in Python beats numpy's per-call overhead


def _i32(buf: array) -> np.ndarray:
    return np.frombuffer(buf, dtype=np.int32) if len(buf) else np.zeros(0, np.int32)


class NFA:
    """Mutable NFA with states ``0..n_states-1``: byte edges ``(src, lo, hi, dst)`` over inclusive
    byte ranges, label edges ``(src, label, dst)`` for extra labels ``0..n_labels-1`` (the grammar
    compiler uses one label per called rule), and ε-edges ``(src, dst)``."""

    __slots__ = ("n_states", "b_src", "b_lo", "b_hi", "b_dst", "l_src", "l_lab", "l_dst", "e_src", "e_dst")

    def __init__(self) -> None:
        self.n_states = 0
        self.b_src, self.b_lo, self.b_hi, self.b_dst = array("i"), array("i"), array("i"), array("i")
        self.l_src, self.l_lab, self.l_dst = array("i"), array("i"), array("i")
        self.e_src, self.e_dst = array("i"), array("i")

    def __len__(self) -> int:
        return self.n_states

    def add_state(self) -> int:
        self.n_states += 1
        return self.n_states - 1

    def add_states(self, n: int) -> int:
        """Add ``n`` states; return the id of the first."""
        base = self.n_states
        self.n_states += n
        return base

    def add_eps(self, a: int, b: int) -> None:
        self.e_src.append(a)
        self.e_dst.append(b)

    def add_bytes(self, a: int, lo: int, hi: int, b: int) -> None:
        self.b_src.append(a)
        self.b_lo.append(lo)
        self.b_hi.append(hi)
        self.b_dst.append(b)

    def add_label(self, a: int, label: int, b: int) -> None:
        self.l_src.append(a)
        self.l_lab.append(label)
        self.l_dst.append(b)

    # ------------------------------------------------------------------ fragment builders
    def literal(self, src: int, data: bytes) -> int:
        """Chain matching exactly ``data`` from ``src``; returns the exit state."""
        n = len(data)
        if not n:
            return src
        base = self.n_states
        self.n_states = base + n
        self.b_src.append(src)
        self.b_src.extend(range(base, base + n - 1))
        self.b_lo.extend(data)  # iterating bytes gives the byte values
        self.b_hi.extend(data)
        self.b_dst.extend(range(base, base + n))
        return base + n - 1

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
        base = self.n_states
        self.n_states = base + n
        if sink < 0:
            exit_ = self.n_states
            self.n_states += 1
        else:
            exit_ = base + sink
        if not merge_start:
            self.add_eps(src, base)
        edges = frag.edge_list
        if len(edges) <= _SMALL_FRAGMENT_EDGES:
            b_src, b_lo, b_hi, b_dst = self.b_src, self.b_lo, self.b_hi, self.b_dst
            for s, lo, hi, t in edges:
                b_src.append(src if s == 0 and merge_start else base + s)
                b_lo.append(lo)
                b_hi.append(hi)
                b_dst.append(base + t)
        else:
            f_src, f_lo, f_hi, f_dst = frag.flat_edges
            mapped = f_src + np.int32(base)
            if merge_start:
                mapped[f_src == 0] = src
            self.b_src.frombytes(mapped.tobytes())
            self.b_lo.frombytes(f_lo.tobytes())
            self.b_hi.frombytes(f_hi.tobytes())
            self.b_dst.frombytes((f_dst + np.int32(base)).tobytes())
        for i in frag.accepting:
            if i != sink:
                self.add_eps(src if i == 0 and merge_start else base + i, exit_)
        return exit_

    # ------------------------------------------------------------------ export
    def to_csr(self):
        """(eps_ptr, eps_to, be_ptr, be_lo, be_hi, be_to, le_ptr, le_lab, le_to): edges grouped by
        source state (stable order), pointers int64 [n_states + 1], the rest int32."""
        n = self.n_states

        def group(src: array, *cols: array):
            s = _i32(src)
            order = np.argsort(s, kind="stable")
            ptr = np.zeros(n + 1, np.int64)
            np.cumsum(np.bincount(s, minlength=n), out=ptr[1:])
            return (ptr,) + tuple(np.ascontiguousarray(_i32(c)[order]) for c in cols)

        return (group(self.e_src, self.e_dst) + group(self.b_src, self.b_lo, self.b_hi, self.b_dst)
                + group(self.l_src, self.l_lab, self.l_dst))
