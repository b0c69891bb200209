"""``format: regex``: strings Python's ``re.compile`` accepts (what ``jsonschema`` checks).

The set of valid Python regexes is context-free (groups nest), not regular. Two forms:

- :func:`regex_format_grammar`: a recursive grammar (groups nested to any depth), used when the
  format is a string's only constraint, the common case;
- :data:`REGEX_SUBSET`: a regular subset without groups (:data:`REGULAR_GROUP_DEPTH`) and with a
  simpler set syntax, used when the format has to be intersected with other string constraints, and
  :data:`REGEX_PLAIN` (no metacharacters at all) when that intersection is too large (length
  bounds usually are).

Both accept only strings that compile, and both are subsets of the valid regexes — a string the
mask lets through always validates. What they cover: literals, ``.``, escapes (``\\d``,
``\\x41``, ``\\u00e9``, escaped punctuation, ...), character classes with ordered ranges,
greedy and lazy quantifiers (``*``, ``+``, ``?``, ``{n}``, ``{n,}``, ``{,m}``, ``{n,m}`` with
``n <= m``) on atoms, anchors, alternation, capturing groups, ``(?:``, look-aheads, and a literal
``{`` before a letter (``/{env}/x``). Left out, because whether they compile depends on more than
local syntax: back-references, named groups, inline flags, look-behinds (fixed width only),
ranges whose ends are escapes or non-ASCII, quantifiers on anchors (an error in Python).
"""
from __future__ import annotations

from typing import Callable

from ..cfg import ir
from .irtools import alt as ir_alt

#: group nesting depth of the regular subset :data:`REGEX_SUBSET` (0: no groups; one level of
#: groups is already past the automaton budgets of string intersections)
REGULAR_GROUP_DEPTH = 0


def _ordered_pairs() -> str:
    """``n,m`` with ``n <= m`` (no leading zeros; ``n`` up to 2 digits, ``m`` up to 3): reversed
    bounds are an error in Python ("min repeat greater than max repeat")."""
    alts = [f"{d},[{d}-9]" for d in range(10)]                       # one digit each
    alts += ["[0-9],[1-9][0-9]{1,2}", "[1-9][0-9],[1-9][0-9]{2}"]    # m has more digits
    for a in range(1, 10):                                            # two digits each
        if a < 9:
            alts.append(f"{a}[0-9],[{a + 1}-9][0-9]")
        alts += [f"{a}{b},{a}[{b}-9]" for b in range(10)]
    return "(?:" + "|".join(alts) + ")"


def _range_regex() -> str:
    """``x-y`` with ``x <= y``: over printable ASCII, ends neither ``]``, ``\\``, ``-``, ``[``
    nor ``^`` (each would change how Python reads the set); or between two ``\\xHH`` escapes
    whose first hex digits increase."""
    special = set("]\\-[^")
    ends = [c for c in map(chr, range(0x20, 0x7F)) if c not in special]
    esc = lambda c: "\\" + c if not c.isalnum() else c  # noqa: E731
    alts = []
    for i, lo in enumerate(ends):
        his = "".join(esc(c) for c in ends[i:])
        alts.append(f"{esc(lo)}-[{his}]")
    hexd = "0123456789abcdef"
    for a in range(15):  # \\xAB-\\xCD with A < C (the common control-character and ASCII spans)
        first = hexd[a] if a < 10 else f"[{hexd[a]}{hexd[a].upper()}]"
        alts.append(rf"\\x{first}[0-9A-Fa-f]-\\x[{hexd[a + 1:]}{hexd[max(a + 1, 10):].upper()}][0-9A-Fa-f]")
    return "(?:" + "|".join(alts) + ")"


