"""Constraint specifications: what the front doors accept, how to compile it, how to read the output.

A :class:`Constraint` names one constraint (JSON Schema / pydantic model / Python type, regex,
Lark grammar, list of choices), compiles it for a :class:`~structgen.vocab.Vocabulary` (cached per
(constraint, vocabulary fingerprint)) and turns the generated text into the value the caller
gets back (a validated pydantic object, a JSON value checked with ``jsonschema``, an ``int``, the
chosen object, or the text itself).
"""
from __future__ import annotations

import enum
import inspect
import json
import threading
import typing
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Sequence

from structgen.errors import GenerationError, InvalidSchemaError

INT_REGEX = r"-?(0|[1-9][0-9]*)"
FLOAT_REGEX = r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?"

_CACHE_SIZE = 256
_cache: "OrderedDict[tuple, Any]" = OrderedDict()
_cache_lock = threading.Lock()


@dataclass(frozen=True, eq=False)
class Constraint:
    """One constraint. ``key`` identifies it for caching (hashable, content-based).

    ``compiler(vocab)`` returns a :class:`~structgen.runtime.compiled.CompiledGrammar`;
    ``parse(text)`` returns the caller's value (raising :class:`GenerationError` if the text does
    not validate, which would mean a soundness bug). ``description`` is for messages and stats.
    """

    kind: str
    key: Hashable
    compiler: Callable[[Any], Any]
    parse: Callable[[str], Any]
    description: str = ""

    def compile(self, vocab) -> Any:
        """The compiled grammar for ``vocab``, cached per (constraint key, vocabulary fingerprint)."""
        cache_key = (self.key, vocab.fingerprint, int(vocab.vocab_size))
        with _cache_lock:
            hit = _cache.get(cache_key)
            if hit is not None:
                _cache.move_to_end(cache_key)
                return hit
        compiled = self.compiler(vocab)
        with _cache_lock:
            _cache[cache_key] = compiled
            _cache.move_to_end(cache_key)
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
        return compiled


def clear_cache() -> None:
    """Forget every compiled constraint."""
    with _cache_lock:
        _cache.clear()


# ---------------------------------------------------------------------------------- builders
def regex_constraint(pattern: str, flags: int = 0) -> Constraint:
    """Full-match of a Python regex; the value is the generated text."""
    if not isinstance(pattern, str):
        raise TypeError(f"regex must be a str, got {type(pattern).__name__}")

    def compiler(vocab):
        from structgen.runtime.compiled import compile_regex

        return compile_regex(pattern, vocab, flags)

    return Constraint("regex", ("regex", pattern, int(flags)), compiler, _identity, f"regex {pattern!r}")


def lark_constraint(text_or_name: str) -> Constraint:
    """A Lark grammar (text, or the name of a bundled grammar); the value is the generated text."""
    if not isinstance(text_or_name, str):
        raise TypeError(f"grammar must be Lark text or a grammar name, got {type(text_or_name).__name__}")

    def compiler(vocab):
        from structgen.cfg.lark_frontend import compile_lark

        return compile_lark(text_or_name, vocab)

    short = text_or_name if len(text_or_name) < 40 else text_or_name[:37] + "..."
    return Constraint("grammar", ("lark", text_or_name), compiler, _identity, f"grammar {short!r}")


def choices_constraint(choices: Sequence[Any]) -> Constraint:
    """One of ``choices`` exactly (an alternation of escaped literals); the value is the choice.

    Strings are generated as is; other values as their rendering (``true``/``false``/``null``/
    ``str(x)``; Enum members by value) and mapped back to the original object.
    """
    choices = list(choices)
    if not choices:
        raise ValueError("choices must not be empty")
    by_text: dict[str, Any] = {}
    for c in choices:
        text = _render_choice(c)
        if text in by_text and by_text[text] is not c and by_text[text] != c:
            raise ValueError(f"choices {by_text[text]!r} and {c!r} render to the same text {text!r}")
        by_text.setdefault(text, c)
    texts = tuple(by_text)
    if any(t == "" for t in texts) and len(texts) == 1:
        raise ValueError("the only choice is the empty string")

    def compiler(vocab):
        from structgen.cfg.ir import Grammar, Literal, alt
        from structgen.runtime.compiled import compile_grammar

        return compile_grammar(Grammar.single(alt(*(Literal(t) for t in texts)), name="choices"), vocab)

    def parse(text: str) -> Any:
        if text not in by_text:
            raise GenerationError(f"output {text!r} is not one of the choices (constraint bug)", partial_text=text)
        return by_text[text]

    return Constraint("choices", ("choices", texts), compiler, parse, f"choices {list(texts)!r}")


