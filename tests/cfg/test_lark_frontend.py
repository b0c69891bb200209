"""Lark → IR conversion (structgen.cfg.lark_frontend).

Every language check compares three recognizers on the same sentences:

1. lark's own Earley parser with ``lexer="dynamic_complete"`` (tries every terminal length);
2. :class:`IRRecognizer` below: an independent Earley recognizer over the *IR* (terminals matched
   with Python ``re.fullmatch`` on every substring) — checks the conversion itself;
3. ``structgen.runtime.reference.accepts`` over the compiled ``GrammarAutomaton`` — checks the
   whole pipeline (skipped while those modules are absent).

Where lark's scanner is documented to differ from structgen's scannerless semantics, the tests
pin both behaviours explicitly.
"""
from __future__ import annotations

import functools
import importlib.util
import itertools
import random
import re
import warnings

import lark
import pytest

from structgen.errors import GrammarError, RegexError
from structgen.cfg.ir import Alt, Bytes, Grammar, Literal, Ref, Regex, Repeat, Seq
from structgen.cfg.lark_frontend import (
    IGNORE_START_RULE,
    IgnoreCanEndEarlyWarning,
    compile_lark,
    compile_lark_automaton,
    lark_to_ir,
    resolve_lark_source,
)


# ------------------------------------------------------------------------------------------------
# oracles


class IRRecognizer:
    """Earley recognizer over an IR :class:`Grammar`, independent of structgen's compilers.

    The IR is flattened to BNF (every Alt/Seq/Repeat below a sequence becomes a fresh
    nonterminal); a terminal at position ``k`` may end at every ``j`` with
    ``re.fullmatch(pattern, text[k:j], flags)``. Nullable symbols use Aycock–Horspool prediction.
    Works on ``str`` (UTF-8 valid inputs), which is what lark parses too.
    """

    def __init__(self, grammar: Grammar):
        self.prods: list[tuple[object, tuple]] = []
        self.by_lhs: dict[object, list[int]] = {}
        self._fresh = 0
        for name, body in grammar.rules.items():
            self.by_lhs.setdefault(("rule", name), [])
            for rhs in self._alternatives(body):
                self._add(("rule", name), rhs)
        self.start = ("rule", grammar.start)
        self._regex: dict = {}
        self.nullable = self._compute_nullable()

    def _add(self, lhs, rhs) -> None:
        self.by_lhs.setdefault(lhs, []).append(len(self.prods))
        self.prods.append((lhs, tuple(rhs)))

    def _new_nonterminal(self) -> tuple:
        self._fresh += 1
        key = ("aux", self._fresh)
        self.by_lhs.setdefault(key, [])
        return key

    def _symbol(self, e):
        if isinstance(e, (Literal, Regex, Bytes)):
            return ("T", e)
        if isinstance(e, Ref):
            return ("N", ("rule", e.name))
        key = self._new_nonterminal()
        for rhs in self._alternatives(e):
            self._add(key, rhs)
        return ("N", key)

    def _alternatives(self, e) -> list[list]:
        if isinstance(e, Alt):
            return [rhs for it in e.items for rhs in self._alternatives(it)]
        if isinstance(e, Seq):
            return [[self._symbol(it) for it in e.items]]
        if isinstance(e, Repeat):
            item = self._symbol(e.item)
            if e.max is None:
                star = self._new_nonterminal()
                self._add(star, [])
                self._add(star, [("N", star), item])
                tail = [("N", star)]
            else:
                tail = []
                for _ in range(e.max - e.min):
                    opt = self._new_nonterminal()
                    self._add(opt, [])
                    self._add(opt, [item] + tail)
                    tail = [("N", opt)]
            return [[item] * e.min + tail]
        return [[self._symbol(e)]]

    def _compute_nullable(self) -> set:
        nullable: set = set()
        changed = True
        while changed:
            changed = False
            for lhs, rhs in self.prods:
                if lhs not in nullable and all(
                        (s[1] in nullable) if s[0] == "N" else (0 in self._ends(s[1], "", 0)) for s in rhs):
                    nullable.add(lhs)
                    changed = True
        return nullable

    def _ends(self, t, text: str, k: int) -> set[int]:
        if isinstance(t, (Literal, Bytes)):
            lit = t.text if isinstance(t, Literal) else t.data.decode("utf-8")
            return {k + len(lit)} if text.startswith(lit, k) else set()
        rx = self._regex.get(t)
        if rx is None:
            rx = self._regex[t] = re.compile(t.pattern, t.flags)
        return {j for j in range(k, len(text) + 1) if rx.fullmatch(text[k:j])}

    def accepts(self, text: str) -> bool:
        n = len(text)
        prods = self.prods + [(("goal",), (("N", self.start),))]
        goal = len(prods) - 1
        cols: list[set] = [set() for _ in range(n + 1)]
        cols[0].add((goal, 0, 0))
        scanned: dict = {}
        for k in range(n + 1):
            agenda = list(cols[k])
            while agenda:
                p, dot, origin = agenda.pop()
                lhs, rhs = prods[p]
                new_items = []
                if dot == len(rhs):
                    for q, d2, o2 in list(cols[origin]):
                        r2 = prods[q][1]
                        if d2 < len(r2) and r2[d2] == ("N", lhs):
                            new_items.append((k, (q, d2 + 1, o2)))
                elif rhs[dot][0] == "N":
                    sym = rhs[dot][1]
                    new_items.extend((k, (q, 0, k)) for q in self.by_lhs.get(sym, ()))
                    if sym in self.nullable:
                        new_items.append((k, (p, dot + 1, origin)))
                else:
                    key = (rhs[dot][1], k)
                    if key not in scanned:
                        scanned[key] = self._ends(rhs[dot][1], text, k)
                    new_items.extend((e, (p, dot + 1, origin)) for e in scanned[key])
                for col, item in new_items:
                    if item not in cols[col]:
                        cols[col].add(item)
                        if col == k:
                            agenda.append(item)
        return (goal, 1, 0) in cols[n]