_ESCAPE_TAIL = r"(?:x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|[ -/:-@\[-`{-~])"
#: one character outside a set that stands for itself
LITERAL = r"(?:[^.^$*+?{\[\\|()]|\{[A-Za-z_])"
#: an escape outside a set (``\b``, ``\A``, ``\Z``, ``\B`` are anchors, see ANCHOR)
ESCAPE = rf"\\(?:[dDwWsSntrfv0]|{_ESCAPE_TAIL})"
ANCHOR = r"(?:\^|\$|\\[bBAZ])"
_SET_SINGLE = rf"(?:[^\]\\\[\-]|\\(?:[dDwWsSntrfvb0]|{_ESCAPE_TAIL}))"
_SET_FIRST = rf"(?:[^\]\\\[\-^]|\\(?:[dDwWsSntrfvb0]|{_ESCAPE_TAIL}))"  # no "^": it would negate
_RANGE = _range_regex()
#: a set. A literal ``-`` stands first, last, or right after a range (after a single character it
#: would start a range), and never next to another ``-`` (Python warns about ``--``). A ``^`` is
#: literal anywhere but first.
_RUN = rf"(?:-?{_SET_SINGLE}+)"
_RUN_FIRST = rf"(?:(?:-{_SET_SINGLE}|{_SET_FIRST}){_SET_SINGLE}*)"
_BODY = rf"(?:(?:-?{_RANGE}|{_RUN}{_RANGE})+{_RUN}?-?|{_RUN}-?|-)"
_BODY_FIRST = rf"(?:(?:-?{_RANGE}|{_RUN_FIRST}{_RANGE})(?:-?{_RANGE}|{_RUN}{_RANGE})*{_RUN}?-?|{_RUN_FIRST}-?|-)"
CHAR_CLASS = rf"\[(?:\^{_BODY}|{_BODY_FIRST})\]"
_NUMBER = "(?:0|[1-9][0-9]{0,2})"
QUANTIFIER = rf"(?:[*+?]|\{{(?:{_NUMBER}|{_NUMBER},|,{_NUMBER}|{_ordered_pairs()})\}})\??"
#: an atom that is not a group
PLAIN_ATOM = rf"(?:{LITERAL}|\.|{ESCAPE}|{CHAR_CLASS})"
GROUP_OPEN = r"\((?:\?[:=!])?"


#: a simpler set for the regular subset (its regex is parsed and determinized, so size matters):
#: a literal "-" only first or last
_SIMPLE_CLASS = rf"\[(?:\^-?(?:{_RANGE}|{_SET_SINGLE})+|-?(?:{_RANGE}|{_SET_FIRST})(?:{_RANGE}|{_SET_SINGLE})*)-?\]"


def _regular(depth: int) -> str:
    atom = rf"(?:{LITERAL}|\.|{ESCAPE}|{_SIMPLE_CLASS})"
    expr = None
    for _ in range(depth + 1):
        group = rf"|{GROUP_OPEN}{expr}\)" if expr is not None else ""
        seq = rf"(?:(?:{atom}{group})(?:{QUANTIFIER})?|{ANCHOR})*"
        expr = rf"{seq}(?:\|{seq})*"
    return expr


#: regular subset of valid Python regexes: groups nested up to REGULAR_GROUP_DEPTH levels
REGEX_SUBSET = _regular(REGULAR_GROUP_DEPTH)
#: strings without metacharacters: the fallback when REGEX_SUBSET with length bounds is too large
REGEX_PLAIN = "[A-Za-z0-9 _-]*"


def regex_format_grammar(encode: Callable[[str], ir.Expr], reserve: Callable[[str], str],
                         define: Callable[[str, ir.Expr], None]) -> ir.Expr:
    """Encoded-form IR (string content, no quotes) of the recursive version of
    :data:`REGEX_SUBSET`: groups nest to any depth.

    ``encode(rx)``: the encoded form of the strings fully matching the Python regex ``rx`` (every
    JSON spelling of each character); ``reserve(hint)`` a fresh rule name, ``define(name, body)``
    its body. Returns a reference to the rule.
    """
    name = reserve("regex_format")
    quant = ir.Repeat(encode(QUANTIFIER), 0, 1)
    group = ir.seq(encode(GROUP_OPEN), ir.Ref(name), encode(r"\)"))
    item = ir_alt(ir.seq(ir_alt(encode(PLAIN_ATOM), group), quant), encode(ANCHOR))
    seq = ir.Repeat(item, 0, None)
    define(name, ir.seq(seq, ir.Repeat(ir.seq(encode(r"\|"), seq), 0, None)))
    return ir.Ref(name)
