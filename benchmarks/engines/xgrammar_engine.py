"""xgrammar adapter: ``TokenizerInfo`` + ``GrammarCompiler`` (1 thread, compile cache off) + ``GrammarMatcher``.

JSON schemas are compiled with ``any_whitespace=True`` (json.dumps separators are accepted) and
``strict_mode=False`` (JSON Schema semantics: unlisted properties/items are allowed unless the schema
forbids them). CFGs are taken as xgrammar EBNF (see :mod:`benchmarks.grammars_ebnf`).
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np

from .base import CompiledHandle, Engine, EngineMatcher, EngineUnavailableError, compile_error_from


class _XgrMatcher(EngineMatcher):
    __slots__ = ("_m",)

    def __init__(self, matcher):
        self._m = matcher

    def fill(self, bitmask: np.ndarray) -> None:
        self._m.fill_next_token_bitmask(bitmask, 0)

    def advance(self, token_id: int) -> bool:
        return bool(self._m.accept_token(token_id))

    def can_stop(self) -> bool:
        return bool(self._m.is_completed())

    def is_terminated(self) -> bool:
        return bool(self._m.is_terminated())


class _XgrHandle(CompiledHandle):
    def __init__(self, xgr, compiled):
        self._xgr = xgr
        self._compiled = compiled

    def new_matcher(self) -> EngineMatcher:
        return _XgrMatcher(self._xgr.GrammarMatcher(self._compiled))


class XGrammarEngine(Engine):
    name = "xgrammar"
    supports = frozenset({"regex", "json", "ebnf"})

    def __init__(self, tokenizer: Any):
        super().__init__(tokenizer)
        try:
            import xgrammar as xgr
        except ImportError as e:
            raise EngineUnavailableError(f"xgrammar is not installed ({e})") from e
        self._xgr = xgr
        self._info = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=len(tokenizer))
        self._compiler = xgr.GrammarCompiler(self._info, max_threads=1, cache_enabled=False)

    @property
    def vocab_size(self) -> int:
        return int(self._info.vocab_size)

    @property
    def stop_ids(self) -> tuple[int, ...]:
        return tuple(int(t) for t in self._info.stop_token_ids)

    def _compile(self, fn, *args, **kwargs) -> CompiledHandle:
        try:
            return _XgrHandle(self._xgr, fn(*args, **kwargs))
        except MemoryError:
            raise
        except Exception as e:  # xgrammar raises RuntimeError / InvalidJSONError / ValueError
            raise compile_error_from(e) from e

    def compile_regex(self, pattern: str) -> CompiledHandle:
        return self._compile(self._compiler.compile_regex, pattern)

    def compile_json(self, schema: Any) -> CompiledHandle:
        return self._compile(self._compiler.compile_json_schema, json.dumps(schema),
                             any_whitespace=True, strict_mode=False)

    def compile_builtin_json(self) -> CompiledHandle:
        """xgrammar's own hand-tuned JSON grammar (a reference point; its whitespace rules differ)."""
        return self._compile(self._compiler.compile_builtin_json_grammar)

    def compile_ebnf(self, text: str) -> CompiledHandle:
        return self._compile(self._compiler.compile_grammar, text, root_rule_name="root")
