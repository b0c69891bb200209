"""Code point sets for the JSON Schema front end.

A set is a tuple of sorted, disjoint, non-adjacent inclusive ranges ``((lo, hi), ...)``. The
*universe* is every Unicode scalar value (``0..0x10FFFF`` minus the surrogates ``D800..DFFF``):
decoded JSON strings produced by structgen never contain lone surrogates, so every set here lives
inside the universe.

``re``-defined classes (``\\d``, ``\\w``, case-insensitive atoms...) are computed by running Python's
own ``re`` over every scalar value (``ranges_matching``), so they agree with ``re`` (and therefore
with ``jsonschema``'s ``pattern`` keyword) exactly.
"""
from __future__ import annotations

import functools
import re
from typing import Iterable

Ranges = tuple[tuple[int, int], ...]

MAX_CP = 0x10FFFF
SURROGATE_LO, SURROGATE_HI = 0xD800, 0xDFFF
UNIVERSE: Ranges = ((0, SURROGATE_LO - 1), (SURROGATE_HI + 1, MAX_CP))
EMPTY_SET: Ranges = ()


def normalize(ranges: Iterable[tuple[int, int]]) -> Ranges:
    """Sort, merge overlapping/adjacent ranges and clip to the universe."""
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if lo > hi:
            continue
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1][1] = hi
        else:
            out.append([lo, hi])
    merged = tuple((a, b) for a, b in out)
    if any(a <= SURROGATE_HI and b >= SURROGATE_LO for a, b in merged) or (merged and merged[-1][1] > MAX_CP):
        return intersect(merged, UNIVERSE)
    return merged


def intersect(a: Ranges, b: Ranges) -> Ranges:
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


def union(*sets: Ranges) -> Ranges:
    return normalize(r for s in sets for r in s)


def complement(a: Ranges) -> Ranges:
    """Universe minus ``a``."""
    out = []
    nxt = 0
    for lo, hi in a:
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= MAX_CP:
        out.append((nxt, MAX_CP))
    return intersect(tuple(out), UNIVERSE)


def subtract(a: Ranges, b: Ranges) -> Ranges:
    return intersect(a, complement(b))


def single(cp: int) -> Ranges:
    return normalize([(cp, cp)])


def of_chars(chars: Iterable[str]) -> Ranges:
    return normalize((ord(c), ord(c)) for c in chars)


def contains(a: Ranges, cp: int) -> bool:
    for lo, hi in a:
        if lo <= cp <= hi:
            return True
        if lo > cp:
            return False
    return False


def size(a: Ranges) -> int:
    return sum(hi - lo + 1 for lo, hi in a)


# --------------------------------------------------------------------------- regex text

def _esc(cp: int) -> str:
    if cp < 0x100:
        c = chr(cp)
        if c.isalnum() and c.isascii():
            return c
        return f"\\x{cp:02x}"
    if cp < 0x10000:
        return f"\\u{cp:04x}"
    return f"\\U{cp:08x}"


def class_regex(a: Ranges) -> str:
    """A Python regex matching exactly one character of ``a`` (which must be non-empty)."""
    if not a:
        raise ValueError("empty character set has no class regex")
    if len(a) == 1 and a[0][0] == a[0][1]:
        return _esc(a[0][0])
    parts = []
    for lo, hi in a:
        if lo == hi:
            parts.append(_esc(lo))
        elif hi == lo + 1:
            parts.append(_esc(lo) + _esc(hi))
        else:
            parts.append(f"{_esc(lo)}-{_esc(hi)}")
    return "[" + "".join(parts) + "]"


# --------------------------------------------------------------------------- classes from `re`

@functools.lru_cache(maxsize=1)
def _universe_text() -> str:
    return "".join(map(chr, range(SURROGATE_LO))) + "".join(map(chr, range(SURROGATE_HI + 1, MAX_CP + 1)))


def _index_to_cp(i: int) -> int:
    return i if i < SURROGATE_LO else i + (SURROGATE_HI - SURROGATE_LO + 1)


@functools.lru_cache(maxsize=4096)
def ranges_matching(pattern: str, flags: int = 0) -> Ranges:
    """Scalar values ``c`` with ``re.fullmatch(pattern, chr(c), flags)``; ``pattern`` must match
    exactly one character (a class, a literal, ``.``...)."""
    text = _universe_text()
    out = []
    for m in re.finditer(f"(?:{pattern})+", text, flags):
        lo, hi = _index_to_cp(m.start()), _index_to_cp(m.end() - 1)
        out.append((lo, hi))
    return normalize(out)
