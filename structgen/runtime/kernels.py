"""Numba kernels of the runtime: an Earley chart over rule automata, trie walks, mask fills.

These functions hold no Python objects: every argument is a numpy array or a scalar, so they
run with the GIL released (``nogil=True``) and are compiled once to the numba cache.

Data layout (see ``structgen/runtime/chart.py`` for the owning class):

- Grammar ``g``: tuple ``(trans, accept, state_rule, call_ptr, call_rule, call_target,
  rule_start, nullable)`` from :class:`~structgen.cfg.automaton.GrammarAutomaton`.
- Chart ``c``: tuple ``(items_s, items_o, set_ptr, meta, ht_key, ht_stamp)``.
  Set ``k`` holds items ``[set_ptr[k], set_ptr[k+1])``; ``meta = [n_sets, n_items, stamp, status]``
  and ``set_ptr[n_sets] == n_items`` always. Set 0 is the virtual empty set (the root item's
  origin), set ``k`` the items after ``k - 1`` bytes. ``ht_*`` is an open-addressing hash set
  used to deduplicate the items of the set under construction (entries are valid only when
  their stamp equals ``meta[2]``).
- Trie ``t``: tuple ``(byte, depth, subtree_end, tok_ptr, token_ids)`` of
  :class:`~structgen.vocab.TokenTrie` (preorder nodes, node 0 the root).

A kernel that runs out of capacity sets ``meta[3]`` to an ``OVERFLOW_*`` code, leaves the chart
truncated to where it started, and returns; the caller grows the arrays and calls again.
"""
from __future__ import annotations

import numpy as np
from numba import njit

STATUS_OK = 0
OVERFLOW_ITEMS = 1
OVERFLOW_HASH = 2
OVERFLOW_SETS = 3
OVERFLOW_ENTRIES = 4

@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _slot(s, o, mask):
    # int64-only arithmetic: mixing uint64 and int64 makes numba go through float64.
    return ((np.int64(s) * np.int64(0x9E3779B1)) ^ (np.int64(o) * np.int64(0x85EBCA77))) >> np.int64(7) & mask


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _add(s, o, c):
    """Add item (s, o) to the set under construction. 1 added, 0 present, -1 overflow."""
    items_s, items_o, set_ptr, meta, ht_key, ht_stamp = c
    n = meta[1]
    stamp = meta[2]
    hmask = ht_key.shape[0] - 1
    key = (np.int64(s) << 32) | np.int64(o)
    h = _slot(s, o, hmask)
    while ht_stamp[h] == stamp:
        if ht_key[h] == key:
            return 0
        h = (h + 1) & hmask
    if n >= items_s.shape[0]:
        meta[3] = OVERFLOW_ITEMS
        return -1
    if (n - set_ptr[meta[0] - 1] + 1) * 2 > ht_key.shape[0]:
        meta[3] = OVERFLOW_HASH
        return -1
    ht_stamp[h] = stamp
    ht_key[h] = key
    items_s[n] = s
    items_o[n] = o
    meta[1] = n + 1
    return 1


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _close(g, c, k):
    """Predict/complete the set ``k`` (the last set) to closure. False on overflow."""
    trans, accept, state_rule, call_ptr, call_rule, call_target, rule_start, nullable = g
    items_s, items_o, set_ptr, meta, ht_key, ht_stamp = c
    j = set_ptr[k]
    while j < meta[1]:
        s = items_s[j]
        o = items_o[j]
        j += 1
        for e in range(call_ptr[s], call_ptr[s + 1]):
            callee = call_rule[e]
            if _add(rule_start[callee], k, c) < 0:
                return False
            if nullable[callee]:
                if _add(call_target[e], o, c) < 0:
                    return False
        if accept[s] and o < k:
            rule = state_rule[s]
            for jj in range(set_ptr[o], set_ptr[o + 1]):
                s2 = items_s[jj]
                for e in range(call_ptr[s2], call_ptr[s2 + 1]):
                    if call_rule[e] == rule:
                        if _add(call_target[e], items_o[jj], c) < 0:
                            return False
    return True


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _begin_set(c):
    """Open a new (empty) set after the last one. False on overflow."""
    items_s, items_o, set_ptr, meta, ht_key, ht_stamp = c
    k = meta[0]
    if k + 1 >= set_ptr.shape[0]:
        meta[3] = OVERFLOW_SETS
        return False
    set_ptr[k] = meta[1]
    meta[0] = k + 1
    meta[2] += 1
    return True


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def truncate(c, n_sets):
    """Drop every set from index ``n_sets`` on."""
    items_s, items_o, set_ptr, meta, ht_key, ht_stamp = c
    meta[0] = n_sets
    meta[1] = set_ptr[n_sets]


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _finish_set(c):
    """Close the last set's bookkeeping; pop it and return 0 when it is empty."""
    items_s, items_o, set_ptr, meta, ht_key, ht_stamp = c
    k = meta[0] - 1
    cnt = meta[1] - set_ptr[k]
    if cnt == 0:
        meta[0] = k
        return 0
    set_ptr[k + 1] = meta[1]
    return cnt


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _seal_set(g, c, k):
    """Finish set ``k`` after its kernel items were added: pop it if empty (0), else close it
    (-1 on overflow, chart truncated before ``k``) and return its size."""
    set_ptr, meta = c[2], c[3]
    if meta[1] == set_ptr[k]:
        meta[0] = k
        return 0
    if not _close(g, c, k):
        truncate(c, k)
        return -1
    return _finish_set(c)


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def scan_byte(g, c, b):
    """Append the set after byte ``b``. Returns its size (0: dead, chart unchanged; -1: overflow)."""
    trans = g[0]
    items_s, items_o, set_ptr, meta, ht_key, ht_stamp = c
    prev = meta[0] - 1
    start = set_ptr[prev]
    end = set_ptr[prev + 1]
    if not _begin_set(c):
        return -1
    k = prev + 1
    for j in range(start, end):
        t = trans[items_s[j], b]
        if t >= 0:
            if _add(t, items_o[j], c) < 0:
                truncate(c, k)
                return -1
    return _seal_set(g, c, k)


