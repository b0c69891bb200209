"""CompiledGrammar: a grammar automaton bound to a vocabulary, plus the compile entry points.

``compile_grammar(ir, vocab)`` and ``compile_regex(pattern, vocab)`` return a
:class:`CompiledGrammar`, the object a :class:`~structgen.runtime.matcher.Matcher` walks.
Compiled grammars are cached in memory by (IR, vocabulary fingerprint); their per-state mask
rows are computed lazily and shared across grammars (see ``masks.py``).
"""
from __future__ import annotations

import functools
import os
import threading
from collections import OrderedDict
import time

import numpy as np

from ..cfg.automaton import GrammarAutomaton
from ..cfg.ir import Grammar, Regex
from .analysis import follow_bytes
from .masks import MaskStore


class CompiledGrammar:
    """A :class:`GrammarAutomaton` bound to a :class:`~structgen.vocab.Vocabulary`.

    Attributes: ``automaton``, ``vocab``, ``vocab_size`` (mask width in tokens), ``words``
    (int32 words per bitmask row), ``stop_ids`` (int64 array), ``masks`` (:class:`MaskStore`),
    ``stats`` (compile statistics). Thread-safe to share between matchers.
    """

    def __init__(self, automaton: GrammarAutomaton, vocab, *, source: str = "") -> None:
        self.automaton = automaton
        self.vocab = vocab
        self.source = source
        self.vocab_size = int(vocab.vocab_size)
        self.words = (self.vocab_size + 31) // 32
        stops = [int(t) for t in vocab.stop_ids if 0 <= int(t) < self.vocab_size]
        self.stop_ids = np.asarray(sorted(set(stops)), np.int64)
        a = automaton
        self.g = (
            np.ascontiguousarray(a.trans, np.int32),
            np.ascontiguousarray(a.accept, np.bool_),
            np.ascontiguousarray(a.state_rule, np.int32),
            np.ascontiguousarray(a.call_ptr, np.int32),
            np.ascontiguousarray(a.call_rule, np.int32),
            np.ascontiguousarray(a.call_target, np.int32),
            np.ascontiguousarray(a.rule_start, np.int32),
            np.ascontiguousarray(a.nullable, np.bool_),
        )
        self._automaton_bytes = sum(x.nbytes for x in self.g)
        self.start_state = int(a.rule_start[a.start_rule])
        self.trie_arrays = vocab.trie.kernel_arrays()
        self.depth_set = np.zeros(_max_depth(vocab) + 2, np.int32)
        self.token_bytes_flat, self.token_offsets = _flatten_tokens(vocab)
        self.masks = MaskStore(self)
        self.stats = dict(automaton.stats)
        self.stats.update(states=a.n_states, rules=a.n_rules)
        self._depth_lock = threading.Lock()

    @functools.cached_property
    def unique_strings(self):
        """The run-time distinctness checks of marked string arrays (:mod:`.unique`)."""
        from .unique import UniqueStrings

        return UniqueStrings(self)

    @functools.cached_property
    def rule_has_calls(self) -> np.ndarray:
        """bool[R]: the rule has at least one call edge (else it is a plain byte DFA)."""
        a = self.automaton
        counts = np.diff(a.call_ptr)
        return np.bincount(a.state_rule, weights=counts, minlength=a.n_rules) > 0

    @functools.cached_property
    def follow_has_plain(self) -> np.ndarray:
        """bool[R]: some byte that can start or continue plain text (≥ 0x20 except ``"`` and
        ``\\``, every non-ASCII byte included) can follow a complete derivation of the rule."""
        plain = np.ones(256, np.bool_)
        plain[:0x20] = False
        plain[0x22] = plain[0x5C] = False
        return (self.follow & plain).any(axis=1)

    @functools.cached_property
    def follow(self) -> np.ndarray:
        """bool[R, 256]: bytes that can follow a complete derivation of each rule (FOLLOW₁)."""
        return follow_bytes(self.g)

    @functools.cached_property
    def follow_key(self) -> list[bytes]:
        """Per rule, its FOLLOW₁ row packed to 32 bytes (part of the shared mask-cache key)."""
        return [np.packbits(row).tobytes() for row in self.follow]

    @property
    def fingerprint(self) -> str:
        return f"{self.automaton.fingerprint}:{self.vocab.fingerprint}"

    @property
    def nbytes(self) -> int:
        """Memory this grammar holds: its automaton's arrays and the mask rows computed so far
        (which grow as the grammar is used)."""
        return self._automaton_bytes + self.masks.nbytes

    def token_slice(self, token_id: int) -> tuple[int, int]:
        return int(self.token_offsets[token_id]), int(self.token_offsets[token_id + 1])

    def precompute(self, max_states: int | None = None) -> int:
        """Compute the mask rows of (up to ``max_states``) states eagerly; returns how many."""
        n = self.automaton.n_states if max_states is None else min(max_states, self.automaton.n_states)
        self.masks.ensure(np.arange(n, dtype=np.int32))
        return n


