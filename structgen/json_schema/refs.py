"""Schema documents in context: dialect, ``$ref`` resolution and validation of single values.

Resolution uses the same machinery as ``jsonschema`` itself (the ``referencing`` library), so
``$id`` / ``$anchor`` / JSON-pointer references (``#/$defs/x``, ``#/definitions/x``, ``#/properties/a``,
percent-encoded and ``~0``/``~1``-escaped segments) resolve exactly as they do when validating.
The bundled meta-schemas are resolvable too; any other remote reference raises
:class:`~structgen.errors.UnsupportedSchemaError`.

A :class:`Node` is one subschema together with the resolver scope it lives in (its base URI) and
its JSON pointer (for error messages).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import jsonschema
import referencing
import referencing.exceptions
import referencing.jsonschema as rj
from jsonschema.validators import validator_for

from ..errors import CompileLimitError, InvalidSchemaError, UnsupportedSchemaError, is_recursion_failure
from .metaschema import is_valid_schema
from .values import json_value_key, value_keys

#: enums longer than this are checked by value key (see Context._enum_split)
_ENUM_BY_KEY = 16

try:
    from jsonschema_specifications import REGISTRY as _META_REGISTRY
except ImportError:  # pragma: no cover
    _META_REGISTRY = referencing.Registry()

#: dialect -> (draft number used for semantics switches)
_DRAFT_NUMBER = {
    jsonschema.Draft3Validator: 3,
    jsonschema.Draft4Validator: 4,
    jsonschema.Draft6Validator: 6,
    jsonschema.Draft7Validator: 7,
    jsonschema.Draft201909Validator: 2019,
    jsonschema.Draft202012Validator: 2020,
}


@dataclass(frozen=True, eq=False)
class Node:
    """A subschema (``dict`` or ``bool``) with its resolution scope and JSON pointer."""

    schema: Any
    resolver: Any
    pointer: str

    def key(self) -> tuple:
        return (id(self.schema), self.resolver._base_uri if self.resolver is not None else "")


def _too_deep(e: BaseException, pointer: str) -> BaseException:
    """A recursion-depth failure (a ``RecursionError``, or the panic a Rust extension turns it
    into) as :class:`~structgen.errors.CompileLimitError`; any other exception is returned as is
    (to be re-raised)."""
    if is_recursion_failure(e):
        return CompileLimitError(f"the schema under {pointer or '#'} nests too deeply to resolve or "
                                 "validate (Python recursion limit)")
    return e


def _escape_pointer(token: str) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


class SchemaContext:
    """The root document: its dialect, registry, and helpers to descend and resolve."""

    def __init__(self, root: Any):
        if not isinstance(root, (dict, bool)):
            raise InvalidSchemaError(f"a JSON Schema must be an object or a boolean, got {type(root).__name__}")
        self.root = root
        cls = validator_for(root, default=jsonschema.Draft202012Validator) if isinstance(root, dict) else jsonschema.Draft202012Validator
        if cls not in _DRAFT_NUMBER:  # pragma: no cover - custom meta-schemas
            cls = jsonschema.Draft202012Validator
        self.validator_cls = cls
        self.draft = _DRAFT_NUMBER[cls]
        if self.draft == 3:
            raise UnsupportedSchemaError("draft-03 schemas are not supported", "$schema", "")
        try:
            if not is_valid_schema(cls, root):  # fast path; jsonschema decides and words the error
                cls.check_schema(root)
        except jsonschema.SchemaError as e:
            raise InvalidSchemaError(f"invalid schema: {e.message} (at {'/'.join(map(str, e.absolute_path)) or '#'})") from None
        except BaseException as e:
            raise _too_deep(e, "") from None
        self.specification = rj.specification_with(cls.META_SCHEMA["$schema"], default=rj.DRAFT202012)
        resource = self.specification.create_resource(root)
        self.registry = _META_REGISTRY.with_resource(resource.id() or "", resource)
        self.root_resolver = self.registry.resolver_with_root(resource)
        self.keywords = frozenset(cls.VALIDATORS)
        self.format_checker = cls.FORMAT_CHECKER
        self.root_node = Node(root, self.root_resolver, "")
        text = repr(root)
        self.uses_unevaluated = "unevaluatedProperties" in text or "unevaluatedItems" in text

    # ------------------------------------------------------------------ navigation
    def child(self, node: Node, schema: Any, *path: Any) -> Node:
        """The subschema ``schema`` found under ``node`` at ``path`` (keys / indices)."""
        resolver = node.resolver
        if isinstance(schema, dict):
            try:
                resolver = resolver.in_subresource(self.specification.create_resource(schema))
            except Exception:  # pragma: no cover - malformed $id
                pass
        ptr = node.pointer + "".join("/" + _escape_pointer(p) for p in path)
        return Node(schema, resolver, ptr)

    def resolve(self, node: Node, ref: str) -> Node:
        try:
            resolved = node.resolver.lookup(ref)
        except referencing.exceptions.Unresolvable as e:
            if ref.startswith("#"):
                raise InvalidSchemaError(f"unresolvable $ref {ref!r} at {node.pointer or '#'}: {e}") from None
            raise UnsupportedSchemaError(f"$ref {ref!r} points outside the schema document (remote references "
                                         "are not fetched)", "$ref", node.pointer) from None
        except BaseException as e:  # a RecursionError inside the (Rust) registry surfaces as a panic
            raise _too_deep(e, node.pointer) from None
        return Node(resolved.contents, resolved.resolver, f"{node.pointer}/$ref")

    # ------------------------------------------------------------------ validation
    def _enum_split(self, schema: dict) -> tuple[set, dict]:
        """A large ``enum`` as a set of value keys, and the schema without it: ``jsonschema``
        compares the instance with each member (checking every member of an enum of ``n`` values
        costs ``n^2`` comparisons), a key lookup is one step. Memoized per schema object."""
        hit = self._enums.get(id(schema))
        if hit is None or hit[0] is not schema:
            hit = (schema, value_keys(schema["enum"]), {k: v for k, v in schema.items() if k != "enum"})
            self._enums[id(schema)] = hit
        return hit[1], hit[2]

    @functools.cached_property
    def _enums(self) -> dict[int, tuple]:
        return {}

    @functools.cached_property
    def _root_validator(self):
        """A ``jsonschema`` validator of the root document (built on first use: many schemas
        never validate a single value)."""
        return self.validator_cls(self.root, registry=self.registry, format_checker=self.format_checker)

    def is_valid(self, node: Node, instance: Any) -> bool:
        """``instance`` validates against ``node`` (format assertions on)."""
        schema = node.schema
        if (isinstance(schema, dict) and isinstance(schema.get("enum"), list) and len(schema["enum"]) > _ENUM_BY_KEY
                and "$ref" not in schema):  # (up to draft 7 a $ref hides its siblings: jsonschema decides)
            keys, schema = self._enum_split(schema)
            if json_value_key(instance) not in keys:
                return False
        v = self._root_validator.evolve(schema=schema, _resolver=node.resolver)
        try:
            return v.is_valid(instance)
        except referencing.exceptions.Unresolvable as e:  # pragma: no cover - refs resolved before
            raise InvalidSchemaError(f"unresolvable $ref under {node.pointer or '#'}: {e}") from None
        except BaseException as e:
            # never guess: callers rely on the answer for soundness (disjointness proofs)
            raise _too_deep(e, node.pointer) from None