@njit(cache=True, nogil=True, _nrt=False)
def scan_bytes(g, c, data, lo, hi):
    """Scan ``data[lo:hi]``. Returns 1 if all were accepted, 0 if one died, -1 on overflow.

    On 0 or -1 the chart is truncated back to where it was.
    """
    meta = c[3]
    n0 = meta[0]
    for i in range(lo, hi):
        r = scan_byte(g, c, data[i])
        if r <= 0:
            truncate(c, n0)
            return r
    return 1


@njit(cache=True, nogil=True, _nrt=False)
def init_chart(g, c, start_state):
    """Reset the chart to: virtual empty set 0, set 1 = closure of the root item (start_state, 0)."""
    items_s, items_o, set_ptr, meta, ht_key, ht_stamp = c
    meta[0] = 1
    meta[1] = 0
    set_ptr[0] = 0
    set_ptr[1] = 0
    meta[3] = STATUS_OK
    if not _begin_set(c):
        return False
    if _add(start_state, 0, c) < 0:
        return False
    if not _close(g, c, 1):
        return False
    _finish_set(c)
    return True


@njit(cache=True, nogil=True, _nrt=False)
def keep_root_items(c):
    """Drop the last set's predicted items (origin > 0), keeping the root rule's own items.

    Used for *restricted* row walks: tokens whose first byte belongs to a predicted rule are
    accounted for by that rule's own cached row instead (see ``masks.py``).
    """
    items_s, items_o, set_ptr, meta, ht_key, ht_stamp = c
    k = meta[0] - 1
    w = set_ptr[k]
    for j in range(set_ptr[k], set_ptr[k + 1]):
        if items_o[j] == 0:
            items_s[w] = items_s[j]
            items_o[w] = items_o[j]
            w += 1
    meta[1] = w
    set_ptr[k + 1] = w
    meta[2] += 1  # invalidate the dedup table of the rewritten set


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def can_stop(g, c):
    """The root item can complete in the last set (the input so far is a complete member)."""
    accept = g[1]
    items_s, items_o, set_ptr, meta, ht_key, ht_stamp = c
    k = meta[0] - 1
    for j in range(set_ptr[k], set_ptr[k + 1]):
        if items_o[j] == 0 and accept[items_s[j]]:
            return True
    return False


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _set_range_bits(out, token_ids, lo, hi):
    """Set the bits of ``token_ids[lo:hi]`` in the packed row ``out``."""
    for q in range(lo, hi):
        tid = token_ids[q]
        out[tid >> 5] |= np.uint32(1) << np.uint32(tid & 31)


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _set_token_bits(out, tok_ptr, token_ids, node):
    _set_range_bits(out, token_ids, tok_ptr[node], tok_ptr[node + 1])


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _child_follows(tr, n, follow_row):
    byte, depth, subtree_end = tr[0], tr[1], tr[2]
    child = n + 1
    end = subtree_end[n]
    while child < end:
        if follow_row[byte[child]]:
            return True
        child = subtree_end[child]
    return False


