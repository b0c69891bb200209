"""A code point DFA → the byte automaton of its JSON-encoded (escaped) form, built directly
(:func:`encode_dfa`; :func:`utf8_automaton` is the same construction for plain UTF-8 text).

A string language that is only available as a DFA over code points (an intersection of string
constraints too large to write back as an expression, see :class:`~structgen.json_schema.lang.Machine`)
is encoded here without the expression round trip: the result accepts exactly the JSON string
contents (between the quotes) whose decoded code points the DFA accepts, in every spelling of
:mod:`~structgen.json_schema.encoding` (raw UTF-8 characters, short escapes, ``\\uXXXX`` with hex
digits in either case, surrogate-pair escapes for astral characters; no lone surrogates).

Construction. Every state of the byte automaton is either a DFA state ``q`` (between units;
accepting iff ``q`` is) or a *partial unit*: what is left to read of one unit together with what
each possible rest decodes to. A prefix of a fixed-width spelling (UTF-8 bytes, hex digits) pins
the high-order bits of the code point, so the code points still possible form one interval; a
partial unit is thus ``(kind, digits left, pieces)`` where ``pieces`` maps the interval,
*relative to its start*, to outcomes (a DFA state, or for a high surrogate the partial unit of
the low surrogate's escape). Keys are relative, so equal partial units of different states are
one byte state (e.g. "one continuation byte, any value, then state 7"), and ranges whose rest is
dead are never expanded. Size: about ``states × (1 + escape and UTF-8 boundary nodes)``.
"""
from __future__ import annotations

import bisect
import functools

import numpy as np

from ..cfg import ir
from ..runtime.lru import BoundedLRU
from . import charsets as cs
from .encoding import RAW, SHORT_ESCAPES
from .fsa import DFA, AutomatonTooLarge

#: byte states allowed for one encoded automaton (the table costs 1 KiB per state)
MAX_BYTE_STATES = 60000

#: encoded automata by DFA content and options: schemas that share a large string constraint
#: (e.g. ``format: email`` with ``maxLength: 1024`` in every schema of one API: seconds of encoding
#: each) encode it once per process; bounded by the tables' bytes
_ENCODED: BoundedLRU[ir.Automaton] = BoundedLRU(256, max_weight=256 << 20, weigh=lambda a: len(a.table))

#: (digit value, byte) of hex digits (lower case; upper case is added per edge) and of UTF-8
#: continuation bytes
_HEX = [(d, ord("0123456789abcdef"[d])) for d in range(16)]
_CONTINUATION = [(x, 0x80 + x) for x in range(64)]
_ASTRAL = 0x10000

#: ((start, end, outcome), ...): relative, sorted, disjoint; an outcome is a byte-state key: a DFA
#: state (int) or a partial unit (tuple)
Pieces = tuple


class _Row:
    """One DFA state's transition function as sorted code point intervals → target state."""

    __slots__ = ("starts", "ends", "targets")

    def __init__(self, d: DFA, q: int) -> None:
        spans = sorted((lo, hi, t) for a, t in d.trans[q].items() for lo, hi in d.atoms[a])
        self.starts = [s for s, _, _ in spans]
        self.ends = [e for _, e, _ in spans]
        self.targets = [t for _, _, t in spans]

    def at(self, cp: int):
        """Outcome (the target state) of code point ``cp``, or None."""
        i = bisect.bisect_right(self.starts, cp) - 1
        return self.targets[i] if i >= 0 and cp <= self.ends[i] else None

    def pieces(self, lo: int, hi: int, allowed: cs.Ranges = cs.UNIVERSE) -> list[tuple[int, int, object]]:
        """Absolute intervals of ``[lo, hi] ∩ allowed`` with their outcome (target state)."""
        out: list[tuple[int, int, object]] = []
        starts, ends = self.starts, self.ends
        i = max(bisect.bisect_right(starts, lo) - 1, 0)
        n = len(starts)
        while i < n and starts[i] <= hi:
            a, b = max(starts[i], lo), min(ends[i], hi)
            if a <= b:
                o = self.targets[i]
                for al, ah in allowed:
                    x, y = max(a, al), min(b, ah)
                    if x <= y:
                        out.append((x, y, o))
            i += 1
        return out

    def signature(self, lo: int) -> tuple:
        """The intervals from ``lo`` on (clipped) with their targets: equal signatures, equal edges."""
        i = max(bisect.bisect_right(self.starts, lo) - 1, 0)
        return tuple((max(self.starts[j], lo), self.ends[j], self.targets[j])
                     for j in range(i, len(self.starts)) if self.ends[j] >= lo)


