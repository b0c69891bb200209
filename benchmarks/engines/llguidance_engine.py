"""llguidance adapter: ``llguidance.hf.from_tokenizer`` + ``LLMatcher`` (mask via ``llguidance.numpy``).

Compiling builds the grammar and one prototype ``LLMatcher`` (errors surface through ``is_error()``);
each new matcher is a ``deep_copy()`` of the prototype. JSON schemas use llguidance's defaults
(flexible whitespace, strict: unsupported keywords are compile errors). Lark text is taken as is.
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np

from .base import CompiledHandle, Engine, EngineCompileError, EngineMatcher, EngineUnavailableError, compile_error_from


class _LlgMatcher(EngineMatcher):
    __slots__ = ("_m", "_fill")

    def __init__(self, matcher, fill):
        self._m = matcher
        self._fill = fill

    def fill(self, bitmask: np.ndarray) -> None:
        self._fill(self._m, bitmask, 0)

    def advance(self, token_id: int) -> bool:
        return bool(self._m.consume_token(token_id))

    def can_stop(self) -> bool:
        return bool(self._m.is_accepting())

    def is_terminated(self) -> bool:
        return bool(self._m.is_stopped()) and not self._m.is_error()


class _LlgHandle(CompiledHandle):
    def __init__(self, prototype, fill):
        self._proto = prototype
        self._fill = fill

    def new_matcher(self) -> EngineMatcher:
        return _LlgMatcher(self._proto.deep_copy(), self._fill)


class LLGuidanceEngine(Engine):
    name = "llguidance"
    supports = frozenset({"regex", "json", "lark"})

    def __init__(self, tokenizer: Any):
        super().__init__(tokenizer)
        try:
            import llguidance
            import llguidance.hf
            import llguidance.numpy
        except ImportError as e:
            raise EngineUnavailableError(f"llguidance is not installed ({e})") from e
        self._llg = llguidance
        self._fill = llguidance.numpy.fill_next_token_bitmask
        self._tok = llguidance.hf.from_tokenizer(tokenizer, n_vocab=len(tokenizer))
        self._eos = tokenizer.eos_token_id

    @property
    def vocab_size(self) -> int:
        return int(self._tok.vocab_size)

    @property
    def stop_ids(self) -> tuple[int, ...]:
        return (int(self._eos),) if self._eos is not None else ()

    def _build(self, make_grammar) -> CompiledHandle:
        try:
            grammar = make_grammar()
            proto = self._llg.LLMatcher(self._tok, grammar, log_level=0)
        except MemoryError:
            raise
        except Exception as e:
            raise compile_error_from(e) from e
        if proto.is_error():
            raise EngineCompileError(proto.get_error()[:2000], kind="LLMatcherError")
        return _LlgHandle(proto, self._fill)

    def compile_regex(self, pattern: str) -> CompiledHandle:
        return self._build(lambda: self._llg.LLMatcher.grammar_from_regex(pattern))

    def compile_json(self, schema: Any) -> CompiledHandle:
        return self._build(lambda: self._llg.LLMatcher.grammar_from_json_schema(json.dumps(schema)))

    def compile_lark(self, text: str) -> CompiledHandle:
        return self._build(lambda: self._llg.LLMatcher.grammar_from_lark(text))
