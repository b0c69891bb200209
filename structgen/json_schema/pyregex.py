"""Python ``re`` patterns → :class:`~structgen.json_schema.lang.Lang` over code points.

``jsonschema`` checks ``pattern`` / ``patternProperties`` with ``re.search(pattern, text)`` (Python
``re`` semantics, not ECMA-262), so that is what this module reproduces exactly:

- the pattern is parsed with ``re``'s own parser; character classes (including ``\\d \\w \\s``,
  ``.``, and case-insensitive atoms) are resolved by running ``re`` over every code point;
- *search* semantics: a branch not anchored at the start gets a ``.*`` prefix (any characters),
  one not anchored at the end a ``.*`` suffix; MULTILINE ``^``/``$`` accept a preceding / following
  line. ``$`` (without MULTILINE) is taken as the end of the string: Python's ``$`` would also match
  before a final ``\\n``, but ECMA-262 (the JSON Schema spec) and pydantic's regex engine do not, so
  accepting only the strict reading is sound for all of them (strings ending in ``\\n`` are the only
  loss);
- start anchors at the edges of top-level alternatives (after distributing leading and trailing
  groups) and end-of-string anchors (``$``, ``\\Z``) anywhere, e.g. inside a repetition like
  ``^(a($|/))*$`` (:func:`end_split`), are written as expressions directly;
- look-arounds, ``\\b``/``\\B`` and start anchors elsewhere go through the exact automaton of
  :mod:`~structgen.json_schema.lookaround`, written back as an expression (within a size budget)
  or else kept as that automaton (a :class:`~structgen.json_schema.lang.Machine`);
- back-references, conditionals, atomic groups and possessive repeats raise
  :class:`PatternUnsupported`.
"""
from __future__ import annotations

import functools
import re

try:  # Python 3.11+
    from re import _constants as C
    from re import _parser as P
except ImportError:  # pragma: no cover
    import sre_constants as C  # type: ignore
    import sre_parse as P  # type: ignore

from . import charsets as cs
from . import lang as L


class PatternUnsupported(Exception):
    """The pattern uses a construct that cannot be compiled exactly."""


class PatternInvalid(Exception):
    """The pattern is not a valid Python regular expression."""


_CATEGORY_TEXT = {
    C.CATEGORY_DIGIT: r"\d", C.CATEGORY_NOT_DIGIT: r"\D",
    C.CATEGORY_SPACE: r"\s", C.CATEGORY_NOT_SPACE: r"\S",
    C.CATEGORY_WORD: r"\w", C.CATEGORY_NOT_WORD: r"\W",
}

_CLASS_FLAGS = re.IGNORECASE | re.ASCII | re.DOTALL


def _esc(cp: int) -> str:
    return cs._esc(cp)


def _class_text(items) -> str:
    parts = []
    neg = False
    for op, av in items:
        if op is C.NEGATE:
            neg = True
        elif op is C.LITERAL:
            parts.append(_esc(av))
        elif op is C.RANGE:
            parts.append(f"{_esc(av[0])}-{_esc(av[1])}")
        elif op is C.CATEGORY:
            parts.append(_CATEGORY_TEXT[av])
        else:  # pragma: no cover - parser does not produce others inside IN
            raise PatternUnsupported(f"character class item {op}")
    return "[" + ("^" if neg else "") + "".join(parts) + "]"


@functools.lru_cache(maxsize=4096)
def _set_of(text: str, flags: int) -> cs.Ranges:
    return cs.ranges_matching(text, flags & _CLASS_FLAGS)


def _in_set(items, flags: int) -> cs.Ranges:
    if not (flags & re.IGNORECASE):
        simple = all(op in (C.LITERAL, C.RANGE, C.NEGATE) for op, _ in items)
        if simple:
            rs = []
            neg = False
            for op, av in items:
                if op is C.NEGATE:
                    neg = True
                elif op is C.LITERAL:
                    rs.append((av, av))
                else:
                    rs.append((av[0], av[1]))
            s = cs.normalize(rs)
            return cs.complement(s) if neg else s
    return _set_of(_class_text(items), flags)


def _convert(sub, flags: int) -> L.Lang:
    out = []
    for op, av in sub:
        out.append(_convert_item(op, av, flags))
    return L.cat(*out)