def json_schema_constraint(schema: Any, *, whitespace: Any = None) -> Constraint:
    """A JSON Schema (dict, bool or JSON text); the value is the parsed JSON, checked with jsonschema."""
    if isinstance(schema, str):
        try:
            schema = json.loads(schema)
        except ValueError as exc:
            raise InvalidSchemaError(f"schema text is not JSON: {exc}") from exc
    if not isinstance(schema, (dict, bool)):
        raise InvalidSchemaError(f"a JSON Schema is a dict or a bool, got {type(schema).__name__}")
    canonical = json.dumps(schema, sort_keys=True, separators=(",", ":"))
    validator = _make_validator(schema)

    def parse(text: str) -> Any:
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise GenerationError(f"output is not JSON (constraint bug): {exc}", partial_text=text) from exc
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.path))
        if errors:
            raise GenerationError(f"output does not validate against the schema (constraint bug): "
                                  f"{errors[0].message}", partial_text=text)
        return value

    return Constraint("schema", ("schema", canonical, _ws_key(whitespace)),
                      _schema_compiler(schema, whitespace), parse, "JSON schema")


def pydantic_constraint(model: type, *, whitespace: Any = None) -> Constraint:
    """A pydantic model class: its JSON schema; the value is ``model.model_validate_json(text)``."""
    schema = model.model_json_schema(mode="validation")
    canonical = json.dumps(schema, sort_keys=True, separators=(",", ":"))

    def parse(text: str) -> Any:
        return model.model_validate_json(text)

    return Constraint("schema", ("schema", canonical, _ws_key(whitespace)),
                      _schema_compiler(schema, whitespace), parse, f"pydantic model {model.__name__}")


def type_constraint(tp: Any, *, whitespace: Any = None) -> Constraint | None:
    """The constraint for a Python type (a return annotation).

    ``str`` → None (free text); ``int``/``float`` → number regexes; ``bool`` → ``true``/``false``;
    ``Literal[...]`` and Enum classes → choices; pydantic models → their schema; anything else
    pydantic can describe (``list[...]``, ``dict[...]``, ``Optional``, unions, TypedDict,
    dataclasses, ...) → its JSON schema, validated with a pydantic ``TypeAdapter``.
    """
    if tp is str:
        return None
    if tp is bool:
        return choices_constraint([True, False])
    if tp is int:
        return Constraint("type", ("type", "int"), _regex_compiler(INT_REGEX), int, "int")
    if tp is float:
        return Constraint("type", ("type", "float"), _regex_compiler(FLOAT_REGEX), float, "float")
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return choices_constraint(list(typing.get_args(tp)))
    if inspect.isclass(tp) and issubclass(tp, enum.Enum):
        return choices_constraint(list(tp))
    if _is_pydantic_model(tp):
        return pydantic_constraint(tp, whitespace=whitespace)
    try:
        from pydantic import TypeAdapter

        adapter = TypeAdapter(tp)
        schema = adapter.json_schema(mode="validation")
    except Exception as exc:  # pydantic raises several error types for undescribable types
        raise TypeError(f"cannot derive a constraint from type {tp!r}: {exc}") from exc
    canonical = json.dumps(schema, sort_keys=True, separators=(",", ":"))
    return Constraint("schema", ("schema", canonical, _ws_key(whitespace)), _schema_compiler(schema, whitespace),
                      adapter.validate_json, f"type {tp!r}")


