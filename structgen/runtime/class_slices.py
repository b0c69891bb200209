"""Class slices: rows of pattern-string states without walking the whole trie.

A JSON string restricted by a ``pattern`` such as ``^[A-Za-z0-9_]+$`` or ``^[a-z ]{1,40}$`` has
DFA states that behave like the plain counters of ``plain_slices.py`` over a smaller alphabet: a
state ``x`` is a **class counter** with class ``C`` and budget ``k`` when the plain ASCII
characters alive from ``x`` are exactly ``C`` and all lead to one non-accepting state, which is
again a class counter with the same class and budget ``k - 1``, until after ``k`` characters every
plain character dies (``k`` = the vocabulary's longest plain token when the chain cycles). The
class also fixes what non-ASCII plain characters do (:func:`~structgen.runtime.kernels.class_step`):
all die (mode 0), all belong to ``C`` (mode 1), or anything else (mode 2).

Then a plain token whose characters are all in ``C`` is allowed iff it has at most ``k``
characters (it never passes an accepting state), a plain pure-ASCII token with an ASCII character
outside ``C`` dies, and the row is

    plain tokens (mode 0, 2: without non-ASCII characters) of ``<= k`` characters that contain
    none of the plain ASCII characters outside ``C``
    ∪ a walk of the rest trie (non-plain tokens)
    ∪ (mode 2 only) a walk of the plain tokens that contain non-ASCII characters.

The first part is bit arithmetic on per-vocabulary rows (``PlainSlices.char_masks``: the plain
tokens containing each ASCII character), ~20-100 µs whatever the class, where a walk over the
members of a broad class costs milliseconds.
"""
from __future__ import annotations

import numpy as np

from . import kernels as K


def class_budget(trans: np.ndarray, accept: np.ndarray, call_ptr: np.ndarray, s: int, cap: int):
    """``(class, mode, k)`` when ``s`` is a class counter of budget ``k >= 1`` (capped at ``cap``),
    else None. ``class = (bits 0-63, bits 64-127)`` of its plain ASCII characters."""
    sig = np.zeros(3, np.uint64)
    first = None
    seen = []
    x = s
    k = 0
    while k <= cap:
        if call_ptr[x + 1] > call_ptr[x]:
            return None
        y = int(K.class_step(trans, accept, x, sig))
        if y == K.PLAIN_ALL_DEAD:
            return (first[:2], first[2], k) if k >= 1 else None
        if y < 0:
            return None
        cur = (int(sig[0]), int(sig[1]), int(sig[2]))
        if first is None:
            first = cur
        elif cur != first:
            return None
        if x in seen:  # a cycle: unbounded
            return first[:2], first[2], cap
        seen.append(x)
        x = y
        k += 1
    return first[:2], first[2], cap


def excluded_characters(bits: tuple[int, int], plain_ascii: np.ndarray) -> np.ndarray:
    """The plain ASCII bytes not in the class ``bits`` (int64)."""
    lo, hi = bits
    inside = np.array([((lo >> b) & 1) if b < 64 else ((hi >> (b - 64)) & 1) for b in plain_ascii.tolist()], bool)
    return plain_ascii[~inside]