def _convert_item(op, av, flags: int) -> L.Lang:
    if op is C.LITERAL:
        if flags & re.IGNORECASE:
            return L.chars(_set_of(_esc(av), flags))
        return L.chars(cs.single(av)) if cs.contains(cs.UNIVERSE, av) else L.NONE
    if op is C.NOT_LITERAL:
        if flags & re.IGNORECASE:
            return L.chars(cs.complement(_set_of(_esc(av), flags)))
        return L.chars(cs.complement(cs.normalize([(av, av)])))
    if op is C.ANY:
        if flags & re.DOTALL:
            return L.chars(cs.UNIVERSE)
        return L.chars(cs.complement(cs.single(10)))
    if op is C.IN:
        return L.chars(_in_set(av, flags))
    if op is C.BRANCH:
        return L.alt(*(_convert(b, flags) for b in av[1]))
    if op is C.SUBPATTERN:
        _group, add_flags, del_flags, p = av
        return _convert(p, (flags | add_flags) & ~del_flags)
    if op in (C.MAX_REPEAT, C.MIN_REPEAT):
        lo, hi, p = av
        item = _convert(p, flags)
        if L.has_anchor(item) and not _only_end_anchors(item):
            raise PatternUnsupported("anchor inside a repetition (only end-of-string anchors are supported there)")
        return L.rep(item, lo, None if hi == C.MAXREPEAT else hi)
    if op is C.AT:
        if av in (C.AT_BEGINNING,):
            return L.Anchor("^m" if flags & re.MULTILINE else "A")
        if av is C.AT_BEGINNING_STRING:
            return L.Anchor("A")
        if av is C.AT_END:
            return L.Anchor("$m" if flags & re.MULTILINE else "$")
        if av is C.AT_END_STRING:
            return L.Anchor("Z")
        raise PatternUnsupported(f"word-boundary assertion ({av})")
    if op in (C.ASSERT, C.ASSERT_NOT):
        raise PatternUnsupported("look-around assertion")
    if op in (C.GROUPREF, getattr(C, "GROUPREF_EXISTS", None)):
        raise PatternUnsupported("back-reference")
    raise PatternUnsupported(f"regex construct {op}")


def parse_tree(pattern: str, flags: int = 0):
    """``re``'s parse tree of ``pattern`` (after ``re.compile`` accepted it): invalid syntax raises
    :class:`PatternInvalid`, a pattern too deep or large for ``re`` :class:`PatternUnsupported`."""
    try:
        re.compile(pattern, flags)
        return P.parse(pattern, flags)
    except re.error as e:
        raise PatternInvalid(f"invalid regular expression {pattern!r}: {e}") from None
    except (OverflowError, RecursionError) as e:
        raise PatternUnsupported(f"regular expression too complex: {e}") from None


@functools.lru_cache(maxsize=2048)
def parse(pattern: str, flags: int = 0) -> L.Lang:
    """The full-match language of ``pattern`` (may contain :class:`~lang.Anchor` nodes)."""
    tree = parse_tree(pattern, flags)
    gflags = tree.state.flags
    if gflags & re.LOCALE:  # pragma: no cover - not allowed for str patterns
        raise PatternUnsupported("LOCALE flag")
    return _convert(tree, gflags)


ANY_CHAR = L.chars(cs.UNIVERSE)
ANY_STRING = L.star(ANY_CHAR)
NEWLINE = L.chars(cs.single(10))

_MAX_BRANCHES = 256


def _split_edges(items: list[L.Lang], out: list[list[L.Lang]]) -> None:
    """Distribute leading/trailing alternations that contain anchors into separate branches."""
    if len(out) > _MAX_BRANCHES:
        raise PatternUnsupported("too many anchored alternatives")
    if items and isinstance(items[0], L.Or) and L.has_anchor(items[0]):
        for a in items[0].items:
            _split_edges(_items(a) + items[1:], out)
        return
    if items and isinstance(items[-1], L.Or) and L.has_anchor(items[-1]):
        for a in items[-1].items:
            _split_edges(items[:-1] + _items(a), out)
        return
    out.append(items)


def _items(x: L.Lang) -> list[L.Lang]:
    return list(x.items) if isinstance(x, L.Cat) else [x]


def _start_prefix(kinds: set[str]) -> L.Lang:
    if "A" in kinds:
        return L.EPS
    if "^m" in kinds:
        return L.opt(L.cat(ANY_STRING, NEWLINE))
    return ANY_STRING


