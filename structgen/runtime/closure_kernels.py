"""Numba kernels: states whose every plain continuation stays alive (see ``MaskStore.plain_closed``).

A state ``x`` of a rule's byte DFA is **plain-closed** when every string of plain characters
(Unicode scalar values >= U+0020 except ``"`` and ``\\``, in UTF-8) leads from ``x`` through
states that are alive, not accepting and without call edges -- the states inside a character
included. Such a state takes *every* plain token, of any length, and no plain token passes an
accepting state: its row is the whole plain slice plus a walk of the non-plain tokens, like a
counter of unbounded budget (``plain_slices.py``). Unlike a counter, its plain characters may lead
to different states: the partial-match states of an unanchored pattern (``"[0-9a-f]{8}-..."``
inside a string of any length), or of several alternatives.

The set is the greatest one closed under plain characters, found backwards: a state is *bad* when
a plain character from it dies or passes a state that is accepting or has call edges, or when it
is itself accepting or has call edges; a state with a plain-character successor that is bad is
bad; every other state is plain-closed.
"""
from __future__ import annotations

from numba import njit

# states examined per rule at most; larger rules keep their walks (see MaskStore.plain_closed)
MAX_CLOSURE_STATES = 20000


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _blocked(accept, call_ptr, t):
    """A character may not pass or end in ``t``: dead, accepting, or with call edges."""
    return t < 0 or accept[t] or call_ptr[t + 1] > call_ptr[t]


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _add(u, lo, hi, mark, x, succ, n):
    """Append successor ``u`` of ``x`` once (``mark[u - lo] == x``: already there); returns the
    new count, -1 when ``succ`` is full, -2 when ``u`` lies outside the rule."""
    if u < lo or u >= hi:
        return -2
    if mark[u - lo] == x:
        return n
    if n >= succ.shape[0]:
        return -1
    mark[u - lo] = x
    succ[n] = u - lo
    return n + 1


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _last_byte(trans, t, lo, hi, mark, x, succ, n):
    """Append where each continuation byte that ends a character leads from mid-character state
    ``t``; returns the new count, -1 when ``succ`` is full, -2 when one dies."""
    for c in range(0x80, 0xC0):
        u = trans[t, c]
        if u < 0:
            return -2
        n = _add(u, lo, hi, mark, x, succ, n)
        if n < 0:
            return n
    return n


@njit(cache=True, nogil=True, _nrt=False)
def _successors(trans, accept, call_ptr, x, lo, hi, mark, succ, n):
    """Append the states plain characters lead to from ``x`` to ``succ[n:]``; returns the new
    count, -1 when ``succ`` is full, -2 when a character is blocked (``x`` is bad)."""
    for b in range(0x20, 0x80):
        if b == 0x22 or b == 0x5C:
            continue
        u = trans[x, b]
        if u < 0:
            return -2
        n = _add(u, lo, hi, mark, x, succ, n)
        if n < 0:
            return n
    last = -4
    for b in range(0xC2, 0xE0):  # two-byte characters
        t = trans[x, b]
        if t == last:
            continue
        last = t
        if _blocked(accept, call_ptr, t):
            return -2
        n = _last_byte(trans, t, lo, hi, mark, x, succ, n)
        if n < 0:
            return n
    for b in range(0xE0, 0xF5):  # three- and four-byte characters
        lo1, hi1 = 0x80, 0xBF
        if b == 0xE0:
            lo1 = 0xA0
        elif b == 0xED:
            hi1 = 0x9F  # no surrogates
        elif b == 0xF0:
            lo1 = 0x90
        elif b == 0xF4:
            hi1 = 0x8F  # nothing above U+10FFFF
        t1 = trans[x, b]
        if _blocked(accept, call_ptr, t1):
            return -2
        last2 = -4
        for c1 in range(lo1, hi1 + 1):
            t2 = trans[t1, c1]
            if t2 == last2:
                continue
            last2 = t2
            if _blocked(accept, call_ptr, t2):
                return -2
            if b < 0xF0:
                n = _last_byte(trans, t2, lo, hi, mark, x, succ, n)
                if n < 0:
                    return n
                continue
            last3 = -4
            for c2 in range(0x80, 0xC0):
                t3 = trans[t2, c2]
                if t3 == last3:
                    continue
                last3 = t3
                if _blocked(accept, call_ptr, t3):
                    return -2
                n = _last_byte(trans, t3, lo, hi, mark, x, succ, n)
                if n < 0:
                    return n
    return n


@njit(cache=True, nogil=True, _nrt=False)
def plain_closed(trans, accept, call_ptr, lo, hi, closed, mark, ptr, succ, rptr, radj, queue):
    """Mark in ``closed`` (uint8[hi - lo]) the plain-closed states among ``[lo, hi)`` (one rule's
    states; see the module docstring). Scratch (int32): ``mark`` and ``queue`` of ``hi - lo``,
    ``ptr`` and ``rptr`` of ``hi - lo + 1``, ``succ`` and ``radj`` of equal size. Returns 0, or
    -1 when ``succ`` is too small (nothing is valid then)."""
    n_states = hi - lo
    for i in range(n_states):
        mark[i] = -1
        closed[i] = 1
    n = 0
    n_bad = 0
    for i in range(n_states):
        ptr[i] = n
        x = lo + i
        m = -2 if _blocked(accept, call_ptr, x) else _successors(trans, accept, call_ptr, x, lo, hi, mark, succ, n)
        if m == -1:
            return -1
        if m == -2:
            closed[i] = 0
            queue[n_bad] = i
            n_bad += 1  # its list stays empty (entries past n are overwritten)
        else:
            n = m
    ptr[n_states] = n
    if radj.shape[0] < n:
        return -1
    # predecessors: counting sort of the edges by target
    for i in range(n_states + 1):
        rptr[i] = 0
    for j in range(n):
        rptr[succ[j] + 1] += 1
    for i in range(n_states):
        rptr[i + 1] += rptr[i]
    for i in range(n_states):
        for j in range(ptr[i], ptr[i + 1]):
            v = succ[j]
            radj[rptr[v]] = i
            rptr[v] += 1
    for i in range(n_states, 0, -1):  # shift back: rptr[v] is the start of v's list again
        rptr[i] = rptr[i - 1]
    rptr[0] = 0
    head = 0
    while head < n_bad:  # every predecessor of a bad state is bad
        v = queue[head]
        head += 1
        for j in range(rptr[v], rptr[v + 1]):
            p = radj[j]
            if closed[p]:
                closed[p] = 0
                queue[n_bad] = p
                n_bad += 1
    return 0
