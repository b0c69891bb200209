"""Fast meta-validation: is a schema valid against its dialect's meta-schema?

``jsonschema``'s ``check_schema`` walks the meta-schema with a generic validator that creates a
validator object per subschema visited and resolves every ``$ref`` / ``$dynamicRef`` through
URL joins — about a third of the time to translate a typical schema. The meta-schemas themselves
use only a handful of keywords, so :class:`MetaChecker` compiles a meta-schema once into nested
Python checks with every reference resolved ahead of time, and answers *valid / not valid*
without building error objects.

Contract (what makes it safe to use as a fast path): :func:`is_valid_schema` returns True only
when ``cls.check_schema(schema)`` would not raise. Every keyword it implements is checked with
``jsonschema``'s own primitives (the dialect's type checker, format checker, ``equal`` and
``uniq``), it applies *at least* the keywords ``jsonschema`` applies (siblings of ``$ref`` too,
which only makes it stricter), and a meta-schema node with any keyword it does not know makes
it answer False. A False answer means "not known to be valid": the caller then runs
``check_schema`` itself, which produces the exact error (or passes).
"""
from __future__ import annotations

import re
import threading
from typing import Any, Callable

import jsonschema
import referencing.jsonschema as rj
from jsonschema._utils import equal, uniq

from ..errors import is_recursion_failure

try:
    from jsonschema_specifications import REGISTRY as _META_REGISTRY
except ImportError:  # pragma: no cover
    _META_REGISTRY = None

Check = Callable[[Any], bool]

#: keywords that never assert anything
_ANNOTATIONS = frozenset({
    "$schema", "$id", "id", "$comment", "$vocabulary", "$defs", "definitions", "$anchor",
    "$dynamicAnchor", "$recursiveAnchor", "title", "description", "default", "examples",
    "deprecated", "readOnly", "writeOnly",
})


def _never(instance: Any) -> bool:
    return False


def _always(instance: Any) -> bool:
    return True


class _Unsupported(Exception):
    """A meta-schema construct this checker does not implement."""


