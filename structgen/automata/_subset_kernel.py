"""Numba kernel: subset construction over byte classes and extra labels.

Input: an NFA in CSR form (ε-edges, byte-range edges, label edges, grouped by source state).
Output: the DFA of *important* state sets (NFA states with byte/label out-edges, or the final
state), over byte classes (maximal byte intervals on which every byte edge is constant) followed
by the labels. Numbering is discovery order (start = 0); the caller trims, minimizes and
canonicalizes.
"""
from __future__ import annotations

import numpy as np
from numba import njit

LIMIT_EXCEEDED = -1


@njit(cache=True, nogil=True)
def _grow_i32(arr, need):
    if need <= arr.shape[0]:
        return arr
    cap = max(need, 2 * arr.shape[0], 16)
    out = np.empty(cap, np.int32)
    out[:arr.shape[0]] = arr
    return out


@njit(cache=True, nogil=True)
def _set_hash(buf, n):
    h = np.uint64(1469598103934665603)
    for i in range(n):
        h ^= np.uint64(buf[i]) + np.uint64(0x9E3779B97F4A7C15)
        h *= np.uint64(1099511628211)
    return h


@njit(cache=True, nogil=True)
def _closure(t, important, eps_ptr, eps_to, cmark, cstamp, stack, tmp, clo_start, clo_len, clo_pool, clo_used):
    """Compute and store the sorted important ε-closure of NFA state ``t``; returns the pool
    (possibly reallocated) and its new fill. ``cstamp`` must be a fresh stamp for ``cmark``."""
    top = 0
    stack[top] = t
    top += 1
    cmark[t] = cstamp
    m = 0
    while top > 0:
        top -= 1
        u = stack[top]
        if important[u]:
            tmp[m] = u
            m += 1
        for e in range(eps_ptr[u], eps_ptr[u + 1]):
            v = eps_to[e]
            if cmark[v] != cstamp:
                cmark[v] = cstamp
                stack[top] = v
                top += 1
    tmp[:m].sort()
    clo_pool = _grow_i32(clo_pool, clo_used + m)
    clo_pool[clo_used:clo_used + m] = tmp[:m]
    clo_start[t] = clo_used
    clo_len[t] = m
    return clo_pool, clo_used + m


@njit(cache=True, nogil=True)
def _grow_edges(edge_a, edge_b, edge_t, n):
    cap = 2 * edge_a.shape[0]
    na = np.empty(cap, np.int64)
    na[:n] = edge_a[:n]
    nb = np.empty(cap, np.int64)
    nb[:n] = edge_b[:n]
    nt = np.empty(cap, np.int32)
    nt[:n] = edge_t[:n]
    return na, nb, nt