@njit(cache=True, nogil=True, _nrt=False)
def walk_trie(g, c, tr, lo, hi, base_depth, out, entries, depth_set, follow_row):
    """Walk trie nodes ``[lo, hi)`` (all deeper than ``base_depth``) from the chart's last set.

    Sets the bit of every token whose bytes keep the chart alive. When ``entries`` has room
    (``entries.shape[0] > 0``), also records nodes where the root item can complete *and* some
    child's byte is in ``follow_row`` (bool[256]: bytes that can follow the root's rule) — the
    context-dependent split points, see ``masks.py``; returns their count, or -1 on overflow
    (``meta[3]`` says which). The chart is left as it was.
    """
    byte, depth, subtree_end, tok_ptr, token_ids = tr
    meta = c[3]
    base_set = meta[0] - 1
    depth_set[base_depth] = base_set
    n_entries = 0
    record = entries.shape[0] > 0
    n = lo
    while n < hi:
        d = depth[n]
        truncate(c, depth_set[d - 1] + 1)
        r = scan_byte(g, c, byte[n])
        if r < 0:
            truncate(c, base_set + 1)
            return -1
        if r == 0:
            n = subtree_end[n]
            continue
        _set_token_bits(out, tok_ptr, token_ids, n)
        if record and subtree_end[n] > n + 1 and can_stop(g, c) and _child_follows(tr, n, follow_row):
            if n_entries >= entries.shape[0]:
                meta[3] = OVERFLOW_ENTRIES
                truncate(c, base_set + 1)
                return -1
            entries[n_entries] = n
            n_entries += 1
        depth_set[d] = meta[0] - 1
        n += 1
    truncate(c, base_set + 1)
    return n_entries


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _dfa_walk_range(trans, accept, tr, lo, hi, out, entries, n_entries, depth_set, follow_row):
    """Walk trie nodes ``[lo, hi)`` stepping a DFA; ``depth_set[depth[lo] - 1]`` holds the state
    before ``lo``. Records split nodes into ``entries`` from ``n_entries`` on; returns the new
    count, or -1 when ``entries`` is full."""
    byte, depth, subtree_end, tok_ptr, token_ids = tr
    n = lo
    while n < hi:
        d = depth[n]
        st = trans[depth_set[d - 1], byte[n]]
        if st < 0:
            n = subtree_end[n]
            continue
        _set_token_bits(out, tok_ptr, token_ids, n)
        if accept[st] and subtree_end[n] > n + 1 and _child_follows(tr, n, follow_row):
            if n_entries >= entries.shape[0]:
                return -1
            entries[n_entries] = n
            n_entries += 1
        depth_set[d] = st
        n += 1
    return n_entries


@njit(cache=True, nogil=True, _nrt=False)
def dfa_walk(trans, accept, start, tr, out, entries, depth_set, follow_row):
    """:func:`walk_trie` for a rule without call edges: its item set is always the single item
    ``(state, root)``, so the walk steps the DFA directly (≈3× faster per trie node).

    Records split nodes exactly like :func:`walk_trie` (accepting state, a child byte in
    ``follow_row``). Returns their count, or -1 when ``entries`` is full.
    """
    depth_set[0] = start
    return _dfa_walk_range(trans, accept, tr, 1, tr[0].shape[0], out, entries, 0, depth_set, follow_row)


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _rest_children_walk(trans, accept, rest, rn, skip_cont, out, entries, n_entries, depth_set, follow_row):
    """Walk the subtrees of the children of ``rest`` node ``rn`` (skipping children on a UTF-8
    continuation byte when ``skip_cont``), recording split nodes as ``-1 - node``; returns the new
    entry count or -1 when ``entries`` is full."""
    c = rn + 1
    end = rest[2][rn]
    while c < end:
        ce = rest[2][c]
        if not (skip_cont and (rest[0][c] & 0xC0) == 0x80):
            m = _dfa_walk_range(trans, accept, rest, c, ce, out, entries, n_entries, depth_set, follow_row)
            if m < 0:
                return -1
            for q in range(n_entries, m):
                entries[q] = -1 - entries[q]
            n_entries = m
        c = ce
    return n_entries


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _loop_bytes(trans, x, loops):
    """Record in ``loops`` (``(lo, hi, known)``) the plain ASCII bytes on which state ``x`` loops."""
    lo = np.uint64(0)
    hi = np.uint64(0)
    for b in range(0x20, 0x80):
        if b != 0x22 and b != 0x5C and trans[x, b] == x:
            if b < 64:
                lo |= np.uint64(1) << np.uint64(b)
            else:
                hi |= np.uint64(1) << np.uint64(b - 64)
    loops[0][x] = lo
    loops[1][x] = hi
    loops[2][x] = 1


