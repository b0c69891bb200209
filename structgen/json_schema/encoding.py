"""Decoded string languages → grammar IR over the JSON-encoded (escaped) form.

A JSON string's *content* (between the quotes) is a sequence of *units*, each encoding one code
point: a raw character (any scalar value except ``"``, ``\\`` and controls ``< 0x20``), a short escape
(``\\" \\\\ \\/ \\b \\f \\n \\r \\t``), a ``\\uXXXX`` escape (hex digits in either case) of a BMP scalar
value, or a surrogate-pair escape ``\\uD8xx\\uDCxx`` of an astral one. Each unit decodes to exactly one
code point, and the split of a content string into units is unique, so a decoded language
``L`` over code points maps to the encoded language ``{units u1..un : decode(ui) ∈ ...}`` exactly:
every character set becomes the alternation of all its spellings (:func:`encode_set`).

Lone surrogate escapes (``\\uD800`` not followed by a low surrogate) are never produced: many JSON
parsers reject them, and excluding them keeps length counting exact.

:func:`literal_ir` spells a known string (property names, ``enum``/``const`` strings) in every way
``json.dumps`` can (``ensure_ascii`` on or off) plus every escape of non-printable / non-ASCII /
special characters; printable ASCII characters other than ``/`` are accepted raw only (so
``"n\\u0061me"`` is not accepted for ``"name"``) — a deliberate, sound simplification that keeps key
automata small.
"""
from __future__ import annotations

import functools
import re

from ..cfg import ir
from .irtools import alt as ir_alt
from . import charsets as cs
from . import lang as L

RAW = cs.subtract(cs.UNIVERSE, cs.normalize([(0, 0x1F), (0x22, 0x22), (0x5C, 0x5C)]))
SHORT_ESCAPES = {0x22: '"', 0x5C: "\\", 0x2F: "/", 0x08: "b", 0x0C: "f", 0x0A: "n", 0x0D: "r", 0x09: "t"}
HEX_ANY = "[0-9a-fA-F]"



def _hex_class(a: int, b: int) -> str:
    """Regex class of hex digits with values a..b (either letter case)."""
    parts = []
    if a <= 9:
        hi = min(b, 9)
        parts.append(str(a) if a == hi else f"{a}-{hi}")
    if b >= 10:
        lo = max(a, 10)
        la, lb = "abcdef"[lo - 10], "abcdef"[b - 10]
        parts.append(la if lo == b else f"{la}-{lb}")
        parts.append(la.upper() if lo == b else f"{la.upper()}-{lb.upper()}")
    body = "".join(parts)
    if a == b and a <= 9:
        return body
    return "[" + body + "]"


def _hex_range(lo: int, hi: int, width: int) -> str:
    if width == 0:
        return ""
    full = 16 ** width - 1
    if lo == 0 and hi == full:
        return HEX_ANY if width == 1 else f"{HEX_ANY}{{{width}}}"
    shift = 16 ** (width - 1)
    dl, rl = divmod(lo, shift)
    dh, rh = divmod(hi, shift)
    if dl == dh:
        return _hex_class(dl, dl) + _hex_range(rl, rh, width - 1)
    parts = []
    start, end = dl, dh
    if rl != 0:
        parts.append(_hex_class(dl, dl) + _hex_range(rl, shift - 1, width - 1))
        start = dl + 1
    tail = None
    if rh != shift - 1:
        tail = _hex_class(dh, dh) + _hex_range(0, rh, width - 1)
        end = dh - 1
    if start <= end:
        parts.append(_hex_class(start, end) + _hex_range(0, shift - 1, width - 1))
    if tail is not None:
        parts.append(tail)
    return parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"


def hex4_regex(ranges: cs.Ranges) -> str:
    """Regex over 4 hex digits (any case) whose value lies in ``ranges`` (within 0..0xFFFF)."""
    parts = [_hex_range(lo, hi, 4) for lo, hi in ranges]
    return parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"


