"""pydantic models and types → JSON Schema dicts (``model_json_schema`` / ``TypeAdapter``).

The contract for a pydantic source is that every accepted text passes ``model_validate_json``
(``TypeAdapter.validate_json``). pydantic validates ``set``/``frozenset`` fields by collapsing
duplicates, then checking ``max_length``/``min_length`` on the set; its schema still says
``uniqueItems: true``, which no grammar can enforce over an unbounded element domain. So
:func:`pydantic_schema` drops ``uniqueItems`` wherever ``minItems`` is at most 1: duplicates then
collapse into a set that still meets every bound. With ``minItems`` ≥ 2 it is kept (duplicates
could leave too few distinct elements), and the compiler enforces it or raises as for any schema.
"""
from __future__ import annotations

from typing import Any

#: keywords whose values are instances (data), never subschemas — not walked
_DATA_KEYWORDS = frozenset({"default", "examples", "const", "enum"})
#: keywords whose values map names to subschemas
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})


def is_pydantic_model(obj: Any) -> bool:
    try:
        from pydantic import BaseModel
    except ImportError:  # pragma: no cover
        return False
    return isinstance(obj, type) and issubclass(obj, BaseModel)


def pydantic_schema(obj: Any) -> dict:
    """The JSON Schema pydantic validates JSON against (validation mode), for a model class or any
    type pydantic's ``TypeAdapter`` accepts (``list[int]``, ``Literal[...]``, unions...)."""
    if is_pydantic_model(obj):
        schema = obj.model_json_schema(mode="validation")
    else:
        from pydantic import TypeAdapter

        schema = TypeAdapter(obj).json_schema(mode="validation")
    return relax_collapsing_sets(schema)


def relax_collapsing_sets(schema: Any) -> Any:
    """A copy of a pydantic-generated ``schema`` without the ``uniqueItems`` that pydantic's own
    validation does not need: those of arrays with ``minItems`` ≤ 1 (see the module docstring).
    Only subschema positions are visited; instance data (``default``, ``enum``...) is left as is."""
    if isinstance(schema, list):
        return [relax_collapsing_sets(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict = {}
    for k, v in schema.items():
        if k in _DATA_KEYWORDS:
            out[k] = v
        elif k in _SCHEMA_MAPS and isinstance(v, dict):
            out[k] = {name: relax_collapsing_sets(sub) for name, sub in v.items()}
        else:
            out[k] = relax_collapsing_sets(v)
    min_items = out.get("minItems", 0)
    if out.get("uniqueItems") is True and isinstance(min_items, (int, float)) and min_items <= 1:
        del out["uniqueItems"]
    return out


def looks_like_type(obj: Any) -> bool:
    """Whether ``obj`` is a type-like object (class or typing construct) rather than a schema."""
    if isinstance(obj, (dict, bool, str, bytes)):
        return False
    if isinstance(obj, type):
        return True
    return getattr(obj, "__module__", None) in ("typing", "typing_extensions", "types") or hasattr(obj, "__origin__")