@functools.lru_cache(maxsize=None)
def lark_parser(text: str, lexer: str = "dynamic_complete", start: str = "start") -> lark.Lark:
    parser = "lalr" if lexer in ("basic", "contextual") else "earley"
    return lark.Lark(text, parser=parser, lexer=lexer, start=start)


def lark_accepts(text: str, sentence: str, lexer: str = "dynamic_complete", start: str = "start") -> bool:
    try:
        lark_parser(text, lexer, start).parse(sentence)
        return True
    except lark.exceptions.LarkError:
        return False


def pipeline_available() -> bool:
    return all(importlib.util.find_spec(m) is not None
               for m in ("structgen.cfg.compiler", "structgen.runtime.reference"))


def automaton_accepts_all(grammar: Grammar, sentences) -> list[bool]:
    """``reference.accepts`` of the compiled automaton on each sentence (skip if not available)."""
    if not pipeline_available():
        pytest.skip("structgen.cfg.compiler / structgen.runtime.reference not available yet")
    from structgen.cfg.compiler import compile_grammar_automaton
    from structgen.runtime.reference import accepts

    automaton = compile_grammar_automaton(grammar)
    return [accepts(automaton, s.encode("utf-8")) for s in sentences]


def check_language(text: str, valid, invalid, *, start: str = "start", lark_agrees: bool = True):
    """Lark (dynamic_complete), the IR oracle and the compiled automaton all agree with the labels."""
    grammar = lark_to_ir(text, start=start)
    oracle = IRRecognizer(grammar)
    sentences = list(valid) + list(invalid)
    expected = [True] * len(valid) + [False] * len(invalid)
    got_ir = [oracle.accepts(s) for s in sentences]
    assert got_ir == expected, [(s, g) for s, g, e in zip(sentences, got_ir, expected) if g != e]
    if lark_agrees:
        got_lark = [lark_accepts(text, s, start=start) for s in sentences]
        assert got_lark == expected, [(s, g) for s, g, e in zip(sentences, got_lark, expected) if g != e]
    if pipeline_available():
        got_aut = automaton_accepts_all(grammar, sentences)
        assert got_aut == expected, [(s, g) for s, g, e in zip(sentences, got_aut, expected) if g != e]
    return grammar


