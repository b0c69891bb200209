"""Engine adapters behind one interface (see :mod:`benchmarks.engines.base`).

``load_engine(name, tokenizer)`` builds one engine for a HF tokenizer; ``ENGINE_NAMES`` lists them in
report order (structgen first: ratios are taken against it).
"""
from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from .base import (
    CompiledHandle,
    Engine,
    EngineCompileError,
    EngineMatcher,
    EngineUnavailableError,
    UnsupportedInputError,
    allowed_count,
    token_allowed,
)

ENGINE_NAMES = ("structgen", "llguidance", "xgrammar", "outlines")

_ADAPTERS = {
    "structgen": ("benchmarks.engines.structgen_engine", "StructgenEngine", "structgen.runtime.matcher"),
    "llguidance": ("benchmarks.engines.llguidance_engine", "LLGuidanceEngine", "llguidance"),
    "xgrammar": ("benchmarks.engines.xgrammar_engine", "XGrammarEngine", "xgrammar"),
    "outlines": ("benchmarks.engines.outlines_engine", "OutlinesEngine", "outlines_core"),
}


def parse_engine_list(text: str | None) -> list[str]:
    """``"structgen,xgrammar"`` -> names in report order; ``None``/``"all"`` -> every engine. Unknown names raise."""
    if text is None or text.strip() in ("", "all"):
        return list(ENGINE_NAMES)
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in _ADAPTERS]
    if unknown:
        raise ValueError(f"unknown engine(s) {unknown}; choose from {list(ENGINE_NAMES)}")
    return [n for n in ENGINE_NAMES if n in names]


def engine_installed(name: str) -> bool:
    """Cheap check that the engine's package can be found (does not import it)."""
    module = _ADAPTERS[name][2]
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def load_engine(name: str, tokenizer: Any) -> Engine:
    """Build engine ``name`` for ``tokenizer``; raises :class:`EngineUnavailableError` when it cannot be used."""
    if name not in _ADAPTERS:
        raise ValueError(f"unknown engine {name!r}; choose from {list(ENGINE_NAMES)}")
    module, cls, _ = _ADAPTERS[name]
    try:
        adapter = getattr(importlib.import_module(module), cls)
        return adapter(tokenizer)
    except EngineUnavailableError:
        raise
    except Exception as e:
        raise EngineUnavailableError(f"{name} set-up failed: {type(e).__name__}: {e}") from e


_ENGINE_CACHE: dict[tuple[str, int], Engine] = {}


def load_engines(names: list[str], tokenizer: Any, *, reuse: bool = False
                 ) -> tuple[dict[str, Engine], dict[str, str]]:
    """Build each named engine; returns ``(engines, unavailable)`` where ``unavailable`` maps name -> reason.

    ``reuse=True`` returns engines already built in this process for the same tokenizer object (engine
    set-up is never timed; compiled inputs are not shared by the adapters).
    """
    engines: dict[str, Engine] = {}
    unavailable: dict[str, str] = {}
    for name in names:
        key = (name, id(tokenizer))
        if reuse and key in _ENGINE_CACHE and _ENGINE_CACHE[key].tokenizer is tokenizer:
            engines[name] = _ENGINE_CACHE[key]
            continue
        try:
            engines[name] = _ENGINE_CACHE[key] = load_engine(name, tokenizer)
        except EngineUnavailableError as e:
            unavailable[name] = str(e)
    return engines, unavailable


__all__ = [
    "ENGINE_NAMES", "CompiledHandle", "Engine", "EngineCompileError", "EngineMatcher", "EngineUnavailableError",
    "UnsupportedInputError", "allowed_count", "token_allowed", "engine_installed", "load_engine", "load_engines",
    "parse_engine_list",
]
