"""Exception classes. Every failure structgen can diagnose gets its own specific class.

All inherit from :class:`StructgenError`, so ``except StructgenError`` catches everything
structgen raises on purpose.
"""
from __future__ import annotations


class StructgenError(Exception):
    """Base class of all structgen errors."""


class TokenizerError(StructgenError):
    """A tokenizer could not be turned into a :class:`~structgen.vocab.Vocabulary`."""


class RegexError(StructgenError, ValueError):
    """A regular expression is invalid or uses a construct structgen cannot compile exactly.

    ``construct`` names the offending construct (e.g. ``"backreference"``), ``position`` is the
    character offset in ``pattern`` where it starts (``None`` when unknown).
    """

    def __init__(self, message: str, pattern: str | None = None, position: int | None = None,
                 construct: str | None = None):
        self.pattern = pattern
        self.position = position
        self.construct = construct
        where = ""
        if pattern is not None:
            where = f" in pattern {pattern!r}"
            if position is not None:
                where += f" at position {position}"
        super().__init__(message + where)


class GrammarError(StructgenError, ValueError):
    """A grammar is malformed: undefined rule/terminal, empty language, unsupported feature."""


class UnsupportedSchemaError(StructgenError, ValueError):
    """A JSON Schema uses a keyword (or keyword combination) that cannot be enforced exactly.

    ``keyword`` is the keyword, ``pointer`` the JSON pointer of the (sub)schema that holds it.
    """

    def __init__(self, message: str, keyword: str | None = None, pointer: str = ""):
        self.keyword = keyword
        self.pointer = pointer
        loc = f" (keyword {keyword!r} at {pointer or '#'})" if keyword else (f" (at {pointer})" if pointer else "")
        super().__init__(message + loc)


class UnsatisfiableSchemaError(UnsupportedSchemaError):
    """No JSON value satisfies the schema (e.g. ``false``, ``{"not": {}}``, required properties
    that a ``oneOf`` forbids): its language is empty, so there is nothing to generate. Raised at
    compile time instead of returning a grammar that allows no token. The verdict is exact unless
    a sound subset was used on the way (those are announced by a ``SchemaApproximationWarning``)."""


class InvalidSchemaError(StructgenError, ValueError):
    """A JSON Schema is itself invalid (e.g. not a dict/bool, dangling $ref)."""


class CompileLimitError(StructgenError):
    """Compiling (or one runtime step) would exceed a configured time/memory/size limit."""


class MatcherTerminatedError(StructgenError):
    """``advance`` was called on a matcher that already accepted a stop token."""


class GenerationError(StructgenError):
    """Generation ended before the constraint could stop (e.g. ``max_new_tokens`` reached).

    ``partial_text`` carries what was generated so far (never silently returned as valid output).
    """

    def __init__(self, message: str, partial_text: str = ""):
        self.partial_text = partial_text
        super().__init__(message)


class ModelNotAvailableError(StructgenError):
    """A model cannot be loaded (missing package or files); the message says how to fix it."""


def is_recursion_failure(e: BaseException) -> bool:
    """``e`` reports the Python recursion limit: a ``RecursionError``, or the ``PanicException``
    a Rust extension (``rpds``, under ``jsonschema``/``referencing``) turns one into."""
    return isinstance(e, RecursionError) or type(e).__name__ == "PanicException"
