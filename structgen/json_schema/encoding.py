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


def _short_escape_regex(ranges: cs.Ranges) -> str | None:
    """Regex of the short escapes (``\\n``, ``\\"``, ...) spelling characters of ``ranges``."""
    short = [SHORT_ESCAPES[c] for c in sorted(SHORT_ESCAPES) if cs.contains(ranges, c)]
    if not short:
        return None
    esc = "".join(re.escape(ch) if ch in '\\"/' else ch for ch in short)
    return r"\\" + (esc if len(short) == 1 else "[" + esc + "]")


def _astral_regexes(ranges: cs.Ranges) -> list[str]:
    """Regexes (after ``\\u``) of the surrogate-pair escapes of the astral characters of ``ranges``."""
    astral = cs.intersect(ranges, ((0x10000, cs.MAX_CP),))
    return [hex4_regex(((h0, h1),)) + r"\\u" + hex4_regex(((l0, l1),)) for (h0, h1), (l0, l1) in _pairs(astral)]


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
    short = _short_escape_regex(ranges)
    if short:
        alts.append(short)
    u_alts = []
    bmp = cs.intersect(ranges, ((0, 0xFFFF),))
    if bmp:
        u_alts.append(hex4_regex(bmp))
    u_alts.extend(_astral_regexes(ranges))
    if u_alts:
        body = u_alts[0] if len(u_alts) == 1 else "(?:" + "|".join(u_alts) + ")"
        alts.append(r"\\u" + body)
    return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"


@functools.lru_cache(maxsize=1024)
def _nibble_class(nibbles: tuple[int, ...]) -> ir.Expr:
    """One hex digit (either letter case) with a value in ``nibbles``: a plain character class."""
    cps: list[int] = []
    for v in nibbles:
        if v < 10:
            cps.append(ord("0") + v)
        else:
            cps += [ord("a") + v - 10, ord("A") + v - 10]
    return ir.Regex(cs.class_regex(cs.normalize((c, c) for c in cps)))


def _hex_low_ir(low: cs.Ranges) -> ir.Expr:
    """IR of the 4 hex digits ``00XY`` of the code points in ``low`` (all below 0x100): high
    nibbles grouped by their set of low nibbles, so only plain classes appear (no regex to parse)."""
    groups: dict[tuple[int, ...], list[int]] = {}
    for hi_nib in range(16):
        los = tuple(v & 0xF for lo, hi in low for v in range(max(lo, hi_nib << 4), min(hi, (hi_nib << 4) | 0xF) + 1))
        if los:
            groups.setdefault(los, []).append(hi_nib)
    alts = [ir.Seq((_nibble_class(tuple(his)), _nibble_class(los))) for los, his in groups.items()]
    return ir.seq(ir.Literal("00"), ir_alt(*alts))


#: Sets with at most this many BMP ranges are encoded as one regex terminal; larger (irregular)
#: sets as an alternation of per-spelling terminals (see :func:`encode_set`).
_ONE_REGEX_MAX_BMP_RANGES = 2


@functools.lru_cache(maxsize=8192)
def encode_set(ranges: cs.Ranges) -> ir.Expr:
    """IR matching every spelling of one character of ``ranges`` (the language of
    :func:`encode_set_regex`). Small sets are one :class:`~structgen.cfg.ir.Regex`; a set with many
    ranges (e.g. "any character except these") becomes the alternation of its raw characters
    (plain character classes, see :func:`_raw_set`), its short escapes and ``\\u`` followed by a hex regex
    for the code points below 0x100, one for the rest of the BMP and one for the surrogate pairs:
    all but the first recur across schemas, so the grammar compiler builds their automata once
    instead of parsing and determinizing a new large regex for every distinct set."""
    if not ranges:
        return ir.NOTHING
    bmp = cs.intersect(ranges, ((0, 0xFFFF),))
    if len(bmp) <= _ONE_REGEX_MAX_BMP_RANGES:
        return ir.Regex(encode_set_regex(ranges))
    alts: list[ir.Expr] = []
    if cs.intersect(ranges, RAW):
        alts.append(_raw_set(ranges))
    short = _short_escape_regex(ranges)
    if short:
        alts.append(ir.Regex(short))
    # \u escapes: one hex regex for the code points below 0x100 (specific to the set), one for
    # the rest of the BMP and one for the surrogate pairs (the same for most sets)
    low = cs.intersect(bmp, ((0, 0xFF),))
    high = cs.intersect(bmp, ((0x100, 0xFFFF),))
    u_alts = ([_hex_low_ir(low)] if low else []) + ([ir.Regex(hex4_regex(high))] if high else [])
    astral = _astral_regexes(ranges)
    if astral:
        u_alts.append(ir.Regex(astral[0] if len(astral) == 1 else "(?:" + "|".join(astral) + ")"))
    alts.append(ir.seq(ir.Literal("\\u"), ir_alt(*u_alts)))
    return ir_alt(*alts)


