"""Known JSON values (``enum`` / ``const``) → grammar IR of their spellings.

Equality is ``jsonschema``'s (``1 == 1.0``, ``true != 1``, deep for arrays/objects). A value is
accepted in the spellings ``json.dumps`` produces (``ensure_ascii`` either way) plus:
whitespace wherever the grammar's whitespace policy allows it, trailing fraction zeros and the
``.0`` forms of integers (``1`` ↔ ``1.0`` ↔ ``1.00``), ``-0``, and every escape of special or
non-ASCII characters in strings (see :func:`~structgen.json_schema.encoding.literal_ir`).
Objects with up to 4 keys are accepted in any key order, larger ones in their own order.

At the top level the compiler validates each spelling *class* separately (an ``int`` and a
``float`` parse differently: ``1.0`` is not an integer in draft 4), see :func:`number_variants`.
"""
from __future__ import annotations

import itertools
import math
import re
from decimal import Decimal
from typing import Any, Callable, Iterable

from jsonschema._utils import equal

from ..cfg import ir
from .irtools import alt as ir_alt
from ..runtime.unique import json_value_key
from .encoding import literal_ir

FRAC_INT_LIMIT = 10 ** 15
#: objects with at most this many keys are accepted in every key order
MAX_PERMUTED_KEYS = 4


def json_equal(a: Any, b: Any) -> bool:
    return equal(a, b)


def value_keys(values: Iterable[Any]) -> set:
    """The :func:`json_value_key` of each value: membership by ``jsonschema`` equality in O(1)."""
    return {json_value_key(v) for v in values}


def dedup_values(values: Iterable[Any]) -> tuple:
    """``values`` without repeats, keeping the first of equal values of one Python type (``1`` and
    ``1.0`` are equal but spelled differently: both stay)."""
    out: list[Any] = []
    seen: set = set()
    for v in values:
        k = (type(v), json_value_key(v))
        if k not in seen:
            seen.add(k)
            out.append(v)
    return tuple(out)


def intersect_values(a: Iterable[Any], b: Iterable[Any]) -> tuple:
    """The values of ``a`` equal to some value of ``b``, in ``a``'s order."""
    keys = value_keys(b)
    return tuple(x for x in a if json_value_key(x) in keys)


def is_excluded(v: Any, excluded: Iterable[Any]) -> bool:
    """``v`` equals one of ``excluded`` (a set from :func:`value_keys` is fastest)."""
    if isinstance(excluded, set):
        return json_value_key(v) in excluded
    return any(json_equal(v, x) for x in excluded)


def spellable_string(s: str) -> bool:
    """A Python string that ``json.loads`` can produce (no high surrogate followed by a low one:
    their escapes would decode to one astral character)."""
    for a, b in zip(s, s[1:]):
        if 0xD800 <= ord(a) <= 0xDBFF and 0xDC00 <= ord(b) <= 0xDFFF:
            return False
    return True


def _int_regex(n: int, with_frac_zeros: bool) -> str:
    s = str(n)
    alts = [re.escape(s)]
    if n == 0:
        alts.append("-0")
    body = "(?:" + "|".join(alts) + ")" if len(alts) > 1 else alts[0]
    if with_frac_zeros:
        body += r"\.0+"
    return body


def float_regex(x: float) -> str | None:
    """Spellings of the float ``x`` (None for inf/nan, which JSON cannot spell)."""
    if math.isinf(x) or math.isnan(x):
        return None
    if x.is_integer() and abs(x) < FRAC_INT_LIMIT:
        return _int_regex(int(x), True)
    r = repr(x)
    d = Decimal(r)
    positional = format(d, "f")
    alts = []
    if "." in positional:
        alts.append(re.escape(positional) + "0*")
    else:
        # a bare integer spelling would parse to an int (another type, possibly another value)
        alts.append(re.escape(positional) + r"\.0+")
    if "e" in r:
        mant, exp = r.split("e")
        sign = "-" if exp.startswith("-") else "\\+?"
        alts.append(re.escape(mant) + "[eE]" + sign + exp.lstrip("+-"))
    return "(?:" + "|".join(alts) + ")" if len(alts) > 1 else alts[0]


def number_variants(v: Any) -> list[tuple[Any, str]]:
    """(parsed value, spelling regex) pairs for a numeric enum value, one per spelling class:
    integer spellings parse to ``int``, fraction/exponent spellings to ``float``."""
    out: list[tuple[Any, str]] = []
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and not math.isinf(v)):
        n = int(v)
        out.append((n, _int_regex(n, False)))
        f = None
        try:
            f = float(n)
        except OverflowError:
            pass
        if f is not None and f == n:
            rx = float_regex(f)
            if rx is not None:
                out.append((f, rx))
    else:
        rx = float_regex(float(v))
        if rx is not None:
            out.append((float(v), rx))
    return out


def value_ir(v: Any, ws: ir.Expr, top_number_ok: Callable[[Any], bool] | None = None) -> ir.Expr:
    """IR for the spellings of ``v``. ``top_number_ok(parsed)``: for a numeric ``v``, which
    spelling classes to keep (validation of int vs float parse); nested numbers keep every
    spelling class (equality inside arrays and objects is by value)."""
    if v is None:
        return ir.Literal("null")
    if v is True:
        return ir.Literal("true")
    if v is False:
        return ir.Literal("false")
    if isinstance(v, str):
        return literal_ir(v) if spellable_string(v) else ir.NOTHING
    if isinstance(v, (int, float)):
        # nested numbers compare by value (jsonschema: [0] == [0.0]), so every spelling class
        keep = top_number_ok or (lambda parsed: True)
        alts = [ir.Regex(rx) for parsed, rx in number_variants(v) if keep(parsed)]
        return ir_alt(*alts) if alts else ir.NOTHING
    sep = ir.seq(ws, ir.Literal(","), ws)
    if isinstance(v, list):
        if not v:
            return ir.seq(ir.Literal("["), ws, ir.Literal("]"))
        items = []
        for i, x in enumerate(v):
            if i:
                items.append(sep)
            items.append(value_ir(x, ws))
        return ir.seq(ir.Literal("["), ws, *items, ws, ir.Literal("]"))
    if isinstance(v, dict):
        if not v:
            return ir.seq(ir.Literal("{"), ws, ir.Literal("}"))
        members = [ir.seq(literal_ir(k), ws, ir.Literal(":"), ws, value_ir(x, ws)) for k, x in v.items()]
        # any key order for small objects (object equality ignores order), own order otherwise
        orders = itertools.permutations(range(len(members))) if len(members) <= MAX_PERMUTED_KEYS else [range(len(members))]
        alts = []
        for order in orders:
            items = []
            for i, j in enumerate(order):
                if i:
                    items.append(sep)
                items.append(members[j])
            alts.append(ir.seq(ir.Literal("{"), ws, *items, ws, ir.Literal("}")))
        return ir_alt(*alts)
    raise TypeError(f"not a JSON value: {v!r}")