# ------------------------------------------------------------------------------------------------
# conversion basics


def test_terminals_become_literals_and_regexes():
    g = lark_to_ir(r'''
        start: "ab" NAME KW NUM
        NAME: /[a-z]+/
        KW: "sel"i
        NUM: /[0-9]+/s
    ''')
    assert g.start == "start"
    body = g.rules["start"]
    assert body == Seq((Literal("ab"), Regex("[a-z]+", 0), Regex("sel", re.IGNORECASE), Regex("[0-9]+", re.DOTALL)))
    assert all(type(name) is str for name in g.rules)


def test_rules_with_ebnf_operators():
    text = r'''
        start: item+ ("," item)* [";"] tail?
        item: "a" | "b" "c"~2 | "d"~1..3
        tail: "!"
    '''
    check_language(text,
                   valid=["a", "aa", "bcc", "a,d", "ad,ddd;", "a;!", "a!", "aaaa,a,bcc", "dddd"],
                   invalid=["", ",a", "ab", "bc", "bccc", "a;;", "a!!", "a,"])


def test_aliases_inline_and_maybe_rules_do_not_change_the_language():
    plain = '''
        start: expr
        expr: expr "+" term | term
        term: "x" | "(" expr ")"
    '''
    decorated = '''
        ?start: expr
        ?expr: expr "+" _term -> add
             | _term
        _term: atom
        !atom: "x" -> var
             | "(" expr ")"
    '''
    sentences = ["".join(p) for n in range(6) for p in itertools.product("x+()", repeat=n)]
    a, b = IRRecognizer(lark_to_ir(plain)), IRRecognizer(lark_to_ir(decorated))
    for s in sentences:
        assert a.accepts(s) == b.accepts(s) == lark_accepts(plain, s), s


def test_common_imports_work_offline():
    text = '''
        start: stmt (_NL stmt)* _NL?
        stmt: CNAME "=" (SIGNED_NUMBER | ESCAPED_STRING)
        _NL: NEWLINE
        %import common.CNAME
        %import common.SIGNED_NUMBER
        %import common.ESCAPED_STRING
        %import common.NEWLINE
        %import common.WS_INLINE
        %ignore WS_INLINE
    '''
    check_language(text,
                   valid=["x=1", "x = -1.5e3\ny_2 = \"s\\\"q\"", "a=\"\"\n\n", " _a\t=  +.5 "],
                   invalid=["1x=1", "x=", "x=\"unterminated", "x=\"a\"b\"", "x=1 y=2", "x=\"a\\\""])


def test_escaped_string_and_c_comment_use_lark_effective_language():
    # lark's common ESCAPED_STRING / C_COMMENT are lazy regexes: as regular languages they would
    # also contain '"a"b"' and '/* a */ b */'; structgen substitutes what lark's scanner produces.
    g = lark_to_ir('start: ESCAPED_STRING\n%import common.ESCAPED_STRING')
    assert g.rules["start"] == Regex(r'"(?:[^"\\\n]|\\.)*"', 0)
    check_language('start: ESCAPED_STRING\n%import common.ESCAPED_STRING',
                   valid=['""', '"a"', r'"a\"b"', r'"\\"', '"é"'],
                   invalid=['"a"b"', r'"a\"', '"a\nb"', '"'])
    check_language('start: "x" C_COMMENT? "y"\n%import common.C_COMMENT',
                   valid=["xy", "x/**/y", "x/* a */y", "x/* a\n * b **/y", "x/***/y"],
                   invalid=["x/* a */ b */y", "x/*/y", "x/* a y"])


def test_templates_are_expanded():
    text = '''
        start: _sep{item, ","} ";" _sep{"z", "-"}
        _sep{x, s}: x (s x)*
        item: "a" | "b"
    '''
    check_language(text, valid=["a;z", "a,b,a;z-z"], invalid=["a,;z", "a;", ";z", "a;z-"])


