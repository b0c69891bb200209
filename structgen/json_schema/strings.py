"""String constraints → decoded languages (:class:`~structgen.json_schema.lang.Lang`).

``minLength``/``maxLength`` count code points of the decoded string (``len()`` in Python, which is
what ``jsonschema`` uses; an escape is one character, a surrogate-pair escape of an astral
character is one character). ``pattern`` uses ``re.search`` semantics
(:mod:`~structgen.json_schema.pyregex`). ``format`` uses :mod:`~structgen.json_schema.formats`.

A single constraint is used as is (keeping the regex structure). Several constraints are
intersected as automata (:mod:`~structgen.json_schema.fsa`) and turned back into an expression;
when that exceeds the size budget the schema is rejected (or, for formats ``jsonschema`` does not
check, the format is dropped with a warning).
"""
from __future__ import annotations

import functools
import re
from typing import Callable, Iterable, Optional

from ..errors import UnsupportedSchemaError
from . import charsets as cs
from . import fsa
from . import lang as L
from .formats import format_regexes
from .pyregex import (ANY_CHAR, ANY_STRING, PatternInvalid, PatternUnsupported, parse, search_language,
                      search_language_python)
from .spec import StringSpec

#: DFA states allowed when intersecting string constraints
DFA_BUDGET = 8000
#: expression nodes allowed when turning an intersection back into an expression
EXPR_BUDGET = 6000


def pattern_lang(pattern: str, pointer: str, keyword: str = "pattern", negated: bool = False) -> L.Lang:
    """The strings ``pattern`` matches (``re.search``). Positive uses get the strict reading of
    ``$`` (end of string only: sound for ECMA-262, Python and pydantic alike); ``negated`` uses
    (strings it must *not* match) get Python's exact language, where ``$`` also matches before a
    final newline, so a string ``jsonschema`` sees matching is never taken as a non-match."""
    try:
        return search_language_python(pattern) if negated else search_language(pattern)
    except PatternUnsupported as e:
        raise UnsupportedSchemaError(f"pattern {pattern!r}: {e}", keyword, pointer) from None
    except PatternInvalid as e:
        from ..errors import InvalidSchemaError

        raise InvalidSchemaError(f"{e} (at {pointer or '#'})") from None


@functools.lru_cache(maxsize=64)
def format_langs(name: str) -> tuple[L.Lang, ...]:
    """The candidate languages of a format (parsed once per process)."""
    return tuple(fullmatch_language_dotall(rx) for rx in format_regexes(name))


def fullmatch_language_dotall(rx: str) -> L.Lang:
    return parse(rx, re.DOTALL)


def not_in_lang(words: Iterable[str]) -> L.Lang:
    """All strings (over the universe) except ``words``: ``NF | LEAVE · ANY*`` with the two parts
    of :func:`not_in_lang_parts`."""
    non_final, leave = not_in_lang_parts(words)
    return L.alt(non_final, L.cat(leave, ANY_STRING))