@njit(cache=True, nogil=True, _nrt=False)
def counter_dfa_walk(trans, accept, call_ptr, start, main, rest, rest_of_main, node_chars, tok_pf, tok_chars,
                     first_masks, first_all, first_nonascii, slice_masks, nxt, memo, chain, scratch_words, scratch_k,
                     below, loops, out, entries, depth_set, follow_row):
    """:func:`dfa_walk` that stops walking below nodes whose state is a plain counter.

    At a node ``n`` (depth ``d``) whose state has plain budget ``k >= 1`` (see ``plain_slices.py``;
    budgets memoized in ``memo`` by :func:`plain_budget`, ``cap = slice_masks.shape[0] - 1``), every
    token below ``n`` whose bytes after ``d`` are plain text (``tok_pf[q] <= d``, trie token order)
    of at most ``k`` characters (``tok_chars[q] - node_chars[n]``) is allowed without walking — at
    depth 1 on a plain ASCII byte that set is ``first_masks[b] & slice_masks[k + 1]`` — and only the
    tokens that are not plain text (the ``rest`` trie, below ``rest_of_main[n]``) are walked; children
    on a UTF-8 continuation byte (``n`` ends inside a character) are walked in full. Plain tails
    never pass an accepting state, so every split node is found by the walks. Split nodes are
    recorded in the trie they were found in: ``>= 0`` in ``main``, ``-1 - id`` in ``rest``. Returns
    their count, or -1 when ``entries`` is full. ``start`` itself is not treated as a counter.

    When many plain ASCII first bytes lead to counters of one budget ``k`` (e.g. "any key but the
    listed ones"), their plain tokens are taken at once as ``slice_masks[k + 1] & first_all`` minus
    the ``first_masks`` of the other plain ASCII bytes (``first_all``: the plain tokens starting with
    a plain ASCII byte). Likewise when every non-ASCII plain character leads to one counter of
    budget ``k``: ``slice_masks[k + 1] & first_nonascii`` (the plain tokens starting with a non-ASCII
    character), and below non-ASCII first bytes only the ``rest`` trie is walked.
    Scratch: ``scratch_words`` (uint32[words]), ``scratch_k`` (int32[256 + cap + 1]).

    A node whose (non-accepting) state loops on every byte below it (``below``: per node the
    plain ASCII bytes below as bits, and a flag for any other byte; ``loops``: per state the plain
    ASCII bytes ``c`` with ``trans[state, c] == state``, memoized, see :func:`_loop_bytes`) keeps
    all its tokens without walking (e.g. "anything without ``h``" in a pattern like ``.*hotel.*``).
    """
    byte, depth, subtree_end, tok_ptr, token_ids = main
    words = out.shape[0]
    cap = slice_masks.shape[0] - 1
    n_entries = 0
    depth_set[0] = start
    # budgets after each plain ASCII first byte; the most common one is taken as a group
    kb = scratch_k[:256]
    hist = scratch_k[256:256 + cap + 1]
    for v in range(cap + 1):
        hist[v] = 0
    for b in range(256):
        kb[b] = -1
        if b < 0x20 or b >= 0x80 or b == 0x22 or b == 0x5C:
            continue
        st = trans[start, b]
        if st < 0:
            continue
        k = memo[st]
        if k < -2:
            k = plain_budget(trans, accept, call_ptr, st, cap, nxt, memo, chain)
        if k >= 1:
            kb[b] = k
            hist[k] += 1
    kg = -1
    best = 15  # a group pays off from 16 bytes on
    for v in range(1, cap + 1):
        if hist[v] > best:
            best = hist[v]
            kg = v
    if kg > 0:
        for w in range(words):
            scratch_words[w] = 0
        for b in range(0x20, 0x80):
            if kb[b] != kg:
                fm = first_masks[b]
                for w in range(words):
                    scratch_words[w] |= fm[w]
        sm = slice_masks[min(kg + 1, cap)]
        for w in range(words):
            out[w] |= sm[w] & first_all[w] & ~scratch_words[w]
    kn = -1  # budget after any non-ASCII plain character (-1: not one counter)
    na = plain_step_nonascii(trans, accept, start, _PLAIN_NONE)
    if na >= 0:
        kn = memo[na]
        if kn < -2:
            kn = plain_budget(trans, accept, call_ptr, na, cap, nxt, memo, chain)
    if kn >= 1:
        sm = slice_masks[min(kn + 1, cap)]
        for w in range(words):
            out[w] |= sm[w] & first_nonascii[w]
    n = 1
    hi = byte.shape[0]
    while n < hi:
        d = depth[n]
        st = trans[depth_set[d - 1], byte[n]]
        if st < 0:
            n = subtree_end[n]
            continue
        _set_token_bits(out, tok_ptr, token_ids, n)
        end = subtree_end[n]
        if end > n + 1 and accept[st] and _child_follows(main, n, follow_row):
            if n_entries >= entries.shape[0]:
                return -1
            entries[n_entries] = n
            n_entries += 1
        depth_set[d] = st
        rn = rest_of_main[n]
        if d == 1 and kn >= 1 and byte[n] >= 0x80:  # plain tokens below are in ``out``: walk the rest
            if rn >= 0:
                n_entries = _rest_children_walk(trans, accept, rest, rn, False, out, entries, n_entries, depth_set,
                                                follow_row)
                if n_entries < 0:
                    return -1
            n = end
            continue
        if end == n + 1:
            n += 1
            continue
        k = memo[st]
        if k < -2:
            k = plain_budget(trans, accept, call_ptr, st, cap, nxt, memo, chain)
        if k < 1:
            if not accept[st] and below[2][n] == 0:
                if loops[2][st] == 0:
                    _loop_bytes(trans, st, loops)
                if (below[0][n] & ~loops[0][st]) == 0 and (below[1][n] & ~loops[1][st]) == 0:
                    _set_range_bits(out, token_ids, tok_ptr[n + 1], tok_ptr[end])
                    n = end
                    continue
            n += 1
            continue
        b = byte[n]
        if d == 1 and b >= 0x20 and b < 0x80 and b != 0x22 and b != 0x5C:
            if k != kg:  # (the group's plain tokens are in ``out`` already)
                fm = first_masks[b]
                sm = slice_masks[min(k + 1, cap)]
                for w in range(words):
                    out[w] |= fm[w] & sm[w]
            if rn >= 0:
                n_entries = _rest_children_walk(trans, accept, rest, rn, False, out, entries, n_entries, depth_set,
                                                follow_row)
                if n_entries < 0:
                    return -1
            n = end
            continue
        base = node_chars[n]
        c = n + 1
        while c < end:
            ce = subtree_end[c]
            if (byte[c] & 0xC0) == 0x80:  # n ends inside a character: walk this child in full
                n_entries = _dfa_walk_range(trans, accept, main, c, ce, out, entries, n_entries, depth_set,
                                            follow_row)
                if n_entries < 0:
                    return -1
            else:  # plain tails of at most k characters (of any length when k >= cap: unbounded)
                for q in range(tok_ptr[c], tok_ptr[ce]):
                    if tok_pf[q] <= d and (k >= cap or tok_chars[q] - base <= k):
                        tid = token_ids[q]
                        out[tid >> 5] |= np.uint32(1) << np.uint32(tid & 31)
            c = ce
        if rn >= 0:
            n_entries = _rest_children_walk(trans, accept, rest, rn, True, out, entries, n_entries, depth_set,
                                            follow_row)
            if n_entries < 0:
                return -1
        n = end
    return n_entries