def _end_suffix(kinds: set[str], python_dollar: bool = False) -> L.Lang:
    if "Z" in kinds:
        return L.EPS
    if "$" in kinds:
        # Python's "$" also matches before a final "\n"; by default we accept only the end of the
        # string (ECMA-262 / JSON Schema and pydantic semantics): a sound subset of what re.search
        # accepts, for positive uses
        return L.opt(NEWLINE) if python_dollar else L.EPS
    if "$m" in kinds:
        return L.opt(L.cat(NEWLINE, ANY_STRING))
    return ANY_STRING


_END_KINDS = ("$", "Z")  # non-MULTILINE "$" is read as the end of the string (module docstring)


def _only_end_anchors(x: L.Lang) -> bool:
    """Every anchor in ``x`` is an end-of-string anchor."""
    if isinstance(x, L.Anchor):
        return x.kind in _END_KINDS
    if isinstance(x, (L.Cat, L.Or)):
        return all(_only_end_anchors(i) for i in x.items)
    if isinstance(x, L.Rep):
        return _only_end_anchors(x.item)
    return True


def _empty_at_end(x: L.Lang) -> bool:
    """``x`` can match the empty string at the end of the input (end anchors succeed there)."""
    if isinstance(x, L.Anchor):
        return True
    if isinstance(x, L.Chars):
        return False
    if isinstance(x, L.Cat):
        return all(_empty_at_end(i) for i in x.items)
    if isinstance(x, L.Or):
        return any(_empty_at_end(i) for i in x.items)
    if isinstance(x, L.Rep):
        return x.min == 0 or _empty_at_end(x.item)
    raise TypeError(x)


def end_split(x: L.Lang) -> tuple[L.Lang, L.Lang]:
    """``(N, T)`` for an expression whose anchors are all end-of-string anchors: ``N`` the strings
    ``x`` matches without passing an end anchor, ``T`` those it matches along a path that passes
    one — after it nothing more can be read, so the match must end the input. Both are free of
    anchors; the strings of ``x`` at the end of the input are ``N ∪ T``, elsewhere ``N``."""
    if isinstance(x, L.Anchor):
        return L.NONE, L.EPS
    if isinstance(x, L.Chars) or not L.has_anchor(x):
        return x, L.NONE
    if isinstance(x, L.Or):
        parts = [end_split(i) for i in x.items]
        return L.alt(*(n for n, _ in parts)), L.alt(*(t for _, t in parts))
    if isinstance(x, L.Cat):
        n_acc, t_acc = L.EPS, L.NONE
        for item in x.items:
            n_i, t_i = end_split(item)
            t_acc = L.alt(L.cat(n_acc, t_i), t_acc if _empty_at_end(item) else L.NONE)
            n_acc = L.cat(n_acc, n_i)
        return n_acc, t_acc
    if isinstance(x, L.Rep):
        n_i, t_i = end_split(x.item)
        hi = x.max
        if hi == 0:
            return L.EPS, L.NONE
        # j plain iterations, one passing the end, then the remaining iterations (if the minimum
        # needs more) must match the empty string at the end
        lo_j = 0 if _empty_at_end(x.item) else max(x.min - 1, 0)
        return L.rep(n_i, x.min, hi), L.cat(L.rep(n_i, lo_j, None if hi is None else hi - 1), t_i)
    raise TypeError(x)


#: expression nodes allowed for a pattern's language written back from its look-around automaton
LOOKAROUND_EXPR_BUDGET = 6000


@functools.lru_cache(maxsize=2048)
def search_language(pattern: str) -> L.Lang:
    """Strings ``s`` (without lone surrogates) with ``re.search(pattern, s)`` — exactly, except that a
    non-MULTILINE ``$`` does not match before a final newline (see the module docstring).

    Patterns with look-arounds, ``\\b``/``\\B`` or start anchors where an expression cannot
    place them go through :mod:`~structgen.json_schema.lookaround` (an exact automaton, written
    back as an expression when it fits, else kept as a :class:`~structgen.json_schema.lang.Machine`)."""
    try:
        return _search_language(pattern)
    except PatternUnsupported as first:
        from . import fsa
        from .lookaround import search_dfa

        try:
            d = search_dfa(pattern)
        except PatternUnsupported as e:
            raise PatternUnsupported(f"{first}; {e}" if str(e) != str(first) else str(e)) from None
        try:
            return fsa.to_lang_or_machine(d, LOOKAROUND_EXPR_BUDGET)
        except fsa.AutomatonTooLarge as e:
            raise PatternUnsupported(f"{first}: its exact automaton is too large to use ({e})") from None