def not_in_lang_parts(words: Iterable[str]) -> tuple[L.Lang, L.Lang]:
    """``(NF, LEAVE)``: the two parts of the strings that are not ``words``.

    All strings (over the universe) except ``words``, linear in the size of their trie.

    A string is not a word iff it ends at a trie node that is no word end (``NF``), or it leaves
    the trie: a trie path ``p`` to node ``t`` followed by a character ``c`` that is not a child of
    ``t``, then anything. With ``U`` the characters used in the trie and ``R`` the rest, ``c`` is
    either in ``R`` (any path, so ``T·R`` with ``T`` the prefix-closed trie) or in ``U`` minus the
    children of ``t`` (``E_U``)::

        not_in(words) = NF | (T·R | E_U) · ANY*

    Written this way the expression contains ``R`` and ``ANY*`` once each (instead of a copy per
    trie node), so its automaton determinizes to about one state per trie node.
    """
    trie: dict = {}
    END = -1
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ord(ch), {})
        node[END] = True

    def kids(node: dict) -> list[int]:
        return sorted(k for k in node if k != END and (k < cs.SURROGATE_LO or k > cs.SURROGATE_HI))

    used: set[int] = set()
    stack = [trie]
    while stack:
        node = stack.pop()
        ks = kids(node)
        used.update(ks)
        stack.extend(node[k] for k in ks)
    used_points = sorted(used)
    u_set = _points_to_ranges(used_points)
    rest = cs.subtract(cs.UNIVERSE, u_set)
    off_memo: dict[tuple[int, ...], L.Lang] = {}

    # Nodes are built directly (alternatives start with distinct characters, so the smart
    # constructors' merging and deduplication would find nothing to do).
    def then(k: int, sub: L.Lang) -> L.Lang:  # k · sub
        c = _char(k)
        if sub is L.EPS:
            return c
        return L.Cat((c,) + sub.items) if type(sub) is L.Cat else L.Cat((c, sub))

    def either(alts: list[L.Lang]) -> L.Lang:
        return L.NONE if not alts else alts[0] if len(alts) == 1 else L.Or(tuple(alts))

    def non_final(node: dict) -> L.Lang:   # NF: paths ending at a node that is no word end
        alts = [] if END in node else [L.EPS]
        for k in kids(node):
            sub = non_final(node[k])
            if sub is not L.NONE:
                alts.append(then(k, sub))
        return either(alts)

    def prefixes(node: dict) -> L.Lang:    # T: every path of the trie
        return either([L.EPS] + [then(k, prefixes(node[k])) for k in kids(node)])

    def leave_used(node: dict) -> L.Lang:  # E_U: a path, then a used character that leaves it
        ks = kids(node)
        key = tuple(ks)
        off = off_memo.get(key)
        if off is None:
            kset = set(ks)
            off = off_memo[key] = L.chars(_points_to_ranges([p for p in used_points if p not in kset]))
        alts = [] if off is L.NONE else [off]
        alts.extend(then(k, leave_used(node[k])) for k in ks)
        return either(alts)

    leave = L.alt(L.cat(prefixes(trie), L.chars(rest)), leave_used(trie))
    return non_final(trie), leave


@functools.lru_cache(maxsize=65536)
def _char(cp: int) -> L.Lang:
    return L.Chars(((cp, cp),))


def _points_to_ranges(points: list[int]) -> cs.Ranges:
    """Sorted distinct code points → ranges."""
    out: list[tuple[int, int]] = []
    for p in points:
        if out and out[-1][1] == p - 1:
            out[-1] = (out[-1][0], p)
        else:
            out.append((p, p))
    return tuple(out)


def in_lang(words: Iterable[str]) -> L.Lang:
    alts = []
    for w in words:
        if all(cs.contains(cs.UNIVERSE, ord(c)) for c in w):
            alts.append(L.cat(*(L.Chars(cs.single(ord(c))) for c in w)) if w else L.EPS)
    return L.alt(*alts)


def length_lang(lo: int, hi: Optional[int]) -> L.Lang:
    return L.rep(ANY_CHAR, lo, hi)


def combine(positives: list[L.Lang], negatives: list[L.Lang]) -> L.Lang:
    """Intersection of ``positives`` minus the union of ``negatives`` (raises
    :class:`fsa.AutomatonTooLarge`): an expression, or for automata too large to write as one a
    :class:`~structgen.json_schema.lang.Machine`."""
    if not positives:
        positives = [ANY_STRING]
    if len(positives) == 1 and not negatives:
        return positives[0]
    d = fsa.from_lang(positives[0], DFA_BUDGET)
    for p in positives[1:]:
        if d.is_empty():
            return L.NONE
        d = fsa.product(d, fsa.from_lang(p, DFA_BUDGET), "and", DFA_BUDGET)
    for n in negatives:
        if d.is_empty():
            return L.NONE
        d = fsa.product(d, fsa.from_lang(n, DFA_BUDGET), "diff", DFA_BUDGET)
    if d.is_empty():
        return L.NONE
    return fsa.to_lang_or_machine(d, EXPR_BUDGET)


def _items(x: L.Lang) -> list[L.Lang]:
    return list(x.items) if isinstance(x, L.Cat) else [x]


def _expand_branches(x: L.Lang, limit: int = 64) -> Optional[list[list[L.Lang]]]:
    """``x`` as a union of concatenations, distributing alternations and optional items."""
    out: list[list[L.Lang]] = []
    work = [list(_items(b)) for b in (x.items if isinstance(x, L.Or) else (x,))]
    while work:
        items = work.pop()
        for i, it in enumerate(items):
            choices = None
            if isinstance(it, L.Or):
                choices = [list(_items(a)) for a in it.items]
            elif isinstance(it, L.Rep) and it.min == 0 and it.max == 1:
                choices = [[], list(_items(it.item))]
            if choices is not None:
                for ch in choices:
                    work.append(items[:i] + ch + items[i + 1:])
                break
        else:
            out.append(items)
        if len(out) + len(work) > limit:
            return None
    return out