@njit(cache=True, nogil=True, _nrt=False)
def kernel_states(g, c, out):
    """Write the distinct states of the last set's kernel items (origin < set index) into ``out``.

    Returns ``4 * count + 2 * only_root + can_stop``, or -1 when ``out`` is too small.
    ``can_stop``: the root item can complete; ``only_root``: every kernel item has origin 0, i.e.
    belongs to the root rule instance, whose completion nothing can follow (so no suffix walks).
    """
    accept = g[1]
    items_s, items_o, set_ptr, meta, ht_key, ht_stamp = c
    k = meta[0] - 1
    n = 0
    stop = 0
    only_root = 1
    for j in range(set_ptr[k], set_ptr[k + 1]):
        o = items_o[j]
        if o < k:
            s = items_s[j]
            if o == 0:
                if accept[s]:
                    stop = 1
            else:
                only_root = 0
            dup = False
            for q in range(n):
                if out[q] == s:
                    dup = True
                    break
            if not dup:
                if n >= out.shape[0]:
                    return -1
                out[n] = s
                n += 1
    return 4 * n + 2 * only_root + stop


@njit(cache=True, nogil=True, _nrt=False)
def _push_context(g, c, rule, origin):
    """Open a set holding the callers of ``rule`` (from set ``origin``) advanced past the call.

    This is the parser configuration right after ``rule`` completes inside a token, at a
    virtual position. Returns the new set's size (0: empty, popped) or -1 on overflow.
    """
    call_ptr, call_rule, call_target = g[3], g[4], g[5]
    items_s, items_o, set_ptr, meta, ht_key, ht_stamp = c
    if not _begin_set(c):
        return -1
    k = meta[0] - 1
    for jj in range(set_ptr[origin], set_ptr[origin + 1]):
        s2 = items_s[jj]
        for e in range(call_ptr[s2], call_ptr[s2 + 1]):
            if call_rule[e] == rule:
                if _add(call_target[e], items_o[jj], c) < 0:
                    truncate(c, k)
                    return -1
    return _seal_set(g, c, k)


