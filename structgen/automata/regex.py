"""Python regex → minimized byte DFA with full-match semantics.

``compile_regex_dfa(pattern, flags)`` accepts exactly the UTF-8 encodings of the strings ``s``
with ``re.fullmatch(pattern, s, flags)`` (strings containing surrogates have no UTF-8 encoding and
are not represented). Pipeline: ``re``'s parser → flag-resolved AST (:mod:`regex_parser`) →
Thompson NFA with UTF-8 character-class fragments (:mod:`charset`, :mod:`thompson`) → subset
construction over byte classes → trim → minimize → canonical numbering (:mod:`dfa`).

What that parser cannot place — look-arounds, ``\\b``/``\\B``, anchors inside the pattern —
goes through the exact look-around construction over code points
(:func:`structgen.json_schema.lookaround.fullmatch_dfa`, Python's reading of ``$`` included),
encoded to UTF-8 bytes (:func:`structgen.json_schema.machine_encoding.utf8_automaton`).
"""
from __future__ import annotations

import functools
import re

import numpy as np

from structgen.automata import charset as cs
from structgen.automata.byte_dfa import ByteDFA
from structgen.automata import thompson
from structgen.automata.dfa import LabeledDFA, canonical_form, determinize_csr, trim_minimize
from structgen.automata.fragments import RangeAutomaton
from structgen.automata.regex_parser import _AT_NAME, Chars, Concat, RNode, Repeat, Union, parse_regex
from structgen.errors import CompileLimitError, RegexError

DEFAULT_MAX_STATES = 100_000
# The NFA may be larger than the DFA it determinizes to; it is bounded by this multiple.
NFA_STATES_PER_DFA_STATE = 4


def _estimate_nfa_states(node: RNode, cap: int) -> int:
    """Upper estimate of the NFA states of a forward Thompson construction of ``node`` (saturating
    at ``cap``): the size bound of :func:`regex_ast_to_dfa`."""
    if isinstance(node, Chars):
        return cs.charset_automaton(node.ranges).n_states + 1
    if isinstance(node, Concat):
        total = 0
        for it in node.items:
            total += _estimate_nfa_states(it, cap)
            if total > cap:
                return cap + 1
        return total
    if isinstance(node, Union):
        total = 1
        for it in node.items:
            total += _estimate_nfa_states(it, cap)
            if total > cap:
                return cap + 1
        return total
    if isinstance(node, Repeat):
        copies = node.min + 1 if node.max is None else node.max
        one = _estimate_nfa_states(node.item, cap)
        return min(cap + 1, one * max(copies, 1) + 2)
    raise TypeError(node)


def regex_ast_to_dfa(node: RNode, max_states: int = DEFAULT_MAX_STATES) -> tuple[np.ndarray, np.ndarray]:
    """(trans[n,256], accept[n]) of the minimal canonical DFA of an AST."""
    cap = max_states * NFA_STATES_PER_DFA_STATE
    if _estimate_nfa_states(node, cap) > cap:
        raise CompileLimitError(
            f"regex expands to more than {cap} NFA states (limit max_states={max_states}); "
            "reduce counted repetitions")
    code: list[int] = []
    frags: list[RangeAutomaton] = []
    _postfix(node, code, frags, {})
    # the bottom-up construction makes at most about twice the states estimated above for the
    # forward one, so with this bound only the estimate decides what is too large
    out = thompson.build_nfa(np.asarray(code, np.int32), np.zeros(1, np.uint8), *thompson.fragment_table(frags),
                             2 * cap + 16)
    if out[0] != thompson.OK:  # pragma: no cover - see the bound above
        raise CompileLimitError(f"regex expands to more than {cap} NFA states (limit max_states={max_states})")
    dfa = determinize_csr(out[1], out[2], out[3], out[4:], 0, max_states=max_states)
    canon = canonical_form(trim_minimize(dfa))
    return canon.byte_trans, canon.accept


