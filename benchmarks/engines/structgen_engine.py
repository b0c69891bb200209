"""structgen adapter: ``Vocabulary.from_hf`` + ``compile_regex`` / ``compile_json_schema`` / ``compile_lark``
+ ``structgen.Matcher`` (XGrammar-style bitmask contract).

A schema that structgen proves unsatisfiable (``UnsatisfiableSchemaError``) is measured as the
empty language it is: every instance rejected at its first token (a valid instance would then
count as a validation error). JSON schemas are compiled with ``whitespace="flexible"`` (json.dumps separators are accepted), the
same policy as the other engines' defaults, and ``property_order`` from the environment variable
``STRUCTGEN_BENCH_PROPERTY_ORDER`` (default ``"schema"``; ``benchmarks.maskbench
--structgen-property-order`` sets it for its workers). Numba kernels run single-threaded
(``NUMBA_NUM_THREADS=1`` set by the scripts before import).
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from .base import (CompiledHandle, Engine, EngineCompileError, EngineMatcher, EngineUnavailableError,
                   compile_error_from)


#: environment variable read by :class:`StructgenEngine` for the JSON Schema ``property_order``
PROPERTY_ORDER_ENV = "STRUCTGEN_BENCH_PROPERTY_ORDER"


class _SgMatcher(EngineMatcher):
    __slots__ = ("_m",)

    def __init__(self, matcher):
        self._m = matcher

    def fill(self, bitmask: np.ndarray) -> None:
        self._m.fill_next_token_bitmask(bitmask, 0)

    def advance(self, token_id: int) -> bool:
        return bool(self._m.advance(token_id))

    def can_stop(self) -> bool:
        return bool(self._m.can_stop())

    def is_terminated(self) -> bool:
        return bool(self._m.is_terminated())


class _SgHandle(CompiledHandle):
    def __init__(self, matcher_cls, compiled):
        self._matcher_cls = matcher_cls
        self.compiled = compiled

    def new_matcher(self) -> EngineMatcher:
        return _SgMatcher(self._matcher_cls(self.compiled))


class _NothingMatcher(EngineMatcher):
    """The matcher of an empty language: no token is allowed and the text can never stop."""

    __slots__ = ()

    def fill(self, bitmask: np.ndarray) -> None:
        bitmask[0, :] = 0

    def advance(self, token_id: int) -> bool:
        return False

    def can_stop(self) -> bool:
        return False


class _NothingHandle(CompiledHandle):
    """A schema structgen proved unsatisfiable (``UnsatisfiableSchemaError``): its exact language
    is empty, so every instance is rejected at its first token. Counted like any compiled schema:
    an instance the validator calls valid becomes a validation error, so a wrong verdict shows."""

    def __init__(self, error: Exception):
        self.error = error

    def new_matcher(self) -> EngineMatcher:
        return _NothingMatcher()


class StructgenEngine(Engine):
    name = "structgen"
    supports = frozenset({"regex", "json", "lark"})

    def __init__(self, tokenizer: Any, property_order: str | None = None):
        super().__init__(tokenizer)
        self.property_order = property_order or os.environ.get(PROPERTY_ORDER_ENV) or "schema"
        try:
            from structgen.runtime.compiled import compile_regex
            from structgen.runtime.matcher import Matcher
            from structgen.vocab import Vocabulary
        except Exception as e:  # not written yet / broken import
            raise EngineUnavailableError(f"structgen runtime is not importable ({type(e).__name__}: {e})") from e
        self._compile_regex = compile_regex
        self._matcher_cls = Matcher
        try:
            self.vocab = Vocabulary.from_hf(tokenizer)
            # per-vocabulary set-up (trie, plain-token slices, kernel loading), like the other
            # engines' tokenizer-info construction: not part of any timed compile or mask
            from structgen.runtime.warmup import prepare_vocabulary
            prepare_vocabulary(self.vocab)
        except Exception as e:
            raise EngineUnavailableError(f"structgen Vocabulary.from_hf failed ({type(e).__name__}: {e})") from e

    @property
    def vocab_size(self) -> int:
        return int(self.vocab.vocab_size)

    @property
    def stop_ids(self) -> tuple[int, ...]:
        return tuple(int(t) for t in self.vocab.stop_ids)

    def _compile(self, fn, *args, **kwargs) -> CompiledHandle:
        try:
            return _SgHandle(self._matcher_cls, fn(*args, **kwargs))
        except MemoryError:
            raise
        except Exception as e:  # StructgenError subclasses, and anything unexpected, are compile errors
            raise compile_error_from(e) from e

    def compile_regex(self, pattern: str) -> CompiledHandle:
        return self._compile(self._compile_regex, pattern, self.vocab)

    def compile_json(self, schema: Any) -> CompiledHandle:
        try:
            from structgen.errors import UnsatisfiableSchemaError
            from structgen.json_schema import compile_json_schema
        except ImportError as e:
            raise compile_error_from(e) from e
        try:
            return self._compile(compile_json_schema, schema, self.vocab, whitespace="flexible",
                                 property_order=self.property_order)
        except EngineCompileError as e:
            if isinstance(e.__cause__, UnsatisfiableSchemaError):
                return _NothingHandle(e.__cause__)
            raise

    def compile_lark(self, text: str) -> CompiledHandle:
        try:
            from structgen.cfg.lark_frontend import compile_lark
        except ImportError as e:
            raise compile_error_from(e) from e
        return self._compile(compile_lark, text, self.vocab)
