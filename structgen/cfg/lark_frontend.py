"""Lark grammars → grammar IR (:mod:`structgen.cfg.ir`).

Entry points
------------
- :func:`lark_to_ir` — grammar text → :class:`~structgen.cfg.ir.Grammar`.
- :func:`compile_lark_automaton` — grammar text / library name / ``.lark`` path →
  :class:`~structgen.cfg.automaton.GrammarAutomaton` (vocabulary-independent).
- :func:`compile_lark` — the same → :class:`~structgen.runtime.compiled.CompiledGrammar` for a vocabulary.

The grammar text is parsed by lark's own loader (``lark.load_grammar``), so the whole Lark grammar
language is available: ``%import`` (including lark's bundled ``common`` grammar, offline),
``%ignore``, ``%override``, ``%extend``, templates, ``?rule`` / ``_rule`` / ``-> alias``
(which shape lark's trees but not the language), rule and terminal priorities (ignored, see below),
``~n..m`` ranges, ``"a".."z"`` character ranges, ``"..."i`` case-insensitive strings and regex flags
``/.../imsx``. Lark's EBNF→BNF expansion gives the rules; each terminal becomes an IR terminal,
inlined at every use (``Literal`` for plain strings, ``Regex(pattern, flags)`` otherwise).
Direct left/right-linear recursion (which lark's expansion of ``x*`` / ``x+`` produces) is turned
back into :class:`~structgen.cfg.ir.Repeat`, and lark's generated helper rules (``__…``) are
inlined when not recursive; both rewrites preserve the language exactly.

Semantics (what language structgen enforces)
--------------------------------------------
structgen is *scannerless*: the language of a Lark grammar is its context-free language with every
terminal ``T`` replaced by the full regular language ``L(T)`` of its pattern (every string the
pattern matches *in full*, Python ``re`` semantics on text, applied to its UTF-8 encoding), and with
``%ignore``-d terminals allowed — any number, in any order — before every terminal occurrence and at
the end of the input (hence also at its start, between any two terminals, and as the whole input
when the start rule derives the empty string). There is no lexer: no maximal munch, no token
priorities, no keyword reservation. Concretely:

- Terminal priorities (``T.2: …``) and rule priorities (``r.2: …``) choose between parses (and,
  in lark's standalone lexers, between colliding tokens); they never change the set of accepted
  strings here and are ignored.
- A terminal may be a prefix of another (``"="`` vs ``"=="``): ``==`` is accepted wherever either
  ``"=" "="`` or ``"=="`` fits.
- Ignored terminals are optional, so words only separated by an ignored ``WS`` may also be written
  together (``%ignore WS`` + ``"select"i NAME`` accepts ``selectx``). Grammars that need mandatory
  separators must say so explicitly (see ``grammars/sql.lark``).
- Terminals that match the empty string are allowed (lark's Earley refuses them).

Where lark's own parsers differ (structgen's language ⊇ lark's in all these cases):

- ``lexer="dynamic_complete"`` (the reference used in the tests) scans a terminal at position ``i``
  with ``re.match`` and then re-matches every shorter prefix of that first match. It therefore finds
  every string of ``L(T)`` there *except* those longer than Python's leftmost-first match: ordered
  alternations whose earlier branch is a prefix of a later one (``/a|ab/`` never yields ``ab``) and
  lazy quantifiers. For ``%ignore``-d terminals it uses only the first match (no shorter ones), so
  e.g. with ``%ignore /x+/``, ``start: "a" "xb"`` lark rejects ``axxb`` while it is in the language.
  With ordinary greedy terminals and ignored terminals that cannot overlap the next terminal (the
  usual whitespace case) the two agree exactly; every example in ``grammars/examples`` is checked
  against it. The common trap is an ignored line comment ``/#[^\\n]*/``: structgen may end it
  early and read the rest of the line as input. :func:`lark_to_ir` detects ignored terminals that
  can end early leaving non-ignorable text and emits :class:`IgnoreCanEndEarlyWarning`; write
  ``/#[^\\n]*\\n/`` instead (see ``grammars/sexp.lark`` for a final comment without newline).
  (The ``axxb`` kind of difference, where the next *terminal* starts with ignorable text, depends
  on the whole grammar and is not warned about.)
- ``lexer="dynamic"`` additionally keeps only the first match of every terminal
  (``start: A "a"`` with ``A: /a+/`` rejects ``aaa``).
- ``lexer="basic"`` / ``"contextual"`` (LALR) tokenize first with maximal munch, priorities and
  keyword-vs-name collision rules, so they reject many strings of the CFG language (with terminals
  ``"="`` and ``"=="``, ``start: "=" "="`` cannot parse ``==``).

Lazy quantifiers (``*?``, ``+?``, ``??``, ``{m,n}?``) mean "stop at the first possible end" only
inside a lexer; as a regular language ``/".*?"/`` also contains ``"a"b"``. Rather than silently
enforcing a language different from what lark parses, a terminal using one raises
:class:`~structgen.errors.GrammarError`. The two terminals of lark's ``common`` grammar that rely on
lazy matching are replaced by lazy-free patterns denoting exactly the strings lark's scanner
produces for them: ``ESCAPED_STRING`` → ``"(?:[^"\\\\\\n]|\\\\.)*"`` and ``C_COMMENT`` → a comment
ending at the first ``*/``.

Unsupported (raising at compile time): ``%declare``-d terminals (they are produced by a
post-lexer, which structgen has no equivalent of); the ``l`` (locale) regex flag; lazy quantifiers
(see above). Every terminal's pattern is compiled to its byte DFA by :func:`lark_to_ir` (the
result is cached for the grammar compiler), so invalid regexes and constructs with no exact
automaton (lookaround, backreferences, ``\\b``, …) raise :class:`~structgen.errors.RegexError`
there, naming the terminal. Look-arounds and anchors stay refused in terminals even though
:func:`~structgen.automata.regex.compile_regex_dfa` compiles them for whole-output regexes: lark
matches a terminal inside the whole input, so ``/\\w+(?!\\()/`` looks at what *follows* the
terminal, which a terminal compiled as its own language cannot see.
"""
from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping, Union