@njit(cache=True, nogil=True)
def subset_construction(n_nfa, start, final, eps_ptr, eps_to, be_ptr, be_lo, be_hi, be_to,
                        le_ptr, le_lab, le_to, n_labels, max_states):
    """Returns (status, trans int32[n_dfa * n_cols] row-major, accept bool[n_dfa], n_dfa,
    byte_class int32[256], n_bc). status = LIMIT_EXCEEDED when more than ``max_states`` DFA
    states would be needed."""
    # ---- byte classes
    cut = np.zeros(257, np.bool_)
    cut[0] = True
    cut[256] = True
    for e in range(be_lo.shape[0]):
        cut[be_lo[e]] = True
        cut[be_hi[e] + 1] = True
    byte_class = np.empty(256, np.int32)
    c = -1
    for b in range(256):
        if cut[b]:
            c += 1
        byte_class[b] = c
    n_bc = c + 1
    n_cols = n_bc + n_labels
    important = np.zeros(n_nfa, np.bool_)
    for s in range(n_nfa):
        if be_ptr[s + 1] > be_ptr[s] or le_ptr[s + 1] > le_ptr[s] or s == final:
            important[s] = True
    # ---- lazily computed ε-closures (sorted important states) in a pool
    clo_start = np.full(n_nfa, -1, np.int64)
    clo_len = np.zeros(n_nfa, np.int64)
    clo_pool = np.empty(max(16, n_nfa), np.int32)
    clo_used = 0
    cmark = np.zeros(n_nfa, np.int64)
    cstamp = 0
    stack = np.empty(max(1, n_nfa), np.int32)
    tmp = np.empty(max(1, n_nfa), np.int32)
    # ---- DFA states: pool of sorted member arrays + open-addressing hash table
    ds_start = np.empty(64, np.int64)
    ds_len = np.empty(64, np.int64)
    ds_pool = np.empty(256, np.int32)
    ds_used = 0
    table_size = 1024
    table = np.full(table_size, -1, np.int64)
    trans = np.empty(64 * n_cols, np.int32)
    accept = np.zeros(64, np.bool_)
    # ---- scratch
    umark = np.zeros(n_nfa, np.int64)
    ustamp = 0
    union_buf = np.empty(max(1, n_nfa), np.int32)
    cnt = np.zeros(n_cols + 1, np.int64)
    fill = np.zeros(n_cols, np.int64)
    # per DFA state: distinct column target lists seen so far (open addressing, stamped by state)
    ct_size = 16
    while ct_size < 2 * n_cols + 2:
        ct_size *= 2
    ct_mask = ct_size - 1
    ct_stamp = np.zeros(ct_size, np.int64)
    ct_lo = np.zeros(ct_size, np.int64)
    ct_hi = np.zeros(ct_size, np.int64)
    ct_id = np.zeros(ct_size, np.int64)
    bucket = np.empty(16, np.int32)
    edge_a = np.empty(16, np.int64)
    edge_b = np.empty(16, np.int64)
    edge_t = np.empty(16, np.int32)

    # the start DFA state = closure(start)
    cstamp += 1
    clo_pool, clo_used = _closure(start, important, eps_ptr, eps_to, cmark, cstamp, stack, tmp,
                                  clo_start, clo_len, clo_pool, clo_used)
    m = clo_len[start]
    ds_pool = _grow_i32(ds_pool, m)
    ds_pool[:m] = clo_pool[clo_start[start]:clo_start[start] + m]
    ds_start[0] = 0
    ds_len[0] = m
    ds_used = m
    table[np.int64(_set_hash(ds_pool, m) & np.uint64(table_size - 1))] = 0
    n_dfa = 1

    i = 0
    while i < n_dfa:
        base = ds_start[i]
        size = ds_len[i]
        # ---- gather member edges as column ranges [a, b)
        n_edges = 0
        is_acc = False
        for j in range(size):
            s = ds_pool[base + j]
            if s == final:
                is_acc = True
            for e in range(be_ptr[s], be_ptr[s + 1]):
                if n_edges >= edge_a.shape[0]:
                    edge_a, edge_b, edge_t = _grow_edges(edge_a, edge_b, edge_t, n_edges)
                edge_a[n_edges] = byte_class[be_lo[e]]
                edge_b[n_edges] = byte_class[be_hi[e]] + 1
                edge_t[n_edges] = be_to[e]
                n_edges += 1
            for e in range(le_ptr[s], le_ptr[s + 1]):
                if n_edges >= edge_a.shape[0]:
                    edge_a, edge_b, edge_t = _grow_edges(edge_a, edge_b, edge_t, n_edges)
                col = n_bc + le_lab[e]
                edge_a[n_edges] = col
                edge_b[n_edges] = col + 1
                edge_t[n_edges] = le_to[e]
                n_edges += 1
        accept[i] = is_acc
        # ---- bucket the targets per column (counting sort)
        for k in range(n_cols + 1):
            cnt[k] = 0
        total = 0
        for e in range(n_edges):
            for col in range(edge_a[e], edge_b[e]):
                cnt[col + 1] += 1
                total += 1
        for k in range(n_cols):
            cnt[k + 1] += cnt[k]
        bucket = _grow_i32(bucket, total)
        fill[:] = cnt[:n_cols]
        for e in range(n_edges):
            t = edge_t[e]
            for col in range(edge_a[e], edge_b[e]):
                bucket[fill[col]] = t
                fill[col] += 1
        row = i * n_cols
        stamp = i + 1
        for col in range(n_cols):
            lo = cnt[col]
            hi = cnt[col + 1]
            if hi == lo:
                trans[row + col] = -1
                continue
            # the same target list as an earlier column of this state gives the same DFA state
            lh = np.int64(_set_hash(bucket[lo:hi], hi - lo) & np.uint64(ct_mask))
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
                    clo_pool, clo_used = _closure(t, important, eps_ptr, eps_to, cmark, cstamp, stack, tmp,
                                                  clo_start, clo_len, clo_pool, clo_used)
                cs = clo_start[t]
                for r in range(clo_len[t]):
                    x = clo_pool[cs + r]
                    if umark[x] != ustamp:
                        umark[x] = ustamp
                        union_buf[m] = x
                        m += 1
            key = union_buf[:m]
            key.sort()  # in place: no allocation per transition
            slot = np.int64(_set_hash(key, m) & np.uint64(table_size - 1))
            found = -1
            while True:
                d = table[slot]
                if d < 0:
                    break
                if ds_len[d] == m:
                    eq = True
                    b0 = ds_start[d]
                    for r in range(m):
                        if ds_pool[b0 + r] != key[r]:
                            eq = False
                            break
                    if eq:
                        found = d
                        break
                slot = (slot + 1) & (table_size - 1)
            if found < 0:
                if n_dfa >= max_states:
                    return LIMIT_EXCEEDED, trans[:0], accept[:0], 0, byte_class, n_bc
                found = n_dfa
                if n_dfa >= ds_start.shape[0]:
                    cap = 2 * ds_start.shape[0]
                    ns = np.empty(cap, np.int64)
                    ns[:n_dfa] = ds_start[:n_dfa]
                    ds_start = ns
                    nl = np.empty(cap, np.int64)
                    nl[:n_dfa] = ds_len[:n_dfa]
                    ds_len = nl
                    na = np.zeros(cap, np.bool_)
                    na[:n_dfa] = accept[:n_dfa]
                    accept = na
                    nt = np.empty(cap * n_cols, np.int32)
                    nt[:n_dfa * n_cols] = trans[:n_dfa * n_cols]
                    trans = nt
                ds_pool = _grow_i32(ds_pool, ds_used + m)
                ds_pool[ds_used:ds_used + m] = key
                ds_start[n_dfa] = ds_used
                ds_len[n_dfa] = m
                ds_used += m
                table[slot] = n_dfa
                n_dfa += 1
                if 2 * n_dfa > table_size:  # rehash
                    table_size *= 2
                    table = np.full(table_size, -1, np.int64)
                    for d in range(n_dfa):
                        sl = np.int64(_set_hash(ds_pool[ds_start[d]:ds_start[d] + ds_len[d]], ds_len[d])
                                      & np.uint64(table_size - 1))
                        while table[sl] >= 0:
                            sl = (sl + 1) & (table_size - 1)
                        table[sl] = d
            trans[row + col] = found
            ct_stamp[lh] = stamp
            ct_lo[lh] = lo
            ct_hi[lh] = hi
            ct_id[lh] = found
        i += 1
    return 0, trans[:n_dfa * n_cols], accept[:n_dfa], n_dfa, byte_class, n_bc