def test_priorities_do_not_change_the_language():
    text = '''
        start: A B | C | d
        d.3: "a" "b"
        C.5: "ab"
        A.2: "a"
        B.-1: /b+/
    '''
    check_language(text, valid=["ab", "abb"], invalid=["a", "b", "abc"])


def test_extend_and_override():
    text = '''
        start: word
        word: "a"
        %extend word: "b"
        NUM: "1"
        %override NUM: "2"
        other: NUM
    '''
    check_language(text, valid=["a", "b"], invalid=["c", "ab"])


def test_start_rule_selection():
    text = 'start: "a" other\nother: "b"'
    check_language(text, valid=["b"], invalid=["ab", "a"], start="other")


# ------------------------------------------------------------------------------------------------
# %ignore


def test_ignore_between_tokens_at_both_ends_and_nested():
    text = '''
        start: pair ("," pair)*
        pair: key ":" value
        key: /[a-z]+/
        value: "[" [value (";" value)*] "]" | /[0-9]+/
        %ignore " "
        %ignore /#[^\\n]*\\n/
    '''
    check_language(text,
                   valid=["a:1", " a : 1 ", "a:[ [ 1 ; 2 ] ; [] ]", "a:1,b:[]", "#c\na:1#d\n",
                          "a : [ #in\n 1 ] #end\n"],
                   invalid=["a b:1", "a:1 2", "a:[1 ;]", "#c a:1", ":1", "a:1,"])


def test_ignored_terminals_never_split_a_terminal():
    text = 'start: NUM "+" NUM\nNUM: /[0-9]+/\n%ignore " "'
    check_language(text, valid=["12+3", " 12 + 3 "], invalid=["1 2+3", "12+3 4"])


def test_nullable_start_with_ignore_accepts_ignored_only_input():
    text = 'start: "a"*\n%ignore " "'
    check_language(text, valid=["", " ", "   ", "a", " a ", "a a", "  a  a  "], invalid=["b", " b "])
    g = lark_to_ir(text)
    assert g.start == IGNORE_START_RULE and g.rules[IGNORE_START_RULE] == Seq((Ref("start"), Repeat(Literal(" "))))


def test_ignore_is_not_inserted_inside_terminals_built_from_terminals():
    text = '''
        start: PAIR
        PAIR: DIGIT "-" DIGIT
        DIGIT: /[0-9]/
        %ignore " "
    '''
    check_language(text, valid=["1-2", " 1-2 "], invalid=["1 -2", "1- 2"])


def test_greedy_ignore_difference_with_lark_is_documented():
    # lark uses only the first (greedy) match of an ignored terminal; structgen lets it end anywhere.
    text = 'start: "a" "xb"\n%ignore /x+/'
    assert not lark_accepts(text, "axxb")
    assert IRRecognizer(lark_to_ir(text)).accepts("axxb")
    check_language(text, valid=["axb", "xaxb", "axbx"], invalid=["ab", "axx"])


def test_ignored_line_comment_that_can_end_early_warns():
    text = 'start: NAME+ ";"\nNAME: /[a-z]+/\n%ignore /[ \\n]+/\n%ignore /#[^\\n]*/\n'
    with pytest.warns(IgnoreCanEndEarlyWarning, match="#"):
        grammar = lark_to_ir(text)
    # the documented consequence: the comment may stop before ";" (lark's comment swallows it)
    assert IRRecognizer(grammar).accepts("a #c ;") and not lark_accepts(text, "a #c ;")
    assert lark_accepts(text, "a #c\n;")


@pytest.mark.parametrize("ignore", [
    '%import common.WS\n%ignore WS',
    '%ignore /#[^\\n]*\\n/\n%ignore " "',
    '%import common.C_COMMENT\n%import common.WS\n%ignore C_COMMENT\n%ignore WS',
    '%ignore /x+/',
])
def test_safe_ignores_do_not_warn(ignore):
    with warnings.catch_warnings():
        warnings.simplefilter("error", IgnoreCanEndEarlyWarning)
        lark_to_ir('start: "a"+ "ok"\n' + ignore + '\n')


