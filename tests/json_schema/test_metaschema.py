"""The fast meta-schema check (``metaschema.is_valid_schema``) against ``check_schema``: it may
only claim validity where jsonschema agrees, and on real schemas it should always decide."""
from __future__ import annotations

import copy
import json
import random

import jsonschema
import pytest
from jsonschema.validators import validator_for

from structgen.errors import InvalidSchemaError
from structgen.json_schema import schema_to_ir
from structgen.json_schema.metaschema import is_valid_schema
from structgen._shared import shared_dir

from ..conftest import require_path

_DIALECTS = {
    4: "http://json-schema.org/draft-04/schema#",
    6: "http://json-schema.org/draft-06/schema#",
    7: "http://json-schema.org/draft-07/schema#",
    2019: "https://json-schema.org/draft/2019-09/schema",
    2020: "https://json-schema.org/draft/2020-12/schema",
}

# values that break some keyword's meta-schema (wrong type, negative count, bad regex, ...)
_BAD_VALUES = [-1, 1.5, "x", "[", None, [], {}, [1, 1], {"type": 3}, True, "strin", [{"a": 1}]]
_KEYWORDS = ["type", "minLength", "maxItems", "required", "properties", "items", "enum", "pattern",
             "additionalProperties", "minimum", "exclusiveMinimum", "multipleOf", "anyOf", "allOf",
             "$ref", "format", "uniqueItems", "dependencies", "propertyNames", "const", "$defs",
             "definitions", "prefixItems", "contains", "minContains", "if", "not", "title"]


def _jsonschema_says(cls, schema) -> bool:
    try:
        cls.check_schema(schema)
        return True
    except jsonschema.SchemaError:
        return False


def _subschemas(schema, out):
    if isinstance(schema, dict):
        out.append(schema)
        for v in schema.values():
            _subschemas(v, out)
    elif isinstance(schema, list):
        for v in schema:
            _subschemas(v, out)
    return out


def _maskbench_sample(n: int, seed: int):
    root = require_path(shared_dir() / "data" / "maskbench", "MaskBench data")
    files = sorted(root.iterdir())
    for f in random.Random(seed).sample(files, n):
        yield json.loads(f.read_text())["schema"]


@pytest.mark.parametrize("draft", sorted(_DIALECTS))
def test_mutated_schemas_never_claimed_valid_when_invalid(draft):
    rng = random.Random(draft)
    cls = validator_for({"$schema": _DIALECTS[draft]})
    base_schemas = [s for s in _maskbench_sample(20, draft) if isinstance(s, dict)]
    checked = decided_invalid = fast_valid = 0
    for base in base_schemas:
        for _ in range(4):
            s = copy.deepcopy(base)
            s["$schema"] = _DIALECTS[draft]
            target = rng.choice(_subschemas(s, []))
            target[rng.choice(_KEYWORDS)] = copy.deepcopy(rng.choice(_BAD_VALUES))
            truth = _jsonschema_says(cls, s)
            fast = is_valid_schema(cls, s)
            assert not fast or truth, (draft, s)
            checked += 1
            decided_invalid += not truth
            fast_valid += fast
    assert decided_invalid > checked // 4  # the mutations do produce invalid schemas
    assert fast_valid >= (checked - decided_invalid) // 2  # and the fast path decides most valid ones


def test_agrees_with_check_schema_on_real_schemas():
    n = 0
    for s in _maskbench_sample(100, 7):
        if not isinstance(s, dict):
            continue
        cls = validator_for(s, default=jsonschema.Draft202012Validator)
        if cls is jsonschema.Draft3Validator:
            continue
        assert is_valid_schema(cls, s) == _jsonschema_says(cls, s)
        n += 1
    assert n > 80


def test_invalid_schema_still_raises_jsonschemas_error():
    with pytest.raises(InvalidSchemaError, match="is not valid under any of the given schemas|is not of type"):
        schema_to_ir({"type": "object", "properties": {"a": {"type": "strin"}}})
    with pytest.raises(InvalidSchemaError, match="-1"):
        schema_to_ir({"$schema": _DIALECTS[7], "type": "string", "minLength": -1})
