"""Normal form of schemas: disjunctions of *clauses*, each a conjunction of per-type constraints.

Every schema (combinators included) is turned into a list of :class:`Clause` (its disjunctive
normal form, DNF). A clause says which JSON types are allowed and, per type, what constrains a
value of that type; constraints of the other types do not apply (JSON Schema keywords only
constrain instances of their own type). Subschemas that constrain *nested* values (property
values, array items) are kept as :data:`Conj` — conjunctions of (:class:`~refs.Node`, negated)
pairs — and compiled later, lazily, into their own rules.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional

from .numbers import Bound, tighter_lower, tighter_upper
from .refs import Node


class _CachedKey:
    """Mixin for frozen specs: ``key()`` (a hashable structural identity) computed once per
    instance (specs are immutable; ``dataclasses.replace`` makes a new instance)."""

    def key(self) -> tuple:
        k = self.__dict__.get("_key")
        if k is None:
            k = self._compute_key()
            object.__setattr__(self, "_key", k)
        return k

#: JSON value kinds. ``int``/``frac`` split numbers into integer-valued and the rest (for draft 4,
#: where ``1.0`` is not an integer: int-spelled and float-spelled).
TYPES = ("null", "boolean", "object", "array", "string", "int", "frac")
ALL_TYPES = frozenset(TYPES)

#: A conjunction of subschemas, each possibly negated: ((node, negated), ...)
Conj = tuple


def type_kinds(name: str) -> frozenset[str]:
    if name == "number":
        return frozenset(("int", "frac"))
    if name == "integer":
        return frozenset(("int",))
    return frozenset((name,))


@dataclass(frozen=True)
class StringSpec:
    min_len: int = 0
    max_len: Optional[int] = None
    patterns: tuple = ()        # ((pattern, pointer), ...)
    not_patterns: tuple = ()    # ((pattern, pointer), ...)
    formats: tuple = ()         # ((format, pointer), ...)

    def merge(self, o: "StringSpec") -> "StringSpec":
        return StringSpec(
            max(self.min_len, o.min_len),
            self.max_len if o.max_len is None else o.max_len if self.max_len is None else min(self.max_len, o.max_len),
            self.patterns + o.patterns,
            self.not_patterns + o.not_patterns,
            self.formats + o.formats,
        )

    @property
    def trivial(self) -> bool:
        return self.min_len == 0 and self.max_len is None and not self.patterns and not self.not_patterns and not self.formats


@dataclass(frozen=True)
class NumberSpec:
    lower: Optional[Bound] = None
    upper: Optional[Bound] = None
    multiples: tuple = ()       # ((divisor, pointer), ...)
    not_multiples: tuple = ()   # ((integer divisor, pointer), ...): from 'not' of multipleOf

    def merge(self, o: "NumberSpec") -> "NumberSpec":
        return NumberSpec(tighter_lower(self.lower, o.lower), tighter_upper(self.upper, o.upper),
                          self.multiples + o.multiples, self.not_multiples + o.not_multiples)

    @property
    def trivial(self) -> bool:
        return self.lower is None and self.upper is None and not self.multiples and not self.not_multiples


@dataclass(frozen=True)
class ObjPiece(_CachedKey):
    """One schema's ``properties`` / ``patternProperties`` / ``additionalProperties`` (they are
    relative to each other, so each schema's triple stays together)."""

    props: tuple = ()           # ((name, Conj), ...)
    patterns: tuple = ()        # ((pattern, Conj, pointer), ...)
    additional: Optional[Conj] = None   # None: unconstrained
    pointer: str = ""
    #: whether the piece's keywords "evaluate" properties (for unevaluatedProperties); pieces made
    #: by negation or by the dependency encoding do not
    evaluates: bool = True

    def _compute_key(self) -> tuple:
        return (tuple((n, conj_key(c)) for n, c in self.props),
                tuple((p, conj_key(c)) for p, c, _ in self.patterns),
                None if self.additional is None else conj_key(self.additional))


@dataclass(frozen=True)
class KeyWitness(_CachedKey):
    """"Some member's key and value satisfy this" — what negating ``properties`` /
    ``patternProperties`` / ``additionalProperties`` / ``propertyNames`` leaves: the object has a
    member whose key matches every ``in_patterns`` (``re.search``), is none of ``out_names``,
    matches none of ``out_patterns``, fails ``key_not`` (a propertyNames conj; None: no such
    condition), and whose value satisfies ``value`` (``()``: any value)."""

    in_patterns: tuple = ()     # ((pattern, pointer), ...)
    out_names: tuple = ()       # (name, ...)
    out_patterns: tuple = ()    # ((pattern, pointer), ...)
    key_not: Optional[Conj] = None
    value: Conj = ()
    keyword: str = "additionalProperties"
    pointer: str = ""

    def _compute_key(self) -> tuple:
        return (tuple(p for p, _ in self.in_patterns), self.out_names, tuple(p for p, _ in self.out_patterns),
                None if self.key_not is None else conj_key(self.key_not), conj_key(self.value))


