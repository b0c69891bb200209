"""compile_json_schema with real tokenizers: caching, token-level acceptance, masks."""
from __future__ import annotations

import json
import time

import numpy as np

from structgen.json_schema import cache, compile_json_schema
from structgen.runtime.matcher import Matcher

from ..conftest import get_tokenizer, get_vocab

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 40},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "email": {"type": "string", "format": "email"},
        "tags": {"type": "array", "items": {"enum": ["a", "b", "c"]}, "maxItems": 3},
    },
    "required": ["name", "age"],
    "additionalProperties": False,
}


def test_compile_is_cached_per_vocabulary():
    vocab = get_vocab("qwen2")
    cache.clear()
    t0 = time.perf_counter()
    c1 = compile_json_schema(SCHEMA, vocab, max_whitespace=8)
    t1 = time.perf_counter()
    c2 = compile_json_schema(json.loads(json.dumps(SCHEMA)), vocab, max_whitespace=8)
    t2 = time.perf_counter()
    assert c1 is c2
    assert (t2 - t1) < max(0.05, (t1 - t0) / 5)
    c3 = compile_json_schema(SCHEMA, vocab, whitespace="compact")
    assert c3 is not c1


def test_tokenized_instances_are_accepted_and_masked(tokenizer_name):
    tok = get_tokenizer(tokenizer_name)
    vocab = get_vocab(tokenizer_name)
    compiled = compile_json_schema(SCHEMA, vocab, max_whitespace=8)
    for text in [json.dumps({"name": "Ada", "age": 36, "email": "ada@example.com", "tags": ["a", "c"]}),
                 json.dumps({"name": "Zoë", "age": 7}, ensure_ascii=False)]:
        ids = tok.encode(text, add_special_tokens=False)
        m = Matcher(compiled)
        mask = np.zeros((1, compiled.words), np.int32)
        for t in ids:
            m.fill_next_token_bitmask(mask)
            assert (mask[0, t // 32] >> (t % 32)) & 1, (tokenizer_name, text, t)
            assert m.advance(t)
        assert m.can_stop()
    bad = tok.encode(json.dumps({"name": "Ada", "age": 151}), add_special_tokens=False)
    m = Matcher(compiled)
    assert m.validate_tokens(bad) < len(bad)
