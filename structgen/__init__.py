"""structgen: structured (constrained) generation with exact token masks.

Public names are imported lazily (``structgen.X`` loads only the module that defines ``X``), so
``import structgen`` stays cheap and does not import torch/transformers until needed.
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    # vocabulary
    "Vocabulary": "structgen.vocab",
    "TokenTrie": "structgen.vocab",
    # compilers
    "compile_regex": "structgen.runtime.compiled",
    "compile_grammar": "structgen.runtime.compiled",
    "CompiledGrammar": "structgen.runtime.compiled",
    "compile_lark": "structgen.cfg.lark_frontend",
    "compile_json_schema": "structgen.json_schema",
    # runtime
    "Matcher": "structgen.runtime.matcher",
    "fill_next_token_bitmask_batch": "structgen.runtime.matcher",
    "prepare_vocabulary": "structgen.runtime.warmup",
    # mask application
    "allocate_token_bitmask": "structgen.masking",
    "apply_token_bitmask_inplace": "structgen.masking",
    # front doors
    "load_model": "structgen.generation.models",
    "generate": "structgen.api",
    "generate_many": "structgen.api",
    "stream": "structgen.api",
    "make_logits_processor": "structgen.hf",
    "StructgenLogitsProcessor": "structgen.hf",
    "grammar": "structgen.api",
    # errors
    "StructgenError": "structgen.errors",
    "RegexError": "structgen.errors",
    "GrammarError": "structgen.errors",
    "UnsupportedSchemaError": "structgen.errors",
    "UnsatisfiableSchemaError": "structgen.errors",
    "InvalidSchemaError": "structgen.errors",
    "TokenizerError": "structgen.errors",
    "CompileLimitError": "structgen.errors",
    "MatcherTerminatedError": "structgen.errors",
    "GenerationError": "structgen.errors",
    "ModelNotAvailableError": "structgen.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    mod = _EXPORTS.get(name)
    if mod is None:
        if name == "grammars":
            return importlib.import_module("structgen.grammars")
        raise AttributeError(f"module 'structgen' has no attribute {name!r}")
    return getattr(importlib.import_module(mod), name)


def __dir__() -> list[str]:
    return __all__
