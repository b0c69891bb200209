"""Numba kernel: subset construction over byte classes and extra labels.

Input: an NFA in CSR form (ε-edges, byte-range edges, label edges, grouped by source state).
Output: the DFA of *important* state sets (NFA states with byte/label out-edges, or the final
state), over byte classes (maximal byte intervals on which every byte edge is constant) followed
by the labels. Numbering is discovery order (start = 0); the caller trims, minimizes and
canonicalizes.

The kernel never allocates (``_nrt=False``: no reference counting in its loops, which made the
allocating version several times slower): :func:`subset_construction` sizes its work arrays,
and when one of them turns out too small the kernel stops with a status naming it and is run
again with that array doubled (capacities only grow, so this terminates; the first guess fits
almost every grammar rule).
"""
from __future__ import annotations

import numpy as np
from numba import njit

LIMIT_EXCEEDED = -1
_OK = 0
_NEED_DFA = 1      # DFA-state arrays (and the state hash table)
_NEED_CLOSURE = 2  # pool of ε-closures
_NEED_POOL = 3     # pool of DFA-state member lists
_NEED_BUCKET = 4   # per-state column buckets

_INITIAL_STATE_CELLS = 1 << 22  # initial DFA capacity × columns (int32 cells, lazily paged)


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _set_hash(buf, off, n):
    h = np.uint64(1469598103934665603)
    for i in range(off, off + n):
        h ^= np.uint64(buf[i]) + np.uint64(0x9E3779B97F4A7C15)
        h *= np.uint64(1099511628211)
    h ^= h >> np.uint64(29)
    return h


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _insertion_sort(buf, n):
    for q in range(1, n):
        v = buf[q]
        r = q - 1
        while r >= 0 and buf[r] > v:
            buf[r + 1] = buf[r]
            r -= 1
        buf[r + 1] = v


@njit(cache=True, nogil=True, _nrt=False)
def _byte_classes(be_lo, be_hi, byte_class):
    """Fill ``byte_class[256]`` (maximal intervals on which every byte edge is constant);
    returns the number of classes."""
    # byte_class[b] temporarily marks "a class starts at b"
    for b in range(256):
        byte_class[b] = 0
    byte_class[0] = 1
    for e in range(be_lo.shape[0]):
        byte_class[be_lo[e]] = 1
        if be_hi[e] < 255:
            byte_class[be_hi[e] + 1] = 1
    c = -1
    for b in range(256):
        if byte_class[b]:
            c += 1
        byte_class[b] = c
    return c + 1


@njit(cache=True, nogil=True, _nrt=False)
def _closure(t, important, eps_ptr, eps_to, cmark, cstamp, stack, clo_start, clo_len, clo_pool, clo_used):
    """Store the sorted important ε-closure of NFA state ``t`` at ``clo_pool[clo_used:]``;
    returns the new fill, or -1 when the pool is too small. ``cstamp`` must be fresh."""
    top = 0
    stack[top] = t
    top += 1
    cmark[t] = cstamp
    m = 0
    cap = clo_pool.shape[0]
    while top > 0:
        top -= 1
        u = stack[top]
        if important[u]:
            if clo_used + m >= cap:
                return -1
            clo_pool[clo_used + m] = u
            m += 1
        for e in range(eps_ptr[u], eps_ptr[u + 1]):
            v = eps_to[e]
            if cmark[v] != cstamp:
                cmark[v] = cstamp
                stack[top] = v
                top += 1
    # sort the new closure in place (insertion sort on the pool slice)
    for q in range(clo_used + 1, clo_used + m):
        v = clo_pool[q]
        r = q - 1
        while r >= clo_used and clo_pool[r] > v:
            clo_pool[r + 1] = clo_pool[r]
            r -= 1
        clo_pool[r + 1] = v
    clo_start[t] = clo_used
    clo_len[t] = m
    return clo_used + m


