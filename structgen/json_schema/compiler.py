"""JSON Schema → grammar IR (:class:`~structgen.cfg.ir.Grammar`).

Pipeline: a subschema (with its ``$ref`` scope) is normalized into clauses
(:mod:`~structgen.json_schema.dnf`); each clause is emitted per JSON type (strings, numbers,
objects, arrays, literals); nested subschemas become their own rules, memoized by identity so
recursive schemas and repeated ``$ref`` targets are compiled once. Finally rules get
content-derived names (:func:`~structgen.json_schema.irtools.canonicalize`) so identical
subschemas share rules and recompiling gives identical grammars.

Shared lexeme rules (fixed names, referenced with :class:`~structgen.cfg.ir.Ref` so the
runtime can share their mask rows across schemas): ``json_string``, ``json_number``,
``json_integer``, ``json_value`` (any JSON, recursive), ``json_object``, ``json_array``.

THE BAR: every string the grammar accepts, parsed with ``json.loads``, validates against the
schema with ``jsonschema`` (format assertions included). Whatever cannot be enforced exactly
raises :class:`~structgen.errors.UnsupportedSchemaError` (``lenient=True``: a
:class:`SchemaApproximationWarning` is issued and the keyword is ignored).
"""
from __future__ import annotations

import warnings
from fractions import Fraction
from math import lcm
from typing import Any, Optional

from ..errors import UnsatisfiableSchemaError, UnsupportedSchemaError
from ..cfg import ir
from .irtools import alt as ir_alt
from . import fsa
from . import irtools
from . import lang as L
from . import numbers as N
from .arrays import emit_array
from .dnf import DnfBuilder
from .encoding import JSON_STRING_REGEX, encode_lang
from .objects import emit_object
from .refs import Node, SchemaContext
from .spec import Clause, Conj, ObjectSpec, StringSpec, conj_key
from .key_automaton import not_listed_key_automaton
from .regex_format import regex_format_grammar
from .strings import combine, fullmatch_language_dotall, in_lang, string_lang
from .values import is_excluded, json_value_key, value_ir, value_keys

#: rule names that are fixed (shared lexemes)
SHARED_RULES = frozenset({"json_string", "json_number", "json_integer", "json_value", "json_object", "json_array"})

_WS_CHARS = r"[ \t\n\r]"

#: ``property_order`` values: listed properties in ``properties`` order, or in any order
PROPERTY_ORDERS = ("schema", "any")


class SchemaApproximationWarning(UserWarning):
    """``lenient=True`` ignored a keyword that could not be enforced exactly."""


def whitespace_expr(whitespace: str, max_whitespace: Optional[int]) -> ir.Expr:
    """The IR of one whitespace gap between JSON tokens."""
    if whitespace == "compact":
        return ir.EMPTY
    if whitespace == "flexible":
        if max_whitespace is None:
            return ir.Regex(_WS_CHARS + "*")
        if max_whitespace < 0:
            raise ValueError("max_whitespace must be >= 0")
        if max_whitespace == 0:
            return ir.EMPTY
        return ir.Regex(f"{_WS_CHARS}{{0,{int(max_whitespace)}}}")
    if isinstance(whitespace, str):
        _check_whitespace_regex(whitespace)
        return ir.Regex(whitespace)
    raise ValueError(f"whitespace must be 'flexible', 'compact' or a regex string, got {whitespace!r}")


def _check_whitespace_regex(pattern: str) -> None:
    """A custom gap regex may only produce JSON whitespace (else outputs would not be JSON)."""
    from . import charsets as cs
    from .pyregex import PatternInvalid, PatternUnsupported, fullmatch_language

    try:
        x = fullmatch_language(pattern)
    except (PatternInvalid, PatternUnsupported) as e:
        raise ValueError(f"whitespace regex {pattern!r}: {e}") from None
    allowed = cs.of_chars(" \t\n\r")

    def ok(e: L.Lang) -> bool:
        if isinstance(e, L.Chars):
            return not cs.subtract(e.ranges, allowed)
        if isinstance(e, (L.Cat, L.Or)):
            return all(ok(i) for i in e.items)
        if isinstance(e, L.Rep):
            return ok(e.item)
        return False

    if not ok(x):
        raise ValueError(f"whitespace regex {pattern!r} may match characters other than space, tab, LF, CR")