import numpy as np

from structgen.errors import GrammarError, RegexError
from structgen.cfg.ir import (
    Alt,
    Expr,
    Grammar,
    Literal,
    Ref,
    Regex,
    Repeat,
    Seq,
    alt,
    seq,
)

if TYPE_CHECKING:  # pragma: no cover
    from structgen.cfg.automaton import GrammarAutomaton
    from structgen.runtime.compiled import CompiledGrammar
    from structgen.vocab import Vocabulary

try:  # Python >= 3.11
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as _sre_parse  # type: ignore[no-redef]

__all__ = ["lark_to_ir", "compile_lark", "compile_lark_automaton", "resolve_lark_source", "LarkSource",
           "IgnoreCanEndEarlyWarning", "IGNORE_START_RULE"]

#: Name of the wrapper start rule added when the grammar has ``%ignore`` (lark rule names are
#: lower-case, so this cannot collide with a user rule).
IGNORE_START_RULE = "START__IGNORED_SUFFIX"

_FLAG_BITS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE, "u": re.UNICODE}

# Lazy-free equivalents of lark's common.lark terminals whose meaning depends on lazy matching.
# Each denotes exactly the set of strings lark's Earley scanner produces for the original.
_COMMON_REPLACEMENTS = {
    "ESCAPED_STRING": r'"(?:[^"\\\n]|\\.)*"',
    "C_COMMENT": r"/\*(?:[^*]|\*+[^*/])*\*+/",
}


@dataclass(frozen=True)
class LarkSource:
    """Grammar text resolved from a name, a path or literal text (see :func:`resolve_lark_source`)."""

    text: str
    path: str | None = None   # file the text came from (for relative %import), if any
    name: str = "lark"        # provenance for error messages


# ----------------------------------------------------------------------------------------------
# public API