# ------------------------------------------------------------------------------------------------
# recursion, ambiguity, empty productions


def test_left_recursion_becomes_repeat_and_keeps_the_language():
    text = '''
        start: expr
        expr: expr "-" term | expr "+" term | term
        term: term "*" atom | atom
        atom: /[0-9]/ | "(" expr ")"
    '''
    g = check_language(text,
                       valid=["1", "1-2", "1-2-3", "1*2+3*4", "(1-2)*3", "((1))"],
                       invalid=["", "-1", "1-", "1**2", "(1", "1)"])
    for name in ("expr", "term"):
        body = g.rules[name]
        assert isinstance(body, Seq) and body.items[0] != Ref(name)
        assert isinstance(body.items[-1], Repeat), body


def test_right_recursion_becomes_repeat():
    text = 'start: "a" start | "b" start | "c"'
    g = check_language(text, valid=["c", "ac", "abbac"], invalid=["", "a", "ca", "cc"])
    assert g.rules["start"] == Seq((Repeat(Alt((Literal("a"), Literal("b")))), Literal("c")))


def test_ambiguous_grammar():
    text = 'start: e\ne: e "+" e | e "*" e | "x" | "(" e ")"'
    check_language(text, valid=["x", "x+x*x", "x+x+x+x", "(x+x)*x"], invalid=["", "x+", "+x", "xx", "(x"])


def test_empty_productions_and_nullable_rules():
    text = '''
        start: a b "y" c
        a: | "x"
        b: a a
        c: [b]
    '''
    check_language(text, valid=["y", "xy", "xxy", "xxxy", "yx", "xyxx"], invalid=["", "xxxxy", "yxxx"])


def test_mutual_and_indirect_left_recursion():
    text = '''
        start: a
        a: b "x" | "a"
        b: a "y" | c
        c: a "z" | "c"
    '''
    check_language(text, valid=["a", "cx", "ayx", "azx", "ayxyx", "cxzx"],
                   invalid=["", "x", "ay", "ax", "cxy"])


def test_nullable_left_recursion():
    text = 'start: s\ns: s "a" | s s | '
    check_language(text, valid=["", "a", "aaa"], invalid=["b", "ab"])


# ------------------------------------------------------------------------------------------------
# lexing semantics: prefixes, case-insensitivity, flags, zero-width terminals


def test_terminal_that_is_a_prefix_of_another():
    text = '''
        start: stmt+
        stmt: NAME "=" NAME ";" | NAME "==" NAME ";" | NAME "=" "=" "=" NAME ";"
        NAME: /[a-z]+/
    '''
    check_language(text, valid=["a=b;", "a==b;", "a===b;", "a=b;c==d;"], invalid=["a====b;", "a=;", "=a;"])


def test_prefix_terminals_differ_from_lalr_maximal_munch():
    # structgen (and lark's Earley) accept "==" as two "=" tokens; a maximal-munch lexer cannot.
    text = 'start: "=" "=" | "==" "!"\n'
    assert IRRecognizer(lark_to_ir(text)).accepts("==")
    assert lark_accepts(text, "==")
    assert not lark_accepts(text, "==", lexer="basic")


def test_case_insensitive_strings():
    text = '''
        start: "select"i _WS NAME
        _WS: " "
        NAME: WORD "_"i "x"i
        WORD: /[a-z]+/
    '''
    check_language(text,
                   valid=["select ab_x", "SELECT ab_X", "SeLeCt q_x",
                          # Python's case folding (which lark uses) also maps U+017F to s
                          "\u017felect a_x"],
                   invalid=["selec ab_x", "select AB_x", "select ab_y", "selectab_x"])


def test_regex_flags():
    text = r'''
        start: DOT "|" INS "|" VERB
        DOT: /a.b/s
        INS: /[a-c]+/i
        VERB: /x   # an x
               y+  # then ys
              /x
    '''
    check_language(text, valid=["a\nb|AbC|xy", "a.b|b|xyyy"], invalid=["a\nb|d|xy", "a.b|b|x y", "ab|a|xy"])


