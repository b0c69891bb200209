"""Plumbing shared by the benchmark scripts: thread settings, tokenizer loading, output files."""
from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Any, Iterable

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"

_SINGLE_THREAD_ENV = {
    "RAYON_NUM_THREADS": "1",      # llguidance / outlines-core (Rust, rayon)
    "NUMBA_NUM_THREADS": "1",      # structgen kernels
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def force_single_thread() -> None:
    """Pin every engine to one thread.

    Call before the engines are imported (environment variables are read at import time); engines
    with an explicit setting (xgrammar's ``max_threads``) are also given 1 by their adapters.
    """
    for key, value in _SINGLE_THREAD_ENV.items():
        os.environ[key] = value
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def resolve_tokenizer_path(name_or_path: str) -> Path:
    """A fixture tokenizer name (``llama3`` …) or a folder holding a HF ``tokenizer.json``."""
    candidate = Path(name_or_path)
    if candidate.is_dir():
        return candidate
    from structgen._shared import tokenizer_path

    path = tokenizer_path(name_or_path)
    if not path.is_dir():
        raise FileNotFoundError(
            f"tokenizer {name_or_path!r} not found (neither a folder nor a fixture at {path}; "
            "set STRUCTGEN_SHARED to the fixtures folder)"
        )
    return path


@functools.lru_cache(maxsize=8)
def load_hf_tokenizer(name_or_path: str):
    """Load a HF tokenizer offline from a fixture name or a folder (cached per process; treat it as read-only)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(resolve_tokenizer_path(name_or_path)))


def tokenizer_label(name_or_path: str) -> str:
    """Short name of a tokenizer for file names and table titles."""
    return Path(name_or_path).name or str(name_or_path)


def default_out(script: str, tokenizer: str) -> Path:
    """Default JSONL path: ``benchmarks/results/<script>_<tokenizer>.jsonl`` (gitignored)."""
    return RESULTS_DIR / f"{script}_{tokenizer_label(tokenizer)}.jsonl"


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> Path:
    """Write one JSON object per line (creating parent folders); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    return path


class JsonlWriter:
    """Append records to a JSONL file as they are produced (so a killed run keeps its results)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("w", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        self._fh.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> "JsonlWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def progress(iterable=None, **kwargs):
    """A tqdm progress bar on stderr (plain iteration when tqdm is missing or ``disable=True``)."""
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return iterable
    kwargs.setdefault("file", sys.stderr)
    kwargs.setdefault("dynamic_ncols", True)
    return tqdm(iterable, **kwargs)