@dataclass(frozen=True)
class ObjectSpec(_CachedKey):
    pieces: tuple = ()
    required: tuple = ()         # ordered, no duplicates
    min_props: int = 0
    max_props: Optional[int] = None
    names: tuple = ()           # (Conj, ...) propertyNames constraints
    pointer: str = ""
    witnesses: tuple = ()       # (KeyWitness, ...): each must be met by some member

    def merge(self, o: "ObjectSpec") -> "ObjectSpec":
        seen = {w.key() for w in self.witnesses}
        return ObjectSpec(
            self.pieces + o.pieces, self.required + tuple(r for r in o.required if r not in self.required), max(self.min_props, o.min_props),
            self.max_props if o.max_props is None else o.max_props if self.max_props is None else min(self.max_props, o.max_props),
            self.names + o.names, self.pointer or o.pointer,
            self.witnesses + tuple(w for w in o.witnesses if w.key() not in seen))

    def piece_keys(self) -> frozenset:
        """The pieces' keys, as a set (computed once)."""
        k = self.__dict__.get("_piece_keys")
        if k is None:
            k = frozenset(p.key() for p in self.pieces)
            object.__setattr__(self, "_piece_keys", k)
        return k

    @property
    def trivial(self) -> bool:
        return (not self.pieces and not self.required and self.min_props == 0 and self.max_props is None
                and not self.names and not self.witnesses)

    def _compute_key(self) -> tuple:
        return (tuple(p.key() for p in self.pieces), self.required, self.min_props, self.max_props,
                tuple(conj_key(c) for c in self.names), tuple(w.key() for w in self.witnesses))


@dataclass(frozen=True)
class ArrPiece(_CachedKey):
    prefix: tuple = ()          # (Conj, ...)
    rest: Optional[Conj] = None  # None: unconstrained
    pointer: str = ""
    evaluates: bool = True

    def _compute_key(self) -> tuple:
        return (tuple(conj_key(c) for c in self.prefix), None if self.rest is None else conj_key(self.rest))


@dataclass(frozen=True)
class ArraySpec(_CachedKey):
    pieces: tuple = ()
    contains: tuple = ()        # ((Conj, min, max, pointer), ...)
    min_items: int = 0
    max_items: Optional[int] = None
    unique: tuple = ()          # (pointer,) when uniqueItems: true
    pointer: str = ""

    def merge(self, o: "ArraySpec") -> "ArraySpec":
        return ArraySpec(
            self.pieces + o.pieces, self.contains + o.contains, max(self.min_items, o.min_items),
            self.max_items if o.max_items is None else o.max_items if self.max_items is None else min(self.max_items, o.max_items),
            self.unique + o.unique, self.pointer or o.pointer)

    @property
    def trivial(self) -> bool:
        return not self.pieces and not self.contains and self.min_items == 0 and self.max_items is None and not self.unique

    def _compute_key(self) -> tuple:
        return (tuple(p.key() for p in self.pieces),
                tuple((conj_key(c), lo, hi) for c, lo, hi, _ in self.contains),
                self.min_items, self.max_items, bool(self.unique))


@dataclass(frozen=True)
class Clause:
    types: frozenset = ALL_TYPES
    enum: Optional[tuple] = None      # allowed values (None: no enum constraint)
    enum_pointer: str = ""
    excluded: tuple = ()              # values that are not allowed ((value, pointer), ...)
    string: StringSpec = field(default_factory=StringSpec)
    number: NumberSpec = field(default_factory=NumberSpec)
    obj: ObjectSpec = field(default_factory=ObjectSpec)
    arr: ArraySpec = field(default_factory=ArraySpec)

    def merge(self, o: "Clause") -> "Clause":
        from .values import intersect_values

        if self.enum is None:
            enum, ep = o.enum, o.enum_pointer
        elif o.enum is None:
            enum, ep = self.enum, self.enum_pointer
        else:
            enum, ep = intersect_values(self.enum, o.enum), self.enum_pointer or o.enum_pointer
        return Clause(self.types & o.types, enum, ep, self.excluded + o.excluded, self.string.merge(o.string),
                      self.number.merge(o.number), self.obj.merge(o.obj), self.arr.merge(o.arr))

    @property
    def empty(self) -> bool:
        return not self.types or (self.enum is not None and len(self.enum) == 0)

    def with_types(self, types) -> "Clause":
        return replace(self, types=frozenset(types))


TOP = Clause()


def conj_key(c: Conj) -> tuple:
    return tuple((n.key(), neg) for n, neg in c)


def conj_pointer(c: Conj) -> str:
    return c[0][0].pointer if c else ""
