"""The common interface every engine adapter implements.

An :class:`Engine` is built once per tokenizer (that set-up is not timed). It compiles inputs to a
:class:`CompiledHandle`; each handle makes fresh :class:`EngineMatcher` objects that follow the
XGrammar/vLLM contract: ``fill(bitmask)`` writes the allowed-token mask of the current state into
row 0 of an int32 bitmask (bit ``j % 32`` of word ``j // 32`` is token ``j``, LSB first, 1 =
allowed; stop tokens allowed iff the text so far is complete), ``advance(token) -> bool`` commits
an allowed token (``False`` = rejected), ``can_stop()`` says whether the text so far is complete.

An input the engine cannot compile raises :class:`EngineCompileError`; an engine that cannot be
built (package missing, API mismatch) raises :class:`EngineUnavailableError`.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np


class EngineUnavailableError(RuntimeError):
    """The engine cannot be used here (not installed, or its set-up failed)."""


class EngineCompileError(RuntimeError):
    """The engine failed to compile (or rejected) an input. ``kind`` is the underlying error class name."""

    def __init__(self, message: str, kind: str = ""):
        self.kind = kind
        super().__init__(f"{kind}: {message}" if kind else message)


class UnsupportedInputError(EngineCompileError):
    """The engine does not take this kind of input at all (e.g. a CFG for a regex-only engine)."""


def compile_error_from(exc: BaseException) -> EngineCompileError:
    """Wrap an engine library's exception, keeping its class name and first lines of message."""
    text = str(exc).strip()
    lines = text.splitlines()
    if len(lines) > 6:
        text = "\n".join(lines[:6]) + "\n..."
    return EngineCompileError(text[:2000], kind=type(exc).__name__)


def bitmask_words(vocab_size: int) -> int:
    """Number of int32 words for a mask over ``vocab_size`` tokens."""
    return (vocab_size + 31) // 32


def token_allowed(bitmask: np.ndarray, token_id: int) -> bool:
    """Whether row 0 of ``bitmask`` allows ``token_id`` (ids beyond the mask are not allowed)."""
    word = token_id >> 5
    if token_id < 0 or word >= bitmask.shape[1]:
        return False
    return bool((int(bitmask[0, word]) >> (token_id & 31)) & 1)


def allowed_count(bitmask: np.ndarray, vocab_size: int) -> int:
    """Number of allowed token ids below ``vocab_size`` in row 0."""
    bits = np.unpackbits(np.ascontiguousarray(bitmask[0]).view(np.uint8), bitorder="little")
    return int(bits[:vocab_size].sum())


class EngineMatcher(ABC):
    """One decoding state machine (see module docstring for the contract)."""

    @abstractmethod
    def fill(self, bitmask: np.ndarray) -> None:
        """Write the mask of the current state into ``bitmask[0]`` (shape ``(1, words)``, int32)."""

    @abstractmethod
    def advance(self, token_id: int) -> bool:
        """Commit ``token_id``; ``False`` if the engine rejects it."""

    @abstractmethod
    def can_stop(self) -> bool:
        """Whether the text committed so far is a complete member of the language."""

    def is_terminated(self) -> bool:
        """Whether a stop token has been accepted (engines without the notion return ``False``)."""
        return False


class CompiledHandle(ABC):
    """A compiled input; makes independent matchers sharing the compiled data."""

    @abstractmethod
    def new_matcher(self) -> EngineMatcher:
        ...


class Engine(ABC):
    """An engine bound to one tokenizer. Subclasses set ``name`` and implement the compilers they support."""

    name: ClassVar[str] = ""
    supports: ClassVar[frozenset[str]] = frozenset()  # of "regex", "json", "lark", "ebnf"

    def __init__(self, tokenizer: Any):
        self.tokenizer = tokenizer

    # --- shape of masks ------------------------------------------------------------------------
    @property
    @abstractmethod
    def vocab_size(self) -> int:
        """Mask width in tokens."""

    @property
    @abstractmethod
    def stop_ids(self) -> tuple[int, ...]:
        """Token ids that end generation."""

    def allocate_bitmask(self) -> np.ndarray:
        """A zeroed ``(1, ceil(vocab_size / 32))`` int32 bitmask for this engine."""
        return np.zeros((1, bitmask_words(self.vocab_size)), dtype=np.int32)

    # --- compilers -------------------------------------------------------------------------------
    def compile_regex(self, pattern: str) -> CompiledHandle:
        raise UnsupportedInputError(f"{self.name} does not compile regexes", kind="Unsupported")

    def compile_json(self, schema: Any) -> CompiledHandle:
        raise UnsupportedInputError(f"{self.name} does not compile JSON schemas", kind="Unsupported")

    def compile_lark(self, text: str) -> CompiledHandle:
        raise UnsupportedInputError(f"{self.name} does not compile Lark grammars", kind="Unsupported")

    def compile_ebnf(self, text: str) -> CompiledHandle:
        raise UnsupportedInputError(f"{self.name} does not compile EBNF grammars", kind="Unsupported")

    def compile_cfg(self, lark: str | None, ebnf: str | None) -> CompiledHandle:
        """Compile a context-free grammar given as Lark text and/or an equivalent EBNF (GBNF-style) text,
        using whichever syntax this engine takes (Lark preferred)."""
        if lark is not None and "lark" in self.supports:
            return self.compile_lark(lark)
        if ebnf is not None and "ebnf" in self.supports:
            return self.compile_ebnf(ebnf)
        raise UnsupportedInputError(f"{self.name} takes no context-free grammar in the syntaxes given",
                                    kind="Unsupported")

    def cfg_syntax(self, lark: str | None, ebnf: str | None) -> str | None:
        """Which syntax :meth:`compile_cfg` would use (``"lark"``, ``"ebnf"`` or ``None``)."""
        if lark is not None and "lark" in self.supports:
            return "lark"
        if ebnf is not None and "ebnf" in self.supports:
            return "ebnf"
        return None