def _postfix(node: RNode, code: list[int], frags: list[RangeAutomaton], index: dict[int, int]) -> None:
    """Append the postfix program (:mod:`structgen.automata.thompson`) of ``node``; character
    classes become ``OP_TERM`` fragments (``index``: fragment id → position in ``frags``)."""
    t = type(node)
    if t is Chars:
        frag = cs.charset_automaton(node.ranges)
        k = index.get(id(frag))
        if k is None:
            k = index[id(frag)] = len(frags)
            frags.append(frag)
        code += (thompson.OP_TERM, k)
    elif t is Concat or t is Union:
        for it in node.items:
            _postfix(it, code, frags, index)
        code += (thompson.OP_SEQ if t is Concat else thompson.OP_ALT, len(node.items))
    elif t is Repeat:
        _postfix(node.item, code, frags, index)
        code += (thompson.OP_REP, node.min, -1 if node.max is None else node.max)
    else:
        raise TypeError(node)


@functools.lru_cache(maxsize=1024)
def compile_regex_dfa(pattern: str, flags: int = 0, *, max_states: int = DEFAULT_MAX_STATES) -> ByteDFA:
    """Compile a Python regex (``str`` syntax) to a minimized :class:`ByteDFA` (cached).

    The DFA accepts exactly the UTF-8 encodings of strings ``s`` with
    ``re.fullmatch(pattern, s, flags)``. Raises :class:`~structgen.errors.RegexError` for invalid
    syntax or constructs without an exact regular equivalent (backreferences, possessive
    quantifiers, atomic and conditional groups, MULTILINE anchors with look-arounds, look-arounds
    past the look-around construction's limits), and
    :class:`~structgen.errors.CompileLimitError` when the automaton would exceed ``max_states``
    DFA states (or ``4 * max_states`` NFA states). An empty language gives a 0-state DFA.
    """
    try:
        node = parse_regex(pattern, flags)
    except RegexError as e:
        if e.construct not in LOOKAROUND_CONSTRUCTS:
            raise
        trans, accept = _lookaround_dfa(pattern, flags, e, max_states)
    else:
        trans, accept = regex_ast_to_dfa(node, max_states)
    trans.setflags(write=False)
    accept.setflags(write=False)
    return ByteDFA(trans, accept, pattern, flags)


#: constructs the parser refuses that the look-around construction compiles exactly
LOOKAROUND_CONSTRUCTS = frozenset({"lookahead", "negative lookahead", "lookbehind", "negative lookbehind",
                                    *_AT_NAME.values()})


def _lookaround_dfa(pattern: str, flags: int, first: RegexError, max_states: int) -> tuple[np.ndarray, np.ndarray]:
    """(trans, accept) of the minimal canonical byte DFA of ``re.fullmatch(pattern, ·, flags)``
    by the look-around construction; ``first`` is the parser's error (re-raised with the
    construction's reason when that fails too)."""
    from structgen.json_schema import fsa
    from structgen.json_schema.lookaround import fullmatch_dfa
    from structgen.json_schema.machine_encoding import utf8_automaton
    from structgen.json_schema.pyregex import PatternInvalid, PatternUnsupported

    try:
        auto = utf8_automaton(fullmatch_dfa(pattern, flags & ~re.DEBUG), max_states)
    except PatternInvalid as e:
        raise RegexError(f"invalid regex: {e}", pattern, None, "syntax") from None
    except PatternUnsupported as e:
        raise RegexError(f"{first.construct} cannot be compiled exactly here: {e}", pattern, first.position,
                         first.construct) from None
    except fsa.AutomatonTooLarge as e:
        raise CompileLimitError(f"regex {pattern!r}: look-around automaton too large ({e})") from None
    table = np.frombuffer(auto.table, np.int32).reshape(auto.n_states, 256).copy()
    accept = np.frombuffer(auto.accept, np.uint8).astype(np.bool_)
    dfa = LabeledDFA(table, accept, np.arange(256, dtype=np.int32), 256)
    canon = canonical_form(trim_minimize(dfa))
    return canon.byte_trans, canon.accept


