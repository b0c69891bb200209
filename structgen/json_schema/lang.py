"""A small regular-expression AST over code points (or any integer alphabet).

This is the working form of string languages in the JSON Schema front end: ``pattern`` regexes,
``format`` regexes, length bounds and key exclusions are built here, combined by automaton
operations (:mod:`structgen.json_schema.fsa`) when needed, and finally *encoded* as grammar IR over
the JSON-escaped form (:mod:`structgen.json_schema.encoding`). Numbers use the same AST over ASCII.

Nodes are immutable and hashable (hash cached); smart constructors simplify as they build.
"""
from __future__ import annotations

from typing import Iterable

from . import charsets as cs
from .charsets import Ranges


class Lang:
    __slots__ = ("_hash", "_size")

    def key(self) -> tuple:  # pragma: no cover - abstract
        raise NotImplementedError

    def __hash__(self) -> int:
        h = getattr(self, "_hash", None)
        if h is None:
            h = hash(self.key())
            object.__setattr__(self, "_hash", h)
        return h

    def __eq__(self, other) -> bool:
        return self is other or (type(self) is type(other) and hash(self) == hash(other) and self.key() == other.key())

    @property
    def size(self) -> int:
        s = getattr(self, "_size", None)
        if s is None:
            s = self._compute_size()
            object.__setattr__(self, "_size", s)
        return s

    def _compute_size(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError


class Chars(Lang):
    """One character from ``ranges``."""

    __slots__ = ("ranges",)

    def __init__(self, ranges: Ranges):
        object.__setattr__(self, "ranges", ranges)

    def key(self):
        return ("C", self.ranges)

    def _compute_size(self):
        return 1

    def __repr__(self):
        return f"Chars({cs.class_regex(self.ranges) if self.ranges else '∅'})"


class Cat(Lang):
    __slots__ = ("items",)

    def __init__(self, items: tuple):
        object.__setattr__(self, "items", items)

    def key(self):
        return ("S", self.items)

    def _compute_size(self):
        return 1 + sum(i.size for i in self.items)

    def __repr__(self):
        return f"Cat{self.items!r}"


class Or(Lang):
    __slots__ = ("items",)

    def __init__(self, items: tuple):
        object.__setattr__(self, "items", items)

    def key(self):
        return ("A", self.items)

    def _compute_size(self):
        return 1 + sum(i.size for i in self.items)

    def __repr__(self):
        return f"Or{self.items!r}"


class Rep(Lang):
    __slots__ = ("item", "min", "max")

    def __init__(self, item: Lang, lo: int, hi: int | None):
        object.__setattr__(self, "item", item)
        object.__setattr__(self, "min", lo)
        object.__setattr__(self, "max", hi)

    def key(self):
        return ("R", self.item, self.min, self.max)

    def _compute_size(self):
        return 1 + self.item.size

    def __repr__(self):
        return f"Rep({self.item!r},{self.min},{self.max})"


class Anchor(Lang):
    """A zero-width assertion from a parsed regex (only before the search transform)."""

    __slots__ = ("kind",)

    def __init__(self, kind: str):
        object.__setattr__(self, "kind", kind)

    def key(self):
        return ("@", self.kind)

    def _compute_size(self):
        return 1

    def __repr__(self):
        return f"Anchor({self.kind})"


class Machine(Lang):
    """A language given as a deterministic automaton over code points (a
    :class:`~structgen.json_schema.fsa.DFA`), for results of automaton operations too large to
    write back as an expression (build with :func:`~structgen.json_schema.fsa.machine`). It is
    encoded straight to a byte automaton (:mod:`~structgen.json_schema.machine_encoding`) and
    embedded as is by further automaton operations. ``lengths`` is its :func:`length_range`."""

    __slots__ = ("dfa", "lengths", "_key")

    def __init__(self, dfa, lengths: tuple[int, int | None] | None):
        object.__setattr__(self, "dfa", dfa)
        object.__setattr__(self, "lengths", lengths)
        rows = tuple(tuple(sorted(row.items())) for row in dfa.trans)
        object.__setattr__(self, "_key", ("M", tuple(dfa.atoms), rows, tuple(dfa.accept)))

    def key(self):
        return self._key

    def _compute_size(self):
        return self.dfa.n_states

    def __repr__(self):
        return f"Machine({self.dfa.n_states} states)"


EPS = Cat(())
NONE = Or(())


def chars(ranges: Ranges) -> Lang:
    return Chars(ranges) if ranges else NONE


def lit(text: str) -> Lang:
    return cat(*(Chars(cs.single(ord(c))) for c in text))


def cat(*items: Lang) -> Lang:
    out: list[Lang] = []
    for it in items:
        if it is NONE or (isinstance(it, Or) and not it.items):
            return NONE
        if isinstance(it, Cat):
            out.extend(it.items)
        else:
            out.append(it)
    if len(out) == 1:
        return out[0]
    return Cat(tuple(out))


def alt(*items: Lang) -> Lang:
    """Union; merges single-character alternatives into one :class:`Chars`."""
    out: list[Lang] = []
    seen = set()
    char_ranges: list[Ranges] = []
    first_char_pos = -1
    for it in items:
        for sub in (it.items if isinstance(it, Or) else (it,)):
            if isinstance(sub, Chars):
                if first_char_pos < 0:
                    first_char_pos = len(out)
                    out.append(sub)  # placeholder, replaced below
                char_ranges.append(sub.ranges)
                continue
            if sub not in seen:
                seen.add(sub)
                out.append(sub)
    if char_ranges:
        out[first_char_pos] = Chars(cs.union(*char_ranges))
    if len(out) == 1:
        return out[0]
    return Or(tuple(out))


def rep(item: Lang, lo: int, hi: int | None) -> Lang:
    if hi is not None and hi < lo:
        return NONE
    if hi == 0:
        return EPS
    if item == EPS:
        return EPS
    if item is NONE or (isinstance(item, Or) and not item.items):
        return EPS if lo == 0 else NONE
    if lo == 1 and hi == 1:
        return item
    return Rep(item, lo, hi)


def opt(item: Lang) -> Lang:
    return rep(item, 0, 1)


def star(item: Lang) -> Lang:
    return rep(item, 0, None)


def is_nothing(x: Lang) -> bool:
    return isinstance(x, Or) and not x.items


def length_range(x: Lang) -> tuple[int, int | None] | None:
    """(min, max) length in characters of the strings of ``x``; None if the language is empty."""
    if isinstance(x, Chars):
        return (1, 1) if x.ranges else None
    if isinstance(x, Anchor):
        return (0, 0)
    if isinstance(x, Machine):
        return x.lengths
    if isinstance(x, Cat):
        lo, hi = 0, 0
        for it in x.items:
            r = length_range(it)
            if r is None:
                return None
            lo += r[0]
            hi = None if hi is None or r[1] is None else hi + r[1]
        return lo, hi
    if isinstance(x, Or):
        rs = [r for r in (length_range(i) for i in x.items) if r is not None]
        if not rs:
            return None
        lo = min(r[0] for r in rs)
        hi = None if any(r[1] is None for r in rs) else max(r[1] for r in rs)
        return lo, hi
    if isinstance(x, Rep):
        r = length_range(x.item)
        if r is None:
            return (0, 0) if x.min == 0 else None
        lo = r[0] * x.min
        if x.max is None:
            hi = None if r[1] is None or r[1] > 0 else 0
        else:
            hi = None if r[1] is None else r[1] * x.max
        return lo, hi
    raise TypeError(x)


def has_anchor(x: Lang, kind: str | None = None) -> bool:
    """``x`` holds an anchor (of ``kind``, when given)."""
    if isinstance(x, Anchor):
        return kind is None or x.kind == kind
    if isinstance(x, (Cat, Or)):
        return any(has_anchor(i, kind) for i in x.items)
    if isinstance(x, Rep):
        return has_anchor(x.item, kind)
    return False


def finite_strings(x: Lang, limit: int) -> list[tuple[int, ...]] | None:
    """All strings of ``x`` as code point tuples if there are at most ``limit``, else None."""
    if isinstance(x, Chars):
        if cs.size(x.ranges) > limit:
            return None
        return [(c,) for lo, hi in x.ranges for c in range(lo, hi + 1)]
    if isinstance(x, Cat):
        acc: list[tuple[int, ...]] = [()]
        for it in x.items:
            sub = finite_strings(it, limit)
            if sub is None:
                return None
            acc = [a + b for a in acc for b in sub]
            if len(acc) > limit:
                return None
        return acc
    if isinstance(x, Or):
        acc_set: dict[tuple[int, ...], None] = {}
        for it in x.items:
            sub = finite_strings(it, limit)
            if sub is None:
                return None
            acc_set.update(dict.fromkeys(sub))
            if len(acc_set) > limit:
                return None
        return list(acc_set)
    if isinstance(x, Rep):
        if x.max is None:
            sub = finite_strings(x.item, limit)
            if sub is None or any(len(s) for s in sub):
                return None
            return [()]
        out: dict[tuple[int, ...], None] = {}
        sub = finite_strings(x.item, limit)
        if sub is None:
            return None
        layer: list[tuple[int, ...]] = [()]
        for k in range(x.max + 1):
            if k >= x.min:
                out.update(dict.fromkeys(layer))
            if k == x.max:
                break
            layer = list(dict.fromkeys(a + b for a in layer for b in sub))
            if len(layer) > limit or len(out) > limit:
                return None
        return list(out)
    return None


def to_regex(x: Lang) -> str:
    """Python regex text for ``x`` (full-match semantics; characters as classes/escapes)."""
    if isinstance(x, Chars):
        return cs.class_regex(x.ranges) if x.ranges else "[^\\x00-\\U0010ffff]"
    if isinstance(x, Cat):
        return "".join(_group(i, in_cat=True) for i in x.items)
    if isinstance(x, Or):
        if not x.items:
            return "[^\\x00-\\U0010ffff]"
        return "|".join(to_regex(i) for i in x.items)
    if isinstance(x, Rep):
        inner = _group(x.item, in_cat=False)
        if x.max is None:
            q = "*" if x.min == 0 else "+" if x.min == 1 else f"{{{x.min},}}"
        elif x.min == 0 and x.max == 1:
            q = "?"
        elif x.min == x.max:
            q = f"{{{x.min}}}"
        else:
            q = f"{{{x.min},{x.max}}}"
        return inner + q
    raise TypeError(x)


def _group(x: Lang, in_cat: bool) -> str:
    if isinstance(x, Chars):
        return to_regex(x)
    if isinstance(x, Cat) and in_cat and x.items:
        return to_regex(x)
    if isinstance(x, Rep) and in_cat:
        return to_regex(x)
    return "(?:" + to_regex(x) + ")"


def concat_all(items: Iterable[Lang]) -> Lang:
    return cat(*items)
