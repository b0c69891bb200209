"""Numba kernels for DFA post-processing (trim, minimize, canonical numbering, path queries).

All take a transition table ``trans[n, k]`` (int32, ``-1`` = no transition) whose columns are the
labels (byte classes and, for grammar rules, call labels); the start state is 0.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def trim_mask(trans, accept, allowed_cols):
    """States reachable from state 0 and co-reachable to an accepting state, using only
    transitions in columns where ``allowed_cols`` is True. Returns bool[n]."""
    n, k = trans.shape
    keep = np.zeros(n, np.bool_)
    if n == 0:
        return keep
    # forward reachability
    fwd = np.zeros(n, np.bool_)
    stack = np.empty(n, np.int64)
    top = 0
    fwd[0] = True
    stack[top] = 0
    top += 1
    m = 0
    while top > 0:
        top -= 1
        s = stack[top]
        for c in range(k):
            t = trans[s, c]
            if t >= 0 and allowed_cols[c]:
                m += 1
                if not fwd[t]:
                    fwd[t] = True
                    stack[top] = t
                    top += 1
    # reverse CSR over reachable states
    indeg = np.zeros(n + 1, np.int64)
    for s in range(n):
        if fwd[s]:
            for c in range(k):
                t = trans[s, c]
                if t >= 0 and allowed_cols[c]:
                    indeg[t + 1] += 1
    for i in range(n):
        indeg[i + 1] += indeg[i]
    src = np.empty(indeg[n], np.int64)
    fill = indeg[:n].copy()
    for s in range(n):
        if fwd[s]:
            for c in range(k):
                t = trans[s, c]
                if t >= 0 and allowed_cols[c]:
                    src[fill[t]] = s
                    fill[t] += 1
    top = 0
    for s in range(n):
        if fwd[s] and accept[s]:
            keep[s] = True
            stack[top] = s
            top += 1
    while top > 0:
        top -= 1
        t = stack[top]
        for i in range(indeg[t], indeg[t + 1]):
            s = src[i]
            if not keep[s]:
                keep[s] = True
                stack[top] = s
                top += 1
    return keep


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _mark(e, E, L, S, F, M, W, w):
    """Refinable partition: move element ``e`` into the marked prefix of its set."""
    s = S[e]
    i = L[e]
    j = F[s] + M[s]
    E[i] = E[j]
    L[E[i]] = i
    E[j] = e
    L[e] = j
    if M[s] == 0:
        W[w] = s
        w += 1
    M[s] += 1
    return w


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _split(E, S, F, P, M, W, w, z):
    """Refinable partition: split every touched set into marked / unmarked parts; the smaller
    part becomes the new set ``z``. Returns the new number of sets."""
    while w > 0:
        w -= 1
        s = W[w]
        j = F[s] + M[s]
        if j == P[s]:
            M[s] = 0
            continue
        if M[s] <= P[s] - j:
            F[z] = F[s]
            P[z] = j
            F[s] = j
        else:
            P[z] = P[s]
            F[z] = j
            P[s] = j
        for i in range(F[z], P[z]):
            S[E[i]] = z
        M[s] = 0
        M[z] = 0
        z += 1
    return z


@njit(cache=True, nogil=True)
def minimize_blocks(trans, accept):
    """Myhill-Nerode classes of a *trimmed* partial DFA (every state reachable and live).

    Valmari & Lehtinen's O(m log n) partition refinement for partial transition functions
    (blocks of states and "cords" of same-label transitions refine each other).
    Returns (block int32[n], number of blocks).
    """
    n, k = trans.shape
    block = np.zeros(n, np.int32)
    if n == 0:
        return block, 0
    # transitions (tail, label, head), ordered by label
    m = 0
    for s in range(n):
        for c in range(k):
            if trans[s, c] >= 0:
                m += 1
    tails = np.empty(m, np.int64)
    heads = np.empty(m, np.int64)
    labels = np.empty(m, np.int64)
    t = 0
    for c in range(k):
        for s in range(n):
            h = trans[s, c]
            if h >= 0:
                tails[t] = s
                heads[t] = h
                labels[t] = c
                t += 1
    # block partition over states
    BE = np.arange(n)
    BL = np.arange(n)
    BS = np.zeros(n, np.int64)
    BF = np.zeros(n + 1, np.int64)
    BP = np.zeros(n + 1, np.int64)
    BM = np.zeros(n + 1, np.int64)
    BW = np.empty(n + 1, np.int64)
    BP[0] = n
    zb = 1
    w = 0
    for q in range(n):
        if accept[q]:
            w = _mark(q, BE, BL, BS, BF, BM, BW, w)
    zb = _split(BE, BS, BF, BP, BM, BW, w, zb)
    # cord partition over transitions: initially one cord per label
    CE = np.arange(m)
    CL = np.arange(m)
    CS = np.zeros(m, np.int64)
    CF = np.zeros(m + 1, np.int64)
    CP = np.zeros(m + 1, np.int64)
    CM = np.zeros(m + 1, np.int64)
    CW = np.empty(m + 1, np.int64)
    zc = 0
    if m > 0:
        a = labels[0]
        CF[0] = 0
        for i in range(m):
            if labels[i] != a:
                a = labels[i]
                CP[zc] = i
                zc += 1
                CF[zc] = i
            CS[i] = zc
        CP[zc] = m
        zc += 1
    # incoming transitions per state (CSR by head)
    inc_ptr = np.zeros(n + 1, np.int64)
    for i in range(m):
        inc_ptr[heads[i] + 1] += 1
    for q in range(n):
        inc_ptr[q + 1] += inc_ptr[q]
    inc = np.empty(m, np.int64)
    fill = inc_ptr[:n].copy()
    for i in range(m):
        inc[fill[heads[i]]] = i
        fill[heads[i]] += 1
    zb = _refine(tails, inc_ptr, inc, BE, BL, BS, BF, BP, BM, BW, CE, CL, CS, CF, CP, CM, CW, zb, zc)
    for q in range(n):
        block[q] = BS[q]
    return block, zb


@njit(cache=True, nogil=True, _nrt=False)
def _refine(tails, inc_ptr, inc, BE, BL, BS, BF, BP, BM, BW, CE, CL, CS, CF, CP, CM, CW, zb, zc):
    """The refinement loop of :func:`minimize_blocks` (no allocation: no reference counting)."""
    b = 1
    c = 0
    while c < zc:
        w = 0
        for i in range(CF[c], CP[c]):
            w = _mark(tails[CE[i]], BE, BL, BS, BF, BM, BW, w)
        zb = _split(BE, BS, BF, BP, BM, BW, w, zb)
        c += 1
        while b < zb:
            w = 0
            for i in range(BF[b], BP[b]):
                q = BE[i]
                for j in range(inc_ptr[q], inc_ptr[q + 1]):
                    w = _mark(inc[j], CE, CL, CS, CF, CM, CW, w)
            zc = _split(CE, CS, CF, CP, CM, CW, w, zc)
            b += 1
    return zb


@njit(cache=True, nogil=True)
def quotient(trans, accept, block, n_blocks):
    """The DFA over blocks (one representative per block)."""
    n, k = trans.shape
    out = np.full((n_blocks, k), -1, np.int32)
    acc = np.zeros(n_blocks, np.bool_)
    seen = np.zeros(n_blocks, np.bool_)
    for s in range(n):
        bl = block[s]
        if not seen[bl]:
            seen[bl] = True
            acc[bl] = accept[s]
            for c in range(k):
                t = trans[s, c]
                if t >= 0:
                    out[bl, c] = block[t]
    return out, acc


@njit(cache=True, nogil=True)
def bfs_order(trans, start, col_order):
    """Canonical numbering: BFS from ``start``, visiting columns in ``col_order``.
    Returns new_id int32[n] (-1 for states not reached)."""
    n, k = trans.shape
    new_id = np.full(n, -1, np.int32)
    queue = np.empty(n, np.int64)
    if n == 0:
        return new_id
    new_id[start] = 0
    queue[0] = start
    head = 0
    tail = 1
    while head < tail:
        s = queue[head]
        head += 1
        for ci in range(col_order.shape[0]):
            t = trans[s, col_order[ci]]
            if t >= 0 and new_id[t] < 0:
                new_id[t] = tail
                queue[tail] = t
                tail += 1
    return new_id


@njit(cache=True, nogil=True)
def reaches_accept(trans, accept, allowed_cols):
    """Whether some path from state 0 using only ``allowed_cols`` columns reaches acceptance."""
    n, k = trans.shape
    if n == 0:
        return False
    seen = np.zeros(n, np.bool_)
    stack = np.empty(n, np.int64)
    seen[0] = True
    stack[0] = 0
    top = 1
    while top > 0:
        top -= 1
        s = stack[top]
        if accept[s]:
            return True
        for c in range(k):
            if allowed_cols[c]:
                t = trans[s, c]
                if t >= 0 and not seen[t]:
                    seen[t] = True
                    stack[top] = t
                    top += 1
    return False


@njit(cache=True, nogil=True)
def trim_and_minimize(trans, accept, allowed_cols):
    """Drop disallowed columns, trim (reachable ∧ live) and minimize. The start state stays 0
    (numbering otherwise arbitrary). A dead start gives 0 states."""
    n, k = trans.shape
    keep = trim_mask(trans, accept, allowed_cols)
    if n == 0 or not keep[0]:
        return np.full((0, k), -1, np.int32), np.zeros(0, np.bool_)
    new_id = np.full(n, -1, np.int64)
    m = 0
    for s in range(n):
        if keep[s]:
            new_id[s] = m
            m += 1
    sub = np.full((m, k), -1, np.int32)
    acc = np.zeros(m, np.bool_)
    for s in range(n):
        i = new_id[s]
        if i >= 0:
            acc[i] = accept[s]
            for c in range(k):
                t = trans[s, c]
                if t >= 0 and allowed_cols[c] and new_id[t] >= 0:
                    sub[i, c] = new_id[t]
    if m <= 1:
        return sub, acc
    block, nb = minimize_blocks(sub, acc)
    if nb == m:
        return sub, acc
    # renumber blocks so that the start's block is 0
    b0 = block[0]
    for s in range(m):
        if block[s] == b0:
            block[s] = 0
        elif block[s] == 0:
            block[s] = b0
    return quotient(sub, acc, block, nb)


@njit(cache=True, nogil=True)
def canonical_form(trans, accept, byte_class, n_byte_classes, label_order):
    """Canonical numbering (BFS from 0; byte classes in byte order, then labels in
    ``label_order``) of a minimized DFA. Returns (byte_table int32[n,256], accept[n],
    label_trans int32[n, n_labels] in original label columns, call_state, call_label,
    call_target): call edges ordered by state, then by position in ``label_order``."""
    n, k = trans.shape
    nl = k - n_byte_classes
    cols = np.empty(k, np.int64)
    for c in range(n_byte_classes):
        cols[c] = c
    for i in range(nl):
        cols[n_byte_classes + i] = n_byte_classes + label_order[i]
    new_id = bfs_order(trans, 0, cols)
    m = 0
    for s in range(n):
        if new_id[s] >= 0:
            m += 1
    inv = np.empty(m, np.int64)
    for s in range(n):
        if new_id[s] >= 0:
            inv[new_id[s]] = s
    bt = np.full((m, 256), -1, np.int32)
    acc = np.zeros(m, np.bool_)
    lt = np.full((m, nl), -1, np.int32)
    n_calls = 0
    for i in range(m):
        s = inv[i]
        acc[i] = accept[s]
        for b in range(256):
            t = trans[s, byte_class[b]]
            if t >= 0:
                bt[i, b] = new_id[t]
        for j in range(nl):
            t = trans[s, n_byte_classes + j]
            if t >= 0:
                lt[i, j] = new_id[t]
                n_calls += 1
    cs = np.empty(n_calls, np.int32)
    cl = np.empty(n_calls, np.int32)
    ct = np.empty(n_calls, np.int32)
    e = 0
    for i in range(m):
        for r in range(nl):
            j = label_order[r]
            if lt[i, j] >= 0:
                cs[e] = i
                cl[e] = j
                ct[e] = lt[i, j]
                e += 1
    return bt, acc, lt, cs, cl, ct


@njit(cache=True, nogil=True)
def column_classes(trans, n_cols):
    """Group the first ``n_cols`` columns of ``trans`` by equal content. Returns
    (new_of_old int32[n_cols], first int64[n_new], n_new): classes numbered in order of their
    first column, ``first[c]`` the first column of class ``c``."""
    n = trans.shape[0]
    new_of_old = np.empty(n_cols, np.int32)
    first = np.empty(n_cols, np.int64)
    hashes = np.empty(n_cols, np.uint64)
    for c in range(n_cols):
        hashes[c] = np.uint64(1469598103934665603)
    for s in range(n):  # row by row: the table is row-major
        for c in range(n_cols):
            hashes[c] = (hashes[c] ^ np.uint64(trans[s, c] + 1)) * np.uint64(1099511628211)
    n_new = 0
    for c in range(n_cols):
        found = -1
        for d in range(n_new):  # few classes; compare hashes first, then the columns
            f = first[d]
            if hashes[f] == hashes[c]:
                same = True
                for s in range(n):
                    if trans[s, f] != trans[s, c]:
                        same = False
                        break
                if same:
                    found = d
                    break
        if found < 0:
            found = n_new
            first[n_new] = c
            n_new += 1
        new_of_old[c] = found
    return new_of_old, first[:n_new].copy(), n_new


@njit(cache=True, nogil=True, _nrt=False)
def add_row_offsets(trans, offset):
    """In place: ``trans[s, c] += offset[s]`` wherever ``trans[s, c] >= 0`` (local state ids to
    global ones when rule tables are stacked)."""
    n, k = trans.shape
    for s in range(n):
        off = offset[s]
        for c in range(k):
            if trans[s, c] >= 0:
                trans[s, c] += off
