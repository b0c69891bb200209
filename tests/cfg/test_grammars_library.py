"""The grammars/ library: every shipped grammar, its examples, and structgen.grammars.

Each example sentence is checked with lark's own Earley parser (``lexer="dynamic_complete"``), with
the independent IR recognizer of ``test_lark_frontend``, and — once the grammar compiler and the
reference recognizer exist — with ``reference.accepts`` over the compiled automaton. Valid examples
are also checked against real implementations where one is at hand (``json``, ``ast``, ``sqlite3``).
"""
from __future__ import annotations

import ast
import functools
import importlib.util
import itertools
import json
import re
import sqlite3
import warnings

import lark
import pytest

from structgen import grammars
from structgen.errors import GrammarError
from structgen.cfg.lark_frontend import compile_lark, lark_to_ir
from tests.conftest import get_tokenizer, get_vocab
from tests.cfg.test_lark_frontend import IRRecognizer, automaton_accepts_all, lark_accepts, pipeline_available

LIBRARY = ("arithmetic", "csv", "json", "python", "sexp", "smiles", "sql")


@functools.lru_cache(maxsize=None)
def ir(name: str):
    return lark_to_ir(grammars.load(name))


def labelled(name: str) -> list[tuple[str, bool]]:
    ex = grammars.examples(name)
    return [(s, True) for s in ex["valid"]] + [(s, False) for s in ex["invalid"]]


def mismatches(results, cases):
    return [(s, want) for (s, want), got in zip(cases, results) if got != want]


# ------------------------------------------------------------------------------------------------
# the structgen.grammars API


def test_names_and_load():
    assert set(LIBRARY) <= set(grammars.names())
    for name in LIBRARY:
        text = grammars.load(name)
        assert "start" in text
        assert grammars.path(name).name == f"{name}.lark"
        assert grammars.path(name).parent == grammars.grammars_dir()


def test_unknown_names_are_rejected():
    for bad in ("nope", "../grammars/json", "", "json.lark"):
        with pytest.raises(GrammarError):
            grammars.load(bad)


@pytest.mark.parametrize("name", LIBRARY)
def test_examples_are_plentiful_and_consistent(name):
    ex = grammars.examples(name)
    assert len(ex["valid"]) >= 12 and len(ex["invalid"]) >= 12
    assert len(set(ex["valid"])) == len(ex["valid"]) and len(set(ex["invalid"])) == len(ex["invalid"])
    assert not set(ex["valid"]) & set(ex["invalid"])


# ------------------------------------------------------------------------------------------------
# every example against lark, the IR oracle and the compiled automaton


@pytest.mark.parametrize("name", LIBRARY)
def test_examples_agree_with_lark(name):
    text = grammars.load(name)
    cases = labelled(name)
    assert not mismatches([lark_accepts(text, s) for s, _ in cases], cases)


@pytest.mark.parametrize("name", LIBRARY)
def test_examples_agree_with_ir_recognizer(name):
    oracle = IRRecognizer(ir(name))
    cases = labelled(name)
    assert not mismatches([oracle.accepts(s) for s, _ in cases], cases)


@pytest.mark.parametrize("name", LIBRARY)
def test_grammar_compiles_and_automaton_agrees(name):
    cases = labelled(name)
    results = automaton_accepts_all(ir(name), [s for s, _ in cases])
    assert not mismatches(results, cases)


# ------------------------------------------------------------------------------------------------
# valid examples against real implementations


def test_json_examples_match_the_json_module():
    for s, want in labelled("json"):
        try:
            json.loads(s)
            got = True
        except ValueError:
            got = False
        assert got == want, s


def test_python_valid_examples_are_python():
    for s in grammars.examples("python")["valid"]:
        ast.parse(s)


def test_sql_valid_examples_have_no_sqlite_syntax_error():
    con = sqlite3.connect(":memory:")
    for s in grammars.examples("sql")["valid"]:
        try:
            con.execute(s)
        except sqlite3.OperationalError as e:  # missing tables/columns are fine, syntax is not
            assert re.match(r"no such (table|column)", str(e)), (s, str(e))


# ------------------------------------------------------------------------------------------------
# keyword-free identifier regexes


@pytest.mark.parametrize("name,case_insensitive,terminal", [("sql", True, "IDENT"), ("python", False, "NAME")])
def test_identifier_regex_is_generated_from_the_keyword_list(name, case_insensitive, terminal):
    text = grammars.load(name)
    keywords = re.search(r"^// KEYWORDS: (.*)$", text, re.M).group(1).split()
    pattern = re.search(rf"^{terminal}: /(.*)/$", text, re.M).group(1)
    assert pattern == grammars.word_regex_excluding(keywords, case_insensitive=case_insensitive)
    rx = re.compile(pattern)
    for kw in keywords:
        assert not rx.fullmatch(kw)
        assert rx.fullmatch(kw + "x") and rx.fullmatch("x" + kw)
        if len(kw) > 1 and kw[:-1] not in keywords:
            assert rx.fullmatch(kw[:-1])
        if case_insensitive:
            assert not rx.fullmatch(kw.upper()) and not rx.fullmatch(kw.capitalize())