@njit(cache=True, nogil=True, _nrt=False)
def context_walk(g, c, rule, origin, tr, out, entries, depth_set, follow_row):
    """Complete ``rule`` (started at set ``origin``) at a virtual position, then walk all of ``tr``.

    Returns the number of split nodes recorded into ``entries`` (see :func:`walk_trie`; node 0,
    the trie's root, when the root item completes right after ``rule``), or -1 on overflow. The
    chart is left as it was.
    """
    meta = c[3]
    base = meta[0]
    got = _push_context(g, c, rule, origin)
    if got <= 0:
        return got
    first = 0
    if entries.shape[0] > 0 and tr[0].shape[0] > 1 and can_stop(g, c) and _child_follows(tr, 0, follow_row):
        if entries.shape[0] < 2:
            meta[3] = OVERFLOW_ENTRIES
            truncate(c, base)
            return -1
        # the root itself completes right at the split: every suffix continues past it
        entries[0] = 0
        first = 1
    n = walk_trie(g, c, tr, 1, tr[0].shape[0], 0, out, entries[first:], depth_set, follow_row)
    truncate(c, base)
    if n < 0:
        return n
    return n + first


@njit(cache=True, nogil=True, _nrt=False)
def fill_mask(g, c, a_table, a_row, sfx, sfx_lo, sfx_hi, out, depth_set, no_entries, no_follow):
    """The allowed-token mask of the chart's last set (stop tokens excluded), OR-ed into ``out``.

    For each kernel item ``(s, o)`` (origin < set index): the context-independent row
    ``a_table[a_row[s]]`` (every state's row must already be computed), then the
    context-dependent tokens: walk the state's suffix trie (nodes ``[sfx_lo[r], sfx_hi[r])`` of
    ``sfx``, ``r = a_row[s]``) from the configuration right after ``s``'s rule completes.
    ``no_entries`` must be an empty int32 array and ``no_follow`` a bool[256] array (kernels here
    run without numba's allocator). Returns 0, or -1 on overflow.
    """
    state_rule = g[2]
    items_s, items_o, set_ptr, meta, ht_key, ht_stamp = c
    k = meta[0] - 1
    lo = set_ptr[k]
    hi = set_ptr[k + 1]
    words = out.shape[0]
    # context-independent rows, each distinct state once
    for j in range(lo, hi):
        if items_o[j] >= k:
            continue
        s = items_s[j]
        first = True
        for jj in range(lo, j):
            if items_s[jj] == s and items_o[jj] < k:
                first = False
                break
        if first:
            row = a_table[a_row[s]]
            for w in range(words):
                out[w] |= row[w]
    # context-dependent tokens: suffix tries walked after the rule completes
    for j in range(lo, hi):
        o = items_o[j]
        if o >= k or o == 0:
            continue
        s = items_s[j]
        r = a_row[s]
        root = sfx_lo[r]
        end = sfx_hi[r]
        if end <= root + 1:
            continue
        got = _push_context(g, c, state_rule[s], o)
        if got < 0:
            truncate(c, k + 1)
            return -1
        if got == 0:
            continue
        if walk_trie(g, c, sfx, root + 1, end, 0, out, no_entries, depth_set, no_follow) < 0:
            truncate(c, k + 1)
            return -1
        truncate(c, k + 1)
    return 0


@njit(cache=True, nogil=True, _nrt=False)
def next_byte_set(g, c, out):
    """Mark in ``out[256]`` every byte some item of the last set can scan. Returns their count."""
    trans = g[0]
    items_s, items_o, set_ptr, meta, ht_key, ht_stamp = c
    k = meta[0] - 1
    for b in range(256):
        out[b] = False
    n = 0
    for j in range(set_ptr[k], set_ptr[k + 1]):
        s = items_s[j]
        for b in range(256):
            if trans[s, b] >= 0 and not out[b]:
                out[b] = True
                n += 1
    return n


# --------------------------------------------------------------------------- plain-character steps
# Outcome codes of plain_step: a state >= 0 (every plain character leads there), ALL_DEAD, MIXED.
PLAIN_ALL_DEAD = -1
PLAIN_MIXED = -2
_PLAIN_NONE = -3


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _plain_merge(cur, r):
    if cur == _PLAIN_NONE or cur == r:
        return r
    return PLAIN_MIXED


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _plain_final(accept, t):
    """Outcome of a character that ends in state ``t``."""
    if t < 0:
        return PLAIN_ALL_DEAD
    if accept[t]:
        return PLAIN_MIXED
    return t


@njit(cache=True, nogil=True, _nrt=False)
def _plain_cont1(trans, accept, t, lo, hi):
    """Outcome of the characters completed from mid-character state ``t`` by one byte in [lo, hi]."""
    if t < 0:
        return PLAIN_ALL_DEAD
    if accept[t]:
        return PLAIN_MIXED
    cur = _PLAIN_NONE
    for c in range(lo, hi + 1):
        cur = _plain_merge(cur, _plain_final(accept, trans[t, c]))
        if cur == PLAIN_MIXED:
            break
    return cur