_MAX_DEPTH: dict[str, int] = {}


def _max_depth(vocab) -> int:
    """Deepest token-trie node of ``vocab`` (0 for an empty trie), computed once per vocabulary."""
    hit = _MAX_DEPTH.get(vocab.fingerprint)
    if hit is None:
        depth = vocab.trie.depth
        hit = _MAX_DEPTH.setdefault(vocab.fingerprint, int(depth.max()) if depth.shape[0] else 0)
    return hit


_FLAT_TOKENS: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def _flatten_tokens(vocab) -> tuple[np.ndarray, np.ndarray]:
    """All token bytes concatenated (uint8) and offsets (int64, one past each token)."""
    hit = _FLAT_TOKENS.get(vocab.fingerprint)
    if hit is None:
        tb = vocab.token_bytes
        lengths = np.fromiter((len(b) for b in tb), np.int64, len(tb))
        offsets = np.zeros(len(tb) + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        flat = np.frombuffer(b"".join(tb), np.uint8).copy()
        hit = _FLAT_TOKENS.setdefault(vocab.fingerprint, (flat, offsets))
    return hit


# Compiled grammars by (IR, vocabulary fingerprint), least recently used evicted first.
_COMPILE_CACHE: OrderedDict[tuple, CompiledGrammar] = OrderedDict()
_COMPILE_CACHE_SIZE = int(os.environ.get("STRUCTGEN_COMPILE_CACHE_SIZE", "64"))
#: bytes of compiled grammars (automata and computed mask rows) a cache of them keeps alive
COMPILE_CACHE_BYTES = int(float(os.environ.get("STRUCTGEN_COMPILE_CACHE_MB", "1024")) * 2**20)


def evict_compiled(cache: OrderedDict, max_entries: int, max_bytes: int | None = None) -> None:
    """Drop the least recently used entries of ``cache`` (values: :class:`CompiledGrammar`) until
    at most ``max_entries`` remain and their :attr:`~CompiledGrammar.nbytes` sum to at most
    ``max_bytes`` (default :data:`COMPILE_CACHE_BYTES`); the most recent entry always stays.
    Grammars keep growing as their rows are computed, so the sum is taken at each call."""
    max_bytes = COMPILE_CACHE_BYTES if max_bytes is None else max_bytes
    while len(cache) > max(1, max_entries):
        cache.popitem(last=False)
    total = sum(v.nbytes for v in cache.values())
    while len(cache) > 1 and total > max_bytes:
        _, v = cache.popitem(last=False)
        total -= v.nbytes
_COMPILE_LOCK = threading.Lock()


def compile_automaton(automaton: GrammarAutomaton, vocab, *, source: str = "") -> CompiledGrammar:
    """Bind an already compiled automaton to ``vocab``."""
    return CompiledGrammar(automaton, vocab, source=source)


class _GrammarKey:
    """Compile-cache key: (IR, vocabulary fingerprint), with the IR's (recursive, uncached) hash
    computed once instead of at every dictionary operation."""

    __slots__ = ("grammar", "vocab_fp", "_hash")

    def __init__(self, grammar: Grammar, vocab_fp: str) -> None:
        self.grammar = grammar
        self.vocab_fp = vocab_fp
        self._hash = hash((grammar, vocab_fp))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, _GrammarKey) and self._hash == other._hash
                                 and self.vocab_fp == other.vocab_fp and self.grammar == other.grammar)


def compile_grammar(grammar: Grammar, vocab, *, source: str = "") -> CompiledGrammar:
    """Compile grammar IR for ``vocab`` (cached by IR and vocabulary fingerprint).

    Raises :class:`~structgen.errors.GrammarError` / :class:`~structgen.errors.RegexError` for
    malformed grammars (see :func:`structgen.cfg.compiler.compile_grammar_automaton`).
    """
    from ..cfg.compiler import compile_grammar_automaton

    key = _GrammarKey(grammar, vocab.fingerprint)
    with _COMPILE_LOCK:
        hit = _COMPILE_CACHE.get(key)
        if hit is not None:
            _COMPILE_CACHE.move_to_end(key)
            return hit
    t0 = time.perf_counter()
    automaton = compile_grammar_automaton(grammar)
    compiled = CompiledGrammar(automaton, vocab, source=source or grammar.name)
    compiled.stats["compile_ms"] = (time.perf_counter() - t0) * 1e3
    with _COMPILE_LOCK:
        _COMPILE_CACHE[key] = compiled
        evict_compiled(_COMPILE_CACHE, _COMPILE_CACHE_SIZE)
    return compiled


def compile_regex(pattern: str, vocab, flags: int = 0) -> CompiledGrammar:
    """Compile a Python regex (full-match semantics) for ``vocab``.

    Raises :class:`~structgen.errors.RegexError` for invalid or unsupported syntax.
    """
    return compile_grammar(Grammar.single(Regex(pattern, flags), name=f"regex:{pattern}"), vocab)