def lark_to_ir(text: str, *, start: str = "start", source_path: str | os.PathLike | None = None,
               name: str = "") -> Grammar:
    """Convert Lark grammar ``text`` to a :class:`~structgen.cfg.ir.Grammar` rooted at ``start``.

    The IR's language is the scannerless language described in the module docstring. Rule names
    are lark's (BNF-expanded) rule names; when the grammar has ``%ignore``, the IR's start rule is
    a wrapper (:data:`IGNORE_START_RULE`) allowing ignored terminals after ``start``.
    ``source_path`` is the file the text came from (resolves relative ``%import``).

    Raises :class:`~structgen.errors.GrammarError` for malformed grammars (lark syntax errors with
    line and column, undefined rules/terminals, ``%declare``-d terminals, unknown start rule, empty
    language, lazy quantifiers, unsupported flags) and :class:`~structgen.errors.RegexError` for a
    terminal pattern that is invalid or has no exact automaton (naming the terminal).
    """
    path = os.fspath(source_path) if source_path is not None else None
    grammar = _convert(text, start, path)
    return Grammar(dict(grammar.rules), grammar.start, name or grammar.name)


def compile_lark_automaton(text_or_name: Union[str, os.PathLike], *, start: str = "start") -> "GrammarAutomaton":
    """Lark grammar (text, library name or ``.lark`` path) → vocabulary-independent automaton.

    :func:`resolve_lark_source` + :func:`lark_to_ir` + ``compile_grammar_automaton``; errors as in
    :func:`lark_to_ir` (plus ``CompileLimitError`` from the compiler).
    """
    from structgen.cfg.compiler import compile_grammar_automaton

    return compile_grammar_automaton(_convert_source(resolve_lark_source(text_or_name), start))


def compile_lark(text_or_name: Union[str, os.PathLike], vocab: "Vocabulary", *,
                 start: str = "start") -> "CompiledGrammar":
    """Compile a Lark grammar for ``vocab``: :func:`lark_to_ir` + ``runtime.compiled.compile_grammar``.

    ``text_or_name`` is grammar text, the name of a grammar shipped in ``grammars/``
    (see :func:`structgen.grammars.names`, e.g. ``"json"``, ``"sql"``) or a path to a ``.lark``
    file. Errors as in :func:`lark_to_ir`.
    """
    from structgen.runtime.compiled import compile_grammar

    return compile_grammar(_convert_source(resolve_lark_source(text_or_name), start), vocab)


def resolve_lark_source(text_or_name: Union[str, os.PathLike]) -> LarkSource:
    """Interpret ``text_or_name``: a library grammar name, a path to a ``.lark`` file, or grammar text.

    A string is a library name if :func:`structgen.grammars.names` lists it, a path if it has no
    newline and names an existing file (or ends in ``.lark``); anything containing a ``:`` or a
    newline is otherwise grammar text. Raises :class:`GrammarError` for an unknown name/missing file.
    """
    from structgen import grammars

    if isinstance(text_or_name, os.PathLike):
        return _read_file(Path(text_or_name))
    if not isinstance(text_or_name, str):
        raise TypeError(f"expected grammar text, a grammar name or a path, got {type(text_or_name).__name__}")
    s = text_or_name
    if "\n" not in s:
        stripped = s.strip()
        if stripped in grammars.names():
            return LarkSource(grammars.load(stripped), str(grammars.path(stripped)), f"lark:{stripped}")
        p = Path(stripped).expanduser()
        if stripped.endswith(".lark") or (stripped and ":" not in stripped and p.is_file()):
            if not p.is_file():
                raise GrammarError(f"Lark grammar file not found: {stripped}")
            return _read_file(p)
        if ":" not in s:
            raise GrammarError(f"unknown grammar {stripped!r}: not a library grammar "
                               f"(available: {', '.join(grammars.names())}), not a file, and not Lark "
                               f"grammar text (no rule definition)")
    return LarkSource(s)


# ----------------------------------------------------------------------------------------------
# conversion


def _read_file(p: Path) -> LarkSource:
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise GrammarError(f"cannot read Lark grammar file {str(p)!r}: {e}") from e
    return LarkSource(text, str(p.resolve()), f"lark:{p.name}")