class MetaChecker:
    """A compiled meta-schema of one ``jsonschema`` validator class (draft 4 and later)."""

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.draft4 = cls is jsonschema.Draft4Validator
        self.type_checker = cls.TYPE_CHECKER
        self.format_checker = cls.FORMAT_CHECKER
        registry = _META_REGISTRY
        meta = cls.META_SCHEMA
        self.specification = rj.specification_with(meta["$schema"], default=rj.DRAFT202012)
        self._root_resolver = registry.resolver(base_uri=meta.get("$id", meta.get("id", ""))) \
            if registry is not None else None
        self._compiled: dict[tuple[int, str], Check] = {}
        self._pending: dict[tuple[int, str], list] = {}
        self._keep: list = []  # keeps compiled subschemas alive (their ids key _compiled)
        self.root_check: Check = _never
        try:
            if self._root_resolver is None:
                raise _Unsupported("no meta-schema registry")
            self.root_check = self._compile(meta, self._root_resolver)
        except (_Unsupported, Exception):  # any surprise: never claim validity
            self.root_check = _never

    # ------------------------------------------------------------------ compilation
    def _compile(self, node: Any, resolver) -> Check:
        if node is True:
            return _always
        if node is False:
            return _never
        if not isinstance(node, dict):
            raise _Unsupported(f"meta-schema node {node!r}")
        key = (id(node), str(resolver._base_uri))
        hit = self._compiled.get(key)
        if hit is not None:
            return hit
        cell: list = [None]
        if key in self._pending:  # a reference cycle: late-bound
            pending = self._pending[key]
            return lambda inst: pending[0](inst)
        self._pending[key] = cell
        self._keep.append(node)
        checks = self._node_checks(node, resolver)
        if not checks:
            fn: Check = _always
        elif len(checks) == 1:
            fn = checks[0]
        else:
            def fn(inst, checks=tuple(checks)):
                for c in checks:
                    if not c(inst):
                        return False
                return True
        cell[0] = fn
        del self._pending[key]
        self._compiled[key] = fn
        return fn

    def _resolve(self, resolver, ref: str) -> Check:
        resolved = resolver.lookup(ref)
        return self._compile(resolved.contents, resolved.resolver)

    def _node_checks(self, node: dict, resolver) -> list[Check]:
        resolver = resolver.in_subresource(self.specification.create_resource(node))
        is_type = self.type_checker.is_type
        checks: list[Check] = []
        for kw, value in node.items():
            if kw in _ANNOTATIONS:
                continue
            if kw == "$ref":
                checks.append(self._resolve(resolver, value))
            elif kw in ("$dynamicRef", "$recursiveRef"):
                # standard meta-schemas: the dynamic scope's outermost anchor is the dialect's
                # top-level meta-schema itself
                if value not in ("#meta", "#"):
                    raise _Unsupported(kw)
                checks.append(self._late_root())
            elif kw == "type":
                types = value if isinstance(value, list) else [value]
                for t in types:
                    is_type(None, t)  # unknown type names raise here, not while checking
                checks.append(lambda inst, types=tuple(types): any(is_type(inst, t) for t in types))
            elif kw == "enum":
                checks.append(lambda inst, enums=tuple(value): any(equal(e, inst) for e in enums))
            elif kw == "const":
                checks.append(lambda inst, c=value: equal(c, inst))
            elif kw == "properties":
                props = {name: self._compile(sub, resolver) for name, sub in value.items()}

                def check_props(inst, props=props):
                    if not is_type(inst, "object"):
                        return True
                    for name, v in inst.items():  # usually far fewer than the listed properties
                        c = props.get(name)
                        if c is not None and not c(v):
                            return False
                    return True
                checks.append(check_props)
            elif kw == "patternProperties":
                raise _Unsupported(kw)
            elif kw == "additionalProperties":
                if "patternProperties" in node:
                    raise _Unsupported(kw)
                listed = frozenset(node.get("properties", {}))
                if value is False:
                    checks.append(lambda inst, listed=listed: not is_type(inst, "object")
                                  or all(k in listed for k in inst))
                else:
                    sub = self._compile(value, resolver)
                    checks.append(lambda inst, listed=listed, sub=sub: not is_type(inst, "object")
                                  or all(sub(v) for k, v in inst.items() if k not in listed))
            elif kw == "propertyNames":
                sub = self._compile(value, resolver)
                checks.append(lambda inst, sub=sub: not is_type(inst, "object") or all(sub(k) for k in inst))
            elif kw == "items":
                if isinstance(value, list) or "prefixItems" in node:
                    raise _Unsupported(kw)
                sub = self._compile(value, resolver)
                checks.append(lambda inst, sub=sub: not is_type(inst, "array") or all(sub(x) for x in inst))
            elif kw == "minItems":
                checks.append(lambda inst, n=value: not is_type(inst, "array") or len(inst) >= n)
            elif kw == "uniqueItems":
                if value:
                    checks.append(lambda inst: not is_type(inst, "array") or uniq(inst))
            elif kw == "minimum":
                if self.draft4 and node.get("exclusiveMinimum", False):
                    checks.append(lambda inst, m=value: not is_type(inst, "number") or inst > m)
                else:
                    checks.append(lambda inst, m=value: not is_type(inst, "number") or inst >= m)
            elif kw == "exclusiveMinimum":
                if self.draft4:
                    if "minimum" not in node and value is not False:
                        raise _Unsupported(kw)
                else:
                    checks.append(lambda inst, m=value: not is_type(inst, "number") or inst > m)
            elif kw == "pattern":
                rx = re.compile(value)
                checks.append(lambda inst, rx=rx: not is_type(inst, "string") or rx.search(inst) is not None)
            elif kw == "format":
                fc = self.format_checker
                if fc is not None:
                    checks.append(lambda inst, f=value, fc=fc: fc.conforms(inst, f))
            elif kw == "anyOf":
                subs = tuple(self._compile(s, resolver) for s in value)
                checks.append(lambda inst, subs=subs: any(c(inst) for c in subs))
            elif kw == "allOf":
                subs = tuple(self._compile(s, resolver) for s in value)
                checks.append(lambda inst, subs=subs: all(c(inst) for c in subs))
            elif kw == "dependencies" and all(isinstance(v, list) for v in value.values()):
                deps = tuple((k, tuple(v)) for k, v in value.items())
                checks.append(lambda inst, deps=deps: not is_type(inst, "object")
                              or all(k not in inst or all(d in inst for d in ds) for k, ds in deps))
            else:
                raise _Unsupported(kw)
        return checks

    def _late_root(self) -> Check:
        return lambda inst: self.root_check(inst)


_CHECKERS: dict[type, MetaChecker] = {}
_LOCK = threading.Lock()

_SUPPORTED = (jsonschema.Draft4Validator, jsonschema.Draft6Validator, jsonschema.Draft7Validator,
              jsonschema.Draft201909Validator, jsonschema.Draft202012Validator)


def is_valid_schema(cls: type, schema: Any) -> bool:
    """True only if ``cls.check_schema(schema)`` would pass (see the module docstring); False
    means "not known": run ``check_schema`` for the verdict and the error."""
    if cls not in _SUPPORTED:
        return False
    checker = _CHECKERS.get(cls)
    if checker is None:
        with _LOCK:
            checker = _CHECKERS.get(cls)
            if checker is None:
                checker = _CHECKERS[cls] = MetaChecker(cls)
    try:
        return bool(checker.root_check(schema))
    except Exception:  # any surprise in a primitive (or the recursion limit): let jsonschema decide
        return False
    except BaseException as e:
        if is_recursion_failure(e):
            return False
        raise