class SchemaCompiler:
    """One compilation of one schema document. Use :func:`schema_to_ir`."""

    def __init__(self, schema: Any, *, whitespace: str = "flexible", max_whitespace: Optional[int] = None,
                 lenient: bool = False, property_order: str = "schema"):
        if property_order not in PROPERTY_ORDERS:
            raise ValueError(f"property_order must be one of {PROPERTY_ORDERS}, got {property_order!r}")
        self.ctx = SchemaContext(schema)
        self.lenient = lenient
        self.property_order = property_order
        self.ws = whitespace_expr(whitespace, max_whitespace)
        self.sep = ir.seq(self.ws, ir.Literal(","), self.ws)
        self.colon = ir.seq(self.ws, ir.Literal(":"), self.ws)
        self.rules: dict[str, ir.Expr] = {}
        self._counter = 0
        self._rule_by_body: dict[tuple[str, ir.Expr], str] = {}
        self._value_memo: dict[tuple, ir.Expr] = {}
        self._node_rules: dict[tuple, str] = {}
        self._obj_memo: dict[tuple, ir.Expr] = {}
        self._arr_memo: dict[tuple, ir.Expr] = {}
        self._str_memo: dict[tuple, ir.Expr] = {}
        self._key_memo: dict[tuple, ir.Expr] = {}
        self.dnf = DnfBuilder(self.ctx, self.unsupported, lenient)
        self.float_integers = self.ctx.draft >= 6

    # ------------------------------------------------------------------ policy
    def unsupported(self, msg: str, keyword: str, pointer: str) -> None:
        if not self.lenient:
            raise UnsupportedSchemaError(msg, keyword, pointer)
        warnings.warn(f"structgen: ignoring {keyword!r} at {pointer or '#'}: {msg}", SchemaApproximationWarning,
                      stacklevel=3)

    def warn(self, msg: str, keyword: str, pointer: str) -> None:
        warnings.warn(f"structgen: {keyword!r} at {pointer or '#'}: {msg}", SchemaApproximationWarning, stacklevel=3)

    # ------------------------------------------------------------------ rules
    def reserve(self, hint: str) -> str:
        self._counter += 1
        name = f"{hint}#{self._counter}"
        self.rules[name] = ir.NOTHING
        return name

    def define(self, name: str, body: ir.Expr) -> None:
        self.rules[name] = body

    def add_rule(self, hint: str, body: ir.Expr) -> ir.Expr:
        """A rule with ``body`` (deduplicated by body); returns a Ref (or the body if trivial)."""
        if isinstance(body, ir.Ref) or body == ir.NOTHING or body == ir.EMPTY:
            return body
        if irtools.expr_size(body) > 64:  # identical big rules are merged by canonicalize()
            name = self.reserve(hint)
            self.define(name, body)
            return ir.Ref(name)
        key = (hint, body)
        name = self._rule_by_body.get(key)
        if name is None:
            name = self.reserve(hint)
            self.define(name, body)
            self._rule_by_body[key] = name
        return ir.Ref(name)

    def repeat(self, item: ir.Expr, lo: int, hi: Optional[int]) -> ir.Expr:
        return irtools.repeat(item, lo, hi, self.add_rule)

    def shared(self, name: str) -> ir.Expr:
        if name not in self.rules:
            self.rules[name] = ir.NOTHING
            self.rules[name] = self._shared_body(name)
        return ir.Ref(name)

    def _shared_body(self, name: str) -> ir.Expr:
        if name == "json_string":
            return ir.Regex(JSON_STRING_REGEX)
        if name == "json_number":
            return ir.Regex(N.NUMBER_REGEX)
        if name == "json_integer":
            if self.float_integers:
                return ir.Regex(N.INTEGER_REGEX + r"|-?(?:0|[1-9][0-9]{0,14})\.0+")
            return ir.Regex(N.INTEGER_REGEX)
        if name == "format_regex":
            def encode(rx: str) -> ir.Expr:
                return encode_lang(fullmatch_language_dotall(rx), self.repeat)

            body = regex_format_grammar(encode, self.reserve, self.define)
            return ir.seq(ir.Literal('"'), body, ir.Literal('"'))
        if name == "json_value":
            return ir_alt(self.shared("json_object"), self.shared("json_array"), self.shared("json_string"),
                          self.shared("json_number"), ir.Literal("true"), ir.Literal("false"), ir.Literal("null"))
        if name == "json_object":
            member = ir.seq(self.shared("json_string"), self.colon, self.shared("json_value"))
            return ir.seq(ir.Literal("{"), self.ws, ir.Repeat(ir.seq(member, ir.Repeat(ir.seq(self.sep, member), 0, None)), 0, 1),
                          self.ws, ir.Literal("}"))
        if name == "json_array":
            v = self.shared("json_value")
            return ir.seq(ir.Literal("["), self.ws, ir.Repeat(ir.seq(v, ir.Repeat(ir.seq(self.sep, v), 0, None)), 0, 1),
                          self.ws, ir.Literal("]"))
        raise KeyError(name)

    # ------------------------------------------------------------------ entry
    def compile(self) -> ir.Grammar:
        root = self.value_expr(((self.ctx.root_node, False),))
        if root == ir.NOTHING:
            raise UnsatisfiableSchemaError("the schema accepts no JSON value", None, "")
        self.rules["start"] = ir.seq(self.ws, root)
        if "start" not in irtools.productive_rules(self.rules):
            raise UnsatisfiableSchemaError("the schema accepts no JSON value", None, "")
        rules = irtools.canonicalize(self.rules, "start", SHARED_RULES | {"start"})
        return ir.Grammar(rules, "start", "json_schema")

    # ------------------------------------------------------------------ values
    def conj_valid(self, conj: Conj, value: Any) -> bool:
        return all(self.ctx.is_valid(n, value) != neg for n, neg in conj)

    def simplify_conj(self, conj: Conj) -> Optional[Conj]:
        """``conj`` without ``true`` parts and repeats; ``()``: any value; None: no value."""
        return self._simplify(conj)

    def _simplify(self, conj: Conj) -> Optional[Conj]:
        out = []
        seen = set()
        for n, neg in conj:
            if n.schema is True or n.schema == {}:
                if neg:
                    return None
                continue
            if n.schema is False:
                if not neg:
                    return None
                continue
            k = (n.key(), neg)
            if k in seen:
                continue
            seen.add(k)
            out.append((n, neg))
        return tuple(out)

    def value_expr(self, conj: Conj) -> ir.Expr:
        """IR for a value satisfying every (node, negated) pair of ``conj``."""
        conj2 = self._simplify(conj)
        if conj2 is None:
            return ir.NOTHING
        if not conj2:
            return self.shared("json_value")
        if len(conj2) == 1 and not conj2[0][1] and self.dnf.is_pure_ref(conj2[0][0].schema):
            target = self.ctx.resolve(conj2[0][0], conj2[0][0].schema["$ref"])
            return self.node_rule(target)
        key = conj_key(conj2)
        hit = self._value_memo.get(key)
        if hit is not None:
            return hit
        clauses = self.dnf.conj_dnf(conj2)
        exprs = [self.emit_clause(c, conj2) for c in clauses]
        res = ir_alt(*exprs) if exprs else ir.NOTHING
        if irtools.expr_size(res) > 24:
            res = self.add_rule("value", res)
        self._value_memo[key] = res
        return res

    def node_rule(self, target: Node) -> ir.Expr:
        """A rule for the ``$ref`` target ``target`` (reserved first, so recursion works)."""
        key = target.key()
        name = self._node_rules.get(key)
        if name is not None:
            return ir.Ref(name)
        name = self.reserve("def")
        self._node_rules[key] = name
        body = self.value_expr(((target, False),))
        self.define(name, body)
        return ir.Ref(name)

    def finite_values(self, conj: Conj) -> Optional[list]:
        """The values satisfying ``conj`` when it is a finite enumeration (``enum``/``const``, or
        only booleans and null), else None."""
        conj2 = self._simplify(conj)
        if conj2 is None:
            return []
        if not conj2:
            return None
        clauses = self.dnf.conj_dnf(conj2)
        if not all(c.enum is not None or c.types <= _LITERAL_TYPES for c in clauses):
            return None
        out: list = []
        seen: set = set()
        for c in clauses:
            values = c.enum if c.enum is not None else _LITERAL_VALUES[c.types]
            excluded = value_keys(x for x, _ in c.excluded)
            for v in values:
                k = json_value_key(v)
                if k in excluded or k in seen:
                    continue
                if self.conj_valid(conj2, v):
                    seen.add(k)
                    out.append(v)
        return out

    # ------------------------------------------------------------------ clauses
    def emit_clause(self, c: Clause, conj: Conj) -> ir.Expr:
        excluded = [v for v, _ in c.excluded]
        if c.enum is not None:
            alts = []
            excluded_keys = value_keys(excluded)
            for v in c.enum:
                if is_excluded(v, excluded_keys):
                    continue
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    alts.append(value_ir(v, self.ws, top_number_ok=lambda parsed: self.conj_valid(conj, parsed)))
                elif self.conj_valid(conj, v):
                    alts.append(value_ir(v, self.ws))
            res = ir_alt(*alts) if alts else ir.NOTHING
            if irtools.expr_size(res) > 24:
                res = self.add_rule("enum", res)
            return res
        parts = []
        t = c.types
        if "null" in t and not is_excluded(None, excluded):
            parts.append(ir.Literal("null"))
        if "boolean" in t:
            for b, lit in ((True, "true"), (False, "false")):
                if not is_excluded(b, excluded):
                    parts.append(ir.Literal(lit))
        if "string" in t:
            parts.append(self.emit_string(c.string, [v for v in excluded if isinstance(v, str)], c))
        if "int" in t or "frac" in t:
            nums = [v for v in excluded if isinstance(v, (int, float)) and not isinstance(v, bool)]
            parts.append(self.emit_number(c, "int" in t, "frac" in t, nums))
        if "object" in t:
            if any(isinstance(v, dict) for v in excluded):
                self.unsupported("excluding object values (not/enum of objects)", "not",
                                 next(p for v, p in c.excluded if isinstance(v, dict)))
            parts.append(self.emit_object(c.obj))
        if "array" in t:
            if any(isinstance(v, list) for v in excluded):
                self.unsupported("excluding array values (not/enum of arrays)", "not",
                                 next(p for v, p in c.excluded if isinstance(v, list)))
            parts.append(self.emit_array(c))
        return ir_alt(*parts) if parts else ir.NOTHING

    # ------------------------------------------------------------------ strings
    def emit_string(self, spec: StringSpec, excluded: list[str], clause: Clause) -> ir.Expr:
        if spec.trivial and not excluded:
            return self.shared("json_string")
        if not excluded and spec == StringSpec(formats=spec.formats) and {f for f, _ in spec.formats} == {"regex"}:
            return self.shared("format_regex")  # alone: the recursive grammar (groups to any depth)
        key = (spec, tuple(excluded))
        hit = self._str_memo.get(key)
        if hit is not None:
            return hit
        pointer = (spec.patterns or spec.formats or (("", clause.enum_pointer),))[0][1]
        checked = frozenset(self.ctx.format_checker.checkers)
        try:
            lang = string_lang(spec, excluded, checked, self.warn, pointer, self.lenient)
        except UnsupportedSchemaError as e:
            if not self.lenient:
                raise
            self.unsupported(str(e), e.keyword or "pattern", e.pointer)
            lang = None
        if lang is None:
            res = self.shared("json_string")
        elif L.is_nothing(lang):
            res = ir.NOTHING
        else:
            res = self.add_rule("str", self._quoted(lang, "pattern" if spec.patterns else "format", pointer))
        self._str_memo[key] = res
        return res

    def key_expr(self, positives: list[L.Lang], negatives: list[L.Lang], listed: list[str],
                 names_lang: Optional[L.Lang], pointer: str) -> ir.Expr:
        """A quoted key whose decoded value matches all ``positives``, no ``negatives``, is not a
        listed name, and is in ``names_lang`` (propertyNames; None = any)."""
        pos = list(positives) + ([names_lang] if names_lang is not None else [])
        mk = (tuple(pos), tuple(negatives), tuple(listed))
        hit = self._key_memo.get(mk)
        if hit is not None:
            return hit
        if not pos and not negatives:
            if not listed:
                res = self.shared("json_string")
            else:
                res = self.add_rule("key", self._not_listed_key(listed))
            self._key_memo[mk] = res
            return res
        negs = list(negatives) + ([in_lang(listed)] if listed else [])
        try:
            lang = combine(pos, negs)
        except fsa.AutomatonTooLarge as e:
            self.unsupported(f"property-name constraints too complex ({e})", "patternProperties", pointer)
            lang = pos[0] if pos else None
        if lang is None:
            res = self.shared("json_string")
        elif L.is_nothing(lang):
            res = ir.NOTHING
        else:
            res = self.add_rule("key", self._quoted(lang, "patternProperties", pointer))
        self._key_memo[mk] = res
        return res

    def _quoted(self, lang: L.Lang, keyword: str, pointer: str) -> ir.Expr:
        """A quoted JSON string whose decoded content is in ``lang``."""
        try:
            body = encode_lang(lang, self.repeat)
        except fsa.AutomatonTooLarge as e:
            self.unsupported(f"string constraints too complex to encode ({e})", keyword, pointer)
            return self.shared("json_string")
        return ir.seq(ir.Literal('"'), body, ir.Literal('"'))

    def _not_listed_key(self, listed: list[str]) -> ir.Expr:
        """A quoted key that can never decode to one of ``listed``: one that leaves the names' trie
        (or stops at a node that ends no name) while written without escapes, then goes on in any
        spelling; or one containing (in any spelling) a character that occurs in no listed name.
        Keys whose characters all occur in listed names and that use an escape before leaving the
        trie are not accepted (sound; keeps the automaton about the size of the names' trie).

        Once the trie is left, the rest of the key is the plain JSON-string language, so those
        states are the string-content state itself (a plain counter, see ``plain_slices.py``).
        The content is one byte automaton built directly from the names' trie
        (:func:`~structgen.json_schema.key_automaton.not_listed_key_automaton`)."""
        return ir.Seq((ir.Literal('"'), not_listed_key_automaton(listed), ir.Literal('"')))

    def property_names_lang(self, names: tuple, pointer: str) -> Optional[L.Lang]:
        """Decoded language of keys allowed by every ``propertyNames`` conj (None: any)."""
        langs = []
        checked = frozenset(self.ctx.format_checker.checkers)
        for conj in names:
            conj2 = self._simplify(conj)
            if conj2 is None:
                return L.NONE
            if not conj2:
                continue
            alts = []
            any_string = False
            for c in self.dnf.conj_dnf(conj2):
                if "string" not in c.types:
                    continue
                excluded = [v for v, _ in c.excluded if isinstance(v, str)]
                if c.enum is not None:
                    vals = [v for v in c.enum if isinstance(v, str) and v not in excluded and self.conj_valid(conj2, v)]
                    alts.append(in_lang(vals))
                    continue
                lang = string_lang(c.string, excluded, checked, self.warn, pointer)
                if lang is None:
                    any_string = True
                    break
                alts.append(lang)
            if any_string:
                continue
            langs.append(L.alt(*alts) if alts else L.NONE)
        if not langs:
            return None
        if len(langs) == 1:
            return langs[0]
        try:
            return combine(langs, [])
        except fsa.AutomatonTooLarge as e:
            self.unsupported(f"propertyNames too complex ({e})", "propertyNames", pointer)
            return langs[0]

    # ------------------------------------------------------------------ numbers
    def emit_number(self, c: Clause, int_ok: bool, frac_ok: bool, excluded: list) -> ir.Expr:
        """Numbers of the allowed kinds (``int``: integer-valued; ``frac``: the rest — in draft 4,
        where ``1.0`` is not an integer, int-spelled vs float-spelled) within the clause bounds."""
        spec = c.number
        draft6 = self.float_integers
        if spec.trivial and not excluded:
            if int_ok and frac_ok:
                return self.shared("json_number")
            if int_ok:
                return self.shared("json_integer")
            if not draft6:  # draft 4 "not integer": float spellings
                return ir.Regex(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:[eE][+-]?[0-9]+)?|[eE][+-]?[0-9]+)")
        lower, upper = spec.lower, spec.upper
        divisors: list[int] = []
        unit_fracs: list[int] = []   # multipleOf 1/q (q a power of two)
        all_unit = True
        fractional: list[tuple[int, int]] = []  # multipleOf p/q with q > 1
        for m, ptr in spec.multiples:
            if isinstance(m, bool):
                continue
            if isinstance(m, int):
                divisors.append(m)
                all_unit = False
                continue
            dy = N.dyadic(m) if isinstance(m, float) else None
            if dy is None:
                self.unsupported(f"multipleOf {m!r}: jsonschema divides in floating point, which is exact "
                                 "only for divisors p/2^k", "multipleOf", ptr)
                continue
            p, q = dy
            divisors.append(p)
            # float division n / m is exact while the quotient stays below 2**52
            lim = (2 ** 52) * p // q
            lower = N.tighter_lower(lower, N.Bound(-lim, True))
            upper = N.tighter_upper(upper, N.Bound(lim, True))
            if q > 1:
                fractional.append((p, q))
            if p == 1 and q > 1:
                unit_fracs.append(q)
            else:
                all_unit = False
        # 'not' of multipleOf k (k an integer): integers with a remainder (also spelled I.0…);
        # non-integral numbers are never multiples
        not_divs = tuple(sorted({m for m, _ in spec.not_multiples}))
        if not_divs:
            small = (lower is not None and upper is not None
                     and Fraction(upper.value) - Fraction(lower.value) < SMALL_INT_RANGE)
            modulus = lcm(*not_divs, *divisors)
            if not small and modulus > MAX_NOT_MULTIPLE_MODULUS:
                # the remainder automaton has one state per residue of the combined modulus
                self.unsupported(f"'not' of multipleOf: combined modulus {modulus} above "
                                 f"{MAX_NOT_MULTIPLE_MODULUS} on an unbounded range", "multipleOf",
                                 spec.not_multiples[0][1])
                not_divs = ()
        if divisors:
            step = lcm(*divisors)
            parts = []
            if int_ok:
                parts.append(self._multiple_of(lower, upper, step, excluded, not_divs))
            # decimal spellings: multiples of 1/q for the smallest such unit divisor, or of one
            # divisor p/q when it is the only one (other combinations: integers only, sound)
            pq = None
            if unit_fracs and all_unit:
                pq = (1, min(unit_fracs))
            elif len(spec.multiples) == 1 and fractional:
                pq = fractional[0]
            if pq is None and ((int_ok and draft6) or (frac_ok and not draft6)):
                parts.append(self._integral_fraction_spellings(lower, upper, step, excluded, not_divs))
            if pq is not None and (frac_ok or draft6):
                lim = N.Bound(2 ** 40, True)
                lo2, hi2 = N.tighter_lower(lower, N.Bound(-(2 ** 40), True)), N.tighter_upper(upper, lim)
                if not not_divs:
                    parts.append(self._dyadic_decimals(lo2, hi2, *pq, excluded, int_ok, frac_ok))
                elif frac_ok:
                    parts.append(self._dyadic_decimals(lo2, hi2, *pq, excluded, False, True))
            return ir_alt(*parts) if parts else ir.NOTHING
        if not_divs:
            parts = []
            if int_ok:
                parts.append(self._multiple_of(lower, upper, 1, excluded, not_divs))
            if (int_ok and draft6) or (frac_ok and not draft6):
                parts.append(self._integral_fraction_spellings(lower, upper, 1, excluded, not_divs))
            if frac_ok:
                for a, b in _split_intervals(lower, upper, excluded):
                    bounds = _float_safe(a, b)
                    if bounds is not None:
                        parts.append(ir.Regex(L.to_regex(N.nonintegral_lang(*bounds))))
            return ir_alt(*parts) if parts else ir.NOTHING
        langs: list[L.Lang] = []
        for a, b in _split_intervals(lower, upper, excluded):
            ilo, ihi = N.int_bounds(a, b)
            nonempty_ints = ilo is None or ihi is None or ilo <= ihi
            if int_ok and nonempty_ints:
                langs.append(N.int_lang(ilo, ihi))
            if frac_ok:
                bounds = _float_safe(a, b)
                if bounds is None:
                    continue
                blo, bhi = bounds
                if int_ok or not draft6:
                    langs.append(N.decimal_lang(blo, bhi))
                    # exponent spellings parse to floats, integral ones (1e5) count as integers from
                    # draft 6 on: written only where those are allowed
                    langs.append(N.exponent_lang(blo, bhi))
                else:
                    langs.append(N.nonintegral_lang(blo, bhi))
            elif int_ok and draft6 and nonempty_ints:
                flo = -(N.FRAC_INT_LIMIT - 1) if ilo is None else max(ilo, -(N.FRAC_INT_LIMIT - 1))
                fhi = N.FRAC_INT_LIMIT - 1 if ihi is None else min(ihi, N.FRAC_INT_LIMIT - 1)
                if flo <= fhi:
                    langs.append(L.cat(N.int_lang(flo, fhi), L.lit("."), L.rep(L.lit("0"), 1, None)))
        langs = [x for x in langs if not L.is_nothing(x)]
        if not langs:
            return ir.NOTHING
        return ir.Regex(L.to_regex(L.alt(*langs)))

    def _dyadic_decimals(self, lo_b, hi_b, p: int, q: int, excluded: list, int_ok: bool, frac_ok: bool) -> ir.Expr:
        """Decimal spellings ``I.F`` of multiples of p/q (exact doubles: |x| < 2**40, q <= 2**16):
        integral values (``I.0…``) when ``int_ok`` or the draft reads them as numbers, values with
        a fraction when ``frac_ok``."""
        shape = N.dyadic_multiple_shape(p, q, integral=int_ok or not frac_ok, nonintegral=frac_ok)
        if L.is_nothing(shape):
            return ir.NOTHING
        parts = []
        for a, b in _split_intervals(lo_b, hi_b, excluded):
            bounds = _float_safe(a, b)
            if bounds is None:
                continue
            rng = N.decimal_lang(*bounds)
            d = fsa.product(fsa.from_lang(rng), fsa.from_lang(shape))
            if d.is_empty():
                continue
            try:
                parts.append(ir.Regex(L.to_regex(fsa.to_lang(d, 6000))))
            except fsa.AutomatonTooLarge:
                parts.append(self._dfa_rules(d, "mult"))
        return ir_alt(*parts) if parts else ir.NOTHING

    def _integral_fraction_spellings(self, lo_b, hi_b, m: int, excluded: list, not_divs: tuple[int, ...]) -> ir.Expr:
        """``I.0…`` spellings of integers (|I| < 10**15, where the double is exact) in the bounds,
        divisible by ``m`` and by none of ``not_divs`` (none when that automaton is too large:
        sound, integers keep their plain spelling)."""
        lim = N.FRAC_INT_LIMIT - 1
        lo_b = N.tighter_lower(lo_b, N.Bound(-lim))
        hi_b = N.tighter_upper(hi_b, N.Bound(lim))
        try:
            ints = self._multiple_of(lo_b, hi_b, m, excluded, not_divs)
        except fsa.AutomatonTooLarge:  # 15-digit bound x remainders: keep the plain spellings only
            return ir.NOTHING
        if ints == ir.NOTHING:
            return ir.NOTHING
        return ir.seq(ints, ir.Regex(r"\.0+"))

    def _multiple_of(self, lo_b, hi_b, m: int, excluded: list, not_divs: tuple[int, ...] = ()) -> ir.Expr:
        """Integers in the bounds (minus ``excluded``) divisible by ``m`` and by none of ``not_divs``."""
        intervals = _split_intervals(lo_b, hi_b, excluded)
        parts = []
        for a, b in intervals:
            ilo, ihi = N.int_bounds(a, b)
            if ilo is not None and ihi is not None and ilo > ihi:
                continue
            if ilo is not None and ihi is not None and ihi - ilo < SMALL_INT_RANGE:
                # few candidates: list them (remainder automata for large divisors are slow)
                ns = [str(n) for n in range(ilo, ihi + 1) if n % m == 0 and all(n % k for k in not_divs)]
                if ns:
                    parts.append(ir.Regex(L.to_regex(in_lang(ns))))
                continue
            d = N.multiple_of_int_dfa(ilo, ihi, m, not_divisors=not_divs)
            if d.is_empty():
                continue
            try:
                parts.append(ir.Regex(L.to_regex(fsa.to_lang(d, 3000))))
            except fsa.AutomatonTooLarge:
                parts.append(self._dfa_rules(d, "mult"))
        return ir_alt(*parts) if parts else ir.NOTHING

    def _dfa_rules(self, d: fsa.DFA, hint: str) -> ir.Expr:
        """A DFA as right-linear rules (exact, linear size; used when no small regex exists)."""
        names = [self.reserve(hint) for _ in range(d.n_states)]
        for s in range(d.n_states):
            alts = [ir.EMPTY] if d.accept[s] else []
            by_t: dict[int, list] = {}
            for a, t in d.trans[s].items():
                by_t.setdefault(t, []).append(d.atoms[a])
            for t, rs in sorted(by_t.items()):
                from . import charsets as cs

                alts.append(ir.seq(ir.Regex(cs.class_regex(cs.union(*rs))), ir.Ref(names[t])))
            self.define(names[s], ir_alt(*alts))
        return ir.Ref(names[0])

    # ------------------------------------------------------------------ objects / arrays
    def emit_object(self, spec: ObjectSpec) -> ir.Expr:
        if spec.trivial:
            return self.shared("json_object")
        key = spec.key()
        hit = self._obj_memo.get(key)
        if hit is not None:
            return hit
        name = self.reserve("obj")
        self._obj_memo[key] = ir.Ref(name)
        body = emit_object(self, spec)
        self.define(name, body)
        if body == ir.NOTHING:
            self._obj_memo[key] = ir.NOTHING
            return ir.NOTHING
        return ir.Ref(name)

    def emit_array(self, c: Clause) -> ir.Expr:
        spec = c.arr
        if spec.trivial:
            return self.shared("json_array")
        key = spec.key()
        hit = self._arr_memo.get(key)
        if hit is not None:
            return hit
        name = self.reserve("arr")
        self._arr_memo[key] = ir.Ref(name)
        body = emit_array(self, spec)
        self.define(name, body)
        if body == ir.NOTHING:
            self._arr_memo[key] = ir.NOTHING
            return ir.NOTHING
        return ir.Ref(name)


