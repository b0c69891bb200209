"""Numba kernel: Thompson construction of an NFA from a postfix expression program.

A rule body is flattened (by the grammar compiler) into a *postfix program* of int32 words:

====================  ==========================================================================
``OP_LIT off n``      the ``n`` bytes ``lits[off:off + n]`` in sequence
``OP_TERM k``         a copy of the deterministic byte fragment ``k`` (a compiled terminal)
``OP_REF lab``        one edge on call label ``lab``
``OP_SEQ k``          concatenation of the ``k`` fragments on top of the stack (``k = 0``: ε)
``OP_ALT k``          alternation of the ``k`` fragments on top of the stack (``k = 0``: ∅)
``OP_REP lo hi``      the fragment on top repeated ``lo..hi`` times (``hi = -1``: unbounded)
====================  ==========================================================================

The construction is bottom-up: every fragment has its own entry and exit state, so the states
and edges a subexpression creates form contiguous ranges, and a repetition copies the range of
its item (an offset added to both ends of each edge). Fragments are given as CSR edge lists
(``t_eptr``), accepting-state lists (``t_aptr``), state counts and their accepting sink (the
accepting state without out-edges, or -1).

The result is the NFA in the CSR form :func:`structgen.automata._subset_kernel.subset_construction`
takes, plus its start and final state. The language of the program's NFA is exactly the language
of the expression, which is all that matters downstream (the DFA is minimized and canonically
numbered).
"""
from __future__ import annotations

import numpy as np
from numba import njit

OP_LIT = 0
OP_TERM = 1
OP_REF = 2
OP_SEQ = 3
OP_ALT = 4
OP_REP = 5

#: status values of :func:`build_nfa`
OK = 0
LIMIT_EXCEEDED = -1
MALFORMED = -2


def fragment_table(frags: list) -> tuple:
    """The fragments (:class:`~structgen.automata.fragments.RangeAutomaton`) an ``OP_TERM``
    indexes, as the flat arrays :func:`build_nfa` takes after the program and literal bytes:
    ``(t_nstates, t_sink, t_eptr, t_src, t_lo, t_hi, t_dst, t_aptr, t_acc)``."""
    k = len(frags)
    t_n = np.fromiter((f.n_states for f in frags), np.int32, k)
    t_sink = np.fromiter((f.final_sink for f in frags), np.int32, k)
    eptr = np.zeros(k + 1, np.int64)
    aptr = np.zeros(k + 1, np.int64)
    edges = [f.flat_edges for f in frags]
    np.cumsum([e[0].shape[0] for e in edges], out=eptr[1:])
    np.cumsum([len(f.accepting) for f in frags], out=aptr[1:])
    cols = [np.concatenate([e[i] for e in edges]).astype(np.int32) if k else np.zeros(0, np.int32)
            for i in range(4)]
    acc = np.fromiter((a for f in frags for a in f.accepting), np.int32, int(aptr[-1]))
    return (t_n, t_sink, eptr, cols[0], cols[1], cols[2], cols[3], aptr, acc)


_NEED_BYTES = 1
_NEED_EPS = 2
_NEED_LABELS = 3
_NEED_STACK = 4


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _edge(e_src, e_dst, ne, a, b):
    """Append the epsilon edge ``a -> b``; returns the new edge count."""
    e_src[ne] = a
    e_dst[ne] = b
    return ne + 1