@functools.lru_cache(maxsize=8)
def _lead_bytes(raw: cs.Ranges) -> list[tuple[int, int, int, cs.Ranges]]:
    """Per UTF-8 lead byte: (byte, continuation bytes, first code point of its block, the code
    points of ``raw`` it can start — no overlong forms, surrogates or values past U+10FFFF)."""
    out = []
    for lead in range(0xC2, 0xF5):
        if lead < 0xE0:
            left, base = 1, (lead & 0x1F) << 6
            valid = ((max(base, 0x80), base + 63),)
        elif lead < 0xF0:
            left, base = 2, (lead & 0x0F) << 12
            valid = cs.subtract(((max(base, 0x800), base + 4095),), ((0xD800, 0xDFFF),))
        else:
            left, base = 3, (lead & 0x07) << 18
            valid = ((max(base, _ASTRAL), min(base + (1 << 18) - 1, cs.MAX_CP)),)
        out.append((lead, left, base, cs.intersect(valid, raw)))
    return out


def _relative(spans: list[tuple[int, int, object]], base: int) -> Pieces:
    """``spans`` shifted to start at ``base``, adjacent equal outcomes merged."""
    out: list[list] = []
    for a, b, o in spans:
        a, b = a - base, b - base
        if out and out[-1][2] == o and out[-1][1] + 1 == a:
            out[-1][1] = b
        else:
            out.append([a, b, o])
    return tuple((a, b, o) for a, b, o in out)


