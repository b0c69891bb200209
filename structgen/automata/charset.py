"""Code point sets and their UTF-8 byte automata.

A *code point set* is a tuple of disjoint, sorted, non-adjacent inclusive ranges
``((lo, hi), ...)`` over ``0..0x10FFFF``. Sets may contain surrogates (Python ``str`` can hold
them); :func:`charset_automaton` drops them, because surrogates have no UTF-8 encoding.

The class tables of ``\\d \\w \\s`` (and their negations, Unicode and ASCII variants) are
computed by running Python's own ``re`` over every code point, so they match ``re`` exactly.
Case-insensitive atoms are resolved with ``re`` as well: every code point whose matching can
depend on case (cased characters, their lower-case images and ``re``'s extra case fixes) is tested
against the atom compiled by ``re``; all others match exactly as they do case-sensitively.
"""
from __future__ import annotations

import functools
import re
from typing import Iterable

import numpy as np

from structgen.automata.fragments import RangeAutomaton

MAX_CODE_POINT = 0x10FFFF
SURROGATES = (0xD800, 0xDFFF)

Ranges = tuple[tuple[int, int], ...]
ALL_CODE_POINTS: Ranges = ((0, MAX_CODE_POINT),)


# --------------------------------------------------------------------------- set algebra

def normalize(ranges: Iterable[tuple[int, int]]) -> Ranges:
    """Sort and merge overlapping/adjacent ranges."""
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if lo > hi:
            continue
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1][1] = hi
        else:
            out.append([lo, hi])
    return tuple((a, b) for a, b in out)


def union(*sets: Ranges) -> Ranges:
    return normalize(r for s in sets for r in s)


def complement(ranges: Ranges) -> Ranges:
    """All code points (0..0x10FFFF) not in ``ranges`` (``ranges`` must be normalized)."""
    out = []
    nxt = 0
    for lo, hi in ranges:
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= MAX_CODE_POINT:
        out.append((nxt, MAX_CODE_POINT))
    return tuple(out)


def difference(a: Ranges, b: Ranges) -> Ranges:
    return intersection(a, complement(b))


def intersection(a: Ranges, b: Ranges) -> Ranges:
    out = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def from_code_points(cps: Iterable[int]) -> Ranges:
    return normalize((c, c) for c in cps)


def contains(ranges: Ranges, cp: int) -> bool:
    for lo, hi in ranges:
        if lo <= cp <= hi:
            return True
        if lo > cp:
            return False
    return False


# --------------------------------------------------------------------------- tables from `re`