def _convert_source(src: LarkSource, start: str) -> Grammar:
    g = _convert(src.text, start, src.path)
    return Grammar(dict(g.rules), g.start, src.name)


@functools.lru_cache(maxsize=64)
def _convert(text: str, start: str, source_path: str | None) -> Grammar:
    """The conversion proper (cached; callers copy the rules dict before handing it out)."""
    terminal_defs, rules, ignore_names, declared = _load_with_lark(text, start, source_path)

    terminals = {str(tdef.name): _terminal_to_ir(tdef) for tdef in terminal_defs}

    ignore: Expr | None = None
    if ignore_names:
        ignored = {str(n): terminals[str(n)] for n in ignore_names}
        ignore = Repeat(alt(*ignored.values()), 0, None)
        _warn_if_ignored_can_end_early(ignored)

    # rule name -> list of expansions (each a list of IR items)
    expansions: dict[str, list[list[Expr]]] = {}
    for rule in rules:
        items: list[Expr] = []
        for sym in rule.expansion:
            if sym.is_term:
                term = terminals.get(str(sym.name))
                if term is None:
                    if sym.name in declared:
                        raise GrammarError(
                            f"terminal {sym.name} is %declare'd without a definition (used in rule "
                            f"{rule.origin.name!r}); declared terminals are produced by a lark "
                            f"post-lexer, which structgen does not support: define {sym.name} "
                            f"with a pattern instead")
                    raise GrammarError(f"terminal {sym.name} used but not defined (in rule {rule.origin.name!r})")
                items.append(seq(ignore, term) if ignore is not None else term)
            else:
                items.append(Ref(str(sym.name)))
        expansions.setdefault(str(rule.origin.name), []).append(items)

    if start not in expansions:
        defined = sorted(n for n in expansions if not n.startswith("__"))
        raise GrammarError(f"start rule {start!r} is not defined in the Lark grammar "
                           f"(rules: {', '.join(defined) or 'none'})")

    reachable = _reachable(start, expansions)
    expansions = {n: e for n, e in expansions.items() if n in reachable}
    _check_productive(start, expansions)

    bodies = {n: _rule_body(n, exps) for n, exps in expansions.items()}
    bodies = _inline_helper_rules(bodies, keep=start)

    start_rule = start
    if ignore is not None:
        start_rule = IGNORE_START_RULE
        bodies[start_rule] = seq(Ref(start), ignore)
    return Grammar(bodies, start_rule, "lark")


def _load_with_lark(text: str, start: str, source_path: str | None):
    """Run lark's grammar loader and EBNF→BNF compiler; translate its errors to GrammarError."""
    from lark.exceptions import LarkError
    from lark.load_grammar import load_grammar

    if not isinstance(text, str):
        raise TypeError(f"Lark grammar text must be str, got {type(text).__name__}")
    import_paths = [os.path.dirname(source_path)] if source_path else []
    try:
        lark_grammar, _used_files = load_grammar(text, source_path or "<grammar>", import_paths, False)
        declared = {str(name) for name, (tree, _prio) in lark_grammar.term_defs if tree is None}
        terminal_defs, rules, ignore_names = lark_grammar.compile([start], set())
    except LarkError as e:
        raise GrammarError(f"Lark grammar error: {_describe_lark_error(e)}") from e
    except (OSError, ImportError) as e:  # %import of a grammar module that does not exist
        raise GrammarError(f"Lark grammar error: cannot resolve %import: {e}") from e
    return terminal_defs, rules, list(ignore_names), declared


def _describe_lark_error(e: Exception) -> str:
    msg = str(e).strip()
    # lark reports undefined terminals as "Rule 'FOO' used but not defined"
    return re.sub(r"^Rule '([A-Z_][A-Z_0-9]*)' used but not defined", r"Terminal '\1' used but not defined", msg)


# ----------------------------------------------------------------------------------------------
# terminals