def make_constraint(*, schema: Any = None, regex: str | None = None, grammar: str | None = None,
                    choices: Sequence[Any] | None = None, whitespace: Any = None) -> Constraint | None:
    """The constraint named by exactly one of ``schema``/``regex``/``grammar``/``choices`` (None: free text).

    ``schema`` may be a pydantic model class, a JSON Schema (dict / bool / JSON text) or a Python
    type (``list[int]``, ``Literal[...]``, ...).
    """
    given = [n for n, v in (("schema", schema), ("regex", regex), ("grammar", grammar), ("choices", choices))
             if v is not None]
    if len(given) > 1:
        raise ValueError(f"give at most one of schema=, regex=, grammar=, choices= (got {', '.join(given)})")
    if whitespace is not None and schema is None:
        raise ValueError("whitespace= applies to schema= only")
    if regex is not None:
        return regex_constraint(regex)
    if grammar is not None:
        return lark_constraint(grammar)
    if choices is not None:
        if isinstance(choices, (str, bytes)):
            raise TypeError("choices must be a list of options, not a single string")
        return choices_constraint(choices)
    if schema is not None:
        if isinstance(schema, (dict, bool, str)):
            return json_schema_constraint(schema, whitespace=whitespace)
        if _is_pydantic_model(schema):
            return pydantic_constraint(schema, whitespace=whitespace)
        c = type_constraint(schema, whitespace=whitespace)
        if c is None:
            raise ValueError("schema=str is free text; leave the constraint out instead")
        return c
    return None


# ---------------------------------------------------------------------------------- helpers
def _identity(text: str) -> str:
    return text


def _ws_key(whitespace: Any) -> Hashable:
    return json.dumps(json_whitespace_options(whitespace), sort_keys=True, default=repr)


def _regex_compiler(pattern: str):
    def compiler(vocab):
        from structgen.runtime.compiled import compile_regex

        return compile_regex(pattern, vocab)

    return compiler


DEFAULT_MAX_WHITESPACE = 16
"""Default bound on whitespace characters between JSON tokens when generating (a model must not be
able to stall on endless newlines; pretty-printing to depth 7 with ``indent=2`` still fits)."""


def json_whitespace_options(whitespace: Any) -> dict[str, Any]:
    """``compile_json_schema`` keyword arguments for a ``whitespace=`` value.

    None: flexible whitespace, at most :data:`DEFAULT_MAX_WHITESPACE` characters per gap; an int:
    flexible, at most that many; a string: ``"flexible"`` (unbounded), ``"compact"`` (none) or a
    regex for one gap; a dict: passed as is (``{"whitespace": ..., "max_whitespace": ...}``).
    """
    if whitespace is None:
        return {"whitespace": "flexible", "max_whitespace": DEFAULT_MAX_WHITESPACE}
    if isinstance(whitespace, bool):
        raise TypeError("whitespace must be None, an int, a string or a dict")
    if isinstance(whitespace, int):
        if whitespace < 0:
            raise ValueError("whitespace bound must be >= 0")
        return {"whitespace": "flexible", "max_whitespace": whitespace}
    if isinstance(whitespace, str):
        return {"whitespace": whitespace}
    if isinstance(whitespace, dict):
        return dict(whitespace)
    raise TypeError("whitespace must be None, an int, a string or a dict")


def _schema_compiler(schema: Any, whitespace: Any):
    options = json_whitespace_options(whitespace)

    def compiler(vocab):
        from structgen.json_schema import compile_json_schema

        return compile_json_schema(schema, vocab, **options)

    return compiler


def _make_validator(schema: Any):
    import jsonschema

    try:
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise InvalidSchemaError(f"invalid JSON Schema: {exc.message}") from exc
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _is_pydantic_model(tp: Any) -> bool:
    try:
        from pydantic import BaseModel
    except ImportError:  # pragma: no cover - pydantic is a dependency
        return False
    return inspect.isclass(tp) and issubclass(tp, BaseModel)


def _render_choice(c: Any) -> str:
    if isinstance(c, enum.Enum):
        return _render_choice(c.value)
    if isinstance(c, bool):
        return "true" if c else "false"
    if c is None:
        return "null"
    if isinstance(c, str):
        return c
    if isinstance(c, (int, float)):
        return repr(c)
    raise TypeError(f"cannot use {c!r} ({type(c).__name__}) as a choice")