def _pairs(astral: cs.Ranges) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Surrogate pairs of astral ranges: list of ((high lo, high hi), (low lo, low hi))."""
    out: list[tuple[tuple[int, int], tuple[int, int]]] = []
    for a, b in astral:
        ha, la = 0xD800 + ((a - 0x10000) >> 10), 0xDC00 + ((a - 0x10000) & 0x3FF)
        hb, lb = 0xD800 + ((b - 0x10000) >> 10), 0xDC00 + ((b - 0x10000) & 0x3FF)
        if ha == hb:
            out.append(((ha, ha), (la, lb)))
            continue
        start, end = ha, hb
        if la != 0xDC00:
            out.append(((ha, ha), (la, 0xDFFF)))
            start = ha + 1
        tail = None
        if lb != 0xDFFF:
            tail = ((hb, hb), (0xDC00, lb))
            end = hb - 1
        if start <= end:
            out.append(((start, end), (0xDC00, 0xDFFF)))
        if tail:
            out.append(tail)
    # merge neighbours with the same low range
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = []
    for h, lo in out:
        if merged and merged[-1][1] == lo and merged[-1][0][1] + 1 == h[0]:
            merged[-1] = ((merged[-1][0][0], h[1]), lo)
        else:
            merged.append((h, lo))
    return merged


@functools.lru_cache(maxsize=8192)
def encode_set_regex(ranges: cs.Ranges) -> str:
    """Regex (Python syntax, over the encoded text) matching every spelling of one character of
    ``ranges`` inside a JSON string. ``ranges`` must be non-empty."""
    if not ranges:
        raise ValueError("empty set")
    alts = []
    raw = cs.intersect(ranges, RAW)
    if raw:
        alts.append(cs.class_regex(raw))
    short = [SHORT_ESCAPES[c] for c in sorted(SHORT_ESCAPES) if cs.contains(ranges, c)]
    if short:
        esc = "".join(re.escape(ch) if ch in '\\"/' else ch for ch in short)
        alts.append(r"\\" + (esc if len(short) == 1 else "[" + esc + "]"))
    u_alts = []
    bmp = cs.intersect(ranges, ((0, 0xFFFF),))
    if bmp:
        u_alts.append(hex4_regex(bmp))
    astral = cs.intersect(ranges, ((0x10000, cs.MAX_CP),))
    for (h0, h1), (l0, l1) in _pairs(astral):
        u_alts.append(hex4_regex(((h0, h1),)) + r"\\u" + hex4_regex(((l0, l1),)))
    if u_alts:
        body = u_alts[0] if len(u_alts) == 1 else "(?:" + "|".join(u_alts) + ")"
        alts.append(r"\\u" + body)
    return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"


def encode_set(ranges: cs.Ranges) -> ir.Expr:
    if not ranges:
        return ir.NOTHING
    return ir.Regex(encode_set_regex(ranges))


#: Any one scalar value, every spelling, no lone surrogates (the unit of counted strings).
ANY_UNIT_REGEX = encode_set_regex(cs.UNIVERSE)
#: An unconstrained JSON string, quotes included. Like the JSON grammar, except that ``\\u``
#: escapes of lone surrogates are excluded (many parsers — pydantic's among them — reject them).
JSON_STRING_REGEX = '"(?:' + ANY_UNIT_REGEX + ')*"'


def encode_lang(x: L.Lang, repeat, raw_only: bool = False) -> ir.Expr:
    """Encoded-form IR of a decoded language ``x``. ``repeat(item, lo, hi)`` builds bounded
    repetitions (so large counts can be chunked into helper rules). ``raw_only``: accept only the
    unescaped spelling of each character (characters that need escaping are dropped)."""
    if isinstance(x, L.Chars):
        if raw_only:
            raw = cs.intersect(x.ranges, RAW)
            return ir.Regex(cs.class_regex(raw)) if raw else ir.NOTHING
        return encode_set(x.ranges)
    if isinstance(x, L.Cat):
        return ir.seq(*(encode_lang(i, repeat, raw_only) for i in x.items)) if x.items else ir.EMPTY
    if isinstance(x, L.Or):
        if not x.items:
            return ir.NOTHING
        return ir_alt(*(encode_lang(i, repeat, raw_only) for i in x.items))
    if isinstance(x, L.Rep):
        return repeat(encode_lang(x.item, repeat, raw_only), x.min, x.max)
    raise TypeError(f"cannot encode {x!r}")


_PLAIN = set(range(0x20, 0x7F)) - {0x22, 0x5C, 0x2F}


def literal_regex(text: str) -> str:
    """Regex matching the standard spellings of ``text`` as JSON string content (see module doc)."""
    out = []
    for ch in text:
        cp = ord(ch)
        if cp in _PLAIN:
            out.append(re.escape(ch))
        elif cp == 0x2F:
            out.append(r"(?:/|\\/)")
        elif 0xD800 <= cp <= 0xDFFF:
            # a lone surrogate in a Python string: only its \u escape spells it
            out.append(r"\\u" + hex4_regex(((cp, cp),)))
        else:
            out.append(encode_set_regex(cs.single(cp)))
    return "".join(out)


def literal_ir(text: str) -> ir.Expr:
    """IR for the quoted JSON string ``text`` in its standard spellings (quotes included)."""
    if all(ord(c) in _PLAIN for c in text):
        return ir.Literal('"' + text + '"')
    return ir.seq(ir.Literal('"'), ir.Regex(literal_regex(text)), ir.Literal('"'))
