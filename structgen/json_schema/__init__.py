"""JSON Schema and pydantic models → grammar IR / compiled grammars.

- :func:`schema_to_ir` — a schema (dict, JSON text, bool, or pydantic model / type) → :class:`~structgen.cfg.ir.Grammar`.
- :func:`compile_json_schema` — the same, compiled for a vocabulary (cached).

Whitespace between JSON tokens: ``"flexible"`` (any of space/tab/newline/CR; bounded per gap by
``max_whitespace`` when given), ``"compact"`` (none), or a regex for one gap. ``json.dumps`` output
(``", "`` / ``": "``) is accepted in flexible mode. Recommendation: for generation use
``max_whitespace`` of about 16 (or ``"compact"``): unbounded whitespace is valid JSON but lets a
model stall on runs of newlines/spaces; pretty-printing with ``indent=2`` needs at most
``1 + 2*depth`` characters per gap.

Object keys: ``property_order="schema"`` (default) accepts the listed properties in ``properties``
order only; ``property_order="any"`` accepts them in any order, exactly, at a cost of up to 2^n
automaton states per object with n listed properties (objects over the budget raise
:class:`~structgen.errors.UnsupportedSchemaError` suggesting ``property_order="schema"``).

Exactness contract: every JSON text the grammar accepts validates against the schema with
``jsonschema`` (format assertions on); what cannot be enforced exactly raises
:class:`~structgen.errors.UnsupportedSchemaError` unless ``lenient=True``. For a pydantic model or
type the contract is ``model_validate_json``: ``set``/``frozenset`` fields may repeat elements
(pydantic collapses them) unless ``min_length`` ≥ 2 (see :mod:`.pydantic_support`).
"""
from __future__ import annotations

from .api import compile_json_schema, schema_to_ir
from .compiler import SchemaApproximationWarning

__all__ = ["compile_json_schema", "schema_to_ir", "SchemaApproximationWarning"]