@njit(cache=True, nogil=True, _nrt=False)
def _plain_cont2(trans, accept, t, lo, hi):
    """Like :func:`_plain_cont1` with two continuation bytes (the first in [lo, hi])."""
    if t < 0:
        return PLAIN_ALL_DEAD
    if accept[t]:
        return PLAIN_MIXED
    cur = _PLAIN_NONE
    last = -4
    for c in range(lo, hi + 1):
        t2 = trans[t, c]
        if t2 == last:  # same mid state as the previous byte: same outcome
            continue
        last = t2
        cur = _plain_merge(cur, _plain_cont1(trans, accept, t2, 0x80, 0xBF))
        if cur == PLAIN_MIXED:
            break
    return cur


@njit(cache=True, nogil=True, _nrt=False)
def _plain_cont3(trans, accept, t, lo, hi):
    """Like :func:`_plain_cont1` with three continuation bytes (the first in [lo, hi])."""
    if t < 0:
        return PLAIN_ALL_DEAD
    if accept[t]:
        return PLAIN_MIXED
    cur = _PLAIN_NONE
    last = -4
    for c in range(lo, hi + 1):
        t2 = trans[t, c]
        if t2 == last:
            continue
        last = t2
        cur = _plain_merge(cur, _plain_cont2(trans, accept, t2, 0x80, 0xBF))
        if cur == PLAIN_MIXED:
            break
    return cur


@njit(cache=True, nogil=True, _nrt=False)
def plain_step(trans, accept, x):
    """Where one *plain character* leads from DFA state ``x`` (see ``plain_slices.py``).

    Plain characters: every Unicode scalar value ≥ U+0020 except ``"`` and ``\\``, in UTF-8.
    Returns the state every plain character leads to (when all lead to the same non-accepting
    state without passing an accepting one), ``PLAIN_ALL_DEAD`` when every plain character dies,
    and ``PLAIN_MIXED`` otherwise.
    """
    cur = _PLAIN_NONE
    for b in range(0x20, 0x80):
        if b == 0x22 or b == 0x5C:
            continue
        cur = _plain_merge(cur, _plain_final(accept, trans[x, b]))
        if cur == PLAIN_MIXED:
            return cur
    return plain_step_nonascii(trans, accept, x, cur)


@njit(cache=True, nogil=True, _nrt=False)
def plain_step_nonascii(trans, accept, x, cur):
    """:func:`plain_step` over the non-ASCII plain characters only, merged into the outcome
    ``cur`` of other characters (``_PLAIN_NONE``: none yet)."""
    last = -4
    for b in range(0xC2, 0xE0):
        t = trans[x, b]
        if t == last:  # same mid state as the previous lead byte: same outcome
            continue
        last = t
        cur = _plain_merge(cur, _plain_cont1(trans, accept, t, 0x80, 0xBF))
        if cur == PLAIN_MIXED:
            return cur
    last = -4
    for b in range(0xE0, 0xF0):
        lo, hi = 0x80, 0xBF
        if b == 0xE0:
            lo = 0xA0
        elif b == 0xED:
            hi = 0x9F
        t = trans[x, b]
        if t == last and b != 0xE1 and b != 0xED and b != 0xEE:  # same state and same ranges
            continue
        last = t
        cur = _plain_merge(cur, _plain_cont2(trans, accept, t, lo, hi))
        if cur == PLAIN_MIXED:
            return cur
    last = -4
    for b in range(0xF0, 0xF5):
        lo, hi = 0x80, 0xBF
        if b == 0xF0:
            lo = 0x90
        elif b == 0xF4:
            hi = 0x8F
        t = trans[x, b]
        if t == last and b != 0xF1 and b != 0xF4:
            continue
        last = t
        cur = _plain_merge(cur, _plain_cont3(trans, accept, t, lo, hi))
        if cur == PLAIN_MIXED:
            return cur
    return cur


@njit(cache=True, nogil=True, _nrt=False)
def class_step(trans, accept, x, sig):
    """Where one plain character of a *class* leads from DFA state ``x`` (see ``class_slices.py``).

    A class step exists when the plain ASCII characters alive from ``x`` (at least one) all lead
    to one non-accepting state ``y``. ``sig`` (uint64[3]) receives the class: bits of the alive
    plain ASCII characters (``sig[0]``: 0-63, ``sig[1]``: 64-127) and the non-ASCII mode
    ``sig[2]``: 0 every non-ASCII plain character dies, 1 every one leads to ``y`` (without
    passing an accepting state), 2 anything else. Returns ``y``; ``PLAIN_ALL_DEAD`` when every plain
    character dies; ``PLAIN_MIXED`` when there is no class step.
    """
    y = _PLAIN_NONE
    lo = np.uint64(0)
    hi = np.uint64(0)
    for b in range(0x20, 0x80):
        if b == 0x22 or b == 0x5C:
            continue
        t = trans[x, b]
        if t < 0:
            continue
        if accept[t] or (y != _PLAIN_NONE and t != y):
            return PLAIN_MIXED
        y = t
        if b < 64:
            lo |= np.uint64(1) << np.uint64(b)
        else:
            hi |= np.uint64(1) << np.uint64(b - 64)
    r = plain_step_nonascii(trans, accept, x, _PLAIN_NONE)
    if y == _PLAIN_NONE:
        return PLAIN_ALL_DEAD if r == PLAIN_ALL_DEAD else PLAIN_MIXED
    sig[0] = lo
    sig[1] = hi
    if r == PLAIN_ALL_DEAD:
        sig[2] = 0
    elif r == y:
        sig[2] = 1
    else:
        sig[2] = 2
    return y


