"""``not_listed_key_automaton``: the "any key but the listed names" content automaton, checked
against a direct statement of its language on random names and randomly spelled keys."""
from __future__ import annotations

import json
import random

import pytest

from structgen.cfg import ir
from structgen.cfg.compiler import compile_grammar_automaton
from structgen.json_schema import charsets as cs
from structgen.json_schema.encoding import RAW, SHORT_ESCAPES
from structgen.json_schema.key_automaton import not_listed_key_automaton
from structgen.runtime import reference

ALPHABET = list("abcxyz_-0 ") + ['"', "\\", "\n", "\t", "/", "é", "ü", "中", "😀", "\x7f", "\u2028", "ÿ", "Ā", "b", "f", "u"]


def spell(ch: str, rng: random.Random) -> tuple[str, bool]:
    """A random JSON-string spelling of ``ch`` and whether it is the raw one."""
    cp = ord(ch)
    options = []
    if cs.contains(RAW, cp):
        options += [(ch, True)] * 3
    if cp in SHORT_ESCAPES:
        options.append(("\\" + SHORT_ESCAPES[cp], False))
    if cp <= 0xFFFF:
        hx = "%04x" % cp
    else:
        v = cp - 0x10000
        hx = "%04x\\u%04x" % (0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF))
    options.append(("\\u" + "".join(c.upper() if c in "abcdef" and rng.random() < 0.5 else c for c in hx), False))
    return rng.choice(options)


def expected(key: str, units: list[tuple[str, bool]], names: list[str]) -> bool:
    """The documented language: written raw inside the trie, the key stops at a node ending no
    name or leaves the trie by a raw character; or it contains a character no name uses."""
    used = {c for n in names for c in n}
    if any(c not in used for c in key):
        return True
    prefixes = {n[:i] for n in names for i in range(len(n) + 1)}
    for k, (_, raw) in enumerate(units):
        if not raw:
            return False              # an escape inside the trie
        if key[:k + 1] not in prefixes:
            return True               # left the trie by a raw character
    return key not in names           # stopped inside the trie


def random_key(names: list[str], rng: random.Random) -> str:
    r = rng.random()
    base = rng.choice(names) if names else ""
    if r < 0.3:
        return base
    if r < 0.5:
        return base[:rng.randint(0, len(base))]
    if r < 0.75:
        return base + "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 2)))
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 5)))


@pytest.mark.parametrize("seed", range(12))
def test_language_on_random_names_and_spellings(seed):
    rng = random.Random(seed)
    names = ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 5))) for _ in range(rng.randint(1, 6))]
    rule = ir.Seq((ir.Literal('"'), not_listed_key_automaton(names), ir.Literal('"')))
    aut = compile_grammar_automaton(ir.Grammar({"start": rule}))
    for _ in range(150):
        key = random_key(names, rng)
        units = [spell(ch, rng) for ch in key]
        text = '"' + "".join(s for s, _ in units) + '"'
        got = reference.accepts(aut, text.encode("utf-8"))
        assert got == expected(key, units, names), (names, text)
        if got:
            assert json.loads(text) not in names   # sound: never a listed name


def test_escapes_of_foreign_characters_and_invalid_text():
    aut = compile_grammar_automaton(ir.Grammar({"start": ir.Seq((
        ir.Literal('"'), not_listed_key_automaton(["name", "nam\u00e9"]), ir.Literal('"')))}))
    acc = lambda s: reference.accepts(aut, s.encode("utf-8", "surrogatepass"))  # noqa: E731
    assert not acc('"name"') and not acc('"namé"')
    assert acc('"nam"') and acc('"names"') and acc('"namè"') and acc('""')
    assert acc('"na\\u00EFve"')                      # ï occurs in no name: any spelling
    assert not acc('"na\\u006de"')                    # an escape inside the trie, no foreign character
    assert acc('"\\ud83d\\ude00"')                    # a surrogate pair of a foreign character
    assert not acc('"\\ud83d"') and not acc('"\\ude00x"')  # lone surrogate escapes are refused
    assert not reference.accepts(aut, b'"nam\xc3"') and not acc('"a\\q"')  # cut UTF-8 / a bad escape


def test_compiled_schema_rows_stay_cheap_counters():
    """Past the trie, key states are the string-content state (same automaton as before this
    builder existed: its minimized form has about one state per trie node)."""
    names = ["alpha", "beta", "gamma"]
    rule = ir.Seq((ir.Literal('"'), not_listed_key_automaton(names), ir.Literal('"')))
    aut = compile_grammar_automaton(ir.Grammar({"start": rule}))
    trie_nodes = 1 + len({n[:i] for n in names for i in range(1, len(n) + 1)})
    assert aut.n_states < trie_nodes + 40
