"""``encoding.literal_ir`` (literal runs + one shared terminal per special character) has exactly
the language of the quoted ``literal_regex`` form, and accepts ``json.dumps`` spellings."""
from __future__ import annotations

import json
import random

from structgen.cfg.compiler import compile_grammar_automaton
from structgen.cfg.ir import Grammar, Literal, Regex, Seq
from structgen.json_schema import encoding as E


def _accepts(aut, data: bytes) -> bool:
    s = int(aut.rule_start[0])
    for b in data:
        s = int(aut.trans[s, b])
        if s < 0:
            return False
    return bool(aut.accept[s])


def test_same_automaton_as_the_regex_form():
    rng = random.Random(0)
    alphabet = ["a", "/", "é", "\n", '"', "\\", "\ud800", "😀", "x", "\t", " ", "\x7f"]
    for _ in range(120):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 5)))
        new = compile_grammar_automaton(Grammar({"start": E.literal_ir(text)}))
        old = compile_grammar_automaton(Grammar({"start": Seq((Literal('"'), Regex(E.literal_regex(text)), Literal('"')))}))
        assert new.trans.shape == old.trans.shape and (new.trans == old.trans).all(), repr(text)
        assert (new.accept == old.accept).all(), repr(text)
        if "\ud800" not in text:
            for spelled in {json.dumps(text), json.dumps(text, ensure_ascii=False)}:
                assert _accepts(new, spelled.encode("utf-8")), (text, spelled)


def test_plain_text_is_one_literal():
    assert E.literal_ir("name") == Literal('"name"')