@functools.lru_cache(maxsize=1024)
def search_language_python(pattern: str) -> L.Lang:
    """Strings ``s`` (without lone surrogates) with ``re.search(pattern, s)`` exactly, Python's
    ``$`` included (it also matches before a final ``\\n``): a superset of
    :func:`search_language`, equal to it unless the pattern has a non-MULTILINE ``$``. This is
    the language for *negative* uses -- ``not``/``pattern``, keys that do not match a
    ``patternProperties`` pattern, disjointness proofs -- where the strict reading would let
    through strings that ``jsonschema`` sees matching."""
    tree = parse_tree(pattern)
    if tree.state.flags & re.MULTILINE or not _has_dollar(tree):
        return search_language(pattern)
    try:
        return _search_language(pattern, python_dollar=True)
    except PatternUnsupported:
        pass
    from . import fsa
    from .lookaround import search_dfa

    try:
        return fsa.to_lang_or_machine(search_dfa(pattern, python_dollar=True), LOOKAROUND_EXPR_BUDGET)
    except fsa.AutomatonTooLarge as e:
        raise PatternUnsupported(f"its exact automaton with Python's '$' is too large to use ({e})") from None


def _has_dollar(tree) -> bool:
    """The parse tree (or any part of it) holds a ``$`` anchor."""
    for op, av in tree:
        if op is C.AT and av is C.AT_END:
            return True
        stack = [av]
        while stack:
            x = stack.pop()
            if isinstance(x, P.SubPattern):
                if _has_dollar(x):
                    return True
            elif isinstance(x, (tuple, list)):
                stack.extend(x)
    return False


def _search_language(pattern: str, python_dollar: bool = False) -> L.Lang:
    """:func:`search_language` by expressions; ``python_dollar``: Python's ``$`` (only where every
    ``$`` ends a top-level branch -- after a ``$`` that matched before the final newline the
    pattern could still read it, which :func:`end_split` does not model)."""
    tree = parse(pattern)
    branches: list[list[L.Lang]] = []
    top = tree.items if isinstance(tree, L.Or) else (tree,)
    for b in top:
        _split_edges(_items(b), branches)
    groups: dict[tuple, list[L.Lang]] = {}
    for items in branches:
        items = list(items)
        start: set[str] = set()
        end: set[str] = set()
        while items and isinstance(items[0], L.Anchor) and items[0].kind in ("A", "^m"):
            start.add(items.pop(0).kind)
        while items and isinstance(items[-1], L.Anchor) and items[-1].kind in ("Z", "$", "$m"):
            end.add(items.pop().kind)
        if not items and not end:
            # e.g. "^" alone, or anchors only at the start
            pass
        body = L.cat(*items)
        if python_dollar and L.has_anchor(body, "$"):
            raise PatternUnsupported("'$' inside the pattern (Python's reading)")
        if L.has_anchor(body):
            if not _only_end_anchors(body):
                # start anchors in the middle, or a branch made only of anchors like "$^"
                raise PatternUnsupported("anchor that is not at the start or end of the pattern")
            # end-of-string anchors inside: matches that pass one end here
            body, at_end = end_split(body)
            if not L.is_nothing(at_end):
                groups.setdefault((frozenset(start), frozenset({"Z"})), []).append(at_end)
        groups.setdefault((frozenset(start), frozenset(end)), []).append(body)
    # one shared prefix/suffix per anchoring kind (separate ".*" suffixes per branch would make the
    # subset construction track which branches already matched: exponential)
    return L.alt(*(L.cat(_start_prefix(set(st)), L.alt(*bodies), _end_suffix(set(en), python_dollar))
                   for (st, en), bodies in groups.items()))


def fullmatch_language(pattern: str) -> L.Lang:
    """Strings ``s`` with ``re.fullmatch(pattern, s)`` (used for format regexes; no anchors)."""
    tree = parse(pattern)
    if L.has_anchor(tree):
        raise PatternUnsupported("anchors in a full-match pattern")
    return tree