class _Builder:
    def __init__(self, d: DFA, raw_only: bool, max_states: int, raw: cs.Ranges = RAW) -> None:
        self.d = d
        self.raw_only = raw_only
        self.raw_ascii = cs.intersect(raw, ((0, 0x7F),))
        self.leads = _lead_bytes(raw)
        self.max_states = max_states
        self.rows = [_Row(d, q) for q in range(d.n_states)]
        self.index: dict[object, int] = {}
        self._lead_memo: dict[tuple, list] = {}
        self.order: list[object] = []

    def node(self, key) -> int:
        i = self.index.get(key)
        if i is None:
            i = len(self.order)
            if i >= self.max_states:
                raise AutomatonTooLarge(f"encoded automaton larger than {self.max_states} byte states")
            self.index[key] = i
            self.order.append(key)
        return i

    # ------------------------------------------------------------------ successors per kind
    def edges(self, key) -> list[tuple[int, object]]:
        if type(key) is int:
            return self._state_edges(key)
        kind = key[0]
        if kind == "utf8":
            return self._digit_edges(key[1], key[2], 64, _CONTINUATION, "utf8")
        if kind == "hex":
            return self._digit_edges(key[1], key[2], 16, _HEX, "hex")
        if kind == "esc":
            return self._escape_edges(key[1], key[2])
        if kind == "pair":   # a high surrogate read: the low one's escape follows
            return [(0x5C, ("pair_u", key[1]))]
        if kind == "pair_u":
            low = tuple((0xDC00 + a, 0xDC00 + b, o) for a, b, o in key[1])
            return [(ord("u"), ("hex", 4, low))]
        raise AssertionError(kind)

    def _digit_edges(self, left: int, pieces: Pieces, radix: int, digits, kind: str):
        """Edges reading one more digit (continuation byte or hex digit) of value ``0..radix-1``."""
        step = radix ** (left - 1)
        subs: list[list] = [[] for _ in range(radix)]
        for a, b, o in pieces:   # one pass: each piece clipped to the sub-blocks it meets
            for v in range(a // step, b // step + 1):
                lo = v * step
                subs[v].append((max(a, lo) - lo, min(b, lo + step - 1) - lo, o))
        out = []
        for value, byte in digits:
            sub = subs[value]
            if sub:
                out.append((byte, sub[0][2] if left == 1 else (kind, left - 1, tuple(sub))))
        if kind == "hex":  # upper-case hex letters go where the lower-case ones go
            out += [(b - 32, o) for b, o in out if b >= ord("a")]
        return out

    def _state_edges(self, q: int) -> list[tuple[int, object]]:
        row = self.rows[q]
        out: list[tuple[int, object]] = []
        for a, b, o in row.pieces(0, 0x7F, self.raw_ascii):
            out += [(c, o) for c in range(a, b + 1)]
        sig = row.signature(0x80)
        leads = self._lead_memo.get(sig)
        if leads is None:
            leads = self._lead_memo[sig] = []
            for lead, left, base, allowed in self.leads:
                spans = row.pieces(base, base + 64 ** left - 1, allowed)
                if spans:
                    leads.append((lead, ("utf8", left, _relative(spans, base))))
        out += leads
        if not self.raw_only:
            short = tuple((ch, o) for cp, ch in sorted(SHORT_ESCAPES.items())
                          for o in [row.at(cp)] if o is not None)
            u = self._escape_values(row)
            if short or u:
                out.append((0x5C, ("esc", short, u)))
        return out

    def _escape_values(self, row: _Row) -> Pieces:
        """Outcomes of the 16-bit value of a ``\\uXXXX`` escape: a BMP scalar value → its target;
        a high surrogate → the partial unit of its low surrogate's escape (the block of 1024 astral
        code points it selects); a low surrogate → nothing (lone surrogates are never produced)."""
        bmp = row.pieces(0, 0xFFFF)
        astral = row.pieces(_ASTRAL, cs.MAX_CP)
        blocks: list[tuple[int, int, object]] = []
        partial: set[int] = set()
        for a, b, o in astral:
            ha, hb = (a - _ASTRAL) >> 10, (b - _ASTRAL) >> 10
            first = ha if a == _ASTRAL + (ha << 10) else ha + 1
            last = hb if b == _ASTRAL + (hb << 10) + 0x3FF else hb - 1
            if first <= last:   # blocks wholly inside this span
                blocks.append((first, last, ("pair", ((0, 0x3FF, o),))))
            partial.update(h for h in (ha, hb) if not first <= h <= last)
        for h in partial:       # blocks that spans cover in part
            lo, hi = _ASTRAL + (h << 10), _ASTRAL + (h << 10) + 0x3FF
            sub = _relative([(max(a, lo), min(b, hi), o) for a, b, o in astral if a <= hi and b >= lo], lo)
            blocks.append((h, h, ("pair", sub)))
        high = [(cs.SURROGATE_LO + a, cs.SURROGATE_LO + b, o) for a, b, o in blocks]
        return _relative(sorted(bmp + high), 0)

    def _escape_edges(self, short: tuple, u: Pieces) -> list[tuple[int, object]]:
        out = [(ord(ch), o) for ch, o in short]
        if u:
            out.append((ord("u"), ("hex", 4, u)))
        return out

    # ------------------------------------------------------------------ the table
    def build(self) -> ir.Automaton:
        d = self.d
        self.node(0)
        rows: list[list[tuple[int, int]]] = []
        i = 0
        while i < len(self.order):
            key = self.order[i]
            i += 1
            rows.append([(b, self.node(o)) for b, o in self.edges(key)])
        n = len(self.order)
        table = np.full((n, 256), -1, np.int32)
        for s, row in enumerate(rows):
            if row:
                bs, ts = zip(*row)
                table[s, list(bs)] = ts
        accept = np.zeros(n, np.uint8)
        for s, key in enumerate(self.order):
            if type(key) is int and d.accept[key]:
                accept[s] = 1
        return ir.Automaton(table.tobytes(), accept.tobytes())


def encode_dfa(d: DFA, raw_only: bool = False, max_states: int | None = None) -> ir.Automaton:
    """Byte automaton (start state 0) of the JSON string contents whose decoded code points ``d``
    accepts, in every spelling (``raw_only``: only unescaped characters; characters that need an
    escape are then dropped). Raises :class:`~structgen.json_schema.fsa.AutomatonTooLarge` past
    ``max_states`` byte states (default :data:`MAX_BYTE_STATES`)."""
    return _cached(d, raw_only, MAX_BYTE_STATES if max_states is None else max_states, RAW)


def _dfa_key(d: DFA) -> tuple:
    """The DFA's content (atoms, transitions, accepting states) as a hashable key."""
    return (tuple(d.atoms), tuple(tuple(sorted(t.items())) for t in d.trans), tuple(bool(a) for a in d.accept))


def _cached(d: DFA, raw_only: bool, max_states: int, raw: cs.Ranges) -> ir.Automaton:
    """:class:`_Builder` ``(...).build()``, memoized in :data:`_ENCODED` (a DFA too large for
    ``max_states`` raises every time: it is not cached)."""
    key = (_dfa_key(d), raw_only, max_states, raw)
    hit = _ENCODED.get(key)
    if hit is None:
        hit = _ENCODED.put(key, _Builder(d, raw_only, max_states, raw).build())
    return hit


def utf8_automaton(d: DFA, max_states: int | None = None) -> ir.Automaton:
    """Byte automaton (start state 0) of the UTF-8 encodings of the strings ``d`` accepts (plain
    text, no JSON escaping: every scalar value is its UTF-8 bytes). Raises
    :class:`~structgen.json_schema.fsa.AutomatonTooLarge` past ``max_states`` byte states
    (default :data:`MAX_BYTE_STATES`)."""
    return _cached(d, True, MAX_BYTE_STATES if max_states is None else max_states, cs.UNIVERSE)
