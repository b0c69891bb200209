"""The grammar compiler's per-rule cache (``_BODIES``), the regex fragment cache and the NFA
size bound checked while building."""
from __future__ import annotations

import time

import pytest

from structgen.automata.regex import regex_fragment
from structgen.cfg import compiler as C
from structgen.cfg.compiler import compile_grammar_automaton
from structgen.cfg.ir import Alt, Grammar, Literal, Ref, Regex, Repeat, Seq
from structgen.errors import CompileLimitError


def _grammar(callee: str = "item", sep: str = ",") -> Grammar:
    return Grammar({
        "start": Seq((Literal("["), Repeat(Seq((Ref(callee), Literal(sep))), 0, None), Literal("]"))),
        callee: Alt((Regex("[0-9]+"), Literal("null"))),
    })


def test_recompiling_hits_the_rule_cache_and_gives_identical_automata():
    C._BODIES.clear()
    a = compile_grammar_automaton(_grammar())
    misses = C._BODIES.misses
    b = compile_grammar_automaton(_grammar())
    assert C._BODIES.misses == misses and C._BODIES.hits >= 2
    assert a.fingerprint == b.fingerprint
    assert (a.trans == b.trans).all() and (a.call_target == b.call_target).all()


def test_rules_equal_up_to_callee_names_share_one_entry():
    C._BODIES.clear()
    a = compile_grammar_automaton(_grammar("item"))
    misses = C._BODIES.misses
    b = compile_grammar_automaton(_grammar("other"))
    assert C._BODIES.misses == misses  # both rules found under their abstracted bodies
    assert a.fingerprint == b.fingerprint


def test_different_bodies_do_not_collide():
    a = compile_grammar_automaton(_grammar(sep=","))
    b = compile_grammar_automaton(_grammar(sep=";"))
    assert a.fingerprint != b.fingerprint


def test_reduced_automaton_depends_on_which_callees_are_productive():
    # the same start body, once with a productive and once with an unproductive callee
    ok = Grammar({"start": Alt((Literal("x"), Ref("r"))), "r": Literal("y")})
    dead = Grammar({"start": Alt((Literal("x"), Ref("r"))), "r": Seq((Literal("y"), Ref("r")))})
    a = compile_grammar_automaton(ok)
    b = compile_grammar_automaton(dead)
    assert a.n_rules == 2 and b.n_rules == 1
    assert b.stats["dropped_unproductive"] == ["r"]


def test_repetition_bound_fails_fast_and_names_the_rule():
    t = time.perf_counter()
    with pytest.raises(CompileLimitError, match="'big'"):
        compile_grammar_automaton(Grammar({"start": Ref("big"), "big": Repeat(Literal("ab"), 0, 10**9)}))
    with pytest.raises(CompileLimitError):
        compile_grammar_automaton(Grammar({"start": Repeat(Repeat(Regex("[a-z]"), 0, 3000), 0, 3000)}))
    assert time.perf_counter() - t < 5.0


def test_large_but_allowed_repetition_still_compiles():
    aut = compile_grammar_automaton(Grammar({"start": Repeat(Literal("a"), 0, 2000)}))
    assert aut.n_states == 2001


def test_regex_fragment_is_cached_by_pattern():
    assert regex_fragment("[a-c]x") is regex_fragment("[a-c]x")
    frag = regex_fragment("[a-c]x")
    assert frag.accepts(b"bx") and not frag.accepts(b"b") and not frag.accepts(b"dx")


def test_rule_cache_is_bounded_by_the_bytes_of_its_automata(monkeypatch):
    """Entries are measured when stored and again as reduced/canonical forms are added; past the
    byte budget the least recently used go (the newest always stays)."""
    cache = C._BodyCache(maxsize=10_000, max_bytes=1)
    monkeypatch.setattr(C, "_BODIES", cache)
    compile_grammar_automaton(_grammar())
    assert len(cache) == 1 and cache.nbytes == sum(cache._bytes.values()) > 1
    big = C._BodyCache(maxsize=10_000, max_bytes=1 << 40)
    monkeypatch.setattr(C, "_BODIES", big)
    compile_grammar_automaton(_grammar())
    entry_sizes = dict(big._bytes)
    n = len(big)
    assert n == 2 and big.nbytes == sum(entry_sizes.values())  # rules start and item
    # every entry grew past its determinized automaton (its reduced and canonical forms count)
    assert all(size > C._array_bytes(big._items[k].dfa) for k, size in entry_sizes.items())
    budget = C._BodyCache(maxsize=10_000, max_bytes=max(entry_sizes.values()) + 1)
    monkeypatch.setattr(C, "_BODIES", budget)
    compile_grammar_automaton(_grammar())
    assert len(budget) == 1 and budget.nbytes <= budget.max_bytes
