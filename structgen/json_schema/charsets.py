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

from typing import Iterable

from ..automata import charset as base
from ..automata.regex import register_class_pattern

Ranges = tuple[tuple[int, int], ...]

MAX_CP = 0x10FFFF
SURROGATE_LO, SURROGATE_HI = 0xD800, 0xDFFF
UNIVERSE: Ranges = ((0, SURROGATE_LO - 1), (SURROGATE_HI + 1, MAX_CP))
EMPTY_SET: Ranges = ()


def normalize(ranges: Iterable[tuple[int, int]]) -> Ranges:
    """Sort, merge overlapping/adjacent ranges and clip to the universe."""
    return base.intersection(base.normalize(ranges), UNIVERSE)


intersect = base.intersection
contains = base.contains


def union(*sets: Ranges) -> Ranges:
    return normalize(r for s in sets for r in s)


def complement(a: Ranges) -> Ranges:
    """Universe minus ``a``."""
    return base.intersection(base.complement(a), UNIVERSE)


def subtract(a: Ranges, b: Ranges) -> Ranges:
    return intersect(a, complement(b))


def single(cp: int) -> Ranges:
    return normalize([(cp, cp)])


def of_chars(chars: Iterable[str]) -> Ranges:
    return normalize((ord(c), ord(c)) for c in chars)


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
    """A Python regex matching exactly one character of ``a`` (which must be non-empty). The
    pattern is announced to the grammar compiler with its set (``register_class_pattern``), so
    compiling it as a terminal needs no parsing."""
    if not a:
        raise ValueError("empty character set has no class regex")
    if len(a) == 1 and a[0][0] == a[0][1]:
        out = _esc(a[0][0])
    else:
        parts = []
        for lo, hi in a:
            if lo == hi:
                parts.append(_esc(lo))
            elif hi == lo + 1:
                parts.append(_esc(lo) + _esc(hi))
            else:
                parts.append(f"{_esc(lo)}-{_esc(hi)}")
        out = "[" + "".join(parts) + "]"
    register_class_pattern(out, a)
    return out


# --------------------------------------------------------------------------- classes from `re`

def ranges_matching(pattern: str, flags: int = 0) -> Ranges:
    """Scalar values ``c`` with ``re.fullmatch(pattern, chr(c), flags)``; ``pattern`` must match
    exactly one character (a class, a literal, ``.``...)."""
    return base.intersection(base.ranges_matching(pattern, flags), UNIVERSE)
