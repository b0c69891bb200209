"""Caches for compiled JSON Schemas.

In memory: ``(canonical schema JSON, options, vocabulary fingerprint) → CompiledGrammar`` (LRU).
On disk (opt-in, ``STRUCTGEN_CACHE_DIR`` or ``set_disk_cache_dir``): the schema → IR translation,
pickled under ``<dir>/json_schema/<key>.pkl`` (the IR is vocabulary-independent; the compiled
automaton is cached in memory by the runtime).
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Optional

from ..runtime.compiled import evict_compiled

_LOCK = threading.Lock()
_MEMORY: "OrderedDict[tuple, Any]" = OrderedDict()
#: compiled schemas kept in memory (LRU). Each holds its automaton tables and the mask rows it
#: computed (≈1–2 MB on MaskBench with Llama 3's vocabulary), so the default matches the
#: grammar-level cache (``STRUCTGEN_COMPILE_CACHE_SIZE``, 64) rather than keeping 4× as many alive.
#: Like that cache it also keeps at most ``STRUCTGEN_COMPILE_CACHE_MB`` of them (see
#: :func:`~structgen.runtime.compiled.evict_compiled`).
MAX_ENTRIES = int(os.environ.get("STRUCTGEN_SCHEMA_CACHE_SIZE", "64"))
_DISK_DIR: Optional[Path] = None

IR_FORMAT_VERSION = 3


def canonical_json(schema: Any) -> str:
    return json.dumps(schema, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def key_of(schema_json: str, whitespace: Any, max_whitespace: Any, lenient: bool,
           property_order: str = "schema") -> str:
    h = hashlib.sha256()
    h.update(json.dumps([IR_FORMAT_VERSION, schema_json, whitespace, max_whitespace, lenient, property_order]).encode())
    return h.hexdigest()


def memory_get(key: tuple) -> Any:
    with _LOCK:
        hit = _MEMORY.get(key)
        if hit is not None:
            _MEMORY.move_to_end(key)
        return hit


def memory_put(key: tuple, value: Any) -> None:
    with _LOCK:
        _MEMORY[key] = value
        _MEMORY.move_to_end(key)
        evict_compiled(_MEMORY, MAX_ENTRIES)


def clear() -> None:
    with _LOCK:
        _MEMORY.clear()


def set_disk_cache_dir(path: Optional[str | os.PathLike]) -> None:
    """Enable (a folder) or disable (None) the on-disk IR cache for this process."""
    global _DISK_DIR
    _DISK_DIR = Path(path) if path is not None else None


def _disk_dir() -> Optional[Path]:
    if _DISK_DIR is not None:
        return _DISK_DIR
    env = os.environ.get("STRUCTGEN_CACHE_DIR")
    return Path(env) if env else None


def disk_get(key: str) -> Any:
    d = _disk_dir()
    if d is None:
        return None
    p = d / "json_schema" / f"{key}.pkl"
    try:
        with open(p, "rb") as f:
            return pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
        return None


def disk_put(key: str, value: Any) -> None:
    d = _disk_dir()
    if d is None:
        return
    p = d / "json_schema" / f"{key}.pkl"
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, p)
    except OSError:
        pass