def test_unicode_terminals():
    text = 'start: WORD ("·" WORD)*\nWORD: /[^\\W\\d_]+/'
    check_language(text, valid=["héllo", "日本語·ok", "añb"], invalid=["a1", "a·", "·a", "a_b"])


def test_zero_width_terminals_are_allowed():
    # lark's Earley refuses terminals matching "", structgen does not (checked with the IR oracle
    # and the compiled automaton only).
    text = 'start: A "x" A\nA: /a*/'
    with pytest.raises(lark.exceptions.GrammarError):
        lark_parser(text)
    check_language(text, valid=["x", "ax", "xaa", "aaxa"], invalid=["", "a", "axb"], lark_agrees=False)


def test_ordered_alternation_difference_with_lark_is_documented():
    # Python's re returns "a" for /a|ab/, so lark never tries "ab"; the regular language has both.
    text = 'start: A "ab"\nA: /a|ab/'
    assert not lark_accepts(text, "abab")
    check_language(text, valid=["aab", "abab"], invalid=["ab", "aabb"], lark_agrees=False)


def test_dynamic_lexer_difference_is_documented():
    text = 'start: A "a"\nA: /a+/'
    assert not lark_accepts(text, "aaa", lexer="dynamic")
    check_language(text, valid=["aa", "aaa"], invalid=["a", ""])


# ------------------------------------------------------------------------------------------------
# randomized cross-check against lark on single-character terminals (no lexing subtleties)


def _random_grammar(rng: random.Random, n_rules: int = 3) -> str:
    def item(depth: int) -> str:
        r = rng.random()
        if r < 0.35:
            return rng.choice(['"a"', '"b"', '"ab"'])
        if r < 0.7 or depth > 1:
            return f"r{rng.randrange(n_rules)}"
        inner = " ".join(item(depth + 1) for _ in range(rng.randint(1, 2)))
        if rng.random() < 0.3:
            inner += " | " + item(depth + 1)
        return f"({inner})" + rng.choice(["?", "*", "+", ""]) if rng.random() < 0.8 else f"[{inner}]"

    lines = []
    for i in range(n_rules):
        alts = [" ".join(item(0) for _ in range(rng.randint(0, 3))) for _ in range(rng.randint(1, 3))]
        lines.append(f"r{i}: " + " | ".join(alts))
    return "start: r0\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(40))
def test_random_grammars_agree_with_lark(seed):
    rng = random.Random(seed)
    text = _random_grammar(rng)
    sentences = ["".join(p) for n in range(6) for p in itertools.product("ab", repeat=n)]
    try:
        parser = lark.Lark(text, parser="earley", lexer="dynamic_complete")
    except lark.exceptions.GrammarError:
        with pytest.raises(GrammarError):
            lark_to_ir(text)
        return
    expected = []
    for s in sentences:
        try:
            parser.parse(s)
            expected.append(True)
        except lark.exceptions.LarkError:
            expected.append(False)
    try:
        grammar = lark_to_ir(text)
    except GrammarError as e:
        assert "empty" in str(e) and not any(expected), text
        return
    oracle = IRRecognizer(grammar)
    assert [oracle.accepts(s) for s in sentences] == expected, text
    if pipeline_available() and seed % 4 == 0:
        assert automaton_accepts_all(grammar, sentences) == expected, text


# ------------------------------------------------------------------------------------------------
# errors


def _grammar_error(text: str, *fragments: str, start: str = "start", cls=GrammarError):
    with pytest.raises(cls) as info:
        lark_to_ir(text, start=start)
    for f in fragments:
        assert f in str(info.value), (f, str(info.value))
    return info.value


def test_undefined_rule_and_terminal_are_named():
    _grammar_error("start: foo", "foo", "not defined")
    _grammar_error("start: FOO", "Terminal 'FOO'", "not defined")
    _grammar_error('start: "a"\n%ignore WS', "WS")