def push_length(x: L.Lang, lo: int, hi: Optional[int]) -> Optional[L.Lang]:
    """Exact ``x ∩ (lo..hi characters)`` when every branch of ``x`` has at most one variable-length
    part, a repetition of a fixed-width item (e.g. ``^[a-z][a-z0-9-]*$``): the bound moves into
    that repetition's count. None when ``x`` does not have that shape."""
    branches = _expand_branches(x)
    if branches is None:
        return None
    out = []
    for items in branches:
        fixed = 0
        var_i = -1
        empty = False
        for i, it in enumerate(items):
            r = L.length_range(it)
            if r is None:
                empty = True
                break
            if r[0] == r[1]:
                fixed += r[0]
                continue
            if var_i >= 0 or not isinstance(it, L.Rep):
                return None
            w = L.length_range(it.item)
            if w is None or w[0] != w[1] or w[0] < 1:
                return None
            var_i = i
        if empty:
            continue
        if var_i < 0:
            if fixed >= lo and (hi is None or fixed <= hi):
                out.append(L.cat(*items))
            continue
        v = items[var_i]
        w = L.length_range(v.item)[0]
        kmin = max(v.min, -(-(lo - fixed) // w))
        kmax = v.max
        if hi is not None:
            room = (hi - fixed) // w
            kmax = room if kmax is None else min(kmax, room)
        if kmax is not None and kmax < kmin:
            continue
        out.append(L.cat(*items[:var_i], L.rep(v.item, kmin, kmax), *items[var_i + 1:]))
    return L.alt(*out)


def _cap(x: L.Lang, t: int) -> L.Lang:
    if isinstance(x, L.Rep):
        hi = max(x.min, t) if x.max is None else min(x.max, max(x.min, t))
        return L.rep(_cap(x.item, t), x.min, hi)
    if isinstance(x, L.Cat):
        return L.cat(*(_cap(i, t) for i in x.items))
    if isinstance(x, L.Or):
        return L.alt(*(_cap(i, t) for i in x.items))
    return x


@functools.lru_cache(maxsize=256)
def cap_count(x: L.Lang, hi: int) -> int:
    """The largest common repetition cap ``t`` that keeps ``x``'s maximum length <= hi; -1 when
    even ``t = 0`` is too long."""
    def max_len(t: int):
        r = L.length_range(_cap(x, t))
        return None if r is None else r[1]

    m0 = max_len(0)
    if m0 is None or m0 > hi:
        return -1
    a, b = 0, hi
    while a < b:
        mid = (a + b + 1) // 2
        if max_len(mid) <= hi:
            a = mid
        else:
            b = mid - 1
    return a


def cap_length(x: L.Lang, lo: int, hi: int) -> Optional[L.Lang]:
    """A *subset* of ``x ∩ (lo..hi characters)``: every repetition is capped at a common count
    ``t`` (the largest that keeps the maximum length <= hi). None if even ``t = 0`` is too long or
    the minimum length falls below ``lo``."""
    a = cap_count(x, hi)
    if a < 0:
        return None
    y = _cap(x, a)
    r = L.length_range(y)
    if r is None or r[0] < lo:
        return None
    return y


#: below this common repetition cap, a capped format + maxLength language is replaced by the
#: format's exact members up to one of the lengths below (longest first)
MIN_USEFUL_CAP = 16
EXACT_PREFIX_LENGTHS = (128, 96, 64, 48, 32)


@functools.lru_cache(maxsize=256)
def exact_prefix(x: L.Lang, lo: int, hi: int) -> Optional[L.Lang]:
    """``x ∩ (lo..k characters)`` for the largest ``k < hi`` of :data:`EXACT_PREFIX_LENGTHS` whose
    intersection stays within the automaton budget; None when none does."""
    for k in EXACT_PREFIX_LENGTHS:
        if lo <= k < hi:
            try:
                return combine([x, length_lang(lo, k)], [])
            except fsa.AutomatonTooLarge:
                continue
    return None


def string_lang(spec: StringSpec, excluded: list[str], checked_formats: frozenset[str],
                warn: Callable[[str, str, str], None], pointer: str, lenient: bool = False) -> Optional[L.Lang]:
    """The decoded language of strings satisfying ``spec`` and not in ``excluded``;
    None means "any string" (no constraint).

    Order of attempts: exact (length pushed into a single repetition, else automaton product);
    for ``format`` + length bounds a *sound subset* with repetitions capped (warning; formats
    are already sound subsets); formats ``jsonschema`` does not check may be dropped (warning);
    ``pattern`` + length bounds that are too large raise, or in lenient mode are capped too."""
    positives: list[L.Lang] = []
    negatives: list[L.Lang] = []
    if spec.max_len is not None and spec.max_len < spec.min_len:
        return L.NONE
    pats = [pattern_lang(p, ptr) for p, ptr in dict.fromkeys(spec.patterns)]
    positives.extend(pats)
    for p, ptr in dict.fromkeys(spec.not_patterns):
        negatives.append(pattern_lang(p, ptr, negated=True))
    fmts: list[tuple[str, str, list[L.Lang]]] = []
    for name, ptr in dict.fromkeys(spec.formats):
        cands = format_langs(name)
        if cands:
            fmts.append((name, ptr, cands))
        elif name in checked_formats:
            raise UnsupportedSchemaError(f"format {name!r} is checked by jsonschema here, but structgen has no "
                                         "language for it", "format", ptr)
    if excluded:
        negatives.append(in_lang(excluded))
    lo, hi = spec.min_len, spec.max_len
    has_length = lo > 0 or hi is not None
    if not positives and not fmts and not negatives and not has_length:
        return None
    if not positives and not fmts and not has_length and excluded and not spec.not_patterns:
        return not_in_lang(excluded)

    def implied(pos: list[L.Lang]) -> bool:
        for x in pos:
            r = L.length_range(x)
            if r is not None and r[0] >= lo and r[1] is not None and (hi is None or r[1] <= hi):
                return True
        return False

    def exact(pos: list[L.Lang]) -> L.Lang:
        if has_length and not implied(pos):
            if len(pos) == 1 and not negatives:
                pushed = push_length(pos[0], lo, hi)
                if pushed is not None:
                    return pushed
            pos = pos + [length_lang(lo, hi)]
        return combine(pos, negatives)

    base_choice = [c[2][0] for c in fmts]
    options: list[list[L.Lang]] = [base_choice]
    for i, (_, _, cands) in enumerate(fmts):
        for alt in cands[1:]:
            ch = list(base_choice)
            ch[i] = alt
            options.append(ch)
    last_err: Exception | None = None
    for choice in options:
        try:
            return exact(positives + choice)
        except fsa.AutomatonTooLarge as e:
            last_err = e
    # sound subsets for a single constraint + maximum length
    single = positives + base_choice
    if hi is not None and len(single) == 1 and not negatives and (fmts or lenient):
        capped = cap_length(single[0], lo, hi)
        if capped is not None:
            # a common repetition cap is tiny for nested repetitions (a URI's path segments: with
            # maxLength 255, every segment and label at most a few characters); then the language's
            # members up to the longest length that still intersects exactly keep far more of the
            # ordinary ones
            how = "repetitions capped"
            if cap_count(single[0], hi) < MIN_USEFUL_CAP:
                short = exact_prefix(single[0], lo, hi)
                if short is not None:
                    capped = short
                    how = f"members of at most {L.length_range(short)[1]} characters"
            what = f"format {fmts[0][0]!r}" if fmts else "pattern"
            warn(f"{what} with length bounds accepted as a subset ({how}) because the exact "
                 "intersection is too large", "format" if fmts else "pattern", (fmts[0][1] if fmts else pointer))
            return capped
    droppable = [i for i, (name, _, _) in enumerate(fmts) if name not in checked_formats]
    if droppable:
        try:
            res = exact(positives + [c for i, c in enumerate(base_choice) if i not in droppable])
            for i in droppable:
                warn(f"format {fmts[i][0]!r} dropped: too complex in combination with other string constraints "
                     "(jsonschema does not check it, so any string stays valid)", "format", fmts[i][1])
            return res
        except fsa.AutomatonTooLarge as e:
            last_err = e
    raise UnsupportedSchemaError(f"string constraints too complex to combine exactly ({last_err})",
                                 "pattern" if spec.patterns else "format" if fmts else "maxLength", pointer)