@functools.lru_cache(maxsize=1)
def _common_replacements() -> dict[tuple[str, frozenset], str]:
    """Map (pattern, flags) of lark's own common.X terminals → lazy-free equivalent regex."""
    from lark.load_grammar import load_grammar

    names = sorted(_COMMON_REPLACEMENTS)
    text = "".join(f"%import common.{n}\n" for n in names) + "start: " + " ".join(names) + "\n"
    g, _ = load_grammar(text, "<common>", [], False)
    terms, _rules, _ign = g.compile(["start"], set())
    return {(t.pattern.value, frozenset(t.pattern.flags)): _COMMON_REPLACEMENTS[t.name] for t in terms}


def _terminal_to_ir(tdef) -> Expr:
    """One lark TerminalDef → IR terminal (``Literal`` or ``Regex``)."""
    from lark.lexer import PatternStr

    pattern = tdef.pattern
    flags = frozenset(pattern.flags)
    if "l" in flags:
        raise GrammarError(f"terminal {tdef.name}: the 'l' (locale) regex flag is not supported")
    unknown = flags - set(_FLAG_BITS)
    if unknown:
        raise GrammarError(f"terminal {tdef.name}: unsupported regex flag(s) {''.join(sorted(unknown))!r}")
    bits = 0
    for f in flags:
        bits |= _FLAG_BITS[f]
    bits = int(bits & ~re.UNICODE)  # UNICODE is a no-op for str patterns

    if isinstance(pattern, PatternStr):
        if not bits:
            return Literal(pattern.value)
        regex = Regex(re.escape(pattern.value), bits)
    else:
        replacement = _common_replacements().get((pattern.value, flags))
        if replacement is not None:
            regex = Regex(replacement, 0)
        else:
            _reject_lazy_quantifiers(str(tdef.name), pattern.value, bits)
            regex = Regex(pattern.value, bits)
    _check_compiles(str(tdef.name), regex)
    return regex


def _check_compiles(name: str, regex: Regex) -> None:
    """Compile the terminal's byte DFA now (cached for the grammar compiler) to name it in errors."""
    from structgen.automata.regex import LOOKAROUND_CONSTRUCTS, compile_regex_dfa
    from structgen.automata.regex_parser import parse_regex

    try:
        try:
            parse_regex(regex.pattern, regex.flags)
        except RegexError as e:
            if e.construct in LOOKAROUND_CONSTRUCTS:
                # compile_regex_dfa would compile it with full-match semantics, but lark's lexer
                # matches a terminal inside the whole input, where these look past its own text
                err = RegexError(f"{e.args[0]} (in a Lark terminal a look-around or anchor can see past the "
                                 "terminal's own text, which structgen's terminals-as-languages cannot honour)")
                err.pattern, err.position, err.construct = e.pattern, e.position, e.construct
                raise err from None
            raise
        compile_regex_dfa(regex.pattern, regex.flags)
    except RegexError as e:
        err = RegexError(f"terminal {name}: {e.args[0] if e.args else e}")
        err.pattern, err.position, err.construct = e.pattern, e.position, e.construct
        raise err from e


def _reject_lazy_quantifiers(name: str, pattern: str, flags: int) -> None:
    try:
        parsed = _sre_parse.parse(pattern, flags)
    except re.error as e:
        raise RegexError(f"terminal {name}: invalid regular expression ({e.msg})", pattern, e.pos) from e
    if _has_lazy_quantifier(parsed):
        raise GrammarError(
            f"terminal {name}: lazy quantifier in /{pattern}/. structgen treats a terminal as the "
            f"regular language of its pattern (no lexer), where a lazy quantifier means the same as "
            f"a greedy one, whereas lark's scanner stops at the shortest match; write the intended "
            f"language without lazy quantifiers (e.g. /\"[^\"]*\"/ instead of /\".*?\"/)")


def _has_lazy_quantifier(parsed) -> bool:
    min_repeat = _sre_parse.MIN_REPEAT
    stack = [parsed]
    while stack:
        node = stack.pop()
        items = node.data if hasattr(node, "data") else node
        for op, av in items:
            if op is min_repeat:
                return True
            stack.extend(_sub_patterns(av))
    return False