#: types whose values can be listed, and those values per type set
_LITERAL_TYPES = frozenset({"boolean", "null"})
_LITERAL_VALUES = {frozenset(): (), frozenset({"boolean"}): (True, False), frozenset({"null"}): (None,),
                   _LITERAL_TYPES: (True, False, None)}

#: integer ranges under multipleOf with fewer values than this are listed, not automata
SMALL_INT_RANGE = 4096
#: largest lcm of the divisors under 'not' of multipleOf (and multipleOf) on a range that is not small
MAX_NOT_MULTIPLE_MODULUS = 1000


def _float_safe(a, b):
    """Decimal bounds ``(lo, hi)`` (each ``(Decimal, False)`` or None) whose decimals all parse to
    doubles within the bounds ``a``..``b``; None when no decimal is safe."""
    dlo = N.float_safe_lower(a) if a is not None else None
    dhi = N.float_safe_upper(b) if b is not None else None
    if (a is not None and dlo is None) or (b is not None and dhi is None):
        return None
    if dlo is not None and dhi is not None and dlo > dhi:
        return None
    return (None if dlo is None else (dlo, False)), (None if dhi is None else (dhi, False))


def _split_intervals(lo, hi, excluded: list) -> list:
    """[lo, hi] minus the excluded points, as (lower, upper) Bound pairs."""
    from fractions import Fraction

    intervals = [(lo, hi)]
    for x in excluded:
        fx = Fraction(x)
        nxt = []
        for a, b in intervals:
            inside = (a is None or fx > a.exact or (fx == a.exact and not a.strict)) and \
                     (b is None or fx < b.exact or (fx == b.exact and not b.strict))
            if not inside:
                nxt.append((a, b))
                continue
            nxt.append((a, N.Bound(x, True)))
            nxt.append((N.Bound(x, True), b))
        intervals = nxt
    return intervals


def schema_to_ir(schema: Any, *, whitespace: str = "flexible", max_whitespace: Optional[int] = None,
                 lenient: bool = False, property_order: str = "schema") -> ir.Grammar:
    """See :func:`structgen.json_schema.schema_to_ir`."""
    return SchemaCompiler(schema, whitespace=whitespace, max_whitespace=max_whitespace, lenient=lenient,
                          property_order=property_order).compile()
