"""outlines-core adapter: ``Vocabulary`` (token bytes) + ``Index(regex)`` + ``Guide``. Regex only (no CFG).

The vocabulary is built from the exact bytes of every non-special token (see :mod:`benchmarks.tokens`);
the EOS token is the tokenizer's. JSON schemas go through
``outlines_core.json_schema.build_regex_from_schema`` with its default whitespace pattern (``[ ]?``,
which accepts json.dumps separators). Compiling = building the ``Index`` (eager, whole DFA x vocabulary).
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..tokens import token_table
from .base import CompiledHandle, Engine, EngineMatcher, EngineUnavailableError, compile_error_from


class _OutlinesMatcher(EngineMatcher):
    __slots__ = ("_g", "_terminated", "_eos")

    def __init__(self, guide, eos: int):
        self._g = guide
        self._eos = eos
        self._terminated = False

    def fill(self, bitmask: np.ndarray) -> None:
        row = bitmask[0]
        self._g.write_mask_into(row.ctypes.data, row.size, 4)

    def advance(self, token_id: int) -> bool:
        try:
            self._g.advance(token_id, return_tokens=False)
        except ValueError:
            return False
        if token_id == self._eos:
            self._terminated = True
        return True

    def can_stop(self) -> bool:
        return bool(self._g.is_finished())

    def is_terminated(self) -> bool:
        return self._terminated


class _OutlinesHandle(CompiledHandle):
    def __init__(self, oc, index, eos: int):
        self._oc = oc
        self._index = index
        self._eos = eos

    def new_matcher(self) -> EngineMatcher:
        return _OutlinesMatcher(self._oc.Guide(self._index), self._eos)


class OutlinesEngine(Engine):
    name = "outlines"
    supports = frozenset({"regex", "json"})

    def __init__(self, tokenizer: Any):
        super().__init__(tokenizer)
        try:
            import outlines_core
            from outlines_core.json_schema import build_regex_from_schema
        except ImportError as e:
            raise EngineUnavailableError(f"outlines-core is not installed ({e})") from e
        self._oc = outlines_core
        self._build_regex_from_schema = build_regex_from_schema
        table = token_table(tokenizer)
        self._eos = tokenizer.eos_token_id
        if self._eos is None:
            raise EngineUnavailableError("outlines-core needs an EOS token; the tokenizer has none")
        by_bytes: dict[bytes, list[int]] = {}
        for tid, b in enumerate(table.token_bytes):
            if b is None or tid == self._eos or not b:
                continue
            by_bytes.setdefault(b, []).append(tid)
        self._vocab = outlines_core.Vocabulary(self._eos, by_bytes)
        self._vocab_size = table.size

    @property
    def vocab_size(self) -> int:
        return self._vocab_size

    @property
    def stop_ids(self) -> tuple[int, ...]:
        return (int(self._eos),)

    def compile_regex(self, pattern: str) -> CompiledHandle:
        try:
            index = self._oc.Index(pattern, self._vocab)
        except MemoryError:
            raise
        except Exception as e:
            raise compile_error_from(e) from e
        return _OutlinesHandle(self._oc, index, self._eos)

    def compile_json(self, schema: Any) -> CompiledHandle:
        try:
            regex = self._build_regex_from_schema(json.dumps(schema))
        except MemoryError:
            raise
        except Exception as e:
            raise compile_error_from(e) from e
        return self.compile_regex(regex)