def test_declared_terminal_is_unsupported():
    _grammar_error('start: "a" INDENT\n%declare INDENT', "INDENT", "%declare", "post-lexer")


def test_undefined_start_rule():
    _grammar_error('start: "a"', "'main'", "not defined", start="main")


def test_empty_language():
    _grammar_error('start: a\na: "x" a', "empty", "start")
    _grammar_error('start: a | b\na: "x" b\nb: "y" a', "empty")


def test_lark_syntax_errors_carry_the_position():
    e = _grammar_error('start: "a"\nfoo: ( "b"\n', "line 2")
    assert isinstance(e.__cause__, lark.exceptions.LarkError)
    _grammar_error("start \"a\"", "line 1")
    _grammar_error('start: "a\nb"', "line 1")


def test_bad_template_use():
    _grammar_error('start: t{"a"}\nt{x, y}: x y', "template", "t")


def test_missing_import_module():
    _grammar_error('%import nosuchmodule.X\nstart: X', "%import")


def test_lazy_quantifiers_are_rejected_with_the_terminal_name():
    _grammar_error('start: STR\nSTR: /".*?"/', "STR", "lazy")
    _grammar_error('start: A\nA: /a{1,3}?b/', "lazy")


def test_regex_errors_name_the_terminal():
    e = _grammar_error('start: BAD\nBAD: /a(/', "BAD", cls=RegexError)
    assert e.pattern == "a("
    e = _grammar_error('start: LOOK\nLOOK: /a(?=b)/', "LOOK", cls=RegexError)
    assert e.pattern == "a(?=b)"
    _grammar_error(r'start: BACK' + '\n' + r'BACK: /(a)\1/', "BACK", cls=RegexError)


def test_locale_flag_is_rejected():
    _grammar_error('start: A\nA: /a/l', "locale")


# ------------------------------------------------------------------------------------------------
# sources, caching, front doors


def test_resolve_source(tmp_path):
    text = 'start: "a"\n'
    assert resolve_lark_source(text).text == text
    src = resolve_lark_source("json")
    assert src.path and src.path.endswith("json.lark") and "value" in src.text
    f = tmp_path / "g.lark"
    f.write_text('start: X\n%import .common2.X\n')
    (tmp_path / "common2.lark").write_text('X: "x"\n')
    assert resolve_lark_source(str(f)).path == str(f.resolve())
    assert resolve_lark_source(f).text.startswith("start")
    with pytest.raises(GrammarError, match="not found"):
        resolve_lark_source(str(tmp_path / "missing.lark"))
    with pytest.raises(GrammarError, match="unknown grammar"):
        resolve_lark_source("no_such_grammar")


def test_relative_import_from_file(tmp_path):
    f = tmp_path / "g.lark"
    f.write_text('start: X+\n%import .lib.X\n')
    (tmp_path / "lib.lark").write_text('X: "x"\n')
    if not pipeline_available():
        pytest.skip("grammar compiler not available yet")
    from structgen.runtime.reference import accepts

    automaton = compile_lark_automaton(f)
    assert accepts(automaton, b"xxx") and not accepts(automaton, b"")


def test_conversion_results_are_independent_copies():
    text = 'start: "a"'
    g1, g2 = lark_to_ir(text), lark_to_ir(text)
    assert g1 == g2 and g1.rules is not g2.rules
    g1.rules["start"] = Literal("b")
    assert lark_to_ir(text).rules["start"] == Literal("a")


def test_compile_lark_with_a_tiny_vocabulary():
    if importlib.util.find_spec("structgen.runtime.compiled") is None or \
            importlib.util.find_spec("structgen.vocab") is None:
        pytest.skip("runtime / vocab not available yet")
    from structgen.vocab import Vocabulary

    vocab = Vocabulary.from_token_bytes([b"{", b"}", b"[", b"]", b'"a"', b":", b",", b"1", b" ", b"<eos>"],
                                        stop_ids=[9])
    compiled = compile_lark("json", vocab)
    assert compiled is not None
    compiled2 = compile_lark('start: "x"+', vocab)
    assert compiled2 is not None