@njit(cache=True, nogil=True, _nrt=False)
def _build(prog, lits, t_nstates, t_sink, t_eptr, t_src, t_lo, t_hi, t_dst, t_aptr, t_acc, cap,
           b_src, b_lo, b_hi, b_dst, e_src, e_dst, l_src, l_lab, l_dst, f_in, f_out, f_s, f_b, f_e, f_l, out):
    """The construction into caller-provided edge and stack arrays (no allocation, so no
    reference counting). Returns OK (``out`` = n_states, start, final, #byte, #ε, #label edges),
    LIMIT_EXCEEDED, MALFORMED, or ``_NEED_*`` with the size needed in ``out[6]``."""
    n = 0
    nb = 0
    ne = 0
    nl = 0
    depth = 0
    pc = 0
    while pc < prog.shape[0]:
        op = prog[pc]
        s0, b0, e0, l0 = n, nb, ne, nl
        if op == OP_SEQ or op == OP_ALT or op == OP_REP:
            k = 1 if op == OP_REP else prog[pc + 1]
            if k > depth:
                return MALFORMED
            if k > 0:
                first = depth - k
                s0, b0, e0, l0 = f_s[first], f_b[first], f_e[first], f_l[first]
        if op == OP_LIT:
            off = prog[pc + 1]
            m = prog[pc + 2]
            pc += 3
            if n + m + 1 > cap:
                return LIMIT_EXCEEDED
            if nb + m > b_src.shape[0]:
                out[6] = nb + m
                return _NEED_BYTES
            entry = n
            n += 1
            cur = entry
            for i in range(m):
                byte = lits[off + i]
                b_src[nb] = cur
                b_lo[nb] = byte
                b_hi[nb] = byte
                b_dst[nb] = n
                nb += 1
                cur = n
                n += 1
            exit_ = cur
        elif op == OP_TERM:
            t = prog[pc + 1]
            pc += 2
            ns = t_nstates[t]
            if n + ns + 2 > cap:
                return LIMIT_EXCEEDED
            base = n
            n += ns
            if ns == 0:  # the empty language: an entry without a way out
                entry = n
                exit_ = n + 1
                n += 2
            else:
                entry = base
                sink = t_sink[t]
                if sink >= 0:
                    exit_ = base + sink
                else:
                    exit_ = n
                    n += 1
                m = t_eptr[t + 1] - t_eptr[t]
                if nb + m > b_src.shape[0]:
                    out[6] = nb + m
                    return _NEED_BYTES
                for j in range(t_eptr[t], t_eptr[t + 1]):
                    b_src[nb] = base + t_src[j]
                    b_lo[nb] = t_lo[j]
                    b_hi[nb] = t_hi[j]
                    b_dst[nb] = base + t_dst[j]
                    nb += 1
                na = t_aptr[t + 1] - t_aptr[t]
                if ne + na > e_src.shape[0]:
                    out[6] = ne + na
                    return _NEED_EPS
                for j in range(t_aptr[t], t_aptr[t + 1]):
                    if t_acc[j] != sink:
                        ne = _edge(e_src, e_dst, ne, base + t_acc[j], exit_)
        elif op == OP_REF:
            lab = prog[pc + 1]
            pc += 2
            if n + 2 > cap:
                return LIMIT_EXCEEDED
            if nl + 1 > l_src.shape[0]:
                out[6] = nl + 1
                return _NEED_LABELS
            entry = n
            exit_ = n + 1
            n += 2
            l_src[nl] = entry
            l_lab[nl] = lab
            l_dst[nl] = exit_
            nl += 1
        elif op == OP_SEQ:
            k = prog[pc + 1]
            pc += 2
            if k == 0:
                if n + 1 > cap:
                    return LIMIT_EXCEEDED
                entry = n
                exit_ = n
                n += 1
            else:
                first = depth - k
                if ne + k > e_src.shape[0]:
                    out[6] = ne + k
                    return _NEED_EPS
                for i in range(first, depth - 1):
                    ne = _edge(e_src, e_dst, ne, f_out[i], f_in[i + 1])
                entry = f_in[first]
                exit_ = f_out[depth - 1]
                depth = first
        elif op == OP_ALT:
            k = prog[pc + 1]
            pc += 2
            if n + 2 > cap:
                return LIMIT_EXCEEDED
            if ne + 2 * k > e_src.shape[0]:
                out[6] = ne + 2 * k
                return _NEED_EPS
            entry = n
            exit_ = n + 1
            n += 2
            first = depth - k
            for i in range(first, depth):
                ne = _edge(e_src, e_dst, ne, entry, f_in[i])
                ne = _edge(e_src, e_dst, ne, f_out[i], exit_)
            depth = first
        elif op == OP_REP:
            lo = prog[pc + 1]
            hi = prog[pc + 2]
            pc += 3
            it_in = f_in[depth - 1]
            it_out = f_out[depth - 1]
            copies = lo + 1 if hi < 0 else hi
            ds = n - s0
            dbn = nb - b0
            den = ne - e0
            dln = nl - l0
            # entry, exit and the extra copies (one copy, the item itself, exists already)
            if copies > 1 and (copies - 1) > (cap - n - 2) // max(ds, 1):
                return LIMIT_EXCEEDED
            if n + 2 > cap:
                return LIMIT_EXCEEDED
            extra = max(copies - 1, 0)
            if nb + extra * dbn > b_src.shape[0]:
                out[6] = nb + extra * dbn
                return _NEED_BYTES
            if ne + extra * den + 2 * copies + 4 > e_src.shape[0]:
                out[6] = ne + extra * den + 2 * copies + 4
                return _NEED_EPS
            if nl + extra * dln > l_src.shape[0]:
                out[6] = nl + extra * dln
                return _NEED_LABELS
            depth -= 1
            # copy j (1-based) has its states at offset j * ds from the item's
            for j in range(1, copies):
                off = j * ds
                for e in range(b0, b0 + dbn):
                    b_src[nb] = b_src[e] + off
                    b_lo[nb] = b_lo[e]
                    b_hi[nb] = b_hi[e]
                    b_dst[nb] = b_dst[e] + off
                    nb += 1
                for e in range(e0, e0 + den):
                    ne = _edge(e_src, e_dst, ne, e_src[e] + off, e_dst[e] + off)
                for e in range(l0, l0 + dln):
                    l_src[nl] = l_src[e] + off
                    l_lab[nl] = l_lab[e]
                    l_dst[nl] = l_dst[e] + off
                    nl += 1
            n += extra * ds
            entry = n
            exit_ = n + 1
            n += 2
            # mandatory copies chained from the entry
            cur = entry
            for j in range(lo):
                off = j * ds
                ne = _edge(e_src, e_dst, ne, cur, it_in + off)
                cur = it_out + off
            ne = _edge(e_src, e_dst, ne, cur, exit_)
            if hi < 0:  # one looping copy after the mandatory ones
                off = lo * ds
                ne = _edge(e_src, e_dst, ne, cur, it_in + off)
                ne = _edge(e_src, e_dst, ne, it_out + off, it_in + off)
                ne = _edge(e_src, e_dst, ne, it_out + off, exit_)
            else:  # optional copies, each may end the repetition
                for j in range(lo, hi):
                    off = j * ds
                    ne = _edge(e_src, e_dst, ne, cur, it_in + off)
                    cur = it_out + off
                    ne = _edge(e_src, e_dst, ne, cur, exit_)
        else:
            return MALFORMED
        if depth == f_in.shape[0]:
            out[6] = depth + 1
            return _NEED_STACK
        f_in[depth] = entry
        f_out[depth] = exit_
        f_s[depth] = s0
        f_b[depth] = b0
        f_e[depth] = e0
        f_l[depth] = l0
        depth += 1
    if depth != 1:
        return MALFORMED
    out[0] = n
    out[1] = f_in[0]
    out[2] = f_out[0]
    out[3] = nb
    out[4] = ne
    out[5] = nl
    return OK