#: Any one scalar value, every spelling, no lone surrogates (the unit of counted strings).
ANY_UNIT_REGEX = encode_set_regex(cs.UNIVERSE)
#: An unconstrained JSON string, quotes included. Like the JSON grammar, except that ``\\u``
#: escapes of lone surrogates are excluded (many parsers — pydantic's among them — reject them).
JSON_STRING_REGEX = '"(?:' + ANY_UNIT_REGEX + ')*"'


@functools.lru_cache(maxsize=8192)
def _raw_set(ranges: cs.Ranges) -> ir.Expr:
    """IR of the unescaped spellings of one character of ``ranges`` (those that need none).

    A set with both ASCII and non-ASCII members is the alternation of the two parts: sets that
    differ only in their ASCII members ("any character but the next letters of these names")
    then share the non-ASCII terminal, whose UTF-8 automaton the grammar compiler builds once."""
    raw = cs.intersect(ranges, RAW)
    if not raw:
        return ir.NOTHING
    if len(raw) == 1 and raw[0][0] == raw[0][1]:
        return ir.Literal(chr(raw[0][0]))
    if raw[0][0] < 0x80 <= raw[-1][1]:
        low: list[tuple[int, int]] = []
        high: list[tuple[int, int]] = []
        for lo, hi in raw:
            if hi < 0x80:
                low.append((lo, hi))
            elif lo >= 0x80:
                high.append((lo, hi))
            else:
                low.append((lo, 0x7F))
                high.append((0x80, hi))
        return ir_alt(_raw_set(tuple(low)), ir.Regex(cs.class_regex(tuple(high))))
    return ir.Regex(cs.class_regex(raw))


def encode_lang(x: L.Lang, repeat, raw_only: bool = False) -> ir.Expr:
    """Encoded-form IR of a decoded language ``x``. ``repeat(item, lo, hi)`` builds bounded
    repetitions (so large counts can be chunked into helper rules). ``raw_only``: accept only the
    unescaped spelling of each character (characters that need escaping are dropped).
    Raises :class:`~structgen.json_schema.fsa.AutomatonTooLarge` when a
    :class:`~structgen.json_schema.lang.Machine`'s byte automaton would be too large."""
    return _encode(x, repeat, raw_only, {})


def _encode(x: L.Lang, repeat, raw_only: bool, memo: dict[int, ir.Expr]) -> ir.Expr:
    """:func:`encode_lang`; ``memo`` maps ``id`` of already encoded (shared) nodes of ``x``."""
    hit = memo.get(id(x))
    if hit is not None:
        return hit
    t = type(x)
    if t is L.Chars:
        out = _raw_set(x.ranges) if raw_only else encode_set(x.ranges)
    elif t is L.Cat:
        out = _encode_cat(x.items, repeat, raw_only, memo) if x.items else ir.EMPTY
    elif t is L.Or:
        out = ir_alt(*[_encode(i, repeat, raw_only, memo) for i in x.items]) if x.items else ir.NOTHING
    elif t is L.Rep:
        out = repeat(_encode(x.item, repeat, raw_only, memo), x.min, x.max)
    elif t is L.Machine:
        from .machine_encoding import encode_dfa

        out = encode_dfa(x.dfa, raw_only)
    else:
        raise TypeError(f"cannot encode {x!r}")
    memo[id(x)] = out
    return out


def _encode_cat(items: tuple, repeat, raw_only: bool, memo: dict[int, ir.Expr]) -> ir.Expr:
    """A concatenation: nested sequences flattened, adjacent literals merged (as
    ``_join_literals(ir.seq(...))``, in one pass)."""
    out: list[ir.Expr] = []
    Literal, Seq = ir.Literal, ir.Seq
    for i in items:
        e = _encode(i, repeat, raw_only, memo)
        for it in (e.items if type(e) is Seq else (e,)):
            if type(it) is Literal and out and type(out[-1]) is Literal:
                out[-1] = Literal(out[-1].text + it.text)
            else:
                out.append(it)
    return out[0] if len(out) == 1 else Seq(tuple(out))


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
    """IR for the quoted JSON string ``text`` in its standard spellings (quotes included): the
    language of ``'"' + literal_regex(text) + '"'``, as literals for the runs of plain characters
    and one small terminal per other character (shared across strings, so a new string needs no
    regex compiled)."""
    if all(ord(c) in _PLAIN for c in text):
        return ir.Literal('"' + text + '"')
    items: list[ir.Expr] = []
    run = ['"']
    for ch in text:
        cp = ord(ch)
        if cp in _PLAIN:
            run.append(ch)
            continue
        if run:
            items.append(ir.Literal("".join(run)))
            run = []
        items.append(_char_spellings(cp))
    run.append('"')
    items.append(ir.Literal("".join(run)))
    return ir.Seq(tuple(items))


@functools.lru_cache(maxsize=4096)
def _char_spellings(cp: int) -> ir.Expr:
    """IR of the spellings of one (non-plain) character inside a JSON string, as in
    :func:`literal_regex`."""
    if cp == 0x2F:
        return ir.Alt((ir.Literal("/"), ir.Literal("\\/")))
    if 0xD800 <= cp <= 0xDFFF:
        return ir.Regex(r"\\u" + hex4_regex(((cp, cp),)))
    return ir.Regex(encode_set_regex(cs.single(cp)))