@njit(cache=True, nogil=True, _nrt=False)
def plain_budget(trans, accept, call_ptr, s, cap, nxt, memo, chain):
    """Plain budget of state ``s`` (see ``MaskStore.plain_budget``), memoized in ``memo``
    (-3 unknown, -2 not a counter, else the budget capped at ``cap``) with :func:`plain_step`
    results memoized in ``nxt`` (-3 unknown). ``chain``: scratch of at least ``cap + 2`` ints.
    States with call edges are not counters. Returns the budget or -2."""
    if memo[s] >= -2:
        return memo[s]
    n = 0
    x = s
    base = -5  # -5: the chain ran past the cap
    while n <= cap:
        if memo[x] >= -2:
            base = memo[x]
            break
        cyc = False
        for q in range(n):
            if chain[q] == x:
                cyc = True
                break
        if cyc:  # a cycle of plain steps: unbounded
            base = cap
            break
        if nxt[x] < PLAIN_MIXED:
            if call_ptr[x + 1] > call_ptr[x]:
                nxt[x] = PLAIN_MIXED
            else:
                nxt[x] = plain_step(trans, accept, x)
        y = nxt[x]
        if y == PLAIN_MIXED:
            memo[x] = PLAIN_MIXED
            base = PLAIN_MIXED
            break
        chain[n] = x
        n += 1
        if y == PLAIN_ALL_DEAD:
            base = -1  # the last state of the chain gets 0
            break
        x = y
    if base == -5:  # only the head is known to reach the cap
        memo[s] = cap
        return cap
    for i in range(n - 1, -1, -1):
        if base == PLAIN_MIXED:
            memo[chain[i]] = PLAIN_MIXED
        else:
            base = min(cap, base + 1)
            memo[chain[i]] = base
    return memo[s]


@njit(cache=True, nogil=True, _nrt=False)
def call_distance(trans, call_ptr, lo, hi, limit, dist, order, stack, edge, ptr, adj):
    """``dist[i]`` = the fewest bytes from state ``lo + i`` to a state with a call edge (0: the
    state itself has one), capped at ``limit + 1``, for the states ``[lo, hi)`` of one rule.

    Scratch (int32): ``order``, ``stack``, ``edge`` of ``n = hi - lo`` entries, ``ptr`` of
    ``n + 1``, ``adj`` for the successor lists (runs of equal targets stored once). Returns 0, or
    -1 when ``adj`` is too small (nothing else is valid then).

    One scan of the transition rows builds the successor lists; a depth-first postorder
    (successors before predecessors, except along cycles) makes each relaxation sweep settle
    whole acyclic stretches; sweeps repeat until nothing changes.
    """
    cap = limit + 1
    n = hi - lo
    m = 0
    for i in range(n):
        ptr[i] = m
        prev = -1
        for b in range(256):
            t = trans[lo + i, b]
            if t >= 0 and t != prev:
                if m >= adj.shape[0]:
                    return -1
                adj[m] = t - lo
                m += 1
            prev = t
        dist[i] = 0 if call_ptr[lo + i + 1] > call_ptr[lo + i] else cap
        edge[i] = -1  # -1: not visited yet
    ptr[n] = m
    # iterative DFS: edge[i] = next successor slot to explore from state i
    n_order = 0
    for root in range(n):
        if edge[root] >= 0:
            continue
        top = 0
        stack[0] = root
        edge[root] = ptr[root]
        while top >= 0:
            i = stack[top]
            pushed = False
            while edge[i] < ptr[i + 1]:
                t = adj[edge[i]]
                edge[i] += 1
                if edge[t] < 0:
                    edge[t] = ptr[t]
                    top += 1
                    stack[top] = t
                    pushed = True
                    break
            if not pushed:
                order[n_order] = i
                n_order += 1
                top -= 1
    for _ in range(limit + 2):
        changed = False
        for q in range(n):
            i = order[q]
            best = dist[i]
            if best == 0:
                continue
            for e in range(ptr[i], ptr[i + 1]):
                d = dist[adj[e]] + 1
                if d < best:
                    best = d
            if best < dist[i]:
                dist[i] = best
                changed = True
        if not changed:
            break
    return 0