@functools.lru_cache(maxsize=1)
def _all_code_points_text() -> str:
    """Every code point 0..0x10FFFF (surrogates included) as one ``str``."""
    return np.arange(MAX_CODE_POINT + 1, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")


@functools.lru_cache(maxsize=4096)
def ranges_matching(pattern: str, flags: int = 0) -> Ranges:
    """Code points ``c`` (over all of Unicode) with ``re.fullmatch(pattern, chr(c), flags)``.

    ``pattern`` must match exactly one character; found with one ``finditer`` of ``(?:pattern)+``.
    """
    text = _all_code_points_text()
    return tuple((m.start(), m.end() - 1) for m in re.finditer(f"(?:{pattern})+", text, flags))


_CATEGORY_PATTERNS = {
    "CATEGORY_DIGIT": r"\d", "CATEGORY_NOT_DIGIT": r"\D",
    "CATEGORY_SPACE": r"\s", "CATEGORY_NOT_SPACE": r"\S",
    "CATEGORY_WORD": r"\w", "CATEGORY_NOT_WORD": r"\W",
}


def category_ranges(category: str, ascii_only: bool) -> Ranges:
    """The code point set of an ``re`` class escape category (``CATEGORY_DIGIT`` ...), exactly as
    ``re`` matches it for ``str`` patterns (Unicode, or ``re.ASCII`` when ``ascii_only``)."""
    pattern = _CATEGORY_PATTERNS.get(category)
    if pattern is None:
        raise KeyError(category)
    return ranges_matching(pattern, re.ASCII if ascii_only else 0)


@functools.lru_cache(maxsize=1)
def case_sensitive_code_points() -> str:
    """Code points whose matching can depend on IGNORECASE, as one ``str``.

    ``re`` (``_sre``) decides case-insensitive matches from ``lower(c)``/``upper(c)`` and a table of
    extra case equivalences. A code point ``c`` outside this set has ``lower(c) == upper(c) == c``,
    is no other character's lower-case image and has no extra equivalences, so it matches a
    case-insensitive atom iff it matches the atom case-sensitively.
    """
    import _sre

    try:
        from re._casefix import _EXTRA_CASES as extra  # Python 3.11+
    except ImportError:  # pragma: no cover - Python 3.10
        from sre_compile import _ignorecase_fixes as extra  # type: ignore
    cased = [c for c in range(MAX_CODE_POINT + 1) if _sre.unicode_iscased(c)]
    points = set(cased)
    points.update(_sre.unicode_tolower(c) for c in cased)
    for k, vs in extra.items():
        points.add(k)
        points.update(vs)
    points.update(range(0x80))  # ASCII letters etc. (ASCII case folding); cheap and safe
    return "".join(map(chr, sorted(points)))


# --------------------------------------------------------------------------- UTF-8

def utf8_sequences(lo: int, hi: int) -> list[tuple[tuple[int, int], ...]]:
    """Split the code point range ``[lo, hi]`` (surrogates skipped) into byte-range sequences.

    Each sequence ``((b0lo, b0hi), (b1lo, b1hi), ...)`` denotes the byte strings of the product of
    its ranges; together they are exactly the UTF-8 encodings of the range's scalar values.
    Sequences are disjoint and, where a range spans more than one byte, every later range is the
    full continuation range ``0x80..0xBF`` (so a trie of them is deterministic).
    """
    out = []
    stack = [(lo, hi)]
    while stack:
        s, e = stack.pop()
        if s > e:
            continue
        if s <= SURROGATES[1] and e >= SURROGATES[0]:
            if s < SURROGATES[0]:
                stack.append((s, SURROGATES[0] - 1))
            if e > SURROGATES[1]:
                stack.append((SURROGATES[1] + 1, e))
            continue
        split = False
        for m in (0x7F, 0x7FF, 0xFFFF):
            if s <= m < e:
                stack.append((m + 1, e))
                stack.append((s, m))
                split = True
                break
        if split:
            continue
        if e <= 0x7F:
            out.append(((s, e),))
            continue
        n = len(chr(s).encode("utf-8"))
        for i in range(1, n):
            m = (1 << (6 * i)) - 1
            if (s & ~m) != (e & ~m):
                if (s & m) != 0:
                    stack.append(((s | m) + 1, e))
                    stack.append((s, s | m))
                    split = True
                    break
                if (e & m) != m:
                    stack.append((e & ~m, e))
                    stack.append((s, (e & ~m) - 1))
                    split = True
                    break
        if split:
            continue
        a = chr(s).encode("utf-8")
        b = chr(e).encode("utf-8")
        out.append(tuple(zip(a, b)))
    return out


@functools.lru_cache(maxsize=4096)
def charset_automaton(ranges: Ranges) -> RangeAutomaton:
    """The minimal DFA (as a :class:`RangeAutomaton`) accepting the UTF-8 encodings of exactly the
    non-surrogate code points in ``ranges`` (one character each), states numbered canonically
    (BFS from the start, edges in byte order). Empty set → 0 states.

    The multi-byte part is built once per distinct set of non-ASCII ranges (cached): sets that
    differ only below 0x80 — "any character but these few", the common case in generated
    grammars — share it, and their ASCII ranges become edges from the start to the final state."""
    if ranges and max(hi for _, hi in ranges) < 0x80:  # ASCII only: one byte-range edge per range
        return RangeAutomaton((tuple((lo, hi, 1) for lo, hi in normalize(ranges)), ()), (False, True))
    low = tuple((lo, min(hi, 0x7F)) for lo, hi in ranges if lo <= 0x7F)
    if not low:
        return _utf8_automaton(ranges)
    multi = _utf8_automaton(tuple((max(lo, 0x80), hi) for lo, hi in ranges if hi >= 0x80))
    if multi.n_states == 0:  # only surrogates above ASCII
        return charset_automaton(low)
    sink = multi.final_sink  # the one accepting state (a leaf: one character is complete)
    start_edges = tuple((lo, hi, sink) for lo, hi in normalize(low)) + multi.edges[0]
    return _bfs_numbered((start_edges,) + multi.edges[1:], multi.accept)


def _bfs_numbered(edges: tuple, accept: tuple) -> RangeAutomaton:
    """The automaton with states renumbered by BFS from state 0, edges in byte order."""
    order = {0: 0}
    queue = [0]
    for s in queue:
        for _, _, t in edges[s]:
            if t not in order:
                order[t] = len(queue)
                queue.append(t)
    return RangeAutomaton(tuple(tuple((lo, hi, order[t]) for lo, hi, t in edges[s]) for s in queue),
                          tuple(accept[s] for s in queue))


@functools.lru_cache(maxsize=1024)
def _utf8_automaton(ranges: Ranges) -> RangeAutomaton:
    """:func:`charset_automaton` built from the UTF-8 sequence trie (any ranges)."""
    # Trie of byte-range sequences; node 0 is the root; leaves are marked final.
    children: list[dict[tuple[int, int], int]] = [{}]
    final: list[bool] = [False]
    for lo, hi in ranges:
        for seq in utf8_sequences(lo, hi):
            node = 0
            for rng in seq:
                nxt = children[node].get(rng)
                if nxt is None:
                    nxt = len(children)
                    children.append({})
                    final.append(False)
                    children[node][rng] = nxt
                node = nxt
            final[node] = True
    if not children[0]:
        return RangeAutomaton((), ())
    # Acyclic: minimize by hash-consing bottom-up (children have larger ids than parents).
    canon = [0] * len(children)
    sig_to_id: dict[tuple, int] = {}
    sigs: list[tuple] = []
    for node in range(len(children) - 1, -1, -1):
        edges = sorted((lo, hi, canon[c]) for (lo, hi), c in children[node].items())
        merged: list[list[int]] = []
        for lo, hi, t in edges:
            if merged and merged[-1][2] == t and merged[-1][1] + 1 == lo:
                merged[-1][1] = hi
            else:
                merged.append([lo, hi, t])
        sig = (final[node], tuple(tuple(x) for x in merged))
        cid = sig_to_id.get(sig)
        if cid is None:
            cid = len(sigs)
            sig_to_id[sig] = cid
            sigs.append(sig)
        canon[node] = cid
    # Renumber canonically: BFS from the root's class, edges in byte order.
    root = canon[0]
    order = {root: 0}
    queue = [root]
    for cid in queue:
        for _, _, t in sigs[cid][1]:
            if t not in order:
                order[t] = len(queue)
                queue.append(t)
    edges_out = tuple(tuple((lo, hi, order[t]) for lo, hi, t in sigs[cid][1]) for cid in queue)
    accept_out = tuple(sigs[cid][0] for cid in queue)
    return RangeAutomaton(edges_out, accept_out)
