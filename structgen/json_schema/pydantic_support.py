"""pydantic models and types → JSON Schema dicts (``model_json_schema`` / ``TypeAdapter``)."""
from __future__ import annotations

from typing import Any


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
        return obj.model_json_schema(mode="validation")
    from pydantic import TypeAdapter

    return TypeAdapter(obj).json_schema(mode="validation")


def looks_like_type(obj: Any) -> bool:
    """Whether ``obj`` is a type-like object (class or typing construct) rather than a schema."""
    if isinstance(obj, (dict, bool, str, bytes)):
        return False
    if isinstance(obj, type):
        return True
    return getattr(obj, "__module__", None) in ("typing", "typing_extensions", "types") or hasattr(obj, "__origin__")