@njit(cache=True, nogil=True, _nrt=False)
def _group(n, m, src, a_in, b_in, c_in, ptr, a, b, c, pos):
    """Stable counting sort of ``m`` edges by source into CSR (``ptr[n + 1]``); the columns
    ``b`` / ``c`` are skipped when empty."""
    for s in range(n + 1):
        ptr[s] = 0
    for e in range(m):
        ptr[src[e] + 1] += 1
    for s in range(n):
        ptr[s + 1] += ptr[s]
    for s in range(n):
        pos[s] = ptr[s]
    with_b = b.shape[0] > 0
    with_c = c.shape[0] > 0
    for e in range(m):
        p = pos[src[e]]
        pos[src[e]] = p + 1
        a[p] = a_in[e]
        if with_b:
            b[p] = b_in[e]
        if with_c:
            c[p] = c_in[e]


@njit(cache=True, nogil=True)
def _driver(prog, lits, t_nstates, t_sink, t_eptr, t_src, t_lo, t_hi, t_dst, t_aptr, t_acc, cap,
            cap_b, cap_e, cap_l, cap_f):
    """Allocates the work arrays, runs :func:`_build` until they suffice and groups the edges
    (inside compiled code: no per-call argument checks for the many arrays)."""
    words = prog.shape[0]
    if cap_b <= 0:
        cap_b = max(64, 2 * words + 2 * t_src.shape[0])
    if cap_e <= 0:
        cap_e = max(64, 2 * words + 2 * t_acc.shape[0])
    if cap_l <= 0:
        cap_l = max(16, words // 2)
    if cap_f <= 0:
        cap_f = max(16, words // 2 + 1)
    out = np.zeros(8, np.int64)
    while True:
        b_src = np.empty(cap_b, np.int32)
        b_lo = np.empty(cap_b, np.int32)
        b_hi = np.empty(cap_b, np.int32)
        b_dst = np.empty(cap_b, np.int32)
        e_src = np.empty(cap_e, np.int32)
        e_dst = np.empty(cap_e, np.int32)
        l_src = np.empty(cap_l, np.int32)
        l_lab = np.empty(cap_l, np.int32)
        l_dst = np.empty(cap_l, np.int32)
        f_in = np.empty(cap_f, np.int64)
        f_out = np.empty(cap_f, np.int64)
        f_s = np.empty(cap_f, np.int64)
        f_b = np.empty(cap_f, np.int64)
        f_e = np.empty(cap_f, np.int64)
        f_l = np.empty(cap_f, np.int64)
        status = _build(prog, lits, t_nstates, t_sink, t_eptr, t_src, t_lo, t_hi, t_dst, t_aptr, t_acc, cap,
                        b_src, b_lo, b_hi, b_dst, e_src, e_dst, l_src, l_lab, l_dst,
                        f_in, f_out, f_s, f_b, f_e, f_l, out)
        need = out[6]
        if status == _NEED_BYTES:
            cap_b = max(2 * cap_b, need + need // 2)
        elif status == _NEED_EPS:
            cap_e = max(2 * cap_e, need + need // 2)
        elif status == _NEED_LABELS:
            cap_l = max(2 * cap_l, need + need // 2)
        elif status == _NEED_STACK:
            cap_f = max(2 * cap_f, need + need // 2)
        else:
            break
    z64 = np.zeros(1, np.int64)
    z32 = np.zeros(0, np.int32)
    if status != OK:
        return status, 0, 0, 0, z64, z32, z64, z32, z32, z32, z64, z32, z32
    n = out[0]
    nb = out[3]
    ne = out[4]
    nl = out[5]
    pos = np.empty(max(n, 1), np.int64)
    eps_ptr = np.empty(n + 1, np.int64)
    eps_to = np.empty(ne, np.int32)
    _group(n, ne, e_src, e_dst, e_dst, e_dst, eps_ptr, eps_to, z32, z32, pos)
    be_ptr = np.empty(n + 1, np.int64)
    be_lo = np.empty(nb, np.int32)
    be_hi = np.empty(nb, np.int32)
    be_to = np.empty(nb, np.int32)
    _group(n, nb, b_src, b_lo, b_hi, b_dst, be_ptr, be_lo, be_hi, be_to, pos)
    le_ptr = np.empty(n + 1, np.int64)
    le_lab = np.empty(nl, np.int32)
    le_to = np.empty(nl, np.int32)
    _group(n, nl, l_src, l_lab, l_dst, l_dst, le_ptr, le_lab, le_to, z32, pos)
    return OK, n, out[1], out[2], eps_ptr, eps_to, be_ptr, be_lo, be_hi, be_to, le_ptr, le_lab, le_to


def build_nfa(prog, lits, t_nstates, t_sink, t_eptr, t_src, t_lo, t_hi, t_dst, t_aptr, t_acc, cap,
              initial_capacity=None):
    """Run the postfix program ``prog``; returns ``(status, n_states, start, final, eps_ptr,
    eps_to, be_ptr, be_lo, be_hi, be_to, le_ptr, le_lab, le_to)``. ``status`` is
    ``LIMIT_EXCEEDED`` (and the arrays empty) as soon as the NFA would exceed ``cap`` states —
    a repetition is checked before it copies its item, so huge counts fail at once — and
    ``MALFORMED`` when the program does not leave exactly one fragment.

    Work arrays are sized from the program and regrown (the construction rerun) when short;
    ``initial_capacity`` (tests only) overrides the first sizes: ``(byte, ε, label edges, stack)``."""
    caps = (0, 0, 0, 0) if initial_capacity is None else tuple(max(1, int(c)) for c in initial_capacity)
    out = _driver(prog, lits, t_nstates, t_sink, t_eptr, t_src, t_lo, t_hi, t_dst, t_aptr, t_acc, int(cap), *caps)
    return (int(out[0]), int(out[1]), int(out[2]), int(out[3])) + tuple(out[4:])