@njit(cache=True, nogil=True, _nrt=False)
def _run(n_nfa, start, final, eps_ptr, eps_to, be_ptr, be_lo, be_hi, be_to, le_ptr, le_lab, le_to,
         byte_class, n_bc, n_labels, max_states,
         important, clo_start, clo_len, clo_pool, cmark, stack, umark, union_buf,
         ds_start, ds_len, ds_pool, table, trans, accept,
         cnt, fill, col_stamp, touched, ct_stamp, ct_lo, ct_hi, ct_id, bucket, edge_a, edge_b, edge_t,
         out):
    """The construction with caller-provided work arrays; returns a status (0, LIMIT_EXCEEDED
    or ``_NEED_*``) and stores the number of DFA states in ``out[0]``."""
    n_cols = n_bc + n_labels
    cap_dfa = accept.shape[0]
    table_size = table.shape[0]
    tmask = np.uint64(table_size - 1)
    ct_mask = ct_stamp.shape[0] - 1
    for s in range(n_nfa):
        important[s] = be_ptr[s + 1] > be_ptr[s] or le_ptr[s + 1] > le_ptr[s] or s == final
        clo_start[s] = -1
        clo_len[s] = 0
        cmark[s] = 0
        umark[s] = 0
    for k in range(table_size):
        table[k] = -1
    for k in range(ct_stamp.shape[0]):
        ct_stamp[k] = 0
    for k in range(n_cols):
        col_stamp[k] = 0
    cstamp = 0
    ustamp = 0
    clo_used = 0

    # the start DFA state = closure(start)
    cstamp += 1
    clo_used = _closure(start, important, eps_ptr, eps_to, cmark, cstamp, stack, clo_start, clo_len,
                        clo_pool, clo_used)
    if clo_used < 0:
        return _NEED_CLOSURE
    m = clo_len[start]
    if m > ds_pool.shape[0]:
        return _NEED_POOL
    cs = clo_start[start]
    for r in range(m):
        ds_pool[r] = clo_pool[cs + r]
    ds_start[0] = 0
    ds_len[0] = m
    ds_used = m
    table[np.int64(_set_hash(ds_pool, 0, m) & tmask)] = 0
    n_dfa = 1

    i = 0
    while i < n_dfa:
        base = ds_start[i]
        size = ds_len[i]
        # ---- gather member edges as column ranges [a, b) (members are distinct NFA states,
        # so there are at most as many as the NFA has edges)
        n_edges = 0
        is_acc = False
        for j in range(size):
            s = ds_pool[base + j]
            if s == final:
                is_acc = True
            for e in range(be_ptr[s], be_ptr[s + 1]):
                edge_a[n_edges] = byte_class[be_lo[e]]
                edge_b[n_edges] = byte_class[be_hi[e]] + 1
                edge_t[n_edges] = be_to[e]
                n_edges += 1
            for e in range(le_ptr[s], le_ptr[s + 1]):
                col = n_bc + le_lab[e]
                edge_a[n_edges] = col
                edge_b[n_edges] = col + 1
                edge_t[n_edges] = le_to[e]
                n_edges += 1
        accept[i] = is_acc
        # ---- bucket the targets of the touched columns (counting sort over those only)
        row = i * n_cols
        stamp = i + 1
        for col in range(n_cols):
            trans[row + col] = -1
        n_touched = 0
        total = 0
        for e in range(n_edges):
            for col in range(edge_a[e], edge_b[e]):
                if col_stamp[col] != stamp:
                    col_stamp[col] = stamp
                    cnt[col] = 0
                    touched[n_touched] = col
                    n_touched += 1
                cnt[col] += 1
                total += 1
        if total > bucket.shape[0]:
            return _NEED_BUCKET
        _insertion_sort(touched, n_touched)
        acc = 0
        for q in range(n_touched):
            col = touched[q]
            c = cnt[col]
            cnt[col] = acc
            fill[col] = acc
            acc += c
        for e in range(n_edges):
            t = edge_t[e]
            for col in range(edge_a[e], edge_b[e]):
                bucket[fill[col]] = t
                fill[col] += 1
        for qq in range(n_touched):
            col = touched[qq]
            lo = cnt[col]
            hi = fill[col]
            # the same target list as an earlier column of this state gives the same DFA state
            lh = np.int64(_set_hash(bucket, lo, hi - lo) & np.uint64(ct_mask))
            found = -1
            while ct_stamp[lh] == stamp:
                a0 = ct_lo[lh]
                if ct_hi[lh] - a0 == hi - lo:
                    same = True
                    for q in range(hi - lo):
                        if bucket[lo + q] != bucket[a0 + q]:
                            same = False
                            break
                    if same:
                        found = ct_id[lh]
                        break
                lh = (lh + 1) & ct_mask
            if found >= 0:
                trans[row + col] = found
                continue
            # union of the targets' closures
            ustamp += 1
            m = 0
            for q in range(lo, hi):
                t = bucket[q]
                if clo_start[t] < 0:
                    cstamp += 1
                    clo_used = _closure(t, important, eps_ptr, eps_to, cmark, cstamp, stack, clo_start,
                                        clo_len, clo_pool, clo_used)
                    if clo_used < 0:
                        return _NEED_CLOSURE
                cs = clo_start[t]
                for r in range(clo_len[t]):
                    x = clo_pool[cs + r]
                    if umark[x] != ustamp:
                        umark[x] = ustamp
                        union_buf[m] = x
                        m += 1
            _insertion_sort(union_buf, m)
            slot = np.int64(_set_hash(union_buf, 0, m) & tmask)
            found = -1
            while True:
                d = table[slot]
                if d < 0:
                    break
                if ds_len[d] == m:
                    eq = True
                    b0 = ds_start[d]
                    for r in range(m):
                        if ds_pool[b0 + r] != union_buf[r]:
                            eq = False
                            break
                    if eq:
                        found = d
                        break
                slot = (slot + 1) & (table_size - 1)
            if found < 0:
                if n_dfa >= max_states:
                    return LIMIT_EXCEEDED
                if n_dfa >= cap_dfa:
                    return _NEED_DFA
                if ds_used + m > ds_pool.shape[0]:
                    return _NEED_POOL
                found = n_dfa
                for r in range(m):
                    ds_pool[ds_used + r] = union_buf[r]
                ds_start[n_dfa] = ds_used
                ds_len[n_dfa] = m
                ds_used += m
                table[slot] = n_dfa
                n_dfa += 1
            trans[row + col] = found
            ct_stamp[lh] = stamp
            ct_lo[lh] = lo
            ct_hi[lh] = hi
            ct_id[lh] = found
        i += 1
    out[0] = n_dfa
    return _OK


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _pow2_at_least(n):
    p = 16
    while p < n:
        p *= 2
    return p