def _sub_patterns(av) -> Iterable:
    if isinstance(av, _sre_parse.SubPattern):
        yield av
    elif isinstance(av, (tuple, list)):
        for x in av:
            if isinstance(x, (_sre_parse.SubPattern, tuple, list)):
                yield from _sub_patterns(x)


class IgnoreCanEndEarlyWarning(UserWarning):
    """An ``%ignore``-d terminal can stop short where lark's scanner would continue.

    Lark's scanner consumes an ignored terminal's whole (greedy) match; structgen lets it end
    anywhere its pattern allows. When what remains after an early end is not itself ignorable
    (e.g. the rest of a ``/#[^\\n]*/`` comment), structgen accepts text lark rejects, such as a
    comment followed by code on the same line. Include the terminator in the pattern
    (``/#[^\\n]*\\n/``) to make the two agree.
    """


def _describe_terminal(expr: Expr) -> str:
    if isinstance(expr, Literal):
        return repr(expr.text)
    pattern = getattr(expr, "pattern", str(expr))
    return "/" + pattern.encode("unicode_escape").decode("ascii") + "/"


def _warn_if_ignored_can_end_early(ignored: Mapping[str, Expr]) -> None:
    """Warn when some ``u`` and ``u·v`` (``v`` non-empty) are ignored tokens but ``v`` is not ignorable."""
    import warnings

    from structgen.automata.regex import compile_regex_dfa

    pieces = []
    for expr in ignored.values():
        if isinstance(expr, Literal):
            pieces.append("(?:" + re.escape(expr.text) + ")")
        else:
            assert isinstance(expr, Regex)
            letters = "".join(c for c, bit in _FLAG_BITS.items() if c != "u" and expr.flags & bit)
            pieces.append(f"(?{letters}:{expr.pattern}\n)" if "x" in letters else f"(?{letters}:{expr.pattern})")
    union = "|".join(pieces)
    one = compile_regex_dfa(union)
    many = compile_regex_dfa(f"(?:{union})*")
    if one.trans.shape[0] == 0:
        return
    # product walk: (state of `one` after u·v, state of `many` after v; -1 = dead), v non-empty
    # every state of a minimized DFA is reachable, so each accepting q is reached by some u in I
    seen: set[tuple[int, int]] = set()
    todo: list[tuple[int, int]] = []
    for q in np.flatnonzero(one.accept):
        q, r = int(q), 0
        for b in range(256):
            q2 = int(one.trans[q, b])
            if q2 >= 0:
                todo.append((q2, int(many.trans[r, b])))
    while todo:
        q, r = todo.pop()
        if (q, r) in seen:
            continue
        seen.add((q, r))
        if one.accept[q] and (r < 0 or not many.accept[r]):
            names = ", ".join(n if not n.startswith("__") else _describe_terminal(e)
                              for n, e in sorted(ignored.items()))
            warnings.warn(IgnoreCanEndEarlyWarning(
                f"%ignore {names}: an ignored token can end early and leave text that is not "
                f"ignorable (lark's scanner would consume it whole), so structgen accepts strings "
                f"lark rejects, e.g. code after a line comment. End such terminals with their "
                f"terminator, e.g. /#[^\\n]*\\n/."), stacklevel=4)
            return
        for b in range(256):
            q2 = int(one.trans[q, b])
            if q2 >= 0:
                todo.append((q2, int(many.trans[r, b]) if r >= 0 else -1))


# ----------------------------------------------------------------------------------------------
# rules


def _reachable(start: str, expansions: Mapping[str, list[list[Expr]]]) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        for items in expansions.get(todo.pop(), ()):
            for it in items:
                if isinstance(it, Ref) and it.name not in seen:
                    seen.add(it.name)
                    todo.append(it.name)
    return seen