# One class atom as written by ``charsets.class_regex``: an ASCII letter/digit or a hex escape.
_ATOM = r"(?:[A-Za-z0-9]|\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|\\U[0-9a-fA-F]{8})"
_SIMPLE_CLASS = re.compile(rf"\[(?:{_ATOM}(?:-{_ATOM})?)+\]|{_ATOM}")
_CLASS_ITEM = re.compile(rf"({_ATOM})(?:-({_ATOM}))?")


def _atom_code_point(atom: str) -> int:
    return ord(atom) if len(atom) == 1 else int(atom[2:], 16)


def simple_class_ranges(pattern: str, flags: int = 0) -> cs.Ranges | None:
    """The code point set of ``pattern`` when it is a plain character class without flags — one
    atom, or ``[...]`` of atoms and ranges ``a-b``, where an atom is an ASCII letter or digit or a
    ``\\xHH`` / ``\\uHHHH`` / ``\\UHHHHHHHH`` escape (the form generated regexes use); else None.
    Anything this does not recognize exactly (and every syntax error) is left to ``re``'s parser."""
    if flags or not _SIMPLE_CLASS.fullmatch(pattern):
        return None
    body = pattern[1:-1] if pattern[0] == "[" else pattern
    parts = []
    for m in _CLASS_ITEM.finditer(body):
        lo = _atom_code_point(m.group(1))
        hi = lo if m.group(2) is None else _atom_code_point(m.group(2))
        if lo > hi or hi > cs.MAX_CODE_POINT:
            return None  # re reports the error
        parts.append((lo, hi))
    return cs.normalize(parts)


#: class patterns written by a generator, with their code point sets (see register_class_pattern)
_KNOWN_CLASSES: dict[str, cs.Ranges] = {}
_MAX_KNOWN_CLASSES = 1 << 16


def register_class_pattern(pattern: str, ranges: cs.Ranges) -> None:
    """Announce that ``pattern`` (no flags) matches exactly one character of ``ranges``, which
    must be normalized (sorted, disjoint, non-adjacent) — as a generator of class regexes knows —
    so :func:`regex_fragment` builds its automaton without parsing the pattern. Ranges that are
    not normalized are ignored (the pattern is then parsed as usual)."""
    for i in range(1, len(ranges)):
        if ranges[i][0] <= ranges[i - 1][1] + 1:
            return
    if not ranges or ranges[0][0] > ranges[0][1] or ranges[0][0] < 0 or ranges[-1][1] > cs.MAX_CODE_POINT:
        return
    if len(_KNOWN_CLASSES) >= _MAX_KNOWN_CLASSES:
        _KNOWN_CLASSES.clear()
    _KNOWN_CLASSES[pattern] = ranges


@functools.lru_cache(maxsize=8192)
def regex_fragment(pattern: str, flags: int = 0) -> RangeAutomaton:
    """The minimal DFA of ``pattern`` (full-match, UTF-8; as :func:`compile_regex_dfa`) as a
    :class:`RangeAutomaton` ready to embed into a larger NFA (cached by pattern and flags).

    Plain character classes (:func:`simple_class_ranges`), the bulk of generated terminals, are
    built directly as UTF-8 range automata, without parsing or determinizing; everything else
    goes through :func:`compile_regex_dfa`. Raises what :func:`compile_regex_dfa` raises.
    Classes announced with :func:`register_class_pattern` are not even parsed.
    """
    ranges = _KNOWN_CLASSES.get(pattern) if not flags else None
    if ranges is None:
        ranges = simple_class_ranges(pattern, flags)
    if ranges is not None:
        return cs.charset_automaton(ranges)
    return compile_regex_dfa(pattern, flags).range_automaton