@njit(cache=True, nogil=True)
def _driver(n_nfa, start, final, eps_ptr, eps_to, be_ptr, be_lo, be_hi, be_to, le_ptr, le_lab, le_to,
            n_labels, max_states, cap_dfa, cap_clo, cap_pool, cap_bucket):
    """Allocates the work arrays and runs :func:`_run` until they suffice (inside compiled code,
    so the many work arrays cost no per-call argument checks)."""
    byte_class = np.empty(256, np.int32)
    n_bc = _byte_classes(be_lo, be_hi, byte_class)
    n_cols = n_bc + n_labels
    n = max(n_nfa, 1)
    n_edges = be_lo.shape[0] + le_lab.shape[0]
    if cap_dfa <= 0:
        cap_dfa = max(64, min(n, _INITIAL_STATE_CELLS // max(n_cols, 1)))
    cap_dfa = max(1, min(max_states, cap_dfa))
    if cap_clo <= 0:
        cap_clo = max(256, 4 * n)
    if cap_pool <= 0:
        cap_pool = max(256, 4 * cap_dfa)
    if cap_bucket <= 0:
        cap_bucket = max(1024, 4 * n_cols, n_edges)
    important = np.empty(n, np.bool_)
    clo_start = np.empty(n, np.int64)
    clo_len = np.empty(n, np.int64)
    cmark = np.empty(n, np.int64)
    stack = np.empty(n + 1, np.int32)
    umark = np.empty(n, np.int64)
    union_buf = np.empty(n, np.int32)
    cnt = np.empty(n_cols + 1, np.int64)
    fill = np.empty(n_cols + 1, np.int64)
    col_stamp = np.empty(n_cols + 1, np.int64)
    touched = np.empty(n_cols + 1, np.int64)
    ct_size = _pow2_at_least(2 * n_cols + 2)
    ct_stamp = np.empty(ct_size, np.int64)
    ct_lo = np.empty(ct_size, np.int64)
    ct_hi = np.empty(ct_size, np.int64)
    ct_id = np.empty(ct_size, np.int64)
    edge_a = np.empty(max(n_edges, 1), np.int64)
    edge_b = np.empty(max(n_edges, 1), np.int64)
    edge_t = np.empty(max(n_edges, 1), np.int32)
    out = np.zeros(1, np.int64)
    while True:
        clo_pool = np.empty(cap_clo, np.int32)
        ds_start = np.empty(cap_dfa, np.int64)
        ds_len = np.empty(cap_dfa, np.int64)
        ds_pool = np.empty(cap_pool, np.int32)
        table = np.empty(_pow2_at_least(2 * cap_dfa + 2), np.int64)
        trans = np.empty(cap_dfa * n_cols, np.int32)
        accept = np.empty(cap_dfa, np.bool_)
        bucket = np.empty(cap_bucket, np.int32)
        status = _run(n_nfa, start, final, eps_ptr, eps_to, be_ptr, be_lo, be_hi, be_to, le_ptr, le_lab, le_to,
                      byte_class, n_bc, n_labels, max_states,
                      important, clo_start, clo_len, clo_pool, cmark, stack, umark, union_buf,
                      ds_start, ds_len, ds_pool, table, trans, accept,
                      cnt, fill, col_stamp, touched, ct_stamp, ct_lo, ct_hi, ct_id, bucket, edge_a, edge_b, edge_t,
                      out)
        if status == _OK:
            n_dfa = out[0]
            return 0, trans[:n_dfa * n_cols].copy(), accept[:n_dfa].copy(), n_dfa, byte_class, n_bc
        if status == LIMIT_EXCEEDED:
            return LIMIT_EXCEEDED, trans[:0].copy(), accept[:0].copy(), 0, byte_class, n_bc
        if status == _NEED_DFA:
            cap_dfa = min(max_states, 2 * cap_dfa)
            cap_pool = max(cap_pool, 4 * cap_dfa)
        elif status == _NEED_CLOSURE:
            cap_clo *= 2
        elif status == _NEED_POOL:
            cap_pool *= 2
        else:
            cap_bucket *= 2


def subset_construction(n_nfa, start, final, eps_ptr, eps_to, be_ptr, be_lo, be_hi, be_to,
                        le_ptr, le_lab, le_to, n_labels, max_states, initial_capacity=None):
    """Returns (status, trans int32[n_dfa * n_cols] row-major, accept bool[n_dfa], n_dfa,
    byte_class int32[256], n_bc). status = LIMIT_EXCEEDED when more than ``max_states`` DFA
    states would be needed.

    ``initial_capacity`` (tests only): ``(dfa states, closure pool, member pool, bucket)`` to
    start from instead of the sizes guessed from the NFA."""
    caps = (0, 0, 0, 0) if initial_capacity is None else tuple(max(1, int(c)) for c in initial_capacity)
    status, trans, accept, n_dfa, byte_class, n_bc = _driver(
        int(n_nfa), int(start), int(final), eps_ptr, eps_to, be_ptr, be_lo, be_hi, be_to, le_ptr, le_lab, le_to,
        int(n_labels), int(max_states), *caps)
    return int(status), trans, accept, int(n_dfa), byte_class, int(n_bc)
