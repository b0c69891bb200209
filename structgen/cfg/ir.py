"""Grammar IR: what every front end (regex, Lark, JSON Schema, pydantic) compiles to.

A :class:`Grammar` is a set of named rules; each rule body is an :class:`Expr` tree over
byte-level terminals (:class:`Regex`, :class:`Literal`, :class:`Bytes`, :class:`Automaton`) and
references to other rules (:class:`Ref`). The language of a rule is the usual context-free one:
terminals match *any* string of their regular language (no maximal munch, no lexer), so the
language of the grammar is exactly the CFG language with terminals substituted by their regular
languages.

The IR is vocabulary-independent and hashable (frozen dataclasses; :class:`Automaton` by a
content digest), so it can key caches.
:func:`structgen.cfg.compiler.compile_grammar` turns it into a :class:`GrammarAutomaton`.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Mapping


class Expr:
    """Base class of IR expressions (immutable, hashable)."""

    __slots__ = ()


@dataclass(frozen=True)
class Regex(Expr):
    """A terminal: the full-match language of a Python regex ``pattern`` (UTF-8 encoded bytes).

    ``flags`` are ``re`` flags (``re.IGNORECASE``, ``re.DOTALL``, ...). ``^``/``$`` are allowed
    only at the ends (full-match semantics anyway).
    """

    pattern: str
    flags: int = 0


@dataclass(frozen=True)
class Literal(Expr):
    """A terminal matching exactly the UTF-8 encoding of ``text``."""

    text: str


@dataclass(frozen=True)
class Bytes(Expr):
    """A terminal matching exactly the byte string ``data`` (may be invalid UTF-8 on purpose)."""

    data: bytes


class Automaton(Expr):
    """A terminal given directly as a deterministic byte automaton, for front ends that can build
    one faster than its regex would compile (e.g. "any key but these names" from the names' trie).

    ``table`` is the transition table as int32 native-order bytes, row-major ``n × 256``
    (``-1``: no edge); ``accept`` one byte per state (non-zero: accepting); the start state is 0.
    The language is the set of byte strings leading from 0 to an accepting state. Equality and
    hash are by content (a digest computed once); the grammar compiler validates the shape and
    raises :class:`~structgen.errors.GrammarError` for a malformed table.
    """

    __slots__ = ("table", "accept", "digest")

    def __init__(self, table: bytes, accept: bytes) -> None:
        object.__setattr__(self, "table", bytes(table))
        object.__setattr__(self, "accept", bytes(accept))
        h = hashlib.sha1(len(self.accept).to_bytes(8, "little"))
        h.update(self.accept)
        h.update(self.table)
        object.__setattr__(self, "digest", h.hexdigest())

    def __setattr__(self, name, value):  # immutable, like the dataclass nodes
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __reduce__(self):
        return (Automaton, (self.table, self.accept))

    @property
    def n_states(self) -> int:
        return len(self.accept)

    def __eq__(self, other: object) -> bool:
        return self is other or (type(other) is Automaton and self.digest == other.digest)

    def __hash__(self) -> int:
        return hash(self.digest)

    def __repr__(self) -> str:
        return f"Automaton(<{self.n_states} states, {self.digest[:12]}>)"


@dataclass(frozen=True)
class Ref(Expr):
    """A reference to the rule named ``name`` (recursion allowed, left recursion included)."""

    name: str


@dataclass(frozen=True)
class Seq(Expr):
    """Concatenation. ``Seq(())`` is the empty string."""

    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Alt(Expr):
    """Alternation. ``Alt(())`` is the empty language (matches nothing)."""

    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Repeat(Expr):
    """``item`` repeated between ``min`` and ``max`` times (``max=None``: unbounded)."""

    item: Expr
    min: int = 0
    max: int | None = None


EMPTY = Seq(())
NOTHING = Alt(())

#: Rule-name prefix of *arrays of distinct JSON strings*. A rule whose name starts with it must
#: derive ``[`` + JSON strings separated by ``,`` and JSON whitespace + ``]`` (nothing else), and
#: every proper prefix of an element must have infinitely many completions unless the elements are
#: calls of a :data:`UNIQUE_ELEMENT_PREFIX` rule; the grammar itself
#: lets duplicates through and the runtime (``structgen.runtime.unique``) rejects a string equal
#: to an earlier element of the same array. Front ends other than JSON Schema never produce it
#: (``@`` cannot appear in a Lark rule name).
UNIQUE_STRINGS_PREFIX = "@unique_strings"

#: Rule-name prefix of *arrays of distinct integers*: as :data:`UNIQUE_STRINGS_PREFIX`, but the
#: elements are integers spelled ``-?(0|[1-9][0-9]*)`` optionally followed by ``.0+`` (so ``1`` and
#: ``1.0`` are the same value, as are ``0`` and ``-0``), each a call of one
#: :data:`UNIQUE_ELEMENT_PREFIX` rule; an element ends at the first byte that cannot continue a
#: number.
UNIQUE_INTEGERS_PREFIX = "@unique_integers"

#: Rule-name prefix of *arrays of distinct objects*: ``[`` + JSON objects separated by ``,`` and
#: JSON whitespace + ``]``, where every unfinished element can still become infinitely many
#: different values (a new additional property can always be added), so the only dead tokens
#: are those that close an element equal (as ``jsonschema`` compares values) to an earlier one.
UNIQUE_OBJECTS_PREFIX = "@unique_objects"

#: Rule-name prefix of the *element* of an array of distinct strings whose elements are not all
#: open-ended (finite languages: ``enum``, ``maxLength``, ``format: uuid``), or of distinct
#: integers. Such an array is a :data:`UNIQUE_STRINGS_PREFIX` (or :data:`UNIQUE_INTEGERS_PREFIX`)
#: rule whose every element is a call of one rule named with this prefix; that rule derives JSON
#: string texts (quotes included) — or integer texts — with no calls of its own. The runtime
#: follows the element's
#: state in that rule to keep masks sound: a prefix whose every completion is an earlier element
#: is dead, and so is a ``,`` once every value has been used.
UNIQUE_ELEMENT_PREFIX = "@unique_element"


def seq(*items: Expr) -> Expr:
    """Concatenation, flattening nested Seqs and dropping empty strings."""
    out: list[Expr] = []
    for it in items:
        if isinstance(it, Seq):
            out.extend(it.items)
        else:
            out.append(it)
    if len(out) == 1:
        return out[0]
    return Seq(tuple(out))


def alt(*items: Expr) -> Expr:
    """Alternation, flattening nested Alts and removing exact duplicates (order kept)."""
    out: list[Expr] = []
    seen = set()
    for it in items:
        for sub in (it.items if isinstance(it, Alt) else (it,)):
            if sub not in seen:
                seen.add(sub)
                out.append(sub)
    if len(out) == 1:
        return out[0]
    return Alt(tuple(out))


def opt(item: Expr) -> Expr:
    return Repeat(item, 0, 1)


def star(item: Expr) -> Expr:
    return Repeat(item, 0, None)


def plus(item: Expr) -> Expr:
    return Repeat(item, 1, None)


@dataclass(frozen=True)
class Grammar:
    """A set of rules and a start rule. ``rules`` maps rule name -> body expression.

    Invariants checked by the compiler (raising :class:`~structgen.errors.GrammarError`):
    every :class:`Ref` names a rule in ``rules``; ``start`` is in ``rules``; the language of
    ``start`` is non-empty.
    """

    rules: Mapping[str, Expr]
    start: str = "start"
    # Free-form provenance for error messages / stats (not part of the language).
    name: str = field(default="", compare=False)

    def __hash__(self) -> int:  # rules is a dict; hash by content
        return hash((tuple(sorted(self.rules.items(), key=lambda kv: kv[0])), self.start))

    @staticmethod
    def single(expr: Expr, name: str = "") -> "Grammar":
        """A grammar with one rule ``start`` whose body is ``expr``."""
        return Grammar({"start": expr}, "start", name)