@pytest.mark.parametrize("case_insensitive", [False, True])
def test_word_regex_excluding_is_exact(case_insensitive):
    words = ["if", "in", "is", "import", "i_2", "Zz"]
    rx = re.compile(grammars.word_regex_excluding(words, case_insensitive=case_insensitive))
    excluded = {w.lower() for w in words} if case_insensitive else set(words)
    shape = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
    for n in range(6):
        for t in itertools.product("iImnpsfZz_2", repeat=n):
            s = "".join(t)
            want = bool(shape.fullmatch(s)) and (s.lower() if case_insensitive else s) not in excluded
            assert bool(rx.fullmatch(s)) == want, s


def test_word_regex_prefers_the_longest_match_like_a_lexer():
    # the empty branch comes last, so Python's leftmost-first re.match (lark's scanner) is greedy
    rx = re.compile(grammars.word_regex_excluding(["count", "co"]))
    assert rx.match("counter(").group(0) == "counter"
    assert rx.match("count(").group(0) == "coun"


# ------------------------------------------------------------------------------------------------
# compile_lark by name with real tokenizers


def test_compile_lark_by_name_with_gpt2():
    if not pipeline_available():
        pytest.skip("grammar compiler not available yet")
    vocab = get_vocab("gpt2")
    compiled = compile_lark("json", vocab)
    assert compiled is not None


@pytest.mark.slow
@pytest.mark.parametrize("name", LIBRARY)
def test_compile_every_library_grammar_for_every_tokenizer(name, tokenizer_name):
    vocab = get_vocab(tokenizer_name)
    assert compile_lark(name, vocab) is not None


def _token_ids(tokenizer, text: str) -> list[int]:
    return tokenizer.encode(text, add_special_tokens=False)


def _matcher_accepts(compiled, ids) -> bool:
    from structgen.runtime.matcher import Matcher

    m = Matcher(compiled)
    return all(m.advance(i) for i in ids) and m.can_stop()


@pytest.mark.parametrize("name", LIBRARY)
def test_examples_through_the_matcher_with_gpt2_tokens(name):
    """End to end: each example, tokenized by GPT-2, walks the Matcher exactly as labelled."""
    if importlib.util.find_spec("structgen.runtime.matcher") is None:
        pytest.skip("runtime matcher not available yet")
    tokenizer, vocab = get_tokenizer("gpt2"), get_vocab("gpt2")
    compiled = compile_lark(name, vocab)
    cases = labelled(name)
    assert not mismatches([_matcher_accepts(compiled, _token_ids(tokenizer, s)) for s, _ in cases], cases)


@pytest.mark.slow
@pytest.mark.parametrize("tok_name", ["gpt2", "qwen2"])
@pytest.mark.parametrize("name", LIBRARY)
def test_masks_allow_every_token_of_valid_examples(name, tok_name):
    from structgen.masking import allocate_token_bitmask
    from structgen.runtime.matcher import Matcher

    tokenizer, vocab = get_tokenizer(tok_name), get_vocab(tok_name)
    compiled = compile_lark(name, vocab)
    bitmask = allocate_token_bitmask(1, vocab.vocab_size)
    for text in grammars.examples(name)["valid"]:
        m = Matcher(compiled)
        for t in _token_ids(tokenizer, text):
            m.fill_next_token_bitmask(bitmask)
            assert (int(bitmask[0, t // 32]) >> (t % 32)) & 1, (text, t)
            assert m.advance(t)
        assert m.can_stop(), text


# ------------------------------------------------------------------------------------------------
# grammar-specific properties


def test_sql_keywords_need_separating_whitespace():
    text = grammars.load("sql")
    for s in ("SELECT a FROM t", "select a from t", "SELECT a\nFROM\tt"):
        assert lark_accepts(text, s)
    oracle = IRRecognizer(ir("sql"))
    for s in ("SELECTa FROM t", "SELECT a FROM t WHEREx = 1", "SELECT a FROM t WHERE"):
        assert not oracle.accepts(s), s


def test_python_indentation_is_enforced():
    oracle = IRRecognizer(ir("python"))
    body = "def f(x):\n    if x:\n        return 1\n    return 2\n"
    assert oracle.accepts(body)
    assert not oracle.accepts(body.replace("        return 1", "       return 1"))
    assert not oracle.accepts(body.replace("    return 2", "  return 2"))
    assert oracle.accepts(body.replace("\n    return 2", "\n\n  # a comment at any indentation\n    return 2"))


def test_library_grammars_convert_without_warnings():
    from structgen.cfg.lark_frontend import _convert

    _convert.cache_clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in LIBRARY:
            lark_to_ir(grammars.load(name))


def test_lark_parsers_build_for_every_grammar():
    for name in LIBRARY:
        lark.Lark(grammars.load(name), parser="earley", lexer="dynamic_complete")
