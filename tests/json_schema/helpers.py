"""Test helpers: compile schemas to automata, check acceptance, and sample random members."""
from __future__ import annotations

import itertools
import json
import random
import warnings

import jsonschema

from structgen.cfg.compiler import compile_grammar_automaton
from structgen.errors import CompileLimitError, UnsatisfiableSchemaError, UnsupportedSchemaError
from structgen.json_schema import schema_to_ir
from structgen.runtime import reference


def automaton(schema, **kw):
    return compile_grammar_automaton(schema_to_ir(schema, **kw))


def accepts(aut, text: str) -> bool:
    return reference.accepts(aut, text.encode("utf-8", "surrogatepass"))


def validator(schema):
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


_WS = frozenset(b" \t\n\r")
_CLOSERS = frozenset(b'"]}')


def random_member(aut, rng: random.Random, max_len: int = 160, tries: int = 20) -> bytes | None:
    """A random string of the automaton's language (random walk over viable prefixes; biased to
    finish: whitespace is rare, closing bytes and stopping get likelier as the text grows)."""
    for _ in range(tries):
        sets = reference.initial_sets(aut)
        out = bytearray()
        while True:
            n = len(out)
            if reference.can_stop(aut, sets) and rng.random() < (0.15 if n < max_len // 3 else 0.6):
                return bytes(out)
            options = sorted(reference.next_bytes(aut, sets))
            if not options:
                break
            if n > max_len:
                if reference.can_stop(aut, sets):
                    return bytes(out)
                if n > 3 * max_len:
                    break
            non_ws = [b for b in options if b not in _WS] or options
            if rng.random() < 0.05:
                non_ws = options
            closers = [b for b in non_ws if b in _CLOSERS]
            if closers and rng.random() < min(0.9, 0.1 + n / max_len):
                b = rng.choice(closers)
            else:
                b = rng.choice(non_ws)
            if not _feed_unique(aut, sets, out, b):  # closed a duplicate: any other byte
                b = next((x for x in options if x != b and _feed_unique(aut, sets, out, x)), None)
                if b is None:
                    break
            out.append(b)
    return None


def _feed_unique(aut, sets, out: bytearray, b: int) -> bool:
    """Feed byte ``b`` after ``out`` into ``sets`` if the result stays a viable prefix, run-time
    distinctness of marked string arrays included; else leave ``sets`` as they were."""
    n = len(sets)
    assert reference.feed(aut, sets, bytes([b])), "next_bytes offered a dead byte"
    if reference.unique_strings_ok(aut, sets, bytes(out) + bytes([b])):
        return True
    del sets[n:]
    return False


def random_members(aut, n: int, seed: int = 0, max_len: int = 160) -> list[bytes]:
    """Up to ``n`` random members of the automaton's language (tries that found none are dropped)."""
    rng = random.Random(seed)
    found = (random_member(aut, rng, max_len=max_len) for _ in range(n))
    return [s for s in found if s is not None]


def assert_sound(schema, n: int = 40, seed: int = 0, max_len: int = 160, **kw):
    """Random members of the schema's grammar all parse and validate (THE BAR)."""
    aut = automaton(schema, **kw)
    v = validator(schema)
    members = random_members(aut, n, seed, max_len)
    for s in members:
        value = json.loads(s.decode("utf-8"))
        errors = list(v.iter_errors(value))
        assert not errors, f"grammar produced {s!r}, invalid: {errors[0].message}"
    return len(members)


def objects_over(keys, values, max_members):
    """Every object text with distinct keys from ``keys`` (every order) and values from ``values``."""
    for k in range(max_members + 1):
        for combo in itertools.permutations(keys, k):
            for vals in itertools.product(values, repeat=k):
                yield "{" + ", ".join(f"{json.dumps(c)}: {json.dumps(v)}" for c, v in zip(combo, vals)) + "}"


def assert_exact(schema, keys, values, max_members=3, listed=None, **kw):
    """Accepted iff valid, for every duplicate-free object over ``keys`` x ``values``. With
    ``listed`` (the schema's listed names in order), a valid object is only required to be accepted
    when its listed keys come in that order and before any other key (``property_order="schema"``)."""
    a = automaton(schema, **kw)
    v = validator(schema)
    n_valid = 0
    for text in objects_over(keys, values, max_members):
        valid = v.is_valid(json.loads(text))
        n_valid += valid
        got = accepts(a, text)
        if valid and not got and listed is not None and not _in_listed_order(list(json.loads(text)), listed):
            continue
        assert got == valid, f"{text}: valid={valid}"
    assert n_valid > 0
    return a


def _in_listed_order(keys: list, listed: list) -> bool:
    ranks = [listed.index(k) if k in listed else len(listed) for k in keys]
    return ranks == sorted(ranks)


def check_against_pool(schema, pool, *, property_order: str, complete: bool) -> str:
    """Compile ``schema`` and compare it with ``jsonschema`` on every value of ``pool``: never an
    invalid value accepted, and with ``complete`` never a valid one rejected. Returns
    ``"compiled"``, ``"unsupported"`` (structgen refused it) or ``"unsat"`` (called unsatisfiable:
    then no pool value may be valid)."""
    v = validator(schema)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            a = automaton(schema, property_order=property_order)
        except UnsatisfiableSchemaError:
            valid = [x for x in pool if v.is_valid(x)]
            assert not valid, f"called unsatisfiable, but {valid[0]!r} is valid"
            return "unsat"
        except (UnsupportedSchemaError, CompileLimitError):
            return "unsupported"
    for x in pool:
        text = json.dumps(x)
        ok, acc = v.is_valid(x), accepts(a, text)
        assert ok or not acc, f"accepted invalid {text} for {json.dumps(schema)}"
        if complete:
            assert acc or not ok, f"rejected valid {text} for {json.dumps(schema)}"
    return "compiled"
