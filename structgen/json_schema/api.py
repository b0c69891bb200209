"""Public entry points: :func:`schema_to_ir` and :func:`compile_json_schema`."""
from __future__ import annotations

import json
from typing import Any, Optional

from ..errors import CompileLimitError, InvalidSchemaError, is_recursion_failure
from ..cfg.ir import Grammar
from . import cache
from .compiler import SchemaCompiler
from .pydantic_support import looks_like_type, pydantic_schema


def normalize_schema(schema: Any) -> Any:
    """dict / bool as is; JSON text parsed; pydantic model classes and types converted."""
    if isinstance(schema, (dict, bool)):
        return schema
    if isinstance(schema, (str, bytes)):
        try:
            return json.loads(schema)
        except json.JSONDecodeError as e:
            raise InvalidSchemaError(f"schema text is not valid JSON: {e}") from None
    if looks_like_type(schema):
        return pydantic_schema(schema)
    raise InvalidSchemaError(f"unsupported schema object of type {type(schema).__name__}")


def schema_to_ir(schema: Any, *, whitespace: str = "flexible", max_whitespace: Optional[int] = None,
                 lenient: bool = False, property_order: str = "schema") -> Grammar:
    """Compile a JSON Schema (dict, JSON string, bool, or pydantic model class / type) to grammar IR.

    The grammar's language is exactly a set of JSON texts that validate against the schema with
    ``jsonschema`` (see the package docstring for the few documented restrictions, all sound).
    Raises :class:`~structgen.errors.InvalidSchemaError` for malformed schemas,
    :class:`~structgen.errors.CompileLimitError` for schemas nested too deeply to compile, and
    :class:`~structgen.errors.UnsupportedSchemaError` for constructs that cannot be enforced
    exactly (unless ``lenient=True``: then a ``SchemaApproximationWarning`` names keyword and
    pointer and the keyword is ignored).

    ``property_order`` — where an object's *listed* properties (names in ``properties`` or
    ``required``) may appear:

    - ``"schema"`` (default): in ``properties`` order (then ``required``-only names), each at most
      once, followed by the additional members. Objects whose keys come in another order are
      rejected even when valid — the one documented incompleteness; linear-size grammars.
    - ``"any"``: listed properties in any order, interleaved with additional members; each listed
      key at most once, every required key present, ``minProperties``/``maxProperties`` exact.
      Every accepted object validates, and every valid object written without duplicate keys is
      accepted. The automaton tracks the set of listed keys seen, so it has up to 2^n states for n
      listed properties of one object (times the count states of ``maxProperties``): past
      ``objects.MAX_ANY_ORDER_STATES`` (4096) states, i.e. from 13 listed properties without
      ``maxProperties``, it raises ``UnsupportedSchemaError("properties", pointer)`` (lenient mode:
      that object falls back to schema order with a warning).
    """
    schema = normalize_schema(schema)
    sj = None
    key = None
    try:
        sj = cache.canonical_json(schema)
        key = cache.key_of(sj, whitespace, max_whitespace, lenient, property_order)
    except (TypeError, ValueError):
        pass
    if key is not None:
        hit = cache.disk_get(key)
        if isinstance(hit, Grammar):
            return hit
    try:
        g = SchemaCompiler(schema, whitespace=whitespace, max_whitespace=max_whitespace, lenient=lenient,
                           property_order=property_order).compile()
    except BaseException as e:  # also the panic a Rust extension turns a RecursionError into
        if not is_recursion_failure(e):
            raise
        raise CompileLimitError("the schema nests too deeply for the compiler (Python recursion limit)") from None
    if key is not None:
        cache.disk_put(key, g)
    return g


def compile_json_schema(schema: Any, vocab, *, whitespace: str = "flexible", max_whitespace: Optional[int] = None,
                        lenient: bool = False, property_order: str = "schema"):
    """``schema_to_ir`` + :func:`structgen.runtime.compiled.compile_grammar` for ``vocab``.

    Options as for :func:`schema_to_ir` (``property_order="any"``: listed properties in any order,
    exact, up to 2^n states per object — see there). Results are cached in memory by (canonical
    schema JSON, options, vocabulary fingerprint).
    """
    from ..runtime.compiled import compile_grammar

    schema = normalize_schema(schema)
    try:
        sj = cache.canonical_json(schema)
    except (TypeError, ValueError) as e:
        raise InvalidSchemaError(f"schema is not JSON-serializable: {e}") from None
    mkey = (sj, whitespace, max_whitespace, lenient, property_order, vocab.fingerprint)
    hit = cache.memory_get(mkey)
    if hit is not None:
        return hit
    g = schema_to_ir(schema, whitespace=whitespace, max_whitespace=max_whitespace, lenient=lenient,
                     property_order=property_order)
    key = cache.key_of(sj, whitespace, max_whitespace, lenient, property_order)
    compiled = compile_grammar(g, vocab, source=f"json_schema:{key[:16]}")
    cache.memory_put(mkey, compiled)
    return compiled