def _check_productive(start: str, expansions: Mapping[str, list[list[Expr]]]) -> None:
    """Raise GrammarError if the start rule derives no (finite) string."""
    productive: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, exps in expansions.items():
            if name in productive:
                continue
            if any(all(not isinstance(it, Ref) or it.name in productive for it in items) for items in exps):
                productive.add(name)
                changed = True
    if start not in productive:
        dead = sorted(n for n in expansions if n not in productive and not n.startswith("__"))
        raise GrammarError(f"the language of the Lark grammar is empty: start rule {start!r} derives no "
                           f"finite string (rules that never terminate: {', '.join(dead)})")


def _rule_body(name: str, exps: list[list[Expr]]) -> Expr:
    """Rule body as an IR expression; direct left- or right-linear recursion becomes Repeat.

    ``R: B1 | … | R β1 | …`` (R occurring only first) is ``(B1|…)(β1|…)*`` and
    ``R: B1 | … | α1 R | …`` (R occurring only last) is ``(α1|…)*(B1|…)`` (Arden's lemma;
    exact for the least solution, whatever the other rules are).
    """
    me = Ref(name)
    # `R: R` adds nothing to the language
    exps = [e for e in exps if e != [me]]
    if not exps:
        return Alt(())
    for left in (True, False):
        base: list[list[Expr]] = []
        rec: list[list[Expr]] = []
        ok = True
        for items in exps:
            hits = [i for i, it in enumerate(items) if it == me]
            if not hits:
                base.append(items)
            elif hits == [0 if left else len(items) - 1]:
                rec.append(items[1:] if left else items[:-1])
            else:
                ok = False
                break
        if ok and rec and base:
            base_expr = alt(*(seq(*b) for b in base))
            loop = Repeat(alt(*(seq(*r) for r in rec)), 0, None)
            return seq(base_expr, loop) if left else seq(loop, base_expr)
    return alt(*(seq(*items) for items in exps))


def _refs(expr: Expr) -> set[str]:
    out: set[str] = set()
    stack = [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, Ref):
            out.add(e.name)
        elif isinstance(e, (Seq, Alt)):
            stack.extend(e.items)
        elif isinstance(e, Repeat):
            stack.append(e.item)
    return out


def _substitute(expr: Expr, bodies: Mapping[str, Expr]) -> Expr:
    if isinstance(expr, Ref):
        return bodies.get(expr.name, expr)
    if isinstance(expr, Seq):
        return seq(*(_substitute(e, bodies) for e in expr.items))
    if isinstance(expr, Alt):
        return alt(*(_substitute(e, bodies) for e in expr.items))
    if isinstance(expr, Repeat):
        return Repeat(_substitute(expr.item, bodies), expr.min, expr.max)
    return expr


def _inline_helper_rules(bodies: dict[str, Expr], keep: str) -> dict[str, Expr]:
    """Inline lark's generated helper rules (``__…``) into their users.

    A helper is inlined unless it lies on a cycle made of helpers only (inlining it would not
    terminate); cycles through ordinary rules are fine, those stay ``Ref``s.
    """
    graph = {n: _refs(b) for n, b in bodies.items()}
    helpers = {n for n in bodies if n.startswith("__") and n != keep}

    def on_helper_cycle(n: str) -> bool:
        seen: set[str] = set()
        todo = [m for m in graph[n] if m in helpers]
        while todo:
            m = todo.pop()
            if m == n:
                return True
            if m not in seen:
                seen.add(m)
                todo.extend(x for x in graph[m] if x in helpers)
        return False

    inline = {n for n in helpers if not on_helper_cycle(n)}
    if not inline:
        return bodies
    # inline in dependency order: helpers are non-recursive, so this terminates
    resolved: dict[str, Expr] = {}

    def resolve(n: str) -> Expr:
        if n not in resolved:
            body = bodies[n]
            deps = {m: resolve(m) for m in graph[n] if m in inline}
            resolved[n] = _substitute(body, deps) if deps else body
        return resolved[n]

    out: dict[str, Expr] = {}
    for n, body in bodies.items():
        if n in inline:
            continue
        deps = {m: resolve(m) for m in graph[n] if m in inline}
        out[n] = _substitute(body, deps) if deps else body
    return out
