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

import re
from typing import Callable, Iterable, Optional

from ..errors import UnsupportedSchemaError
from . import charsets as cs
from . import fsa
from . import lang as L
from .formats import format_regexes
from .pyregex import ANY_CHAR, ANY_STRING, PatternInvalid, PatternUnsupported, parse, search_language
from .spec import StringSpec

#: DFA states allowed when intersecting string constraints
DFA_BUDGET = 20000
#: expression nodes allowed when turning an intersection back into an expression
EXPR_BUDGET = 6000


def pattern_lang(pattern: str, pointer: str, keyword: str = "pattern") -> L.Lang:
    try:
        return search_language(pattern)
    except PatternUnsupported as e:
        raise UnsupportedSchemaError(f"pattern {pattern!r}: {e}", keyword, pointer) from None
    except PatternInvalid as e:
        from ..errors import InvalidSchemaError

        raise InvalidSchemaError(f"{e} (at {pointer or '#'})") from None


def format_langs(name: str) -> list[L.Lang]:
    return [fullmatch_language_dotall(rx) for rx in format_regexes(name)]


def fullmatch_language_dotall(rx: str) -> L.Lang:
    return parse(rx, re.DOTALL)


def not_in_lang(words: Iterable[str]) -> L.Lang:
    """All strings (over the universe) except ``words`` — a trie complement, linear size."""
    trie: dict = {}
    END = object()
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ord(ch), {})
        node[END] = True

    def build(node: dict) -> L.Lang:
        kids = sorted(k for k in node if k is not END)
        alts = []
        if END not in node:
            alts.append(L.EPS)
        others = cs.subtract(cs.UNIVERSE, cs.normalize((k, k) for k in kids))
        if others:
            alts.append(L.cat(L.Chars(others), ANY_STRING))
        for k in kids:
            if cs.contains(cs.UNIVERSE, k):
                alts.append(L.cat(L.Chars(cs.single(k)), build(node[k])))
        return L.alt(*alts)

    return build(trie)


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
    :class:`fsa.AutomatonTooLarge`)."""
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
    return fsa.to_lang(d, EXPR_BUDGET)


def string_lang(spec: StringSpec, excluded: list[str], checked_formats: frozenset[str],
                warn: Callable[[str, str, str], None], pointer: str) -> Optional[L.Lang]:
    """The decoded language of strings satisfying ``spec`` and not in ``excluded``;
    None means "any string" (no constraint)."""
    positives: list[L.Lang] = []
    negatives: list[L.Lang] = []
    if spec.max_len is not None and spec.max_len < spec.min_len:
        return L.NONE
    pats = [pattern_lang(p, ptr) for p, ptr in dict.fromkeys(spec.patterns)]
    positives.extend(pats)
    for p, ptr in dict.fromkeys(spec.not_patterns):
        negatives.append(pattern_lang(p, ptr))
    fmts: list[tuple[str, str, list[L.Lang]]] = []
    for name, ptr in dict.fromkeys(spec.formats):
        cands = format_langs(name)
        if cands:
            fmts.append((name, ptr, cands))
    if excluded:
        negatives.append(in_lang(excluded))
    length = None
    if spec.min_len > 0 or spec.max_len is not None:
        length = length_lang(spec.min_len, spec.max_len)
    if not positives and not fmts and not negatives and length is None:
        return None

    def attempt(choice: list[L.Lang]) -> L.Lang:
        pos = list(positives) + choice
        if length is not None:
            # drop the length bound when every other constraint already implies it
            implied = False
            for x in pos:
                r = L.length_range(x)
                if r is not None and r[0] >= spec.min_len and r[1] is not None and (spec.max_len is None or r[1] <= spec.max_len):
                    implied = True
                    break
            if not implied:
                pos.append(length)
        if len(negatives) == 1 and not pos and excluded and len(spec.not_patterns) == 0:
            return not_in_lang(excluded)
        return combine(pos, negatives)

    # try format candidates in order; unchecked formats may be dropped as a last resort
    options: list[list[L.Lang]] = []
    base_choice = [c[2][0] for c in fmts]
    options.append(base_choice)
    for i, (name, ptr, cands) in enumerate(fmts):
        for alt in cands[1:]:
            ch = list(base_choice)
            ch[i] = alt
            options.append(ch)
    droppable = [i for i, (name, _, _) in enumerate(fmts) if name not in checked_formats]
    if droppable:
        options.append([c for i, c in enumerate(base_choice) if i not in droppable])
    last_err: Exception | None = None
    for k, choice in enumerate(options):
        try:
            res = attempt(choice)
        except fsa.AutomatonTooLarge as e:
            last_err = e
            continue
        if droppable and k == len(options) - 1 and len(options) > 1:
            for i in droppable:
                warn(f"format {fmts[i][0]!r} dropped: too complex in combination with other string constraints "
                     "(jsonschema does not check it, so any string stays valid)", "format", fmts[i][1])
        return res
    raise UnsupportedSchemaError(f"string constraints too complex to combine exactly ({last_err})",
                                 "pattern" if spec.patterns else "format" if fmts else "maxLength", pointer)
