"""Locating the read-only fixtures folder (``shared/``) used by tests and benchmarks."""
from __future__ import annotations

import os
from pathlib import Path

TOKENIZER_NAMES = ("llama3", "qwen2", "gpt2", "llama2", "phi3")


def shared_dir() -> Path:
    """The fixtures folder: ``$STRUCTGEN_SHARED`` if set, else ``../shared`` beside the checkout."""
    env = os.environ.get("STRUCTGEN_SHARED")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent.parent / "shared"


def tokenizer_path(name: str) -> Path:
    """Path of a fixture tokenizer folder (``llama3``, ``qwen2``, ``gpt2``, ``llama2``, ``phi3``)."""
    return shared_dir() / "tokenizers" / name


def fixtures_required() -> bool:
    """True when ``STRUCTGEN_REQUIRE_FIXTURES=1``: missing fixtures are failures, not skips."""
    return os.environ.get("STRUCTGEN_REQUIRE_FIXTURES", "") not in ("", "0")
