"""Shared pytest fixtures: real tokenizers and vocabularies from ``$STRUCTGEN_SHARED``.

Fixture-dependent tests skip when the folder is absent, unless ``STRUCTGEN_REQUIRE_FIXTURES=1``
(set by ``.ci/run``), in which case they fail.
"""
from __future__ import annotations

import functools

import pytest

from structgen._shared import TOKENIZER_NAMES, fixtures_required, shared_dir, tokenizer_path


def require_path(path, what: str):
    if not path.exists():
        msg = f"{what} not found at {path} (set STRUCTGEN_SHARED to the fixtures folder)"
        if fixtures_required():
            pytest.fail(msg + " and STRUCTGEN_REQUIRE_FIXTURES=1")
        pytest.skip(msg)
    return path


@functools.lru_cache(maxsize=None)
def _load_tokenizer(name: str):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tokenizer_path(name)))


@functools.lru_cache(maxsize=None)
def _load_vocab(name: str):
    from structgen.vocab import Vocabulary

    return Vocabulary.from_hf(_load_tokenizer(name))


def get_tokenizer(name: str):
    require_path(tokenizer_path(name), f"tokenizer {name!r}")
    return _load_tokenizer(name)


def get_vocab(name: str):
    require_path(tokenizer_path(name), f"tokenizer {name!r}")
    return _load_vocab(name)


@pytest.fixture(params=TOKENIZER_NAMES)
def tokenizer_name(request):
    return request.param


@pytest.fixture(scope="session")
def shared():
    return require_path(shared_dir(), "fixtures folder")
